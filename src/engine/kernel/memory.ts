// What the kernel remembers of its history, and for how long (limits.ts gives the bounds and why).
// Two memories make every money path idempotent for the whole history:
// - applied fill ids (State.fill_ids): a venue fill id is applied at most once, whatever order it
//   names and however it arrives; a fill older than the memory is never applied (DUPLICATE_EVENT);
// - orders (State.orders): an order is kept ORDER_MEMORY_MS past its last change once it left the
//   book, so its intent id is refused as a duplicate while any fill of it can still arrive, and a
//   late event of it is recognised. An event for one of this history's orders that is no longer
//   remembered is DUPLICATE_EVENT (INFO), unless it is a fill the kernel never saw.
// Both are pruned at each TICK (the start of a step), by kernel time; count bounds fail closed.
import type { Core } from './core.js';
import { ownClientOrderId } from './ids.js';
import { FILL_MEMORY_MS, MEMORY_PRUNE_EVERY_MS, ORDER_MEMORY_MS } from './limits.js';
import { isLive, type State } from './state.js';
import type { KernelOutcome, VenueEvent } from './types.js';

/** Whether a fill of venue time `fill_ts` is older than what the memory can vouch for. */
export function fillTooOld(c: Core, fill_ts: number): boolean {
  return c.prev_last_ts !== null && fill_ts < c.prev_last_ts - FILL_MEMORY_MS;
}

/** Why a fill must not be applied because it was (or may have been) already: null if it is new. */
export function fillSeenReason(c: Core, fill_id: string, fill_ts: number): string | null {
  if (c.st.fill_ids.has(fill_id)) return `fill ${fill_id} was already applied in this history`;
  if (fillTooOld(c, fill_ts)) return `fill ${fill_id} at ${fill_ts} is older than the history's fill memory (${FILL_MEMORY_MS / 60_000} min before the last input): applied while remembered, or outside every reconcile lookback`;
  return null;
}

/** Room for one more applied fill id (FILL_IDS_MAX): a full memory refuses rather than forgets. */
export function fillMemoryFull(st: State): boolean {
  return st.fill_ids.size >= st.config.fill_ids_max;
}

/** Why new sends are refused for memory (BOOK_MEMORY_FULL), or null. */
export function memoryFullReason(st: State): string | null {
  const cfg = st.config;
  if (st.orders.size >= cfg.orders_remembered_max) {
    return `the order memory holds ${st.orders.size} orders (bound ${cfg.orders_remembered_max}): no new order until older ones are ${ORDER_MEMORY_MS / 60_000} min past`;
  }
  if (st.fill_ids.size >= cfg.fill_ids_intents_max) {
    return `the fill memory holds ${st.fill_ids.size} fill ids (new sends stop at ${cfg.fill_ids_intents_max}, bound ${cfg.fill_ids_max}): no new order until older fills are ${FILL_MEMORY_MS / 60_000} min past`;
  }
  return null;
}

export function rememberFill(st: State, fill_id: string, fill_ts: number): void {
  st.fill_ids.set(fill_id, fill_ts);
}

/**
 * Forgets what no later input can need: fill ids whose venue time is FILL_MEMORY_MS before the
 * kernel's time, orders off the book for ORDER_MEMORY_MS. Both maps are in (about) the order their
 * entries age: fill ids as applied (fills arrive about in time order), orders off the book as they
 * left it (state.ts retire), behind at most one live order per slot. So each is pruned from the
 * front, stopping at the first recent entry: O(what goes + the slots) a step. An entry out of order
 * is kept until those before it go: longer, never shorter. At most once per
 * MEMORY_PRUNE_EVERY_MS of kernel time. Returns how many entries went.
 */
export function pruneMemory(st: State): number {
  const now = st.last_ts;
  if (now === null || (st.pruned_ts !== null && now - st.pruned_ts < MEMORY_PRUNE_EVERY_MS)) return 0;
  st.pruned_ts = now;
  let gone = 0;
  const fill_horizon = now - FILL_MEMORY_MS;
  for (const [id, ts] of st.fill_ids) {
    if (ts >= fill_horizon) break;
    st.fill_ids.delete(id);
    gone += 1;
  }
  const order_horizon = now - ORDER_MEMORY_MS;
  for (const o of st.orders.values()) {
    if (isLive(o)) continue;
    if (o.done_ts === null || o.done_ts >= order_horizon) break;
    st.orders.delete(o.client_order_id);
    gone += 1;
  }
  return gone;
}

/**
 * An event naming a client order id the kernel does not remember. One of this history's orders
 * that was forgotten: DUPLICATE_EVENT (INFO), its events were applied while it was remembered;
 * but a fill it never applied is UNKNOWN_ORDER (WARNING): money it cannot book, which the next
 * reconcile shows as a position mismatch. Anyone else's id: UNKNOWN_ORDER.
 */
export function forgottenOrderEvent(c: Core, ev: VenueEvent): KernelOutcome {
  const mine = ownClientOrderId(c.st.history_id, ev.client_order_id);
  const details = { client_order_id: ev.client_order_id, event_id: ev.event_id };
  if (mine && ev.kind !== 'FILL') {
    return c.refuse(c.F.DUPLICATE_EVENT, undefined, { reason: `${ev.kind} ${ev.event_id} for ${ev.client_order_id}, an order of this history no longer remembered (off the book for over ${ORDER_MEMORY_MS / 60_000} min): nothing to do`, ...details });
  }
  if (mine) {
    const seen = fillSeenReason(c, ev.fill_id!, ev.ts);
    if (seen !== null) return c.refuse(c.F.DUPLICATE_EVENT, undefined, { reason: `${seen}; its order ${ev.client_order_id} is no longer remembered`, fill_id: ev.fill_id, ...details });
    return c.refuse(c.F.UNKNOWN_ORDER, undefined, { reason: `fill ${ev.fill_id} of ${ev.client_order_id}, an order of this history no longer remembered, was never applied: the reconcile compares positions`, fill_id: ev.fill_id, ...details });
  }
  return c.refuse(c.F.UNKNOWN_ORDER, undefined, { reason: `${ev.kind} for ${ev.client_order_id}, which is not an order of this PINK history`, ...details });
}
