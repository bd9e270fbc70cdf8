// The Venue over ccxt's bingx class: BingX USDT-M perpetuals (live, VST) and the simulator,
// which speaks the same protocol. Translation only: every decision is the kernel's. This file
// holds the reads (poll, fills, snapshot, lookups, account) and the pacing every call goes
// through; the send path is sends.ts, what a failed send means is resend.ts's table, and the
// kernel inputs are built in inputs.ts.
import type { bingx as BingxExchange } from 'ccxt';
import type { Config, VenueName } from '../../config.js';
import type { KernelInput, Symbol, VenueCommand, VenueFill, VenueOrder, VenuePosition, VenueSnapshot } from '../kernel/types.js';
import { readFundingPayments } from './funding.js';
import { redactReason } from './authorize.js';
import { classify, VenueReadError, type Classified } from './errors.js';
import { fill, orderEnded, rateLimited, venueUnavailable } from './inputs.js';
import { VenueSends } from './sends.js';
import { Throttle, ThrottledError } from './throttle.js';
import { isLiquidationRow, isPinkOrder, toBalanceUsdt, toCcxtSymbol, toLookedUpOrder, toVenueFill, toVenueOrder, toVenuePosition, type CcxtOrder } from './translate.js';
import type { BucketName, EndpointCount, FundingPayment, LookedUpOrder, OpenVenueOptions, PositionMode, Venue, VenueLiquidation } from './types.js';
import { FILL_WINDOW_MS_MAX, OrderWatch, VANISHED_POLLS_MAX } from './watch.js';

/** Distinct endpoints counted at most (ccxt's BingX paths are a few dozen; the rest is `other`). */
const ENDPOINTS_MAX = 64;

/** Whether two positions reads hold the same exposure (symbol, side, size): nothing filled between them. */
export function samePositions(a: VenuePosition[], b: VenuePosition[]): boolean {
  const key = (ps: VenuePosition[]) => ps.map((p) => `${p.symbol} ${p.side} ${p.qty}`).sort().join('|');
  return key(a) === key(b);
}

/** `GET /openApi/swap/v2/quote/ticker` from ccxt's fetch(url, method): no host, no query. */
function countEndpoint(counts: Map<string, EndpointCount>, url: unknown, method: unknown): EndpointCount {
  let path = 'other';
  try {
    path = new URL(String(url)).pathname;
  } catch {
    // not a URL: counted as other
  }
  let key = `${String(method ?? 'GET').toUpperCase()} ${path}`;
  if (!counts.has(key) && counts.size >= ENDPOINTS_MAX) key = 'other';
  let c = counts.get(key);
  if (!c) counts.set(key, (c = { requests: 0, errors: 0 }));
  c.requests += 1;
  return c;
}

type Bingx = BingxExchange;
type RawDict = Record<string, unknown>;

/** Orders that left the book unfilled are looked up at most this many per poll (the rest wait). */
export const VANISHED_LOOKUPS_PER_POLL_MAX = 4;
/** Fill rows of orders we never saw need one order lookup each for their side; at most this many per read. */
export const SIDE_LOOKUPS_PER_READ_MAX = 20;
/** Order-history reads (one per symbol with fill rows of unknown orders) per fill read, at most. */
export const HISTORY_READS_PER_READ_MAX = 10;
/** One order-history read covers at most this many orders (BingX's limit) over at most this span (BingX: 7 days). */
export const ORDER_HISTORY_ROWS_MAX = 1000;
export const ORDER_HISTORY_MS_MAX = 7 * 24 * 3600_000 - 60_000;
/** Reconcile reads fills at most this far back (BingX keeps about a month). */
export const SNAPSHOT_FILLS_MS_MAX = 30 * 24 * 3600_000;

/** Liquidation fills remembered until takeLiquidations() (a runner that never asks must not grow memory). */
export const LIQUIDATIONS_PENDING_MAX = 1000;

/** snapshot(): fills reads (each bracketed by positions reads) before it takes what it has. */
export const SNAPSHOT_FILL_READS_MAX = 4;

/** snapshot(): a repeated fills read starts this long before the previous one began. */
const FILL_READ_OVERLAP_MS = 1_000;

