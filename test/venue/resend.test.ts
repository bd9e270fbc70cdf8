// The resend policy (resend.ts), the send path that carries it out (sends.ts) and the kernel
// input builders (inputs.ts). The expected inputs below are what ccxt.ts's send path produced
// before the policy became a table (commit fa8efe1): this file pins that behaviour.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { KernelInput, VenueCommand } from '../../src/engine/kernel/types.js';
import { checkEvent, checkOther } from '../../src/engine/kernel/validate.js';
import { VenueReadError } from '../../src/engine/venue/errors.js';
import { accepted, cancelRejected, fill, orderEnded, rateLimited, rejected, sendUnknown, venueUnavailable } from '../../src/engine/venue/inputs.js';
import { CANCEL_TABLE, ERROR_KINDS, PLACE_TABLE, failureOf, resendAction, type ResendAction } from '../../src/engine/venue/resend.js';
import { VenueSends, type SendPort } from '../../src/engine/venue/sends.js';
import { ThrottledError } from '../../src/engine/venue/throttle.js';
import { eventId } from '../../src/engine/venue/translate.js';
import type { LookedUpOrder } from '../../src/engine/venue/types.js';
import { OrderWatch } from '../../src/engine/venue/watch.js';

type ErrorCtor = new (message: string) => Error;
async function ccxtErrors(): Promise<Record<string, ErrorCtor>> {
  const url = new URL('./src/base/errors.js', import.meta.resolve('ccxt'));
  return (await import(url.href)) as Record<string, ErrorCtor>;
}

const PLACE_ACTIONS = new Set<ResendAction>(['retry_later', 'refuse_key', 'refuse', 'refuse_clock', 'adopt_existing', 'unknown', 'unknown_look_first']);
const CANCEL_ACTIONS = new Set<ResendAction>(['retry_later', 'refuse_key', 'refuse', 'check_closed', 'unknown']);

test('the resend table has a row for every error class at every reach, each an action its command can carry out', () => {
  assert.deepEqual(Object.keys(PLACE_TABLE).sort(), ['read_failed', 'sent', 'unsent']);
  assert.deepEqual(Object.keys(CANCEL_TABLE).sort(), ['sent', 'unsent']);
  for (const [reach, row] of Object.entries(PLACE_TABLE)) {
    assert.deepEqual(Object.keys(row).sort(), [...ERROR_KINDS].sort(), `PLACE ${reach}`);
    for (const [kind, action] of Object.entries(row)) assert.ok(PLACE_ACTIONS.has(action), `PLACE ${reach} ${kind}: ${action}`);
  }
  for (const [reach, row] of Object.entries(CANCEL_TABLE)) {
    assert.deepEqual(Object.keys(row).sort(), [...ERROR_KINDS].sort(), `CANCEL ${reach}`);
    for (const [kind, action] of Object.entries(row)) assert.ok(CANCEL_ACTIONS.has(action), `CANCEL ${reach} ${kind}: ${action}`);
  }
});

test('the resend table is the policy the send path had (pinned, row by row)', () => {
  const all = (a: ResendAction) => Object.fromEntries(ERROR_KINDS.map((k) => [k, a]));
  assert.deepEqual(PLACE_TABLE, {
    unsent: all('retry_later'),
    read_failed: { ...all('unknown'), rate_limited: 'retry_later' },
    sent: {
      rate_limited: 'retry_later',
      auth: 'refuse_key',
      not_found: 'refuse',
      clock: 'refuse_clock',
      duplicate_client_id: 'adopt_existing',
      already_closed: 'refuse',
      reduce_only: 'refuse',
      rejected: 'refuse',
      unknown: 'unknown_look_first',
    },
  });
  assert.deepEqual(CANCEL_TABLE, {
    unsent: all('retry_later'),
    sent: { ...all('refuse'), rate_limited: 'retry_later', auth: 'refuse_key', already_closed: 'check_closed', unknown: 'unknown' },
  });
});

