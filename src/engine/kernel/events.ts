// Venue events about PINK's orders: ACCEPTED, REJECTED, FILL, CANCELED, EXPIRED,
// CANCEL_REJECTED. Checked in a fixed order (shape, known order, duplicate by event id and by the
// history's fill ids, stale slot, order still live) and refused with an outcome before anything
// changes.
import { assert } from './assert.js';
import type { Core } from './core.js';
import { afterTradePlan, applyFill, applyFillAfterTrade, fillRefusal } from './fills.js';
import { fillMemoryFull, fillSeenReason, forgottenOrderEvent } from './memory.js';
import { orderRow, tradeRow } from './rows.js';
import { isLive, retire, type OrderRec, type SlotRec } from './state.js';
import { waitsForReconcile, type SlotEvent } from './transitions.js';
import { checkEvent } from './validate.js';
import type { KernelOutcome, RowOut, VenueEvent } from './types.js';

export function handleEvent(c: Core, raw: unknown): KernelOutcome[] {
  const bad = checkEvent(raw);
  if (bad !== null) return [c.refuse(c.F.INVALID_INPUT, undefined, { reason: `EVENT: ${bad}` })];
  const ev = raw as VenueEvent;
  const order = c.st.orders.get(ev.client_order_id);
  if (order === undefined) return [forgottenOrderEvent(c, ev)];
  const slot = c.st.slots.get(order.symbol);
  assert(slot !== undefined, `order ${order.client_order_id} on ${order.symbol} has no slot`);
  if (order.seen_event_ids.has(ev.event_id)) {
    return [c.refuse(c.F.DUPLICATE_EVENT, slot.symbol, { reason: `${ev.kind} ${ev.event_id} already applied`, event_id: ev.event_id, client_order_id: order.client_order_id })];
  }
  const seen = ev.kind === 'FILL' ? fillSeenReason(c, ev.fill_id!, ev.ts) : null;
  if (seen !== null) {
    return [c.refuse(c.F.DUPLICATE_EVENT, slot.symbol, { reason: seen, event_id: ev.event_id, fill_id: ev.fill_id, client_order_id: order.client_order_id })];
  }
  if (waitsForReconcile(slot.state)) {
    return [c.refuse(c.F.STALE_STATE_RECONCILING, slot.symbol, { reason: `${ev.kind} ${ev.event_id} not applied: ${slot.symbol} waits for a reconcile`, event_id: ev.event_id, stale_since_ts: slot.stale_since_ts })];
  }
  if (ev.kind === 'FILL') return handleFill(c, slot, order, ev);
  if (!isLive(order)) {
    const fault = ev.kind === 'CANCEL_REJECTED' ? c.F.CANCEL_REJECTED : c.F.LATE_EVENT;
    return [c.refuse(fault, slot.symbol, { reason: `${ev.kind} for ${order.client_order_id}, which is already ${order.status}: nothing to do`, client_order_id: order.client_order_id, event_id: ev.event_id })];
  }
  assert(slot.working === order.client_order_id, `live order ${order.client_order_id} is not ${slot.symbol}'s working order`);
  c.begin();
  order.seen_event_ids.add(ev.event_id);
  if (ev.venue_order_id) order.venue_order_id = ev.venue_order_id;
  switch (ev.kind) {
    case 'ACCEPTED':
      return [accepted(c, slot, order, ev)];
    case 'REJECTED':
      return [rejected(c, slot, order, ev)];
    case 'CANCELED':
      return [leftBook(c, slot, order, 'canceled', ev)];
    case 'EXPIRED':
      return [leftBook(c, slot, order, 'expired', ev)];
    case 'CANCEL_REJECTED':
      order.cancel_requested = false;
      c.move(slot, 'CANCEL_REJECTED');
      return [c.outcome(c.F.CANCEL_REJECTED, slot.symbol, { reason: `cancel of ${order.client_order_id} refused by the venue: ${ev.reason ?? 'no reason given'}; the order stays working`, client_order_id: order.client_order_id }, [], [orderRow(c, order, 'cancel_rejected', ev.reason ?? '')])];
  }
}

function handleFill(c: Core, slot: SlotRec, order: OrderRec, ev: VenueEvent): KernelOutcome[] {
  const refusal = fillRefusal(slot, order);
  const after = refusal === null ? null : afterTradePlan(slot, order);
  if (refusal !== null && after === null) return [c.refuse(c.F.INVALID_TRANSITION, slot.symbol, { reason: `${refusal}: it cannot be netted into ${slot.symbol}'s position as the venue would (${slot.state}); the reconcile flags the position`, event_id: ev.event_id, fill_id: ev.fill_id })];
  if (fillMemoryFull(c.st)) {
    return [c.refuse(c.F.BOOK_MEMORY_FULL, slot.symbol, { reason: `fill ${ev.fill_id} not applied: the history's fill memory is full (${c.st.fill_ids.size} ids); it would be unremembered, so it could be applied twice`, fill_id: ev.fill_id, client_order_id: order.client_order_id })];
  }
  c.begin();
  order.seen_event_ids.add(ev.event_id);
  const facts = { fill_id: ev.fill_id!, venue_order_id: ev.venue_order_id ?? '', qty: ev.qty!, price: ev.price!, fee_usdt: ev.fee ?? 0, ts: ev.ts };
  return after === null ? applyFill(c, slot, order, facts, false) : applyFillAfterTrade(c, slot, order, facts, false);
}

