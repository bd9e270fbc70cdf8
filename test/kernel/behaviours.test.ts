// One test per behaviour of the seed's change log and fault taxonomy, named after it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientOrderId, isPinkClientOrderId } from '../../src/engine/kernel/index.js';
import { BTC, CONFIG, ETH, HID, Harness, codes, coid, near } from './harness.js';

test('two-leg exit closes once with realized accruing per leg', () => {
  const h = new Harness();
  h.tick({ [BTC]: 100 });
  h.open('e1', BTC, 'long', 2, 100, 0.1);
  const x1 = h.exit('x1', BTC, { fraction: 0.5, reason: 'take_profit' });
  assert.deepEqual(codes(x1), ['INTENT_ACCEPTED']);
  assert.equal(x1[0]!.commands[0]!.kind, 'PLACE');
  const c1 = coid('x1');
  h.fill(c1, 1, 110, 0.05);
  assert.equal(h.slot(BTC).state, 'OPEN');
  near(h.slot(BTC).realized_pnl, 10, 1e-9, 'realized after leg 1');
  assert.equal(h.rows('trades').filter((r) => r['status'] === 'closed').length, 0, 'not closed after leg 1');
  h.exit('x2', BTC, { final: true, reason: 'max_hold' });
  const closing = h.fill(coid('x2'), 1, 120, 0.05);
  assert.deepEqual(codes(closing), ['TRADE_CLOSED']);
  assert.equal(h.slot(BTC).state, 'CLOSED');
  const legs = h.rows('trade_exit_legs');
  assert.deepEqual(legs.map((l) => l['leg_realized_pnl']), [10, 20]);
  assert.deepEqual(legs.map((l) => l['cum_realized_pnl']), [10, 30]);
  assert.deepEqual(legs.map((l) => l['is_final']), [false, true]);
  const closed = h.rows('trades').filter((r) => r['status'] === 'closed');
  assert.equal(closed.length, 1, 'exactly one closed trades row');
  assert.equal(closed[0]!['realized_pnl'], 30);
  assert.equal(closed[0]!['legs'], 2);
  near(closed[0]!['fees'] as number, 0.2, 1e-12, 'trade fees');
  near(h.k.view().account.capital, 10_000 + 30 - 0.2, 1e-9, 'capital');
});

test('closed slot rejects EXIT', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 1, 100);
  h.exit('x1', BTC, { final: true });
  h.fill(coid('x1'), 1, 101);
  assert.equal(h.slot(BTC).state, 'CLOSED');
  const before = h.k.checkpoint();
  const out = h.exit('x2', BTC, { final: true });
  assert.deepEqual(codes(out), ['NO_ACTIVE_EXIT_ORDER']);
  assert.equal(out[0]!.commands.length, 0, 'nothing sent');
  assert.equal(h.k.checkpoint(), before, 'no state change');
  assert.equal(h.rows('trades').filter((r) => r['status'] === 'closed').length, 1, 'no double close');
  assert.equal(h.rows('decisions').at(-1)!['outcome_code'], 'NO_ACTIVE_EXIT_ORDER');
});

test('overshoot clamp', () => {
  const h = new Harness();
  h.open('e1', BTC, 'short', 3, 100);
  h.exit('x1', BTC, { qty: 1 });
  h.fill(coid('x1'), 1, 90);
  const out = h.exit('x2', BTC, { qty: 5, final: true });
  assert.deepEqual(codes(out), ['EXIT_CLAMPED']);
  assert.equal(out[0]!.severity, 'WARNING');
  const place = out[0]!.commands[0]!;
  assert.ok(place.kind === 'PLACE');
  assert.equal(place.qty, 2, 'clamped to the remainder');
  assert.equal(place.reduce_only, true);
  assert.equal(place.side, 'buy', 'a short exits by buying');
  assert.equal(h.rows('anomalies').at(-1)!['code'], 'EXIT_CLAMPED');
  // The venue overfills the clamped order: the position stops at zero, never flips long.
  const fill = h.fill(coid('x2'), 2.5, 95);
  assert.deepEqual(codes(fill), ['TRADE_CLOSED', 'OVERFILL']);
  const s = h.slot(BTC);
  assert.equal(s.qty, 0);
  assert.equal(s.side, null);
  assert.equal(h.rows('trade_exit_legs').reduce((a, l) => a + (l['leg_qty'] as number), 0), 3);
});

