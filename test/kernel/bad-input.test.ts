// apply() never throws for a bad input: it refuses it with an outcome and changes nothing
// (the checkpoint before and after is byte-identical).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { KernelInput } from '../../src/engine/kernel/types.js';
import { BTC, Harness, coid } from './harness.js';

function scenario(): { h: Harness; coid: string } {
  const h = new Harness();
  h.tick({ [BTC]: 100 });
  const coid = h.open('e1', BTC, 'long', 2, 100);
  h.exit('x1', BTC, { qty: 1 });
  return { h, coid };
}

const ts = 1_800_000_000_000;
const intent = (fields: Record<string, unknown>): KernelInput => ({ type: 'INTENT', ts, intent: { intent_id: 'bad', symbol: BTC, action: 'ENTER', side: 'long', qty: 1, reason: 'r', ...fields } } as KernelInput);
const event = (fields: Record<string, unknown>): KernelInput =>
  ({ type: 'EVENT', ts, event: { event_id: 'bad-ev', kind: 'FILL', client_order_id: coid('x1'), qty: 1, price: 100, fee: 0, fill_id: 'bad-fill', ts, ...fields } } as KernelInput);

const CASES: Array<[string, unknown, string]> = [
  ['negative qty', intent({ qty: -1 }), 'INVALID_INTENT'],
  ['zero qty', intent({ qty: 0 }), 'INVALID_INTENT'],
  ['NaN qty', intent({ qty: Number.NaN }), 'INVALID_INTENT'],
  ['infinite notional', intent({ qty: undefined, notional: Number.POSITIVE_INFINITY }), 'INVALID_INTENT'],
  ['qty and notional', intent({ notional: 100 }), 'INVALID_INTENT'],
  ['ENTER without side', intent({ side: undefined }), 'INVALID_INTENT'],
  ['bad side', intent({ side: 'up' }), 'INVALID_INTENT'],
  ['fraction above 1', intent({ action: 'EXIT', qty: undefined, side: undefined, fraction: 1.5 }), 'INVALID_INTENT'],
  ['EXIT with no size', intent({ action: 'EXIT', qty: undefined, side: undefined }), 'INVALID_INTENT'],
  ['limit without price', intent({ order_type: 'limit' }), 'INVALID_INTENT'],
  ['missing intent_id', intent({ intent_id: undefined }), 'INVALID_INTENT'],
  ['missing reason', intent({ reason: undefined }), 'INVALID_INTENT'],
  ['unknown action', intent({ action: 'BUY' }), 'INVALID_INTENT'],
  ['intent not an object', { type: 'INTENT', ts, intent: 'ENTER BTC' }, 'INVALID_INTENT'],
  ['unknown symbol', intent({ symbol: 'DOGE-USDT' }), 'UNKNOWN_SYMBOL'],
  ['ENTER while OPEN', intent({ intent_id: 'fresh' }), 'INVALID_TRANSITION'],
  ['event for an unknown order', event({ client_order_id: 'pink-nope' }), 'UNKNOWN_ORDER'],
  ['FILL without fill_id', event({ fill_id: undefined }), 'INVALID_INPUT'],
  ['FILL with NaN price', event({ price: Number.NaN }), 'INVALID_INPUT'],
  ['FILL with negative qty', event({ qty: -1 }), 'INVALID_INPUT'],
  ['event without kind', event({ kind: undefined }), 'INVALID_INPUT'],
  ['event without event_id', event({ event_id: '' }), 'INVALID_INPUT'],
  ['event not an object', { type: 'EVENT', ts, event: null }, 'INVALID_INPUT'],
  ['TICK with NaN mark', { type: 'TICK', ts, marks: { [BTC]: Number.NaN } }, 'INVALID_INPUT'],
  ['TICK with negative mark', { type: 'TICK', ts, marks: { [BTC]: -5 } }, 'INVALID_INPUT'],
  ['TICK without marks', { type: 'TICK', ts }, 'INVALID_INPUT'],
  ['NaN ts', { type: 'TICK', ts: Number.NaN, marks: {} }, 'INVALID_INPUT'],
  ['negative ts', { type: 'VENUE_OK', ts: -1 }, 'INVALID_INPUT'],
  ['missing ts', { type: 'VENUE_OK' }, 'INVALID_INPUT'],
  ['unknown input type', { type: 'PING', ts }, 'INVALID_INPUT'],
  ['null input', null, 'INVALID_INPUT'],
  ['a string', 'TICK', 'INVALID_INPUT'],
  ['RATE_LIMITED with negative retry', { type: 'RATE_LIMITED', ts, retry_after_ms: -1, reason: 'x' }, 'INVALID_INPUT'],
  ['SEND_UNKNOWN without order', { type: 'SEND_UNKNOWN', ts, reason: 'x' }, 'INVALID_INPUT'],
  ['SEND_UNKNOWN for an unknown order', { type: 'SEND_UNKNOWN', ts, client_order_id: 'pink-zzz', reason: 'x' }, 'UNKNOWN_ORDER'],
  ['FUNDING with NaN amount', { type: 'FUNDING', ts, symbol: BTC, amount_usdt: Number.NaN, funding_id: 'f' }, 'INVALID_INPUT'],
  ['RECONCILE without snapshot', { type: 'RECONCILE', ts }, 'INVALID_INPUT'],
  ['RECONCILE with a NaN position', { type: 'RECONCILE', ts, snapshot: { ts, balance_usdt: null, marks: {}, positions: [{ symbol: BTC, side: 'long', qty: Number.NaN, entry_price: 1 }], open_orders: [], fills: [] } }, 'INVALID_INPUT'],
  ['RECONCILE with a fill missing its id', { type: 'RECONCILE', ts, snapshot: { ts, balance_usdt: 1, marks: {}, positions: [], open_orders: [], fills: [{ client_order_id: 'pink-a', symbol: BTC, qty: 1, price: 1, fee: 0, ts }] } }, 'INVALID_INPUT'],
];

