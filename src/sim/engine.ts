// The matching engine: seeded price walks, order placement with the venue's checks, fills
// (taker for market and marketable limit orders, maker for resting ones), partial fills and
// reduce-only enforcement. Synchronous: each HTTP request runs one step and one operation
// to completion, so no two operations interleave.
//
// Partial fills: each match step fills at most `partialFillRatio × order qty` (on the
// quantity step, at least one step) of an order. A match step runs on every venue request,
// on /__sim/tick and on /__sim/price; an order's first match runs as it is placed. So with
// ratio 0.25 a market order of 1.0 fills 0.25 at once and 0.25 on each of the next three
// requests (a market order keeps sweeping until done), and a crossing limit order fills in
// four chunks over four steps. Ratio 1 (the default) fills everything at once.

import {
  DEFAULT_LEVERAGE,
  accountView,
  applyFill,
  closableQty,
  increasingQty,
  isDormant,
  leverageOf,
  reservedReduceQty,
  venueId,
} from './account.js';
import { adoptFunding, currentRate, freshFunding, observeIndex, settleFunding } from './funding.js';
import { crossedLiquidation, liquidationPrice, maintenanceMargin, riskRate } from './risk.js';
import { VENUE_ERRORS, VenueError } from './errors.js';
import { floorToStep, fmtQty, roundPrice, roundTo, stepSize, type MarketSpec } from './markets.js';
import { nextNormal, seedRng } from './rng.js';
import type { SimFaults, SimFill, SimGroundTruth, SimOrder, SimOrderType, SimPositionMode, SimSide, SimStateData, SimTimeInForce } from './types.js';

/** Bounded histories: a long-running simulator keeps the most recent of each. */
export const CLOSED_ORDERS_MAX = 2000;
export const FILLS_MAX = 5000;
export const CLIENT_IDS_MAX = 20000;
/** A liquidation fills in at most this many chunks (partialFillRatio ≥ 0.01 needs 100). */
const LIQUIDATION_FILLS_MAX = 1000;

export interface EngineConfig {
  markets: Map<string, MarketSpec>;
  seed: number;
  initial_balance_usdt: number;
  taker_fee_rate: number;
  maker_fee_rate: number;
  slippage_bps: number;
  /** Standard deviation of one walk step, in basis points of the price. */
  walk_bps: number;
  now_ms: () => number;
  /** Funding settles at every multiple of this since the epoch (BingX: 8 h). */
  funding_interval_ms: number;
}

export interface PlaceRequest {
  symbol: string;
  side: SimSide;
  type: SimOrderType;
  /** Ignored (taken at trigger time) for a close_position order. */
  qty: number;
  price: number;
  client_order_id: string;
  reduce_only: boolean;
  time_in_force: SimTimeInForce;
  foreign: boolean;
  /** STOP_MARKET / TAKE_PROFIT_MARKET: the mark that triggers the order. */
  stop_price?: number;
  close_position?: boolean;
}

const isConditional = (type: SimOrderType): boolean => type === 'STOP_MARKET' || type === 'TAKE_PROFIT_MARKET';
/** Trades at the taker price: market orders and triggered conditional orders. */
const tradesAsMarket = (o: SimOrder): boolean => o.type === 'MARKET' || (isConditional(o.type) && o.triggered === true);

export interface OrderRef {
  order_id?: string;
  client_order_id?: string;
}

export function freshState(cfg: EngineConfig): SimStateData {
  const now = cfg.now_ms();
  const state: SimStateData = {
    version: 1,
    seed: cfg.seed,
    created_ms: now,
    wallet_usdt: cfg.initial_balance_usdt,
    realized_pnl_usdt: 0,
    fees_usdt: 0,
    prices: {},
    rng: {},
    leverage: {},
    margin_type: {},
    positions: {},
    open_orders: [],
    closed_orders: [],
    fills: [],
    client_ids: {},
    seq: { order: 0, fill: 0, position: 0 },
    orders_created: 0,
    steps: 0,
    last_ts_ms: now,
    position_mode: 'oneway',
    funding: freshFunding(cfg.funding_interval_ms, now, {}),
    income: [],
    position_history: [],
  };
  for (const m of cfg.markets.values()) {
    state.prices[m.symbol] = m.initial_price;
    state.rng[m.symbol] = seedRng(cfg.seed, `walk:${m.symbol}`);
  }
  return state;
}

