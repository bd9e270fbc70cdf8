// The BingX endpoints the simulator serves: what ccxt's bingx (4.5.84) calls for markets,
// currencies, time, tickers, klines, balance, positions, orders, fills, leverage and margin
// type. Each route names its envelope's code style (0 or "0", as the captures show), whether
// it is signed, and whether it mutates (the drop-response fault acts on mutating routes).

import { INTERVAL_MS } from './candles.js';
import { VENUE_ERRORS, VenueError } from './errors.js';
import { fmtPrice, fmtQty, type MarketSpec } from './markets.js';
import { PERP_ROUTES } from './routes-perp.js';
import { bad, bool, dup, optional, optionalInt, orderRef, placeRequest, required, symbolOf, wireOrder, type Route, type RouteContext, type RouteResult } from './route-kit.js';
import {
  balanceWire,
  contractWire,
  createdOrderWire,
  currencyWire,
  fillHistoryWire,
  fillWire,
  klineWire,
  positionWire,
  tickerWire,
} from './wire.js';
import { DEFAULT_LEVERAGE, accountView } from './account.js';

/** Bounds on list answers, as BingX's own page limits. */
const KLINES_LIMIT_MAX = 1440;
const ORDERS_LIMIT_MAX = 1000;
const FILL_PAGE_SIZE_MAX = 1000;

function placeOrder(ctx: RouteContext): RouteResult {
  const order = ctx.engine.place(placeRequest(ctx.engine, ctx.params));
  return { data: createdOrderWire(order, ctx.engine.market(order.symbol)), extra: { debugMsg: '' } };
}

function fillsOf(ctx: RouteContext, startKey: string, endKey: string) {
  const m = symbolOf(ctx, false);
  if (ctx.hide_fills === true) return [];
  return ctx.engine.fills({
    symbol: m?.symbol,
    order_id: optional(ctx.params, 'orderId'),
    start_ms: optionalInt(ctx.params, startKey),
    end_ms: optionalInt(ctx.params, endKey),
  });
}

const BASE_ROUTES: Route[] = [
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
      return { data: list.map((p) => positionWire(p, c.engine.market(p.symbol), c.engine.state, c.engine.liquidationPrice(p.symbol))) };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v2/user/commissionRate', access: 'private', code: 'num', mutating: false,
    handle: (c) => ({ data: { commission: { takerCommissionRate: c.taker_fee_rate, makerCommissionRate: c.maker_fee_rate } } }),
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

export type { Route, RouteContext } from './route-kit.js';
export const ROUTES: Route[] = [...BASE_ROUTES, ...PERP_ROUTES];
const BY_KEY = new Map(ROUTES.map((r) => [`${r.method} ${r.path}`, r]));

export function findRoute(method: string, path: string): Route | undefined {
  return BY_KEY.get(`${method} ${path}`);
}