for (const [name, input, code] of CASES) {
  test(`bad input refused without a state change: ${name}`, () => {
    const { h } = scenario();
    const before = h.k.checkpoint();
    const out = h.k.apply(input as KernelInput);
    assert.equal(out.length, 1);
    assert.equal(out[0]!.diagnostic_code, code, JSON.stringify(out[0]!.details));
    assert.equal(out[0]!.commands.length, 0, 'nothing sent');
    assert.equal(typeof out[0]!.details.reason, 'string');
    assert.equal(h.k.checkpoint(), before, 'state unchanged');
    if (out[0]!.severity !== 'INFO') assert.ok(out[0]!.rows.some((r) => r.family === 'anomalies'), 'an anomalies row above INFO');
  });
}

test('a refused input still gets unique, deterministic row ids', () => {
  const { h } = scenario();
  const a = h.k.apply(CASES[0]![1] as KernelInput);
  const b = h.k.apply(CASES[1]![1] as KernelInput);
  const again = h.k.apply(CASES[0]![1] as KernelInput);
  const ids = (o: typeof a): string[] => o.flatMap((x) => x.rows.map((r) => r.row.row_id));
  assert.notDeepEqual(ids(a), ids(b));
  assert.deepEqual(ids(again), ids(a), 'the same refused input at the same point gives the same ids');
});

test('arbitrary junk never throws and never changes state (fuzz)', () => {
  const { h } = scenario();
  const before = h.k.checkpoint();
  const refusals = new Set(['INVALID_INPUT', 'INVALID_INTENT', 'UNKNOWN_SYMBOL', 'UNKNOWN_ORDER']);
  const junk = fc.oneof(
    fc.anything(),
    fc.record({ type: fc.constantFrom('INTENT', 'EVENT', 'SEND_UNKNOWN', 'RECONCILE', 'FUNDING', 'TICK'), ts: fc.oneof(fc.double(), fc.string(), fc.constant(undefined)) }),
    fc.record({ type: fc.constant('INTENT'), ts: fc.nat(), intent: fc.oneof(fc.anything(), fc.record({ intent_id: fc.string(), symbol: fc.string(), action: fc.constantFrom('ENTER', 'EXIT', 'CANCEL'), qty: fc.anything(), side: fc.anything(), reason: fc.anything() })) }),
    fc.record({ type: fc.constant('EVENT'), ts: fc.nat(), event: fc.oneof(fc.anything(), fc.record({ event_id: fc.anything(), kind: fc.constantFrom('FILL', 'ACCEPTED', 'NOPE'), client_order_id: fc.string(), qty: fc.anything(), price: fc.anything(), fill_id: fc.anything(), ts: fc.anything() })) }),
    fc.record({ type: fc.constant('RECONCILE'), ts: fc.nat(), snapshot: fc.anything() }),
    fc.record({ type: fc.constant('SEND_UNKNOWN'), ts: fc.nat(), client_order_id: fc.anything(), reason: fc.anything() }),
  );
  fc.assert(
    fc.property(junk, (input) => {
      const out = h.k.apply(input as KernelInput);
      assert.equal(out.length, 1);
      assert.ok(refusals.has(out[0]!.diagnostic_code), `${out[0]!.diagnostic_code}: ${JSON.stringify(out[0]!.details)}`);
      assert.equal(h.k.checkpoint(), before);
    }),
    { seed: 7, numRuns: 3000 },
  );
});
