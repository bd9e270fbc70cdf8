// Intents from the decision engine: ENTER, EXIT, CANCEL. Each is checked in a fixed order
// (shape, symbol, stale, duplicate, slot state, sizing, memory, rate-limit cooldown) and refused
// with an outcome before anything changes; an accepted one sends exactly one command.
import { assert } from './assert.js';
import { isDust, type Core } from './core.js';
import { clientOrderId } from './ids.js';
import { QTY_MAX, QTY_MIN } from './limits.js';
import { memoryFullReason } from './memory.js';
import { decisionRow, orderRow } from './rows.js';
import { roundDownToStep } from './steps.js';
import { isLive, newTrade, type OrderRec, type SlotRec } from './state.js';
import { tradingRefusal } from './trading.js';
import { waitsForReconcile } from './transitions.js';
import { checkIntent } from './validate.js';
import type { FaultClass } from '../faults/taxonomy.js';
import type { Intent, KernelOutcome, OutcomeDetails, VenueCommand } from './types.js';

/** The exit reason that marks an operator flatten (`pink flatten`): its orders' purpose is 'flatten'. */
export const FLATTEN_REASON = 'manual_flatten';

function refuseIntent(c: Core, intent: unknown, fault: FaultClass, details: OutcomeDetails, qty = 0): KernelOutcome {
  const symbol = typeof (intent as Intent | null)?.symbol === 'string' ? (intent as Intent).symbol : undefined;
  const requested = typeof (intent as Intent | null)?.qty === 'number' ? (intent as Intent).qty! : qty;
  return c.refuse(fault, symbol, details, [decisionRow(c, intent, fault.code, requested)]);
}

/** Milliseconds of cooldown left, or 0. Sends are refused while a rate-limit cooldown runs. */
function cooldownLeftMs(c: Core): number {
  const until = c.st.rate_limit.cooling_until_ts;
  return until !== null && c.ts < until ? until - c.ts : 0;
}

function refuseCooling(c: Core, intent: Intent, left_ms: number): KernelOutcome {
  return refuseIntent(c, intent, c.F.RATE_LIMITED, { reason: `rate-limit cooldown: nothing sent for ${left_ms} ms more`, retry_after_ms: left_ms, cooldown: true });
}

export function handleIntent(c: Core, raw: unknown): KernelOutcome[] {
  const bad = checkIntent(raw);
  if (bad !== null) return [refuseIntent(c, raw, c.F.INVALID_INTENT, { reason: bad })];
  const intent = raw as Intent;
  const slot = c.st.slots.get(intent.symbol);
  if (slot === undefined) {
    return [refuseIntent(c, intent, c.F.UNKNOWN_SYMBOL, { reason: `no slot for ${intent.symbol} (slots: ${[...c.st.slots.keys()].join(', ')})` })];
  }
  if (waitsForReconcile(slot.state)) {
    return [refuseIntent(c, intent, c.F.STALE_STATE_RECONCILING, { reason: `${intent.action} refused: ${slot.symbol} waits for a reconcile`, stale_since_ts: slot.stale_since_ts })];
  }
  if (intent.action === 'CANCEL') return [handleCancel(c, slot, intent)];
  const halted = tradingRefusal(c, intent);
  if (halted !== null) return [halted];
  const coid = clientOrderId(c.st.history_id, intent.intent_id);
  const existing = c.st.orders.get(coid);
  // An intent id is used once for as long as its order is remembered (ORDER_MEMORY_MS past its
  // last change: every fill of it can still arrive until then). The one resend allowed is of an
  // order the venue refused for rate and of which nothing was heard since: it never reached the
  // book. One that was heard from (a fill, an event) did reach it, whatever the refusal said.
  if (existing !== undefined && !(existing.status === 'not_placed' && existing.seen_event_ids.size === 0 && existing.filled_qty === 0)) {
    if (existing.intent_id === intent.intent_id) {
      const why = existing.status === 'not_placed' ? ': it was refused for rate, but the venue has since reported it, so it was placed; use a new intent_id' : '';
      return [refuseIntent(c, intent, c.F.DUPLICATE_EVENT, { reason: `intent ${intent.intent_id} was already applied (order ${coid})${why}`, client_order_id: coid })];
    }
    return [refuseIntent(c, intent, c.F.INVALID_INTENT, { reason: `client order id ${coid} of intent ${intent.intent_id} collides with intent ${existing.intent_id}; use another intent_id` })];
  }
  return [intent.action === 'ENTER' ? handleEnter(c, slot, intent, coid) : handleExit(c, slot, intent, coid)];
}