test('legs are deltas and reset on ENTER', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 4, 100);
  for (const [i, price] of [[1, 101], [2, 102], [3, 103]] as const) {
    h.exit(`x${i}`, BTC, { qty: 1 });
    h.fill(coid(`x${i}`), 1, price);
  }
  h.exit('x4', BTC, { final: true });
  h.fill(coid('x4'), 1, 104);
  const t1 = h.rows('trade_exit_legs');
  assert.deepEqual(t1.map((l) => l['leg_index']), [1, 2, 3, 4]);
  assert.deepEqual(t1.map((l) => l['leg_qty']), [1, 1, 1, 1], 'each leg its own qty, not cumulative');
  assert.deepEqual(t1.map((l) => l['leg_realized_pnl']), [1, 2, 3, 4]);
  assert.deepEqual(t1.map((l) => l['remaining_qty']), [3, 2, 1, 0]);
  const count = t1.length;
  h.open('e2', BTC, 'long', 1, 200);
  assert.equal(h.slot(BTC).legs, 0, 'a new trade starts with no legs');
  assert.equal(h.slot(BTC).realized_pnl, 0);
  h.exit('y1', BTC, { final: true });
  h.fill(coid('y1'), 1, 190);
  const t2 = h.rows('trade_exit_legs').slice(count);
  assert.equal(t2.length, 1);
  assert.equal(t2[0]!['leg_index'], 1, 'leg_index restarts');
  assert.equal(t2[0]!['cum_realized_pnl'], -10, 'cum restarts');
  assert.notEqual(t2[0]!['trade_id'], t1[0]!['trade_id']);
});

test('entry reject returns to IDLE', () => {
  for (const from of ['IDLE', 'CLOSED'] as const) {
    const h = new Harness();
    if (from === 'CLOSED') {
      h.open('e0', BTC, 'long', 1, 100);
      h.exit('x0', BTC, { final: true });
      h.fill(h.coidOf('x0'), 1, 100);
    }
    const coid = h.enter('e1', BTC, 'long', 1);
    assert.equal(h.slot(BTC).state, 'ENTRY_WORKING');
    const out = h.event({ kind: 'REJECTED', client_order_id: coid, reason: 'insufficient margin' });
    assert.deepEqual(codes(out), ['ORDER_REJECTED']);
    assert.match(String(out[0]!.details.reason), /insufficient margin/);
    assert.equal(h.slot(BTC).state, 'IDLE', `from ${from}`);
    assert.equal(h.slot(BTC).working_order, null);
    // The decision engine re-evaluates: a new ENTER is accepted.
    h.enter('e2', BTC, 'long', 1);
  }
});

test('exit reject stays in EXIT_WORKING', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 1, 100);
  h.exit('x1', BTC, { final: true });
  const out = h.event({ kind: 'REJECTED', client_order_id: coid('x1'), reason: 'precision' });
  assert.deepEqual(codes(out), ['EXIT_ORDER_REJECTED']);
  assert.equal(h.slot(BTC).state, 'EXIT_WORKING');
  assert.equal(h.slot(BTC).working_order, null, 'no live order: the next EXIT is the retry');
  assert.equal(h.slot(BTC).qty, 1, 'position untouched');
  const retry = h.exit('x2', BTC, { final: true });
  assert.deepEqual(codes(retry), ['INTENT_ACCEPTED']);
  assert.equal(retry[0]!.commands.length, 1);
  h.fill(coid('x2'), 1, 100);
  assert.equal(h.slot(BTC).state, 'CLOSED');
});

