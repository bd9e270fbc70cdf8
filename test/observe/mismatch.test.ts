// Issue 22, "an unresolved mismatch" wakes someone, with the default settings (minimum severity
// ERROR): a real engine (the binary) on the simulator over HTTP, chDB; a position changed at the
// venue behind PINK's back (the simulator's admin API) is found by the engine's venue check, its
// targeted reconcile reports POSITION_MISMATCH, and a local HTTP receiver gets that alert.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWorld, waitFor } from '../support/e2e.js';
import { statusUntil } from '../support/health.js';
import { startReceiver } from './support.js';

test('a position mismatch on a running engine reaches the webhook at the default minimum severity', async () => {
  const rx = await startReceiver('/hook/mismatch');
  // No DOLPHIN_PINK_ALERT_MIN_SEVERITY: SPEC 6's default, ERROR.
  const w = await makeWorld({ symbols: ['BTC-USDT', 'ETH-USDT'], env: { DOLPHIN_PINK_ALERT_WEBHOOK_URL: rx.url } });
  try {
    const run = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
    assert.equal(run.code, 0, run.stderr);
    w.signals([{ intent_id: 'mismatch-eth-1', symbol: 'ETH-USDT', action: 'ENTER', side: 'short', qty: 0.1, order_type: 'market', reason: 'e2e' }]);
    await statusUntil(w, 'ETH OPEN and HEALTHY', (s) => s.code === 0 && s.doc.slots.some((x) => x.symbol === 'ETH-USDT' && x.state === 'OPEN'));
    const before = rx.received.length;

    // Someone else trades PINK's account: the venue's ETH short grows from 0.1 to 0.25.
    await w.admin('/__sim/position', { symbol: 'ETH-USDT', qty: -0.25, entryPrice: 3000 });
    const mismatch = await waitFor('the POSITION_MISMATCH alert', async () => rx.received.slice(before).find((b) => b['code'] === 'POSITION_MISMATCH'), 60_000);
    assert.equal(mismatch['event'], 'fault');
    assert.equal(mismatch['severity'], 'ERROR');
    assert.equal(mismatch['symbol'], 'ETH-USDT');
    assert.match(String(mismatch['text']), /^\[PINK ERROR\] POSITION_MISMATCH ETH-USDT: .*\(pink fault POSITION_MISMATCH\)$/);
    // Its circuit breaker sets the symbol REDUCING: that alerts too (ERROR).
    await waitFor('the BREAKER_MISMATCH alert', async () => rx.received.some((b) => b['code'] === 'BREAKER_MISMATCH' && b['symbol'] === 'ETH-USDT'), 30_000);
    await waitFor('the TRADING_REDUCING alert', async () => rx.received.some((b) => b['code'] === 'TRADING_REDUCING' && b['symbol'] === 'ETH-USDT'), 30_000);
    // Below the default minimum nothing is sent: the start (WARNING) did not alert.
    assert.deepEqual(rx.received.filter((b) => b['severity'] === 'WARNING' || b['severity'] === 'INFO'), []);
    assert.ok(!rx.received.some((b) => b['event'] === 'engine_started'), 'a clean start is WARNING: not sent by default');
  } finally {
    await w.close();
    await rx.close();
  }
});
