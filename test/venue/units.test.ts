// The adapter's pure parts: error classification against ccxt's real error classes, the token
// bucket, the order watch, symbol conversion.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, retryAfterMs } from '../../src/engine/venue/errors.js';
import { TokenBucket, Throttle, BINGX_RATES } from '../../src/engine/venue/throttle.js';
import { OrderWatch, FILL_LOOKBACK_MS } from '../../src/engine/venue/watch.js';
import { fromCcxtSymbol, toCcxtSymbol } from '../../src/engine/venue/translate.js';
import type { VenueFill, VenueOrder } from '../../src/engine/kernel/types.js';

type ErrorCtor = new (message: string) => Error;

async function ccxtErrors(): Promise<Record<string, ErrorCtor>> {
  // The same module instance ccxt's bingx.js uses (loaded by file URL, as the adapter does).
  const url = new URL('./src/base/errors.js', import.meta.resolve('ccxt'));
  return (await import(url.href)) as Record<string, ErrorCtor>;
}

test('ccxt exceptions map to the kernel meaning (the table in the report)', async () => {
  const E = await ccxtErrors();
  const now = 1_700_000_000_000;
  const cases: Array<[Error, string]> = [
    [new E['RateLimitExceeded']!('bingx GET https://x/openApi?a=1 429 Too Many Requests'), 'rate_limited'],
    [new E['DDoSProtection']!('bingx {"code":429}'), 'rate_limited'],
    [new E['OperationFailed']!(`bingx {"code":100410,"msg":"rate limited, unblocked at ${now + 7000}"}`), 'rate_limited'],
    [new E['AuthenticationError']!('bingx {"code":100001,"msg":"Signature verification failed"}'), 'auth'],
    [new E['PermissionDenied']!('bingx {"code":100419,"msg":"IP does not match IP whitelist"}'), 'auth'],
    [new E['InvalidOrder']!('bingx {"code":110425,"msg":"min notional"}'), 'rejected'],
    [new E['InsufficientFunds']!('bingx {"code":101204,"msg":"Insufficient margin"}'), 'rejected'],
    [new E['BadRequest']!('bingx {"code":80014,"msg":"Invalid parameters"}'), 'rejected'],
    [new E['ExchangeError']!('bingx {"code":101290,"msg":"Reduce Only order can only decrease your position"}'), 'reduce_only'],
    // BingX's codes that ccxt leaves as plain ExchangeError (or maps for another meaning):
    [new E['ExchangeError']!('bingx {"code":80018,"msg":"order is already filled or cancelled"}'), 'already_closed'],
    [new E['ExchangeError']!('bingx {"code":101400,"msg":"clientOrderID unique check failed"}'), 'duplicate_client_id'],
    [new E['ExchangeError']!('bingx {"code":101400,"msg":"The minimum order amount is 0.0001 BTC."}'), 'rejected'],
    [new E['ExchangeError']!('bingx {"code":109400,"msg":"timestamp is invalid"}'), 'clock'],
    [new E['BadSymbol']!('bingx {"code":100421,"msg":"Null timestamp or timestamp mismatch"}'), 'clock'],
    [new E['BadSymbol']!('bingx {"code":100421,"msg":"This pair is currently restricted from API trading"}'), 'rejected'],
    [new E['ExchangeError']!(`bingx {"code":109400,"msg":"In the One-way mode, the 'PositionSide' field can only be set to BOTH."}`), 'rejected'],
    [new E['OrderNotFound']!('bingx {"code":80016,"msg":"order not exist"}'), 'not_found'],
    [new E['ExchangeError']!('bingx {"code":80019,"msg":"request timeout"}'), 'unknown'],
    [new E['ExchangeError']!('bingx {"code":504,"msg":"gateway timeout"}'), 'unknown'],
    [new E['RequestTimeout']!('bingx POST https://x/openApi?sig=1 request timed out (10 ms)'), 'unknown'],
    [new E['ExchangeNotAvailable']!('bingx GET https://x 503 Service Unavailable'), 'unknown'],
    [new E['NetworkError']!('bingx POST https://x fetch failed: socket hang up'), 'unknown'],
    [new TypeError('cannot read properties of undefined'), 'unknown'],
  ];
  for (const [err, kind] of cases) assert.equal(classify(err, now).cls.kind, kind, `${err.constructor.name}: ${err.message}`);
  const limited = classify(cases[2]![0], now).cls;
  assert.deepEqual(limited, { kind: 'rate_limited', retry_after_ms: 7000 });
  assert.equal(classify(cases[2]![0], now).code, '100410');
  assert.equal(retryAfterMs('no time here', now), undefined);
  // The echoed URL's timestamp is not the unblock time.
  assert.equal(retryAfterMs(`bingx POST http://h/openApi/x?timestamp=${now - 9}&signature=ab 429 rate limited, unblocked time: ${now + 2500}`, now), 2500);
  assert.equal(retryAfterMs(`unblocked at ${now - 5}`, now), 0);
});

