// The perpetual-swap endpoints beyond plain orders, each as BingX documents it and ccxt's
// bingx (4.5.84) calls it: funding (premiumIndex, fundingRate history, the income ledger),
// risk (maintMarginRatio tiers, forceOrders), position mode, position history, and the
// order operations ccxt offers on top of trade/order: batchOrders (create and cancel),
// cancelReplace (editOrder), fullOrder (fetchOrders), closePosition, closeAllPositions.

import { INTERVAL_MS } from './candles.js';
import { VENUE_ERRORS, VenueError } from './errors.js';
import { fmt, fmtPrice, type MarketSpec } from './markets.js';
import { marginTiers } from './risk.js';
import { bad, bool, optional, optionalInt, orderRef, placeRequest, required, symbolOf, wireOrder, type Route, type RouteContext } from './route-kit.js';
import type { SimOrder } from './types.js';
import { createdOrderWire, forceOrderWire, incomeWire, klineWire, positionHistoryWire } from './wire.js';

/** BingX's page limits for these endpoints. */
const RATE_HISTORY_LIMIT_MAX = 1000;
const INCOME_LIMIT_MAX = 1000;
const FORCE_ORDERS_LIMIT_MAX = 100;
const POSITION_HISTORY_PAGE_MAX = 100;
const FULL_ORDERS_LIMIT_MAX = 1000;
/** batchOrders takes at most 5 orders, the batch cancel at most 10 ids. */
const BATCH_CREATE_MAX = 5;
const BATCH_CANCEL_MAX = 10;
/** Without a time range, the income ledger answers the last 7 days (BingX). */
const INCOME_DEFAULT_SPAN_MS = 7 * 24 * 3600_000;

/** Rows in [start, end] (inclusive), oldest first: the first `limit` after a start, else the newest `limit`. */
function window<T>(rows: T[], ts: (r: T) => number, start: number | undefined, end: number | undefined, limit: number): T[] {
  const inRange = rows.filter((r) => (start === undefined || ts(r) >= start) && (end === undefined || ts(r) <= end));
  return start !== undefined ? inRange.slice(0, limit) : inRange.slice(Math.max(0, inRange.length - limit));
}

const markets = (c: RouteContext): MarketSpec[] => [...c.engine.cfg.markets.values()];

function premiumIndex(c: RouteContext, m: MarketSpec): Record<string, unknown> {
  const e = c.engine;
  const f = e.state.funding;
  return {
    symbol: m.symbol,
    markPrice: fmtPrice(e.price(m.symbol), m),
    indexPrice: fmtPrice(f?.index[m.symbol] ?? e.price(m.symbol), m),
    lastFundingRate: fmt(e.fundingRate(m.symbol), 8),
    nextFundingTime: f?.next_ms ?? 0,
    // BingX gives whole hours; a test's seconds-long interval shows as a fraction of one.
    fundingIntervalHours: (f?.interval_ms ?? 0) / 3600_000,
    updateTime: f?.updated_ms ?? c.now_ms,
  };
}

/** batchOrders: a JSON list of order objects. */
function objectList(p: Record<string, string>, name: string): unknown[] | undefined {
  const raw = optional(p, name);
  if (raw === undefined) return undefined;
  try {
    const v = JSON.parse(raw) as unknown;
    if (Array.isArray(v)) return v;
  } catch {
    // answered below
  }
  throw bad(`${name} must be a JSON list`);
}

/** An id list, "[1,2]", '["a","b"]' or "1,2", read as text: 19-digit ids do not survive JSON numbers. */
function idList(p: Record<string, string>, name: string): string[] | undefined {
  const raw = optional(p, name);
  if (raw === undefined) return undefined;
  return raw.replace(/^\[|\]$/g, '').split(',').map((x) => x.trim().replace(/^"|"$/g, '')).filter((x) => x !== '');
}

