// Issue 15, "the books": one named test per defect, each the scenario the review reproduced. Each
// failed on b2c3d3b (see the report) and passes now.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel, KernelAssertionError } from '../../src/engine/kernel/index.js';
import type { KernelInput, KernelOutcome, VenueFill } from '../../src/engine/kernel/types.js';
import { BTC, CONFIG, ETH, Harness, codes, near } from './harness.js';

const MIN = 60_000;

function fillOf(h: Harness, coid: string, fill_id: string, side: 'buy' | 'sell', qty: number, price: number, fee = 0, ts = h.ts): VenueFill {
  return { fill_id, client_order_id: coid, venue_order_id: `v-${coid}`, symbol: BTC, side, qty, price, fee, ts };
}

/** How many fills rows (one per application) each fill id has in the outcomes. */
function fillApplications(h: Harness): Map<string, number> {
  const n = new Map<string, number>();
  for (const r of h.rows('fills')) n.set(r['fill_id'] as string, (n.get(r['fill_id'] as string) ?? 0) + 1);
  return n;
}

test('defect 1a: a rate-limited exit whose order was placed and filled, resent under the same intent id, never applies its fill twice', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 2, 100, 0.1);
  const x1 = h.coidOf('x1');
  h.exit('x1', BTC, { final: true, reason: 'take_profit' });
  // The venue said "rate limited"; in fact the order reached the book and filled in part.
  h.apply({ type: 'RATE_LIMITED', ts: h.next(), client_order_id: x1, reason: '429 after the venue acted' });
  assert.equal(h.slot(BTC).working_order, null, 'the kernel believes it was never placed');
  h.event({ event_id: 'fill:F1', kind: 'FILL', client_order_id: x1, qty: 1, price: 110, fee: 0.05, fill_id: 'F1' });
  near(h.slot(BTC).qty, 1, 1e-12, 'the late fill is applied once');
  // The cooldown passes and the strategy resends the same intent.
  h.next(10_000);
  const resend = h.exit('x1', BTC, { final: true, reason: 'take_profit' });
  assert.deepEqual(codes(resend), ['DUPLICATE_EVENT'], 'an intent whose order was heard from is not new');
  assert.equal(resend[0]!.commands.length, 0, 'nothing sent');
  // The same venue fill comes again under a new event id (a poll overlap), and inferred at reconcile.
  assert.deepEqual(codes(h.event({ event_id: 'fill:F1:again', kind: 'FILL', client_order_id: x1, qty: 1, price: 110, fee: 0.05, fill_id: 'F1' })), ['DUPLICATE_EVENT']);
  h.reconcile({ positions: [{ symbol: BTC, side: 'long', qty: 1, entry_price: 100 }], fills: [fillOf(h, x1, 'F1', 'sell', 1, 110, 0.05)] });
  assert.equal(fillApplications(h).get('F1'), 1, 'F1 applied once');
  near(h.slot(BTC).qty, 1, 1e-12);
  near(h.k.view().account.fees, 0.15, 1e-12, 'its fee counted once');
  near(h.k.view().account.capital, 10_000 + 10 - 0.15, 1e-9, 'capital');
});

test('defect 1b: an intent id whose orders were forgotten by trade count is not accepted again, and its old fill is not re-inferred', () => {
  const h = new Harness();
  h.tick({ [BTC]: 100 });
  const e1 = h.open('e1', BTC, 'long', 1, 100);
  h.exit('x1', BTC, { final: true });
  h.fill(h.coidOf('x1'), 1, 101, 0, 'FX1');
  const f1 = fillOf(h, e1, h.rows('fills')[0]!['fill_id'] as string, 'buy', 1, 100);
  // Three rejected entries: the old kernel forgot trade 1's orders after them.
  for (const id of ['r1', 'r2', 'r3']) {
    const c = h.enter(id, BTC, 'long', 1);
    assert.deepEqual(codes(h.event({ kind: 'REJECTED', client_order_id: c, reason: 'margin' })), ['ORDER_REJECTED']);
  }
  const again = h.intent({ intent_id: 'e1', symbol: BTC, action: 'ENTER', side: 'long', qty: 1 });
  assert.deepEqual(codes(again), ['DUPLICATE_EVENT'], 'e1 was used ten seconds ago: its fills can still arrive');
  assert.equal(again[0]!.commands.length, 0);
  const rec = h.reconcile({ fills: [f1] });
  assert.deepEqual((rec[0]!.details['corrections'] as unknown[]).length, 0, 'nothing inferred');
  assert.equal(fillApplications(h).get(f1.fill_id), 1);
  assert.equal(h.slot(BTC).qty, 0);
});

