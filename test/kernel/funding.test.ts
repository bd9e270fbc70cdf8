// Issue 20: funding ids delivered twice, out of order and across a restart (checkpoint → restore,
// inputs through JSON as the journal keeps them): each id moves capital once and writes one
// `funding` row, whatever the delivery; a duplicate writes nothing and changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Kernel, FUNDING_IDS_MAX } from '../../src/engine/kernel/index.js';
import type { KernelInput, KernelOutcome, RowOut } from '../../src/engine/kernel/types.js';
import { CONFIG } from './harness.js';

const SEED = Number(process.env['PINK_PROPERTY_SEED'] ?? 20240611);
const SYMBOLS = ['BTC-USDT', 'ETH-USDT'];

interface Payment {
  id: string;
  symbol: string;
  amount: number;
  funding_ts: number;
  rate: number;
  qty: number;
  mark: number;
}

const paymentArb = (i: number) =>
  fc.record({
    symbol: fc.constantFrom(...SYMBOLS),
    amount: fc.double({ min: -50, max: 50, noNaN: true, noDefaultInfinity: true }),
    rate: fc.double({ min: -0.003, max: 0.003, noNaN: true, noDefaultInfinity: true }),
    qty: fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true }),
    mark: fc.double({ min: 1, max: 100_000, noNaN: true, noDefaultInfinity: true }),
    known: fc.boolean(),
  }).map((p): Payment & { known: boolean } => ({ id: `tran-${i}`, funding_ts: 1_700_000_000_000 + i * 8 * 3600_000, ...p }));

/** Payments, then a delivery: each payment 1 to 3 times, in any order, and where to restart. */
const scenario = fc
  .integer({ min: 1, max: 40 })
  .chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => paymentArb(i))))
  .chain((payments) =>
    fc.record({
      payments: fc.constant(payments),
      copies: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: payments.length, maxLength: payments.length }),
      order: fc.array(fc.nat(), { minLength: payments.length * 3, maxLength: payments.length * 3 }),
      cut: fc.nat(),
    }),
  );

function input(p: Payment & { known: boolean }, ts: number): KernelInput {
  // A payment the venue could not complete (no rate or mark) comes without those fields.
  return {
    type: 'FUNDING', ts, symbol: p.symbol, amount_usdt: p.amount, funding_id: p.id, funding_ts: p.funding_ts,
    ...(p.known ? { rate: p.rate, position_qty: p.qty, mark_price: p.mark } : {}),
  };
}

