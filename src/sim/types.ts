// The simulator's vocabulary: its persisted state, its ground truth, its faults.
// Units: prices and money are USDT, quantities are base-asset units (BTC for BTC-USDT),
// times are epoch milliseconds (`_ms`). Positions carry a signed quantity (+ long, − short)
// because the simulated account is in one-way mode (positionSide BOTH).

import type { RngState } from './rng.js';

export type SimSide = 'BUY' | 'SELL';
/** LIMIT and MARKET trade at once; STOP_MARKET and TAKE_PROFIT_MARKET rest until the mark
 * crosses their stopPrice, then trade as a market order (BingX's conditional orders). */
export type SimOrderType = 'MARKET' | 'LIMIT' | 'STOP_MARKET' | 'TAKE_PROFIT_MARKET';
/** BingX's position modes: one-way (dualSidePosition false, positionSide BOTH) or hedge. */
export type SimPositionMode = 'oneway' | 'hedge';
export type SimTimeInForce = 'GTC' | 'IOC' | 'FOK' | 'PostOnly';
/** BingX's REST spelling: CANCELLED with two Ls (its WebSocket says CANCELED). */
export type SimOrderStatus = 'NEW' | 'PARTIALLY_FILLED' | 'FILLED' | 'CANCELLED';

export interface SimOrder {
  order_id: string;
  /** '' when the client sent none. */
  client_order_id: string;
  symbol: string;
  side: SimSide;
  type: SimOrderType;
  time_in_force: SimTimeInForce;
  qty: number;
  /** Limit price; 0 for a market order. */
  price: number;
  filled_qty: number;
  avg_price: number;
  cum_quote_usdt: number;
  /** Fees paid on this order's fills (positive = paid). */
  fee_usdt: number;
  realized_pnl_usdt: number;
  status: SimOrderStatus;
  reduce_only: boolean;
  leverage: number;
  created_ms: number;
  updated_ms: number;
  /** Placed through the admin endpoint: an order PINK did not send (web UI, another bot). */
  foreign: boolean;
  /** Conditional orders: the mark price that triggers them (0 for LIMIT / MARKET). */
  stop_price?: number;
  /** Conditional orders: close the whole position when triggered (no quantity sent). */
  close_position?: boolean;
  /** Conditional orders: set once the mark crossed stop_price (the order then trades as MARKET). */
  triggered?: boolean;
  /** The venue's own order closing a position at liquidation (no client order id). */
  liquidation?: boolean;
}

export interface SimFill {
  /** BingX's tradeId (only /trade/fillHistory shows it; /trade/allFillOrders has no fill id). */
  fill_id: string;
  order_id: string;
  client_order_id: string;
  symbol: string;
  side: SimSide;
  qty: number;
  price: number;
  fee_usdt: number;
  realized_pnl_usdt: number;
  maker: boolean;
  ts_ms: number;
  /** A liquidation fill: the position's liquidation price and margin ratio at the time
   * (BingX's allFillOrders `liquidatedPrice` / `liquidatedMarginRatio`, "" otherwise). */
  liquidated_price?: number;
  liquidated_margin_ratio?: number;
}

export interface SimPosition {
  symbol: string;
  position_id: string;
  /** Signed: + long, − short. Never 0 (a flat position is removed). */
  qty: number;
  entry_price: number;
  /** Realized PnL minus fees over this position's life (BingX's position realisedProfit). */
  realized_pnl_usdt: number;
  opened_ms: number;
  updated_ms: number;
  /** Life totals for the position history (BingX's positionHistory row). */
  max_qty?: number;
  closed_qty?: number;
  close_quote_usdt?: number;
  /** Gross realized PnL (before fees and funding). */
  gross_realized_usdt?: number;
  fees_usdt?: number;
  /** Funding paid (negative) or received (positive) over the position's life. */
  funding_usdt?: number;
}

/** One closed position (GET /openApi/swap/v1/trade/positionHistory). */
export interface SimClosedPosition {
  position_id: string;
  symbol: string;
  side: 'LONG' | 'SHORT';
  isolated: boolean;
  opened_ms: number;
  closed_ms: number;
  avg_price: number;
  avg_close_price: number;
  max_qty: number;
  closed_qty: number;
  gross_realized_usdt: number;
  fees_usdt: number;
  funding_usdt: number;
  leverage: number;
  /** Closed by the liquidation engine. */
  liquidated: boolean;
}

/** BingX's income types the simulator writes (GET /openApi/swap/v2/user/income). */
export type SimIncomeType = 'FUNDING_FEE' | 'REALIZED_PNL' | 'TRADING_FEE';

/** One row of the account's income ledger. */
export interface SimIncome {
  /** BingX's tranId: unique per row; a funding payment's id for PINK's idempotency. */
  tran_id: string;
  /** The fill (trade) id for REALIZED_PNL / TRADING_FEE; the tranId for FUNDING_FEE. */
  trade_id: string;
  symbol: string;
  type: SimIncomeType;
  /** + received, − paid. */
  amount_usdt: number;
  ts_ms: number;
  /** FUNDING_FEE only: the simulator's own record of what was charged (ground truth for tests). */
  rate?: number;
  position_qty?: number;
  mark_price?: number;
}

/** One settled funding rate (GET /openApi/swap/v2/quote/fundingRate). */
export interface SimFundingRate {
  symbol: string;
  rate: number;
  ts_ms: number;
}