/** The refusals every new order shares, after sizing: quantity bounds, memory, cooldown. */
function sendRefusal(c: Core, intent: Intent, qty: number, what: 'entry' | 'exit'): KernelOutcome | null {
  if (!(qty > 0)) return refuseIntent(c, intent, c.F.INVALID_INTENT, { reason: `${what} size rounds to zero at ${intent.symbol}'s quantity step` });
  if (!(qty >= QTY_MIN && qty <= QTY_MAX)) return refuseIntent(c, intent, c.F.INVALID_INTENT, { reason: `${what} size ${qty} is outside [${QTY_MIN}, ${QTY_MAX}]` }, qty);
  const full = memoryFullReason(c.st);
  if (full !== null) return refuseIntent(c, intent, c.F.BOOK_MEMORY_FULL, { reason: `${intent.action} refused: ${full}` }, qty);
  const left_ms = cooldownLeftMs(c);
  if (left_ms > 0) return refuseCooling(c, intent, left_ms);
  return null;
}

function handleEnter(c: Core, slot: SlotRec, intent: Intent, coid: string): KernelOutcome {
  if (!c.can(slot, 'ENTER')) {
    return refuseIntent(c, intent, c.F.INVALID_TRANSITION, { reason: `ENTER refused: ${slot.symbol} is ${slot.state} (ENTER needs IDLE or CLOSED)`, state: slot.state });
  }
  assert(slot.working === null && slot.qty === 0, `${slot.symbol} ${slot.state} with a working order or a position`);
  let qty = intent.qty;
  if (qty === undefined) {
    if (slot.mark_price === null) {
      return refuseIntent(c, intent, c.F.INVALID_INTENT, { reason: `no mark price for ${slot.symbol} yet: notional sizing needs a TICK first` });
    }
    qty = intent.notional! / slot.mark_price;
  }
  qty = roundDownToStep(qty, c.st.config.qty_step_by_symbol[slot.symbol]);
  const refused = sendRefusal(c, intent, qty, 'entry');
  if (refused !== null) return refused;

  c.begin();
  c.touch(slot);
  forgetReplaced(c, coid);
  slot.trade = newTrade(c.st, slot.symbol, intent.side!, { status: 'pending', ts: 0, price: 0, qty: 0 });
  const trade_id = slot.trade.trade_id;
  slot.side = null;
  slot.avg_entry_price = 0;
  slot.hold_bars = 0;
  slot.hold_alerted = false;
  const order = newOrder(c, slot, intent, coid, 'entry', intent.side === 'long' ? 'buy' : 'sell', qty, false);
  c.move(slot, 'ENTER');
  const rows = [decisionRow(c, intent, c.F.INTENT_ACCEPTED.code, qty), orderRow(c, order, 'new', intent.reason)];
  return c.outcome(c.F.INTENT_ACCEPTED, slot.symbol, { reason: `entry ${intent.side} ${qty} sent`, trade_id, client_order_id: coid, qty }, [placeCommand(order)], rows);
}

function handleExit(c: Core, slot: SlotRec, intent: Intent, coid: string): KernelOutcome {
  if (slot.state === 'IDLE' || slot.state === 'CLOSED') {
    return refuseIntent(c, intent, c.F.NO_ACTIVE_EXIT_ORDER, { reason: `no position to exit: ${slot.symbol} is ${slot.state}`, state: slot.state });
  }
  const working = slot.working === null ? undefined : c.st.orders.get(slot.working);
  if (slot.state === 'ENTRY_WORKING') {
    return refuseIntent(c, intent, c.F.INVALID_TRANSITION, { reason: `EXIT refused: the entry order of ${slot.symbol} is still working; CANCEL it first`, state: slot.state });
  }
  if (working !== undefined) {
    return refuseIntent(c, intent, c.F.INVALID_TRANSITION, { reason: `EXIT refused: exit order ${working.client_order_id} is already working on ${slot.symbol}`, state: slot.state });
  }
  const event = slot.state === 'OPEN' ? 'EXIT' : 'EXIT_RETRY';
  if (!c.can(slot, event)) return refuseIntent(c, intent, c.F.INVALID_TRANSITION, { reason: `EXIT refused in ${slot.state}`, state: slot.state });
  assert(slot.qty > 0 && slot.trade !== null && slot.trade.status === 'open', `${slot.symbol} ${slot.state} without a position`);
  const remaining_qty = slot.qty;
  const wanted_qty = intent.final === true ? Math.max(intent.qty ?? 0, remaining_qty) : intent.qty !== undefined ? intent.qty : remaining_qty * intent.fraction!;
  const clamped = wanted_qty > remaining_qty && !isDust(wanted_qty - remaining_qty, remaining_qty);
  let qty = Math.min(wanted_qty, remaining_qty);
  if (isDust(remaining_qty - qty, remaining_qty)) qty = remaining_qty;
  if (qty < remaining_qty) qty = roundDownToStep(qty, c.st.config.qty_step_by_symbol[slot.symbol]);
  const refused = sendRefusal(c, intent, qty, 'exit');
  if (refused !== null) return refused;

  c.begin();
  forgetReplaced(c, coid);
  const purpose = intent.reason === FLATTEN_REASON ? 'flatten' : 'exit';
  const order = newOrder(c, slot, intent, coid, purpose, slot.side === 'long' ? 'sell' : 'buy', qty, true);
  c.move(slot, event);
  const fault = clamped ? c.F.EXIT_CLAMPED : c.F.INTENT_ACCEPTED;
  const rows = [decisionRow(c, intent, fault.code, qty), orderRow(c, order, 'new', intent.reason)];
  const reason = clamped ? `EXIT asked for ${wanted_qty}, ${remaining_qty} remains: clamped to the remainder (reduce-only)` : `exit ${qty} of ${remaining_qty} sent (reduce-only)`;
  return c.outcome(fault, slot.symbol, { reason, client_order_id: coid, requested_qty: wanted_qty, qty, remaining_qty }, [placeCommand(order)], rows);
}