export class SimEngine {
  readonly cfg: EngineConfig;
  readonly faults: SimFaults;
  state: SimStateData;
  /** Set by anything a restart must not lose (orders, fills, positions, balance). */
  dirty = false;

  constructor(cfg: EngineConfig, faults: SimFaults, state?: SimStateData) {
    this.cfg = cfg;
    this.faults = faults;
    this.state = state ?? freshState(cfg);
    // A state file written with other --symbols: give new symbols a price and a stream.
    for (const m of cfg.markets.values()) {
      this.state.prices[m.symbol] ??= m.initial_price;
      this.state.rng[m.symbol] ??= seedRng(this.state.seed, `walk:${m.symbol}`);
    }
    // A state file from before funding and position modes: their defaults.
    this.state.position_mode ??= 'oneway';
    this.state.income ??= [];
    this.state.position_history ??= [];
    const funding = adoptFunding(this.state, cfg.funding_interval_ms, cfg.now_ms());
    for (const m of cfg.markets.values()) funding.index[m.symbol] ??= this.state.prices[m.symbol] ?? m.initial_price;
  }

  market(symbol: string): MarketSpec {
    const m = this.cfg.markets.get(symbol);
    if (!m) throw new VenueError(VENUE_ERRORS.badParams, `err: symbol ${symbol} does not exist`);
    return m;
  }

  price(symbol: string): number {
    return this.state.prices[symbol] ?? this.market(symbol).initial_price;
  }

  nowMs(): number {
    return this.cfg.now_ms();
  }

  /** Fill times strictly increase: two fills never share a millisecond (filledTime tells
   * them apart). Only fills step the clock, so it runs ahead of the wall clock only while
   * fills come faster than one per millisecond. */
  private fillTs(): number {
    const ts = Math.max(this.cfg.now_ms(), this.state.last_ts_ms + 1);
    this.state.last_ts_ms = ts;
    return ts;
  }

  /**
   * One step: every symbol walks (unless priceWalk is off), the index follows, funding due by
   * now settles (at the marks before this step's matching), then orders match, conditional
   * orders trigger and positions past their liquidation price are liquidated.
   */
  step(): void {
    this.state.steps += 1;
    if (this.faults.priceWalk) {
      for (const m of this.cfg.markets.values()) {
        const rng = this.state.rng[m.symbol];
        if (!rng) continue;
        const factor = Math.exp((this.cfg.walk_bps / 10_000) * nextNormal(rng));
        this.state.prices[m.symbol] = roundPrice(this.price(m.symbol) * factor, m);
      }
    }
    const funding = this.state.funding;
    if (funding) {
      observeIndex(funding, this.state.prices, this.nowMs());
      if (settleFunding(this.state, this.cfg.markets, this.nowMs()) > 0) this.dirty = true;
    }
    for (const m of this.cfg.markets.values()) this.matchSymbol(m);
    this.liquidate();
  }

  setPrice(symbol: string, price: number): void {
    const m = this.market(symbol);
    this.state.prices[symbol] = roundPrice(price, m);
    this.matchSymbol(m);
    this.liquidate();
  }

  /** The rate the next funding will charge (premiumIndex lastFundingRate). */
  fundingRate(symbol: string): number {
    const f = this.state.funding;
    return f ? currentRate(f, symbol, this.price(symbol)) : 0;
  }

  liquidationPrice(symbol: string): number {
    const p = this.state.positions[symbol];
    return p ? liquidationPrice(this.state, p, this.cfg.taker_fee_rate) : 0;
  }

  /** BingX allows a mode change only with no position and no open order on the account. */
  setPositionMode(mode: SimPositionMode): void {
    if (this.state.position_mode === mode) return;
    if (Object.keys(this.state.positions).length > 0 || this.state.open_orders.length > 0) {
      throw new VenueError(VENUE_ERRORS.modeChangeRefused);
    }
    this.state.position_mode = mode;
    this.dirty = true;
  }

