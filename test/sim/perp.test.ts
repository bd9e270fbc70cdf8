// Issue 20 through the unmodified ccxt client: funding, liquidation, conditional orders,
// position mode, clock skew, BingX's error codes, and the endpoints ccxt's bingx supports that
// the simulator used to refuse (404 / 80014). One simulator per test, each on a clock the test
// moves (nowMs), so funding times are exact and nothing waits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ccxt from 'ccxt';
import { startSim } from '../../src/sim/index.js';
import { BTC, ETH, admin, ccxtClient, rejection, type Bingx } from './support.js';

const HOUR_MS = 3600_000;
/** 2024-01-01T07:59:00Z: one minute before a BingX funding time (00/08/16 h UTC). */
const T0 = Date.UTC(2024, 0, 1, 7, 59);

/** A simulator on a clock the test moves, and a ccxt client whose clock follows it. */
async function clocked(opts: Parameters<typeof startSim>[0] = {}) {
  const clock = { now: T0 };
  const sim = await startSim({ priceWalk: false, nowMs: () => clock.now, ...opts });
  const ex = ccxtClient(sim.url);
  ex.milliseconds = () => clock.now; // ccxt stamps requests with the test's clock
  await ex.loadMarkets();
  return { sim, ex, clock, close: () => sim.close() };
}

test('funding: premiumIndex as BingX returns it; a long pays at the funding time, listed in the income ledger with an id; rate history', async () => {
  const { sim, ex, clock, close } = await clocked();
  try {
    const rate = await ex.fetchFundingRate(BTC);
    assert.equal(rate.interval, '8h', 'fundingIntervalHours');
    assert.equal(rate.nextFundingTimestamp, T0 + 60_000, 'the next 00/08/16 h UTC');
    assert.equal(rate.fundingRate, 0.0001, 'flat market: the resting rate');
    assert.equal(typeof rate.timestamp, 'number', 'updateTime');
    const raw = JSON.parse(String(ex.last_http_response)).data;
    assert.deepEqual(Object.keys(raw).sort(), ['fundingIntervalHours', 'indexPrice', 'lastFundingRate', 'markPrice', 'nextFundingTime', 'symbol', 'updateTime']);

    await ex.createOrder(BTC, 'market', 'buy', 0.01);
    await ex.createOrder(ETH, 'market', 'sell', 0.1);
    assert.equal((await admin(sim, 'funding', { symbol: 'ETH-USDT', rate: -0.0005 })).status, 200);
    const before = sim.state().balance.wallet_usdt;
    clock.now = T0 + 60_000 + 5; // past 08:00
    const history = await ex.fetchFundingHistory(undefined, T0);
    assert.equal(history.length, 2, 'one payment per open position');
    const btc = history.find((h) => h.symbol === BTC)!;
    const eth = history.find((h) => h.symbol === ETH)!;
    const mark = sim.state().prices['BTC-USDT']!;
    assert.equal(btc.timestamp, T0 + 60_000, 'stamped with the funding time');
    assert.ok(Math.abs(btc.amount! - -0.01 * mark * 0.0001) < 1e-8, `long pays: ${btc.amount}`);
    assert.ok(eth.amount! < 0, 'a short pays a negative rate');
    assert.ok(btc.id && eth.id && btc.id !== eth.id, 'each payment has its own id');
    const after = sim.state().balance.wallet_usdt;
    assert.ok(Math.abs(after - before - (btc.amount! + eth.amount!)) < 1e-6, 'the wallet moved by the payments');
    // Asked again: the same rows, the same ids (nothing charged twice).
    assert.deepEqual((await ex.fetchFundingHistory(undefined, T0)).map((h) => h.id), history.map((h) => h.id));
    const rates = await ex.fetchFundingRateHistory(ETH, T0);
    assert.deepEqual(rates.map((r) => [r.timestamp, r.fundingRate]), [[T0 + 60_000, -0.0005]]);
    assert.equal((await ex.fetchFundingRate(BTC)).nextFundingTimestamp, T0 + 60_000 + 8 * HOUR_MS);
    // Three intervals later with nobody asking in between: three more payments, none skipped, none twice.
    clock.now = T0 + 60_000 + 3 * 8 * HOUR_MS;
    const later = await ex.fetchFundingHistory(BTC, T0);
    assert.deepEqual(later.map((h) => h.timestamp), [0, 1, 2, 3].map((i) => T0 + 60_000 + i * 8 * HOUR_MS));
    // The other rows of the ledger: realized PnL and fees, each with its own id.
    const all = (await (ex as any).swapV2PrivateGetUserIncome({ startTime: T0 })).data as Array<{ incomeType: string; tranId: string }>;
    assert.ok(all.some((r) => r.incomeType === 'TRADING_FEE'));
    assert.equal(new Set(all.map((r) => r.tranId)).size, all.length);
  } finally {
    await close();
  }
});

