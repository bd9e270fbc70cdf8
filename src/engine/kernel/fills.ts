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
import { assert } from './assert.js';
import { isDust, type Core } from './core.js';
import { rememberFill } from './memory.js';
import { fillRow, legRow, orderRow, tradeRow, type FillFacts, type LegFacts } from './rows.js';
import { isLive, retire, touchDone, type OrderRec, type SlotRec } from './state.js';
import type { KernelOutcome, RowOut, VenueCommand } from './types.js';

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
    outcomes.push(
      c.outcome(c.F.OVERFILL, slot.symbol, {
        reason: `fill ${f.fill_id} of ${order.client_order_id} is ${f.qty}, only ${qty} applied (order ${order.filled_qty}/${order.qty} filled, position ${slot.qty}): the excess is not applied`,
        fill_id: f.fill_id,
        client_order_id: order.client_order_id,
        fill_qty: f.qty,
        applied_qty: qty,
      }),
    );
  }
  assert(outcomes.length > 0, 'a fill with nothing applied and no excess');
  return outcomes;
}

/** A fill's fee: the trade's and the account's (capital moves only by what the kernel applies). */
function chargeFee(c: Core, slot: SlotRec, f: FillFacts): void {
  slot.trade!.fees_usdt += f.fee_usdt;
  c.st.account.fees_usdt += f.fee_usdt;
  c.accountMoved();
}

function applyEntryFill(c: Core, slot: SlotRec, order: OrderRec, f: FillFacts, qty: number, wasLive: boolean, rows: RowOut[]): KernelOutcome {
  const trade = slot.trade!;
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
