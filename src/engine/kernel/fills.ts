// Fills: the only way a position and the realized PnL move (besides a reconcile's synthetic close
// at the mark). Shared by venue FILL events and reconcile-inferred fills.
//
// Legs. One exit leg = one applied fill of an exit order (or one synthetic close). Each leg row
// holds its own delta (leg_qty, leg_realized_pnl, leg_fee), never a running total except the
// explicit cum_realized_pnl. Because every exit fill is clamped to the position (a fill never
// crosses zero) and the last one takes exactly what remains, sum(leg_qty) = entry_qty and
// sum(leg_realized_pnl) = the trade's realized_pnl on close, whatever the partial-fill pattern.
// Realized PnL is gross of fees: (leg_price − avg_entry) × leg_qty × (+1 long, −1 short); fees go
// to `fees` (entry fees in the trade's fees, exit fees in leg_fee too).
//
// Entry fills. The slot stays ENTRY_WORKING while the entry order is live, its position growing
// with each partial fill; it becomes OPEN when the entry order is done: fully filled, or canceled
// / expired / rejected after at least one fill. A fill on an order that already left the book
// (it raced a cancel) is applied as a "late" fill of the current trade.
//
// Fills after their trade. A fill can arrive after the trade of its order is over: an entry
// partly filled, canceled, its filled part exited (the trade closed), and then the rest of the
// entry's fill is reported (it raced the cancel at the venue). The venue netted that fill into
// the position it held then (one-way mode), so the kernel does the same (applyFillAfterTrade):
// it opens a new trade from the fill, grows the current trade, or is an exit leg of it, with the
// fill's own price, fee and fills row. Refusing it would leave the position to a reconcile's
// adoption, which loses the fee and books the venue's average entry price instead of the fill's
// (issue 15: every venue fill applied once).
import { assert } from './assert.js';
import { isDust, type Core } from './core.js';
import { rememberFill } from './memory.js';
import { fillRow, legRow, orderRow, tradeRow, type FillFacts, type LegFacts } from './rows.js';
import { isLive, newTrade, retire, touchDone, type OrderRec, type SlotRec, type TradeRec } from './state.js';
import type { KernelOutcome, PositionSide, RowOut, VenueCommand } from './types.js';

/** Why this order's fill cannot be applied to this slot now (null: it can). Pure. */
export function fillRefusal(slot: SlotRec, order: OrderRec): string | null {
  if (slot.trade === null || order.trade_id !== slot.trade.trade_id) {
    return `fill of ${order.client_order_id} belongs to trade ${order.trade_id}, not the slot's current trade`;
  }
  if (order.purpose === 'entry' && slot.trade.status === 'closed') {
    return `entry fill of ${order.client_order_id} after trade ${order.trade_id} closed; the reconcile adopts or flags the position`;
  }
  return null;
}

const dirOf = (slot: SlotRec): number => (slot.trade?.side === 'short' ? -1 : 1);

/** How a fill after its trade (fillRefusal refused it for its own trade) nets into the slot. */
export type AfterTradePlan =
  /** Flat, no working order: the fill opens a new trade on its side. */
  | 'open'
  /** The fill is on the side of the slot's trade (open, or pending with its entry working): it grows it. */
  | 'grow'
  /** The fill is against the slot's position: an exit leg of the current trade, up to its size. */
  | 'reduce'
  /** A reduce-only fill with nothing of the other side to reduce: only its fee is counted (OVERFILL). */
  | 'fee_only';

/**
 * How the venue netted a fill refused for its own trade into the position as it is now; null when
 * it cannot be netted as the venue would have (a fill against a pending trade's side while that
 * trade's entry works and nothing has filled): refused, and the reconcile flags the position.
 */
export function afterTradePlan(slot: SlotRec, order: OrderRec): AfterTradePlan | null {
  if (fillRefusal(slot, order) === null) return null;
  const toward: PositionSide = order.side === 'buy' ? 'long' : 'short';
  if (slot.qty > 0) {
    if (slot.side !== toward) return 'reduce';
    return order.reduce_only ? 'fee_only' : 'grow';
  }
  if (order.reduce_only) return 'fee_only';
  if (slot.working === null) return 'open';
  const t = slot.trade;
  return t !== null && t.status === 'pending' && t.side === toward ? 'grow' : null;
}