test('defect 1c: a duplicate older than the order memory is DUPLICATE_EVENT (INFO), not UNKNOWN_ORDER', () => {
  const h = new Harness();
  h.tick({ [BTC]: 100 });
  const e1 = h.open('e1', BTC, 'long', 1, 100);
  const fill_id = h.rows('fills')[0]!['fill_id'] as string;
  h.exit('x1', BTC, { final: true });
  h.fill(h.coidOf('x1'), 1, 101);
  for (const id of ['r1', 'r2', 'r3', 'r4']) h.event({ kind: 'REJECTED', client_order_id: h.enter(id, BTC, 'long', 1), reason: 'margin' });
  // Trade-count forgetting (the old kernel): an old event comes back.
  const dup = h.event({ event_id: 'fill:late', kind: 'FILL', client_order_id: e1, qty: 1, price: 100, fee: 0, fill_id });
  assert.deepEqual(codes(dup), ['DUPLICATE_EVENT']);
  assert.equal(dup[0]!.severity, 'INFO');
  // Time forgetting (the memory's horizon): the same answer, with no anomaly row.
  h.next(45 * MIN);
  h.tick({ [BTC]: 100 });
  const old = h.event({ event_id: 'fill:older', kind: 'FILL', client_order_id: e1, qty: 1, price: 100, fee: 0, fill_id, ts: h.ts - 40 * MIN } as never);
  assert.deepEqual(codes(old), ['DUPLICATE_EVENT']);
  assert.equal(old[0]!.rows.length, 0);
  assert.deepEqual(codes(h.event({ kind: 'CANCELED', client_order_id: e1 })), ['DUPLICATE_EVENT']);
  // Someone else's order is still UNKNOWN_ORDER.
  assert.deepEqual(codes(h.event({ kind: 'FILL', client_order_id: 'web-1', qty: 1, price: 1, fill_id: 'W1' })), ['UNKNOWN_ORDER']);
});

test('defect 2: trade ids, row ids and client order ids never repeat across kernel histories, and repeat exactly on replay', () => {
  const run = (history_id: string): { k: Kernel; outcomes: KernelOutcome[]; inputs: KernelInput[] } => {
    const h = new Harness({ ...CONFIG, history_id });
    h.tick({ [BTC]: 100 });
    h.open('e1', BTC, 'long', 1, 100, 0.1);
    h.exit('x1', BTC, { final: true });
    h.fill(h.coidOf('x1'), 1, 105, 0.1);
    h.intent({ intent_id: 'bad', symbol: 'NOPE-USDT', action: 'ENTER', side: 'long', qty: 1 });
    return { k: h.k, outcomes: h.log, inputs: h.inputs };
  };
  const a = run('historya01');
  const b = run('historyb02');
  const ids = (o: KernelOutcome[]): string[] => o.flatMap((x) => x.rows.map((r) => r.row.row_id));
  const trades = (o: KernelOutcome[]): string[] => o.flatMap((x) => x.rows.filter((r) => r.family === 'trades').map((r) => r.row['trade_id'] as string));
  const orders = (o: KernelOutcome[]): string[] => o.flatMap((x) => x.commands.map((c) => c.client_order_id));
  assert.ok(ids(a.outcomes).length > 10);
  for (const [what, f] of [['row ids', ids], ['trade ids', trades], ['client order ids', orders]] as const) {
    const sa = new Set(f(a.outcomes));
    assert.ok(sa.size > 0, what);
    for (const id of f(b.outcomes)) assert.ok(!sa.has(id), `${what}: ${id} is in both histories`);
  }
  // The same history replayed from its inputs: the same ids, byte for byte.
  const again = new Kernel({ ...CONFIG, history_id: 'historya01' });
  const replayed = a.inputs.flatMap((i) => again.apply(i));
  assert.deepEqual(ids(replayed), ids(a.outcomes));
  assert.equal(again.checkpoint(), a.k.checkpoint());
  assert.equal(a.k.view().history_id, 'historya01');
});

