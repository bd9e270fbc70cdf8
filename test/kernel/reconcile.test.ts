// SPEC 3.6: the reconcile, one correction kind at a time, and its idempotence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KernelOutcome, ReconcileCorrection, VenueOrder } from '../../src/engine/kernel/types.js';
import { BTC, ETH, Harness, codes, coid, near } from './harness.js';

const corrections = (out: KernelOutcome[]): ReconcileCorrection[] => out[0]!.details['corrections'] as ReconcileCorrection[];
const kinds = (out: KernelOutcome[]): string[] => corrections(out).map((c) => c.kind);

function venueOrder(coid: string, symbol: string, side: 'buy' | 'sell', qty: number): VenueOrder {
  return { client_order_id: coid, venue_order_id: `v-${coid}`, symbol, side, order_type: 'limit', qty, filled_qty: 0, price: 1, reduce_only: false, ts: 0 };
}

test('reconcile infers a missed fill once (idempotent by fill id)', () => {
  const h = new Harness();
  const coid = h.enter('e1', BTC, 'long', 2);
  h.accept(coid);
  h.fill(coid, 1, 100, 0.1, 'F1'); // seen by the poll
  const fills = [
    { fill_id: 'F1', client_order_id: coid, venue_order_id: 'v', symbol: BTC, side: 'buy' as const, qty: 1, price: 100, fee: 0.1, ts: h.ts },
    { fill_id: 'F2', client_order_id: coid, venue_order_id: 'v', symbol: BTC, side: 'buy' as const, qty: 1, price: 102, fee: 0.1, ts: h.ts },
  ];
  const out = h.reconcile({ fills, positions: [{ symbol: BTC, side: 'long', qty: 2, entry_price: 101 }] });
  assert.deepEqual(kinds(out), ['inferred_fill'], 'only F2 is inferred');
  const inferred = h.rows('fills', out);
  assert.equal(inferred.length, 1);
  assert.equal(inferred[0]!['fill_id'], 'F2');
  assert.equal(inferred[0]!['inferred'], true);
  assert.equal(h.slot(BTC).qty, 2);
  assert.equal(h.slot(BTC).state, 'OPEN');
  near(h.k.view().account.fees, 0.2, 1e-12, 'each fee once');
  // The poll delivers F2 afterwards: a duplicate.
  assert.deepEqual(codes(h.fill(coid, 1, 102, 0.1, 'F2')), ['DUPLICATE_EVENT']);
});

test('reconcile closes a slot the venue shows flat', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 1, 100);
  // Without fills to explain it: a synthetic leg at the mark, reason reconcile_flat.
  const out = h.reconcile({ marks: { [BTC]: 105 } });
  assert.deepEqual(kinds(out), ['closed']);
  assert.equal(h.slot(BTC).state, 'CLOSED');
  const leg = h.rows('trade_exit_legs', out)[0]!;
  assert.equal(leg['exit_reason'], 'reconcile_flat');
  assert.equal(leg['leg_price'], 105);
  assert.equal(leg['is_final'], true);
  assert.equal(h.rows('trades', out).at(-1)!['status'], 'closed');
  // With the exit's fill in the snapshot: closed by that fill, with its reason.
  h.open('e2', BTC, 'short', 1, 100);
  h.exit('x2', BTC, { final: true, reason: 'stop' });
  const x2 = coid('x2');
  const out2 = h.reconcile({ fills: [{ fill_id: 'FX', client_order_id: x2, venue_order_id: 'v', symbol: BTC, side: 'buy', qty: 1, price: 98, fee: 0, ts: h.ts }] });
  assert.deepEqual(kinds(out2), ['inferred_fill', 'closed']);
  assert.match(corrections(out2)[1]!.detail, /stop/);
  assert.equal(h.rows('trade_exit_legs', out2)[0]!['leg_realized_pnl'], 2);
  assert.equal(h.slot(BTC).state, 'CLOSED');
});

