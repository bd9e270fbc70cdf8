// The pieces every route file shares: the request context, the route record, and the
// parameter readers that answer a malformed parameter with BingX's 80014.

import type { CandleBook } from './candles.js';
import type { PlaceRequest, SimEngine } from './engine.js';
import { VENUE_ERRORS, VenueError, type CodeStyle } from './errors.js';
import type { MarketSpec } from './markets.js';
import type { SimOrder, SimOrderType, SimTimeInForce } from './types.js';
import { orderWire } from './wire.js';

export interface RouteContext {
  engine: SimEngine;
  candles: CandleBook;
  params: Record<string, string>;
  now_ms: number;
  taker_fee_rate: number;
  maker_fee_rate: number;
  duplicate_fills: boolean;
  /** SimFaults.hideFills: the fill feeds list nothing. */
  hide_fills?: boolean;
}

export interface RouteResult {
  data: unknown;
  extra?: Record<string, unknown>;
}

export interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  access: 'public' | 'private';
  code: CodeStyle;
  mutating: boolean;
  /** Order create: the `rejectNext` fault applies to it. Order cancel: `rejectNextCancel`. */
  kind?: 'create' | 'cancel';
  handle: (ctx: RouteContext) => RouteResult;
}

export const CLIENT_ORDER_ID_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;

export const bad = (detail: string) => new VenueError(VENUE_ERRORS.badParams, `err: ${detail}`);

export function optional(p: Record<string, string>, name: string): string | undefined {
  const v = p[name];
  return v === undefined || v === '' ? undefined : v;
}

export function required(p: Record<string, string>, name: string): string {
  const v = optional(p, name);
  if (v === undefined) throw bad(`${name} is required`);
  return v;
}

export function optionalInt(p: Record<string, string>, name: string): number | undefined {
  const v = optional(p, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,16}$/.test(v)) throw bad(`${name} must be a non-negative integer`);
  return Number(v);
}

export function positive(p: Record<string, string>, name: string): number {
  const v = Number(required(p, name));
  if (!Number.isFinite(v) || v <= 0) throw bad(`${name} must be a positive number`);
  return v;
}

export function bool(p: Record<string, string>, name: string): boolean {
  const v = optional(p, name);
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  throw bad(`${name} must be true or false`);
}

export function symbolOf(ctx: RouteContext, need: boolean): MarketSpec | undefined {
  const s = need ? required(ctx.params, 'symbol') : optional(ctx.params, 'symbol');
  return s === undefined ? undefined : ctx.engine.market(s);
}

export function orderRef(p: Record<string, string>) {
  const order_id = optional(p, 'orderId');
  const client_order_id = optional(p, 'clientOrderID') ?? optional(p, 'clientOrderId');
  if (order_id === undefined && client_order_id === undefined) throw bad('orderId or clientOrderID is required');
  return order_id !== undefined ? { order_id } : { client_order_id };
}

export const wireOrder = (ctx: RouteContext, o: SimOrder) => orderWire(o, ctx.engine.market(o.symbol));
export const dup = <T>(ctx: RouteContext, rows: T[]): T[] => (ctx.duplicate_fills ? rows.flatMap((r) => [r, r]) : rows);


export const CONDITIONAL_TYPES = new Set(['STOP_MARKET', 'TAKE_PROFIT_MARKET']);

/**
 * One order's parameters, checked as BingX checks them: used by trade/order, the batch and
 * cancelReplace. Position mode: one-way takes positionSide BOTH (or none); a hedge-mode account
 * refuses BOTH, and its LONG/SHORT positions are not simulated (80014, said so).
 */
export function placeRequest(engine: SimEngine, p: Record<string, string>): PlaceRequest {
  const m = engine.market(required(p, 'symbol'));
  const side = required(p, 'side');
  if (side !== 'BUY' && side !== 'SELL') throw bad('side must be BUY or SELL');
  const type = required(p, 'type');
  if (type !== 'MARKET' && type !== 'LIMIT' && !CONDITIONAL_TYPES.has(type)) {
    throw bad(`type ${type}: the simulator fills MARKET, LIMIT, STOP_MARKET and TAKE_PROFIT_MARKET orders`);
  }
  const positionSide = optional(p, 'positionSide') ?? 'BOTH';
  if (engine.state.position_mode === 'hedge') {
    if (positionSide === 'BOTH') throw new VenueError(VENUE_ERRORS.positionSideHedge);
    throw bad('hedge-mode (LONG/SHORT) positions are not simulated; switch the account to one-way mode');
  }
  if (positionSide !== 'BOTH') throw new VenueError(VENUE_ERRORS.positionSide);
  const coid = optional(p, 'clientOrderID') ?? optional(p, 'clientOrderId') ?? '';
  if (coid !== '' && !CLIENT_ORDER_ID_PATTERN.test(coid)) throw bad('clientOrderID must be 1-40 letters, digits, - or _');
  const tif = optional(p, 'timeInForce') ?? 'GTC';
  if (!['GTC', 'IOC', 'FOK', 'PostOnly'].includes(tif)) throw bad('timeInForce must be GTC, IOC, FOK or PostOnly');
  for (const unsupported of ['stopLoss', 'takeProfit', 'priceRate', 'activationPrice']) {
    if (optional(p, unsupported) !== undefined) throw bad(`${unsupported} is not simulated`);
  }
  const conditional = CONDITIONAL_TYPES.has(type);
  const closePosition = bool(p, 'closePosition');
  if (!conditional && optional(p, 'stopPrice') !== undefined && Number(p['stopPrice']) !== 0) throw bad(`stopPrice needs type STOP_MARKET or TAKE_PROFIT_MARKET, not ${type}`);
  if (closePosition && !conditional) throw bad('closePosition is only for STOP_MARKET and TAKE_PROFIT_MARKET');
  if (closePosition && bool(p, 'reduceOnly')) throw bad('closePosition is not used with reduceOnly');
  const req: PlaceRequest = {
    symbol: m.symbol,
    side,
    type: type as SimOrderType,
    qty: closePosition ? 0 : positive(p, 'quantity'),
    price: type === 'LIMIT' ? positive(p, 'price') : 0,
    client_order_id: coid,
    reduce_only: bool(p, 'reduceOnly'),
    time_in_force: tif as SimTimeInForce,
    foreign: false,
  };
  if (conditional) {
    req.stop_price = positive(p, 'stopPrice');
    req.close_position = closePosition;
  }
  return req;
}