test('failureOf: pink throttle is unsent; a failed read is read_failed for a place only; the rest is classified as sent', async () => {
  const E = await ccxtErrors();
  const redact = (t: string) => `<${t}>`;
  assert.deepEqual(failureOf('PLACE', new ThrottledError(700), 1, redact), {
    reach: 'unsent',
    cls: { kind: 'rate_limited', retry_after_ms: 700 },
    reason: '<pink throttle: request budget exhausted, retry after 700 ms>',
  });
  const limited = new VenueReadError({ type: 'RATE_LIMITED', ts: 5, reason: 'busy', retry_after_ms: 9 });
  assert.deepEqual(failureOf('PLACE', limited, 1, redact), { reach: 'read_failed', cls: { kind: 'rate_limited', retry_after_ms: 9 }, reason: 'busy', read_ts: 5 });
  const key = new VenueReadError({ type: 'VENUE_UNAVAILABLE', ts: 6, reason: 'venue refused the API key: x' }, true);
  assert.equal(failureOf('PLACE', key, 1, redact).cls.kind, 'auth');
  assert.equal(failureOf('PLACE', new VenueReadError({ type: 'VENUE_UNAVAILABLE', ts: 6, reason: 'down' }), 1, redact).cls.kind, 'unknown');
  // A cancel's failed read (the clock sync) is read by its text, like any error.
  assert.deepEqual(failureOf('CANCEL', limited, 1, redact), { reach: 'sent', cls: { kind: 'unknown' }, reason: '<busy>' });
  assert.deepEqual(failureOf('CANCEL', new E['InvalidOrder']!('bingx {"code":1,"msg":"no"}'), 1, redact), { reach: 'sent', cls: { kind: 'rejected' }, reason: '<bingx {"code":1,"msg":"no"}>' });
  assert.throws(() => resendAction('CANCEL', { reach: 'read_failed', cls: { kind: 'unknown' } }));
});

// ---- the send path against a fake exchange --------------------------------------------------

const TS = 1_700_000_000_000;
const NOW = Date.now();
const place = (coid: string): VenueCommand => ({ kind: 'PLACE', client_order_id: coid, intent_id: 'i', symbol: 'BTC-USDT', side: 'buy', order_type: 'market', qty: 0.01, reduce_only: false }) as VenueCommand;
const cancel = (coid: string, venue_order_id?: string): VenueCommand => ({ kind: 'CANCEL', client_order_id: coid, intent_id: 'i', symbol: 'BTC-USDT', ...(venue_order_id ? { venue_order_id } : {}) }) as VenueCommand;

interface Fake {
  sends: VenueSends;
  created: string[];
  looked: string[];
  /** What createOrder / cancelOrder throw next (undefined: they succeed). */
  fail: { create?: unknown; cancel?: unknown; lookup?: unknown; pace?: unknown };
  found: Map<string, LookedUpOrder>;
}

function fake(): Fake {
  const f: Fake = { sends: undefined as unknown as VenueSends, created: [], looked: [], fail: {}, found: new Map() };
  const ex = {
    amountToPrecision: (_s: string, q: number) => q.toFixed(4),
    createOrder: async (_s: string, _t: string, _side: string, qty: number, _p: unknown, params: { clientOrderID: string }) => {
      if (f.fail.create !== undefined) throw f.fail.create;
      f.created.push(params.clientOrderID);
      return { id: `v-${params.clientOrderID}`, amount: qty };
    },
    cancelOrder: async () => {
      if (f.fail.cancel !== undefined) throw f.fail.cancel;
      return {};
    },
  };
  const port: SendPort = {
    ex: ex as unknown as SendPort['ex'],
    watch: new OrderWatch(),
    paced: async (_b, fn) => {
      if (f.fail.pace !== undefined) throw f.fail.pace;
      return fn();
    },
    lookupOrder: async (coid) => {
      f.looked.push(coid);
      if (f.fail.lookup !== undefined) throw f.fail.lookup;
      return f.found.get(coid) ?? null;
    },
    redact: (t) => `<${t}>`,
    skewMs: () => 42,
  };
  f.sends = new VenueSends(port);
  return f;
}

const looked = (coid: string, status: LookedUpOrder['status'], qty = 0.01): LookedUpOrder => ({ client_order_id: coid, venue_order_id: `v-${coid}`, symbol: 'BTC-USDT', side: 'buy', qty, price: 0, ts: TS, status }) as LookedUpOrder;

