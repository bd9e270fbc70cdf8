// The kernel's state, and its (de)serialization. In memory the seen-id collections are Sets and
// the books are Maps (O(1) on the hot path); in a checkpoint they are arrays in insertion order, so
// restore rebuilds exactly the same iteration order and the run continues byte for byte.
import { assert } from './assert.js';
import { tradeId } from './ids.js';
import { copySteps } from './steps.js';
import { CAPITAL_USDT_MAX, DRIFT_ACCEPTED_USDT_ABS_MAX, DRIFT_TOLERANCE_USDT_DEFAULT, FILL_IDS_INTENTS_MAX, FILL_IDS_MAX, HISTORY_ID_PATTERN, ORDERS_REMEMBERED_MAX } from './limits.js';
import type {
  KernelConfig,
  KernelSettings,
  OrderPurpose,
  OrderSide,
  OrderType,
  PositionSide,
  SlotState,
  Symbol,
} from './types.js';
import { checkSettings } from './validate.js';

/**
 * 3: the trading states and the breakers' counters (issue 19). 2: the history id, the history's
 * fill-id memory, time-bounded order memory (1: none of these). A version 2 checkpoint is read as
 * every scope ACTIVE with fresh breaker counters (what a version 2 kernel was); a pink that
 * knows only version 2 refuses a version 3 one, so it can never resume a halted history unknowingly.
 */
export const CHECKPOINT_VERSION = 3;
/** DOLPHIN_PINK_MAX_REJECTS's default: consecutive venue rejects on a symbol that set it REDUCING. */
export const MAX_REJECTS_DEFAULT = 5;

/** Funding ids kept for idempotency: at 3 fundings a day per symbol, months of history. */
export const FUNDING_IDS_MAX = 1024;
/** A position at or below this fraction of the trade's entry size is flat (float dust). */
export const QTY_DUST_RATIO = 1e-9;

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
  /** Kernel time of its last change once it left the book (null while live): memory.ts forgets
   * it ORDER_MEMORY_MS later. */
  done_ts: number | null;
  seen_event_ids: Set<string>;
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
}

export interface AccountRec {
  initial_capital_usdt: number;
  realized_pnl_usdt: number;
  fees_usdt: number;
  /** Net funding paid (received funding lowers it). */
  funding_usdt: number;
  venue_balance_usdt: number | null;
  drift_usdt: number | null;
  /**
   * The drift an operator accepted (DRIFT_ACCEPTED, drift.ts): not capital, an offset drift is
   * judged net of. 0: none. In a checkpoint only when non-zero (absent = 0), so every checkpoint
   * of a history that never accepted one is byte for byte what it was before this field existed,
   * and replays of older histories stay identical; an older pink reading one keeps the field and
   * judges the whole drift (degraded, never a false HEALTHY).
   */
  drift_accepted_usdt: number;
}

export interface RateLimitRec {
  cooling_until_ts: number | null;
  consecutive: number;
  first_ts: number | null;
  persistent: boolean;
}

/**
 * KernelConfig with every optional setting resolved, as checkpointed (the history id is the
 * state's own). max_rejects 0: that breaker is off; max_drawdown_usdt 0: no drawdown breaker.
 */
export type NormConfig = Required<Omit<KernelConfig, 'history_id'>>;

export interface State {
  /** Minted once, never changed: in every trade_id, row_id and client order id. */
  history_id: string;
  config: NormConfig;
  seq: number;
  last_ts: number | null;
  slots: Map<Symbol, SlotRec>;
  orders: Map<string, OrderRec>;
  account: AccountRec;
  rate_limit: RateLimitRec;
  funding_ids: Set<string>;
  /**
   * Every venue fill id this history applied, with the fill's venue time, oldest applied first:
   * a fill id is applied at most once per history, whatever order it names and however it comes
   * (poll, reconcile, a resend). Kept FILL_MEMORY_MS past the fill's time (memory.ts).
   */
  fill_ids: Map<string, number>;
  /** Kernel time of the last prune of the memories (memory.ts), null before the first. */
  pruned_ts: number | null;
  /** Issue 19: trading states (trading.ts). */
  trading: TradingRecs;
}

export type TradingStateName = 'ACTIVE' | 'REDUCING' | 'HALTED';

export interface TradingRec {
  state: TradingStateName;
  reason: string;
  since_ts: number | null;
}

export interface TradingRecs {
  engine: TradingRec;
  /** Only symbols whose own state was ever set; absent = ACTIVE. */
  symbols: Record<Symbol, TradingRec>;
  /** Consecutive venue rejects per symbol (the rejects breaker). */
  rejects: Record<Symbol, number>;
  /** Equity peak since the history began or the engine was last resumed (the drawdown breaker). */
  equity_peak: number | null;
}

export function newTrading(): TradingRecs {
  return { engine: { state: 'ACTIVE', reason: '', since_ts: null }, symbols: {}, rejects: {}, equity_peak: null };
}

export function isLive(o: OrderRec): boolean {
  return o.status === 'pending' || o.status === 'accepted' || o.status === 'partially_filled';
}

