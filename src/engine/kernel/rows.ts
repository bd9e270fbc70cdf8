// Row builders in SPEC section 5's columns (namespace and run_id are added by the store).
// Sides: 'long'/'short' for trades, legs and positions; 'buy'/'sell' for orders and fills.
// Times are epoch ms. Columns a row does not know yet are 0 or '' (the schema's columns are not
// Nullable): e.g. an open trade's exit_ts is 0.
import type { Core } from './core.js';
import type { OrderRec, SlotRec, TradeRec } from './state.js';
import type { Intent, RowOut } from './types.js';

export function orderRow(c: Core, o: OrderRec, status: string, reason: string): RowOut {
  return c.row('orders', {
    row_id: c.rowId('orders'),
    ts: c.ts,
    client_order_id: o.client_order_id,
    venue_order_id: o.venue_order_id,
    trade_id: o.trade_id,
    symbol: o.symbol,
    side: o.side,
    order_type: o.order_type,
    qty: o.qty,
    price: o.price,
    reduce_only: o.reduce_only,
    status,
    reason,
  });
}

/** One row per intent, accepted or refused; a malformed intent is recorded as far as it reads. */
export function decisionRow(c: Core, intent: unknown, outcome_code: string, qty: number): RowOut {
  const i = (typeof intent === 'object' && intent !== null ? intent : {}) as Partial<Record<keyof Intent, unknown>>;
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  return c.row('decisions', {
    row_id: c.rowId('decisions'),
    ts: c.ts,
    intent_id: text(i.intent_id),
    symbol: text(i.symbol),
    action: text(i.action),
    side: text(i.side),
    qty: Number.isFinite(qty) ? qty : 0,
    reason: text(i.reason),
    outcome_code,
  });
}

export interface FillFacts {
  fill_id: string;
  venue_order_id: string;
  qty: number;
  price: number;
  fee_usdt: number;
  ts: number;
}

/** `trade_id`: the trade the fill was applied to, when not its order's (a fill after its trade). */
export function fillRow(c: Core, o: OrderRec, f: FillFacts, applied_qty: number, inferred: boolean, trade_id = o.trade_id): RowOut {
  return c.row('fills', {
    row_id: c.rowId('fills'),
    ts: f.ts,
    fill_id: f.fill_id,
    client_order_id: o.client_order_id,
    venue_order_id: f.venue_order_id || o.venue_order_id,
    trade_id,
    symbol: o.symbol,
    side: o.side,
    qty: applied_qty,
    price: f.price,
    fee: f.fee_usdt,
    fee_asset: 'USDT',
    inferred,
  });
}

export interface LegFacts {
  ts: number;
  leg_qty: number;
  leg_price: number;
  leg_realized_pnl: number;
  leg_fee: number;
  exit_reason: string;
  client_order_id: string;
}

export function legRow(c: Core, slot: SlotRec, t: TradeRec, leg: LegFacts): RowOut {
  return c.row('trade_exit_legs', {
    row_id: c.rowId('trade_exit_legs'),
    ts: leg.ts,
    trade_id: t.trade_id,
    leg_index: t.legs,
    symbol: slot.symbol,
    side: t.side,
    leg_qty: leg.leg_qty,
    leg_price: leg.leg_price,
    leg_realized_pnl: leg.leg_realized_pnl,
    leg_fee: leg.leg_fee,
    remaining_qty: slot.qty,
    cum_realized_pnl: t.realized_pnl_usdt,
    is_final: slot.qty === 0,
    exit_reason: leg.exit_reason,
    client_order_id: leg.client_order_id,
  });
}

export function tradeRow(c: Core, slot: SlotRec, t: TradeRec): RowOut {
  return c.row('trades', {
    row_id: c.rowId('trades'),
    trade_id: t.trade_id,
    slot_id: slot.slot_id,
    symbol: slot.symbol,
    side: t.side,
    status: t.status,
    entry_ts: t.entry_ts,
    entry_price: t.entry_price,
    entry_qty: t.entry_qty,
    exit_ts: t.exit_ts,
    exit_price_avg: t.exit_qty > 0 ? t.exit_notional_usdt / t.exit_qty : 0,
    exit_qty: t.exit_qty,
    realized_pnl: t.realized_pnl_usdt,
    fees: t.fees_usdt,
    legs: t.legs,
    exit_reason: t.exit_reason,
    hold_bars: slot.hold_bars,
  });
}

/** SPEC 6's `funding` row: + received, − paid (the venue's sign); what the venue did not say is 0. */
export function fundingRow(c: Core, f: { funding_id: string; symbol: string; amount_usdt: number; funding_ts?: number; rate?: number; position_qty?: number; mark_price?: number }): RowOut {
  return c.row('funding', {
    row_id: c.rowId('funding'),
    ts: f.funding_ts ?? c.ts,
    funding_id: f.funding_id,
    symbol: f.symbol,
    amount_usdt: f.amount_usdt,
    rate: f.rate ?? 0,
    position_qty: f.position_qty ?? 0,
    mark_price: f.mark_price ?? 0,
  });
}
