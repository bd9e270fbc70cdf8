// Authentication and every admin fault, seen through the real ccxt client: which ccxt class
// each refusal becomes is what the venue adapter maps, so it is asserted here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import ccxt from 'ccxt';
import { startSim } from '../../src/sim/index.js';
import { BTC, ETH, LTC, admin, ccxtClient, rejection, simWithClient } from './support.js';

test('signature: a wrong secret or a wrong key → AuthenticationError (100001); public endpoints need none', async () => {
  const { ex, sim, close } = await simWithClient();
  try {
    for (const creds of [{ secret: 'not-the-secret' }, { apiKey: 'someone-else' }]) {
      const bad = ccxtClient(sim.url, creds);
      bad.setMarkets(ex.markets);
      const err = await rejection(bad.fetchBalance());
      assert.ok(err instanceof ccxt.AuthenticationError, `${JSON.stringify(creds)}: ${err.constructor.name}`);
      assert.match(err.message, /"code":100001/);
      assert.equal((await bad.fetchTicker(BTC)).symbol, BTC);
    }
    // A tampered query (the signature no longer covers it) is refused the same way.
    const res = await fetch(`${sim.url}/openApi/swap/v3/user/balance?timestamp=${Date.now()}&signature=00`, { headers: { 'X-BX-APIKEY': 'pink-sim-key' } });
    assert.equal(((await res.json()) as any).code, 100001);
    const none = await fetch(`${sim.url}/openApi/swap/v3/user/balance?timestamp=${Date.now()}`, { headers: { 'X-BX-APIKEY': 'pink-sim-key' } });
    assert.equal(((await none.json()) as any).code, 100412);
  } finally {
    await close();
  }
});

test('the credentials are configurable; a timestamp outside recvWindow is refused (109400)', async () => {
  let skew_ms = 0;
  const sim = await startSim({ apiKey: 'k2', apiSecret: 's2', nowMs: () => Date.now() + skew_ms });
  try {
    const ex = ccxtClient(sim.url, { apiKey: 'k2', secret: 's2' });
    await ex.loadMarkets();
    assert.equal((await ex.fetchBalance())['USDT']?.free, 10000);
    skew_ms = 60_000; // the venue's clock is a minute ahead of ours
    const err = await rejection(ex.fetchBalance());
    assert.ok(err instanceof ccxt.ExchangeError);
    assert.match(err.message, /"code":109400,"msg":"timestamp is invalid"/);
  } finally {
    await sim.close();
  }
});

test('rate limit, style http: every Nth request → HTTP 429 → ccxt RateLimitExceeded with the unblock time', async () => {
  const { ex, sim, close } = await simWithClient();
  try {
    await admin(sim, 'faults', { rateLimitEvery: 3 });
    await ex.fetchTicker(BTC);
    await ex.fetchTicker(BTC);
    const err = await rejection(ex.fetchTicker(BTC));
    assert.ok(err instanceof ccxt.RateLimitExceeded && err instanceof ccxt.NetworkError, err.constructor.name);
    const unblocked = Number(/unblocked time: (\d+)/.exec(err.message)?.[1]);
    assert.ok(unblocked > Date.now() - 1000 && unblocked < Date.now() + 5000);
    await ex.fetchTicker(BTC);
    await admin(sim, 'faults', { rateLimitEvery: 0 });
    for (let i = 0; i < 4; i++) await ex.fetchTicker(BTC);
  } finally {
    await close();
  }
});

test('rate limit, style body: BingX code 100410 → ccxt OperationFailed; a refused create creates nothing', async () => {
  const { ex, sim, close } = await simWithClient();
  try {
    await admin(sim, 'faults', { rateLimitEvery: 1, rateLimitStyle: 'body', rateLimitCooldownMs: 2500 });
    const err = await rejection(ex.createOrder(BTC, 'market', 'buy', 0.001, undefined, { clientOrderId: 'pink-rl' }));
    assert.ok(err instanceof ccxt.OperationFailed, err.constructor.name);
    assert.match(err.message, /"code":100410.*unblocked time: \d+/);
    assert.equal(sim.state().orders_created, 0);
    assert.equal(sim.state().client_order_ids['pink-rl'], undefined);
  } finally {
    await close();
  }
});

test('rejectNext: the next order is refused with the given reason (ccxt InvalidOrder); the one after passes', async () => {
  const { ex, sim, close } = await simWithClient();
  try {
    await admin(sim, 'faults', { rejectNext: 'risk control: order rejected for the test' });
    const err = await rejection(ex.createOrder(BTC, 'market', 'buy', 0.001, undefined, { clientOrderId: 'pink-r-1' }));
    assert.ok(err instanceof ccxt.InvalidOrder, err.constructor.name);
    assert.match(err.message, /risk control: order rejected for the test/);
    assert.equal(sim.state().orders_created, 0);
    await ex.createOrder(BTC, 'market', 'buy', 0.001, undefined, { clientOrderId: 'pink-r-1' });
    assert.equal(sim.state().orders_created, 1);
    await admin(sim, 'faults', { rejectNext: 'below min', rejectNextCode: 101400 });
    assert.match((await rejection(ex.createOrder(BTC, 'market', 'buy', 0.001))).message, /"code":101400,"msg":"below min"/);
    const rest = await ex.createOrder(ETH, 'limit', 'buy', 0.1, 2000);
    await admin(sim, 'faults', { rejectNextCancel: 'cancel refused for the test' });
    const cerr = await rejection(ex.cancelOrder(rest.id!, ETH));
    assert.ok(cerr instanceof ccxt.BadRequest, cerr.constructor.name);
    assert.equal((await ex.cancelOrder(rest.id!, ETH)).status, 'canceled');
  } finally {
    await close();
  }
});

