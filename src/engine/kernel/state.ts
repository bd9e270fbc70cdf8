// The kernel's state, its bounds, and its (de)serialization. In memory the seen-id collections are
// Sets and the books are Maps (O(1) on the hot path); in a checkpoint they are arrays in insertion
// order, so restore rebuilds exactly the same iteration order and the run continues byte for byte.
import { assert } from './assert.js';
import type {
  KernelConfig,
  OrderPurpose,
  OrderSide,
  OrderType,
  PositionSide,
  SlotState,
  Symbol,
} from './types.js';

export const CHECKPOINT_VERSION = 1;

/**
 * Orders (and with them their seen event and fill ids) are remembered for the current trade and
 * the TRADES_REMEMBERED_MAX − 1 before it, per slot. Why forgetting is safe: an event can change
 * state only through a remembered order, and an event for a forgotten order is UNKNOWN_ORDER,
 * which changes nothing, so a late duplicate can never be applied twice. Within one trade the
 * sets grow with that trade's orders and fills and are dropped two trades later.
 */
export const TRADES_REMEMBERED_MAX = 3;
/** Funding ids kept for idempotency: at 3 fundings a day per symbol, months of history. */
export const FUNDING_IDS_MAX = 1024;
/** A position at or below this fraction of the trade's entry size is flat (float dust). */
export const QTY_DUST_RATIO = 1e-9;
export const DRIFT_TOLERANCE_USDT_DEFAULT = 1;

export type OrderStatus =
  | 'pending'
  | 'accepted'
  | 'partially_filled'
  | 'filled'
  | 'canceled'
  | 'expired'
  | 'rejected'
  /** Refused for rate before reaching the venue's book: never placed, the intent may be resent. */
  | 'not_placed';

export interface OrderRec {
  client_order_id: string;
  intent_id: string;
  venue_order_id: string;
  symbol: Symbol;
  trade_id: string;
  purpose: OrderPurpose;
  side: OrderSide;
  order_type: OrderType;
  qty: number;
  /** 0 for market orders. */
  price: number;
  filled_qty: number;
  reduce_only: boolean;
  status: OrderStatus;
  cancel_requested: boolean;
  /** The intent's reason: an exit order's reason is its legs' exit_reason. */
  reason: string;
  ts: number;
  seen_event_ids: Set<string>;
  seen_fill_ids: Set<string>;
}

export interface TradeRec {
  trade_id: string;
  side: PositionSide;
  /** pending: entry sent, nothing filled yet. */
  status: 'pending' | 'open' | 'closed';
  entry_ts: number;
  entry_price: number;
  entry_qty: number;
  exit_ts: number;
  exit_qty: number;
  exit_notional_usdt: number;
  realized_pnl_usdt: number;
  fees_usdt: number;
  legs: number;
  exit_reason: string;
}

export interface SlotRec {
  slot_id: string;
  symbol: Symbol;
  state: SlotState;
  prev_state: SlotState | null;
  stale_since_ts: number | null;
  side: PositionSide | null;
  qty: number;
  avg_entry_price: number;
  mark_price: number | null;
  hold_bars: number;
  hold_alerted: boolean;
  trade: TradeRec | null;
  /** Client order id of the one live order of the slot, if any. */
  working: string | null;
  /** Client order ids per remembered trade, oldest first; the last list is the current trade's. */
  trade_orders: string[][];
}

export interface AccountRec {
  initial_capital_usdt: number;
  realized_pnl_usdt: number;
  fees_usdt: number;
  /** Net funding paid (received funding lowers it). */
  funding_usdt: number;
  venue_balance_usdt: number | null;
  drift_usdt: number | null;
}

export interface RateLimitRec {
  cooling_until_ts: number | null;
  consecutive: number;
  first_ts: number | null;
  persistent: boolean;
}

/** KernelConfig with every optional setting resolved, as checkpointed. */
export interface NormConfig {
  namespace: string;
  initial_capital_usdt: number;
  rate_limit_cooldown_ms: number;
  rate_limit_persistent_ms: number;
  max_hold_bars: number;
  symbols: Symbol[];
  drift_tolerance_usdt: number;
  qty_step_by_symbol: Record<Symbol, number>;
}

export interface State {
  config: NormConfig;
  seq: number;
  last_ts: number | null;
  slots: Map<Symbol, SlotRec>;
  orders: Map<string, OrderRec>;
  account: AccountRec;
  rate_limit: RateLimitRec;
  funding_ids: Set<string>;
}

export function isLive(o: OrderRec): boolean {
  return o.status === 'pending' || o.status === 'accepted' || o.status === 'partially_filled';
}

export function capitalOf(a: AccountRec): number {
  return a.initial_capital_usdt + a.realized_pnl_usdt - a.fees_usdt - a.funding_usdt;
}