test('property: each funding id applied once, one funding row each, whatever the duplicates, order and restart', () => {
  fc.assert(
    fc.property(scenario, ({ payments, copies, order, cut }) => {
      // The delivery: every copy, shuffled by `order` (a stable sort on random keys).
      const deliveries = payments.flatMap((p, i) => Array.from({ length: copies[i]! }, () => p));
      const keyed = deliveries.map((p, i) => ({ p, k: order[i] ?? 0, i })).sort((a, b) => a.k - b.k || a.i - b.i);
      const inputs = keyed.map(({ p }, i) => input(p, 1_800_000_000_000 + i));
      const at = cut % (inputs.length + 1);
      let kernel = new Kernel(CONFIG);
      const outcomes: KernelOutcome[] = [];
      inputs.forEach((inp, i) => {
        // The restart: the checkpoint's text, and the rest of the inputs as the journal gives them back.
        if (i === at) kernel = Kernel.restore(kernel.checkpoint());
        outcomes.push(...kernel.apply(JSON.parse(JSON.stringify(inp)) as KernelInput));
      });
      const rows: RowOut[] = outcomes.flatMap((o) => o.rows).filter((r) => r.family === 'funding');
      const applied = outcomes.filter((o) => o.diagnostic_code === 'FUNDING_APPLIED');
      const dups = outcomes.filter((o) => o.diagnostic_code === 'DUPLICATE_EVENT');
      assert.equal(applied.length, payments.length, 'one FUNDING_APPLIED per id');
      assert.equal(dups.length, deliveries.length - payments.length, 'every other delivery refused');
      assert.ok(dups.every((o) => o.rows.length === 0), 'a duplicate writes nothing');
      assert.deepEqual(rows.map((r) => r.row['funding_id']).sort(), payments.map((p) => p.id).sort(), 'one row per id');
      assert.equal(new Set(rows.map((r) => r.row.row_id)).size, rows.length, 'row ids unique');
      for (const r of rows) {
        const p = payments.find((x) => x.id === r.row['funding_id'])!;
        assert.deepEqual(
          [r.row['symbol'], r.row['amount_usdt'], r.row['ts'], r.row['rate'], r.row['position_qty'], r.row['mark_price']],
          // Through JSON (the journal), -0 reads back as 0: `+ 0` makes the expectation alike.
          [p.symbol, p.amount + 0, p.funding_ts, p.known ? p.rate + 0 : 0, p.known ? p.qty + 0 : 0, p.known ? p.mark : 0],
        );
      }
      // Capital moved by each payment once (paid is positive in the account, like fees).
      const a = kernel.view().account;
      const paid = -payments.reduce((n, p) => n + p.amount, 0);
      assert.ok(Math.abs(a.funding - paid) <= 1e-9 * Math.max(1, Math.abs(paid)), `funding ${a.funding} vs ${paid}`);
      assert.ok(Math.abs(a.capital - (CONFIG.initial_capital_usdt - paid)) <= 1e-9 * CONFIG.initial_capital_usdt);
      // Every applied payment wrote its account row with it (the identity is checkable per input).
      assert.ok(applied.every((o) => o.rows.some((r) => r.family === 'account') && o.rows.some((r) => r.family === 'funding')));
    }),
    { seed: SEED + 20, numRuns: 500 },
  );
});

test('a funding input with a rate, size or mark out of bounds is refused whole, naming the field', () => {
  const k = new Kernel(CONFIG);
  const base = { type: 'FUNDING' as const, ts: 1_800_000_000_000, symbol: 'BTC-USDT', amount_usdt: -1, funding_id: 'tran-x' };
  for (const [field, value] of [['rate', 2], ['position_qty', 1e13], ['mark_price', -1], ['funding_ts', 1.5]] as const) {
    const out = k.apply({ ...base, [field]: value } as KernelInput);
    assert.equal(out[0]!.diagnostic_code, 'INVALID_INPUT', field);
    assert.match(String(out[0]!.details.reason), new RegExp(field));
    assert.ok(out.every((o) => o.rows.every((r) => r.family !== 'funding')));
  }
  assert.equal(k.view().account.funding, 0, 'nothing applied');
  // Then the same id, well formed, is applied: a refused input did not consume it.
  assert.equal(k.apply(base)[0]!.diagnostic_code, 'FUNDING_APPLIED');
});

test(`the ids remembered are bounded (${FUNDING_IDS_MAX}) and survive a restart`, () => {
  let k = new Kernel(CONFIG);
  for (let i = 0; i < FUNDING_IDS_MAX; i += 1) k.apply({ type: 'FUNDING', ts: 1_800_000_000_000 + i, symbol: 'BTC-USDT', amount_usdt: -0.01, funding_id: `tran-${i}` });
  k = Kernel.restore(k.checkpoint());
  const again = k.apply({ type: 'FUNDING', ts: 1_800_000_100_000, symbol: 'BTC-USDT', amount_usdt: -0.01, funding_id: 'tran-0' });
  assert.equal(again[0]!.diagnostic_code, 'DUPLICATE_EVENT', 'the oldest of a full memory is still known after the restart');
  k.apply({ type: 'FUNDING', ts: 1_800_000_100_001, symbol: 'BTC-USDT', amount_usdt: -0.01, funding_id: 'tran-new' });
  const ids = (JSON.parse(k.checkpoint()) as { funding_ids: string[] }).funding_ids;
  assert.equal(ids.length, FUNDING_IDS_MAX, 'bounded');
  assert.deepEqual([ids[0], ids.at(-1)], ['tran-1', 'tran-new'], 'the oldest forgotten first');
});