/**
 * An order leaves the book: its memory horizon (ORDER_MEMORY_MS) starts now. It moves to the end
 * of the orders map, which so holds the orders off the book in the order of their last change
 * (after at most one live order per slot): memory.ts prunes from the front and stops at the first
 * that is still recent, without a scan of the whole memory.
 */
export function retire(st: State, o: OrderRec, status: Exclude<OrderStatus, 'pending' | 'accepted' | 'partially_filled'>, ts: number): void {
  o.status = status;
  o.cancel_requested = false;
  touchDone(st, o, ts);
}

/** A change to an order off the book (a late fill): remembered from now, at the end of the map. */
export function touchDone(st: State, o: OrderRec, ts: number): void {
  o.done_ts = Math.max(o.done_ts ?? ts, ts);
  st.orders.delete(o.client_order_id);
  st.orders.set(o.client_order_id, o);
}

export function capitalOf(a: AccountRec): number {
  return a.initial_capital_usdt + a.realized_pnl_usdt - a.fees_usdt - a.funding_usdt;
}

export function settingsOf(c: NormConfig): KernelSettings {
  return {
    symbols: [...c.symbols],
    rate_limit_cooldown_ms: c.rate_limit_cooldown_ms,
    rate_limit_persistent_ms: c.rate_limit_persistent_ms,
    max_hold_bars: c.max_hold_bars,
    drift_tolerance_usdt: c.drift_tolerance_usdt,
    qty_step_by_symbol: { ...c.qty_step_by_symbol },
    max_rejects: c.max_rejects,
    max_drawdown_usdt: c.max_drawdown_usdt,
  };
}

/** KernelConfig with its defaults, checked: a bad config is a programmer error (assert). */
export function normalizeConfig(c: KernelConfig): NormConfig {
  assert(c !== null && typeof c === 'object', 'KernelConfig missing');
  assert(typeof c.namespace === 'string' && c.namespace !== '', 'namespace');
  assert(Number.isFinite(c.initial_capital_usdt) && c.initial_capital_usdt >= 0 && c.initial_capital_usdt <= CAPITAL_USDT_MAX, `initial_capital_usdt=${c.initial_capital_usdt}`);
  const settings: KernelSettings = {
    symbols: Array.isArray(c.symbols) ? [...new Set(c.symbols)] : c.symbols,
    rate_limit_cooldown_ms: c.rate_limit_cooldown_ms,
    rate_limit_persistent_ms: c.rate_limit_persistent_ms,
    max_hold_bars: c.max_hold_bars,
    drift_tolerance_usdt: c.drift_tolerance_usdt ?? DRIFT_TOLERANCE_USDT_DEFAULT,
    qty_step_by_symbol: copySteps(c.qty_step_by_symbol ?? {}),
    max_rejects: c.max_rejects ?? MAX_REJECTS_DEFAULT,
    max_drawdown_usdt: c.max_drawdown_usdt ?? 0,
  };
  const bad = checkSettings(settings);
  assert(bad === null, `KernelConfig: ${bad}`);
  const bound = (v: number | undefined, max: number, what: string): number => {
    assert(v === undefined || (Number.isInteger(v) && v > 0 && v <= max), `${what}=${v}`);
    return v ?? max;
  };
  const fill_ids_max = bound(c.fill_ids_max, FILL_IDS_MAX, 'fill_ids_max');
  return {
    namespace: c.namespace,
    initial_capital_usdt: c.initial_capital_usdt,
    ...(settings as Required<KernelSettings>),
    orders_remembered_max: bound(c.orders_remembered_max, ORDERS_REMEMBERED_MAX, 'orders_remembered_max'),
    fill_ids_max,
    fill_ids_intents_max: Math.min(fill_ids_max, bound(c.fill_ids_intents_max, FILL_IDS_INTENTS_MAX, 'fill_ids_intents_max')),
  };
}

/**
 * A trade's record when it begins, in one place for both ways a trade begins: an entry sent
 * (`pending`, nothing filled yet) or a position adopted from the venue by reconcile (`open`).
 * Its id is the symbol, the history and the kernel sequence number of the input that began it.
 */
/**
 * A new trade of `symbol`, begun by the input `st.seq`. `suffix` tells apart further trades one
 * input begins on the same symbol (a late fill's, fills.ts): `f1`, `f2`, ...; an ENTER or an
 * adoption begins at most one trade per symbol per input and has none.
 */
export function newTrade(st: State, symbol: Symbol, side: PositionSide, entry: { status: 'pending' | 'open'; ts: number; price: number; qty: number }, suffix = ''): TradeRec {
  return {
    trade_id: tradeId(st.history_id, symbol, st.seq) + suffix,
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
  };
}

export function newState(config: KernelConfig): State {
  assert(typeof config?.history_id === 'string' && HISTORY_ID_PATTERN.test(config.history_id), `history_id ${JSON.stringify(config?.history_id)} is not 10 chars of [a-z0-9]`);
  const cfg = normalizeConfig(config);
  const slots = new Map<Symbol, SlotRec>();
  for (const s of cfg.symbols) slots.set(s, newSlot(s));
  return {
    history_id: config.history_id,
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
      drift_accepted_usdt: 0,
    },
    rate_limit: { cooling_until_ts: null, consecutive: 0, first_ts: null, persistent: false },
    funding_ids: new Set(),
    fill_ids: new Map(),
    pruned_ts: null,
    trading: newTrading(),
  };
}