test('TokenBucket: burst, then the configured rate; Throttle refuses beyond its wait bound', async () => {
  let t = 0;
  const b = new TokenBucket('orders', { rate_per_s: 8, burst: 8 }, () => t);
  for (let i = 0; i < 8; i++) {
    assert.equal(b.waitMs(), 0);
    b.take();
  }
  assert.equal(b.waitMs(), 125); // one token per 1000/8 ms
  t += 125;
  assert.equal(b.waitMs(), 0);
  t += 10_000;
  b.take();
  assert.equal(b.waitMs(), 0, 'refilled, capped at burst');
  // 80% of BingX: 8 orders/s, 4 account reads/s, at most 1600 requests per 10 s per IP.
  assert.equal(BINGX_RATES.orders.rate_per_s, 8);
  assert.equal(BINGX_RATES.account_reads.rate_per_s, 4);
  assert.ok(BINGX_RATES.ip.burst + 10 * BINGX_RATES.ip.rate_per_s <= 1600);
  let now = 0;
  const th = new Throttle({ orders: { rate_per_s: 1, burst: 1 } }, () => now);
  assert.equal(await th.acquire(['orders'], 0), 0);
  assert.equal(await th.acquire(['orders'], 0), 1000, 'refused with the wait it would need');
  now += 1000;
  assert.equal(await th.acquire(['orders'], 0), 0);
});

const order = (coid: string, qty: number, filled = 0): VenueOrder => ({
  client_order_id: coid, venue_order_id: `v-${coid}`, symbol: 'BTC-USDT', side: 'buy', order_type: 'limit', qty, filled_qty: filled, price: 100, reduce_only: false, ts: 1,
});
const fill = (id: string, coid: string, qty: number, ts: number): VenueFill => ({
  fill_id: id, client_order_id: coid, venue_order_id: `v-${coid}`, symbol: 'BTC-USDT', side: 'buy', qty, price: 100, fee: 0.01, ts,
});

test('OrderWatch: fills reported once, attributed by venue order id, vanished orders found', () => {
  const w = new OrderWatch();
  w.watch({ client_order_id: 'pink-a', venue_order_id: 'v-pink-a', symbol: 'BTC-USDT', side: 'buy', qty: 2 });
  // A fill row without a client order id is attributed through the order id.
  const anonymous = { ...fill('f1', '', 1, 10), venue_order_id: 'v-pink-a' };
  const fresh = w.takeNewFills([anonymous, { ...anonymous }]);
  assert.equal(fresh.length, 1, 'same fill id twice in one read: once');
  assert.equal(fresh[0]!.client_order_id, 'pink-a');
  assert.equal(w.takeNewFills([fill('f1', 'pink-a', 1, 10)]).length, 0, 're-read: not again');
  // Off the book with 1 of 2 filled: vanished; a foreign order on the book is not watched.
  const gone = w.offTheBook([order('other-1', 5)]);
  assert.deepEqual(gone.map((g) => [g.client_order_id, g.filled_qty, g.vanished_polls]), [['pink-a', 1, 1]]);
  assert.equal(w.isWatched('other-1'), false);
  // Its last fill arrives: fully filled, dropped without a lookup.
  w.takeNewFills([fill('f2', 'pink-a', 1, 11)]);
  assert.deepEqual(w.offTheBook([]), []);
  assert.equal(w.isWatched('pink-a'), false);
  // A PINK order first seen on the book is watched with the venue's filled quantity.
  w.offTheBook([order('pink-b', 3, 1)]);
  assert.equal(w.isWatched('pink-b'), true);
  // The fill window starts FILL_LOOKBACK_MS before the last successful read.
  w.readSucceeded(1_000_000);
  assert.deepEqual(w.fillWindow(1_005_000), { start_ms: 1_000_000 - FILL_LOOKBACK_MS, end_ms: 1_005_000 });
});

test('symbols convert in one place, both ways', () => {
  assert.equal(toCcxtSymbol('BTC-USDT'), 'BTC/USDT:USDT');
  assert.equal(fromCcxtSymbol('BTC/USDT:USDT'), 'BTC-USDT');
  assert.equal(fromCcxtSymbol('1000PEPE-USDT'), '1000PEPE-USDT');
  assert.equal(fromCcxtSymbol('BTC/USDT'), undefined, 'spot is not PINK');
  assert.equal(fromCcxtSymbol('BTC/USD:BTC'), undefined, 'inverse is not PINK');
  assert.throws(() => toCcxtSymbol('BTC/USDT:USDT'));
});
