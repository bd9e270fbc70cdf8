// Trading through the real ccxt client over HTTP: markets, tickers, balance, market and limit
// orders, partial fills, reduce-only, cancels, open orders and positions across symbols, fills.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ccxt from 'ccxt';
import { BTC, ETH, LTC, admin, rejection, simWithClient } from './support.js';

test('loadMarkets lists the simulated symbols as linear USDT swaps; tickers and klines answer', async () => {
  const { ex, close } = await simWithClient({ symbols: ['BTC-USDT', 'ETH-USDT'] as string[] });
  try {
    assert.deepEqual(Object.keys(ex.markets!).sort(), [BTC, ETH]);
    const m = ex.market(BTC);
    assert.equal(m.swap && m.linear && m.settle === 'USDT' && m.id === 'BTC-USDT', true);
    assert.equal(m.precision.amount, 0.0001);
    const t = await ex.fetchTicker(BTC);
    assert.equal(t.last, 60000);
    assert.ok(t.bid! < t.ask!);
    const all = await ex.fetchTickers();
    assert.deepEqual(Object.keys(all).sort(), [BTC, ETH]);
    const candles = await ex.fetchOHLCV(BTC, '5m', undefined, 10);
    assert.equal(candles.length, 10);
    assert.ok(candles.every((c) => c.length === 6 && (c[2] as number) >= (c[3] as number)));
    assert.ok((await ex.fetchTime())! > 0);
  } finally {
    await close();
  }
});

test('a market order with clientOrderId fills at mark plus slippage, pays the taker fee, opens a position', async () => {
  const { ex, sim, close } = await simWithClient({ slippageBps: 10 });
  try {
    const o = await ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'pink-t1-e' });
    assert.equal(o.clientOrderId, 'pink-t1-e');
    assert.equal(o.status, 'closed');
    assert.equal(o.filled, 0.01);
    assert.equal(o.average, 60060); // 60000 × (1 + 10 bps)
    const [pos] = await ex.fetchPositions();
    assert.equal(pos?.side, 'long');
    assert.equal(pos?.contracts, 0.01);
    assert.equal(pos?.entryPrice, 60060);
    const fee = 0.01 * 60060 * 0.0005;
    const bal = await ex.fetchBalance();
    const wallet = Number((bal['info'] as any).data[0].balance);
    assert.ok(Math.abs(wallet - (10000 - fee)) < 1e-3, `balance ${wallet}`);
    // Free is wallet − margin − the unrealized loss (mark 60000 under the 60060 entry).
    assert.ok(Math.abs((bal['USDT']?.free ?? 0) - (wallet - 0.01 * 60060 / 10 - 0.6)) < 1e-3, `free ${bal['USDT']?.free}`);
    const truth = sim.state();
    assert.equal(truth.fills.length, 1);
    assert.ok(Math.abs(truth.balance.fees_usdt - fee) < 1e-9);
    assert.equal(truth.client_order_ids['pink-t1-e']?.created, 1);
  } finally {
    await close();
  }
});

test('a limit order rests, fills as maker when the price crosses, and realized PnL reaches the balance', async () => {
  const { ex, sim, close } = await simWithClient({ slippageBps: 0 });
  try {
    await ex.createOrder(ETH, 'market', 'buy', 1);
    const exit = await ex.createOrder(ETH, 'limit', 'sell', 1, 3100, { clientOrderId: 'pink-exit-1', reduceOnly: true });
    assert.equal(exit.status, 'open');
    assert.equal((await ex.fetchOpenOrders(ETH)).length, 1);
    await admin(sim, 'price', { symbol: 'ETH-USDT', price: 3150 });
    const done = await ex.fetchOrder(exit.id!, ETH);
    assert.equal(done.status, 'closed');
    assert.equal(done.average, 3100); // a resting order fills at its limit
    assert.deepEqual(await ex.fetchPositions(), []);
    const t = sim.state();
    assert.equal(t.fills[1]?.maker, true);
    const fees = 3000 * 0.0005 + 3100 * 0.0002;
    assert.ok(Math.abs(t.balance.realized_pnl_usdt - 100) < 1e-9);
    assert.ok(Math.abs(t.balance.wallet_usdt - (10000 + 100 - fees)) < 1e-9);
  } finally {
    await close();
  }
});