test('reconcile adopts an orphan when asked, else flags it', () => {
  const snapshot = { positions: [{ symbol: ETH, side: 'short' as const, qty: 3, entry_price: 2000 }, { symbol: 'SOL-USDT', side: 'long' as const, qty: 10, entry_price: 150 }] };
  const flagged = new Harness();
  const before = flagged.k.view().slots;
  const f = flagged.reconcile(snapshot);
  assert.deepEqual(kinds(f), ['orphan_flagged', 'orphan_flagged']);
  assert.equal(f[0]!.details['converged'], false);
  assert.ok(codes(f).includes('ORPHAN_POSITION'));
  assert.equal(f.find((o) => o.diagnostic_code === 'ORPHAN_POSITION')!.severity, 'ERROR');
  const noTrading = (slots: typeof before) => slots.map(({ trading_state: _t, trading_state_reason: _r, trading_state_since: _s, ...rest }) => rest);
  assert.deepEqual(noTrading(flagged.k.view().slots), noTrading(before), 'nothing adopted');
  // Issue 19: an unresolved orphan is a circuit breaker: ETH (a PINK symbol) goes REDUCING.
  assert.equal(flagged.slot(ETH).trading_state, 'REDUCING');
  assert.ok(codes(f).includes('BREAKER_MISMATCH'));

  const adopting = new Harness();
  const a = adopting.reconcile(snapshot, { adopt_orphans: true });
  assert.deepEqual(kinds(a), ['adopted', 'adopted']);
  assert.equal(a[0]!.details['converged'], true);
  const eth = adopting.slot(ETH);
  assert.equal(eth.state, 'OPEN');
  assert.equal(eth.side, 'short');
  assert.equal(eth.qty, 3);
  assert.equal(adopting.slot('SOL-USDT').qty, 10, 'a slot is created for an orphan on another symbol');
  // The adopted position can be exited like any other.
  adopting.exit('x1', ETH, { final: true, reason: 'manual_flatten' });
  assert.equal(adopting.slot(ETH).working_order?.purpose, 'flatten');
  adopting.fill(coid('x1'), 3, 1990);
  assert.equal(adopting.slot(ETH).state, 'CLOSED');
  assert.equal(adopting.rows('trades').at(-1)!['realized_pnl'], 30);
});

test('reconcile marks an order the venue no longer has as canceled', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 2, 100);
  h.exit('x1', BTC, { qty: 1, order_type: 'limit', price: 120 });
  const x1 = coid('x1');
  h.accept(x1);
  const out = h.reconcile({ positions: [{ symbol: BTC, side: 'long', qty: 2, entry_price: 100 }] });
  assert.deepEqual(kinds(out), ['order_gone']);
  assert.ok(codes(out).includes('ORDER_GONE'));
  const s = h.slot(BTC);
  assert.equal(s.state, 'OPEN', 'the exit is gone: back to OPEN');
  assert.equal(s.working_order, null);
  assert.equal(h.rows('orders', out).at(-1)!['status'], 'canceled');
  assert.equal(h.rows('orders', out).at(-1)!['reason'], 'order_gone');
});

test('a working order the venue still has stays working', () => {
  const h = new Harness();
  const coid = h.enter('e1', BTC, 'long', 1);
  h.accept(coid);
  const out = h.reconcile({ open_orders: [venueOrder(coid, BTC, 'buy', 1)] });
  assert.deepEqual(kinds(out), ['still_working']);
  assert.equal(h.slot(BTC).state, 'ENTRY_WORKING');
  assert.equal(h.slot(BTC).working_order?.client_order_id, coid);
});

test('reconcile leaves a foreign order alone and reports it', () => {
  const h = new Harness();
  const before = h.k.view().slots;
  const out = h.reconcile({ open_orders: [venueOrder('web-123', BTC, 'sell', 5)] });
  assert.deepEqual(kinds(out), ['foreign_order']);
  const foreign = out.find((o) => o.diagnostic_code === 'FOREIGN_ORDER')!;
  assert.equal(foreign.commands.length, 0, 'nothing sent: left alone');
  assert.match(String(foreign.details.reason), /web-123/);
  assert.deepEqual(h.k.view().slots, before);
  assert.equal(out[0]!.details['converged'], true, 'a foreign order does not block convergence');
});

