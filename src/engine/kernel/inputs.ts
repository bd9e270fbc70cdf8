// The inputs that are neither intents, venue events nor reconciles: TICK, FUNDING, the rate-limit
// cycle (RATE_LIMITED, VENUE_OK), VENUE_UNAVAILABLE and SEND_UNKNOWN.
import type { Core } from './core.js';
import { pruneMemory } from './memory.js';
import { fundingRow, orderRow, tradeRow } from './rows.js';
import { FUNDING_IDS_MAX, isLive, retire } from './state.js';
import { waitsForReconcile } from './transitions.js';
import type { KernelInput, KernelOutcome, RowOut } from './types.js';

type InputOf<T extends KernelInput['type']> = Extract<KernelInput, { type: T }>;

/**
 * Marks, hold bars (one per tick while a position is held), the max-hold alert once per trade;
 * and, once a step, the memories forget what is past their horizons (memory.ts).
 */
export function handleTick(c: Core, input: InputOf<'TICK'>): KernelOutcome[] {
  c.begin();
  pruneMemory(c.st);
  const out: KernelOutcome[] = [c.outcome(c.F.OK, undefined, { reason: 'tick' })];
  const max = c.st.config.max_hold_bars;
  for (const slot of c.st.slots.values()) {
    const mark = input.marks[slot.symbol];
    if (mark !== undefined) slot.mark_price = mark;
    if (slot.qty > 0) {
      slot.hold_bars += 1;
      if (slot.hold_bars > max && !slot.hold_alerted) {
        slot.hold_alerted = true;
        out.push(c.outcome(c.F.HOLD_BARS_EXCEEDED, slot.symbol, { reason: `${slot.symbol} held ${slot.hold_bars} bars, past DOLPHIN_MAX_HOLD_BARS=${max}`, hold_bars: slot.hold_bars, trade_id: slot.trade?.trade_id ?? null }));
      }
    }
  }
  return out;
}

/** Funding moves capital (the kernel's own books), once per funding id. */
export function handleFunding(c: Core, input: InputOf<'FUNDING'>): KernelOutcome[] {
  const symbol = c.st.slots.has(input.symbol) ? input.symbol : undefined;
  if (c.st.funding_ids.has(input.funding_id)) {
    return [c.refuse(c.F.DUPLICATE_EVENT, symbol, { reason: `funding ${input.funding_id} already applied`, funding_id: input.funding_id })];
  }
  c.begin();
  c.st.funding_ids.add(input.funding_id);
  if (c.st.funding_ids.size > FUNDING_IDS_MAX) c.st.funding_ids.delete(c.st.funding_ids.values().next().value!);
  // amount_usdt > 0 is received; the account keeps funding *paid*, so it subtracts.
  c.st.account.funding_usdt -= input.amount_usdt;
  c.accountMoved();
  const out = c.outcome(c.F.FUNDING_APPLIED, symbol, { reason: `funding ${input.amount_usdt} USDT on ${input.symbol}`, funding_id: input.funding_id, amount_usdt: input.amount_usdt });
  // SPEC 6's PINK-only `funding` row: what capital moved by, checkable from ClickHouse alone.
  out.rows.push(fundingRow(c, input));
  return [out];
}

/**
 * A refusal for rate. Starts (or extends) the cooldown; an order whose PLACE was refused was never
 * placed, so its slot becomes retryable; after rate_limit_persistent_ms of consecutive refusals
 * with no VENUE_OK, RATE_LIMITED_PERSISTENT is emitted once per cycle.
 */