/**
 * Applies one fill (the caller began the input, checked fillRefusal, the history's fill ids and
 * room in the fill memory). The fill id is remembered for the history whatever part of the fill
 * applies. Excess over the order (or, for an exit, the position) is not applied: OVERFILL, unless
 * it is dust of the order (QTY_DUST_RATIO): a trailing fill the size of the remainder the kernel
 * already counted when it snapped the order to complete is absorbed (its fee counts), not an
 * overfill.
 */
export function applyFill(c: Core, slot: SlotRec, order: OrderRec, f: FillFacts, inferred: boolean): KernelOutcome[] {
  assert(c.mutating, 'applyFill outside a mutating input');
  assert(fillRefusal(slot, order) === null, `applyFill on a refused fill of ${order.client_order_id}`);
  assert(!c.st.fill_ids.has(f.fill_id), `fill ${f.fill_id} applied twice`);
  c.touch(slot);
  rememberFill(c.st, f.fill_id, f.ts);
  if (f.venue_order_id && !order.venue_order_id) order.venue_order_id = f.venue_order_id;
  const wasLive = isLive(order);
  // A late fill is activity: the order is remembered ORDER_MEMORY_MS from now.
  if (!wasLive) touchDone(c.st, order, c.ts);
  const order_left_qty = Math.max(0, order.qty - order.filled_qty);
  const cap_qty = order.purpose === 'entry' ? order_left_qty : Math.min(order_left_qty, slot.qty);
  let qty = Math.min(f.qty, cap_qty);
  if (isDust(cap_qty - qty, order.qty)) qty = cap_qty;
  const over_qty = f.qty - qty;
  const overfill = over_qty > 0 && !isDust(over_qty, order.qty);
  const outcomes: KernelOutcome[] = [];
  if (qty > 0) {
    const rows: RowOut[] = [fillRow(c, order, f, qty, inferred)];
    order.filled_qty = isDust(order.qty - (order.filled_qty + qty), order.qty) ? order.qty : order.filled_qty + qty;
    if (wasLive) {
      if (order.filled_qty >= order.qty) retire(c.st, order, 'filled', c.ts);
      else order.status = 'partially_filled';
    }
    rows.push(orderRow(c, order, order.status, inferred ? 'inferred_fill' : 'fill'));
    chargeFee(c, slot, f);
    const main =
      order.purpose === 'entry'
        ? applyEntryFill(c, slot, order, f, qty, wasLive, rows)
        : applyExitFill(c, slot, order, f, qty, wasLive, rows);
    outcomes.push(main);
  } else if (!overfill) {
    chargeFee(c, slot, f);
    const rows = [fillRow(c, order, f, 0, inferred)];
    outcomes.push(c.outcome(c.F.FILL_APPLIED, slot.symbol, { ...fillDetails(order, f, 0, slot), reason: `${order.purpose} fill ${f.fill_id} of ${f.qty}: the dust remainder of ${order.client_order_id}, already counted complete; nothing more applied (fee ${f.fee_usdt} counted)` }, [], rows));
  }
  if (overfill) {
    // Nothing of it applies (e.g. an exit's fill after its trade closed at the mark): the venue
    // charged its fee all the same, so capital counts it and a fills row (qty 0) records the fill.
    const rows: RowOut[] = [];
    if (qty === 0) {
      chargeAccountFee(c, f);
      rows.push(fillRow(c, order, f, 0, inferred));
    }
    outcomes.push(
      c.outcome(c.F.OVERFILL, slot.symbol, {
        reason: `fill ${f.fill_id} of ${order.client_order_id} is ${f.qty}, only ${qty} applied (order ${order.filled_qty}/${order.qty} filled, position ${slot.qty}): the excess is not applied`,
        fill_id: f.fill_id,
        client_order_id: order.client_order_id,
        fill_qty: f.qty,
        applied_qty: qty,
      }, [], rows),
    );
  }
  assert(outcomes.length > 0, 'a fill with nothing applied and no excess');
  return outcomes;
}