/** The checkpoint document (before canonical JSON): Sets and Maps as arrays, in order. */
export function toPlain(st: State): unknown {
  return {
    version: CHECKPOINT_VERSION,
    history_id: st.history_id,
    config: st.config,
    seq: st.seq,
    last_ts: st.last_ts,
    slots: [...st.slots.values()],
    orders: [...st.orders.values()].map((o) => ({ ...o, seen_event_ids: [...o.seen_event_ids] })),
    account: accountPlain(st.account),
    rate_limit: st.rate_limit,
    funding_ids: [...st.funding_ids],
    fill_ids: [...st.fill_ids],
    pruned_ts: st.pruned_ts,
    trading: st.trading,
  };
}

/** Inverse of toPlain. Throws (a plain Error) on a document that is not a kernel checkpoint. */
export function fromPlain(doc: unknown): State {
  const d = doc as Record<string, unknown>;
  if (d === null || typeof d !== 'object') throw new Error('not a kernel checkpoint');
  if (d['version'] === 1) {
    throw new Error('a kernel checkpoint of version 1 (before history ids): this PINK cannot continue that history; finish it (flatten, stop) with the PINK that wrote it, then start a new history in a new PINK_HOME');
  }
  const v2 = d['version'] === 2;
  if (!v2 && d['version'] !== CHECKPOINT_VERSION) throw new Error(`not a kernel checkpoint of version ${CHECKPOINT_VERSION}`);
  const need = ['history_id', 'config', 'seq', 'slots', 'orders', 'account', 'rate_limit', 'funding_ids', 'fill_ids', 'pruned_ts'];
  for (const k of need) if (d[k] === undefined) throw new Error(`kernel checkpoint lacks "${k}"`);
  const history_id = d['history_id'];
  if (typeof history_id !== 'string' || !HISTORY_ID_PATTERN.test(history_id)) throw new Error(`kernel checkpoint has a bad history_id ${JSON.stringify(history_id)}`);
  const config = normalizeConfig({ ...(d['config'] as KernelConfig), history_id });
  const slots = new Map<Symbol, SlotRec>();
  for (const s of d['slots'] as SlotRec[]) slots.set(s.symbol, { ...s, trade: s.trade ? { ...s.trade } : null });
  const orders = new Map<string, OrderRec>();
  for (const o of d['orders'] as Array<Omit<OrderRec, 'seen_event_ids'> & { seen_event_ids: string[] }>) {
    orders.set(o.client_order_id, { ...o, seen_event_ids: new Set(o.seen_event_ids) });
  }
  return {
    history_id,
    config,
    seq: d['seq'] as number,
    last_ts: (d['last_ts'] as number | null) ?? null,
    slots,
    orders,
    account: accountOf(d['account']),
    rate_limit: { ...(d['rate_limit'] as RateLimitRec) },
    funding_ids: new Set(d['funding_ids'] as string[]),
    fill_ids: new Map(d['fill_ids'] as Array<[string, number]>),
    pruned_ts: d['pruned_ts'] as number | null,
    trading: v2 ? newTrading() : tradingOf(d['trading']),
  };
}

/** The account as checkpointed: drift_accepted_usdt only when non-zero (AccountRec). */
function accountPlain(a: AccountRec): unknown {
  if (a.drift_accepted_usdt !== 0) return a;
  const { drift_accepted_usdt: _zero, ...rest } = a;
  return rest;
}

function accountOf(v: unknown): AccountRec {
  const a = v as Partial<AccountRec>;
  if (a === null || typeof a !== 'object') throw new Error('kernel checkpoint lacks a valid "account"');
  const accepted = a.drift_accepted_usdt ?? 0;
  if (typeof accepted !== 'number' || !Number.isFinite(accepted) || Math.abs(accepted) > DRIFT_ACCEPTED_USDT_ABS_MAX) throw new Error(`kernel checkpoint has a bad account.drift_accepted_usdt ${JSON.stringify(accepted)}`);
  return { ...(a as AccountRec), drift_accepted_usdt: accepted };
}

function tradingOf(v: unknown): TradingRecs {
  const t = v as TradingRecs | undefined;
  const ok = (r: unknown): r is TradingRec => typeof r === 'object' && r !== null && ['ACTIVE', 'REDUCING', 'HALTED'].includes((r as TradingRec).state);
  if (t === undefined || typeof t !== 'object' || t === null || !ok(t.engine) || typeof t.symbols !== 'object' || typeof t.rejects !== 'object') throw new Error('kernel checkpoint lacks a valid "trading"');
  for (const r of Object.values(t.symbols)) if (!ok(r)) throw new Error('kernel checkpoint has a bad trading state');
  return { engine: { ...t.engine }, symbols: Object.fromEntries(Object.entries(t.symbols).map(([k, r]) => [k, { ...r }])), rejects: { ...t.rejects }, equity_peak: t.equity_peak ?? null };
}
