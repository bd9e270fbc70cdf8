// Issue 18, situation 2 end to end (real binary, simulator over HTTP through ccxt, chDB): a
// missed entry fill. The simulator's fill feeds list nothing (SimFaults.hideFills) while PINK's
// market entry fills: the order leaves the book, the venue holds the position, PINK's slot holds
// nothing. Status must not say HEALTHY: within a few checks it is degraded naming the divergence
// and its fix; following the fix (`pink restart` once the feed is back) PINK holds the venue's
// size, the fill applied once, and status is HEALTHY again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWorld } from '../support/e2e.js';
import { resumeIfReducing, statusUntil, venueQty } from '../support/health.js';

test('missed entry fill: degraded (names the divergence and pink restart) while PINK holds nothing and the venue holds the entry; restart finds the fill once; HEALTHY', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT', 'ETH-USDT'] });
  try {
    const run = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
    assert.equal(run.code, 0, run.stderr);
    await statusUntil(w, 'HEALTHY at start', (s) => s.code === 0);

    await w.admin('/__sim/faults', { hideFills: true });
    w.signals([{ intent_id: 'missed-btc-1', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0.0016, order_type: 'market', reason: 'e2e' }]);
    const degraded = await statusUntil(w, 'degraded for the missed fill', (s) => s.code === 1 && s.doc.reasons.some((r) => /pink restart/.test(r)));
    assert.equal(degraded.doc.healthy, false);
    assert.equal(degraded.doc.engine.up, true);
    assert.equal(degraded.doc.slots.find((x) => x.symbol === 'BTC-USDT')?.qty, 0, 'PINK holds nothing');
    assert.equal(venueQty(w, 'BTC-USDT'), 0.0016, 'the venue holds the entry');
    // Named: the divergence (SLOT_DIVERGED) or the unconverged reconcile it triggered, with the fix.
    assert.ok(degraded.doc.reasons.some((r) => /BTC-USDT.*pink fault SLOT_DIVERGED|a fill PINK missed\? `pink restart`/.test(r)), degraded.doc.reasons.join('; '));

    // The operator follows the response once the feed is back: a restart reads the fills again.
    await w.admin('/__sim/faults', { hideFills: false });
    const restart = await w.pink(['restart'], {}, { timeoutMs: 120_000 });
    assert.equal(restart.code, 0, `${restart.stdout} ${restart.stderr}`);
    assert.match(restart.stdout, /CONVERGED/);
    assert.doesNotMatch(restart.stdout, /NOT CONVERGED/);
    await resumeIfReducing(w, 'BTC-USDT'); // the reconcile's orphan tripped the mismatch breaker
    const healthy = await statusUntil(w, 'HEALTHY once the fill is found', (s) => s.code === 0);
    assert.deepEqual(healthy.doc.reasons, []);
    const btc = healthy.doc.slots.find((x) => x.symbol === 'BTC-USDT');
    assert.equal(btc?.state, 'OPEN');
    assert.equal(btc?.qty, 0.0016, 'the fill applied once: PINK holds exactly the venue size');
    assert.equal(venueQty(w, 'BTC-USDT'), 0.0016);
    const drift = (healthy.doc as unknown as { account: { drift: number | null } }).account.drift;
    assert.ok(drift !== null && Math.abs(drift) < 0.01, `one fee, not two: drift ${drift}`);
  } finally {
    await w.close();
  }
});