/**
 * Applies a fill that fillRefusal refused for its own trade, as afterTradePlan nets it (the caller
 * began the input and checked the plan, the history's fill ids and room in the fill memory). Its
 * fills row names the trade it was applied to; the outcome is FILL_AFTER_TRADE (WARNING), plus
 * TRADE_CLOSED when it closed the current trade and OVERFILL for any part it could not apply.
 */
export function applyFillAfterTrade(c: Core, slot: SlotRec, order: OrderRec, f: FillFacts, inferred: boolean): KernelOutcome[] {
  assert(c.mutating, 'applyFillAfterTrade outside a mutating input');
  const plan = afterTradePlan(slot, order);
  assert(plan !== null, `applyFillAfterTrade on ${order.client_order_id} with no plan`);
  assert(!isLive(order), `fill after trade on live order ${order.client_order_id}`);
  assert(!c.st.fill_ids.has(f.fill_id), `fill ${f.fill_id} applied twice`);
  c.touch(slot);
  rememberFill(c.st, f.fill_id, f.ts);
  if (f.venue_order_id && !order.venue_order_id) order.venue_order_id = f.venue_order_id;
  touchDone(c.st, order, c.ts);
  const whose = `${order.purpose} ${order.client_order_id} of trade ${order.trade_id}`;
  if (plan === 'fee_only') return [feeOnlyAfterTrade(c, slot, order, f, inferred, whose)];
  if (plan === 'open') {
    c.lateTrades += 1;
    slot.trade = newTrade(c.st, slot.symbol, order.side === 'buy' ? 'long' : 'short', { status: 'pending', ts: 0, price: 0, qty: 0 }, `f${c.lateTrades}`);
    slot.hold_bars = 0;
    slot.hold_alerted = false;
  }
  const trade = slot.trade!;
  chargeFee(c, slot, f);
  const rows: RowOut[] = [];
  const commands: VenueCommand[] = [];
  const { applied, what } = plan === 'reduce' ? reduceAfterTrade(c, slot, order, f, inferred, rows, commands) : growAfterTrade(c, slot, order, f, inferred, plan === 'open', rows);
  const outcomes: KernelOutcome[] = [
    c.outcome(c.F.FILL_AFTER_TRADE, slot.symbol, {
      reason: `fill ${f.fill_id} of ${whose}, which is over: ${order.side} ${applied} @ ${f.price} ${what}, as the venue netted it (fee ${f.fee_usdt})`,
      client_order_id: order.client_order_id,
      fill_id: f.fill_id,
      qty: applied,
      price: f.price,
      trade_id: trade.trade_id,
      position_qty: slot.qty,
    }, commands, rows),
  ];
  if (trade.status === 'closed') {
    outcomes.push(c.outcome(c.F.TRADE_CLOSED, slot.symbol, { reason: `trade ${trade.trade_id} closed by fill ${f.fill_id} of ${order.client_order_id}`, trade_id: trade.trade_id, realized_pnl: trade.realized_pnl_usdt }));
  }
  const over_qty = f.qty - applied;
  if (over_qty > 0 && !isDust(over_qty, f.qty)) {
    outcomes.push(c.outcome(c.F.OVERFILL, slot.symbol, {
      reason: `fill ${f.fill_id} of ${order.client_order_id} is ${f.qty}, only ${applied} applied (the position it reduced was ${applied}): the excess is not applied`,
      fill_id: f.fill_id,
      client_order_id: order.client_order_id,
      fill_qty: f.qty,
      applied_qty: applied,
    }));
  }
  return outcomes;
}

/** A reduce-only fill after its trade with nothing to reduce: only its fee counts (OVERFILL). */
function feeOnlyAfterTrade(c: Core, slot: SlotRec, order: OrderRec, f: FillFacts, inferred: boolean, whose: string): KernelOutcome {
  chargeAccountFee(c, f);
  return c.outcome(c.F.OVERFILL, slot.symbol, {
    reason: `fill ${f.fill_id} of ${whose}, which is over: ${order.side} ${f.qty} @ ${f.price} is reduce-only and PINK holds ${slot.side ?? 'flat'} ${slot.qty}: nothing applied but its fee ${f.fee_usdt}`,
    fill_id: f.fill_id,
    client_order_id: order.client_order_id,
    fill_qty: f.qty,
    applied_qty: 0,
  }, [], [fillRow(c, order, f, 0, inferred)]);
}