test('dropResponseNext: the order is made, the client sees a network error, and a resend cannot make a second', async () => {
  const { ex, sim, close } = await simWithClient();
  try {
    await admin(sim, 'faults', { dropResponseNext: true });
    const err = await rejection(ex.createOrder(LTC, 'market', 'buy', 0.1, undefined, { clientOrderId: 'pink-lost' }));
    assert.ok(err instanceof ccxt.NetworkError, err.constructor.name);
    const truth = sim.state();
    assert.equal(truth.client_order_ids['pink-lost']?.created, 1);
    assert.equal(truth.positions[0]?.qty, 0.1);
    const resend = await rejection(ex.createOrder(LTC, 'market', 'buy', 0.1, undefined, { clientOrderId: 'pink-lost' }));
    assert.match(resend.message, /clientOrderID unique check failed/);
    assert.equal(sim.state().positions[0]?.qty, 0.1);
    // The fault is spent: reads are never dropped, the next mutation answers.
    await ex.createOrder(LTC, 'market', 'sell', 0.1, undefined, { reduceOnly: true });
    await admin(sim, 'faults', { dropResponseNext: 2 });
    await ex.fetchBalance();
    await rejection(ex.createOrder(LTC, 'limit', 'buy', 0.1, 50));
    await rejection(ex.cancelAllOrders(LTC));
    assert.equal(sim.state().open_orders.length, 0);
  } finally {
    await close();
  }
});

test('latency: requests take at least latencyMs; past the client timeout ccxt raises RequestTimeout', async () => {
  const { ex, sim, close } = await simWithClient();
  try {
    await admin(sim, 'faults', { latencyMs: 150 });
    const t0 = performance.now();
    await ex.fetchTicker(BTC);
    assert.ok(performance.now() - t0 >= 140);
    ex.timeout = 50;
    const err = await rejection(ex.fetchTicker(BTC));
    assert.ok(err instanceof ccxt.RequestTimeout, err.constructor.name);
    await admin(sim, 'faults', { latencyMs: 0 });
  } finally {
    await close();
  }
});

test('duplicateFills: every fill row is reported twice, with the same content', async () => {
  const { ex, sim, close } = await simWithClient();
  try {
    await ex.createOrder(BTC, 'market', 'buy', 0.001);
    await admin(sim, 'faults', { duplicateFills: true });
    const rows = (await ex.swapV2PrivateGetTradeAllFillOrders({ tradingUnit: 'CONT' })).data.fill_orders;
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0], rows[1]);
    const history = (await ex.swapV2PrivateGetTradeFillHistory({})).data.fill_history_orders;
    assert.deepEqual(history.map((r: any) => r.tradeId), ['1', '1']);
    assert.equal(sim.state().fills.length, 1);
  } finally {
    await close();
  }
});

test('hideFills: the fill feeds list nothing while on (the position and the order still show the fill); all again once off', async () => {
  const { ex, sim, close } = await simWithClient();
  try {
    await admin(sim, 'faults', { hideFills: true });
    await ex.createOrder(BTC, 'market', 'buy', 0.001);
    assert.equal((await ex.swapV2PrivateGetTradeAllFillOrders({ tradingUnit: 'CONT' })).data.fill_orders.length, 0);
    assert.equal((await ex.swapV2PrivateGetTradeFillHistory({})).data.fill_history_orders.length, 0);
    assert.equal(sim.state().fills.length, 1, 'the venue filled it');
    assert.equal(sim.state().positions.find((p) => p.symbol === 'BTC-USDT')?.qty, 0.001);
    assert.equal((await admin(sim, 'faults', { hideFills: 1 })).status, 400, 'a boolean only');
    await admin(sim, 'faults', { hideFills: false });
    assert.equal((await ex.swapV2PrivateGetTradeAllFillOrders({ tradingUnit: 'CONT' })).data.fill_orders.length, 1);
  } finally {
    await close();
  }
});

test('admin input is validated; unknown venue paths answer BingX "this api is not exist" (ccxt BadRequest)', async () => {
  const { ex, sim, close } = await simWithClient();
  try {
    assert.equal((await admin(sim, 'faults', { nonsense: 1 })).status, 400);
    assert.equal((await admin(sim, 'price', { symbol: 'NOPE-USDT', price: 1 })).status, 400);
    assert.equal((await admin(sim, 'order', { symbol: 'BTC-USDT', side: 'buy', qty: 100, price: 60000 })).status, 409);
    const err = await rejection((ex as any).swapV1PrivateGetTwapOpenOrders({}));
    assert.ok(err instanceof ccxt.BadRequest, err.constructor.name);
    assert.match(err.message, /this api is not exist/);
  } finally {
    await close();
  }
});
