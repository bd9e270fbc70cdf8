// Applies a reconcile's corrections (reconcile.ts plans them, purely) and settles every slot in
// scope on the venue's truth through the transition table. Reconciling twice with the same
// snapshot changes nothing the second time: fills are idempotent by fill id, and every other
// correction is a consequence of a difference that the first pass removed.
import { assert } from './assert.js';
import type { Core } from './core.js';
import { orderLeftBook } from './events.js';
import { afterTradePlan, applyFill, applyFillAfterTrade, closeTrade, fillRefusal, recordExitLeg } from './fills.js';
import { fillMemoryFull, fillSeenReason, rememberFill } from './memory.js';
import { tradeRow } from './rows.js';
import { planInferredFills, planReconcile, driftDetail } from './reconcile.js';
import { capitalOf, isLive, newSlot, newTrade, type SlotRec } from './state.js';
import { balanceOf } from './validate.js';
import { holdsOf, isSettledState, settledBy, waitsForReconcile, type SettledState } from './transitions.js';
import type { Correction, KernelInput, KernelOutcome, OrderPurpose, ReconcileCorrection, RowOut, SlotState, VenueCommand } from './types.js';

type ReconcileInput = Extract<KernelInput, { type: 'RECONCILE' }>;

export function handleReconcile(c: Core, input: ReconcileInput): KernelOutcome[] {
  c.begin();
  c.accountRowAlways();
  const snapshot = input.snapshot;
  const scope = input.symbols === undefined ? null : new Set(input.symbols);
  const report: ReconcileCorrection[] = [];
  const outcomes: KernelOutcome[] = [];
  const note = (k: ReconcileCorrection): void => void report.push({ kind: k.kind, symbol: k.symbol, detail: k.detail });
  // Judged against the memory as it was before this input.
  const seen = (fill: { fill_id: string; ts: number }): boolean => fillSeenReason(c, fill.fill_id, fill.ts) !== null;

  applyMissedFills(c, snapshot, scope, seen, note, outcomes);
  // Phase 2: orders and positions.
  for (const corr of planReconcile(c.st, snapshot, scope, input.adopt_orphans === true, seen)) {
    note(corr);
    const o = applyCorrection(c, corr, snapshot.ts);
    if (o !== null) outcomes.push(o);
    if (corr.kind === 'closed' && corr.liquidation !== undefined) outcomes.push(liquidated(c, corr));
  }
  const diverged = new Set(report.filter((r) => r.kind === 'orphan_flagged' || r.kind === 'position_mismatch').map((r) => r.symbol));
  const stale_left = settleSlots(c, scope, diverged, note);
  noteDrift(c, snapshot, note, outcomes);

  const a = c.st.account;
  const blocking = report.filter((r) => r.kind === 'orphan_flagged' || r.kind === 'position_mismatch').length;
  const converged = blocking === 0 && stale_left === 0;
  const summary = c.outcome(c.F.RECONCILED, undefined, {
    reason: `${report.length} correction(s); ${converged ? 'converged' : `${blocking + stale_left} divergence(s) need an operator`}`,
    corrections: report,
    drift: a.drift_usdt,
    // Only when there is one: older journals' outcome digests were taken without the key.
    ...(a.drift_accepted_usdt !== 0 ? { drift_accepted: a.drift_accepted_usdt } : {}),
    venue_balance: a.venue_balance_usdt,
    converged,
    scope: input.symbols ?? null,
  });
  return [summary, ...outcomes];
}

type Note = (k: ReconcileCorrection) => void;