/** A fill after its trade against the current trade: an exit leg of it (closing it when it is all). */
function reduceAfterTrade(c: Core, slot: SlotRec, order: OrderRec, f: FillFacts, inferred: boolean, rows: RowOut[], commands: VenueCommand[]): { applied: number; what: string } {
  const trade = slot.trade!;
  let applied = Math.min(f.qty, slot.qty);
  if (isDust(slot.qty - applied, trade.entry_qty)) applied = slot.qty;
  rows.push(fillRow(c, order, f, applied, inferred, trade.trade_id));
  const leg = recordExitLeg(c, slot, { ts: f.ts, leg_qty: applied, leg_price: f.price, leg_realized_pnl: 0, leg_fee: f.fee_usdt, exit_reason: order.reason, client_order_id: order.client_order_id }, rows);
  if (leg.closed) closeTrade(c, slot, f.ts, order.reason, order.client_order_id, commands, rows);
  else c.move(slot, 'LATE_EXIT_FILL');
  return { applied, what: leg.closed ? `closed trade ${trade.trade_id}` : `reduced trade ${trade.trade_id} to ${slot.side} ${slot.qty}` };
}

/** A fill after its trade on the current trade's side (or opening one on a flat slot): the trade grows by all of it. */
function growAfterTrade(c: Core, slot: SlotRec, order: OrderRec, f: FillFacts, inferred: boolean, opened: boolean, rows: RowOut[]): { applied: number; what: string } {
  const trade = slot.trade!;
  rows.push(fillRow(c, order, f, f.qty, inferred, trade.trade_id));
  growTrade(c, slot, trade, f.qty, f);
  rows.push(tradeRow(c, slot, trade));
  c.move(slot, 'LATE_ENTRY_FILL');
  return { applied: f.qty, what: opened ? `opened trade ${trade.trade_id}, ${trade.side} ${slot.qty}` : `grew trade ${trade.trade_id} to ${trade.side} ${slot.qty}` };
}

/** A fill's fee: the trade's and the account's (capital moves only by what the kernel applies). */
function chargeFee(c: Core, slot: SlotRec, f: FillFacts): void {
  slot.trade!.fees_usdt += f.fee_usdt;
  chargeAccountFee(c, f);
}

/** The fee of a fill of which nothing applied: the venue charged it, so capital counts it. */
function chargeAccountFee(c: Core, f: FillFacts): void {
  c.st.account.fees_usdt += f.fee_usdt;
  c.accountMoved();
}

/** Adds `qty` at the fill's price to the slot's position and its trade (pending → open). */
function growTrade(c: Core, slot: SlotRec, trade: TradeRec, qty: number, f: FillFacts): void {
  assert(trade.status !== 'closed', `growing closed trade ${trade.trade_id}`);
  const new_qty = slot.qty + qty;
  slot.avg_entry_price = (slot.avg_entry_price * slot.qty + f.price * qty) / new_qty;
  slot.qty = new_qty;
  slot.side = trade.side;
  trade.entry_qty += qty;
  trade.entry_price = slot.avg_entry_price;
  if (trade.status === 'pending') {
    trade.status = 'open';
    trade.entry_ts = f.ts;
  }
}

function applyEntryFill(c: Core, slot: SlotRec, order: OrderRec, f: FillFacts, qty: number, wasLive: boolean, rows: RowOut[]): KernelOutcome {
  const trade = slot.trade!;
  growTrade(c, slot, trade, qty, f);
  const done = order.status === 'filled';
  if (wasLive && done) slot.working = null;
  c.move(slot, !wasLive ? 'LATE_ENTRY_FILL' : done ? 'ENTRY_FILLED' : 'ENTRY_FILL');
  // The trade's open row: when the entry is complete, and again if a late fill changes it.
  if (!wasLive || done) rows.push(tradeRow(c, slot, trade));
  return c.outcome(c.F.FILL_APPLIED, slot.symbol, fillDetails(order, f, qty, slot), [], rows);
}