test('partial fills: with partialFillRatio 0.25 an order fills in four chunks over four match steps', async () => {
  const { ex, sim, close } = await simWithClient({ partialFillRatio: 0.25 });
  try {
    const o = await ex.createOrder(LTC, 'market', 'buy', 1, undefined, { clientOrderId: 'pink-partial' });
    assert.equal(o.status, 'open');
    assert.equal(o.filled, 0.25);
    const seen = [o.filled];
    for (let i = 0; i < 3; i++) seen.push((await ex.fetchOrder(o.id!, LTC)).filled as number);
    assert.deepEqual(seen, [0.25, 0.5, 0.75, 1]);
    assert.equal((await ex.fetchOrder(o.id!, LTC)).status, 'closed');
    const raw = await ex.swapV2PrivateGetTradeAllFillOrders({ tradingUnit: 'CONT', symbol: 'LTC-USDT', orderId: o.id });
    assert.equal(raw.data.fill_orders.length, 4);
    // A crossing limit order also fills a chunk per step.
    const l = await ex.createOrder(LTC, 'limit', 'sell', 1, 90, { reduceOnly: true });
    await admin(sim, 'price', { symbol: 'LTC-USDT', price: 95 });
    assert.equal((await ex.fetchOrder(l.id!, LTC)).filled, 0.5); // the price change's match + the fetch's own step
    await admin(sim, 'tick', { n: 3 });
    assert.equal(sim.state().positions.length, 0);
  } finally {
    await close();
  }
});

test('reduce-only: an oversell is refused and changes nothing; resting reduce-only orders count; it never flips', async () => {
  const { ex, sim, close } = await simWithClient();
  try {
    await ex.createOrder(BTC, 'market', 'buy', 0.01);
    const before = sim.state();
    const err = await rejection(ex.createOrder(BTC, 'market', 'sell', 0.02, undefined, { reduceOnly: true }));
    assert.ok(err instanceof ccxt.ExchangeError && !(err instanceof ccxt.NetworkError));
    assert.match(err.message, /"code":101290/);
    const after = sim.state();
    assert.equal(after.orders_created, before.orders_created);
    assert.equal(after.positions[0]?.qty, 0.01);
    // A buy reduce-only on a long would increase it: refused too.
    assert.match((await rejection(ex.createOrder(BTC, 'market', 'buy', 0.001, undefined, { reduceOnly: true }))).message, /101290/);
    // 0.006 resting reduce-only leaves 0.004 closable.
    await ex.createOrder(BTC, 'limit', 'sell', 0.006, 70000, { reduceOnly: true });
    assert.match((await rejection(ex.createOrder(BTC, 'market', 'sell', 0.005, undefined, { reduceOnly: true }))).message, /101290/);
    await ex.createOrder(BTC, 'market', 'sell', 0.004, undefined, { reduceOnly: true });
    // The position shrinks behind the resting order's back: at fill time it closes only what is left.
    await admin(sim, 'position', { symbol: 'BTC-USDT', qty: 0.002, entryPrice: 60000 });
    await admin(sim, 'price', { symbol: 'BTC-USDT', price: 71000 });
    const t = sim.state();
    assert.deepEqual(t.positions, []);
    const rest = t.closed_orders.at(-1)!;
    assert.equal(rest.filled_qty, 0.002);
    assert.equal(rest.status, 'CANCELLED');
  } finally {
    await close();
  }
});

test('cancel by orderId and by clientOrderID; unknown → OrderNotFound; already filled → refused', async () => {
  const { ex, close } = await simWithClient();
  try {
    const a = await ex.createOrder(ETH, 'limit', 'buy', 0.1, 2000);
    await ex.createOrder(ETH, 'limit', 'buy', 0.1, 2100, { clientOrderId: 'pink-c-2' });
    assert.equal((await ex.cancelOrder(a.id!, ETH)).status, 'canceled');
    const byClient = await ex.cancelOrder('', ETH, { clientOrderId: 'pink-c-2' });
    assert.equal(byClient.clientOrderId, 'pink-c-2');
    assert.equal(byClient.status, 'canceled');
    assert.ok((await rejection(ex.cancelOrder('1234', ETH))) instanceof ccxt.OrderNotFound);
    const m = await ex.createOrder(ETH, 'market', 'buy', 0.1);
    const err = await rejection(ex.cancelOrder(m.id!, ETH));
    assert.match(err.message, /"code":80018/);
    // Query by clientOrderID (the adapter's way of finding an order it may have sent).
    const q = await ex.swapV2PrivateGetTradeOrder({ symbol: 'ETH-USDT', clientOrderID: 'pink-c-2' });
    assert.equal(q.data.order.status, 'CANCELLED');
  } finally {
    await close();
  }
});

