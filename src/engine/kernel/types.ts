// The DITAv2 kernel's vocabulary: every value that crosses the kernel boundary.
// SPEC section 3 fixes these names. This file is shared by the kernel, the venue adapter,
// the store and the runner; it holds types only (no code), so importing it costs nothing.
//
// Units: times are epoch milliseconds (`ts`, `_ms`), prices and money are USDT, quantities are
// base-asset units (BTC for BTC-USDT), always positive; direction is carried by `side`.

export type SlotState =
  | 'IDLE'
  | 'ENTRY_WORKING'
  | 'OPEN'
  | 'EXIT_WORKING'
  | 'CLOSED'
  | 'STALE_STATE_RECONCILING';

export type PositionSide = 'long' | 'short';
export type OrderSide = 'buy' | 'sell';
export type Severity = 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
export type OrderType = 'market' | 'limit';

/** Symbols inside PINK are BingX's form: `BTC-USDT`. */
export type Symbol = string;

/** SPEC 3.2: what the decision engine (a strategy, a signals file, an operator) asks for. */
export interface Intent {
  intent_id: string;
  symbol: Symbol;
  action: 'ENTER' | 'EXIT' | 'CANCEL';
  side?: PositionSide;
  qty?: number;
  notional?: number;
  fraction?: number;
  final?: boolean;
  order_type?: OrderType;
  price?: number;
  reason: string;
}

export type VenueEventKind =
  | 'ACCEPTED'
  | 'REJECTED'
  | 'FILL'
  | 'CANCELED'
  | 'CANCEL_REJECTED'
  | 'EXPIRED';

/** SPEC 3.3: what the venue said about one of our orders. */
export interface VenueEvent {
  event_id: string;
  kind: VenueEventKind;
  client_order_id: string;
  venue_order_id?: string;
  /** FILL: this fill's quantity (not cumulative). ACCEPTED: when given, the order quantity the
   * venue accepted (after its lot rounding); the kernel adopts it if smaller than what it asked. */
  qty?: number;
  price?: number;
  /** FILL: fee paid in USDT (positive = paid, negative = rebate). */
  fee?: number;
  /** FILL: the venue's fill (trade) id, required on FILL (a FILL without it is INVALID_INPUT):
   * a fill is applied once per fill id, whether it comes from a poll or is inferred at reconcile. */
  fill_id?: string;
  ts: number;
  reason?: string;
}

/** A command the kernel asks the runner to send to the venue. */
export type VenueCommand =
  | {
      kind: 'PLACE';
      client_order_id: string;
      intent_id: string;
      symbol: Symbol;
      side: OrderSide;
      qty: number;
      order_type: OrderType;
      price?: number;
      reduce_only: boolean;
    }
  | {
      kind: 'CANCEL';
      client_order_id: string;
      venue_order_id?: string;
      symbol: Symbol;
    };

/** SPEC 3.6: the venue's truth, read at reconcile (and the batch reads of each step). */
export interface VenueSnapshot {
  ts: number;
  /** USDT wallet balance as the venue reports it; used for drift only, never copied. */
  balance_usdt: number | null;
  marks: Record<Symbol, number>;
  positions: VenuePosition[];
  open_orders: VenueOrder[];
  /** Fills since the checkpoint (or since the adapter's last cursor), oldest first. */
  fills: VenueFill[];
}

export interface VenuePosition {
  symbol: Symbol;
  side: PositionSide;
  qty: number;
  entry_price: number;
  mark_price?: number;
  /** The venue's liquidation price for this position (absent when it reports none, e.g. 0). */
  liquidation_price?: number;
}

export interface VenueOrder {
  client_order_id: string;
  venue_order_id: string;
  symbol: Symbol;
  side: OrderSide;
  order_type: OrderType;
  qty: number;
  filled_qty: number;
  price?: number;
  reduce_only: boolean;
  ts: number;
}