/** How far past the latest the venue's now can be a fills read reaches (the clocks' drift since the sync). */
const FILLS_END_MARGIN_MS = 2_000;

export class CcxtVenue implements Venue {
  readonly name: VenueName;
  private calls = 0;
  private readonly byEndpoint = new Map<string, EndpointCount>();
  private readonly watch = new OrderWatch();
  private readonly sends: VenueSends;
  /**
   * Venue clock − local clock (ms), from the last syncClock, as ccxt measures it: the venue's
   * time against the local time after its answer, so the venue's now is at least local + this.
   * Requests are stamped with it: BingX refuses a timestamp 1 s ahead, but not 5 s behind.
   */
  private skew_ms = 0;
  /** The last sync's round trip: the venue's now is at most local + skew_ms + this. */
  private skew_rtt_ms = 0;
  private readonly liquidations = new Map<string, VenueLiquidation>();

  constructor(
    private readonly ex: Bingx,
    config: Pick<Config, 'venue'>,
    private readonly secrets: string[],
    private readonly throttle: Throttle,
    private readonly log: (line: string) => void = () => {},
  ) {
    this.name = config.venue;
    // Count every HTTP request ccxt makes, whatever the method: fetch is its one way out. Per
    // endpoint too (issue 22's metrics): a rejection there is the venue's or the network's error.
    const fetch = ex.fetch.bind(ex);
    ex.fetch = (...args: Parameters<Bingx['fetch']>) => {
      this.calls += 1;
      const count = countEndpoint(this.byEndpoint, args[0], args[1]);
      return fetch(...args).catch((err: unknown) => {
        count.errors += 1;
        throw err;
      });
    };
    // ccxt's loadTimeDifference measures the skew, but bingx's nonce() (4.5.84) stamps requests
    // with the local clock and ignores it: stamp them with the venue's time instead.
    ex.options['adjustForTimeDifference'] = true;
    ex.nonce = () => ex.milliseconds() - Number(ex.options['timeDifference'] ?? 0);
    this.sends = new VenueSends({
      ex,
      watch: this.watch,
      paced: (buckets, fn) => this.paced(buckets, fn),
      lookupOrder: (coid, symbol) => this.lookupOrder(coid, symbol),
      redact: (text) => this.reason(text),
      skewMs: () => this.skew_ms,
    });
  }

  get clockSkewMs(): number {
    return this.skew_ms;
  }

  /**
   * The earliest the venue's now can be: where fill windows start and the read cursor stands (a
   * window that starts too early only reads again what is skipped as seen).
   */
  private venueNow(): number {
    return Date.now() + this.skew_ms;
  }

  /**
   * The latest the venue's now can be, plus a margin for drift since the sync: where fill windows
   * end. No fill exists in the future, so reading past now costs nothing, while ending at the
   * earliest estimate loses the newest fills (it ran 11 ms behind here; seconds in a latency spike).
   */
  private fillsEnd(): number {
    return Date.now() + this.skew_ms + this.skew_rtt_ms + FILLS_END_MARGIN_MS;
  }

  async syncClock(): Promise<number> {
    try {
      const wait_ms = await this.throttle.acquire(['ip']);
      if (wait_ms > 0) throw new ThrottledError(wait_ms);
      // ccxt: timeDifference = local time after the answer − server time. The venue stamped its
      // time somewhere in the round trip, so its now lies within the round trip of that.
      const before = Date.now();
      this.skew_ms = -Number(await this.ex.loadTimeDifference());
      this.skew_rtt_ms = Date.now() - before;
      return this.skew_ms;
    } catch (err) {
      throw this.readError(err, Date.now());
    }
  }

  get restCalls(): number {
    return this.calls;
  }

  get requestsByEndpoint(): ReadonlyMap<string, EndpointCount> {
    return this.byEndpoint;
  }

  qtySteps(symbols: Symbol[]): Record<Symbol, number> {
    const out: Record<Symbol, number> = {};
    for (const s of symbols) {
      // bingx's precisionMode is TICK_SIZE: precision.amount is the step itself (0.0001), not decimals.
      const step = this.ex.markets?.[toCcxtSymbol(s)]?.precision?.amount;
      if (typeof step === 'number' && Number.isFinite(step) && step > 0) out[s] = step;
    }
    return out;
  }

