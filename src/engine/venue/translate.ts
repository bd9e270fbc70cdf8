// BingX/ccxt structures → the kernel's vocabulary. The one place symbols change form and the
// one place venue payloads are checked on arrival (STYLE 6): a payload that cannot be read
// is dropped with a reason, never passed on half-filled.
import { isPinkClientOrderId } from '../kernel/ids.js';
import type { OrderSide, OrderType, Symbol, VenueFill, VenueOrder, VenuePosition } from '../kernel/types.js';
import type { LookedUpOrder, VenueOrderStatus } from './types.js';

/** `BTC-USDT` (PINK, BingX's market id) → `BTC/USDT:USDT` (ccxt's unified linear swap). */
export function toCcxtSymbol(symbol: Symbol): string {
  const m = /^([A-Z0-9]+)-USDT$/.exec(symbol);
  if (!m) throw new Error(`not a PINK symbol: ${symbol}`);
  return `${m[1]}/USDT:USDT`;
}

/** `BTC/USDT:USDT` or `BTC-USDT` → `BTC-USDT`; undefined for anything else (spot, inverse). */
export function fromCcxtSymbol(symbol: string | undefined): Symbol | undefined {
  if (symbol === undefined) return undefined;
  let m = /^([A-Z0-9]+)\/USDT:USDT$/.exec(symbol);
  if (m) return `${m[1]}-USDT`;
  m = /^([A-Z0-9]+)-USDT$/.exec(symbol);
  return m ? `${m[1]}-USDT` : undefined;
}

/** PINK's client order ids (the kernel's prefix, kernel/ids.ts); every other order on the account is foreign. */
export const isPinkOrder = (client_order_id: string | undefined): boolean =>
  client_order_id !== undefined && isPinkClientOrderId(client_order_id);

/** The subset of a ccxt exchange this module needs: its parsers (no I/O). */
export interface CcxtParsers {
  parseOrder(order: unknown, market?: unknown): CcxtOrder;
  parseTrade(trade: unknown, market?: unknown): CcxtTrade;
  safeMarket(marketId: string | undefined, market?: unknown, delimiter?: string, marketType?: string): unknown;
}
export interface CcxtOrder {
  id?: string;
  clientOrderId?: string;
  symbol?: string;
  side?: string;
  type?: string;
  amount?: number;
  filled?: number;
  price?: number;
  average?: number;
  status?: string;
  reduceOnly?: boolean;
  timestamp?: number;
  info?: unknown;
}
export interface CcxtTrade {
  id?: string;
  order?: string;
  symbol?: string;
  side?: string;
  amount?: number;
  price?: number;
  timestamp?: number;
}

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
};
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined);
const field = (o: unknown, ...keys: string[]): unknown => {
  if (o === null || typeof o !== 'object') return undefined;
  for (const k of keys) {
    const v = (o as Record<string, unknown>)[k];
    if (v !== undefined && v !== null && v !== '') return v;
  }
  return undefined;
};

const orderSide = (s: unknown): OrderSide | undefined => {
  const v = typeof s === 'string' ? s.toLowerCase() : undefined;
  return v === 'buy' || v === 'sell' ? v : undefined;
};

/** A ccxt order (parsed by ccxt from BingX's payload) → PINK's; undefined when unreadable. */
export function toVenueOrder(o: CcxtOrder, fallback_ts: number): VenueOrder | undefined {
  const symbol = fromCcxtSymbol(o.symbol);
  const side = orderSide(o.side);
  if (symbol === undefined || side === undefined || o.id === undefined || typeof o.amount !== 'number') return undefined;
  const order_type: OrderType = o.type === 'limit' ? 'limit' : 'market';
  const out: VenueOrder = {
    client_order_id: o.clientOrderId ?? '',
    venue_order_id: String(o.id),
    symbol,
    side,
    order_type,
    qty: o.amount,
    filled_qty: typeof o.filled === 'number' ? o.filled : 0,
    reduce_only: o.reduceOnly === true,
    ts: typeof o.timestamp === 'number' ? o.timestamp : fallback_ts,
  };
  if (order_type === 'limit' && typeof o.price === 'number' && o.price > 0) out.price = o.price;
  return out;
}

/** ccxt's unified order status → PINK's (ccxt says `closed` for filled). */
const STATUS: Record<string, VenueOrderStatus> = {
  open: 'open',
  closed: 'filled',
  canceled: 'canceled',
  expired: 'expired',
  rejected: 'rejected',
};

export function toLookedUpOrder(o: CcxtOrder, fallback_ts: number): LookedUpOrder | undefined {
  const order = toVenueOrder(o, fallback_ts);
  if (order === undefined) return undefined;
  const out: LookedUpOrder = { ...order, status: STATUS[o.status ?? ''] ?? 'open' };
  if (typeof o.average === 'number' && o.average > 0) out.avg_price = o.average;
  return out;
}

/**
 * One row of /swap/v2/trade/allFillOrders. Parsed with ccxt's parseTrade but with the row's
 * own market: without a market, parseTrade reads `amount` (the quote value) as the quantity
 * instead of `volume`. The fee is BingX's `commission` negated (BingX: negative = paid; the
 * kernel: positive = paid), not ccxt's absolute value, which would turn a rebate into a cost.
 * allFillOrders rows carry no trade id and no side: the id is then derived from the row
 * (order id, fill time in ms, quantity, price: stable across reads, so a re-read or a
 * duplicated row is the same fill) and the side taken from the order (`sideOf`). Limit: two
 * fills of one order at the same millisecond, quantity and price would share an id.
 */