/** The funding schedule and its history (persisted). */
export interface SimFundingState {
  interval_ms: number;
  /** The next settlement time (a multiple of interval_ms since the epoch, as BingX's 00/08/16 h). */
  next_ms: number;
  /** Rates set through /__sim/funding; a symbol absent here follows the price walk. */
  overrides: Record<string, number>;
  /** The index price each symbol's premium is measured against: a slow average of the mark. */
  index: Record<string, number>;
  /** Oldest first, at most FUNDING_HISTORY_MAX. */
  history: SimFundingRate[];
  /** Time of the last rate update (premiumIndex updateTime). */
  updated_ms: number;
}

export interface ClientOrderIdCount {
  /** Orders accepted with this clientOrderID: 0 or 1, since a duplicate is refused. */
  created: number;
  /** Create requests that carried it, accepted or not. */
  attempts: number;
}

/** Everything that survives a restart (--state FILE). */
export interface SimStateData {
  version: 1;
  seed: number;
  created_ms: number;
  wallet_usdt: number;
  realized_pnl_usdt: number;
  fees_usdt: number;
  prices: Record<string, number>;
  rng: Record<string, RngState>;
  leverage: Record<string, number>;
  margin_type: Record<string, 'CROSSED' | 'ISOLATED'>;
  positions: Record<string, SimPosition>;
  open_orders: SimOrder[];
  /** Filled and cancelled orders, oldest first, at most CLOSED_ORDERS_MAX. */
  closed_orders: SimOrder[];
  /** Oldest first, at most FILLS_MAX. */
  fills: SimFill[];
  client_ids: Record<string, ClientOrderIdCount>;
  seq: { order: number; fill: number; position: number; income?: number };
  orders_created: number;
  steps: number;
  /** Last timestamp handed out: fill and order times are strictly increasing. */
  last_ts_ms: number;
  /** Added with funding and liquidation; a state file without them gets the defaults. */
  position_mode?: SimPositionMode;
  funding?: SimFundingState;
  /** Oldest first, at most INCOME_MAX. */
  income?: SimIncome[];
  /** Oldest first, at most POSITION_HISTORY_MAX. */
  position_history?: SimClosedPosition[];
}

export interface SimFaults {
  /** Every Nth venue request is refused for rate (0 = never). */
  rateLimitEvery: number;
  /** 'http': HTTP 429 with a plain-text body (ccxt: RateLimitExceeded, a NetworkError).
   *  'body': HTTP 429 with BingX's JSON `{"code":100410,...}` (ccxt: OperationFailed). */
  rateLimitStyle: 'http' | 'body';
  /** How long a rate-limited client is told to wait (the "unblocked time" in the message). */
  rateLimitCooldownMs: number;
  /** The next order create is refused with this venue reason (and rejectNextCode). */
  rejectNext: string | null;
  rejectNextCode: number;
  /** The next cancel is refused with this venue reason (code 80001 unless rejectNextCode set). */
  rejectNextCancel: string | null;
  /** The next N mutating requests act, then the socket is destroyed with no response. */
  dropResponseNext: number;
  latencyMs: number;
  /** Each fill row appears twice in /trade/allFillOrders and /trade/fillHistory. */
  duplicateFills: boolean;
  /** The fill feeds (/trade/allFillOrders, /trade/fillHistory) list nothing while on: fills the
   *  client never sees (a missed fill, issue 18). Orders, positions and the balance are unchanged. */
  hideFills?: boolean;
  /** Venue requests to these paths (e.g. /openApi/swap/v2/trade/order) are answered BingX's
   *  100500 "Internal system error" with HTTP 503 and do nothing: one endpoint down, the rest up. */
  failPaths?: string[];
  /** Each match step fills at most this share of an order's quantity (1 = all at once). */
  partialFillRatio: number;
  /** Random walk on every venue request and /__sim/tick; false = prices move only by /__sim/price. */
  priceWalk: boolean;
  /** The venue's clock runs this far ahead (+) or behind (−) the machine's: server time shows
   * it, and signed requests whose timestamp is off by more than recvWindow are refused. */
  clockSkewMs: number;
  /** The code of that refusal: 109400 "timestamp is invalid" or 100421 "Null timestamp or timestamp mismatch". */
  clockSkewCode: 109400 | 100421;
}

export interface SimAccountView {
  wallet_usdt: number;
  realized_pnl_usdt: number;
  fees_usdt: number;
  unrealized_usdt: number;
  equity_usdt: number;
  used_margin_usdt: number;
  frozen_margin_usdt: number;
  available_usdt: number;
}

/** GET /__sim/state and SimHandle.state(): the venue's truth, for tests and operators. */
export interface SimGroundTruth {
  seed: number;
  steps: number;
  requests: number;
  balance: SimAccountView;
  prices: Record<string, number>;
  leverage: Record<string, number>;
  positions: Array<SimPosition & { mark_price: number; unrealized_usdt: number; liquidation_price: number; maint_margin_usdt: number }>;
  open_orders: SimOrder[];
  closed_orders: SimOrder[];
  fills: SimFill[];
  orders_created: number;
  client_order_ids: Record<string, ClientOrderIdCount>;
  faults: SimFaults;
  position_mode: SimPositionMode;
  funding: { interval_ms: number; next_ms: number; rates: Record<string, number>; history: SimFundingRate[] };
  income: SimIncome[];
  position_history: SimClosedPosition[];
}