  private reason(c: Classified | string): string {
    return redactReason(typeof c === 'string' ? c : c.message, this.secrets);
  }

  /**
   * Takes the buckets' tokens (or throws ThrottledError), then runs the call. A call refused
   * for its timestamp (nothing executed) syncs the clock and is sent once more.
   */
  private async paced<T>(buckets: BucketName[], fn: () => Promise<T>, clock_retry = true): Promise<T> {
    const wait_ms = await this.throttle.acquire(buckets);
    if (wait_ms > 0) throw new ThrottledError(wait_ms);
    try {
      return await fn();
    } catch (err) {
      if (!clock_retry || classify(err, Date.now()).cls.kind !== 'clock') throw err;
      const before = this.skew_ms;
      await this.syncClock();
      this.log(`venue: a request was refused for its timestamp; clock synced (skew ${before} → ${this.skew_ms} ms), sending it again`);
      return this.paced(buckets, fn, false);
    }
  }

  /** A failed read → the one kernel input that says so. */
  private readFailure(err: unknown, ts: number): VenueReadError['input'] & { auth?: true } {
    if (err instanceof ThrottledError) return rateLimited({ ts, retry_after_ms: err.retry_after_ms, reason: this.reason(err.message) });
    const c = classify(err, Date.now());
    if (c.cls.kind === 'rate_limited') return rateLimited({ ts, reason: this.reason(c), retry_after_ms: c.cls.retry_after_ms });
    return c.cls.kind === 'auth' ? { ...venueUnavailable(ts, `venue refused the API key: ${this.reason(c)}`), auth: true } : venueUnavailable(ts, this.reason(c));
  }

  private readError(err: unknown, ts: number): VenueReadError {
    const { auth, ...input } = this.readFailure(err, ts);
    return new VenueReadError(input, auth === true);
  }

  // ---- reads -------------------------------------------------------------------------------

  private async readBook(now_ms: number): Promise<VenueOrder[]> {
    const orders = (await this.paced(['account_reads'], () => this.ex.fetchOpenOrders())) as CcxtOrder[];
    return orders.map((o) => toVenueOrder(o, now_ms)).filter((o): o is VenueOrder => o !== undefined);
  }

  private async readMarks(): Promise<Record<Symbol, number>> {
    const tickers = await this.paced(['ip'], () => this.ex.fetchTickers());
    const marks: Record<Symbol, number> = {};
    for (const t of Object.values(tickers)) {
      const m = /^([A-Z0-9]+)\/USDT:USDT$/.exec(t.symbol ?? '');
      const price = t.last ?? t.close;
      if (m && typeof price === 'number' && price > 0) marks[`${m[1]}-USDT`] = price;
    }
    return marks;
  }

