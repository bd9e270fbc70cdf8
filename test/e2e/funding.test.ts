// Issue 20 end to end: a position held across three accelerated funding intervals (the real binary,
// the simulator over HTTP through ccxt, chDB), with a kill -9 and a restart in the middle. Every
// payment of the venue's ledger is applied once, recorded once in the `funding` table, and the
// capital identity holds from ClickHouse alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/engine/store/index.js';
import { makeWorld, stopPid, waitFor, type World } from '../support/e2e.js';
import { ccxtClient } from '../sim/support.js';

type Account = { capital: number; realized_pnl: number; fees: number; funding: number; venue_balance: number | null };
type Status = { slots: { symbol: string; state: string; qty: number }[]; account: Account };

const INTERVAL_MS = 2_000;
const RATE = 0.0005;

async function status(w: World): Promise<Status> {
  return (await w.json<Status>(['ditav2-status'])).doc;
}

async function startEngine(w: World): Promise<number> {
  const r = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
  assert.equal(r.code, 0, r.stderr);
  return r.doc.pid;
}

function fundingTruth(w: World) {
  return w.sim.state().income.filter((r) => r.type === 'FUNDING_FEE');
}

/** The engine has applied every payment the venue listed (its funding paid = minus their sum). */
async function applied(w: World, atLeast: number): Promise<boolean> {
  const truth = fundingTruth(w);
  if (truth.length < atLeast) return false;
  const paid = -truth.reduce((n, r) => n + r.amount_usdt, 0);
  const s = await status(w);
  return s.account !== undefined && Math.abs(s.account.funding - paid) < 1e-9;
}

test('funding: a position held across three funding intervals, kill -9 and restart between; each payment once; capital identity from ClickHouse alone', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT'], fundingIntervalMs: INTERVAL_MS });
  try {
    await w.admin('/__sim/funding', { symbol: 'BTC-USDT', rate: RATE });
    const pid = await startEngine(w);
    w.signals([{ intent_id: 'fund-enter-1', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0.02, order_type: 'market', reason: 'e2e' }]);
    await waitFor('OPEN', async () => (await status(w)).slots.find((s) => s.symbol === 'BTC-USDT')?.state === 'OPEN');
    await waitFor('the first payment applied', () => applied(w, 1), 30_000, 200);

    // A crash after funding was applied: the journal and checkpoint keep the ids; the restart reads
    // the cursor's funding time again and applies nothing twice.
    process.kill(pid, 'SIGKILL');
    await waitFor('engine gone', async () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    await startEngine(w);
    await waitFor('three payments applied', () => applied(w, 3), 30_000, 200);
    // Status shows the funding reads and the venue clock's skew (the simulator's clock is this machine's).
    const st = (await w.json<{ engine: { venue_clock_skew_ms: number; funding: { since_ts: number; next_funding_ts: number; reads: number; last_error: string | null } } }>(['ditav2-status'])).doc.engine;
    assert.ok(Math.abs(st.venue_clock_skew_ms) < 1000, `skew ${st.venue_clock_skew_ms}`);
    assert.ok(st.funding.reads >= 1 && st.funding.last_error === null, JSON.stringify(st.funding));
    assert.equal(st.funding.next_funding_ts % INTERVAL_MS, 0, 'the next funding time is on the interval');
    assert.ok(st.funding.since_ts >= Math.max(...fundingTruth(w).slice(0, 3).map((r) => r.ts_ms)), 'the cursor is at the latest applied funding time');

    w.signals([{ intent_id: 'fund-exit-1', symbol: 'BTC-USDT', action: 'EXIT', qty: 1, final: true, order_type: 'market', reason: 'e2e' }]);
    await waitFor('CLOSED', async () => (await status(w)).slots.find((s) => s.symbol === 'BTC-USDT')?.state === 'CLOSED');
    // Flat: no more payments; the engine catches the last one (a funding time may pass during the exit).
    await waitFor('every payment applied after the close', async () => (await applied(w, 3)) && w.sim.state().positions.length === 0, 30_000, 200);
    const final = await status(w);
    await stopPid(join(w.home, 'pink.pid'));

    const truth = fundingTruth(w);
    assert.ok(truth.length >= 3, `${truth.length} payments`);
    assert.ok(truth.every((r) => r.amount_usdt < 0), 'a long pays a positive rate');
    const venue = w.sim.state().balance;
    // The kernel's capital is the venue's wallet: fills, fees and funding all counted, nothing twice.
    assert.ok(Math.abs(venue.wallet_usdt - final.account.capital) < 1e-6, `venue wallet ${venue.wallet_usdt} vs capital ${final.account.capital}`);

    const store = await openStore({ config: loadConfig(w.env), runId: 'e2e-check' });
    try {
      const rows = await store.query<{ funding_id: string; rows: number; ids: number; amount_usdt: number; rate: number; position_qty: number; mark_price: number; ts: number; symbol: string }>(
        `SELECT funding_id, count() AS rows, uniqExact(row_id) AS ids, any(amount_usdt) AS amount_usdt, any(rate) AS rate, any(position_qty) AS position_qty,
                any(mark_price) AS mark_price, toUnixTimestamp64Milli(any(ts)) AS ts, any(symbol) AS symbol
         FROM dolphin_pink.funding GROUP BY funding_id ORDER BY ts, funding_id`,
      );
      assert.deepEqual(rows.map((r) => r.funding_id).sort(), truth.map((r) => r.tran_id).sort(), 'one row per venue payment');
      for (const r of rows) {
        assert.equal(r.ids, 1, `${r.funding_id}: one row id`);
        const t = truth.find((x) => x.tran_id === r.funding_id)!;
        assert.deepEqual([r.symbol, r.ts, r.rate, r.position_qty, r.mark_price], [t.symbol, t.ts_ms, t.rate, t.position_qty, t.mark_price], r.funding_id);
        assert.equal(r.amount_usdt, t.amount_usdt, `${r.funding_id}: the venue's amount, exactly`);
      }
      // capital = initial + realized − fees − funding, from ClickHouse alone (the latest account row).
      const [id] = await store.query<{ capital: number; realized: number; fees: number; funding_paid: number }>(
        `SELECT (SELECT argMax(capital, (ts, row_id)) FROM dolphin_pink.account) AS capital,
                (SELECT argMax(realized_pnl, (ts, row_id)) FROM dolphin_pink.account) AS realized,
                (SELECT argMax(fees, (ts, row_id)) FROM dolphin_pink.account) AS fees,
                (SELECT -sum(amount_usdt) FROM (SELECT * FROM dolphin_pink.funding LIMIT 1 BY row_id)) AS funding_paid`,
      );
      const initial = loadConfig(w.env).initial_capital_usdt;
      assert.ok(id!.funding_paid > 0);
      assert.ok(Math.abs(id!.capital - (initial + id!.realized - id!.fees - id!.funding_paid)) < 1e-9, JSON.stringify(id));
      assert.ok(Math.abs(id!.capital - final.account.capital) < 1e-9, 'the latest account row is the kernel\'s capital');
      const audit = await store.audit();
      const check = audit.checks.find((c) => c.id === 'account_identity')!;
      assert.ok(audit.ok, JSON.stringify(audit.checks.filter((c) => !c.ok)));
      assert.match(check.detail, new RegExp(`\\(${truth.length} funding row\\(s\\)\\)`));
    } finally {
      await store.close();
    }
  } finally {
    await w.close();
  }
});