function applyExitFill(c: Core, slot: SlotRec, order: OrderRec, f: FillFacts, qty: number, wasLive: boolean, rows: RowOut[]): KernelOutcome {
  const commands: VenueCommand[] = [];
  const leg = recordExitLeg(c, slot, {
    ts: f.ts,
    leg_qty: qty,
    leg_price: f.price,
    leg_realized_pnl: 0,
    leg_fee: f.fee_usdt,
    exit_reason: order.reason,
    client_order_id: order.client_order_id,
  }, rows);
  const done = order.status === 'filled';
  if (wasLive && done) slot.working = null;
  if (leg.closed) {
    closeTrade(c, slot, f.ts, order.reason, order.client_order_id, commands, rows);
    return c.outcome(c.F.TRADE_CLOSED, slot.symbol, { ...fillDetails(order, f, qty, slot), trade_id: slot.trade!.trade_id, realized_pnl: slot.trade!.realized_pnl_usdt }, commands, rows);
  }
  c.move(slot, !wasLive ? 'LATE_EXIT_FILL' : done ? 'EXIT_FILLED' : 'EXIT_FILL');
  return c.outcome(c.F.FILL_APPLIED, slot.symbol, fillDetails(order, f, qty, slot), commands, rows);
}

function fillDetails(order: OrderRec, f: FillFacts, qty: number, slot: SlotRec) {
  return {
    reason: `${order.purpose} fill ${f.fill_id}: ${order.side} ${qty} @ ${f.price}`,
    client_order_id: order.client_order_id,
    fill_id: f.fill_id,
    qty,
    price: f.price,
    position_qty: slot.qty,
  };
}

/**
 * Records one exit leg of `leg.leg_qty` (≤ the position; the last leg takes exactly what
 * remains) and its realized PnL. Returns whether the position is now flat.
 */
export function recordExitLeg(c: Core, slot: SlotRec, leg: LegFacts, rows: RowOut[]): { closed: boolean } {
  const trade = slot.trade;
  assert(trade !== null && trade.status === 'open', `exit leg on ${slot.symbol} without an open trade`);
  assert(leg.leg_qty > 0 && leg.leg_qty <= slot.qty * (1 + 1e-12), `exit leg ${leg.leg_qty} > position ${slot.qty}`);
  c.touch(slot);
  const closing = isDust(slot.qty - leg.leg_qty, trade.entry_qty);
  const qty = closing ? slot.qty : leg.leg_qty;
  const pnl = (leg.leg_price - slot.avg_entry_price) * qty * dirOf(slot);
  trade.legs += 1;
  trade.realized_pnl_usdt += pnl;
  trade.exit_qty += qty;
  trade.exit_notional_usdt += qty * leg.leg_price;
  c.st.account.realized_pnl_usdt += pnl;
  c.accountMoved();
  slot.qty = closing ? 0 : slot.qty - qty;
  rows.push(legRow(c, slot, trade, { ...leg, leg_qty: qty, leg_realized_pnl: pnl }));
  return { closed: closing };
}

/**
 * Closes the slot's trade, exactly once: status closed, the closed trades row, → CLOSED.
 * A still-live order of the slot is now pointless (reduce-only on a flat position): it is marked
 * canceled; if it is not the order whose fill closed the trade, a CANCEL is sent for it.
 */
export function closeTrade(c: Core, slot: SlotRec, ts: number, reason: string, closing_coid: string, commands: VenueCommand[], rows: RowOut[]): void {
  const trade = slot.trade!;
  assert(trade.status === 'open' && slot.qty === 0, `closeTrade on ${slot.symbol}: trade ${trade.status}, qty ${slot.qty}`);
  trade.status = 'closed';
  trade.exit_ts = ts;
  trade.exit_reason = reason;
  slot.side = null;
  if (slot.working !== null) {
    const live = c.st.orders.get(slot.working)!;
    retire(c.st, live, 'canceled', c.ts);
    rows.push(orderRow(c, live, 'canceled', 'position_flat'));
    if (live.client_order_id !== closing_coid) {
      const cmd: VenueCommand = { kind: 'CANCEL', client_order_id: live.client_order_id, symbol: live.symbol };
      if (live.venue_order_id) cmd.venue_order_id = live.venue_order_id;
      commands.push(cmd);
    }
    slot.working = null;
  }
  c.move(slot, 'POSITION_FLAT');
  rows.push(tradeRow(c, slot, trade));
}