export interface VenueFill {
  fill_id: string;
  client_order_id: string;
  venue_order_id: string;
  symbol: Symbol;
  side: OrderSide;
  qty: number;
  price: number;
  /** USDT, positive = paid. */
  fee: number;
  ts: number;
  /** Set on a liquidation fill (the venue's own order closing the position): the position's
   * liquidation price as the venue reports it. Such a fill has no client order id. */
  liquidation_price?: number;
}

/**
 * Every input the kernel takes. The runner journals each one before applying it; replay is a
 * fold of these over a checkpoint. `ts` is the only clock the kernel ever sees.
 */
export type KernelInput =
  /** Start of a step: marks for unrealized PnL and notional sizing; advances hold bars. */
  | { type: 'TICK'; ts: number; marks: Record<Symbol, number> }
  | { type: 'INTENT'; ts: number; intent: Intent }
  | { type: 'EVENT'; ts: number; event: VenueEvent }
  /** The venue refused us for rate: cooldown until ts + retry_after_ms (or the configured default). */
  | { type: 'RATE_LIMITED'; ts: number; retry_after_ms?: number; client_order_id?: string; reason: string }
  /** A request reached the venue and was answered: ends a persistent rate-limit cycle. */
  | { type: 'VENUE_OK'; ts: number }
  /** A send whose outcome is unknown (timeout, dropped response, 504/80019): slot goes stale. */
  | { type: 'SEND_UNKNOWN'; ts: number; client_order_id: string; reason: string }
  /** The venue could not be reached at all for this step's reads. */
  | { type: 'VENUE_UNAVAILABLE'; ts: number; reason: string }
  /** SPEC 3.6: the full (or one-symbol) reconcile against the venue's truth. */
  | { type: 'RECONCILE'; ts: number; snapshot: VenueSnapshot; symbols?: Symbol[]; adopt_orphans?: boolean }
  /**
   * Funding paid (negative amount) or received (positive) on a symbol, once per funding_id. The
   * rest (the venue's funding time, rate, signed size and mark: docs/funding.md) only fills the
   * `funding` row; absent when the venue did not say.
   */
  | { type: 'FUNDING'; ts: number; symbol: Symbol; amount_usdt: number; funding_id: string; funding_ts?: number; rate?: number; position_qty?: number; mark_price?: number }
  /**
   * The settings a start runs with, when they differ from the kernel's (a changed environment,
   * the venue's lot steps): they take effect from this input on, journaled like any other, so a
   * replay takes them at the same point. Removing a symbol whose slot holds a position, an order
   * or waits for a reconcile is refused.
   */
  | { type: 'SETTINGS'; ts: number; settings: KernelSettings }
  /**
   * Issue 19: an operator's halt / resume / flatten (or the runner's liquidation hook) sets the
   * trading state of one symbol, or of the engine when `symbol` is absent. `all` with ACTIVE
   * resumes the engine and every symbol. `operator` is the audit trail (an anomalies row of
   * origin `operator`); absent for a state set by PINK itself.
   */
  | { type: 'TRADING_STATE'; ts: number; symbol?: Symbol; all?: boolean; state: TradingState; reason: string; operator?: OperatorAudit }
  /**
   * An operator accounts for a drift PINK did not cause (another system's trades, a transfer):
   * `amount_usdt` is the whole drift accepted (venue balance − capital, as the last reconcile
   * measured it, within the drift tolerance). Capital is never touched (SPEC: never copied over);
   * from then on drift is judged net of it (drift.ts). `operator` is required: the audit row.
   */
  | { type: 'DRIFT_ACCEPTED'; ts: number; amount_usdt: number; operator: OperatorAudit };

/** SPEC 6: ACTIVE, REDUCING (only orders that reduce a position), HALTED (nothing but cancels). */
export type TradingState = 'ACTIVE' | 'REDUCING' | 'HALTED';

/** Who changed something, for the anomalies row of origin `operator` (never a secret). */
export interface OperatorAudit {
  command: string;
  args: string[];
  user: string;
  host: string;
  pid: number;
}