type LiqStatus = { slots: { symbol: string; state: string; qty: number; trading_state: string; trading_state_reason: string; liquidation_price: number | null; liquidation_distance_pct: number | null; mark_price: number }[]; account: Account; healthy: boolean; reasons: string[] };

test('liquidation: the venue closes the position; the engine records an exit leg `liquidation`, a CRITICAL anomaly, the symbol REDUCING; capital = the venue wallet', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT'] });
  try {
    // Isolated at 20x: the liquidation price is ~5 % from the entry.
    const ex = ccxtClient(w.sim.url);
    await ex.loadMarkets();
    await ex.setMarginMode('isolated', 'BTC/USDT:USDT');
    await ex.setLeverage(20, 'BTC/USDT:USDT', { side: 'BOTH' });
    await startEngine(w);
    w.signals([{ intent_id: 'liq-enter-1', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0.05, order_type: 'market', reason: 'e2e' }]);
    const slotOf = async () => (await w.json<LiqStatus>(['ditav2-status'])).doc.slots.find((s) => s.symbol === 'BTC-USDT');
    await waitFor('OPEN', async () => (await slotOf())?.state === 'OPEN');
    const liqPrice = w.sim.state().positions[0]!.liquidation_price;
    assert.ok(liqPrice > 0, `a liquidation price (${liqPrice})`);
    // Status shows the venue's liquidation price and the mark's distance to it (read within ~1 s).
    const shown = await waitFor('the liquidation price in status', async () => {
      const s = await slotOf();
      return s?.liquidation_price != null ? s : undefined;
    });
    // The wire carries the price at the market's tick (0.1 here), the simulator's state in full.
    assert.ok(Math.abs(shown.liquidation_price! - liqPrice) <= 0.1, `status ${shown.liquidation_price} vs the venue's ${liqPrice}`);
    assert.ok(Math.abs(shown.liquidation_distance_pct! - ((shown.mark_price - liqPrice) / shown.mark_price) * 100) < 0.01, `distance ${shown.liquidation_distance_pct} %`);
    const far = await w.json<LiqStatus>(['ditav2-status']);
    assert.ok(!far.doc.reasons.some((r) => r.includes('liquidation price')), `${shown.liquidation_distance_pct} % away is over the 3 % warning: ${far.doc.reasons.join('; ')}`);
    // The mark 1.5 % above it: degraded, the reason ending in the command that reduces it.
    await w.admin('/__sim/price', { symbol: 'BTC-USDT', price: Math.round(liqPrice * 1.015) });
    const near = await waitFor('degraded near liquidation', async () => {
      const s = await w.json<LiqStatus>(['ditav2-status']);
      return s.doc.reasons.some((r) => r.includes('liquidation price')) ? s : undefined;
    });
    assert.equal(near.code, 1);
    assert.match(near.doc.reasons.join('\n'), /BTC-USDT 1\.[0-9]{2} % from its liquidation price [0-9.]+ \(under 3 %\): pink flatten BTC-USDT/);
    const text = await w.pink(['ditav2-status']);
    assert.match(text.stdout, /liquidation {2}BTC-USDT at [0-9.]+, the mark 1\.[0-9]{2} % away/);
    await w.admin('/__sim/price', { symbol: 'BTC-USDT', price: Math.floor(liqPrice) - 5 });
    const after = await waitFor('CLOSED and REDUCING', async () => {
      const s = await slotOf();
      return s?.state === 'CLOSED' && s.trading_state === 'REDUCING' ? s : undefined;
    });
    assert.match(after.trading_state_reason, /POSITION_LIQUIDATED/);
    // REDUCING: a new entry is refused.
    w.signals([{ intent_id: 'liq-enter-2', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0.01, order_type: 'market', reason: 'e2e' }]);
    // A step that ended 1 s after the line was written began after it, and read it (checked below in decisions).
    const written = Date.now();
    await waitFor('a step after the line', async () => ((await w.json<{ engine: { heartbeat_ts: number } }>(['ditav2-status'])).doc.engine.heartbeat_ts ?? 0) > written + 1000);
    const final = (await w.json<LiqStatus>(['ditav2-status'])).doc;
    await stopPid(join(w.home, 'pink.pid'));
    const truth = w.sim.state();
    assert.equal(truth.positions.length, 0, 'flat at the venue');
    const liqFill = truth.fills.at(-1)!;
    assert.ok(Math.abs(truth.balance.wallet_usdt - final.account.capital) < 1e-6, `venue wallet ${truth.balance.wallet_usdt} vs capital ${final.account.capital}`);
    assert.equal(truth.fills.filter((f) => f.client_order_id !== '' && f.client_order_id.startsWith('pink-')).length, 1, 'the second entry was never sent');

    const store = await openStore({ config: loadConfig(w.env), runId: 'e2e-check' });
    try {
      const legs = await store.query<{ exit_reason: string; leg_price: number; leg_fee: number; is_final: number; client_order_id: string }>(
        'SELECT exit_reason, leg_price, leg_fee, is_final, client_order_id FROM (SELECT * FROM dolphin_pink.trade_exit_legs LIMIT 1 BY row_id)',
      );
      assert.deepEqual(legs.map((l) => [l.exit_reason, l.leg_price, l.is_final, l.client_order_id]), [['liquidation', liqFill.price, 1, '']]);
      // The venue's wire rounds the fee to 6 decimals (BingX's commission field).
      assert.ok(Math.abs(legs[0]!.leg_fee - liqFill.fee_usdt) <= 1e-6, `leg fee ${legs[0]!.leg_fee} vs the venue's ${liqFill.fee_usdt}`);
      const trades = await store.query<{ st: string; reason: string }>(
        "SELECT argMax(status, (legs, status = 'closed')) AS st, argMax(exit_reason, (legs, status = 'closed')) AS reason FROM dolphin_pink.trades GROUP BY trade_id",
      );
      assert.deepEqual(trades, [{ st: 'closed', reason: 'liquidation' }]);
      const anomalies = await store.query<{ code: string; severity: string; symbol: string }>(
        "SELECT code, severity, symbol FROM (SELECT * FROM dolphin_pink.anomalies LIMIT 1 BY row_id) WHERE severity = 'CRITICAL'",
      );
      assert.deepEqual(anomalies, [{ code: 'POSITION_LIQUIDATED', severity: 'CRITICAL', symbol: 'BTC-USDT' }]);
      const refused = await store.query<{ outcome_code: string }>("SELECT outcome_code FROM dolphin_pink.decisions WHERE intent_id = 'liq-enter-2' LIMIT 1 BY row_id");
      assert.deepEqual(refused, [{ outcome_code: 'TRADING_STATE_REFUSED' }]);
      const audit = await store.audit();
      assert.ok(audit.ok, JSON.stringify(audit.checks.filter((c) => !c.ok)));
    } finally {
      await store.close();
    }
  } finally {
    await w.close();
  }
});