  /**
   * allFillOrders without a symbol: every symbol's fills of the window in one call. Its rows
   * carry no side: it comes from the book, from our sends, or (for an order we never saw: sent
   * before a restart, or whose send had no answer) from the symbol's order history and then one
   * order lookup by id, at most SIDE_LOOKUPS_PER_READ_MAX per read. `all` false (poll): rows of
   * orders that cannot concern PINK are skipped unread. Then fail closed: a row that may be
   * PINK's (poll: every row it reads; snapshot: its client id is PINK's, it has none, or it is a
   * liquidation) whose side could not be learnt because a lookup failed or was beyond this
   * read's bound refuses the whole read (VENUE_UNAVAILABLE, or RATE_LIMITED): a snapshot
   * without it would let reconcile close a trade at the mark around its real fill (chaos seed
   * 332), and a poll that went on would move its window past it. Sides learnt are kept, so each
   * read again gets further. Only a row the venue itself says has no order, or another
   * system's, is dropped (snapshot: with a log line).
   */
  private async readFills(start_ms: number, end_ms: number, book: VenueOrder[], all: boolean): Promise<VenueFill[]> {
    const res = (await this.paced(['ip'], () =>
      this.ex.swapV2PrivateGetTradeAllFillOrders({ startTs: Math.floor(start_ms), endTs: Math.ceil(end_ms), tradingUnit: 'CONT' }),
    )) as RawDict;
    const data = res['data'] as RawDict | undefined;
    const rows = (Array.isArray(data?.['fill_orders']) ? data['fill_orders'] : Array.isArray(data) ? data : []) as RawDict[];
    const bookSide = new Map(book.map((o) => [o.venue_order_id, o.side]));
    const sideOf = (vid: string, coid: string) => bookSide.get(vid) ?? this.watch.sideOf(vid, coid);
    const coidOf = (row: RawDict) => String(row['clientOrderID'] ?? row['clientOrderId'] ?? '');
    const wanted = rows.filter((row) => all || isLiquidationRow(row) || this.watch.concerns(String(row['orderId'] ?? ''), coidOf(row)));
    const sideless = new Map<string, { symbol: string; coid: string }>();
    for (const row of wanted) {
      const vid = String(row['orderId'] ?? '');
      const coid = coidOf(row);
      if (vid !== '' && typeof row['symbol'] === 'string' && sideOf(vid, coid) === undefined) sideless.set(vid, { symbol: row['symbol'], coid });
    }
    /** Orders the venue answered it does not have: their rows can never get a side. */
    const noSuchOrder = new Set<string>();
    let lookupFailure: VenueReadError | undefined;
    if (sideless.size > 0) {
      // One order-history read per symbol first (a fresh adapter, at startup or offline, knows
      // no order, and a reconcile window can hold hundreds); per-order lookups only for the
      // rest, newest first: the most recent fills are the ones a reconcile must not miss.
      lookupFailure = await this.learnFromHistory([...new Set([...sideless.values()].map((x) => x.symbol))], end_ms);
      const left = [...sideless].filter(([vid, { coid }]) => sideOf(vid, coid) === undefined).reverse();
      for (const [vid, { symbol }] of left.slice(0, SIDE_LOOKUPS_PER_READ_MAX)) {
        try {
          const order = await this.fetchOrder({ symbol, orderId: vid }, Date.now());
          if (order) this.watch.learn(order.venue_order_id, order.client_order_id, order.side);
          else noSuchOrder.add(vid);
        } catch (err) {
          lookupFailure ??= err instanceof VenueReadError ? err : this.readError(err, Date.now());
        }
      }
    }
    const fills: VenueFill[] = [];
    let unread = 0;
    for (const row of wanted) {
      const f = toVenueFill(this.ex, row, sideOf);
      if (f) {
        fills.push(f);
        continue;
      }
      const vid = String(row['orderId'] ?? '');
      const coid = coidOf(row);
      // Poll reads only rows that concern PINK (or are liquidations): each of them may be.
      const maybePinks = !all || isPinkOrder(coid) || coid === '' || isLiquidationRow(row);
      if (!all && (vid === '' || sideOf(vid, coid) !== undefined || noSuchOrder.has(vid))) continue;
      if (maybePinks && vid !== '' && sideOf(vid, coid) === undefined && !noSuchOrder.has(vid)) unread += 1;
      else this.log(`venue: skipped a fill row without a readable side or size (${this.reason(JSON.stringify(row).slice(0, 160))})`);
    }
    if (unread > 0) {
      // A lookup refused for rate is the rate limit's business (its cooldown), not an outage.
      if (lookupFailure?.input.type === 'RATE_LIMITED') throw lookupFailure;
      const why = lookupFailure?.input.reason ?? `more than ${SIDE_LOOKUPS_PER_READ_MAX} orders to look up`;
      throw new VenueReadError(venueUnavailable(Date.now(), `the side of ${unread} fill row(s) that may be PINK's could not be read (${why}): read again`));
    }
    return fills;
  }