export type KernelInputType = KernelInput['type'];

/** SPEC 5's eight families, BLUE's as well as PINK's; `funding` (SPEC 6) is PINK-only. */
export type RowFamily = BlueFamily | 'funding';

export type BlueFamily =
  | 'trades'
  | 'trade_exit_legs'
  | 'orders'
  | 'fills'
  | 'positions'
  | 'account'
  | 'anomalies'
  | 'decisions';

/**
 * A row to record, in SPEC section 5's columns for its family, except `namespace` and `run_id`,
 * which the store adds. `row_id` is deterministic (same inputs → same row_id); times are epoch
 * ms numbers, the store turns them into DateTime64(3, 'UTC').
 */
export interface RowOut {
  family: RowFamily;
  row: Record<string, string | number | boolean | null> & { row_id: string };
}

export interface OutcomeDetails {
  reason: string;
  retry_after_ms?: number;
  [key: string]: unknown;
}

/** SPEC 3.4. Every `diagnostic_code` is a code of the taxonomy (src/engine/faults). */
export interface KernelOutcome {
  diagnostic_code: string;
  severity: Severity;
  symbol?: Symbol;
  details: OutcomeDetails;
  commands: VenueCommand[];
  rows: RowOut[];
}

export interface KernelConfig extends KernelConfigOptional {
  /**
   * The kernel history's id (10 chars of [a-z0-9], minted once by the runner at the first start,
   * then kept in the kernel's state): every trade_id, row_id and client order id includes it.
   */
  history_id: string;
  namespace: string;
  initial_capital_usdt: number;
  rate_limit_cooldown_ms: number;
  /** RATE_LIMITED with no successful venue call for this long is the persistent anomaly. */
  rate_limit_persistent_ms: number;
  max_hold_bars: number;
  symbols: Symbol[];
}

/** The settings that may change between two starts of one history (the SETTINGS input). */
export interface KernelSettings {
  symbols: Symbol[];
  rate_limit_cooldown_ms: number;
  rate_limit_persistent_ms: number;
  max_hold_bars: number;
  drift_tolerance_usdt: number;
  qty_step_by_symbol: Record<Symbol, number>;
  /** Issue 19 breaker: consecutive venue rejects on a symbol that set it REDUCING [5; 0 = off]. */
  max_rejects?: number;
  /** Issue 19 breaker: loss from the equity peak (USDT) that sets the engine REDUCING [0 = none]. */
  max_drawdown_usdt?: number;
}

/** One changed setting: `setting` is a KernelSettings key (`qty_step_by_symbol.BTC-USDT` per symbol). */
export interface SettingChange {
  setting: string;
  from: number | string | null;
  to: number | string | null;
}

// ---- Added by the kernel (additive only) ------------------------------------------------------

/**
 * Optional kernel settings, beside KernelConfig's required ones (defaults in brackets):
 * `drift_tolerance_usdt` [DRIFT_TOLERANCE_USDT_DEFAULT, state.ts]: |venue balance − capital| above this is ACCOUNT_DRIFT;
 * `qty_step_by_symbol` [none]: the venue's quantity step per symbol; entry sizes and partial exits
 * are rounded down to it so that the venue fills exactly what the kernel ordered.
 */
export interface KernelConfigOptional {
  drift_tolerance_usdt?: number;
  qty_step_by_symbol?: Record<Symbol, number>;
  /** Issue 19 breakers (KernelSettings): [5] and [0 = none]. */
  max_rejects?: number;
  max_drawdown_usdt?: number;
  /** Tests only: smaller memory bounds than limits.ts's, so that a run reaches them. */
  orders_remembered_max?: number;
  fill_ids_max?: number;
  fill_ids_intents_max?: number;
}

export type OrderPurpose = 'entry' | 'exit' | 'flatten';

export interface WorkingOrderView {
  client_order_id: string;
  venue_order_id: string | null;
  side: OrderSide;
  qty: number;
  filled_qty: number;
  reduce_only: boolean;
  purpose: OrderPurpose;
  cancel_requested: boolean;
}