function batchCreate(c: RouteContext) {
  const list = objectList(c.params, 'batchOrders');
  if (list === undefined || list.length === 0) throw bad('batchOrders is required');
  if (list.length > BATCH_CREATE_MAX) throw bad(`batchOrders takes at most ${BATCH_CREATE_MAX} orders`);
  // Every order is checked before any is placed: a malformed batch places nothing.
  const requests = list.map((raw) => {
    if (typeof raw !== 'object' || raw === null) throw bad('each batchOrders entry must be an object');
    const p = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    return placeRequest(c.engine, p);
  });
  const placed: SimOrder[] = [];
  for (const req of requests) {
    try {
      placed.push(c.engine.place(req));
    } catch (err) {
      // The venue refused this one: the batch stops here and says why; those before it stand
      // (a client must look them up by clientOrderID, as after any partial answer).
      if (err instanceof VenueError) throw new VenueError({ code: err.code, msg: `${err.message} (batch order ${placed.length + 1} of ${requests.length}; ${placed.length} placed before it)` });
      throw err;
    }
  }
  return { data: { orders: placed.map((o) => createdOrderWire(o, c.engine.market(o.symbol))) } };
}

function batchCancel(c: RouteContext) {
  const m = symbolOf(c, true) as MarketSpec;
  const ids = idList(c.params, 'orderIdList');
  const coids = idList(c.params, 'clientOrderIDList') ?? idList(c.params, 'clientOrderIdList');
  const refs: Array<{ order_id?: string; client_order_id?: string }> =
    ids !== undefined ? ids.map((id) => ({ order_id: String(id) })) : (coids ?? []).map((id) => ({ client_order_id: String(id) }));
  if (refs.length === 0) throw bad('orderIdList & clientOrderIDList are both empty');
  if (refs.length > BATCH_CANCEL_MAX) throw bad(`at most ${BATCH_CANCEL_MAX} orders per batch cancel`);
  const success: unknown[] = [];
  const failed: unknown[] = [];
  for (const ref of refs) {
    try {
      success.push(wireOrder(c, c.engine.cancel(m.symbol, ref)));
    } catch (err) {
      if (!(err instanceof VenueError)) throw err;
      failed.push({ orderId: ref.order_id ?? '', clientOrderId: ref.client_order_id ?? '', errorCode: err.code, errorMessage: err.message });
    }
  }
  return { data: { success, failed: failed.length > 0 ? failed : null } };
}

/** cancelReplace (ccxt editOrder): cancel, then place; STOP_ON_FAILURE places nothing if the cancel fails. */
function cancelReplace(c: RouteContext) {
  const p = c.params;
  const m = symbolOf(c, true) as MarketSpec;
  const mode = required(p, 'cancelReplaceMode');
  if (mode !== 'STOP_ON_FAILURE' && mode !== 'ALLOW_FAILURE') throw bad('cancelReplaceMode must be STOP_ON_FAILURE or ALLOW_FAILURE');
  const ref = orderRef({ orderId: p['cancelOrderId'] ?? '', clientOrderID: p['cancelClientOrderId'] ?? p['cancelClientOrderID'] ?? '' });
  const req = placeRequest(c.engine, p);
  let canceled: SimOrder | undefined;
  let cancelMsg = '';
  try {
    canceled = c.engine.cancel(m.symbol, ref);
  } catch (err) {
    if (!(err instanceof VenueError) || mode === 'STOP_ON_FAILURE') throw err;
    cancelMsg = err.message;
  }
  const placed = c.engine.place(req);
  return {
    data: {
      cancelResult: String(canceled !== undefined),
      cancelMsg,
      cancelResponse: canceled ? wireOrder(c, canceled) : {},
      replaceResult: 'true',
      replaceMsg: '',
      newOrderResponse: createdOrderWire(placed, m),
    },
  };
}

function closePositionById(c: RouteContext) {
  const id = required(c.params, 'positionId');
  const [order] = c.engine.closePositions({ position_id: id });
  if (order === undefined) throw new VenueError(VENUE_ERRORS.positionNotFound);
  // BingX's answer here speaks of the position's side ("Ask"/"Bid", "Long"/"Short").
  return { data: { orderId: order.order_id, positionId: id, symbol: order.symbol, side: order.side === 'SELL' ? 'Ask' : 'Bid', type: 'MARKET', positionSide: order.side === 'SELL' ? 'Long' : 'Short', origQty: fmt(order.qty, c.engine.market(order.symbol).quantity_precision) } };
}