test('cancel reject leaves the slot', () => {
  const h = new Harness();
  const coid = h.enter('e1', BTC, 'long', 2);
  h.accept(coid);
  const cancel = h.intent({ intent_id: 'c1', symbol: BTC, action: 'CANCEL' });
  assert.deepEqual(cancel[0]!.commands.map((c) => c.kind), ['CANCEL']);
  const viewBefore = h.slot(BTC);
  const out = h.event({ kind: 'CANCEL_REJECTED', client_order_id: coid, reason: 'order filled' });
  assert.deepEqual(codes(out), ['CANCEL_REJECTED']);
  assert.equal(out[0]!.severity, 'WARNING');
  const after = h.slot(BTC);
  assert.equal(after.state, 'ENTRY_WORKING');
  assert.equal(after.working_order?.client_order_id, coid, 'the order stays working');
  assert.equal(viewBefore.working_order?.cancel_requested, true);
  assert.equal(after.working_order?.cancel_requested, false, 'the cancel may be asked again');
  assert.deepEqual(codes(h.intent({ intent_id: 'c2', symbol: BTC, action: 'CANCEL' })), ['INTENT_ACCEPTED']);
});

test('NO_ACTIVE_EXIT_ORDER', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 1, 100);
  h.exit('x1', BTC, { final: true });
  h.fill(coid('x1'), 1, 100); // filled between decision and execution...
  const before = h.k.checkpoint();
  const cancel = h.intent({ intent_id: 'c1', symbol: BTC, action: 'CANCEL' }); // ...of this cancel
  assert.deepEqual(codes(cancel), ['NO_ACTIVE_EXIT_ORDER']);
  assert.equal(cancel[0]!.severity, 'INFO');
  assert.equal(cancel[0]!.commands.length, 0);
  assert.deepEqual(codes(h.exit('x2', ETH, { final: true })), ['NO_ACTIVE_EXIT_ORDER'], 'EXIT on a flat IDLE slot');
  assert.equal(h.k.checkpoint(), before);
});

test('DUPLICATE_EVENT changes nothing', () => {
  const h = new Harness();
  const coid = h.enter('e1', BTC, 'long', 2);
  h.fill(coid, 1, 100, 0.1, 'F1');
  const before = h.k.checkpoint();
  const rowsBefore = h.log.length;
  // Same event id again, and the same fill id under another event id (seen by poll then reconcile).
  const again = h.event({ kind: 'FILL', client_order_id: coid, qty: 1, price: 100, fee: 0.1, fill_id: 'F1', event_id: 'ev-2' });
  const sameFill = h.event({ kind: 'FILL', client_order_id: coid, qty: 1, price: 100, fee: 0.1, fill_id: 'F1', event_id: 'other' });
  for (const out of [again, sameFill]) {
    assert.deepEqual(codes(out), ['DUPLICATE_EVENT']);
    assert.equal(out[0]!.severity, 'INFO');
    assert.equal(out[0]!.rows.length, 0, 'no row');
  }
  assert.equal(h.k.checkpoint(), before, 'no state or capital change');
  assert.equal(h.log.length, rowsBefore + 2);
  assert.equal(h.slot(BTC).qty, 1);
  assert.deepEqual(codes(h.intent({ intent_id: 'e1', symbol: BTC, action: 'ENTER', side: 'long', qty: 2 })), ['DUPLICATE_EVENT'], 'a resent intent');
});

test('STALE_STATE_RECONCILING blocks events until reconcile', () => {
  const h = new Harness();
  h.tick({ [BTC]: 100 });
  const coid = h.enter('e1', BTC, 'long', 1);
  const stale = h.apply({ type: 'SEND_UNKNOWN', ts: h.next(), client_order_id: coid, reason: 'timeout' });
  assert.deepEqual(codes(stale), ['STALE_STATE_RECONCILING']);
  assert.equal(h.slot(BTC).state, 'STALE_STATE_RECONCILING');
  assert.equal(h.slot(BTC).prev_state, 'ENTRY_WORKING');
  const before = h.k.checkpoint();
  const blocked = h.fill(coid, 1, 100, 0, 'F1');
  assert.deepEqual(codes(blocked), ['STALE_STATE_RECONCILING'], 'event not applied');
  assert.deepEqual(codes(h.exit('x1', BTC, { final: true })), ['STALE_STATE_RECONCILING'], 'intents refused');
  assert.equal(h.k.checkpoint(), before);
  // The other slot is not blocked.
  h.enter('e2', ETH, 'short', 1);
  // The venue's truth: the order was created and filled.
  const rec = h.reconcile({
    positions: [{ symbol: BTC, side: 'long', qty: 1, entry_price: 100 }],
    fills: [{ fill_id: 'F1', client_order_id: coid, venue_order_id: 'v1', symbol: BTC, side: 'buy', qty: 1, price: 100, fee: 0, ts: h.ts }],
    open_orders: [{ client_order_id: h.coidOf('e2'), venue_order_id: 'v2', symbol: ETH, side: 'sell', order_type: 'market', qty: 1, filled_qty: 0, reduce_only: false, ts: h.ts }],
  });
  assert.equal(rec[0]!.diagnostic_code, 'RECONCILED');
  assert.equal(rec[0]!.details['converged'], true);
  assert.equal(h.slot(BTC).state, 'OPEN');
  assert.equal(h.slot(BTC).qty, 1);
  // The blocked event arrives again: its fill was inferred, so it is a duplicate now.
  assert.deepEqual(codes(h.fill(coid, 1, 100, 0, 'F1')), ['DUPLICATE_EVENT']);
});

