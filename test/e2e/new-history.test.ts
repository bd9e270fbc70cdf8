// `pink run --new-history` starts a history without the old one's journal, so it cannot know which
// intents of the signals file the old history took (and sent). It reads the file from its end:
// an intent already there is never sent a second time; intents appended afterwards are taken.
// (A drill sent a 1 SOL entry twice this way: the new history read the file from its start.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { makeWorld, stopPid, waitFor } from '../support/e2e.js';

test('--new-history never takes again an intent already in the signals file; new intents are taken; a failed detached start shows its own output', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT'] });
  const pidFile = join(w.home, 'pink.pid');
  const btc = (): number => w.sim.state().positions.find((p) => p.symbol === 'BTC-USDT')?.qty ?? 0;
  try {
    const run = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
    assert.equal(run.code, 0, run.stderr);
    // The old history trades in and out: flat at the end, so an ENTER read again would open anew.
    w.signals([{ intent_id: 'nh-enter-1', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0.002, order_type: 'market', reason: 'e2e' }]);
    await waitFor('BTC long at the venue', async () => btc() > 0);
    w.signals([{ intent_id: 'nh-exit-1', symbol: 'BTC-USDT', action: 'EXIT', final: true, order_type: 'market', reason: 'e2e' }]);
    await waitFor('flat again', async () => btc() === 0 && w.sim.state().orders_created === 2);
    await stopPid(pidFile);
    const created = w.sim.state().orders_created;
    // A line still being written when the new history starts is not skipped: it is read once whole.
    appendFileSync(w.signalsPath, '{"intent_id":"nh-enter-2","symbol":"BTC-USDT",');

    const fresh = await w.pink(['run', '--new-history', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
    assert.equal(fresh.code, 0, fresh.stderr);
    // Detached, the engine's progress lines are in engine.out (the runtime log has them too).
    assert.match(readFileSync(join(w.home, 'engine.out'), 'utf8'), /--new-history: the signals file's first \d+ bytes are not read \(the previous history may have taken their intents\)/);
    await waitFor('a few steps of the new history', async () => {
      const s = await w.json<{ engine: { steps: number } }>(['ditav2-status']);
      return (s.doc.engine?.steps ?? 0) >= 5;
    });
    assert.equal(w.sim.state().orders_created, created, 'the old history\'s intents were sent again by the new one');
    assert.equal(btc(), 0);

    appendFileSync(w.signalsPath, '"action":"ENTER","side":"long","qty":0.003,"order_type":"market","reason":"e2e"}\n');
    await waitFor('long again: the intent written after the start was taken', async () => btc() === 0.003);
    assert.equal(w.sim.state().orders_created, created + 1, 'only the new ENTER was sent');

    // Issue 18's polish: a detached start that fails shows this attempt's output only, though
    // engine.out keeps every start's. Two failing starts in a row, for different reasons.
    await stopPid(pidFile);
    const start = ['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath];
    const dropped = await w.pink(start, { DOLPHIN_PINK_SYMBOLS: 'ETH-USDT' });
    assert.equal(dropped.code, 2, dropped.stderr);
    assert.match(dropped.stderr, /drop BTC-USDT/);
    const unreachable = await w.pink(start, { PINK_SIM_URL: 'http://127.0.0.1:9' });
    assert.equal(unreachable.code, 3, unreachable.stderr);
    assert.doesNotMatch(unreachable.stderr, /drop BTC-USDT/, 'the earlier attempt\'s refusal shown again');
    assert.match(readFileSync(join(w.home, 'engine.out'), 'utf8'), /drop BTC-USDT/);

    // --new-history that archives the history, then stops before the new one's first checkpoint
    // (the venue unreachable): the next --new-history has nothing to move, and must still not read
    // the signals file from its start.
    const sent = w.sim.state().orders_created;
    const halfway = await w.pink([...start, '--new-history'], { PINK_SIM_URL: 'http://127.0.0.1:9' });
    assert.equal(halfway.code, 3, halfway.stderr);
    assert.equal(existsSync(join(w.home, 'checkpoint.json')), false, 'the history was archived, no new one begun');
    const again = await w.pink([...start, '--new-history']);
    assert.equal(again.code, 0, again.stderr);
    await waitFor('a few steps of the history after the failed start', async () => {
      const s = await w.json<{ engine: { steps: number } }>(['ditav2-status']);
      return (s.doc.engine?.steps ?? 0) >= 5;
    });
    assert.equal(w.sim.state().orders_created, sent, 'the signals file was read from its start after a new history failed to begin');
  } finally {
    await stopPid(pidFile);
    await w.close();
  }
});