  /**
   * GET /swap/v2/trade/allOrders per symbol (its most recent ORDER_HISTORY_ROWS_MAX orders of the
   * last ORDER_HISTORY_MS_MAX): the side of every order in it is learnt. A failed read is left to
   * the per-order lookups; the first failure is returned, to name it if they cannot make up for it.
   */
  private async learnFromHistory(symbols: string[], end_ms: number): Promise<VenueReadError | undefined> {
    let failure: VenueReadError | undefined;
    for (const symbol of symbols.slice(0, HISTORY_READS_PER_READ_MAX)) {
      let res: RawDict;
      try {
        res = (await this.paced(['account_reads'], () =>
          this.ex.swapV2PrivateGetTradeAllOrders({ symbol, startTime: Math.floor(end_ms - ORDER_HISTORY_MS_MAX), endTime: Math.ceil(end_ms), limit: ORDER_HISTORY_ROWS_MAX }),
        )) as RawDict;
      } catch (err) {
        failure ??= this.readError(err, Date.now());
        continue;
      }
      const data = res['data'] as RawDict | undefined;
      const rows = (Array.isArray(data?.['orders']) ? data['orders'] : []) as RawDict[];
      for (const raw of rows) {
        const vid = raw['orderId'] ?? raw['orderID'];
        const side = typeof raw['side'] === 'string' ? raw['side'].toLowerCase() : '';
        const coid = raw['clientOrderId'] ?? raw['clientOrderID'];
        if ((typeof vid === 'string' || typeof vid === 'number') && (side === 'buy' || side === 'sell')) {
          this.watch.learn(String(vid), typeof coid === 'string' ? coid : '', side);
        }
      }
    }
    return failure;
  }

  async poll(symbols: Symbol[], ts: number): Promise<KernelInput[]> {
    const now_ms = this.venueNow();
    const window = this.watch.fillWindow(now_ms);
    let marks: Record<Symbol, number>;
    let book: VenueOrder[];
    let fills: VenueFill[];
    try {
      [marks, book] = await Promise.all([this.readMarks(), this.readBook(now_ms)]);
      // After the book, and up to now (not the poll's start): an order absent from the book has
      // all its fills in this read, even those made while the book was being read.
      fills = await this.readFills(window.start_ms, this.fillsEnd(), book, false);
    } catch (err) {
      if (err instanceof VenueReadError) return [{ ...err.input, ts }];
      const { auth: _auth, ...input } = this.readFailure(err, ts);
      return [input];
    }
    this.watch.readSucceeded(now_ms);
    const tickMarks: Record<Symbol, number> = {};
    for (const s of symbols) if (marks[s] !== undefined) tickMarks[s] = marks[s];
    const out: KernelInput[] = [{ type: 'TICK', ts, marks: tickMarks }, { type: 'VENUE_OK', ts }];
    out.push(...this.fillEvents(this.watch.takeNewFills(fills, book), ts));
    out.push(...(await this.settleVanished(this.watch.offTheBook(book), ts)));
    return out;
  }

  /** PINK orders off the book and not fully filled: ask the venue how they ended. */
  private async settleVanished(vanished: ReturnType<OrderWatch['offTheBook']>, ts: number): Promise<KernelInput[]> {
    const out: KernelInput[] = [];
    for (const w of vanished.slice(0, VANISHED_LOOKUPS_PER_POLL_MAX)) {
      let found: LookedUpOrder | null;
      try {
        found = await this.lookupOrder(w.client_order_id, w.symbol);
      } catch {
        break; // the next poll asks again
      }
      const status = found?.status;
      if (status === 'canceled' || status === 'expired' || status === 'rejected') {
        out.push(orderEnded(status === 'canceled' ? 'CANCELED' : 'EXPIRED', ts, w.client_order_id, w.venue_order_id, `order ${status} at the venue`));
        this.watch.unwatch(w.client_order_id);
      } else if (status !== 'open' && w.vanished_polls >= VANISHED_POLLS_MAX) {
        // Filled but its fills never came, or unknown to the venue: reconcile's job now.
        this.log(`venue: ${w.client_order_id} left the book ${found ? 'filled without fills' : 'and the venue has no such order'}; leaving it to reconcile`);
        this.watch.unwatch(w.client_order_id);
      }
    }
    return out;
  }

  async fills(ts: number): Promise<KernelInput[]> {
    const now_ms = this.venueNow();
    const window = this.watch.fillWindow(now_ms);
    let fills: VenueFill[];
    try {
      fills = await this.readFills(window.start_ms, this.fillsEnd(), [], false);
    } catch (err) {
      if (err instanceof VenueReadError) return [{ ...err.input, ts }];
      const { auth: _auth, ...input } = this.readFailure(err, ts);
      return [input];
    }
    // The cursor stays where poll left it: the next poll reads these again and skips them as seen.
    return this.fillEvents(this.watch.takeNewFills(fills), ts);
  }