  /**
   * The liquidation engine: every position whose mark reached its liquidation price loses its
   * open orders on that symbol, then is closed whole by a venue order (no client order id,
   * `liquidation`) at the mark, taker fee charged; the fill carries the liquidation price and
   * the margin ratio, as BingX's fill rows do.
   */
  private liquidate(): void {
    // Bounded by the number of symbols: each pass removes a position.
    for (const p of Object.values(this.state.positions)) {
      if (!crossedLiquidation(this.state, p, this.cfg.taker_fee_rate)) continue;
      const m = this.market(p.symbol);
      const liq_price = liquidationPrice(this.state, p, this.cfg.taker_fee_rate);
      const ratio = riskRate(this.state, p);
      for (const o of this.state.open_orders.filter((x) => x.symbol === p.symbol)) this.close(o, 'CANCELLED');
      const order = this.newOrder({ symbol: p.symbol, side: p.qty > 0 ? 'SELL' : 'BUY', type: 'MARKET', qty: Math.abs(p.qty), price: 0, client_order_id: '', reduce_only: true, time_in_force: 'IOC', foreign: true }, m);
      order.liquidation = true;
      this.state.open_orders.push(order);
      const marks = { liquidated_price: roundPrice(liq_price, m), liquidated_margin_ratio: roundTo(ratio, 4) };
      // The whole position at once, whatever partialFillRatio says (bounded by the chunk count).
      for (let i = 0; i < LIQUIDATION_FILLS_MAX && this.isOpen(order); i++) this.fillOnce(m, order, true, marks);
      if (this.isOpen(order)) this.close(order, 'CANCELLED');
    }
  }

  place(req: PlaceRequest): SimOrder {
    const m = this.market(req.symbol);
    const coid = req.client_order_id;
    if (coid !== '') {
      const seen = this.countClientId(coid);
      seen.attempts += 1;
      this.dirty = true;
      if (seen.created > 0) throw new VenueError(VENUE_ERRORS.duplicateClientOrderId);
    }
    const conditional = isConditional(req.type);
    // closePosition: the quantity is the whole position when the order triggers (none is sent).
    const qty = req.close_position === true ? 0 : floorToStep(req.qty, m);
    if (req.close_position !== true && (qty < m.min_qty || qty <= 0)) throw new VenueError(VENUE_ERRORS.minQty, `${fmtQty(m.min_qty, m)} ${m.asset}.`);
    const refPrice = req.type === 'LIMIT' ? roundPrice(req.price, m) : this.takerPrice(m, req.side, this.price(m.symbol));
    if (!req.reduce_only && !conditional && qty * refPrice < m.min_notional_usdt) throw new VenueError(VENUE_ERRORS.minNotional);
    if (req.reduce_only && !conditional) {
      const closable = closableQty(this.state, m.symbol, req.side) - reservedReduceQty(this.state, m.symbol, req.side);
      if (qty > roundTo(closable, m.quantity_precision)) throw new VenueError(VENUE_ERRORS.reduceOnly);
    } else if (!req.reduce_only && !conditional) {
      this.checkMargin(m, req.side, qty, refPrice);
    }
    const order = this.newOrder({ ...req, qty }, m);
    this.state.open_orders.push(order);
    this.state.orders_created += 1;
    if (coid !== '') this.countClientId(coid).created += 1;
    this.dirty = true;
    if (conditional) this.maybeTrigger(m, order);
    else this.matchAtArrival(m, order);
    return order;
  }

  private checkMargin(m: MarketSpec, side: SimSide, qty: number, refPrice: number): void {
    const lev = leverageOf(this.state, m.symbol);
    const adds = increasingQty(this.state, m.symbol, side, qty);
    const required = (adds * refPrice) / lev + qty * refPrice * this.cfg.taker_fee_rate;
    const available = accountView(this.state, this.cfg.markets).available_usdt;
    if (required > available + 1e-9) {
      throw new VenueError(VENUE_ERRORS.insufficientMargin, `required ${required.toFixed(4)} USDT, available ${available.toFixed(4)} USDT`);
    }
  }

