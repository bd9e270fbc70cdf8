// The BingX endpoints the simulator serves: what ccxt's bingx (4.5.84) calls for markets,
// currencies, time, tickers, klines, balance, positions, orders, fills, leverage and margin
// type. Each route names its envelope's code style (0 or "0", as the captures show), whether
// it is signed, and whether it mutates (the drop-response fault acts on mutating routes).

import type { CandleBook } from './candles.js';
import { INTERVAL_MS } from './candles.js';
import type { SimEngine } from './engine.js';
import { VENUE_ERRORS, VenueError, type CodeStyle } from './errors.js';
import { fmtPrice, fmtQty, type MarketSpec } from './markets.js';
import type { SimOrder, SimTimeInForce } from './types.js';
import {
  balanceWire,
  contractWire,
  createdOrderWire,
  currencyWire,
  fillHistoryWire,
  fillWire,
  klineWire,
  orderWire,
  positionWire,
  tickerWire,
} from './wire.js';
import { DEFAULT_LEVERAGE, accountView } from './account.js';

export interface RouteContext {
  engine: SimEngine;
  candles: CandleBook;
  params: Record<string, string>;
  now_ms: number;
  taker_fee_rate: number;
  maker_fee_rate: number;
  duplicate_fills: boolean;
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

/** Bounds on list answers, as BingX's own page limits. */
const KLINES_LIMIT_MAX = 1440;
const ORDERS_LIMIT_MAX = 1000;
const FILL_PAGE_SIZE_MAX = 1000;
const CLIENT_ORDER_ID_PATTERN = /^[A-Za-z0-9_-]{1,40}$/;

const bad = (detail: string) => new VenueError(VENUE_ERRORS.badParams, `err: ${detail}`);

function optional(p: Record<string, string>, name: string): string | undefined {
  const v = p[name];
  return v === undefined || v === '' ? undefined : v;
}

function required(p: Record<string, string>, name: string): string {
  const v = optional(p, name);
  if (v === undefined) throw bad(`${name} is required`);
  return v;
}

function optionalInt(p: Record<string, string>, name: string): number | undefined {
  const v = optional(p, name);
  if (v === undefined) return undefined;
  if (!/^\d{1,16}$/.test(v)) throw bad(`${name} must be a non-negative integer`);
  return Number(v);
}

function positive(p: Record<string, string>, name: string): number {
  const v = Number(required(p, name));
  if (!Number.isFinite(v) || v <= 0) throw bad(`${name} must be a positive number`);
  return v;
}

function bool(p: Record<string, string>, name: string): boolean {
  const v = optional(p, name);
  if (v === undefined || v === 'false') return false;
  if (v === 'true') return true;
  throw bad(`${name} must be true or false`);
}

function symbolOf(ctx: RouteContext, need: boolean): MarketSpec | undefined {
  const s = need ? required(ctx.params, 'symbol') : optional(ctx.params, 'symbol');
  return s === undefined ? undefined : ctx.engine.market(s);
}

function orderRef(p: Record<string, string>) {
  const order_id = optional(p, 'orderId');
  const client_order_id = optional(p, 'clientOrderID') ?? optional(p, 'clientOrderId');
  if (order_id === undefined && client_order_id === undefined) throw bad('orderId or clientOrderID is required');
  return order_id !== undefined ? { order_id } : { client_order_id };
}

const wireOrder = (ctx: RouteContext, o: SimOrder) => orderWire(o, ctx.engine.market(o.symbol));
const dup = <T>(ctx: RouteContext, rows: T[]): T[] => (ctx.duplicate_fills ? rows.flatMap((r) => [r, r]) : rows);

function placeOrder(ctx: RouteContext): RouteResult {
  const p = ctx.params;
  const m = symbolOf(ctx, true) as MarketSpec;
  const side = required(p, 'side');
  if (side !== 'BUY' && side !== 'SELL') throw bad('side must be BUY or SELL');
  const type = required(p, 'type');
  if (type !== 'MARKET' && type !== 'LIMIT') throw bad(`type ${type}: the simulator fills MARKET and LIMIT orders only`);
  const positionSide = optional(p, 'positionSide') ?? 'BOTH';
  if (positionSide !== 'BOTH') throw new VenueError(VENUE_ERRORS.positionSide);
  const coid = optional(p, 'clientOrderID') ?? optional(p, 'clientOrderId') ?? '';
  if (coid !== '' && !CLIENT_ORDER_ID_PATTERN.test(coid)) throw bad('clientOrderID must be 1-40 letters, digits, - or _');
  const tif = optional(p, 'timeInForce') ?? 'GTC';
  if (!['GTC', 'IOC', 'FOK', 'PostOnly'].includes(tif)) throw bad('timeInForce must be GTC, IOC, FOK or PostOnly');
  for (const unsupported of ['stopPrice', 'stopLoss', 'takeProfit', 'priceRate', 'closePosition']) {
    if (optional(p, unsupported) !== undefined && optional(p, unsupported) !== 'false') throw bad(`${unsupported} is not simulated`);
  }
  const order = ctx.engine.place({
    symbol: m.symbol,
    side,
    type,
    qty: positive(p, 'quantity'),
    price: type === 'LIMIT' ? positive(p, 'price') : 0,
    client_order_id: coid,
    reduce_only: bool(p, 'reduceOnly'),
    time_in_force: tif as SimTimeInForce,
    foreign: false,
  });
  return { data: createdOrderWire(order, m), extra: { debugMsg: '' } };
}

function fillsOf(ctx: RouteContext, startKey: string, endKey: string) {
  const m = symbolOf(ctx, false);
  return ctx.engine.fills({
    symbol: m?.symbol,
    order_id: optional(ctx.params, 'orderId'),
    start_ms: optionalInt(ctx.params, startKey),
    end_ms: optionalInt(ctx.params, endKey),
  });
}

export const ROUTES: Route[] = [
  // ---- public market data --------------------------------------------------------------
  { method: 'GET', path: '/openApi/swap/v2/server/time', access: 'public', code: 'num', mutating: false, handle: (c) => ({ data: { serverTime: c.now_ms } }) },
  {
    method: 'GET', path: '/openApi/swap/v2/quote/contracts', access: 'public', code: 'num', mutating: false,
    handle: (c) => ({ data: [...c.engine.cfg.markets.values()].map((m) => contractWire(m, c.taker_fee_rate, c.maker_fee_rate)) }),
  },
  {
    method: 'GET', path: '/openApi/swap/v2/quote/ticker', access: 'public', code: 'str', mutating: false,
    handle: (c) => {
      const one = (m: MarketSpec) => tickerWire(m, c.engine.price(m.symbol), c.candles.query(m.symbol, 60_000, { start_ms: c.now_ms - 86_400_000, limit: 1440 }), c.now_ms);
      const m = symbolOf(c, false);
      return { data: m ? one(m) : [...c.engine.cfg.markets.values()].map(one) };
    },
  },
  ...['/openApi/swap/v3/quote/klines', '/openApi/swap/v2/quote/klines'].map(
    (path): Route => ({
      method: 'GET', path, access: 'public', code: 'num', mutating: false,
      handle: (c) => {
        const m = symbolOf(c, true) as MarketSpec;
        const interval = INTERVAL_MS[required(c.params, 'interval')];
        if (interval === undefined) throw bad('interval is not one of 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d 3d 1w 1M');
        const limit = Math.min(optionalInt(c.params, 'limit') ?? 500, KLINES_LIMIT_MAX);
        const rows = c.candles.query(m.symbol, interval, { start_ms: optionalInt(c.params, 'startTime'), end_ms: optionalInt(c.params, 'endTime'), limit });
        return { data: rows.reverse().map((k) => klineWire(k, m)) };
      },
    }),
  ),
  {
    method: 'GET', path: '/openApi/swap/v2/quote/price', access: 'public', code: 'num', mutating: false,
    handle: (c) => {
      const one = (m: MarketSpec) => ({ symbol: m.symbol, price: fmtPrice(c.engine.price(m.symbol), m), time: c.now_ms });
      const m = symbolOf(c, false);
      return { data: m ? one(m) : [...c.engine.cfg.markets.values()].map(one) };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v2/quote/premiumIndex', access: 'public', code: 'num', mutating: false,
    handle: (c) => {
      const one = (m: MarketSpec) => {
        const px = fmtPrice(c.engine.price(m.symbol), m);
        return { symbol: m.symbol, markPrice: px, indexPrice: px, lastFundingRate: '0.00000000', nextFundingTime: Math.ceil(c.now_ms / 28_800_000) * 28_800_000 };
      };
      const m = symbolOf(c, false);
      return { data: m ? one(m) : [...c.engine.cfg.markets.values()].map(one) };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v2/quote/depth', access: 'public', code: 'num', mutating: false,
    handle: (c) => {
      const m = symbolOf(c, true) as MarketSpec;
      const px = c.engine.price(m.symbol);
      const tick = 10 ** -m.price_precision;
      const levels = Math.min(optionalInt(c.params, 'limit') ?? 5, 100);
      const level = (i: number, sign: number) => [fmtPrice(px + sign * tick * (i + 1), m), fmtQty(m.min_qty * 100 * (i + 1), m)];
      return { data: { T: c.now_ms, bids: Array.from({ length: levels }, (_, i) => level(i, -1)), asks: Array.from({ length: levels }, (_, i) => level(i, 1)) } };
    },
  },
  // ccxt's loadMarkets also lists spot and coin-margined markets: the simulator has none.
  { method: 'GET', path: '/openApi/spot/v1/common/symbols', access: 'public', code: 'num', mutating: false, handle: () => ({ data: { symbols: [] } }) },
  { method: 'GET', path: '/openApi/spot/v1/ticker/24hr', access: 'public', code: 'num', mutating: false, handle: () => ({ data: [] }) },
  { method: 'GET', path: '/openApi/cswap/v1/market/contracts', access: 'public', code: 'num', mutating: false, handle: (c) => ({ data: [], extra: { timestamp: c.now_ms } }) },

  // ---- private: account ------------------------------------------------------------------
  {
    method: 'GET', path: '/openApi/wallets/v1/capital/config/getall', access: 'private', code: 'str', mutating: false,
    handle: (c) => ({
      data: ['USDT', ...new Set([...c.engine.cfg.markets.values()].map((m) => m.asset))].map(currencyWire),
      extra: { timestamp: String(c.now_ms) },
    }),
  },
  {
    method: 'GET', path: '/openApi/swap/v3/user/balance', access: 'private', code: 'num', mutating: false,
    handle: (c) => ({ data: [balanceWire(accountView(c.engine.state, c.engine.cfg.markets))] }),
  },
  {
    method: 'GET', path: '/openApi/swap/v2/user/balance', access: 'private', code: 'num', mutating: false,
    handle: (c) => ({ data: { balance: balanceWire(accountView(c.engine.state, c.engine.cfg.markets)) } }),
  },
  {
    method: 'GET', path: '/openApi/swap/v2/user/positions', access: 'private', code: 'str', mutating: false,
    handle: (c) => {
      const m = symbolOf(c, false);
      const list = Object.values(c.engine.state.positions).filter((p) => m === undefined || p.symbol === m.symbol);
      return { data: list.map((p) => positionWire(p, c.engine.market(p.symbol), c.engine.state)) };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v2/user/commissionRate', access: 'private', code: 'num', mutating: false,
    handle: (c) => ({ data: { commission: { takerCommissionRate: c.taker_fee_rate, makerCommissionRate: c.maker_fee_rate } } }),
  },
  { method: 'GET', path: '/openApi/swap/v1/positionSide/dual', access: 'private', code: 'num', mutating: false, handle: () => ({ data: { dualSidePosition: 'false' } }) },
  {
    method: 'POST', path: '/openApi/swap/v1/positionSide/dual', access: 'private', code: 'num', mutating: true,
    handle: (c) => {
      if (bool(c.params, 'dualSidePosition')) throw bad('the simulator trades in one-way mode only (dualSidePosition=false)');
      return { data: { dualSidePosition: 'false' } };
    },
  },

  // ---- private: orders ------------------------------------------------------------------
  { method: 'POST', path: '/openApi/swap/v2/trade/order', access: 'private', code: 'str', mutating: true, kind: 'create', handle: placeOrder },
  {
    method: 'GET', path: '/openApi/swap/v2/trade/order', access: 'private', code: 'str', mutating: false,
    handle: (c) => {
      const m = symbolOf(c, true) as MarketSpec;
      const order = c.engine.find(m.symbol, orderRef(c.params));
      if (!order) throw new VenueError(VENUE_ERRORS.orderNotFound);
      return { data: { order: wireOrder(c, order) } };
    },
  },
  {
    method: 'DELETE', path: '/openApi/swap/v2/trade/order', access: 'private', code: 'num', mutating: true, kind: 'cancel',
    handle: (c) => {
      const m = symbolOf(c, true) as MarketSpec;
      return { data: { order: wireOrder(c, c.engine.cancel(m.symbol, orderRef(c.params))) } };
    },
  },
  {
    method: 'DELETE', path: '/openApi/swap/v2/trade/allOpenOrders', access: 'private', code: 'num', mutating: true,
    handle: (c) => ({ data: { success: c.engine.cancelAll(symbolOf(c, false)?.symbol).map((o) => wireOrder(c, o)), failed: null } }),
  },
  {
    method: 'GET', path: '/openApi/swap/v2/trade/openOrders', access: 'private', code: 'num', mutating: false,
    handle: (c) => ({ data: { orders: c.engine.openOrders(symbolOf(c, false)?.symbol).map((o) => wireOrder(c, o)) } }),
  },
  {
    method: 'GET', path: '/openApi/swap/v2/trade/allOrders', access: 'private', code: 'str', mutating: false,
    handle: (c) => {
      const symbol = symbolOf(c, false)?.symbol;
      const start = optionalInt(c.params, 'startTime');
      const end = optionalInt(c.params, 'endTime');
      const limit = Math.min(optionalInt(c.params, 'limit') ?? 500, ORDERS_LIMIT_MAX);
      const all = [...c.engine.openOrders(symbol).slice().reverse(), ...c.engine.closedOrders(symbol)].filter(
        (o) => (start === undefined || o.created_ms >= start) && (end === undefined || o.created_ms <= end),
      );
      return { data: { orders: all.slice(0, limit).map((o) => wireOrder(c, o)) } };
    },
  },

  // ---- private: fills ---------------------------------------------------------------------
  {
    // Symbol optional (one call returns every symbol's fills), oldest first; no fill id here.
    method: 'GET', path: '/openApi/swap/v2/trade/allFillOrders', access: 'private', code: 'str', mutating: false,
    handle: (c) => ({ data: { fill_orders: dup(c, fillsOf(c, 'startTs', 'endTs').map((f) => fillWire(f, c.engine.market(f.symbol)))) } }),
  },
  {
    method: 'GET', path: '/openApi/swap/v2/trade/fillHistory', access: 'private', code: 'num', mutating: false,
    handle: (c) => {
      const rows = dup(c, fillsOf(c, 'startTs', 'endTs').map((f) => fillHistoryWire(f, c.engine.market(f.symbol))));
      const size = Math.min(optionalInt(c.params, 'pageSize') ?? 50, FILL_PAGE_SIZE_MAX);
      const page = Math.max(1, optionalInt(c.params, 'pageIndex') ?? 1);
      return { data: { fill_history_orders: rows.slice((page - 1) * size, page * size), total: rows.length } };
    },
  },

  // ---- private: leverage and margin type --------------------------------------------------
  {
    method: 'POST', path: '/openApi/swap/v2/trade/leverage', access: 'private', code: 'num', mutating: true,
    handle: (c) => {
      const m = symbolOf(c, true) as MarketSpec;
      const side = optional(c.params, 'side') ?? 'BOTH';
      if (side !== 'BOTH') throw new VenueError(VENUE_ERRORS.positionSide);
      const leverage = Number(required(c.params, 'leverage'));
      c.engine.setLeverage(m.symbol, leverage);
      return { data: { leverage, symbol: m.symbol, availableLongVol: '0.0000', availableShortVol: '0.0000', availableLongVal: '0.0', availableShortVal: '0.0', maxPositionLongVal: '0.0', maxPositionShortVal: '0.0' } };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v2/trade/leverage', access: 'private', code: 'num', mutating: false,
    handle: (c) => {
      const m = symbolOf(c, true) as MarketSpec;
      const lev = c.engine.state.leverage[m.symbol] ?? DEFAULT_LEVERAGE;
      return { data: { longLeverage: lev, shortLeverage: lev, maxLongLeverage: m.max_leverage, maxShortLeverage: m.max_leverage, availableLongVol: '0', availableShortVol: '0', availableLongVal: '0', availableShortVal: '0', maxPositionLongVal: '0', maxPositionShortVal: '0' } };
    },
  },
  {
    method: 'POST', path: '/openApi/swap/v2/trade/marginType', access: 'private', code: 'num', mutating: true,
    handle: (c) => {
      const m = symbolOf(c, true) as MarketSpec;
      const t = required(c.params, 'marginType');
      if (t !== 'ISOLATED' && t !== 'CROSSED') throw bad('marginType must be ISOLATED or CROSSED');
      c.engine.state.margin_type[m.symbol] = t;
      c.engine.dirty = true;
      return { data: {} };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v2/trade/marginType', access: 'private', code: 'num', mutating: false,
    handle: (c) => ({ data: { marginType: c.engine.state.margin_type[(symbolOf(c, true) as MarketSpec).symbol] ?? 'CROSSED' } }),
  },
];

const BY_KEY = new Map(ROUTES.map((r) => [`${r.method} ${r.path}`, r]));

export function findRoute(method: string, path: string): Route | undefined {
  return BY_KEY.get(`${method} ${path}`);
}
