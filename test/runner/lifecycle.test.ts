// The engine's lifecycle table (lifecycle.ts) and the step loop on it (loop.ts): every state has
// its rules, a pair the table lacks throws, a fail-stop from RUNNING is FAILED with nothing sent
// after it, a full disk holds until a reconcile, a stop lets no new step in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  EngineStoppedError,
  Lifecycle,
  LIFECYCLE_EVENTS,
  LIFECYCLE_RULES,
  LIFECYCLE_STATES,
  LifecycleAssertionError,
  lifecycleTransition,
  type LifecycleEvent,
  type LifecycleState,
  type StopReason,
} from '../../src/engine/runner/lifecycle.js';
import { classifyLoopError, LOOP_ERROR_EVENT } from '../../src/engine/runner/failstop.js';
import { runLoop } from '../../src/engine/runner/loop.js';
import type { Engine } from '../../src/engine/runner/engine.js';
import type { Store } from '../../src/engine/store/index.js';
import type { Logger } from '../../src/engine/runner/log.js';
import { KernelAssertionError } from '../../src/engine/kernel/index.js';
import { JournalWriteError } from '../../src/engine/runner/journal.js';
import { ExitError, EXIT } from '../../src/errors.js';
import { tempDir } from '../support/cli.js';

const legal = (from: LifecycleState, ev: LifecycleEvent): LifecycleState | undefined => {
  try {
    return lifecycleTransition(from, ev);
  } catch (err) {
    assert.ok(err instanceof LifecycleAssertionError, `${from}+${ev}: only a LifecycleAssertionError`);
    assert.match(err.message, new RegExp(`${ev} is not allowed in ${from}`), 'both the event and the state are named');
    return undefined;
  }
};

test('lifecycle: every state has rules and a way out, and every state is reachable from STARTING', () => {
  assert.deepEqual([...LIFECYCLE_STATES].sort(), Object.keys(LIFECYCLE_RULES).sort());
  for (const s of LIFECYCLE_STATES) assert.ok(LIFECYCLE_EVENTS.some((e) => legal(s, e) !== undefined), `${s} has at least one move`);
  const seen = new Set<LifecycleState>(['STARTING']);
  for (let grew = true; grew; ) {
    grew = false;
    for (const s of [...seen]) for (const e of LIFECYCLE_EVENTS) {
      const to = legal(s, e);
      if (to !== undefined && !seen.has(to)) (seen.add(to), (grew = true));
    }
  }
  assert.deepEqual([...seen].sort(), [...LIFECYCLE_STATES].sort());
  // Only RUNNING decides; only RUNNING and HOLDING loop; nothing is taken or sent once STOPPED or FAILED.
  assert.deepEqual(LIFECYCLE_STATES.filter((s) => LIFECYCLE_RULES[s].decides), ['RUNNING']);
  assert.deepEqual(LIFECYCLE_STATES.filter((s) => LIFECYCLE_RULES[s].loops).sort(), ['HOLDING', 'RUNNING']);
  for (const s of ['STOPPED', 'FAILED'] as const) assert.deepEqual({ ...LIFECYCLE_RULES[s] }, { takes_input: false, sends: false, loops: false, decides: false });
});

test('lifecycle: STEP only in RUNNING; no step after a stop, a close or a failure; FAILED never leaves', () => {
  for (const s of LIFECYCLE_STATES) assert.equal(legal(s, 'STEP') !== undefined, s === 'RUNNING', `STEP in ${s}`);
  assert.equal(legal('STARTING', 'STOP'), undefined, 'no stop path exists before the loop');
  assert.equal(legal('RUNNING', 'RECONCILED'), undefined, 'a hold ends only from HOLDING');
  for (const e of LIFECYCLE_EVENTS) {
    const to = legal('FAILED', e);
    assert.ok(to === undefined || to === 'FAILED', `FAILED+${e} stays FAILED`);
    assert.notEqual(legal('STOPPING', e), 'RUNNING', `STOPPING+${e} never runs again`);
  }
  for (const s of LIFECYCLE_STATES) assert.equal(legal(s, 'FAIL'), 'FAILED', `FAIL from ${s}`);
});

test('lifecycle: a fail-stop from RUNNING is FAILED, the first failure stands, nothing is taken or sent after it', () => {
  const life = new Lifecycle();
  life.fire('LOOP_START');
  assert.equal(life.admitRound(), 'step');
  const first = new KernelAssertionError('first');
  assert.equal(LOOP_ERROR_EVENT[classifyLoopError(first).kind], 'FAIL', 'failstop.ts plugs an internal error in as FAIL');
  life.fail({ error: first, seq: 7, in_apply: true });
  life.fail({ error: new Error('second'), seq: 9, in_apply: false });
  assert.equal(life.state, 'FAILED');
  assert.equal(life.failure?.error, first);
  assert.equal(life.failure?.seq, 7);
  assert.throws(() => life.assertSends(), EngineStoppedError);
  assert.throws(() => life.assertTakesInput(), EngineStoppedError);
  assert.throws(() => life.admitRound(), LifecycleAssertionError);
  assert.equal(life.stop('signal'), true, 'a stop after it is remembered');
  assert.equal(life.state, 'FAILED', 'but the failure decides');
});

