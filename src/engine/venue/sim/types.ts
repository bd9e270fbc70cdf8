// The simulator's vocabulary: its persisted state, its ground truth, its faults.
// Units: prices and money are USDT, quantities are base-asset units (BTC for BTC-USDT),
// times are epoch milliseconds (`_ms`). Positions carry a signed quantity (+ long, − short)
// because the simulated account is in one-way mode (positionSide BOTH).

import type { RngState } from './rng.js';

export type SimSide = 'BUY' | 'SELL';
export type SimOrderType = 'MARKET' | 'LIMIT';
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
  seq: { order: number; fill: number; position: number };
  orders_created: number;
  steps: number;
  /** Last timestamp handed out: fill and order times are strictly increasing. */
  last_ts_ms: number;
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
  /** Each match step fills at most this share of an order's quantity (1 = all at once). */
  partialFillRatio: number;
  /** Random walk on every venue request and /__sim/tick; false = prices move only by /__sim/price. */
  priceWalk: boolean;
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
  positions: Array<SimPosition & { mark_price: number; unrealized_usdt: number }>;
  open_orders: SimOrder[];
  closed_orders: SimOrder[];
  fills: SimFill[];
  orders_created: number;
  client_order_ids: Record<string, ClientOrderIdCount>;
  faults: SimFaults;
}