  private fillEvents(fresh: VenueFill[], ts: number): KernelInput[] {
    const out: KernelInput[] = [];
    for (const f of fresh) {
      this.noteLiquidation(f);
      if (!isPinkOrder(f.client_order_id)) continue; // foreign fills are reconcile's business
      out.push(fill(ts, f));
    }
    return out;
  }

  async snapshot(symbols: Symbol[], since_ms: number, ts: number): Promise<VenueSnapshot> {
    const now_ms = this.venueNow();
    const start_ms = Math.max(since_ms, now_ms - SNAPSHOT_FILLS_MS_MAX);
    if (start_ms > since_ms) this.log(`venue: fills older than ${SNAPSHOT_FILLS_MS_MAX / 86_400_000} days are not read (asked since ${new Date(since_ms).toISOString()})`);
    try {
      // Not one atomic read, so in an order that keeps the parts consistent while orders fill:
      // the book first, so an order off the book has all its fills in the later fills read
      // (chaos seeds 29 and 45); then the fills are bracketed by two positions reads, and taken
      // only when both agree: nothing filled between them, so the fills read (up to past the
      // venue's now) holds exactly the fills the positions reflect. A fill window that ended
      // at an estimate of the venue's now lost the last fill of an order completing during the
      // reads whenever the clock sync was a few ms behind.
      const [book, balance, marks] = await Promise.all([this.readBook(now_ms), this.paced(['ip'], () => this.ex.fetchBalance()), this.readMarks()]);
      let positions = await this.readPositions();
      const byId = new Map<string, VenueFill>();
      let from_ms = start_ms;
      for (let reads = 1; ; reads += 1) {
        const read_start_ms = this.venueNow();
        const end_ms = this.fillsEnd();
        // Bounded: SNAPSHOT_FILLS_MS_MAX / FILL_WINDOW_MS_MAX windows (5) on the first read.
        for (let w = from_ms; w < end_ms; w += FILL_WINDOW_MS_MAX) {
          for (const f of await this.readFills(w, Math.min(end_ms, w + FILL_WINDOW_MS_MAX), book, true)) if (!byId.has(f.fill_id)) byId.set(f.fill_id, f);
        }
        const again = await this.readPositions();
        if (samePositions(positions, again)) break;
        positions = again;
        if (reads >= SNAPSHOT_FILL_READS_MAX) {
          // Fail closed: a snapshot whose fills may not be what its positions reflect would make
          // reconcile adopt or close around a fill it has not seen. None is taken; the caller reads
          // again (a stale slot on its next step, the startup reconcile within its deadline).
          throw new VenueReadError(venueUnavailable(ts, `positions kept changing over ${reads} fills reads: no consistent snapshot, read again`));
        }
        // Only what can have filled since the last read began (its fills are already here).
        from_ms = Math.max(start_ms, read_start_ms - FILL_READ_OVERLAP_MS);
      }
      const fills = [...byId.values()];
      const venuePositions = positions;
      // Prime poll: these fills are reported here, and reconcile owns the orders now off the book.
      for (const f of this.watch.takeNewFills(fills, book)) this.noteLiquidation(f);
      for (const w of this.watch.offTheBook(book)) this.watch.unwatch(w.client_order_id);
      this.watch.readSucceeded(now_ms);
      const wanted = new Set([...symbols, ...venuePositions.map((p) => p.symbol)]);
      const snapMarks: Record<Symbol, number> = {};
      for (const s of wanted) if (marks[s] !== undefined) snapMarks[s] = marks[s];
      return { ts, balance_usdt: toBalanceUsdt(balance), marks: snapMarks, positions: venuePositions, open_orders: book, fills: fills.sort((a, b) => a.ts - b.ts) };
    } catch (err) {
      if (err instanceof VenueReadError) throw new VenueReadError({ ...err.input, ts }, err.auth);
      throw this.readError(err, ts);
    }
  }