function accepted(c: Core, slot: SlotRec, order: OrderRec, ev: VenueEvent): KernelOutcome {
  // The venue's own (lot-rounded) quantity, when it says so: otherwise a market order filled at the
  // rounded size would never look "filled" to the kernel.
  if (ev.qty !== undefined && ev.qty < order.qty && ev.qty > order.filled_qty) order.qty = ev.qty;
  if (order.status === 'pending') order.status = 'accepted';
  c.move(slot, order.purpose === 'entry' ? 'ENTRY_ACCEPTED' : 'EXIT_ACCEPTED');
  return c.outcome(c.F.ORDER_ACCEPTED, slot.symbol, { reason: `${order.client_order_id} accepted`, client_order_id: order.client_order_id, venue_order_id: order.venue_order_id }, [], [orderRow(c, order, 'accepted', '')]);
}

/**
 * The venue rejected the working order (SPEC 3.1, the seed's ORDER_REJECTED / EXIT_ORDER_REJECTED):
 * an entry returns the slot to IDLE (to OPEN with what filled, if it had fills, and the trade's
 * open row); an exit, partly filled or not, stays EXIT_WORKING with no live order: the next EXIT
 * is the retry.
 */
function rejected(c: Core, slot: SlotRec, order: OrderRec, ev: VenueEvent): KernelOutcome {
  c.touch(slot);
  retire(c.st, order, 'rejected', c.ts);
  slot.working = null;
  const rows: RowOut[] = [orderRow(c, order, 'rejected', ev.reason ?? '')];
  const venue_reason = ev.reason ?? 'no reason given';
  const details = { venue_reason, client_order_id: order.client_order_id, filled_qty: order.filled_qty };
  if (order.purpose === 'entry') {
    // (A fill of an earlier trade's order may have grown the position too: fills.ts.)
    const partial = order.filled_qty > 0 || slot.qty > 0;
    c.move(slot, partial ? 'ENTRY_REJECTED_PARTIAL' : 'ENTRY_REJECTED');
    if (partial) rows.push(tradeRow(c, slot, slot.trade!));
    const after = !partial ? 'slot back to IDLE' : order.filled_qty > 0 ? `the slot is OPEN with the ${order.filled_qty} that filled` : `the slot is OPEN with the ${slot.qty} an earlier order's fill brought`;
    return c.outcome(c.F.ORDER_REJECTED, slot.symbol, { reason: `entry ${order.client_order_id} rejected: ${venue_reason}; ${after}`, ...details }, [], rows);
  }
  c.move(slot, 'EXIT_REJECTED');
  return c.outcome(c.F.EXIT_ORDER_REJECTED, slot.symbol, { reason: `exit ${order.client_order_id} rejected: ${venue_reason}; stays EXIT_WORKING, the next EXIT retries`, ...details, position_qty: slot.qty }, [], rows);
}

/** The working order left the book (canceled or expired). */
function leftBook(c: Core, slot: SlotRec, order: OrderRec, status: 'canceled' | 'expired', ev: VenueEvent): KernelOutcome {
  return orderLeftBook(c, slot, order, status, ev.reason ?? status, c.F.ORDER_CANCELED);
}

/**
 * Shared with reconcile's ORDER_GONE. A partly filled entry that leaves the book opens its trade
 * (the trades open row), whatever the slot's state: a stale slot stays stale (the table's self
 * loops) and the reconcile settles it, but its trade is open from now on.
 */
export function orderLeftBook(c: Core, slot: SlotRec, order: OrderRec, status: 'canceled' | 'expired', reason: string, fault: typeof c.F.ORDER_CANCELED | typeof c.F.ORDER_GONE): KernelOutcome {
  c.touch(slot);
  retire(c.st, order, status, c.ts);
  if (slot.working === order.client_order_id) slot.working = null;
  const rows: RowOut[] = [orderRow(c, order, status, reason)];
  const partial = order.purpose === 'entry' && (order.filled_qty > 0 || slot.qty > 0);
  const event: SlotEvent = order.purpose !== 'entry' ? 'EXIT_CANCELED' : partial ? 'ENTRY_CANCELED_PARTIAL' : 'ENTRY_CANCELED_EMPTY';
  c.move(slot, event);
  if (partial) rows.push(tradeRow(c, slot, slot.trade!));
  return c.outcome(fault, slot.symbol, { reason: `${order.client_order_id} ${status}: ${reason}`, client_order_id: order.client_order_id, filled_qty: order.filled_qty }, [], rows);
}