test('place failures become the inputs the send path reported before the table', async () => {
  const E = await ccxtErrors();
  const msg = (code: number, text: string) => `bingx {"code":${code},"msg":"${text}"}`;
  const cases: Array<[string, Error, KernelInput[]]> = [
    ['rate limited', new E['RateLimitExceeded']!(msg(100410, `unblocked at ${NOW + 60_000}`)), []],
    ['auth', new E['AuthenticationError']!(msg(100001, 'Signature verification failed')), []],
    ['not found', new E['OrderNotFound']!(msg(80016, 'order not exist')), []],
    ['clock', new E['ExchangeError']!(msg(109400, 'timestamp is invalid')), []],
    ['too late', new E['ExchangeError']!(msg(80018, 'order is already filled or cancelled')), []],
    ['reduce only', new E['ExchangeError']!(msg(101290, 'Reduce Only order can only decrease your position')), []],
    ['rejected', new E['InvalidOrder']!(msg(110425, 'min notional')), []],
    ['unknown', new E['RequestTimeout']!('bingx GET timed out'), []],
  ];
  for (const [name, err] of cases) {
    const f = fake();
    f.fail.create = err;
    const out = await f.sends.send([place('c1')], TS);
    const reason = `<${err.message}>`;
    const expected: Record<string, KernelInput[]> = {
      auth: [
        { type: 'EVENT', ts: TS, event: { event_id: 'rejected:c1', kind: 'REJECTED', client_order_id: 'c1', ts: TS, reason: `venue refused the API key: ${reason}` } },
        { type: 'VENUE_UNAVAILABLE', ts: TS, reason: `venue refused the API key: ${reason}` },
      ],
      clock: [{ type: 'EVENT', ts: TS, event: { event_id: 'rejected:c1', kind: 'REJECTED', client_order_id: 'c1', ts: TS, reason: `venue refused the request's timestamp after a clock sync (skew 42 ms): ${reason}` } }],
      unknown: [{ type: 'SEND_UNKNOWN', ts: TS, client_order_id: 'c1', reason }],
    };
    const refused = [{ type: 'EVENT', ts: TS, event: { event_id: 'rejected:c1', kind: 'REJECTED', client_order_id: 'c1', ts: TS, reason } }];
    if (name === 'rate limited') {
      assert.equal(out.length, 1);
      const r = out[0]!;
      assert.ok(r.type === 'RATE_LIMITED' && r.client_order_id === 'c1' && r.ts === TS && r.reason === reason, name);
      assert.ok(r.retry_after_ms !== undefined && r.retry_after_ms > 50_000 && r.retry_after_ms <= 60_000, `${name}: retry_after_ms ${r.retry_after_ms}`);
    } else {
      assert.deepEqual(out, expected[name] ?? refused, name);
    }
    // Only a send without an answer makes the next send of the id look first.
    f.fail.create = undefined;
    await f.sends.send([place('c1')], TS + 1);
    assert.deepEqual(f.looked, name === 'unknown' ? ['c1'] : [], `${name}: looks before the resend`);
  }
});

test('a send without an answer: the resend looks first and reports the order it finds, sending nothing', async () => {
  const E = await ccxtErrors();
  const f = fake();
  f.fail.create = new E['RequestTimeout']!('timed out');
  await f.sends.send([place('c1')], TS);
  f.fail.create = undefined;
  f.found.set('c1', looked('c1', 'open', 0.009));
  assert.deepEqual(await f.sends.send([place('c1')], TS + 1), [accepted(TS + 1, 'c1', 'v-c1', 0.009)]);
  assert.deepEqual(f.created, []);
  // Found once, the id is forgotten: a later send of it sends.
  f.found.clear();
  await f.sends.send([place('c1')], TS + 2);
  assert.deepEqual(f.created, ['c1']);
  assert.deepEqual(f.looked, ['c1']);
});

test('a failed look before a resend: RATE_LIMITED keeps the read (its time, its reason); any other failure is SEND_UNKNOWN', async () => {
  const E = await ccxtErrors();
  const f = fake();
  f.fail.create = new E['RequestTimeout']!('timed out');
  await f.sends.send([place('c1')], TS);
  f.fail.create = undefined;
  f.fail.lookup = new VenueReadError({ type: 'RATE_LIMITED', ts: TS + 5, reason: 'read limited', retry_after_ms: 3000 });
  assert.deepEqual(await f.sends.send([place('c1'), place('c2')], TS + 1), [
    { type: 'RATE_LIMITED', ts: TS + 5, client_order_id: 'c1', reason: 'read limited', retry_after_ms: 3000 },
    { type: 'RATE_LIMITED', ts: TS + 1, client_order_id: 'c2', reason: 'not sent: read limited', retry_after_ms: 3000 },
  ]);
  f.fail.lookup = new VenueReadError({ type: 'VENUE_UNAVAILABLE', ts: TS + 5, reason: 'down' });
  assert.deepEqual(await f.sends.send([place('c1')], TS + 2), [{ type: 'SEND_UNKNOWN', ts: TS + 2, client_order_id: 'c1', reason: 'down' }]);
  // Still remembered: the next send looks again.
  f.fail.lookup = undefined;
  await f.sends.send([place('c1')], TS + 3);
  assert.deepEqual(f.looked, ['c1', 'c1', 'c1']);
  assert.deepEqual(f.created, ['c1']);
});