test('liquidation: an isolated long has its liquidation price; a mark through it closes the position with the venue order and fill shapes BingX uses', async () => {
  const { sim, ex, clock, close } = await clocked();
  try {
    await ex.setMarginMode('isolated', BTC);
    await ex.setLeverage(10, BTC, { side: 'BOTH' });
    await ex.createOrder(BTC, 'market', 'buy', 0.1, undefined, { clientOrderId: 'pink-liq-entry' });
    const [pos] = await ex.fetchPositions([BTC]);
    const entry = pos!.entryPrice!;
    // (q·E − M − A) / (q·(1 − r − f)): isolated margin q·E/10, tier 1 at 0.3 %, taker 0.05 %.
    const expected = (0.1 * entry - (0.1 * entry) / 10) / (0.1 * (1 - 0.003 - 0.0005));
    assert.ok(Math.abs(pos!.liquidationPrice! - expected) <= 0.1, `liquidationPrice ${pos!.liquidationPrice} vs ${expected}`);
    const tiers = await ex.fetchMarketLeverageTiers(BTC);
    assert.equal(tiers[0]!.maintenanceMarginRate, 0.003);
    // A resting reduce-only stop below the liquidation price: the liquidation cancels it.
    await ex.createOrder(BTC, 'market', 'sell', 0.1, undefined, { stopLossPrice: Math.floor(expected - 500) });
    assert.equal((await admin(sim, 'price', { symbol: 'BTC-USDT', price: Math.floor(expected) - 1 })).status, 200);
    assert.deepEqual(await ex.fetchPositions([BTC]), [], 'liquidated');
    assert.deepEqual(await ex.fetchOpenOrders(BTC), [], 'its orders cancelled first');
    clock.now += 1000; // fill times run ahead of a frozen clock: read up to a moment after them
    const trades = await ex.fetchMyTrades(BTC, T0);
    const liq = trades.at(-1)!;
    assert.notEqual((liq.info as any).liquidatedPrice, '', 'the fill row says liquidation');
    assert.equal((liq.info as any).clientOrderID, '', 'the venue order, not PINK');
    const liquidations = await ex.fetchMyLiquidations(BTC, T0);
    assert.equal(liquidations.length, 1);
    assert.equal(liquidations[0]!.contracts, 0.1);
    assert.equal((liquidations[0]!.info as any).orderId, liq.order);
    const [closed] = await ex.fetchPositionHistory(BTC, T0);
    assert.equal(closed!.id, pos!.id);
    assert.ok(closed!.realizedPnl! < 0);
    assert.ok(sim.state().balance.wallet_usdt < 10_000 - 0.1 * entry * 0.09, 'the loss reached the wallet');
  } finally {
    await close();
  }
});

test('conditional orders rest and trigger on the mark: STOP_MARKET reduce-only, TAKE_PROFIT_MARKET closePosition', async () => {
  const { sim, ex, close } = await clocked();
  try {
    await ex.createOrder(ETH, 'market', 'buy', 0.3);
    const stop = await ex.createOrder(ETH, 'market', 'sell', 0.1, undefined, { stopLossPrice: 2900 });
    const tp = await ex.createOrder(ETH, 'market', 'sell', 0, undefined, { takeProfitPrice: 3100, closePosition: true });
    const open = await ex.fetchOpenOrders(ETH);
    // ccxt sends a stopLossPrice order without reduceOnly; closePosition implies it.
    assert.deepEqual(open.map((o) => [o.id, o.status, o.reduceOnly]).sort(), [[stop.id, 'open', false], [tp.id, 'open', true]].sort());
    assert.equal((open.find((o) => o.id === stop.id)!.info as any).type, 'STOP_MARKET');
    assert.equal(open.find((o) => o.id === stop.id)!.stopLossPrice, 2900);
    await admin(sim, 'price', { symbol: 'ETH-USDT', price: 2950 });
    assert.equal((await ex.fetchOrder(stop.id!, ETH)).status, 'open', 'not yet');
    await admin(sim, 'price', { symbol: 'ETH-USDT', price: 2899 });
    assert.equal((await ex.fetchOrder(stop.id!, ETH)).status, 'closed', 'the stop triggered and filled');
    assert.equal((await ex.fetchPositions([ETH]))[0]!.contracts, 0.2);
    await admin(sim, 'price', { symbol: 'ETH-USDT', price: 3101 });
    const filled = await ex.fetchOrder(tp.id!, ETH);
    assert.deepEqual([filled.status, filled.filled], ['closed', 0.2], 'closePosition took the whole position at the trigger');
    assert.deepEqual(await ex.fetchPositions([ETH]), []);
  } finally {
    await close();
  }
});