export function handleRateLimited(c: Core, input: InputOf<'RATE_LIMITED'>): KernelOutcome[] {
  c.begin();
  const rl = c.st.rate_limit;
  const retry_after_ms = input.retry_after_ms ?? c.st.config.rate_limit_cooldown_ms;
  rl.consecutive += 1;
  if (rl.first_ts === null) rl.first_ts = c.ts;
  rl.cooling_until_ts = Math.max(rl.cooling_until_ts ?? 0, c.ts + retry_after_ms);
  const rows: RowOut[] = [];
  let order_effect = 'none';
  let symbol: string | undefined;
  const order = input.client_order_id === undefined ? undefined : c.st.orders.get(input.client_order_id);
  const slot = order === undefined ? undefined : c.st.slots.get(order.symbol);
  if (order !== undefined && slot !== undefined && isLive(order) && !waitsForReconcile(slot.state)) {
    symbol = slot.symbol;
    if (order.status === 'pending') {
      // The PLACE never reached the book: the slot must retry on the next intent.
      c.touch(slot);
      retire(c.st, order, 'not_placed', c.ts);
      slot.working = null;
      // (An entry's trade may hold a position all the same: a fill after its trade, fills.ts.)
      const held = order.purpose === 'entry' && slot.qty > 0;
      c.move(slot, order.purpose !== 'entry' ? 'EXIT_NOT_PLACED' : held ? 'ENTRY_NOT_PLACED_PARTIAL' : 'ENTRY_NOT_PLACED');
      rows.push(orderRow(c, order, 'not_placed', input.reason));
      if (held) rows.push(tradeRow(c, slot, slot.trade!));
      order_effect = `${order.client_order_id} not placed; ${slot.symbol} is ${slot.state} and retries on the next intent`;
    } else if (order.cancel_requested) {
      order.cancel_requested = false;
      order_effect = `cancel of ${order.client_order_id} not executed; the order stays working`;
    }
  }
  const out = [
    c.outcome(c.F.RATE_LIMITED, symbol, { reason: `rate limited: ${input.reason}`, retry_after_ms, consecutive: rl.consecutive, order_effect, ...(input.client_order_id ? { client_order_id: input.client_order_id } : {}) }, [], rows),
  ];
  const cycle_ms = c.ts - rl.first_ts;
  if (!rl.persistent && cycle_ms >= c.st.config.rate_limit_persistent_ms) {
    rl.persistent = true;
    out.push(c.outcome(c.F.RATE_LIMITED_PERSISTENT, undefined, { reason: `RATE_LIMITED for ${cycle_ms} ms (${rl.consecutive} in a row) with no successful venue call`, since_ts: rl.first_ts, consecutive: rl.consecutive, cycle_ms }));
  }
  return out;
}

/** A successful venue call ends the rate-limit cycle (the cooldown itself runs out by time). */
export function handleVenueOk(c: Core): KernelOutcome[] {
  const rl = c.st.rate_limit;
  if (rl.consecutive === 0 && rl.first_ts === null && !rl.persistent) return [c.refuse(c.F.OK, undefined, { reason: 'venue ok' })];
  c.begin();
  const ended = rl.consecutive;
  rl.consecutive = 0;
  rl.first_ts = null;
  rl.persistent = false;
  return [c.outcome(c.F.OK, undefined, { reason: `venue ok: rate-limit cycle of ${ended} ended` })];
}

export function handleVenueUnavailable(c: Core, input: InputOf<'VENUE_UNAVAILABLE'>): KernelOutcome[] {
  return [c.refuse(c.F.VENUE_UNAVAILABLE, undefined, { reason: `venue unavailable: ${input.reason}` })];
}

/** A send whose outcome is unknown: the slot waits for a reconcile, events on it are blocked. */
export function handleSendUnknown(c: Core, input: InputOf<'SEND_UNKNOWN'>): KernelOutcome[] {
  const order = c.st.orders.get(input.client_order_id);
  if (order === undefined) {
    return [c.refuse(c.F.UNKNOWN_ORDER, undefined, { reason: `SEND_UNKNOWN for ${input.client_order_id}, which is not a remembered PINK order`, client_order_id: input.client_order_id })];
  }
  const slot = c.st.slots.get(order.symbol)!;
  if (waitsForReconcile(slot.state)) {
    return [c.refuse(c.F.STALE_STATE_RECONCILING, slot.symbol, { reason: `send of ${order.client_order_id} unknown: ${input.reason}; ${slot.symbol} already waits for a reconcile`, client_order_id: order.client_order_id })];
  }
  c.begin();
  const prev = slot.state;
  c.move(slot, 'SEND_UNKNOWN');
  return [
    c.outcome(
      c.F.STALE_STATE_RECONCILING,
      slot.symbol,
      { reason: `send of ${order.client_order_id} unknown: ${input.reason}; ${slot.symbol} (${prev}) waits for a reconcile`, client_order_id: order.client_order_id, prev_state: prev },
      [],
      [orderRow(c, order, 'send_unknown', input.reason)],
    ),
  ];
}