test('a duplicate client id is the earlier send: ACCEPTED when found, else SEND_UNKNOWN and looked for next time; never REJECTED', async () => {
  const E = await ccxtErrors();
  const dup = new E['ExchangeError']!('bingx {"code":101400,"msg":"clientOrderID unique check failed"}');
  for (const lookup of ['found', 'none', 'fails'] as const) {
    const f = fake();
    f.fail.create = dup;
    if (lookup === 'found') f.found.set('c1', looked('c1', 'filled', 0.01));
    if (lookup === 'fails') f.fail.lookup = new VenueReadError({ type: 'VENUE_UNAVAILABLE', ts: TS, reason: 'down' });
    const out = await f.sends.send([place('c1')], TS);
    assert.deepEqual(
      out,
      lookup === 'found'
        ? [accepted(TS, 'c1', 'v-c1', 0.01)]
        : [{ type: 'SEND_UNKNOWN', ts: TS, client_order_id: 'c1', reason: `the venue has an order with this client id but it could not be read back: <${dup.message}>` }],
      lookup,
    );
    f.fail.create = undefined;
    f.fail.lookup = undefined;
    await f.sends.send([place('c1')], TS + 1);
    assert.deepEqual(f.looked, lookup === 'found' ? ['c1'] : ['c1', 'c1'], `${lookup}: looks before the resend`);
  }
});

test("pink's own throttle: RATE_LIMITED unsent, and the rest of the batch refused unsent with its retry", async () => {
  const f = fake();
  f.fail.pace = new ThrottledError(1500);
  const reason = '<pink throttle: request budget exhausted, retry after 1500 ms>';
  assert.deepEqual(await f.sends.send([place('c1'), cancel('c2', 'v2'), place('c3')], TS), [
    { type: 'RATE_LIMITED', ts: TS, client_order_id: 'c1', retry_after_ms: 1500, reason },
    { type: 'RATE_LIMITED', ts: TS, client_order_id: 'c2', retry_after_ms: 1500, reason: `not sent: ${reason}` },
    { type: 'RATE_LIMITED', ts: TS, client_order_id: 'c3', retry_after_ms: 1500, reason: `not sent: ${reason}` },
  ]);
  assert.deepEqual(await f.sends.send([cancel('c2', 'v2')], TS), [{ type: 'RATE_LIMITED', ts: TS, client_order_id: 'c2', retry_after_ms: 1500, reason }]);
});

test('cancel failures become the inputs the send path reported before the table', async () => {
  const E = await ccxtErrors();
  const msg = (code: number, text: string) => `bingx {"code":${code},"msg":"${text}"}`;
  const refused = (reason: string) => [{ type: 'EVENT', ts: TS, event: { event_id: `cancel_rejected:c1:${TS}`, kind: 'CANCEL_REJECTED', client_order_id: 'c1', ts: TS, reason } }];
  const f = fake();
  const run = async (err: unknown) => {
    f.fail.cancel = err;
    return f.sends.send([cancel('c1', 'v-c1')], TS);
  };
  assert.deepEqual(await run(undefined), [{ type: 'EVENT', ts: TS, event: { event_id: 'canceled:c1', kind: 'CANCELED', client_order_id: 'c1', ts: TS, venue_order_id: 'v-c1' } }]);
  f.fail.cancel = undefined;
  assert.deepEqual(await f.sends.send([cancel('c9')], TS), [{ type: 'EVENT', ts: TS, event: { event_id: 'canceled:c9', kind: 'CANCELED', client_order_id: 'c9', ts: TS } }]);
  for (const err of [
    new E['ExchangeError']!(msg(109400, 'timestamp is invalid')),
    new E['ExchangeError']!(msg(101400, 'clientOrderID unique check failed')),
    new E['ExchangeError']!(msg(101290, 'Reduce Only order can only decrease your position')),
    new E['OrderNotFound']!(msg(80016, 'order not exist')),
    new E['InvalidOrder']!(msg(1, 'no')),
  ]) {
    assert.deepEqual(await run(err), refused(`<${err.message}>`), err.message);
  }
  const key = new E['PermissionDenied']!(msg(100419, 'IP does not match IP whitelist'));
  assert.deepEqual(await run(key), [...refused(`venue refused the API key: <${key.message}>`), { type: 'VENUE_UNAVAILABLE', ts: TS, reason: `venue refused the API key: <${key.message}>` }]);
  const timeout = new E['RequestTimeout']!('timed out');
  assert.deepEqual(await run(timeout), [{ type: 'SEND_UNKNOWN', ts: TS, client_order_id: 'c1', reason: '<timed out>' }]);
  // A cancel is never looked for before it is sent again.
  assert.deepEqual(f.looked, []);
  const limited = new E['DDoSProtection']!('bingx {"code":429}');
  assert.deepEqual(await run(limited), [{ type: 'RATE_LIMITED', ts: TS, client_order_id: 'c1', reason: '<bingx {"code":429}>' }]);
  // 80018: how the order ended decides.
  const late = new E['ExchangeError']!(msg(80018, 'order is already filled or cancelled'));
  f.found.set('c1', looked('c1', 'canceled'));
  assert.deepEqual(await run(late), [{ type: 'EVENT', ts: TS, event: { event_id: 'canceled:c1', kind: 'CANCELED', client_order_id: 'c1', venue_order_id: 'v-c1', ts: TS, reason: 'already cancelled at the venue' } }]);
  f.found.set('c1', looked('c1', 'filled'));
  assert.deepEqual(await run(late), refused(`<${late.message}> (the order is filled at the venue)`));
  f.found.clear();
  assert.deepEqual(await run(late), refused(`<${late.message}> (the order is not readable at the venue)`));
});