test('position mode: one-way by default; hedge mode can be set when flat, then BOTH is refused; refused with a position open', async () => {
  const { ex, close } = await clocked();
  try {
    assert.equal((await ex.fetchPositionMode()).hedged, false);
    await ex.setPositionMode(true);
    assert.equal((await ex.fetchPositionMode()).hedged, true);
    const err = await rejection(ex.createOrder(BTC, 'market', 'buy', 0.01));
    assert.match(err.message, /"code":109400.*Hedge mode/);
    await ex.setPositionMode(false);
    await ex.createOrder(BTC, 'market', 'buy', 0.01);
    const refused = await rejection(ex.setPositionMode(true));
    assert.ok(refused instanceof ccxt.BadRequest, refused.constructor.name);
    assert.match(refused.message, /"code":80001/);
  } finally {
    await close();
  }
});

test('clock skew: the venue refuses a skewed timestamp (109400, or 100421 which ccxt calls BadSymbol); ccxt time-difference sync cures it', async () => {
  const { sim, ex, clock, close } = await clocked();
  try {
    await admin(sim, 'faults', { clockSkewMs: 30_000 });
    assert.equal(await ex.fetchTime(), clock.now + 30_000, 'server time is the venue clock');
    const err = await rejection(ex.fetchBalance());
    assert.match(err.message, /"code":109400,"msg":"timestamp is invalid"/);
    await admin(sim, 'faults', { clockSkewCode: 100421 });
    const other = await rejection(ex.fetchBalance());
    assert.ok(other instanceof ccxt.BadSymbol, other.constructor.name);
    assert.match(other.message, /timestamp mismatch/);
    // What the adapter does: ccxt's loadTimeDifference, and a nonce that applies it.
    await ex.loadTimeDifference();
    (ex as Bingx).nonce = () => ex.milliseconds() - Number(ex.options['timeDifference']);
    assert.equal((await ex.fetchBalance())['USDT']?.total, 10_000);
  } finally {
    await close();
  }
});

test("BingX's error codes: 101290 reduce-only, 80018 already cancelled, 101400 duplicate client id", async () => {
  const { ex, close } = await clocked();
  try {
    const ro = await rejection(ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { reduceOnly: true }));
    assert.match(ro.message, /"code":101290/);
    const o = await ex.createOrder(BTC, 'limit', 'buy', 0.01, 50_000, { clientOrderId: 'pink-codes-1' });
    await ex.cancelOrder(o.id!, BTC);
    assert.match((await rejection(ex.cancelOrder(o.id!, BTC))).message, /"code":80018/);
    assert.match((await rejection(ex.createOrder(BTC, 'limit', 'buy', 0.01, 50_000, { clientOrderId: 'pink-codes-1' }))).message, /"code":101400,"msg":"clientOrderID unique check failed"/);
  } finally {
    await close();
  }
});

test('batch create and cancel, editOrder, fetchOrders, closePosition, closeAllPositions through ccxt', async () => {
  const { sim, ex, close } = await clocked();
  try {
    const made = await ex.createOrders([
      { symbol: BTC, type: 'limit', side: 'buy', amount: 0.01, price: 50_000, params: { clientOrderId: 'pink-batch-1' } },
      { symbol: BTC, type: 'limit', side: 'buy', amount: 0.02, price: 49_000, params: { clientOrderId: 'pink-batch-2' } },
    ]);
    assert.deepEqual(made.map((o) => o.clientOrderId), ['pink-batch-1', 'pink-batch-2']);
    const edited = await ex.editOrder(made[0]!.id!, BTC, 'limit', 'buy', 0.03, 51_000);
    assert.notEqual(edited.id, made[0]!.id, 'cancelReplace: a new order');
    assert.equal((await ex.fetchOrder(made[0]!.id!, BTC)).status, 'canceled');
    const canceled = await ex.cancelOrders([made[1]!.id!, edited.id!], BTC);
    assert.deepEqual(canceled.map((o) => o.status), ['canceled', 'canceled']);
    const all = await ex.fetchOrders(BTC);
    assert.equal(all.length, 3);
    assert.ok(all.every((o) => o.status === 'canceled'));
    await ex.createOrder(BTC, 'market', 'buy', 0.01);
    await ex.createOrder(ETH, 'market', 'sell', 0.1);
    await ex.closePosition(BTC);
    assert.deepEqual((await ex.fetchPositions()).map((p) => p.symbol), [ETH]);
    const [eth] = await ex.fetchPositions([ETH]);
    await ex.createOrder(BTC, 'market', 'buy', 0.01);
    await ex.closePosition(ETH, undefined, { positionId: eth!.id });
    assert.deepEqual((await ex.fetchPositions()).map((p) => p.symbol), [BTC]);
    await ex.closeAllPositions();
    assert.deepEqual(await ex.fetchPositions(), []);
    assert.equal(sim.state().position_history.length, 3);
  } finally {
    await close();
  }
});