test('defect 3: changed settings take effect as a journaled SETTINGS input; dropping a held symbol is refused', () => {
  const h = new Harness({ ...CONFIG, symbols: [BTC], rate_limit_cooldown_ms: 5_000, max_hold_bars: 250 });
  h.tick({ [BTC]: 100 });
  h.open('e1', BTC, 'long', 1, 100);
  assert.deepEqual(codes(h.intent({ intent_id: 'eth1', symbol: ETH, action: 'ENTER', side: 'long', qty: 1 })), ['UNKNOWN_SYMBOL']);
  const settings = { symbols: [BTC, ETH], rate_limit_cooldown_ms: 30_000, rate_limit_persistent_ms: 600_000, max_hold_bars: 3, drift_tolerance_usdt: 1, qty_step_by_symbol: { [ETH]: 0.01 } };
  const out = h.apply({ type: 'SETTINGS', ts: h.next(), settings } as KernelInput);
  assert.deepEqual(codes(out), ['SETTINGS_CHANGED']);
  const changed = (out[0]!.details['changes'] as { setting: string }[]).map((c) => c.setting);
  assert.deepEqual(changed, ['symbols', 'rate_limit_cooldown_ms', 'max_hold_bars', `qty_step_by_symbol.${ETH}`]);
  // The added symbol trades; its lot step applies.
  h.tick({ [BTC]: 100, [ETH]: 10 });
  const eth = h.intent({ intent_id: 'eth2', symbol: ETH, action: 'ENTER', side: 'long', qty: 1.2345 });
  assert.deepEqual(codes(eth), ['INTENT_ACCEPTED']);
  assert.equal((eth[0]!.commands[0] as { qty: number }).qty, 1.23);
  // The new cooldown and max hold apply.
  assert.equal(h.apply({ type: 'RATE_LIMITED', ts: h.next(), reason: '429' })[0]!.details.retry_after_ms, 30_000);
  let flagged = 0;
  for (let i = 0; i < 4; i += 1) flagged += codes(h.tick({ [BTC]: 100, [ETH]: 10 })).filter((c) => c === 'HOLD_BARS_EXCEEDED').length;
  assert.ok(flagged >= 1, 'max_hold_bars 3 flags the held position');
  // Dropping BTC while PINK holds it is refused, whole: nothing changes.
  const before = h.k.checkpoint();
  const drop = h.apply({ type: 'SETTINGS', ts: h.next(), settings: { ...settings, symbols: [ETH] } } as KernelInput);
  assert.deepEqual(codes(drop), ['INVALID_INPUT']);
  assert.match(String(drop[0]!.details.reason), /BTC-USDT.*holds long 1/);
  assert.equal(h.k.checkpoint(), before);
  // Replay of the journaled inputs reaches the same state.
  const again = new Kernel({ ...CONFIG, symbols: [BTC], rate_limit_cooldown_ms: 5_000, max_hold_bars: 250 });
  for (const i of h.inputs) again.apply(i);
  assert.equal(again.checkpoint(), h.k.checkpoint());
});

test('defect 4: a partly filled entry whose order leaves the book while the slot is stale gets its trades open row', () => {
  const h = new Harness();
  h.tick({ [BTC]: 100 });
  const e1 = h.enter('e1', BTC, 'long', 2);
  h.accept(e1);
  h.fill(e1, 1, 100, 0, 'F1');
  h.intent({ intent_id: 'c1', symbol: BTC, action: 'CANCEL' });
  h.apply({ type: 'SEND_UNKNOWN', ts: h.next(), client_order_id: e1, reason: 'timeout' });
  assert.equal(h.slot(BTC).state, 'STALE_STATE_RECONCILING');
  const rec = h.reconcile({ positions: [{ symbol: BTC, side: 'long', qty: 1, entry_price: 100 }] });
  assert.equal(rec[0]!.details['converged'], true);
  assert.equal(h.slot(BTC).state, 'OPEN');
  const opened = h.rows('trades', rec);
  assert.equal(opened.length, 1, 'the trade opens when its entry leaves the book');
  assert.equal(opened[0]!['status'], 'open');
  assert.equal(opened[0]!['entry_qty'], 1);
  h.exit('x1', BTC, { final: true });
  h.fill(h.coidOf('x1'), 1, 110);
  const closed = h.rows('trades').filter((r) => r['status'] === 'closed');
  assert.equal(closed.length, 1);
  assert.equal(closed[0]!['trade_id'], opened[0]!['trade_id']);
});

test('defect 5: an exit rejected after a partial fill is EXIT_ORDER_REJECTED and the slot stays EXIT_WORKING', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 2, 100);
  const x1 = h.coidOf('x1');
  h.exit('x1', BTC, { final: true });
  h.accept(x1);
  h.fill(x1, 1, 105);
  const out = h.event({ kind: 'REJECTED', client_order_id: x1, reason: 'reduce-only would increase' });
  assert.deepEqual(codes(out), ['EXIT_ORDER_REJECTED']);
  const s = h.slot(BTC);
  assert.equal(s.state, 'EXIT_WORKING');
  assert.equal(s.working_order, null, 'the next EXIT is the retry');
  assert.equal(s.qty, 1);
  assert.deepEqual(codes(h.exit('x2', BTC, { final: true })), ['INTENT_ACCEPTED']);
});