  private newOrder(req: PlaceRequest, m: MarketSpec): SimOrder {
    const now = this.nowMs();
    this.state.seq.order += 1;
    const order: SimOrder = {
      order_id: venueId(this.state.seq.order),
      client_order_id: req.client_order_id,
      symbol: m.symbol,
      side: req.side,
      type: req.type,
      time_in_force: req.type === 'LIMIT' ? req.time_in_force : 'IOC',
      qty: req.qty,
      price: req.type === 'LIMIT' ? roundPrice(req.price, m) : 0,
      filled_qty: 0,
      avg_price: 0,
      cum_quote_usdt: 0,
      fee_usdt: 0,
      realized_pnl_usdt: 0,
      status: 'NEW',
      reduce_only: req.reduce_only || req.close_position === true,
      leverage: leverageOf(this.state, m.symbol),
      created_ms: now,
      updated_ms: now,
      foreign: req.foreign,
    };
    if (isConditional(req.type)) {
      order.stop_price = roundPrice(req.stop_price ?? 0, m);
      order.close_position = req.close_position === true;
    }
    return order;
  }

  /**
   * A dormant conditional order whose trigger the mark has reached (STOP_MARKET: a sell at or
   * below, a buy at or above its stopPrice; TAKE_PROFIT_MARKET the other way round) becomes a
   * market order: a closePosition order takes the whole position then; an opening one needs the
   * margin then, and is cancelled without it.
   */
  private maybeTrigger(m: MarketSpec, o: SimOrder): void {
    if (!isDormant(o)) return;
    const mark = this.price(m.symbol);
    const stop = o.stop_price ?? 0;
    const falls = (o.type === 'STOP_MARKET') === (o.side === 'SELL');
    if (falls ? mark > stop : mark < stop) return;
    o.triggered = true;
    o.updated_ms = this.nowMs();
    this.dirty = true;
    if (o.close_position === true) o.qty = roundTo(closableQty(this.state, m.symbol, o.side), m.quantity_precision);
    if (o.reduce_only && o.qty <= 0) return this.close(o, 'CANCELLED');
    if (!o.reduce_only) {
      try {
        this.checkMargin(m, o.side, o.qty, this.takerPrice(m, o.side, mark));
      } catch {
        return this.close(o, 'CANCELLED');
      }
    }
    this.fillOnce(m, o, true);
  }

  cancel(symbol: string, ref: OrderRef): SimOrder {
    const order = this.state.open_orders.find((o) => o.symbol === symbol && matches(o, ref));
    if (!order) {
      const closed = this.state.closed_orders.find((o) => o.symbol === symbol && matches(o, ref));
      throw new VenueError(closed ? VENUE_ERRORS.orderClosed : VENUE_ERRORS.orderNotFound);
    }
    this.close(order, 'CANCELLED');
    return order;
  }

  cancelAll(symbol?: string): SimOrder[] {
    const victims = this.state.open_orders.filter((o) => symbol === undefined || o.symbol === symbol);
    for (const o of victims) this.close(o, 'CANCELLED');
    return victims;
  }

  /** POST /trade/closePosition, /trade/closeAllPositions: a reduce-only market order per position. */
  closePositions(filter: { symbol?: string; position_id?: string }): SimOrder[] {
    const out: SimOrder[] = [];
    for (const p of Object.values(this.state.positions)) {
      if ((filter.symbol !== undefined && p.symbol !== filter.symbol) || (filter.position_id !== undefined && p.position_id !== filter.position_id)) continue;
      const side: SimSide = p.qty > 0 ? 'SELL' : 'BUY';
      // The position's own reduce-only orders would hold part of it back: BingX closes it whole.
      for (const o of this.state.open_orders.filter((x) => x.symbol === p.symbol && x.reduce_only && x.side === side && !isDormant(x))) this.close(o, 'CANCELLED');
      out.push(this.place({ symbol: p.symbol, side, type: 'MARKET', qty: Math.abs(p.qty), price: 0, client_order_id: '', reduce_only: true, time_in_force: 'IOC', foreign: false }));
    }
    return out;
  }

  find(symbol: string | undefined, ref: OrderRef): SimOrder | undefined {
    const hit = (o: SimOrder) => (symbol === undefined || o.symbol === symbol) && matches(o, ref);
    return this.state.open_orders.find(hit) ?? this.state.closed_orders.find(hit);
  }

  openOrders(symbol?: string): SimOrder[] {
    return this.state.open_orders.filter((o) => symbol === undefined || o.symbol === symbol);
  }

  /** Filled and cancelled orders, newest first. */
  closedOrders(symbol?: string): SimOrder[] {
    return this.state.closed_orders.filter((o) => symbol === undefined || o.symbol === symbol).reverse();
  }