test('lifecycle: a full disk holds (no deciding) until the reconcile; the first stop reason stands', () => {
  const life = new Lifecycle();
  assert.throws(() => life.admitRound(), LifecycleAssertionError, 'no round before the loop starts');
  life.fire('LOOP_START');
  const full = new JournalWriteError('/j', Object.assign(new Error('no space'), { code: 'ENOSPC' }));
  assert.equal(LOOP_ERROR_EVENT[classifyLoopError(full).kind], 'DISK_FULL');
  life.fire('DISK_FULL');
  assert.equal(life.state, 'HOLDING');
  assert.equal(life.rule.decides, false);
  assert.equal(life.admitRound(), 'reconcile');
  life.fire('RECONCILED');
  assert.equal(life.state, 'RUNNING');
  assert.equal(life.stop('steps'), true);
  assert.equal(life.stop('signal'), false);
  assert.equal(life.stopReason, 'steps');
  assert.throws(() => life.admitRound(), LifecycleAssertionError);
  life.fire('CLOSE');
  assert.equal(life.state, 'STOPPED');
  assert.throws(() => life.assertTakesInput(), LifecycleAssertionError);
  assert.throws(() => life.assertSends(), LifecycleAssertionError);
});

test('lifecycle: any sequence of events: once FAILED always FAILED and silent; STEP admitted only while RUNNING', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...LIFECYCLE_EVENTS), { maxLength: 30 }), (events) => {
      const life = new Lifecycle();
      let failed = false;
      for (const e of events) {
        const before = life.state;
        try {
          if (e === 'FAIL') life.fail({ error: new Error('x'), seq: 1, in_apply: false });
          else if (e === 'STOP') life.stop('signal');
          else life.fire(e);
        } catch (err) {
          assert.ok(err instanceof LifecycleAssertionError);
          assert.equal(life.state, before, 'a refused move changes nothing');
          continue;
        }
        if (e === 'STEP') assert.equal(before, 'RUNNING');
        failed ||= e === 'FAIL';
        if (failed) {
          assert.equal(life.state, 'FAILED');
          assert.equal(life.rule.sends, false);
        }
      }
    }),
  );
});

/** An engine as runLoop sees it, on a real Lifecycle: `script(n)` runs inside step n, before its send. */
function loopEngine(home: string, script: (n: number, stop: () => void) => void) {
  const life = new Lifecycle();
  const sent: number[] = [];
  const rounds: string[] = [];
  let steps = 0;
  const engine = {
    opts: { run_id: 'run-test', config: { home } },
    lifecycle: life,
    get failure() {
      return life.failure;
    },
    get steps() {
      return steps;
    },
    get checkpointSafe() {
      return life.failure?.in_apply !== true;
    },
    serialize: <T>(fn: () => Promise<T>) => fn(),
    async step() {
      life.assertTakesInput();
      steps += 1;
      rounds.push('step');
      script(steps, () => life.stop('signal'));
      life.assertSends();
      sent.push(steps);
    },
    async reconcile() {
      rounds.push('reconcile');
    },
    markFailed: (error: unknown) => life.fail({ error, seq: steps, in_apply: false }),
    venueCheck: { stepFailed() {} },
    faults: { record() {} },
    checkpoint: async () => undefined,
  };
  life.fire('LOOP_START');
  return { engine: engine as unknown as Engine, life, sent, rounds };
}

const store = { write() {}, flush: async () => undefined } as unknown as Store;
const logger = { info() {}, fault() {} } as unknown as Logger;
const loopOpts = (stop: (why: StopReason) => void, steps?: number) => ({ poll_interval_ms: 1, setWake: () => undefined, stop, progress: () => undefined, ...(steps !== undefined ? { steps } : {}) });

test('loop: an internal error in step 3 is a fail-stop (exit 4, stopped.json); steps 1-2 sent, nothing after', { timeout: 10_000 }, async () => {
  const dir = tempDir();
  const home = dir.path;
  const e = loopEngine(home, (n) => {
    if (n === 3) throw new KernelAssertionError('broken');
  });
  await assert.rejects(runLoop(e.engine, store, logger, loopOpts(() => undefined, 10)), (err: unknown) => err instanceof ExitError && err.code === EXIT.FAIL_STOP);
  assert.equal(e.life.state, 'FAILED');
  assert.deepEqual(e.sent, [1, 2]);
  assert.deepEqual(e.rounds, ['step', 'step', 'step']);
  assert.ok(existsSync(join(home, 'stopped.json')));
  dir.remove();
});

test('loop: a full disk in step 2 holds: the next round is a reconcile, then steps again; --steps stops it', { timeout: 10_000 }, async () => {
  const e = loopEngine(tempDir().path, (n) => {
    if (n === 2) throw new JournalWriteError('/j', Object.assign(new Error('no space'), { code: 'ENOSPC' }));
  });
  await runLoop(e.engine, store, logger, loopOpts((why) => e.life.stop(why), 4));
  assert.deepEqual(e.rounds, ['step', 'step', 'reconcile', 'step', 'step']);
  assert.deepEqual(e.sent, [1, 3, 4]);
  assert.equal(e.life.state, 'STOPPING');
  assert.equal(e.life.stopReason, 'steps');
});

test('loop: a stop during a step lets that step finish and admits no other', { timeout: 10_000 }, async () => {
  const e = loopEngine(tempDir().path, (n, stop) => {
    if (n === 2) stop();
  });
  await runLoop(e.engine, store, logger, loopOpts(() => undefined, 10));
  assert.deepEqual(e.sent, [1, 2]);
  assert.equal(e.life.stopReason, 'signal');
});