/** Phase 1: the fills PINK missed, each applied as applyFill (or, its trade over, applyFillAfterTrade) would have. */
function applyMissedFills(c: Core, snapshot: ReconcileInput['snapshot'], scope: Set<string> | null, seen: (fill: { fill_id: string; ts: number }) => boolean, note: Note, outcomes: KernelOutcome[]): void {
  for (const corr of planInferredFills(c.st, snapshot, scope, seen)) {
    assert(corr.kind === 'inferred_fill', `phase 1 planned ${corr.kind}`);
    const order = c.st.orders.get(corr.fill.client_order_id)!;
    const slot = c.st.slots.get(order.symbol)!;
    // An earlier inferred fill may have changed how this one applies (e.g. its trade closed: it
    // is then a fill after its trade, fills.ts), or made it impossible to net.
    const after = fillRefusal(slot, order) === null ? null : afterTradePlan(slot, order);
    if ((fillRefusal(slot, order) !== null && after === null) || seen(corr.fill)) continue;
    const f = corr.fill;
    if (fillMemoryFull(c.st)) {
      outcomes.push(c.outcome(c.F.BOOK_MEMORY_FULL, slot.symbol, { reason: `inferred fill ${f.fill_id} not applied: the history's fill memory is full (${c.st.fill_ids.size} ids)`, fill_id: f.fill_id }));
      continue;
    }
    const wasOpen = slot.trade?.status === 'open';
    const facts = { fill_id: f.fill_id, venue_order_id: f.venue_order_id, qty: f.qty, price: f.price, fee_usdt: f.fee, ts: f.ts };
    outcomes.push(...(after === null ? applyFill(c, slot, order, facts, true) : applyFillAfterTrade(c, slot, order, facts, true)));
    note(corr);
    if (wasOpen && slot.trade?.status === 'closed') {
      note({ kind: 'closed', symbol: slot.symbol, detail: `trade ${slot.trade.trade_id} closed by inferred fills (${slot.trade.exit_reason})` });
    }
  }
}

/**
 * Settle: every slot in scope ends in the state its facts imply; a stale slot whose symbol did not
 * converge (the venue's position is not PINK's, or not PINK's to adopt) stays stale and blocked
 * until a reconcile converges or the operator acts. Returns how many slots still wait.
 */
function settleSlots(c: Core, scope: Set<string> | null, diverged: Set<string>, note: Note): number {
  let stale_left = 0;
  for (const slot of c.st.slots.values()) {
    if (scope !== null && !scope.has(slot.symbol)) continue;
    // (Counted once, as its divergence.)
    if (waitsForReconcile(slot.state) && diverged.has(slot.symbol)) continue;
    const from = settle(c, slot);
    if (from !== null) note({ kind: 'settled', symbol: slot.symbol, detail: `${from} → ${slot.state}` });
    if (waitsForReconcile(slot.state)) stale_left += 1;
  }
  return stale_left;
}

/**
 * Drift: reported, never applied (the kernel's account is the only capital authority). Judged net
 * of the drift an operator accepted (drift.ts); `drift` itself stays venue balance − capital.
 */
function noteDrift(c: Core, snapshot: ReconcileInput['snapshot'], note: Note, outcomes: KernelOutcome[]): void {
  const a = c.st.account;
  const balance = balanceOf(snapshot.balance_usdt);
  if (balance === null) return;
  a.venue_balance_usdt = balance;
  a.drift_usdt = balance - capitalOf(a);
  const accepted = a.drift_accepted_usdt;
  const detail = driftDetail(balance, capitalOf(a), c.st.config.drift_tolerance_usdt, accepted);
  if (detail !== null) {
    note({ kind: 'drift', symbol: '', detail });
    outcomes.push(c.outcome(c.F.ACCOUNT_DRIFT, undefined, { reason: detail, drift: a.drift_usdt, ...(accepted !== 0 ? { drift_accepted: accepted } : {}), venue_balance: balance, capital: capitalOf(a) }));
  }
}

function applyCorrection(c: Core, corr: Correction, ts: number): KernelOutcome | null {
  switch (corr.kind) {
    case 'inferred_fill':
      assert(false, 'inferred fill planned in phase 2');
      break;
    case 'still_working':
      return null;
    case 'order_gone': {
      const order = c.st.orders.get(corr.client_order_id)!;
      const slot = c.st.slots.get(order.symbol)!;
      return orderLeftBook(c, slot, order, 'canceled', 'order_gone', c.F.ORDER_GONE);
    }
    case 'foreign_order':
      return c.outcome(c.F.FOREIGN_ORDER, corr.symbol, { reason: corr.detail, client_order_id: corr.client_order_id });
    case 'closed': {
      const slot = c.st.slots.get(corr.symbol)!;
      const rows: RowOut[] = [];
      const commands: VenueCommand[] = [];
      // A liquidation: the venue's fills (their price, their fees, the last one's time), remembered like any fill.
      const liq = corr.liquidation;
      if (liq !== undefined) {
        for (const id of liq.fill_ids) rememberFill(c.st, id, liq.ts);
        slot.trade!.fees_usdt += liq.fee;
        c.st.account.fees_usdt += liq.fee;
      }
      const leg = recordExitLeg(c, slot, { ts: liq?.ts ?? ts, leg_qty: slot.qty, leg_price: corr.price, leg_realized_pnl: 0, leg_fee: liq?.fee ?? 0, exit_reason: corr.reason, client_order_id: '' }, rows);
      assert(leg.closed, `synthetic close of ${slot.symbol} left ${slot.qty}`);
      closeTrade(c, slot, ts, corr.reason, '', commands, rows);
      return c.outcome(c.F.TRADE_CLOSED, slot.symbol, { reason: corr.detail, trade_id: slot.trade!.trade_id, realized_pnl: slot.trade!.realized_pnl_usdt }, commands, rows);
    }
    case 'adopted':
      return adopt(c, corr);
    case 'orphan_flagged':
      return c.outcome(c.F.ORPHAN_POSITION, corr.symbol, { reason: corr.detail, side: corr.position.side, qty: corr.position.qty, entry_price: corr.position.entry_price });
    case 'position_mismatch':
      return c.outcome(c.F.POSITION_MISMATCH, corr.symbol, { reason: corr.detail, venue_qty: corr.venue_qty, venue_side: corr.venue_side });
  }
  return null;
}

