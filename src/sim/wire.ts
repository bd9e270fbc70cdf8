// The simulator's state rendered as BingX renders it. Key sets, key order and value types
// follow the captured payloads in ../shared/fixtures/bingx/response-swap.json (test/sim
// checks them); where no capture exists, ccxt's own comments in bingx.js are the reference.

import { isDormant, leverageOf, reservedReduceQty } from './account.js';
import { riskRate } from './risk.js';
import type { Candle } from './candles.js';
import { fmt, fmtPrice, fmtQty, fmtUsdt, roundTo, type MarketSpec } from './markets.js';
import type { SimAccountView, SimClosedPosition, SimFill, SimIncome, SimOrder, SimPosition, SimStateData } from './types.js';

/** The simulated account's ids, shown where BingX shows the user's. */
const USER_ID = '100***001';
const SHORT_UID = '10000001';

const EMPTY_TPSL = () => ({ type: '', quantity: '0', stopPrice: '0', price: '0', workingType: '' });

/** GET trade/order, trade/openOrders, trade/allOrders, DELETE trade/order (capture: fetchOrder). */
export function orderWire(o: SimOrder, m: MarketSpec): Record<string, unknown> {
  const filled = o.filled_qty > 0;
  return {
    symbol: o.symbol,
    orderId: o.order_id,
    side: o.side,
    positionSide: 'BOTH',
    type: o.type,
    origQty: fmtQty(o.qty, m),
    price: fmtPrice(o.type === 'LIMIT' ? o.price : o.avg_price, m),
    executedQty: fmtQty(o.filled_qty, m),
    avgPrice: fmtPrice(o.avg_price, m),
    cumQuote: filled ? fmtUsdt(o.cum_quote_usdt) : '',
    // The captured open STOP_MARKET order shows its trigger here ("20.00"); plain orders "".
    stopPrice: (o.stop_price ?? 0) > 0 ? fmtPrice(o.stop_price ?? 0, m) : '',
    profit: filled ? fmtUsdt(o.realized_pnl_usdt) : '',
    commission: filled ? fmt(-o.fee_usdt, 6) : '',
    status: o.status,
    time: String(o.created_ms),
    updateTime: String(o.updated_ms),
    clientOrderId: o.client_order_id,
    leverage: `${o.leverage}X`,
    takeProfit: EMPTY_TPSL(),
    stopLoss: EMPTY_TPSL(),
    advanceAttr: '0',
    positionID: '0',
    takeProfitEntrustPrice: '0',
    stopLossEntrustPrice: '0',
    orderType: '',
    workingType: 'MARK_PRICE',
    onlyOnePosition: true,
    reduceOnly: o.reduce_only,
    stopGuaranteed: 'false',
    triggerOrderId: '0',
  };
}

/** POST trade/order: BingX's newer flat answer (orderId and orderID), capture createOrder[0]. */
export function createdOrderWire(o: SimOrder, m: MarketSpec): Record<string, unknown> {
  return {
    orderId: o.order_id,
    orderID: o.order_id,
    symbol: o.symbol,
    positionSide: 'BOTH',
    side: o.side,
    type: o.type,
    price: o.type === 'LIMIT' ? fmtPrice(o.price, m) : '0',
    quantity: fmtQty(o.qty, m),
    quoteOrderQty: '0',
    stopPrice: fmtPrice(o.stop_price ?? 0, m),
    workingType: 'MARK_PRICE',
    clientOrderID: o.client_order_id,
    clientOrderId: o.client_order_id,
    timeInForce: o.time_in_force,
    priceRate: '0',
    stopLoss: '',
    takeProfit: '',
    reduceOnly: o.reduce_only,
    activationPrice: '0',
    closePosition: o.close_position === true ? 'true' : '',
    stopGuaranteed: '',
    // A just-accepted resting order reads PENDING in this answer (capture); later queries say NEW.
    status: o.status === 'NEW' && !isDormant(o) ? 'PENDING' : o.status,
    avgPrice: fmtPrice(o.avg_price, m),
    executedQty: fmtQty(o.filled_qty, m),
  };
}

/** GET user/positions (capture: fetchPositions). One-way mode: side from the sign, amount positive. */
export function positionWire(p: SimPosition, m: MarketSpec, state: SimStateData, liquidation_price: number): Record<string, unknown> {
  const mark = state.prices[p.symbol] ?? p.entry_price;
  const qty = Math.abs(p.qty);
  const lev = leverageOf(state, p.symbol);
  const initialMargin = (qty * p.entry_price) / lev;
  const unrealized = (mark - p.entry_price) * p.qty;
  const closeSide = p.qty > 0 ? 'SELL' : 'BUY';
  return {
    positionId: p.position_id,
    symbol: p.symbol,
    currency: 'USDT',
    positionAmt: fmtQty(qty, m),
    availableAmt: fmtQty(Math.max(0, qty - reservedReduceQty(state, p.symbol, closeSide)), m),
    positionSide: p.qty > 0 ? 'LONG' : 'SHORT',
    isolated: state.margin_type[p.symbol] === 'ISOLATED',
    avgPrice: fmtPrice(p.entry_price, m),
    initialMargin: fmtUsdt(initialMargin),
    leverage: String(lev),
    unrealizedProfit: fmtUsdt(unrealized),
    realisedProfit: fmtUsdt(p.realized_pnl_usdt),
    // "0" when the position cannot be liquidated (the capture's value).
    liquidationPrice: liquidation_price > 0 ? fmtPrice(liquidation_price, m) : '0',
    pnlRatio: fmtUsdt(initialMargin > 0 ? unrealized / initialMargin : 0),
    maxMarginReduction: '0.0000',
    riskRate: fmtUsdt(riskRate(state, p)),
    markPrice: fmtPrice(mark, m),
    positionValue: fmtUsdt(qty * mark),
    onlyOnePosition: true,
  };
}