export const PERP_ROUTES: Route[] = [
  {
    method: 'GET', path: '/openApi/swap/v2/quote/premiumIndex', access: 'public', code: 'num', mutating: false,
    handle: (c) => {
      const m = symbolOf(c, false);
      return { data: m ? premiumIndex(c, m) : markets(c).map((x) => premiumIndex(c, x)) };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v2/quote/fundingRate', access: 'public', code: 'num', mutating: false,
    handle: (c) => {
      const symbol = symbolOf(c, false)?.symbol;
      const limit = Math.min(optionalInt(c.params, 'limit') ?? 100, RATE_HISTORY_LIMIT_MAX);
      const rows = (c.engine.state.funding?.history ?? []).filter((r) => symbol === undefined || r.symbol === symbol);
      const picked = window(rows, (r) => r.ts_ms, optionalInt(c.params, 'startTime'), optionalInt(c.params, 'endTime'), limit);
      return { data: picked.map((r) => ({ symbol: r.symbol, fundingRate: fmt(r.rate, 8), fundingTime: r.ts_ms })) };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v1/market/markPriceKlines', access: 'public', code: 'num', mutating: false,
    handle: (c) => {
      const m = symbolOf(c, true) as MarketSpec;
      const interval = INTERVAL_MS[required(c.params, 'interval')];
      if (interval === undefined) throw bad('interval is not one of 1m 3m 5m 15m 30m 1h 2h 4h 6h 12h 1d 3d 1w 1M');
      const limit = Math.min(optionalInt(c.params, 'limit') ?? 500, 1440);
      const rows = c.candles.query(m.symbol, interval, { start_ms: optionalInt(c.params, 'startTime'), end_ms: optionalInt(c.params, 'endTime'), limit });
      return { data: rows.map((k) => klineWire(k, m)) };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v1/maintMarginRatio', access: 'private', code: 'num', mutating: false,
    handle: (c) => {
      const m = symbolOf(c, true) as MarketSpec;
      const data = marginTiers(m.symbol).map((t) => ({
        tier: `Tier ${t.tier}`,
        symbol: m.symbol,
        minPositionVal: String(t.min_notional_usdt),
        maxPositionVal: Number.isFinite(t.max_notional_usdt) ? String(t.max_notional_usdt) : '100000000',
        maintMarginRatio: fmt(t.maint_margin_rate, 6),
        maintAmount: fmt(t.maint_amount_usdt, 6),
      }));
      return { data, extra: { timestamp: c.now_ms } };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v1/positionSide/dual', access: 'private', code: 'str', mutating: false,
    handle: (c) => ({ data: { dualSidePosition: String(c.engine.state.position_mode === 'hedge') }, extra: { timeStamp: String(c.now_ms) } }),
  },
  {
    method: 'POST', path: '/openApi/swap/v1/positionSide/dual', access: 'private', code: 'str', mutating: true,
    handle: (c) => {
      c.engine.setPositionMode(bool(c.params, 'dualSidePosition') ? 'hedge' : 'oneway');
      return { data: { dualSidePosition: String(c.engine.state.position_mode === 'hedge') }, extra: { timeStamp: String(c.now_ms) } };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v2/user/income', access: 'private', code: 'num', mutating: false,
    handle: (c) => {
      const symbol = symbolOf(c, false)?.symbol;
      const type = optional(c.params, 'incomeType');
      let start = optionalInt(c.params, 'startTime');
      const end = optionalInt(c.params, 'endTime');
      if (start === undefined && end === undefined) start = c.now_ms - INCOME_DEFAULT_SPAN_MS;
      const limit = Math.min(optionalInt(c.params, 'limit') ?? 100, INCOME_LIMIT_MAX);
      const rows = (c.engine.state.income ?? []).filter((r) => (symbol === undefined || r.symbol === symbol) && (type === undefined || r.type === type));
      return { data: window(rows, (r) => r.ts_ms, start, end, limit).map(incomeWire) };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v1/trade/positionHistory', access: 'private', code: 'num', mutating: false,
    handle: (c) => {
      const m = symbolOf(c, true) as MarketSpec;
      const id = optional(c.params, 'positionId');
      const start = optionalInt(c.params, 'startTs') ?? c.now_ms - 90 * 24 * 3600_000;
      const end = optionalInt(c.params, 'endTs') ?? c.now_ms;
      const size = Math.min(optionalInt(c.params, 'pageSize') ?? POSITION_HISTORY_PAGE_MAX, POSITION_HISTORY_PAGE_MAX);
      const page = Math.max(1, optionalInt(c.params, 'pageIndex') ?? 1);
      const rows = (c.engine.state.position_history ?? [])
        .filter((r) => r.symbol === m.symbol && (id === undefined || r.position_id === id) && r.closed_ms >= start && r.closed_ms <= end)
        .reverse();
      return { data: { positionHistory: rows.slice((page - 1) * size, page * size).map((r) => positionHistoryWire(r, m)) } };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v2/trade/forceOrders', access: 'private', code: 'num', mutating: false,
    handle: (c) => {
      const symbol = symbolOf(c, false)?.symbol;
      const kind = optional(c.params, 'autoCloseType');
      if (kind !== undefined && kind !== 'LIQUIDATION' && kind !== 'ADL') throw bad('autoCloseType must be LIQUIDATION or ADL');
      const end = optionalInt(c.params, 'endTime') ?? c.now_ms;
      const start = optionalInt(c.params, 'startTime') ?? end - 7 * 24 * 3600_000;
      const limit = Math.min(optionalInt(c.params, 'limit') ?? 50, FORCE_ORDERS_LIMIT_MAX);
      // The simulator has no auto-deleveraging: ADL answers empty.
      const rows = kind === 'ADL' ? [] : c.engine.state.closed_orders.filter((o) => o.liquidation === true && (symbol === undefined || o.symbol === symbol) && o.created_ms >= start && o.created_ms <= end);
      return { data: { orders: rows.slice(-limit).reverse().map((o) => forceOrderWire(o, c.engine.market(o.symbol))) } };
    },
  },
  {
    method: 'GET', path: '/openApi/swap/v1/trade/fullOrder', access: 'private', code: 'num', mutating: false,
    handle: (c) => {
      const symbol = symbolOf(c, false)?.symbol;
      const id = optional(c.params, 'orderId');
      const start = optionalInt(c.params, 'startTime');
      const end = optionalInt(c.params, 'endTime');
      const limit = Math.min(optionalInt(c.params, 'limit') ?? 500, FULL_ORDERS_LIMIT_MAX);
      const all = [...c.engine.openOrders(symbol).slice().reverse(), ...c.engine.closedOrders(symbol)].filter(
        (o) => (id === undefined || o.order_id === id) && (start === undefined || o.created_ms >= start) && (end === undefined || o.created_ms <= end),
      );
      return { data: { orders: all.slice(0, limit).map((o) => wireOrder(c, o)) } };
    },
  },
  { method: 'POST', path: '/openApi/swap/v2/trade/batchOrders', access: 'private', code: 'num', mutating: true, kind: 'create', handle: batchCreate },
  { method: 'DELETE', path: '/openApi/swap/v2/trade/batchOrders', access: 'private', code: 'num', mutating: true, kind: 'cancel', handle: batchCancel },
  { method: 'POST', path: '/openApi/swap/v1/trade/cancelReplace', access: 'private', code: 'str', mutating: true, kind: 'create', handle: cancelReplace },
  { method: 'POST', path: '/openApi/swap/v1/trade/closePosition', access: 'private', code: 'num', mutating: true, handle: closePositionById },
  {
    method: 'POST', path: '/openApi/swap/v2/trade/closeAllPositions', access: 'private', code: 'num', mutating: true,
    handle: (c) => {
      const orders = c.engine.closePositions({ symbol: symbolOf(c, false)?.symbol });
      return { data: { success: orders.map((o) => o.order_id), failed: null } };
    },
  },
];