  fills(filter: { symbol?: string; order_id?: string; start_ms?: number; end_ms?: number }): SimFill[] {
    return this.state.fills.filter(
      (f) =>
        (filter.symbol === undefined || f.symbol === filter.symbol) &&
        (filter.order_id === undefined || f.order_id === filter.order_id) &&
        (filter.start_ms === undefined || f.ts_ms >= filter.start_ms) &&
        (filter.end_ms === undefined || f.ts_ms <= filter.end_ms),
    );
  }

  setLeverage(symbol: string, leverage: number): void {
    const m = this.market(symbol);
    if (!Number.isInteger(leverage) || leverage < 1 || leverage > m.max_leverage) {
      throw new VenueError(VENUE_ERRORS.badParams, `err: leverage must be an integer from 1 to ${m.max_leverage}`);
    }
    this.state.leverage[symbol] = leverage;
    this.dirty = true;
  }

  /** Admin: a position PINK did not open (set, not traded: no fee, no PnL). qty 0 removes it. */
  adminPosition(symbol: string, qty: number, entry_price: number): void {
    const m = this.market(symbol);
    const q = roundTo(qty, m.quantity_precision);
    if (q === 0) {
      delete this.state.positions[symbol];
    } else {
      const now = this.nowMs();
      this.state.seq.position += 1;
      this.state.positions[symbol] = {
        symbol,
        position_id: venueId(this.state.seq.position),
        qty: q,
        entry_price: roundPrice(entry_price, m),
        realized_pnl_usdt: 0,
        opened_ms: now,
        updated_ms: now,
      };
    }
    this.dirty = true;
  }

  groundTruth(requests: number): SimGroundTruth {
    const s = this.state;
    return structuredClone({
      seed: s.seed,
      steps: s.steps,
      requests,
      balance: accountView(s, this.cfg.markets),
      prices: s.prices,
      leverage: Object.fromEntries([...this.cfg.markets.keys()].map((k) => [k, s.leverage[k] ?? DEFAULT_LEVERAGE])),
      positions: Object.values(s.positions).map((p) => {
        const mark = this.price(p.symbol);
        return {
          ...p,
          mark_price: mark,
          unrealized_usdt: roundTo((mark - p.entry_price) * p.qty, 8),
          liquidation_price: roundTo(this.liquidationPrice(p.symbol), 8),
          maint_margin_usdt: roundTo(maintenanceMargin(p.symbol, Math.abs(p.qty) * mark), 8),
        };
      }),
      open_orders: s.open_orders,
      closed_orders: s.closed_orders,
      fills: s.fills,
      orders_created: s.orders_created,
      client_order_ids: s.client_ids,
      faults: this.faults,
      position_mode: s.position_mode ?? 'oneway',
      funding: {
        interval_ms: s.funding?.interval_ms ?? this.cfg.funding_interval_ms,
        next_ms: s.funding?.next_ms ?? 0,
        rates: Object.fromEntries([...this.cfg.markets.keys()].map((k) => [k, this.fundingRate(k)])),
        history: s.funding?.history ?? [],
      },
      income: s.income ?? [],
      position_history: s.position_history ?? [],
    });
  }

  // ---- matching -------------------------------------------------------------------------

  takerPrice(m: MarketSpec, side: SimSide, mid: number): number {
    const slip = this.cfg.slippage_bps / 10_000;
    return side === 'BUY' ? roundPrice(mid * (1 + slip), m, 'up') : roundPrice(mid * (1 - slip), m, 'down');
  }

  private matchAtArrival(m: MarketSpec, order: SimOrder): void {
    const mid = this.price(m.symbol);
    const marketable = tradesAsMarket(order) || (order.side === 'BUY' ? mid <= order.price : mid >= order.price);
    const tif = order.time_in_force;
    if (order.type === 'LIMIT' && tif === 'PostOnly' && marketable) return this.close(order, 'CANCELLED');
    if (order.type === 'LIMIT' && tif === 'FOK' && (!marketable || this.chunkQty(m, order) < order.qty)) {
      return this.close(order, 'CANCELLED');
    }
    if (marketable) this.fillOnce(m, order, true);
    if (order.type === 'LIMIT' && (tif === 'IOC' || tif === 'FOK') && this.isOpen(order)) this.close(order, 'CANCELLED');
  }