// Chaos seed 328: the venue liquidated the position while the engine was down (a restart);
// the startup reconcile applied it and then reported itself unconverged (its POSITION_LIQUIDATED
// outcome is CRITICAL), so `pink restart` exited 1 with nothing left to fix. It converges: the
// books hold what the venue did, and the liquidation is told by its anomaly and the symbol's state.
test('a liquidation while the engine is down: the restart reconcile applies it and converges; the symbol is REDUCING', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT'] });
  try {
    const ex = ccxtClient(w.sim.url);
    await ex.loadMarkets();
    await ex.setMarginMode('isolated', 'BTC/USDT:USDT');
    await ex.setLeverage(20, 'BTC/USDT:USDT', { side: 'BOTH' });
    await startEngine(w);
    w.signals([{ intent_id: 'liq-down-1', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0.05, order_type: 'market', reason: 'e2e' }]);
    await waitFor('OPEN', async () => (await w.json<LiqStatus>(['ditav2-status'])).doc.slots.find((s) => s.symbol === 'BTC-USDT')?.state === 'OPEN');
    await stopPid(join(w.home, 'pink.pid'));
    const liqPrice = w.sim.state().positions[0]!.liquidation_price;
    await w.admin('/__sim/price', { symbol: 'BTC-USDT', price: Math.floor(liqPrice) - 5 });
    assert.equal(w.sim.state().positions.length, 0, 'the venue liquidated it');
    const r = await w.json<{ converged: boolean; corrections: { kind: string; symbol: string; detail: string }[] }>(['restart', '--no-start', '--json']);
    assert.equal(r.code, 0, `restart --no-start exited ${r.code}: ${JSON.stringify(r.doc)}`);
    assert.equal(r.doc.converged, true);
    assert.ok(r.doc.corrections.some((c) => c.kind === 'closed' && c.symbol === 'BTC-USDT' && /liquidat/.test(c.detail)), JSON.stringify(r.doc.corrections));
    const st = await w.json<LiqStatus>(['ditav2-status']);
    const slot = st.doc.slots.find((s) => s.symbol === 'BTC-USDT')!;
    assert.equal(slot.trading_state, 'REDUCING');
    assert.match(slot.trading_state_reason, /POSITION_LIQUIDATED/);
    assert.ok(!st.doc.reasons.some((x) => /did not converge/.test(x)), `status: ${st.doc.reasons.join('; ')}`);
    const truth = w.sim.state();
    assert.ok(Math.abs(truth.balance.wallet_usdt - st.doc.account.capital) < 1e-6, `venue wallet ${truth.balance.wallet_usdt} vs capital ${st.doc.account.capital}`);
  } finally {
    await w.close();
  }
});

test('hedge mode at start: refused with exit 2 and the fix, nothing sent; one-way again: it starts', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT'] });
  try {
    const ex = ccxtClient(w.sim.url);
    await ex.loadMarkets();
    await ex.setPositionMode(true);
    const before = w.sim.state().requests;
    const r = await w.pink(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /hedge \(dual-side\) position mode; PINK trades one-way only\. Nothing was sent\./);
    assert.match(r.stderr, /One-way/);
    assert.doesNotMatch(r.stderr, /at .*\.js:\d+/, 'no stack trace');
    const truth = w.sim.state();
    assert.equal(truth.orders_created, 0, 'no order');
    assert.ok(truth.requests > before, 'the mode was read from the venue');
    await ex.setPositionMode(false);
    await startEngine(w);
    w.signals([{ intent_id: 'hedge-enter-1', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0.01, order_type: 'market', reason: 'e2e' }]);
    await waitFor('OPEN', async () => (await status(w)).slots.find((s) => s.symbol === 'BTC-USDT')?.state === 'OPEN');
    await stopPid(join(w.home, 'pink.pid'));
  } finally {
    await w.close();
  }
});