test('reconcile reports drift and never applies it', () => {
  const h = new Harness();
  const small = h.reconcile({ balance_usdt: 10_000.5 });
  assert.deepEqual(kinds(small), [], 'within the tolerance: no drift correction');
  assert.equal(h.k.view().account.drift, 0.5);
  const big = h.reconcile({ balance_usdt: 9_900 });
  assert.deepEqual(kinds(big), ['drift']);
  assert.equal(big[0]!.details['drift'], -100);
  assert.equal(h.k.view().account.capital, 10_000);
  const row = h.rows('account', big)[0]!;
  assert.equal(row['drift'], -100);
  assert.equal(row['venue_balance'], 9_900);
  assert.equal(h.rows('account', small).length, 1, 'an account row at each reconcile');
});

test('reconcile twice with the same snapshot changes nothing the second time', () => {
  const h = new Harness();
  const e1 = h.enter('e1', BTC, 'long', 2);
  h.accept(e1);
  h.open('e2', ETH, 'short', 1, 2000);
  const snapshot = {
    balance_usdt: 9_000,
    marks: { [BTC]: 100, [ETH]: 1990 },
    positions: [{ symbol: BTC, side: 'long' as const, qty: 2, entry_price: 100 }, { symbol: 'SOL-USDT', side: 'long' as const, qty: 1, entry_price: 10 }],
    fills: [{ fill_id: 'F1', client_order_id: e1, venue_order_id: 'v', symbol: BTC, side: 'buy' as const, qty: 2, price: 100, fee: 0.2, ts: h.ts }],
    open_orders: [venueOrder('web-1', BTC, 'sell', 1)],
  };
  const first = h.reconcile(snapshot, { adopt_orphans: true });
  assert.ok(kinds(first).includes('inferred_fill') && kinds(first).includes('closed') && kinds(first).includes('adopted'), kinds(first).join());
  const view = h.k.view();
  const second = h.reconcile(snapshot, { adopt_orphans: true });
  const again = h.k.view();
  assert.deepEqual(again.slots, view.slots);
  assert.deepEqual(again.account, view.account);
  for (const k of kinds(second)) assert.ok(['foreign_order', 'still_working', 'drift'].includes(k), `second pass changed something: ${k}`);
  assert.equal(h.rows('fills', second).length, 0);
  assert.equal(h.rows('trade_exit_legs', second).length, 0);
});

test('a symbol-scoped reconcile touches only that symbol', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 1, 100);
  h.open('e2', ETH, 'long', 1, 100);
  const out = h.reconcile({ positions: [] }, { symbols: [ETH] });
  assert.deepEqual(corrections(out).map((c) => `${c.kind}:${c.symbol}`), [`closed:${ETH}`]);
  assert.equal(h.slot(BTC).state, 'OPEN');
});

test('issue 20: a position the venue liquidated closes at its liquidation fill (price, fee), reason liquidation, CRITICAL, the symbol REDUCING; once', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 2, 100, 0.1);
  const entry_ts = h.ts;
  const liq = { fill_id: 'LIQ1', client_order_id: '', venue_order_id: 'vl', symbol: BTC, side: 'sell' as const, qty: 2, price: 95.5, fee: 0.2, ts: h.next(), liquidation_price: 95.6 };
  // An older liquidation (another trade's, before this entry) and a buy are not this position's.
  const older = { ...liq, fill_id: 'LIQ0', price: 50, ts: entry_ts - 60_000 };
  const out = h.reconcile({ fills: [older, liq], marks: { [BTC]: 95 } });
  assert.deepEqual(codes(out).filter((c) => c !== 'RECONCILED'), ['TRADE_CLOSED', 'POSITION_LIQUIDATED']);
  const crit = out.find((o) => o.diagnostic_code === 'POSITION_LIQUIDATED')!;
  assert.equal(crit.severity, 'CRITICAL');
  assert.equal(h.rows('anomalies', out).filter((r) => r['code'] === 'POSITION_LIQUIDATED').length, 1);
  const [leg] = h.rows('trade_exit_legs', out);
  assert.deepEqual([leg!['exit_reason'], leg!['leg_price'], leg!['leg_fee'], leg!['leg_qty'], leg!['ts']], ['liquidation', 95.5, 0.2, 2, liq.ts]);
  near(leg!['leg_realized_pnl'] as number, -9);
  const a = h.k.view().account;
  near(a.fees, 0.3);
  near(a.capital, 10_000 - 9 - 0.3);
  const slot = h.slot(BTC)!;
  assert.equal(slot.state, 'CLOSED');
  assert.equal(slot.trading_state, 'REDUCING');
  assert.match(slot.trading_state_reason, /POSITION_LIQUIDATED/);
  // The same snapshot again: nothing more (the fill is remembered, the slot is flat).
  const again = h.reconcile({ fills: [older, liq], marks: { [BTC]: 95 } });
  assert.deepEqual(codes(again).filter((c) => c !== 'RECONCILED'), []);
  near(h.k.view().account.capital, 10_000 - 9 - 0.3);
  // REDUCING: a new entry is refused.
  assert.deepEqual(codes(h.intent({ intent_id: 'e2', symbol: BTC, action: 'ENTER', side: 'long', qty: 1, order_type: 'market' })), ['TRADING_STATE_REFUSED']);
});