export interface SlotView {
  symbol: Symbol;
  slot_id: string;
  state: SlotState;
  /** While STALE_STATE_RECONCILING: the state it left. */
  prev_state: SlotState | null;
  side: PositionSide | null;
  qty: number;
  avg_entry_price: number;
  mark_price: number | null;
  unrealized_pnl: number;
  /** Realized PnL of the current (or last) trade, gross of fees. */
  realized_pnl: number;
  legs: number;
  hold_bars: number;
  trade_id: string | null;
  working_order: WorkingOrderView | null;
  stale_since_ts: number | null;
  /** The symbol's effective trading state (the stricter of its own and the engine's), why, since when. */
  trading_state: TradingState;
  trading_state_reason: string;
  trading_state_since: number | null;
}

export interface AccountView {
  initial_capital: number;
  /** initial + realized − fees − funding: the kernel's own books, never a venue balance. */
  capital: number;
  realized_pnl: number;
  fees: number;
  /** Funding paid (positive) or received (negative), net. */
  funding: number;
  /** capital + unrealized PnL of the open slots. */
  equity: number;
  /** Last venue balance seen at reconcile (null before the first). */
  venue_balance: number | null;
  /** venue_balance − capital at the last reconcile (null before the first). */
  drift: number | null;
  /** The drift an operator accepted (`pink accept-drift`, 0: none): health judges drift − drift_accepted. */
  drift_accepted: number;
}

export interface RateLimitView {
  cooling_until_ts: number | null;
  consecutive: number;
  first_ts: number | null;
  persistent: boolean;
}

/** For `pink ditav2-status`: the kernel's state in the operator's words. */
export interface KernelView {
  /** The history every id of this kernel carries (SPEC 6: `engine.history_id`). */
  history_id: string;
  settings: KernelSettings;
  /** What the kernel remembers (orders, applied fill ids) against its bounds. */
  memory: { orders: number; orders_max: number; fill_ids: number; fill_ids_max: number };
  slots: SlotView[];
  account: AccountView;
  rateLimit: RateLimitView;
  /** The engine's trading state (issue 19), why and since when (kernel time, epoch ms). */
  trading_state: TradingState;
  trading_state_reason: string;
  trading_state_since: number | null;
  /** The session's equity peak the drawdown breaker measures from (null before the first tick). */
  equity_peak: number | null;
  /** Inputs that changed the kernel's state (refused and no-op inputs do not count). */
  seq: number;
  last_ts: number | null;
}

interface CorrectionBase<K extends string> {
  kind: K;
  symbol: Symbol;
  detail: string;
}

/** A correction reconcile.ts plans from the book and the venue's snapshot (reconcile-apply.ts applies it). */
export type Correction =
  | (CorrectionBase<'inferred_fill'> & { fill: VenueFill })
  | (CorrectionBase<'order_gone'> & { client_order_id: string })
  | (CorrectionBase<'still_working'> & { client_order_id: string })
  | (CorrectionBase<'foreign_order'> & { client_order_id: string })
  | (CorrectionBase<'closed'> & { price: number; reason: string; liquidation?: { fill_id: string; fill_ids: string[]; fee: number; ts: number; liquidation_price: number } })
  | (CorrectionBase<'adopted'> & { position: VenuePosition; entry_price: number; mark_price: number | null })
  | (CorrectionBase<'orphan_flagged'> & { position: VenuePosition })
  | (CorrectionBase<'position_mismatch'> & { venue_qty: number; venue_side: PositionSide | null });

/** A reconcile report's kinds: every planned correction's, and the two only the report has (a slot settled, the account's drift). */
export type CorrectionKind = Correction['kind'] | 'settled' | 'drift';

/** One line of a reconcile report (RECONCILED outcome, `details.corrections`). */
export type ReconcileCorrection = CorrectionBase<CorrectionKind>;