  /** GET /swap/v2/trade/order by orderId or clientOrderID; null when the venue has no such order. */
  private async fetchOrder(params: { symbol: Symbol; orderId?: string; clientOrderID?: string }, ts: number): Promise<LookedUpOrder | null> {
    try {
      const res = (await this.paced(['account_reads'], () => this.ex.swapV2PrivateGetTradeOrder(params))) as RawDict;
      const data = res['data'] as RawDict | null | undefined;
      const raw = (data?.['order'] as RawDict | undefined) ?? data;
      if (!raw || (raw['orderId'] ?? raw['orderID']) === undefined) return null;
      const order = toLookedUpOrder(this.ex.parseOrder(raw, this.ex.market(toCcxtSymbol(params.symbol))) as CcxtOrder, ts);
      // The venue must answer about the order asked for, or the answer is not about it.
      if (!order || (params.clientOrderID !== undefined && order.client_order_id !== params.clientOrderID)) return null;
      if (params.orderId !== undefined && order.venue_order_id !== params.orderId) return null;
      this.watch.learn(order.venue_order_id, order.client_order_id, order.side);
      return order;
    } catch (err) {
      if (!(err instanceof ThrottledError) && classify(err, ts).cls.kind === 'not_found') return null;
      throw this.readError(err, ts);
    }
  }

  private async readPositions(): Promise<VenuePosition[]> {
    const positions = await this.paced(['account_reads'], () => this.ex.fetchPositions());
    return positions.map((p) => toVenuePosition(p)).filter((p) => p !== undefined);
  }

  async positions(): Promise<VenuePosition[]> {
    try {
      return await this.readPositions();
    } catch (err) {
      throw this.readError(err, Date.now());
    }
  }

  async lookupOrder(client_order_id: string, symbol: Symbol): Promise<LookedUpOrder | null> {
    return this.fetchOrder({ symbol, clientOrderID: client_order_id }, Date.now());
  }

  // ---- sends -------------------------------------------------------------------------------

  send(commands: VenueCommand[], ts: number): Promise<KernelInput[]> {
    return this.sends.send(commands, ts);
  }

  // ---- account: position mode, funding, liquidations ------------------------------------

  async positionMode(): Promise<PositionMode> {
    try {
      const res = await this.paced(['account_reads'], () => this.ex.fetchPositionMode());
      return res.hedged === true ? 'hedge' : 'one_way';
    } catch (err) {
      throw this.readError(err, Date.now());
    }
  }

  async setPositionMode(mode: PositionMode): Promise<void> {
    try {
      await this.paced(['orders'], () => this.ex.setPositionMode(mode === 'hedge'));
    } catch (err) {
      throw this.readError(err, Date.now());
    }
  }

  async fundingPayments(since_ms: number): Promise<FundingPayment[]> {
    try {
      return await readFundingPayments(this.ex, (buckets, fn) => this.paced(buckets, fn), since_ms);
    } catch (err) {
      throw this.readError(err, Date.now());
    }
  }

  async nextFundingTs(symbols: Symbol[]): Promise<number | null> {
    try {
      const rates = await this.paced(['ip'], () => this.ex.fetchFundingRates(symbols.map(toCcxtSymbol)));
      const next = Object.values(rates)
        .map((r) => r.nextFundingTimestamp)
        .filter((t): t is number => typeof t === 'number' && t > 0);
      return next.length > 0 ? Math.min(...next) : null;
    } catch (err) {
      throw this.readError(err, Date.now());
    }
  }

  private noteLiquidation(f: VenueFill): void {
    if (f.liquidation_price === undefined || this.liquidations.has(f.fill_id)) return;
    this.liquidations.set(f.fill_id, { fill_id: f.fill_id, venue_order_id: f.venue_order_id, symbol: f.symbol, side: f.side, qty: f.qty, price: f.price, fee: f.fee, liquidation_price: f.liquidation_price, ts: f.ts });
    if (this.liquidations.size > LIQUIDATIONS_PENDING_MAX) {
      const oldest = this.liquidations.keys().next().value;
      if (oldest !== undefined) this.liquidations.delete(oldest);
      this.log('venue: liquidations are not being taken (takeLiquidations); the oldest was dropped');
    }
  }

  takeLiquidations(): VenueLiquidation[] {
    const out = [...this.liquidations.values()].sort((a, b) => a.ts - b.ts);
    this.liquidations.clear();
    return out;
  }

  async close(): Promise<void> {
    await this.ex.close();
  }
}