export function toVenueFill(
  ex: CcxtParsers,
  raw: unknown,
  sideOf: (venue_order_id: string, client_order_id: string) => OrderSide | undefined,
): VenueFill | undefined {
  const symbol = fromCcxtSymbol(str(field(raw, 'symbol')));
  if (symbol === undefined) return undefined;
  const t = ex.parseTrade(raw, ex.safeMarket(symbol, undefined, '-', 'swap'));
  const venue_order_id = str(field(raw, 'orderId', 'orderID')) ?? t.order;
  const qty = num(field(raw, 'volume', 'qty')) ?? t.amount;
  const price = num(field(raw, 'price', 'tradePrice')) ?? t.price;
  // filledTime carries milliseconds ("2024-01-06T21:19:45.123+0800"); ccxt reads filledTm (whole seconds).
  const precise_ms = Date.parse(str(field(raw, 'filledTime')) ?? '');
  const ts = Number.isFinite(precise_ms) ? precise_ms : t.timestamp;
  if (venue_order_id === undefined || qty === undefined || !(qty > 0) || price === undefined || ts === undefined) return undefined;
  const client_order_id = str(field(raw, 'clientOrderID', 'clientOrderId')) ?? '';
  const side = orderSide(field(raw, 'side')) ?? orderSide(t.side) ?? sideOf(venue_order_id, client_order_id);
  if (side === undefined) return undefined;
  const commission = num(field(raw, 'commission')) ?? 0;
  const fill_id = t.id ?? str(field(raw, 'tradeId', 'fillId', 'id')) ?? `${venue_order_id}:${ts}:${qty}:${price}`;
  const out: VenueFill = { fill_id: String(fill_id), client_order_id, venue_order_id, symbol, side, qty, price, fee: commission === 0 ? 0 : -commission, ts };
  const liquidation_price = num(field(raw, 'liquidatedPrice'));
  if (liquidation_price !== undefined && liquidation_price > 0) out.liquidation_price = liquidation_price;
  return out;
}

/** A fill row of the venue's liquidation order: BingX fills `liquidatedPrice` (else ""). */
export function isLiquidationRow(row: unknown): boolean {
  const v = num(field(row, 'liquidatedPrice'));
  return v !== undefined && v > 0;
}

/**
 * A ccxt position → PINK's. One-way mode reports positionSide BOTH with a signed amount;
 * hedge-style rows say LONG/SHORT with a positive amount; both are read. Flat rows are dropped.
 */
export function toVenuePosition(p: { symbol?: string; side?: string; contracts?: number; entryPrice?: number; markPrice?: number; liquidationPrice?: number; info?: unknown }): VenuePosition | undefined {
  const symbol = fromCcxtSymbol(p.symbol);
  const signed = num(field(p.info, 'positionAmt')) ?? p.contracts;
  if (symbol === undefined || signed === undefined || signed === 0) return undefined;
  const s = (p.side ?? '').toLowerCase();
  const side = s === 'long' || s === 'short' ? s : signed > 0 ? 'long' : 'short';
  const entry_price = p.entryPrice ?? num(field(p.info, 'avgPrice', 'entryPrice'));
  if (entry_price === undefined) return undefined;
  const out: VenuePosition = { symbol, side, qty: Math.abs(signed), entry_price };
  const mark = p.markPrice ?? num(field(p.info, 'markPrice'));
  if (mark !== undefined) out.mark_price = mark;
  // BingX says "0" for a position that cannot be liquidated: no liquidation price then.
  const liq = p.liquidationPrice ?? num(field(p.info, 'liquidationPrice'));
  if (liq !== undefined && liq > 0) out.liquidation_price = liq;
  return out;
}

/** USDT wallet balance from fetchBalance: BingX's `balance` field, else ccxt's total. */
export function toBalanceUsdt(b: { info?: unknown; total?: Record<string, number | undefined> }): number | null {
  const rows = field(b.info, 'data');
  const list = Array.isArray(rows) ? rows : rows !== undefined ? [field(rows, 'balance')] : [];
  for (const row of list) {
    if (field(row, 'asset') === 'USDT') {
      const v = num(field(row, 'balance'));
      if (v !== undefined) return v;
    }
  }
  const total = b.total?.['USDT'];
  return typeof total === 'number' && Number.isFinite(total) ? total : null;
}

/** Event ids: deterministic, so the same venue fact reported twice is one event to the kernel. */
export const eventId = {
  accepted: (coid: string) => `accepted:${coid}`,
  rejected: (coid: string) => `rejected:${coid}`,
  fill: (fill_id: string) => `fill:${fill_id}`,
  canceled: (coid: string) => `canceled:${coid}`,
  expired: (coid: string) => `expired:${coid}`,
  /** A cancel can be refused more than once (each attempt is its own fact). */
  cancelRejected: (coid: string, ts: number) => `cancel_rejected:${coid}:${ts}`,
};
