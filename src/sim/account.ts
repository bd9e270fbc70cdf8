// The account side of the simulated venue: one-way positions, cross margin, fees and
// realized PnL. Pure functions over SimStateData; the matching engine calls them per fill.

import { pushIncome } from './funding.js';
import { roundTo, type MarketSpec } from './markets.js';
import type { SimAccountView, SimFill, SimOrder, SimPosition, SimSide, SimStateData } from './types.js';

/** Closed positions kept for /trade/positionHistory. */
export const POSITION_HISTORY_MAX = 2000;

/** A conditional order (STOP_MARKET, TAKE_PROFIT_MARKET) not yet triggered: it holds nothing. */
export const isDormant = (o: SimOrder): boolean => (o.stop_price ?? 0) > 0 && o.triggered !== true;

export const DEFAULT_LEVERAGE = 10;

export const signedQty = (side: SimSide, qty: number): number => (side === 'BUY' ? qty : -qty);

export function leverageOf(state: SimStateData, symbol: string): number {
  return state.leverage[symbol] ?? DEFAULT_LEVERAGE;
}

export function positionQty(state: SimStateData, symbol: string): number {
  return state.positions[symbol]?.qty ?? 0;
}

/** Remaining quantity of open reduce-only orders on `side`: it is already promised to close. */
export function reservedReduceQty(state: SimStateData, symbol: string, side: SimSide, exceptOrderId?: string): number {
  let total = 0;
  for (const o of state.open_orders) {
    if (o.symbol === symbol && o.side === side && o.reduce_only && !isDormant(o) && o.order_id !== exceptOrderId) total += o.qty - o.filled_qty;
  }
  return total;
}

/** How much of `side` can still close the position: 0 when flat or when it would add to it. */
export function closableQty(state: SimStateData, symbol: string, side: SimSide): number {
  const pos = positionQty(state, symbol);
  if (side === 'SELL' && pos > 0) return pos;
  if (side === 'BUY' && pos < 0) return -pos;
  return 0;
}

/** The part of an order that would open or add exposure (the rest closes the position). */
export function increasingQty(state: SimStateData, symbol: string, side: SimSide, qty: number): number {
  return Math.max(0, qty - closableQty(state, symbol, side));
}

export function accountView(state: SimStateData, markets: Map<string, MarketSpec>): SimAccountView {
  let unrealized = 0;
  let used = 0;
  for (const pos of Object.values(state.positions)) {
    const mark = state.prices[pos.symbol] ?? pos.entry_price;
    unrealized += (mark - pos.entry_price) * pos.qty;
    used += (Math.abs(pos.qty) * pos.entry_price) / leverageOf(state, pos.symbol);
  }
  let frozen = 0;
  for (const o of state.open_orders) {
    if (o.reduce_only || isDormant(o) || !markets.has(o.symbol)) continue;
    const ref = o.price > 0 ? o.price : state.prices[o.symbol] ?? 0;
    frozen += ((o.qty - o.filled_qty) * ref) / o.leverage;
  }
  const equity = state.wallet_usdt + unrealized;
  // BingX's availableMargin is wallet − used − frozen (the capture: 194.8212 − 1.0602 =
  // 193.7609 despite +1.92 unrealized); an unrealized loss is taken off, a gain is not usable.
  const available = state.wallet_usdt + Math.min(0, unrealized) - used - frozen;
  return {
    wallet_usdt: roundTo(state.wallet_usdt, 8),
    realized_pnl_usdt: roundTo(state.realized_pnl_usdt, 8),
    fees_usdt: roundTo(state.fees_usdt, 8),
    unrealized_usdt: roundTo(unrealized, 8),
    equity_usdt: roundTo(equity, 8),
    used_margin_usdt: roundTo(used, 8),
    frozen_margin_usdt: roundTo(frozen, 8),
    available_usdt: roundTo(available, 8),
  };
}

/**
 * Books one fill: fee, position change (average entry on increase, realized PnL on decrease,
 * a fresh position at the fill price on a flip), and the order's running totals.
 */
export function applyFill(
  state: SimStateData,
  market: MarketSpec,
  order: SimOrder,
  fill: { qty: number; price: number; fee_rate: number; maker: boolean; ts_ms: number },
): SimFill {
  const qp = market.quantity_precision;
  const fee = fill.qty * fill.price * fill.fee_rate;
  const delta = signedQty(order.side, fill.qty);
  const { before, q0, pos, realized } = changePosition(state, qp, order, fill, delta, fee);
  pos.realized_pnl_usdt += (pos === before ? realized : 0) - fee;
  pos.fees_usdt = (pos.fees_usdt ?? 0) + fee;
  pos.max_qty = Math.max(pos.max_qty ?? 0, Math.abs(pos.qty));
  pos.updated_ms = fill.ts_ms;
  if (pos.qty === 0) {
    recordClosed(state, pos, q0 > 0 ? 'LONG' : 'SHORT', order.liquidation === true, fill.ts_ms);
    delete state.positions[order.symbol];
  } else {
    state.positions[order.symbol] = pos;
  }

  state.wallet_usdt += realized - fee;
  state.realized_pnl_usdt += realized;
  state.fees_usdt += fee;

  bookOrderFill(order, fill, fee, realized, qp);

  state.seq.fill += 1;
  const fill_id = String(state.seq.fill);
  if (realized !== 0) pushIncome(state, { symbol: order.symbol, type: 'REALIZED_PNL', amount_usdt: roundTo(realized, 8), ts_ms: fill.ts_ms, trade_id: fill_id });
  if (fee !== 0) pushIncome(state, { symbol: order.symbol, type: 'TRADING_FEE', amount_usdt: roundTo(-fee, 8), ts_ms: fill.ts_ms, trade_id: fill_id });
  return {
    fill_id,
    order_id: order.order_id,
    client_order_id: order.client_order_id,
    symbol: order.symbol,
    side: order.side,
    qty: fill.qty,
    price: fill.price,
    fee_usdt: fee,
    realized_pnl_usdt: realized,
    maker: fill.maker,
    ts_ms: fill.ts_ms,
  };
}