/**
 * Issue 20: the venue liquidated PINK's position (the trade was just closed with reason
 * `liquidation`): CRITICAL, and the symbol goes REDUCING (trading.ts afterInput) until an operator
 * resumes it.
 */
function liquidated(c: Core, corr: Extract<Correction, { kind: 'closed' }>): KernelOutcome {
  const liq = corr.liquidation!;
  return c.outcome(c.F.POSITION_LIQUIDATED, corr.symbol, {
    reason: `${corr.detail}; ${corr.symbol} is REDUCING until \`pink resume ${corr.symbol}\``,
    fill_id: liq.fill_id,
    price: corr.price,
    liquidation_price: liq.liquidation_price,
    fee: liq.fee,
  });
}

/** An orphan position becomes a new trade in its slot (created if the symbol has none). */
function adopt(c: Core, corr: Extract<Correction, { kind: 'adopted' }>): KernelOutcome {
  let slot = c.st.slots.get(corr.symbol);
  if (slot === undefined) {
    slot = newSlot(corr.symbol);
    c.st.slots.set(corr.symbol, slot);
  }
  assert(slot.qty === 0 && slot.working === null, `adopting onto ${slot.symbol} with a position or a working order`);
  c.touch(slot);
  const p = corr.position;
  slot.trade = newTrade(c.st, slot.symbol, p.side, { status: 'open', ts: c.ts, price: corr.entry_price, qty: p.qty });
  slot.side = p.side;
  slot.qty = p.qty;
  slot.avg_entry_price = corr.entry_price;
  slot.hold_bars = 0;
  slot.hold_alerted = false;
  if (corr.mark_price !== null) slot.mark_price = corr.mark_price;
  c.move(slot, 'ADOPT');
  return c.outcome(c.F.POSITION_ADOPTED, slot.symbol, { reason: corr.detail, trade_id: slot.trade.trade_id, side: p.side, qty: p.qty }, [], [tradeRow(c, slot, slot.trade)]);
}

/** Moves the slot to the state its facts imply; returns the state it left, or null. */
function settle(c: Core, slot: SlotRec): SlotState | null {
  const working = slot.working === null ? undefined : c.st.orders.get(slot.working);
  assert(working === undefined || isLive(working), `${slot.symbol}'s working order is ${working?.status}`);
  const target = settleTarget(slot.qty, working?.purpose ?? null, waitsForReconcile(slot.state) ? slot.prev_state! : slot.state, slot.trade?.status === 'closed');
  if (target === slot.state) return null;
  const from = slot.state;
  c.touch(slot);
  if (holdsOf(target) === 'nothing') slot.side = null;
  c.move(slot, settledBy(target));
  return from;
}

/**
 * The state a reconcile settles a slot on, from its facts: its working order's purpose (null:
 * none), its position, the state it was in (or left, if stale) and whether its trade is closed.
 * A state the venue agrees with is kept (STATE_RULES' holds); pure, for tests.
 */
export function settleTarget(qty: number, working: OrderPurpose | null, base: SlotState, trade_closed: boolean): SettledState {
  if (working !== null) return working === 'entry' ? 'ENTRY_WORKING' : 'EXIT_WORKING';
  const keep = isSettledState(base) && holdsOf(base) === (qty > 0 ? 'position' : 'nothing');
  if (keep) return base;
  if (qty > 0) return 'OPEN';
  return trade_closed ? 'CLOSED' : 'IDLE';
}