test('defect 6: a stale slot whose reconcile does not converge stays STALE_STATE_RECONCILING and blocked', () => {
  const h = new Harness();
  h.tick({ [BTC]: 100 });
  h.open('e1', BTC, 'long', 1, 100);
  const x1 = h.coidOf('x1');
  h.exit('x1', BTC, { final: true });
  h.apply({ type: 'SEND_UNKNOWN', ts: h.next(), client_order_id: x1, reason: 'timeout' });
  // The venue holds more than PINK does (someone else bought): no reconcile can settle that.
  const rec = h.reconcile({ positions: [{ symbol: BTC, side: 'long', qty: 3, entry_price: 100 }] });
  assert.equal(rec[0]!.details['converged'], false);
  assert.ok(codes(rec).includes('POSITION_MISMATCH'));
  assert.equal(h.slot(BTC).state, 'STALE_STATE_RECONCILING');
  const exit = h.exit('x2', BTC, { final: true });
  assert.deepEqual(codes(exit), ['STALE_STATE_RECONCILING'], 'no final EXIT of PINK\'s size while the venue holds 3');
  assert.equal(exit[0]!.commands.length, 0);
  // The operator closes the rest at the venue; the next reconcile converges and releases the slot.
  const ok = h.reconcile({ positions: [{ symbol: BTC, side: 'long', qty: 1, entry_price: 100 }] });
  assert.equal(ok[0]!.details['converged'], true);
  assert.equal(h.slot(BTC).state, 'OPEN');
});

test('defect 7: every quantity, price and amount is bounded and refused before any change; apply is all-or-nothing', () => {
  const h = new Harness();
  h.tick({ [BTC]: 1e-9, [ETH]: 100 });
  for (const [what, input] of [
    ['notional 1e300 (qty Infinity at a 1e-9 mark)', { type: 'INTENT', ts: h.next(), intent: { intent_id: 'n1', symbol: BTC, action: 'ENTER', side: 'long', notional: 1e300, reason: 't' } }],
    ['qty 1e200', { type: 'INTENT', ts: h.next(), intent: { intent_id: 'q1', symbol: ETH, action: 'ENTER', side: 'long', qty: 1e200, reason: 't' } }],
    ['a notional within bounds whose qty is not', { type: 'INTENT', ts: h.next(), intent: { intent_id: 'n2', symbol: BTC, action: 'ENTER', side: 'long', notional: 1e12, reason: 't' } }],
    ['funding 1e300', { type: 'FUNDING', ts: h.next(), symbol: BTC, amount_usdt: 1e300, funding_id: 'f1' }],
    ['a mark of 1e300', { type: 'TICK', ts: h.next(), marks: { [BTC]: 1e300 } }],
    ['a fractional ts', { type: 'VENUE_OK', ts: h.ts + 0.5 }],
  ] as const) {
    const before = h.k.checkpoint();
    const out = h.apply(input as unknown as KernelInput);
    assert.ok(['INVALID_INTENT', 'INVALID_INPUT'].includes(out[0]!.diagnostic_code), `${what}: ${out[0]!.diagnostic_code}`);
    assert.equal(out.flatMap((o) => o.commands).length, 0, `${what}: nothing sent`);
    assert.equal(h.k.checkpoint(), before, `${what}: nothing changed`);
  }
  // A fill of 1e200 @ 1e200 on a real order.
  const e1 = h.enter('e1', ETH, 'long', 1);
  const before = h.k.checkpoint();
  const huge = h.event({ kind: 'FILL', client_order_id: e1, qty: 1e200, price: 1e200, fee: 0, fill_id: 'H1' });
  assert.deepEqual(codes(huge), ['INVALID_INPUT']);
  assert.equal(h.k.checkpoint(), before);
  // All or nothing: an input that trips an assertion half way (a state no valid history reaches:
  // a second live entry order beside the working one) leaves the state as it was before it.
  h.fill(e1, 1, 100, 0, 'OK1');
  const doc = JSON.parse(h.k.checkpoint()) as { orders: Array<Record<string, unknown>> };
  const stray = { ...doc.orders[0]!, client_order_id: 'pink-stray', status: 'accepted', filled_qty: 0 };
  doc.orders.push(stray);
  const k = Kernel.restore(JSON.stringify(doc));
  const twin = Kernel.restore(JSON.stringify(doc));
  // Inputs applied since the last checkpoint are kept through the failure.
  const valid: KernelInput[] = [
    { type: 'TICK', ts: h.ts + 500, marks: { [ETH]: 101 } },
    { type: 'RATE_LIMITED', ts: h.ts + 600, reason: '429' },
  ];
  for (const i of valid) {
    k.apply(i);
    twin.apply(i);
  }
  assert.throws(() => k.apply({ type: 'EVENT', ts: h.ts + 1000, event: { event_id: 'x', kind: 'FILL', client_order_id: 'pink-stray', qty: 1, price: 100, fee: 0.5, fill_id: 'S1', ts: h.ts + 1000 } }), KernelAssertionError);
  assert.equal(k.checkpoint(), twin.checkpoint(), 'the failed input left nothing behind, the inputs before it stay');
  assert.equal(k.view().slots.find((x) => x.symbol === ETH)!.mark_price, 101);
  // A journaled non-finite balance replays identically (JSON turns it into null).
  const snap = { type: 'RECONCILE', ts: h.next(), snapshot: { ts: h.ts, balance_usdt: Number.POSITIVE_INFINITY, marks: {}, positions: [{ symbol: ETH, side: 'long', qty: 1, entry_price: 100 }], open_orders: [], fills: [] } } as KernelInput;
  const live = Kernel.restore(h.k.checkpoint());
  const replayed = Kernel.restore(h.k.checkpoint());
  const a = live.apply(snap);
  const b = replayed.apply(JSON.parse(JSON.stringify(snap)) as KernelInput);
  assert.equal(JSON.stringify(a), JSON.stringify(b));
  assert.equal(live.checkpoint(), replayed.checkpoint());
  assert.equal(a[0]!.diagnostic_code, 'RECONCILED');
});