test('RATE_LIMITED cooldown and the persistent anomaly', () => {
  const h = new Harness({ ...CONFIG, rate_limit_cooldown_ms: 5_000, rate_limit_persistent_ms: 60_000 });
  h.tick({ [BTC]: 100 });
  const coid = h.enter('e1', BTC, 'long', 1);
  // The PLACE itself was refused for rate: never placed, the slot is retryable.
  const rl = h.apply({ type: 'RATE_LIMITED', ts: h.next(), client_order_id: coid, reason: '429' });
  assert.deepEqual(codes(rl), ['RATE_LIMITED']);
  assert.equal(rl[0]!.severity, 'WARNING');
  assert.equal(rl[0]!.details.retry_after_ms, 5_000, 'the configured cooldown');
  assert.equal(h.slot(BTC).state, 'IDLE');
  assert.equal(h.rows('anomalies').at(-1)!['code'], 'RATE_LIMITED');
  // During the cooldown nothing is sent.
  const before = h.k.checkpoint();
  const refused = h.intent({ intent_id: 'e1', symbol: BTC, action: 'ENTER', side: 'long', qty: 1 });
  assert.deepEqual(codes(refused), ['RATE_LIMITED']);
  assert.equal(refused[0]!.commands.length, 0);
  assert.ok((refused[0]!.details.retry_after_ms ?? 0) > 0);
  assert.equal(h.k.checkpoint(), before);
  // After it, the same intent is resent with the same client order id and accepted.
  h.next(5_000);
  const resent = h.intent({ intent_id: 'e1', symbol: BTC, action: 'ENTER', side: 'long', qty: 1 });
  assert.deepEqual(codes(resent), ['INTENT_ACCEPTED']);
  assert.equal(resent[0]!.commands[0]!.client_order_id, coid);
  // The venue's retry-after wins over the default; a persistent cycle is reported once.
  let persistent = 0;
  for (let i = 0; i < 20; i += 1) {
    const out = h.apply({ type: 'RATE_LIMITED', ts: h.next(10_000), retry_after_ms: 2_000, reason: '429' });
    assert.equal(out[0]!.details.retry_after_ms, 2_000);
    persistent += codes(out).filter((c) => c === 'RATE_LIMITED_PERSISTENT').length;
  }
  assert.equal(persistent, 1, 'once per cycle');
  const anomaly = h.rows('anomalies').find((r) => r['code'] === 'RATE_LIMITED_PERSISTENT')!;
  assert.equal(anomaly['origin'], 'ditav2_kernel');
  assert.equal(anomaly['severity'], 'ERROR');
  assert.equal(h.k.view().rateLimit.persistent, true);
  h.apply({ type: 'VENUE_OK', ts: h.next() });
  assert.equal(h.k.view().rateLimit.consecutive, 0, 'VENUE_OK ends the cycle');
  assert.equal(h.k.view().rateLimit.persistent, false);
});