export function normalizeConfig(c: KernelConfig): NormConfig {
  assert(c !== null && typeof c === 'object', 'KernelConfig missing');
  assert(Number.isFinite(c.initial_capital_usdt), `initial_capital_usdt=${c.initial_capital_usdt}`);
  assert(Number.isFinite(c.rate_limit_cooldown_ms) && c.rate_limit_cooldown_ms >= 0, 'rate_limit_cooldown_ms');
  assert(Number.isFinite(c.rate_limit_persistent_ms) && c.rate_limit_persistent_ms >= 0, 'rate_limit_persistent_ms');
  assert(Number.isInteger(c.max_hold_bars) && c.max_hold_bars > 0, 'max_hold_bars');
  assert(Array.isArray(c.symbols) && c.symbols.every((s) => typeof s === 'string' && s !== ''), 'symbols');
  const steps: Record<Symbol, number> = {};
  for (const [sym, step] of Object.entries(c.qty_step_by_symbol ?? {})) {
    assert(Number.isFinite(step) && step > 0, `qty step of ${sym}`);
    steps[sym] = step;
  }
  return {
    namespace: c.namespace,
    initial_capital_usdt: c.initial_capital_usdt,
    rate_limit_cooldown_ms: c.rate_limit_cooldown_ms,
    rate_limit_persistent_ms: c.rate_limit_persistent_ms,
    max_hold_bars: c.max_hold_bars,
    symbols: [...new Set(c.symbols)],
    drift_tolerance_usdt: c.drift_tolerance_usdt ?? DRIFT_TOLERANCE_USDT_DEFAULT,
    qty_step_by_symbol: steps,
  };
}

/**
 * A trade's record when it begins, in one place for both ways a trade begins: an entry sent
 * (`pending`, nothing filled yet) or a position adopted from the venue by reconcile (`open`).
 * Its id is the symbol and the kernel sequence number of the input that began it.
 */
export function newTrade(symbol: Symbol, seq: number, side: PositionSide, entry: { status: 'pending' | 'open'; ts: number; price: number; qty: number }): TradeRec {
  return {
    trade_id: `${symbol}-${seq}`,
    side,
    status: entry.status,
    entry_ts: entry.ts,
    entry_price: entry.price,
    entry_qty: entry.qty,
    exit_ts: 0,
    exit_qty: 0,
    exit_notional_usdt: 0,
    realized_pnl_usdt: 0,
    fees_usdt: 0,
    legs: 0,
    exit_reason: '',
  };
}

export function newSlot(symbol: Symbol): SlotRec {
  return {
    slot_id: symbol,
    symbol,
    state: 'IDLE',
    prev_state: null,
    stale_since_ts: null,
    side: null,
    qty: 0,
    avg_entry_price: 0,
    mark_price: null,
    hold_bars: 0,
    hold_alerted: false,
    trade: null,
    working: null,
    trade_orders: [],
  };
}

export function newState(config: KernelConfig): State {
  const cfg = normalizeConfig(config);
  const slots = new Map<Symbol, SlotRec>();
  for (const s of cfg.symbols) slots.set(s, newSlot(s));
  return {
    config: cfg,
    seq: 0,
    last_ts: null,
    slots,
    orders: new Map(),
    account: {
      initial_capital_usdt: cfg.initial_capital_usdt,
      realized_pnl_usdt: 0,
      fees_usdt: 0,
      funding_usdt: 0,
      venue_balance_usdt: null,
      drift_usdt: null,
    },
    rate_limit: { cooling_until_ts: null, consecutive: 0, first_ts: null, persistent: false },
    funding_ids: new Set(),
  };
}

/** The checkpoint document (before canonical JSON): Sets and Maps as arrays, in order. */
export function toPlain(st: State): unknown {
  return {
    version: CHECKPOINT_VERSION,
    config: st.config,
    seq: st.seq,
    last_ts: st.last_ts,
    slots: [...st.slots.values()],
    orders: [...st.orders.values()].map((o) => ({ ...o, seen_event_ids: [...o.seen_event_ids], seen_fill_ids: [...o.seen_fill_ids] })),
    account: st.account,
    rate_limit: st.rate_limit,
    funding_ids: [...st.funding_ids],
  };
}

/** Inverse of toPlain. Throws (a plain Error) on a document that is not a kernel checkpoint. */
export function fromPlain(doc: unknown): State {
  const d = doc as Record<string, unknown>;
  if (d === null || typeof d !== 'object' || d['version'] !== CHECKPOINT_VERSION) {
    throw new Error(`not a kernel checkpoint of version ${CHECKPOINT_VERSION}`);
  }
  const need = ['config', 'seq', 'slots', 'orders', 'account', 'rate_limit', 'funding_ids'];
  for (const k of need) if (d[k] === undefined) throw new Error(`kernel checkpoint lacks "${k}"`);
  const config = normalizeConfig(d['config'] as KernelConfig);
  const slots = new Map<Symbol, SlotRec>();
  for (const s of d['slots'] as SlotRec[]) slots.set(s.symbol, { ...s, trade: s.trade ? { ...s.trade } : null, trade_orders: s.trade_orders.map((l) => [...l]) });
  const orders = new Map<string, OrderRec>();
  for (const o of d['orders'] as Array<Omit<OrderRec, 'seen_event_ids' | 'seen_fill_ids'> & { seen_event_ids: string[]; seen_fill_ids: string[] }>) {
    orders.set(o.client_order_id, { ...o, seen_event_ids: new Set(o.seen_event_ids), seen_fill_ids: new Set(o.seen_fill_ids) });
  }
  return {
    config,
    seq: d['seq'] as number,
    last_ts: (d['last_ts'] as number | null) ?? null,
    slots,
    orders,
    account: { ...(d['account'] as AccountRec) },
    rate_limit: { ...(d['rate_limit'] as RateLimitRec) },
    funding_ids: new Set(d['funding_ids'] as string[]),
  };
}