test('defect 8a: a position adopted with entry price 0 is booked from the mark, not as a whole-notional profit', () => {
  const h = new Harness();
  const out = h.reconcile({ marks: { [ETH]: 2000 }, positions: [{ symbol: ETH, side: 'long', qty: 2, entry_price: 0 }] }, { adopt_orphans: true });
  assert.ok(codes(out).includes('POSITION_ADOPTED'));
  assert.equal(h.slot(ETH).avg_entry_price, 2000);
  h.exit('x1', ETH, { final: true });
  h.fill(h.coidOf('x1'), 2, 2010);
  near(h.k.view().account.realized_pnl, 20, 1e-9);
  // With no mark either, it is flagged, not adopted at 0.
  const h2 = new Harness();
  const flagged = h2.reconcile({ positions: [{ symbol: ETH, side: 'long', qty: 2, entry_price: 0 }] }, { adopt_orphans: true });
  assert.ok(codes(flagged).includes('ORPHAN_POSITION'));
  assert.equal(h2.slot(ETH).qty, 0);
});

test('defect 8b: order sizes are rounded down to the lot step exactly, steps like 2.5e-8 included', () => {
  const h = new Harness({ ...CONFIG, qty_step_by_symbol: { [BTC]: 2.5e-8, [ETH]: 0.001 } });
  const place = (id: string, symbol: string, qty: number): number => (h.intent({ intent_id: id, symbol, action: 'ENTER', side: 'long', qty })[0]!.commands[0] as { qty: number }).qty;
  assert.equal(place('b1', BTC, 1.4e-7), 1.25e-7);
  assert.equal(place('e1', ETH, 0.3), 0.3);
  const h2 = new Harness({ ...CONFIG, qty_step_by_symbol: { [BTC]: 2.5e-8 } });
  assert.equal((h2.intent({ intent_id: 'b', symbol: BTC, action: 'ENTER', side: 'long', qty: 1.25e-7 })[0]!.commands[0] as { qty: number }).qty, 1.25e-7);
});

test('defect 8c: a trailing fill under 1e-9 of the order is not an OVERFILL', () => {
  const h = new Harness();
  const e1 = h.enter('e1', BTC, 'long', 1);
  h.accept(e1);
  h.fill(e1, 1 - 1e-10, 100, 0.01, 'F1');
  assert.equal(h.slot(BTC).state, 'OPEN', 'dust of the order: complete');
  const out = h.fill(e1, 1e-10, 100, 0.000001, 'F2');
  assert.ok(!codes(out).includes('OVERFILL'), codes(out).join());
  assert.equal(out.every((o) => o.severity === 'INFO'), true);
  near(h.k.view().account.fees, 0.010001, 1e-12, 'its fee counts');
  assert.deepEqual(codes(h.fill(e1, 1e-10, 100, 0, 'F2')), ['DUPLICATE_EVENT']);
});
