// Issue 20, the adapter side, through unmodified ccxt against the simulator: clock skew
// synced at connect and on refusal, position mode, funding payments with the venue's ids,
// liquidations recognisable in poll/snapshot, BingX's codes mapped to the right inputs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { events, place, pollUntil, rig, sleep, TEST_KEY, TEST_SECRET } from './harness.js';
import { ccxtClient } from '../sim/support.js';

const SYMBOLS = ['BTC-USDT', 'ETH-USDT'];

test('clock skew: synced at connect (ccxt time difference), again when a request is refused for its timestamp; orders go through', async () => {
  const r = await rig({ sim: { clockSkewMs: 20_000 } });
  try {
    assert.ok(Math.abs(r.venue.clockSkewMs - 20_000) < 1000, `skew at connect ${r.venue.clockSkewMs}`);
    const entry = place('BTC-USDT', 'buy', 0.01);
    assert.deepEqual(events(await r.venue.send([entry], Date.now())).map((e) => e.kind), ['ACCEPTED']);
    // The venue's clock jumps the other way (and answers 100421): the next read is refused once,
    // the adapter syncs and asks again.
    await r.admin('/__sim/faults', { clockSkewMs: -15_000, clockSkewCode: 100421 });
    const inputs = await pollUntil(r.venue, SYMBOLS, (all) => all.some((i) => i.type === 'EVENT' && i.event.kind === 'FILL'));
    assert.ok(inputs.some((i) => i.type === 'VENUE_OK'), JSON.stringify(inputs.filter((i) => i.type !== 'TICK')));
    assert.ok(!inputs.some((i) => i.type === 'VENUE_UNAVAILABLE'));
    assert.ok(Math.abs(r.venue.clockSkewMs + 15_000) < 1000, `skew after the refusal ${r.venue.clockSkewMs}`);
    assert.ok(r.logs.some((l) => /refused for its timestamp; clock synced/.test(l)));
  } finally {
    await r.close();
  }
});

test('position mode: read at start; hedge mode shows, and orders are then refused by the venue; set back to one-way', async () => {
  const r = await rig();
  try {
    assert.equal(await r.venue.positionMode(), 'one_way');
    await r.venue.setPositionMode('hedge');
    assert.equal(await r.venue.positionMode(), 'hedge');
    const refused = events(await r.venue.send([place('BTC-USDT', 'buy', 0.01)], Date.now()));
    assert.equal(refused[0]!.kind, 'REJECTED');
    assert.match(refused[0]!.reason ?? '', /Hedge mode/);
    await r.venue.setPositionMode('one_way');
    assert.equal(await r.venue.positionMode(), 'one_way');
  } finally {
    await r.close();
  }
});

test('funding payments: each with the venue id, symbol, amount, rate, mark and signed size; the same ids when read again', async () => {
  const r = await rig({ sim: { fundingIntervalMs: 1000 } });
  try {
    await r.admin('/__sim/funding', { symbol: 'BTC-USDT', rate: 0.0005 });
    await r.admin('/__sim/funding', { symbol: 'ETH-USDT', rate: -0.0002 });
    const since = Date.now();
    await r.venue.send([place('BTC-USDT', 'buy', 0.02), place('ETH-USDT', 'sell', 0.3)], Date.now());
    // Bounded: until two funding times have passed with both positions open.
    for (let i = 0; i < 40 && r.state().income.filter((x) => x.type === 'FUNDING_FEE').length < 4; i++) {
      await sleep(100);
      await r.admin('/__sim/tick', {});
    }
    const truth = r.state().income.filter((x) => x.type === 'FUNDING_FEE');
    assert.ok(truth.length >= 4, `${truth.length} payments`);
    const got = await r.venue.fundingPayments(since - 1000);
    const byId = new Map(got.map((p) => [p.funding_id, p]));
    for (const t of truth) {
      const p = byId.get(t.tran_id);
      assert.ok(p, `payment ${t.tran_id} read`);
      assert.deepEqual([p!.symbol, p!.ts, p!.rate, p!.position_qty, p!.mark_price], [t.symbol, t.ts_ms, t.rate, t.position_qty, t.mark_price]);
      assert.ok(Math.abs(p!.amount_usdt - t.amount_usdt) < 1e-8);
    }
    assert.ok(got.some((p) => p.symbol === 'BTC-USDT' && p.amount_usdt < 0 && p.position_qty === 0.02), 'a long pays a positive rate');
    assert.ok(got.some((p) => p.symbol === 'ETH-USDT' && p.amount_usdt < 0 && p.position_qty === -0.3), 'a short pays a negative rate');
    const again = await r.venue.fundingPayments(since - 1000);
    assert.deepEqual(again.slice(0, got.length).map((p) => p.funding_id), got.map((p) => p.funding_id), 'the same ids, in the same order');
  } finally {
    await r.close();
  }
});