// ---- the builders ------------------------------------------------------------------------

const id = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim().length > 0);
const ts = fc.integer({ min: 0, max: 4_000_000_000_000 });

/** The kernel's own checks of an input (kernel/validate.ts), and no field present but undefined. */
function valid(input: KernelInput): string | null {
  const undef = JSON.stringify(input, (_k, v: unknown) => (v === undefined ? '__undefined__' : v)).includes('__undefined__');
  if (undef) return 'a field is present but undefined';
  return input.type === 'EVENT' ? checkEvent(input.event) : checkOther(input);
}

test('the builders make inputs the kernel accepts, with their deterministic event ids', () => {
  fc.assert(
    fc.property(ts, id, fc.string(), fc.option(fc.integer({ min: 0, max: 3_600_000 }), { nil: undefined }), fc.option(id, { nil: undefined }), (t, coid, reason, retry, rl_coid) => {
      const r = rateLimited({ ts: t, reason, retry_after_ms: retry, client_order_id: rl_coid });
      assert.equal(valid(r), null);
      assert.deepEqual(r, { type: 'RATE_LIMITED', ts: t, reason, ...(rl_coid === undefined ? {} : { client_order_id: rl_coid }), ...(retry === undefined ? {} : { retry_after_ms: retry }) });
      assert.deepEqual(venueUnavailable(t, reason), { type: 'VENUE_UNAVAILABLE', ts: t, reason });
      assert.deepEqual(sendUnknown(t, coid, reason), { type: 'SEND_UNKNOWN', ts: t, client_order_id: coid, reason });
      for (const x of [venueUnavailable(t, reason), sendUnknown(t, coid, reason)]) assert.equal(valid(x), null);
      const events: Array<[KernelInput, string, string]> = [
        [accepted(t, coid, 'v1', 0.5), eventId.accepted(coid), 'ACCEPTED'],
        [rejected(t, coid, reason), eventId.rejected(coid), 'REJECTED'],
        [cancelRejected(t, coid, reason), eventId.cancelRejected(coid, t), 'CANCEL_REJECTED'],
        [orderEnded('CANCELED', t, coid), eventId.canceled(coid), 'CANCELED'],
        [orderEnded('EXPIRED', t, coid, 'v1', reason), eventId.expired(coid), 'EXPIRED'],
      ];
      for (const [x, event_id, kind] of events) {
        assert.equal(valid(x), null, kind);
        assert.ok(x.type === 'EVENT' && x.ts === t && x.event.ts === t && x.event.event_id === event_id && x.event.kind === kind && x.event.client_order_id === coid, kind);
      }
    }),
  );
});

test('fill(): the venue fill as a FILL event, at the venue fill time, applied once per fill id', () => {
  fc.assert(
    fc.property(ts, ts, id, id, fc.double({ min: 0.001, max: 100, noNaN: true }), fc.double({ min: 1, max: 100_000, noNaN: true }), (t, fill_ts, fill_id, coid, qty, price) => {
      const x = fill(t, { fill_id, client_order_id: coid, venue_order_id: 'v1', symbol: 'BTC-USDT', side: 'buy', qty, price, fee: 0.1, ts: fill_ts });
      assert.equal(valid(x), null);
      assert.deepEqual(x, { type: 'EVENT', ts: t, event: { event_id: eventId.fill(fill_id), kind: 'FILL', client_order_id: coid, venue_order_id: 'v1', qty, price, fee: 0.1, fill_id, ts: fill_ts } });
    }),
  );
});
