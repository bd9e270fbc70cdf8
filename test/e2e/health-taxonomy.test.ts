// Issue 18: a test per taxonomy code whose operator response is reproducible on the simulator,
// following the response's own commands (read from `pink fault CODE --json`) to a HEALTHY status.
// One engine world for all of them, in sequence, to keep CI time low (real binary, simulator over
// HTTP through ccxt, chDB). POSITION_MISMATCH and SLOT_DIVERGED: health-runbook.test.ts and
// health.test.ts; VENUE_UNAVAILABLE: health.test.ts; a missed fill: health-missed-fill.test.ts.
// docs/health.md lists which codes are covered where, and which are not and why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeWorld } from '../support/e2e.js';
import { follow, reasonFor, response, statusUntil, venueQty, type Seen } from '../support/health.js';

test('taxonomy walk on the simulator: ORPHAN_POSITION, BREAKER_MISMATCH, BREAKER_REJECTS, RATE_LIMITED, BREAKER_DRAWDOWN each followed to HEALTHY', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT', 'ETH-USDT'], env: { DOLPHIN_PINK_MAX_REJECTS: '1', DOLPHIN_PINK_MAX_DRAWDOWN_USDT: '5' } });
  try {
    const run = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
    assert.equal(run.code, 0, run.stderr);
    await statusUntil(w, 'HEALTHY at start', (s) => s.code === 0);

    // ORPHAN_POSITION: the venue holds ETH that PINK never traded (PINK's slot flat).
    await w.admin('/__sim/position', { symbol: 'ETH-USDT', qty: 0.05, entryPrice: 3000 });
    const orphan = await statusUntil(w, 'degraded naming ORPHAN_POSITION', (s) => reasonFor(s, /pink fault ORPHAN_POSITION/));
    assert.equal(orphan.doc.healthy, false);
    const flat = await follow(w, 'ORPHAN_POSITION', ['flatten', 'ETH-USDT', '--yes'], 'pink flatten SYMBOL');
    assert.equal(flat.code, 0, `${flat.stdout} ${flat.stderr}`);
    assert.equal(venueQty(w, 'ETH-USDT'), 0, 'adopted, then exited');
    // BREAKER_MISMATCH: the orphan tripped it; its response ends in resume.
    const tripped = await statusUntil(w, 'only the breaker left', (s) => s.doc.divergences.length === 0 && s.doc.reasons.length > 0 && s.doc.reasons.every((r) => /ETH-USDT is REDUCING/.test(r)));
    assert.equal(tripped.doc.healthy, false);
    const resumed = await follow(w, 'BREAKER_MISMATCH', ['resume', 'ETH-USDT'], 'pink resume SYMBOL');
    assert.equal(resumed.code, 0, resumed.stderr);
    await statusUntil(w, 'HEALTHY after ORPHAN_POSITION', (s) => s.code === 0);

    // BREAKER_REJECTS (DOLPHIN_PINK_MAX_REJECTS=1): the venue refuses an entry.
    await w.admin('/__sim/faults', { rejectNext: 'Insufficient margin' });
    w.signals([{ intent_id: 'walk-btc-rej', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0.001, order_type: 'market', reason: 'e2e' }]);
    const rejects = await statusUntil(w, 'degraded naming BREAKER_REJECTS', (s) => reasonFor(s, /BTC-USDT is REDUCING.*BREAKER_REJECTS/));
    assert.equal(rejects.doc.healthy, false);
    const timeline = await follow(w, 'BREAKER_REJECTS', ['timeline', '--since', '30m', '--symbol', 'BTC-USDT'], 'pink timeline');
    assert.equal(timeline.code, 0, timeline.stderr);
    assert.match(timeline.stdout, /Insufficient margin/);
    const resumedBtc = await follow(w, 'BREAKER_REJECTS', ['resume', 'BTC-USDT'], 'pink resume SYMBOL');
    assert.equal(resumedBtc.code, 0, resumedBtc.stderr);
    await statusUntil(w, 'HEALTHY after BREAKER_REJECTS', (s) => s.code === 0);

    // RATE_LIMITED: every request refused for rate; the response: nothing to do but wait.
    await w.admin('/__sim/faults', { rateLimitEvery: 1 });
    const limited = await statusUntil(w, 'degraded naming RATE_LIMITED', (s) => reasonFor(s, /pink fault RATE_LIMITED\b/));
    assert.equal(limited.doc.healthy, false);
    assert.ok((await response(w, 'RATE_LIMITED')).text.includes('None required'));
    await w.admin('/__sim/faults', { rateLimitEvery: null });
    const afterLimit = await statusUntil(w, 'healthy or held by the rate-limit breaker', (s) => s.code === 0 || reasonFor(s, /BREAKER_RATE_LIMITED/));
    if (afterLimit.code !== 0) {
      const r = await follow(w, 'BREAKER_RATE_LIMITED', ['resume', '--all'], 'pink resume --all');
      assert.equal(r.code, 0, r.stderr);
    }
    // HEALTHY once the venue answers again; the cooldown after the last refusal may run a few
    // seconds more, and an ENTER inside it is refused for rate (recorded, not sent): wait it out.
    await statusUntil(w, 'HEALTHY after RATE_LIMITED, the cooldown over', (s) => s.code === 0 && (s.doc.rateLimit?.cooling_ms ?? 0) === 0);

    // BREAKER_DRAWDOWN (DOLPHIN_PINK_MAX_DRAWDOWN_USDT=5): a long loses more than 5 USDT.
    // An ENTER inside the rate-limit cooldown's tail is refused for rate (RATE_LIMITED: recorded,
    // never sent, the slot stays IDLE): as the taxonomy says, the decision engine sends it again.
    const btcOpen = (s: Seen): boolean => s.code === 0 && s.doc.slots.some((x) => x.symbol === 'BTC-USDT' && x.state === 'OPEN');
    for (let attempt = 1; ; attempt += 1) {
      w.signals([{ intent_id: `walk-btc-dd-${attempt}`, symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0.01, order_type: 'market', reason: 'e2e' }]);
      const opened = await statusUntil(w, 'BTC OPEN', btcOpen, 10_000).catch((err: unknown) => {
        if (attempt >= 3) throw err;
        return undefined;
      });
      if (opened !== undefined) break;
    }
    await w.admin('/__sim/price', { symbol: 'BTC-USDT', price: 58_000 });
    const dd = await statusUntil(w, 'degraded naming BREAKER_DRAWDOWN', (s) => reasonFor(s, /BREAKER_DRAWDOWN/));
    assert.equal(dd.doc.healthy, false);
    const report = await follow(w, 'BREAKER_DRAWDOWN', ['report', '--since', '24h'], 'pink report --since 24h');
    assert.equal(report.code, 0, report.stderr);
    const out = await follow(w, 'BREAKER_DRAWDOWN', ['flatten', '--all', '--yes'], 'pink flatten --all --yes');
    assert.equal(out.code, 0, `${out.stdout} ${out.stderr}`);
    assert.equal(venueQty(w, 'BTC-USDT'), 0);
    const all = await follow(w, 'BREAKER_DRAWDOWN', ['resume', '--all'], 'pink resume --all');
    assert.equal(all.code, 0, all.stderr);
    const healthy = await statusUntil(w, 'HEALTHY after BREAKER_DRAWDOWN', (s) => s.code === 0);
    assert.deepEqual(healthy.doc.reasons, []);
  } finally {
    await w.close();
  }
});