test('liquidation: the snapshot shows the liquidation price; after the mark crosses it, poll sees the liquidation once, with the venue ids', async () => {
  const r = await rig();
  try {
    const ex = ccxtClient(r.sim.url, { apiKey: TEST_KEY, secret: TEST_SECRET });
    await ex.loadMarkets();
    await ex.setMarginMode('isolated', 'BTC/USDT:USDT');
    await ex.setLeverage(20, 'BTC/USDT:USDT', { side: 'BOTH' });
    const entry = place('BTC-USDT', 'buy', 0.05);
    await r.venue.send([entry], Date.now());
    await pollUntil(r.venue, SYMBOLS, (all) => all.some((i) => i.type === 'EVENT' && i.event.kind === 'FILL'));
    const snap = await r.venue.snapshot(SYMBOLS, Date.now() - 60_000, Date.now());
    const pos = snap.positions.find((p) => p.symbol === 'BTC-USDT')!;
    const truth = r.state().positions[0]!;
    assert.ok(pos.liquidation_price !== undefined && Math.abs(pos.liquidation_price - truth.liquidation_price) < 0.1, `${pos.liquidation_price} vs ${truth.liquidation_price}`);
    await r.admin('/__sim/price', { symbol: 'BTC-USDT', price: Math.floor(truth.liquidation_price) - 5 });
    const seen = await pollUntil(r.venue, SYMBOLS, () => r.state().positions.length === 0, 5);
    assert.deepEqual(events(seen).filter((e) => e.kind === 'FILL' && e.client_order_id !== entry.client_order_id), [], 'no kernel input for the venue order');
    const liq = r.venue.takeLiquidations();
    const fill = r.state().fills.at(-1)!;
    assert.equal(liq.length, 1);
    assert.deepEqual([liq[0]!.venue_order_id, liq[0]!.symbol, liq[0]!.side, liq[0]!.qty], [fill.order_id, 'BTC-USDT', 'sell', 0.05]);
    assert.ok(Math.abs(liq[0]!.liquidation_price - truth.liquidation_price) < 0.1);
    assert.deepEqual(r.venue.takeLiquidations(), [], 'each once');
    const after = await r.venue.snapshot(SYMBOLS, Date.now() - 60_000, Date.now());
    assert.deepEqual(after.positions, []);
    const inSnapshot = after.fills.find((f) => f.venue_order_id === fill.order_id);
    assert.ok(inSnapshot && inSnapshot.liquidation_price !== undefined && inSnapshot.client_order_id === '', 'marked in the snapshot fills');
    assert.equal(inSnapshot.fill_id, liq[0]!.fill_id, 'the same fill id in both');
    assert.deepEqual(r.venue.takeLiquidations(), [], 'a snapshot does not report it again');
  } finally {
    await r.close();
  }
});

test('101400 duplicate client id: the order exists — ACCEPTED with its venue id, never REJECTED; 101290 reduce-only is REJECTED', async () => {
  const r = await rig();
  try {
    const cmd = place('ETH-USDT', 'buy', 0.1, { order_type: 'limit', price: 2000 });
    const first = events(await r.venue.send([cmd], Date.now()))[0]!;
    // Another adapter (a restarted engine that lost the answer) sends the same command.
    const other = await r.another();
    const second = events(await other.send([cmd], Date.now()));
    assert.deepEqual(second.map((e) => [e.kind, e.venue_order_id]), [['ACCEPTED', first.venue_order_id]]);
    assert.equal(r.state().orders_created, 1);
    const oversell = events(await r.venue.send([place('BTC-USDT', 'sell', 0.01, { reduce_only: true })], Date.now()));
    assert.equal(oversell[0]!.kind, 'REJECTED');
    assert.match(oversell[0]!.reason ?? '', /101290/);
  } finally {
    await r.close();
  }
});