function handleCancel(c: Core, slot: SlotRec, intent: Intent): KernelOutcome {
  const working = slot.working === null ? undefined : c.st.orders.get(slot.working);
  if (working === undefined) {
    if (slot.state === 'IDLE') return refuseIntent(c, intent, c.F.INVALID_TRANSITION, { reason: `CANCEL refused: ${slot.symbol} has no working order`, state: slot.state });
    return refuseIntent(c, intent, c.F.NO_ACTIVE_EXIT_ORDER, { reason: `CANCEL: ${slot.symbol} has no working order (it already filled or left the book)`, state: slot.state });
  }
  assert(isLive(working), `working order ${working.client_order_id} of ${slot.symbol} is ${working.status}`);
  if (!c.can(slot, 'CANCEL_REQUEST')) return refuseIntent(c, intent, c.F.INVALID_TRANSITION, { reason: `CANCEL refused in ${slot.state}`, state: slot.state });
  const left_ms = cooldownLeftMs(c);
  if (left_ms > 0) return refuseCooling(c, intent, left_ms);

  c.begin();
  working.cancel_requested = true;
  c.move(slot, 'CANCEL_REQUEST');
  const cmd: VenueCommand = { kind: 'CANCEL', client_order_id: working.client_order_id, symbol: slot.symbol };
  if (working.venue_order_id) cmd.venue_order_id = working.venue_order_id;
  const rows = [decisionRow(c, intent, c.F.INTENT_ACCEPTED.code, working.qty - working.filled_qty), orderRow(c, working, 'cancel_requested', intent.reason)];
  return c.outcome(c.F.INTENT_ACCEPTED, slot.symbol, { reason: `cancel of ${working.client_order_id} sent`, client_order_id: working.client_order_id }, [cmd], rows);
}

function newOrder(c: Core, slot: SlotRec, intent: Intent, coid: string, purpose: OrderRec['purpose'], side: OrderRec['side'], qty: number, reduce_only: boolean): OrderRec {
  assert(slot.trade !== null && slot.working === null, `new order on ${slot.symbol} with no trade or a working order`);
  const order: OrderRec = {
    client_order_id: coid,
    intent_id: intent.intent_id,
    venue_order_id: '',
    symbol: slot.symbol,
    trade_id: slot.trade.trade_id,
    purpose,
    side,
    order_type: intent.order_type ?? 'market',
    qty,
    price: intent.order_type === 'limit' ? intent.price! : 0,
    filled_qty: 0,
    reduce_only,
    status: 'pending',
    cancel_requested: false,
    reason: intent.reason,
    ts: c.ts,
    done_ts: null,
    seen_event_ids: new Set(),
  };
  c.st.orders.set(coid, order);
  slot.working = coid;
  return order;
}

function placeCommand(o: OrderRec): VenueCommand {
  const cmd: VenueCommand = {
    kind: 'PLACE',
    client_order_id: o.client_order_id,
    intent_id: o.intent_id,
    symbol: o.symbol,
    side: o.side,
    qty: o.qty,
    order_type: o.order_type,
    reduce_only: o.reduce_only,
  };
  if (o.order_type === 'limit') cmd.price = o.price;
  return cmd;
}

/** A resent intent whose order was never placed (rate-limited, nothing heard since) replaces its record. */
function forgetReplaced(c: Core, coid: string): void {
  const old = c.st.orders.get(coid);
  if (old === undefined) return;
  assert(old.status === 'not_placed' && old.seen_event_ids.size === 0 && old.filled_qty === 0, `replacing order ${coid} in status ${old.status}`);
  c.st.orders.delete(coid);
}