/** GET /openApi/swap/v3/user/balance: a list with one USDT entry (capture: fetchBalance). */
export function balanceWire(view: SimAccountView): Record<string, unknown> {
  return {
    userId: USER_ID,
    asset: 'USDT',
    balance: fmtUsdt(view.wallet_usdt),
    equity: fmtUsdt(view.equity_usdt),
    unrealizedProfit: fmtUsdt(view.unrealized_usdt),
    realisedProfit: fmtUsdt(view.realized_pnl_usdt - view.fees_usdt),
    availableMargin: fmtUsdt(view.available_usdt),
    usedMargin: fmtUsdt(view.used_margin_usdt),
    freezedMargin: fmtUsdt(view.frozen_margin_usdt),
    shortUid: SHORT_UID,
  };
}

/** "2024-01-06T21:19:45Z": BingX's filledTm, whole seconds, UTC. */
const filledTm = (ts_ms: number): string => new Date(Math.floor(ts_ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
/** "2024-01-06T21:19:45.123+0800": BingX's filledTime, in UTC+8, with milliseconds. */
const filledTime = (ts_ms: number): string => new Date(ts_ms + 8 * 3_600_000).toISOString().replace('Z', '+0800');

/** GET trade/allFillOrders row (capture: fetchMyTrades). BingX gives no fill id here. */
export function fillWire(f: SimFill, m: MarketSpec): Record<string, unknown> {
  return {
    filledTm: filledTm(f.ts_ms),
    volume: fmtQty(f.qty, m),
    price: fmtPrice(f.price, m),
    amount: fmtUsdt(f.qty * f.price),
    commission: fmt(-f.fee_usdt, 6),
    currency: 'USDT',
    orderId: f.order_id,
    // Empty except on a liquidation fill (BingX's own closing order at liquidation).
    liquidatedPrice: f.liquidated_price !== undefined ? fmtPrice(f.liquidated_price, m) : '',
    liquidatedMarginRatio: f.liquidated_margin_ratio !== undefined ? fmt(f.liquidated_margin_ratio, 4) : '',
    filledTime: filledTime(f.ts_ms),
    clientOrderID: f.client_order_id,
    symbol: f.symbol,
    onlyOnePosition: true,
  };
}

/** GET trade/fillHistory row: the fills endpoint that carries tradeId, side and role. */
export function fillHistoryWire(f: SimFill, m: MarketSpec): Record<string, unknown> {
  return {
    filledTm: filledTm(f.ts_ms),
    volume: fmtQty(f.qty, m),
    price: fmtPrice(f.price, m),
    qty: fmtQty(f.qty, m),
    quoteQty: fmtUsdt(f.qty * f.price),
    commission: fmt(-f.fee_usdt, 6),
    commissionAsset: 'USDT',
    orderId: f.order_id,
    tradeId: f.fill_id,
    filledTime: filledTime(f.ts_ms),
    symbol: f.symbol,
    role: f.maker ? 'maker' : 'taker',
    side: f.side,
    positionSide: 'BOTH',
    realisedPNL: fmt(f.realized_pnl_usdt, 8),
  };
}

/** GET quote/ticker (capture: fetchTicker); 24 h figures from the candles. */
export function tickerWire(m: MarketSpec, price: number, day: Candle[], now_ms: number): Record<string, unknown> {
  const first = day[0];
  const open = first ? first.open : price;
  const high = Math.max(price, ...day.map((c) => c.high));
  const low = Math.min(price, ...day.map((c) => c.low));
  const volume = day.reduce((sum, c) => sum + c.volume, 0);
  const tick = 10 ** -m.price_precision;
  return {
    symbol: m.symbol,
    priceChange: fmtPrice(price - open, m),
    priceChangePercent: fmt(open > 0 ? ((price - open) / open) * 100 : 0, 2),
    lastPrice: fmtPrice(price, m),
    lastQty: fmtQty(m.min_qty, m),
    highPrice: fmtPrice(high, m),
    lowPrice: fmtPrice(low, m),
    volume: fmt(volume, m.quantity_precision),
    quoteVolume: fmt(volume * price, 2),
    openPrice: fmtPrice(open, m),
    openTime: String(first ? first.open_ms : now_ms),
    closeTime: String(now_ms),
    askPrice: fmtPrice(price + tick, m),
    askQty: fmtQty(m.min_qty * 100, m),
    bidPrice: fmtPrice(Math.max(tick, price - tick), m),
    bidQty: fmtQty(m.min_qty * 100, m),
  };
}

export function klineWire(c: Candle, m: MarketSpec): Record<string, unknown> {
  return {
    open: fmtPrice(c.open, m),
    close: fmtPrice(c.close, m),
    high: fmtPrice(c.high, m),
    low: fmtPrice(c.low, m),
    volume: fmt(roundTo(c.volume, m.quantity_precision), m.quantity_precision),
    time: c.open_ms,
  };
}

/** GET quote/contracts entry (no capture: the shape in ccxt's fetchSwapMarkets comment). */
export function contractWire(m: MarketSpec, takerFeeRate: number, makerFeeRate: number): Record<string, unknown> {
  return {
    contractId: m.contract_id,
    symbol: m.symbol,
    size: fmtQty(m.min_qty, m),
    quantityPrecision: String(m.quantity_precision),
    pricePrecision: String(m.price_precision),
    feeRate: String(takerFeeRate),
    makerFeeRate: String(makerFeeRate),
    takerFeeRate: String(takerFeeRate),
    tradeMinLimit: '0',
    tradeMinQuantity: fmtQty(m.min_qty, m),
    tradeMinUSDT: String(m.min_notional_usdt),
    maxLongLeverage: String(m.max_leverage),
    maxShortLeverage: String(m.max_leverage),
    currency: 'USDT',
    asset: m.asset,
    status: '1',
    apiStateOpen: 'true',
    apiStateClose: 'true',
    ensureTrigger: true,
    triggerFeeRate: '0.00020000',
  };
}

/** GET /openApi/wallets/v1/capital/config/getall (ccxt's fetchCurrencies comment). */
export function currencyWire(coin: string): Record<string, unknown> {
  return {
    coin,
    name: coin,
    networkList: [
      {
        name: coin,
        network: 'SIM',
        isDefault: true,
        minConfirm: '1',
        withdrawEnable: false,
        depositEnable: false,
        withdrawFee: '0',
        withdrawMax: '0',
        withdrawMin: '0',
        depositMin: '0',
        withdrawPrecision: '8',
        depositPrecision: '8',
        contractAddress: '',
        needTagOrMemo: 'false',
        displayName: coin,
      },
    ],
  };
}

/** GET /openApi/swap/v2/user/income row (ccxt's fetchFundingHistory comment; BingX docs). */
export function incomeWire(r: SimIncome): Record<string, unknown> {
  const info = r.type === 'FUNDING_FEE' ? 'Funding Fee' : r.type === 'TRADING_FEE' ? 'Trading Fee' : 'Realized PnL';
  return { symbol: r.symbol, incomeType: r.type, income: fmt(r.amount_usdt, 8), asset: 'USDT', info, time: r.ts_ms, tranId: r.tran_id, tradeId: r.trade_id };
}

/** GET /openApi/swap/v1/trade/positionHistory row (ccxt's fetchPositionHistory comment). */
export function positionHistoryWire(r: SimClosedPosition, m: MarketSpec): Record<string, unknown> {
  return {
    positionId: r.position_id,
    symbol: r.symbol,
    isolated: r.isolated,
    positionSide: r.side,
    openTime: r.opened_ms,
    updateTime: r.closed_ms,
    avgPrice: fmtPrice(r.avg_price, m),
    avgClosePrice: fmtPrice(r.avg_close_price, m),
    realisedProfit: fmtUsdt(r.gross_realized_usdt),
    netProfit: fmtUsdt(r.gross_realized_usdt - r.fees_usdt + r.funding_usdt),
    positionAmt: fmtQty(r.max_qty, m),
    closePositionAmt: fmtQty(r.closed_qty, m),
    leverage: r.leverage,
    closeAllPositions: true,
    positionCommission: fmt(-r.fees_usdt, 8),
    totalFunding: fmt(r.funding_usdt, 8),
  };
}

/** GET /openApi/swap/v2/trade/forceOrders row (BingX docs, "User's Force Orders"). */
export function forceOrderWire(o: SimOrder, m: MarketSpec): Record<string, unknown> {
  return {
    time: o.created_ms,
    symbol: o.symbol,
    side: o.side,
    type: o.type,
    positionSide: 'BOTH',
    cumQuote: fmtUsdt(o.cum_quote_usdt),
    status: o.status,
    stopPrice: '',
    price: fmtPrice(o.avg_price, m),
    origQty: fmtQty(o.qty, m),
    avgPrice: fmtPrice(o.avg_price, m),
    executedQty: fmtQty(o.filled_qty, m),
    orderId: o.order_id,
    profit: fmtUsdt(o.realized_pnl_usdt),
    commission: fmt(-o.fee_usdt, 6),
    workingType: 'MARK_PRICE',
    updateTime: o.updated_ms,
  };
}