// Chaos seed 18 (--seconds 15): the venue liquidated 0.0016 BTC in four fills (a partial-fill fault
// was on); the kernel took the last fill's fee only (0.002852 of 0.0456) and left the others unseen.
test('issue 20: a liquidation filled in chunks is one exit leg with every chunk\'s fee, each fill remembered; a chunk reported twice counts once', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 2, 100, 0.1);
  const chunk = (i: number, qty: number, price: number) => ({ fill_id: `LIQ-${i}`, client_order_id: '', venue_order_id: 'vl', symbol: BTC, side: 'sell' as const, qty, price, fee: qty * price * 0.0005, ts: h.ts + 1 + i, liquidation_price: 95.6 });
  const chunks = [chunk(0, 0.5, 95.5), chunk(1, 0.5, 95.5), chunk(2, 1, 95.2)];
  // Another venue order's liquidation fill on the symbol, older than these: not summed in.
  const other = { ...chunk(9, 2, 90), venue_order_id: 'vl-other', ts: h.ts + 1 };
  const out = h.reconcile({ fills: [other, chunks[0]!, chunks[1]!, chunks[1]!, chunks[2]!], marks: { [BTC]: 95 } });
  assert.deepEqual(codes(out).filter((c) => c !== 'RECONCILED'), ['TRADE_CLOSED', 'POSITION_LIQUIDATED']);
  const legs = h.rows('trade_exit_legs', out);
  assert.equal(legs.length, 1);
  const fee = chunks.reduce((n, f) => n + f.fee, 0);
  near(legs[0]!['leg_fee'] as number, fee);
  near(legs[0]!['leg_price'] as number, (0.5 * 95.5 + 0.5 * 95.5 + 95.2) / 2);
  assert.equal(legs[0]!['ts'], chunks[2]!.ts);
  near(h.k.view().account.fees, 0.1 + fee);
  // Every chunk is remembered: the same snapshot again changes nothing.
  const again = h.reconcile({ fills: [other, ...chunks], marks: { [BTC]: 95 } });
  assert.deepEqual(codes(again).filter((c) => c !== 'RECONCILED'), []);
  near(h.k.view().account.fees, 0.1 + fee);
});

test('issue 20: a venue flat with no liquidation fill of this trade is still a reconcile_flat close, not a liquidation', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 1, 100);
  const stale = { fill_id: 'LIQ0', client_order_id: '', venue_order_id: 'vl', symbol: BTC, side: 'sell' as const, qty: 1, price: 50, fee: 0, ts: h.ts - 60_000, liquidation_price: 51 };
  const out = h.reconcile({ fills: [stale], marks: { [BTC]: 99 } });
  assert.ok(!codes(out).includes('POSITION_LIQUIDATED'));
  assert.equal(h.rows('trade_exit_legs', out)[0]!['exit_reason'], 'reconcile_flat');
  assert.equal(h.slot(BTC)!.trading_state ?? 'ACTIVE', 'ACTIVE');
});