  private matchSymbol(m: MarketSpec): void {
    const mid = this.price(m.symbol);
    // A copy: fills move orders out of open_orders while we walk it.
    for (const order of this.state.open_orders.filter((o) => o.symbol === m.symbol)) {
      if (!this.isOpen(order)) continue; // closed by an earlier order's fill in this pass
      if (isDormant(order)) this.maybeTrigger(m, order);
      else if (tradesAsMarket(order)) this.fillOnce(m, order, true);
      else if (order.side === 'BUY' ? mid <= order.price : mid >= order.price) this.fillOnce(m, order, false);
    }
  }

  private chunkQty(m: MarketSpec, order: SimOrder): number {
    const remaining = roundTo(order.qty - order.filled_qty, m.quantity_precision);
    const ratio = this.faults.partialFillRatio;
    if (!(ratio < 1)) return remaining;
    return Math.min(remaining, Math.max(stepSize(m), floorToStep(order.qty * ratio, m)));
  }

  /** One match of one order: a chunk at the taker price (arrival, market) or its limit (resting). */
  private fillOnce(m: MarketSpec, order: SimOrder, taker: boolean, liquidation?: Pick<SimFill, 'liquidated_price' | 'liquidated_margin_ratio'>): void {
    let qty = this.chunkQty(m, order);
    if (order.reduce_only) {
      // Checked again at fill time: the position may have shrunk since the order was placed.
      // A reduce-only order never opens or flips a position; what cannot close is cancelled.
      qty = Math.min(qty, closableQty(this.state, m.symbol, order.side));
      if (qty <= 0) return this.close(order, 'CANCELLED');
    }
    const mid = this.price(m.symbol);
    const takerPx = this.takerPrice(m, order.side, mid);
    const price =
      tradesAsMarket(order)
        ? takerPx
        : taker
          ? order.side === 'BUY'
            ? Math.min(order.price, takerPx)
            : Math.max(order.price, takerPx)
          : order.price;
    const maker = order.type === 'LIMIT' && !taker;
    const fill = applyFill(this.state, m, order, {
      qty,
      price,
      fee_rate: maker ? this.cfg.maker_fee_rate : this.cfg.taker_fee_rate,
      maker,
      ts_ms: this.fillTs(),
    });
    if (liquidation) Object.assign(fill, liquidation);
    this.state.fills.push(fill);
    if (this.state.fills.length > FILLS_MAX) this.state.fills.splice(0, this.state.fills.length - FILLS_MAX);
    this.dirty = true;
    if (order.status === 'FILLED') this.close(order, 'FILLED');
    else if (order.reduce_only && closableQty(this.state, m.symbol, order.side) <= 0) this.close(order, 'CANCELLED');
  }

  private isOpen(order: SimOrder): boolean {
    return this.state.open_orders.includes(order);
  }

  private close(order: SimOrder, status: 'FILLED' | 'CANCELLED'): void {
    const i = this.state.open_orders.indexOf(order);
    if (i >= 0) this.state.open_orders.splice(i, 1);
    order.status = status;
    order.updated_ms = this.nowMs();
    this.state.closed_orders.push(order);
    if (this.state.closed_orders.length > CLOSED_ORDERS_MAX) {
      this.state.closed_orders.splice(0, this.state.closed_orders.length - CLOSED_ORDERS_MAX);
    }
    this.dirty = true;
  }

  private countClientId(coid: string) {
    let entry = this.state.client_ids[coid];
    if (!entry) {
      entry = { created: 0, attempts: 0 };
      this.state.client_ids[coid] = entry;
      const keys = Object.keys(this.state.client_ids);
      // Oldest first (insertion order): past the bound the oldest ids become reusable.
      for (let i = 0; i < keys.length - CLIENT_IDS_MAX; i++) delete this.state.client_ids[keys[i] as string];
    }
    return entry;
  }
}

function matches(o: SimOrder, ref: OrderRef): boolean {
  if (ref.order_id !== undefined && ref.order_id !== '') return o.order_id === ref.order_id;
  if (ref.client_order_id !== undefined && ref.client_order_id !== '') return o.client_order_id === ref.client_order_id;
  return false;
}
