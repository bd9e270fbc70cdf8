// The startup reconcile reads the venue's fills from the last complete fills read (a poll, a full
// reconcile) minus RECONCILE_LOOKBACK_MS, not from the kernel's last input. Inputs that read
// nothing move the kernel's last_ts to their own time: `pink halt` with the engine down (an
// incident's first move), a start whose settings changed, a refused startup snapshot. A fill the
// venue made early in a downtime longer than the lookback then fell out of the window, and the
// reconcile closed the trade at the mark around it. A downtime that long is not waited for here:
// the window the venue was asked for is read from the simulator's request log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RECONCILE_LOOKBACK_MS } from '../../src/engine/kernel/limits.js';
import { makeWorld, stopPid, waitFor } from '../support/e2e.js';

const FILLS_PATH = '/openApi/swap/v2/trade/allFillOrders';

test('after `pink halt` with the engine down, the restart reconcile still reads fills from before the stop', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT'] });
  try {
    const run = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
    assert.equal(run.code, 0, run.stderr);
    // A few polls: each is a complete fills read.
    const polled = () => w.sim.requests().filter((r) => r.path === FILLS_PATH).length;
    const atStart = polled();
    await waitFor('polls', async () => polled() >= atStart + 3);
    await stopPid(join(w.home, 'pink.pid'));
    const stopped_ms = Date.now();
    // The operator halts while the engine is down, a while later.
    await new Promise((r) => setTimeout(r, 3_000));
    const halted_ms = Date.now();
    const halt = await w.json<{ engine_up: boolean }>(['halt', '--all', '--reason', 'window drill']);
    assert.equal(halt.code, 0, halt.stderr);
    assert.equal(halt.doc.engine_up, false);
    const restart = await w.json<{ converged: boolean }>(['restart', '--no-start', '--json']);
    assert.equal(restart.code, 0, restart.stderr);
    const reads = w.sim.requests().filter((r) => r.path === FILLS_PATH && (r.t0_ms ?? 0) > halted_ms);
    assert.ok(reads.length > 0, 'the restart reconcile read fills');
    const from = Math.min(...reads.map((r) => Number(r.query['startTs'])));
    assert.ok(Number.isFinite(from), `startTs of the reads: ${reads.map((r) => r.query['startTs']).join(', ')}`);
    assert.ok(
      from <= stopped_ms - RECONCILE_LOOKBACK_MS,
      `the reconcile read fills from ${new Date(from).toISOString()}, after the last poll before the stop (${new Date(stopped_ms).toISOString()}) minus the lookback: it was anchored on the halt`,
    );
  } finally {
    await w.close();
  }
});
