// Properties of the matching engine, without HTTP: for any sequence of orders, cancels,
// price moves and steps, the books balance and reduce-only never opens or flips a position.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SimEngine, type PlaceRequest } from '../../src/sim/engine.js';
import { VenueError } from '../../src/sim/errors.js';
import { buildMarkets, roundTo } from '../../src/sim/markets.js';
import type { SimFaults } from '../../src/sim/types.js';

const SYMBOLS = ['BTC-USDT', 'LTC-USDT'];

function engine(seed: number, partialFillRatio: number): SimEngine {
  const faults: SimFaults = {
    rateLimitEvery: 0, rateLimitStyle: 'http', rateLimitCooldownMs: 1000, rejectNext: null, rejectNextCode: 110425,
    rejectNextCancel: null, dropResponseNext: 0, latencyMs: 0, duplicateFills: false, partialFillRatio, priceWalk: true,
    clockSkewMs: 0, clockSkewCode: 109400,
  };
  let clock = 1_700_000_000_000;
  return new SimEngine(
    { markets: buildMarkets(SYMBOLS), seed, initial_balance_usdt: 1_000_000, taker_fee_rate: 0.0005, maker_fee_rate: 0.0002, slippage_bps: 2, walk_bps: 30, now_ms: () => (clock += 7), funding_interval_ms: 8 * 3600_000 },
    faults,
  );
}

type Op =
  | { kind: 'place'; symbol: string; side: 'BUY' | 'SELL'; type: 'MARKET' | 'LIMIT'; qty: number; offset_bps: number; reduce_only: boolean }
  | { kind: 'cancel'; pick: number }
  | { kind: 'price'; symbol: string; move_bps: number }
  | { kind: 'step' };

const placeArb = (reduce_only: fc.Arbitrary<boolean>) =>
  fc.record({
    kind: fc.constant('place' as const),
    symbol: fc.constantFrom(...SYMBOLS),
    side: fc.constantFrom('BUY' as const, 'SELL' as const),
    type: fc.constantFrom('MARKET' as const, 'LIMIT' as const),
    qty: fc.integer({ min: 1, max: 40 }),
    offset_bps: fc.integer({ min: -200, max: 200 }),
    reduce_only,
  });

/** Weighted toward reduce-only orders resting while other fills move the position. */
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: placeArb(fc.constant(true)), weight: 3 },
  { arbitrary: placeArb(fc.constant(false)), weight: 3 },
  { arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('price' as const), symbol: fc.constantFrom(...SYMBOLS), move_bps: fc.integer({ min: -300, max: 300 }) }), weight: 2 },
  { arbitrary: fc.constant({ kind: 'step' as const }), weight: 2 },
);

function apply(e: SimEngine, op: Op): void {
  try {
    if (op.kind === 'place') {
      const m = e.market(op.symbol);
      const req: PlaceRequest = {
        // Reduce-only orders are smaller, so that most fit in the position and get to fill.
        symbol: op.symbol, side: op.side, type: op.type, qty: op.qty * m.min_qty * (op.reduce_only ? 2 : 10),
        price: e.price(op.symbol) * (1 + op.offset_bps / 10_000), client_order_id: '', reduce_only: op.reduce_only, time_in_force: 'GTC', foreign: false,
      };
      e.place(req);
    } else if (op.kind === 'cancel') {
      const open = e.state.open_orders;
      const victim = open[op.pick % Math.max(1, open.length)];
      if (victim) e.cancel(victim.symbol, { order_id: victim.order_id });
    } else if (op.kind === 'price') {
      e.setPrice(op.symbol, e.price(op.symbol) * (1 + op.move_bps / 10_000));
    } else {
      e.step();
    }
  } catch (err) {
    if (!(err instanceof VenueError)) throw err; // refusals are fine; anything else is a bug
  }
}

function checkBooks(e: SimEngine): void {
  const s = e.state;
  assert.ok(Math.abs(s.wallet_usdt - (1_000_000 + s.realized_pnl_usdt - s.fees_usdt)) < 1e-6, 'wallet = initial + realized − fees');
  for (const symbol of SYMBOLS) {
    const m = e.market(symbol);
    const fromFills = s.fills.filter((f) => f.symbol === symbol).reduce((q, f) => q + (f.side === 'BUY' ? f.qty : -f.qty), 0);
    assert.equal(roundTo(fromFills, m.quantity_precision), s.positions[symbol]?.qty ?? 0, `${symbol}: position = signed sum of fills`);
  }
  for (const o of [...s.open_orders, ...s.closed_orders]) {
    const filled = s.fills.filter((f) => f.order_id === o.order_id).reduce((q, f) => q + f.qty, 0);
    assert.equal(roundTo(filled, 8), roundTo(o.filled_qty, 8), `order ${o.order_id}: filled = its fills`);
    assert.ok(o.filled_qty <= o.qty + 1e-12);
    if (o.status === 'FILLED') assert.equal(o.filled_qty, o.qty);
  }
  for (const o of s.open_orders) assert.ok(o.status === 'NEW' || o.status === 'PARTIALLY_FILLED');
  for (const o of s.closed_orders) assert.ok(o.status === 'FILLED' || o.status === 'CANCELLED');
}

test('property: the books balance after any sequence of orders, cancels, price moves and steps', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1000 }), fc.constantFrom(1, 0.5, 0.3), fc.array(opArb, { maxLength: 60 }), (seed, ratio, ops) => {
      const e = engine(seed, ratio);
      for (const op of ops) {
        apply(e, op);
        checkBooks(e);
      }
    }),
    { numRuns: 150 },
  );
});

test('property: fills of reduce-only orders never open, grow or flip a position', () => {
  let judged = 0;
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 1000 }), fc.array(opArb, { minLength: 10, maxLength: 80 }), (seed, ops) => {
      const e = engine(seed, 0.5);
      for (const op of ops) apply(e, op);
      // Replay the fills in order: the position before each fill is the sum of those before it.
      const reduceOnly = new Set([...e.state.open_orders, ...e.state.closed_orders].filter((o) => o.reduce_only).map((o) => o.order_id));
      const pos: Record<string, number> = {};
      for (const f of e.state.fills) {
        const m = e.market(f.symbol);
        const q0 = pos[f.symbol] ?? 0;
        const q1 = roundTo(q0 + (f.side === 'BUY' ? f.qty : -f.qty), m.quantity_precision);
        if (reduceOnly.has(f.order_id)) {
          judged += 1;
          assert.ok(Math.abs(q1) < Math.abs(q0), `${f.symbol}: reduce-only fill ${f.side} ${f.qty} took ${q0} to ${q1}`);
          assert.ok(q1 === 0 || Math.sign(q1) === Math.sign(q0), `${f.symbol}: flip ${q0} → ${q1}`);
        }
        pos[f.symbol] = q1;
      }
    }),
    { numRuns: 200 },
  );
  assert.ok(judged > 100, `only ${judged} reduce-only fills were generated`);
});