test('open orders, positions and cancel-all span every symbol when no symbol is given (foreign ones included)', async () => {
  const { ex, sim, close } = await simWithClient();
  try {
    await ex.createOrder(BTC, 'limit', 'buy', 0.001, 50000, { clientOrderId: 'pink-o-1' });
    await ex.createOrder(ETH, 'limit', 'sell', 0.1, 4000, { clientOrderId: 'pink-o-2' });
    const foreign = await admin(sim, 'order', { symbol: 'LTC-USDT', side: 'buy', qty: 1, price: 50, clientOrderId: 'web-ui-7' });
    assert.equal(foreign.status, 200);
    await admin(sim, 'position', { symbol: 'SOL-USDT', qty: -2, entryPrice: 150 });
    const open = await ex.fetchOpenOrders();
    assert.deepEqual(open.map((o) => o.clientOrderId).sort(), ['pink-o-1', 'pink-o-2', 'web-ui-7']);
    const positions = await ex.fetchPositions();
    assert.deepEqual(positions.map((p) => [p.symbol, p.side, p.contracts]), [['SOL/USDT:USDT', 'short', 2]]);
    assert.equal(sim.state().open_orders.find((o) => o.client_order_id === 'web-ui-7')?.foreign, true);
    const cancelled = await ex.cancelAllOrders();
    assert.equal(cancelled.length, 3);
    assert.deepEqual(await ex.fetchOpenOrders(), []);
    await ex.createOrder(BTC, 'limit', 'buy', 0.001, 50000);
    await ex.createOrder(ETH, 'limit', 'buy', 0.1, 2000);
    assert.equal((await ex.cancelAllOrders(BTC)).length, 1);
    assert.equal((await ex.fetchOpenOrders()).length, 1);
  } finally {
    await close();
  }
});

test('fills: allFillOrders without symbol returns every symbol since startTs; fillHistory carries tradeId and side', async () => {
  const { ex, sim, close } = await simWithClient();
  try {
    await ex.createOrder(BTC, 'market', 'buy', 0.001, undefined, { clientOrderId: 'pink-f-1' });
    const mid = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    await ex.createOrder(ETH, 'market', 'sell', 0.1, undefined, { clientOrderId: 'pink-f-2' });
    await ex.createOrder(LTC, 'market', 'buy', 0.1, undefined, { clientOrderId: 'pink-f-3' });
    const all = (await ex.swapV2PrivateGetTradeAllFillOrders({ tradingUnit: 'CONT', startTs: 0, endTs: Date.now() + 1000 })).data.fill_orders;
    assert.deepEqual(all.map((f: any) => f.clientOrderID), ['pink-f-1', 'pink-f-2', 'pink-f-3']);
    const since = (await ex.swapV2PrivateGetTradeAllFillOrders({ tradingUnit: 'CONT', startTs: mid + 1, endTs: Date.now() + 1000 })).data.fill_orders;
    assert.deepEqual(since.map((f: any) => f.symbol), ['ETH-USDT', 'LTC-USDT']);
    // ccxt parses a row correctly only with its market (else `amount` is the USDT notional).
    const row = all[1];
    const trade = ex.parseTrade(row, ex.market(ex.safeSymbol(row.symbol, undefined, '-', 'swap')));
    assert.equal(trade.amount, 0.1);
    const history = (await ex.swapV2PrivateGetTradeFillHistory({ pageIndex: 1, pageSize: 100 })).data;
    assert.equal(history.total, 3);
    assert.deepEqual(history.fill_history_orders.map((f: any) => [f.tradeId, f.side]), [['1', 'BUY'], ['2', 'SELL'], ['3', 'BUY']]);
    assert.deepEqual(sim.state().fills.map((f) => f.fill_id), ['1', '2', '3']);
  } finally {
    await close();
  }
});

test('margin: an order beyond available margin → InsufficientFunds; leverage changes what fits', async () => {
  const { ex, sim, close } = await simWithClient({ initialBalanceUsdt: 1000 });
  try {
    // 0.2 BTC at 60000 = 12000 notional: 1200 margin at 10x > 1000.
    const err = await rejection(ex.createOrder(BTC, 'market', 'buy', 0.2));
    assert.ok(err instanceof ccxt.InsufficientFunds, err.constructor.name);
    assert.equal(sim.state().orders_created, 0);
    await ex.setLeverage(20, BTC, { side: 'BOTH' });
    await ex.createOrder(BTC, 'market', 'buy', 0.2);
    assert.equal(sim.state().leverage['BTC-USDT'], 20);
    // Resting orders hold margin too.
    const held = sim.state().balance.available_usdt;
    await ex.createOrder(ETH, 'limit', 'buy', 0.1, 2000);
    assert.ok(Math.abs(held - sim.state().balance.available_usdt - 20) < 1e-6);
  } finally {
    await close();
  }
});

test('a duplicate clientOrderID is refused with BingX answer, so a resend can never make a second order', async () => {
  const { ex, sim, close } = await simWithClient();
  try {
    await ex.createOrder(LTC, 'limit', 'buy', 0.1, 50, { clientOrderId: 'pink-dup' });
    const err = await rejection(ex.createOrder(LTC, 'limit', 'buy', 0.1, 50, { clientOrderId: 'pink-dup' }));
    assert.match(err.message, /"code":101400.*clientOrderID unique check failed/);
    assert.deepEqual(sim.state().client_order_ids['pink-dup'], { created: 1, attempts: 2 });
    assert.equal(sim.state().open_orders.length, 1);
  } finally {
    await close();
  }
});