/**
 * The position side of a fill: opens one at the fill price, adds at the average entry, or
 * reduces it (realized PnL), closing it and opening the other side on a flip. Fees beyond a
 * flip's closing part, and the record of a position that closed flat, are applyFill's.
 */
function changePosition(
  state: SimStateData,
  qp: number,
  order: SimOrder,
  fill: { qty: number; price: number; ts_ms: number },
  delta: number,
  fee: number,
): { before: SimPosition | undefined; q0: number; pos: SimPosition; realized: number } {
  const before = state.positions[order.symbol];
  const q0 = before?.qty ?? 0;
  let realized = 0;
  let pos: SimPosition | undefined = before;
  if (pos === undefined || q0 === 0) {
    pos = newPosition(state, order.symbol, delta, fill.price, fill.ts_ms);
  } else if (Math.sign(q0) === Math.sign(delta)) {
    const q1 = roundTo(q0 + delta, qp);
    pos.entry_price = (Math.abs(q0) * pos.entry_price + Math.abs(delta) * fill.price) / Math.abs(q1);
    pos.qty = q1;
  } else {
    const closed = Math.min(Math.abs(delta), Math.abs(q0));
    realized = closed * (fill.price - pos.entry_price) * Math.sign(q0);
    pos.closed_qty = roundTo((pos.closed_qty ?? 0) + closed, qp);
    pos.close_quote_usdt = (pos.close_quote_usdt ?? 0) + closed * fill.price;
    pos.gross_realized_usdt = (pos.gross_realized_usdt ?? 0) + realized;
    const q1 = roundTo(q0 + delta, qp);
    if (q1 === 0) {
      pos.qty = 0;
    } else if (Math.sign(q1) === Math.sign(q0)) {
      pos.qty = q1;
    } else {
      // Flip (never for reduce-only, see engine): the old position is closed, a new one opens.
      // The closing part of the fee is the old position's; the rest opens the new one.
      const closeFee = fee * (closed / fill.qty);
      pos.realized_pnl_usdt += realized - closeFee;
      pos.fees_usdt = (pos.fees_usdt ?? 0) + closeFee;
      recordClosed(state, pos, q0 > 0 ? 'LONG' : 'SHORT', order.liquidation === true, fill.ts_ms);
      delete state.positions[order.symbol];
      pos = newPosition(state, order.symbol, q1, fill.price, fill.ts_ms);
      // Offsets: applyFill adds the whole fee, of which the old position already carries closeFee.
      pos.fees_usdt = -closeFee;
      pos.realized_pnl_usdt = closeFee;
    }
  }
  return { before, q0, pos, realized };
}

/** The order's running totals after one of its fills. */
function bookOrderFill(order: SimOrder, fill: { qty: number; price: number; ts_ms: number }, fee: number, realized: number, qp: number): void {
  order.cum_quote_usdt += fill.qty * fill.price;
  order.filled_qty = roundTo(order.filled_qty + fill.qty, qp);
  order.avg_price = order.cum_quote_usdt / order.filled_qty;
  order.fee_usdt += fee;
  order.realized_pnl_usdt += realized;
  order.updated_ms = fill.ts_ms;
  order.status = order.filled_qty >= order.qty ? 'FILLED' : 'PARTIALLY_FILLED';
}

/** A position that closed (flat, flipped or liquidated) joins the position history. */
function recordClosed(state: SimStateData, p: SimPosition, side: 'LONG' | 'SHORT', liquidated: boolean, ts_ms: number): void {
  const closed = p.closed_qty ?? 0;
  const list = (state.position_history ??= []);
  list.push({
    position_id: p.position_id,
    symbol: p.symbol,
    side,
    isolated: state.margin_type[p.symbol] === 'ISOLATED',
    opened_ms: p.opened_ms,
    closed_ms: ts_ms,
    avg_price: p.entry_price,
    avg_close_price: closed > 0 ? (p.close_quote_usdt ?? 0) / closed : 0,
    max_qty: p.max_qty ?? Math.abs(p.qty),
    closed_qty: closed,
    gross_realized_usdt: p.gross_realized_usdt ?? 0,
    fees_usdt: p.fees_usdt ?? 0,
    funding_usdt: p.funding_usdt ?? 0,
    leverage: leverageOf(state, p.symbol),
    liquidated,
  });
  if (list.length > POSITION_HISTORY_MAX) list.splice(0, list.length - POSITION_HISTORY_MAX);
}

function newPosition(state: SimStateData, symbol: string, qty: number, price: number, ts_ms: number): SimPosition {
  state.seq.position += 1;
  return {
    symbol,
    position_id: venueId(state.seq.position),
    qty,
    entry_price: price,
    realized_pnl_usdt: 0,
    opened_ms: ts_ms,
    updated_ms: ts_ms,
  };
}

/** BingX ids are 19-digit decimal strings; ours are a counter above a fixed base (deterministic). */
export function venueId(seq: number): string {
  return (1900000000000000000n + BigInt(seq)).toString();
}
