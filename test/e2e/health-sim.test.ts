// Issue 18, situation 5 end to end (real binary, the simulator PINK starts itself, chDB): one
// simulator per PINK_HOME. `pink restart` while that simulator rate-limits every request finds it
// again by its recorded pid and URL and never starts a second one on the same state file, so the
// fault the operator is fixing does not vanish by accident; HEALTHY again once it is cleared.
// (A stopped simulator never writing a stale state over a newer one: test/sim/lifecycle.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld } from '../support/e2e.js';
import { simProcesses, status, statusUntil } from '../support/health.js';

test('one simulator per PINK_HOME: restart during a rate limit reuses it (same pid, URL, state); the fault stays until cleared; HEALTHY again', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT', 'ETH-USDT'] });
  const own = { PINK_SIM_URL: '' }; // no PINK_SIM_URL: `pink run` starts (or reuses) the home's simulator
  try {
    const run = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath], own);
    assert.equal(run.code, 0, run.stderr);
    await statusUntil(w, 'HEALTHY on the home simulator', (s) => s.code === 0, 60_000, own);
    const simDir = join(w.home, 'sim');
    const statePath = join(simDir, 'state.json');
    const info = JSON.parse(readFileSync(join(simDir, 'sim.json'), 'utf8')) as { pid: number; url: string };
    assert.deepEqual(simProcesses(statePath), [info.pid], 'one simulator on the home state');
    const faults = async (body: unknown): Promise<void> => {
      const r = await fetch(`${info.url}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(r.status, 200, await r.text());
    };

    // The home simulator rate-limits every request: status degraded, naming the fault.
    await faults({ rateLimitEvery: 1 });
    const limited = await statusUntil(w, 'degraded by the rate limit', (s) => s.code !== 0 && s.doc.reasons.some((r) => /RATE_LIMITED|venue contact/.test(r)), 60_000, own);
    assert.equal(limited.doc.healthy, false);

    // The restart cannot finish its reconcile against a venue that refuses everything, but it
    // reuses the recorded simulator: no second one, the same URL.
    const restart = await w.pink(['restart'], own, { timeoutMs: 180_000 });
    assert.notEqual(restart.code, 0, 'a venue refusing every request is not a clean restart');
    // It says why (the venue's rate limit, and its fix), not that a simulator failed to start.
    assert.match(restart.stderr, /rate-limiting PINK/, restart.stderr);
    assert.match(restart.stderr, /pink fault RATE_LIMITED/);
    assert.doesNotMatch(restart.stderr, /simulator did not start/);
    assert.doesNotMatch(restart.stderr, /\n\s+at /, 'no stack trace');
    const after = JSON.parse(readFileSync(join(simDir, 'sim.json'), 'utf8')) as { pid: number; url: string };
    assert.deepEqual(after, info, 'the recorded simulator, found again');
    assert.deepEqual(simProcesses(statePath), [info.pid], 'still one simulator on the home state');
    const still = await status(w, own);
    assert.notEqual(still.code, 0, 'the fault did not vanish by accident');

    // Cleared: the engine (restarted if the restart left it down) is HEALTHY on the same simulator.
    await faults({ rateLimitEvery: null });
    if (!(await status(w, own)).doc.engine.up) {
      const again = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath], own);
      assert.equal(again.code, 0, again.stderr);
    }
    const healthy = await statusUntil(w, 'HEALTHY once the rate limit is cleared', (s) => s.code === 0, 90_000, own);
    assert.deepEqual(healthy.doc.reasons, []);
    assert.deepEqual(simProcesses(statePath), [info.pid], 'one simulator throughout');

    // By hand, a second simulator on the same state refuses to start (SPEC exit 2), naming the owner.
    const second = await w.pink(['sim', '--state', statePath, '--port', '0'], own, { timeoutMs: 30_000 });
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, new RegExp(`in use by another simulator \\(pid ${info.pid}`));
  } finally {
    await w.close();
  }
});