test('capital never read from a balance poll', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 1, 100, 0.5);
  const capital = h.k.view().account.capital;
  near(capital, 10_000 - 0.5, 1e-9);
  const out = h.reconcile({ balance_usdt: 12_345, positions: [{ symbol: BTC, side: 'long', qty: 1, entry_price: 100 }] });
  const account = h.k.view().account;
  assert.equal(account.capital, capital, 'capital unchanged by the balance');
  assert.equal(account.venue_balance, 12_345);
  near(account.drift!, 12_345 - capital, 1e-9);
  assert.deepEqual(codes(out), ['RECONCILED', 'ACCOUNT_DRIFT']);
  const row = h.rows('account', out).at(-1)!;
  assert.equal(row['capital'], capital);
  assert.equal(row['venue_balance'], 12_345);
  // Later steps keep the kernel's own capital.
  h.exit('x1', BTC, { final: true });
  h.fill(coid('x1'), 1, 110, 0.5);
  near(h.k.view().account.capital, 10_000 + 10 - 1, 1e-9);
});

test('partial entry fills: ENTRY_WORKING until the entry order is done, then OPEN', () => {
  const h = new Harness();
  const coid = h.enter('e1', BTC, 'long', 3);
  h.accept(coid);
  h.fill(coid, 1, 100);
  assert.equal(h.slot(BTC).state, 'ENTRY_WORKING');
  assert.equal(h.slot(BTC).qty, 1, 'the position grows with each fill');
  assert.deepEqual(codes(h.exit('x1', BTC, { final: true })), ['INVALID_TRANSITION'], 'no exit while the entry works');
  h.fill(coid, 1, 103);
  h.event({ kind: 'CANCELED', client_order_id: coid });
  const s = h.slot(BTC);
  assert.equal(s.state, 'OPEN', 'canceled after fills: OPEN with what filled');
  assert.equal(s.qty, 2);
  near(s.avg_entry_price, 101.5);
  const opened = h.rows('trades').at(-1)!;
  assert.equal(opened['status'], 'open');
  assert.equal(opened['entry_qty'], 2);
  // A fill that raced the cancel still counts (late fill).
  h.fill(coid, 1, 106);
  assert.equal(h.slot(BTC).qty, 3);
  assert.equal(h.slot(BTC).state, 'OPEN');
});

test('client order ids are deterministic, short, and recognisable', () => {
  const a = coid('intent-1');
  assert.equal(a, coid('intent-1'), 'a resend gives the same id');
  assert.notEqual(a, coid('intent-2'));
  for (const id of [a, coid(''), coid('x'.repeat(500)), coid('ünïcode-✓')]) {
    assert.match(id, /^pink-[a-z0-9]+$/);
    assert.ok(id.length <= 40, id);
  }
  assert.equal(isPinkClientOrderId(a), true);
  assert.equal(isPinkClientOrderId('web-123'), false);
  assert.notEqual(clientOrderId('otherhist1', 'intent-1'), a, 'another history, another id for the same intent');
  assert.ok(a.startsWith(`pink-${HID}`));
});

test('funding moves capital once per funding id', () => {
  const h = new Harness();
  h.apply({ type: 'FUNDING', ts: h.next(), symbol: BTC, amount_usdt: -1.25, funding_id: 'fund-1' });
  const dup = h.apply({ type: 'FUNDING', ts: h.next(), symbol: BTC, amount_usdt: -1.25, funding_id: 'fund-1' });
  assert.deepEqual(codes(dup), ['DUPLICATE_EVENT']);
  h.apply({ type: 'FUNDING', ts: h.next(), symbol: BTC, amount_usdt: 0.25, funding_id: 'fund-2' });
  const a = h.k.view().account;
  near(a.funding, 1, 1e-12);
  near(a.capital, 9_999, 1e-9);
});

test('hold bars count ticks while a position is held, and the max hold is flagged once', () => {
  const h = new Harness({ ...CONFIG, max_hold_bars: 3 });
  h.open('e1', BTC, 'long', 1, 100);
  const flagged: string[] = [];
  for (let i = 0; i < 6; i += 1) flagged.push(...codes(h.tick({ [BTC]: 100 + i })).filter((c) => c !== 'OK'));
  assert.deepEqual(flagged, ['HOLD_BARS_EXCEEDED']);
  assert.equal(h.slot(BTC).hold_bars, 6);
  near(h.slot(BTC).unrealized_pnl, 5);
  assert.equal(h.slot(ETH).hold_bars, 0, 'a flat slot holds nothing');
});
