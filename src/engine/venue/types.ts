// The venue as the runner sees it: reads that become kernel inputs, sends that become kernel
// inputs, and one lookup for reconcile. Types only (no code), so importing it costs nothing;
// the ccxt implementation is in ccxt.ts and is loaded by openVenue (index.ts) on demand.
import type { VenueName } from '../../config.js';
import type { KernelInput, OrderSide, Symbol, VenueCommand, VenueFill, VenueOrder, VenuePosition, VenueSnapshot } from '../kernel/types.js';

export interface Venue {
  readonly name: VenueName;

  /**
   * One step's reads, in a constant number of REST calls whatever the number of symbols:
   * all tickers and all open orders (in parallel), then all fills since the cursor (after the
   * open orders, so an order absent from the book has its fills in this read). Returns, in
   * order: TICK (marks of `symbols`), VENUE_OK, then EVENT FILL (one per new venue fill of a
   * `pink-` order, oldest first, event_id `fill:<fill_id>`), then EVENT CANCELED / EXPIRED for
   * PINK orders that left the book not fully filled. Only such a vanished order costs one extra
   * call (an order lookup, at most `vanished_lookups_per_poll_max` per poll).
   * A failed read returns a single RATE_LIMITED or VENUE_UNAVAILABLE input (all or nothing:
   * the fill cursor does not move).
   */
  poll(symbols: Symbol[], ts: number): Promise<KernelInput[]>;

  /**
   * Full truth for reconcile: all positions, all open orders, all fills since `since_ms` (every
   * symbol, oldest first), the USDT wallet balance and marks for `symbols` and every symbol
   * with a position. The book, balance and marks in parallel; then the positions; then the fills
   * up to the moment the positions answered (one call per 7 days of window, at most 30 days back;
   * plus, for fills of orders never seen, one order-history read per symbol and at most
   * SIDE_LOOKUPS_PER_READ_MAX order lookups, for their side). So an order off the book has all
   * its fills here, and the fills are those the positions reflect.
   * Also primes poll: the fills returned are not
   * reported again by poll, and the open `pink-` orders are watched.
   * Throws VenueReadError (carrying the RATE_LIMITED / VENUE_UNAVAILABLE input) on failure.
   */
  snapshot(symbols: Symbol[], since_ms: number, ts: number): Promise<VenueSnapshot>;

  /**
   * Sends the kernel's commands in order and returns what happened, one or more inputs per
   * command: EVENT ACCEPTED (event_id `accepted:<coid>`, with venue_order_id) · EVENT REJECTED
   * (venue's reason text, redacted) · EVENT CANCELED / CANCEL_REJECTED · RATE_LIMITED (with
   * client_order_id; the command was not executed, and neither were the rest of the batch) ·
   * SEND_UNKNOWN (the order may exist: never retried here; see lookupOrder).
   * FILL events come from poll/snapshot only (the venue's fill ids), never from a create
   * response, so no fill can be counted twice.
   */
  send(commands: VenueCommand[], ts: number): Promise<KernelInput[]>;

  /**
   * The order with this client order id, whatever its state, or null when the venue has none.
   * This is how a SEND_UNKNOWN is settled: found = it was created (exactly once: the venue
   * refuses a second order with the same clientOrderID), null = it was not.
   * Throws VenueReadError on failure.
   */
  lookupOrder(client_order_id: string, symbol: Symbol): Promise<LookedUpOrder | null>;

  /**
   * The fills of PINK's watched orders not reported before, as poll's EVENT FILL inputs, in one
   * call and without the book: no TICK, no settlement of orders that left the book (poll's job;
   * the next poll does it). flatten's confirmation (issue 21) reads it beside positions().
   * A failed read returns a single RATE_LIMITED or VENUE_UNAVAILABLE input.
   */
  fills(ts: number): Promise<KernelInput[]>;

  /** All positions at the venue (one call; the step's divergence check). Throws VenueReadError on failure. */
  positions(): Promise<VenuePosition[]>;

  /**
   * Each symbol's lot step (the quantity step orders are sized in), from the markets read at
   * connect (ccxt's market precision.amount): no call. A symbol without one is left out.
   */
  qtySteps(symbols: Symbol[]): Record<Symbol, number>;

  /** REST calls made so far (sent to the venue, whatever the answer). */
  readonly restCalls: number;

  /**
   * The venue's clock minus this machine's, in ms, as of the last syncClock (0 before it).
   * Every signed request is stamped with local time + this skew, so a skewed machine clock
   * is not refused by BingX (109400 / 100421 "timestamp").
   */
  readonly clockSkewMs: number;

  /**
   * ccxt's time-difference sync (loadTimeDifference: one GET server/time), its round trip kept as
   * the skew's error: fill windows start at the earliest and end past the latest the venue's now
   * can be. Done at connect and again, once, when a request is refused for its
   * timestamp (the request is then sent again). Returns the new skew. Throws VenueReadError.
   */
  syncClock(): Promise<number>;

  /** The account's position mode (BingX positionSide/dual): PINK trades 'one_way' only. Throws VenueReadError. */
  positionMode(): Promise<PositionMode>;

  /** Sets the position mode; the venue refuses while a position or an order is open. Throws VenueReadError. */
  setPositionMode(mode: PositionMode): Promise<void>;

  /**
   * Funding paid and received since `since_ms` (venue time), oldest first, each once per
   * venue id: BingX's income ledger (incomeType FUNDING_FEE), at most FUNDING_PAGES_MAX pages;
   * then, per symbol with payments (at most FUNDING_SYMBOLS_PER_READ_MAX), the funding-rate
   * history and the 1-minute mark-price candles of those times (public calls), from which
   * rate, mark and position size are filled in. Throws VenueReadError.
   */
  fundingPayments(since_ms: number): Promise<FundingPayment[]>;

  /**
   * The earliest next funding time (venue clock, ms) of `symbols`: premiumIndex's nextFundingTime
   * (ccxt fetchFundingRates, one public call for all). null when the venue gives none. Throws VenueReadError.
   */
  nextFundingTs(symbols: Symbol[]): Promise<number | null>;

  /**
   * The liquidation fills that poll and snapshot reads have seen since the last call, each
   * once (by the venue's fill id), oldest first: the venue closed a position itself. poll
   * does not turn them into kernel inputs (they carry no PINK client order id); snapshot's
   * fills include them, marked with `liquidation_price`, and its positions no longer show
   * what was liquidated.
   */
  takeLiquidations(): VenueLiquidation[];

  /** The same calls by endpoint (`GET /openApi/...`), with those that failed (issue 22's metrics). */
  readonly requestsByEndpoint?: ReadonlyMap<string, EndpointCount>;

  close(): Promise<void>;
}

export interface EndpointCount {
  requests: number;
  errors: number;
}

export type VenueOrderStatus = 'open' | 'filled' | 'canceled' | 'expired' | 'rejected';

/** BingX's position modes: one-way (positionSide BOTH) or hedge (dual side, LONG/SHORT). */
export type PositionMode = 'one_way' | 'hedge';

/** One funding payment, from the venue's income ledger. */
export interface FundingPayment {
  /** The venue's id for it (BingX tranId): apply once per id, for the whole history. */
  funding_id: string;
  symbol: Symbol;
  /** + received, − paid (the venue's sign). */
  amount_usdt: number;
  /** The funding time (venue clock, ms). */
  ts: number;
  /** The settled rate at that time (funding-rate history); null when the venue lists none. */
  rate: number | null;
  /** The mark at that time (close of its 1-minute mark-price candle); null when unknown. */
  mark_price: number | null;
  /** Signed (+ long, − short): |amount| / (|rate| × mark), on the lot step; null when rate or mark is unknown or 0. */
  position_qty: number | null;
}

/**
 * A position the venue closed by liquidation: one fill of the venue's liquidation order (the same
 * fill appears in snapshot fills with liquidation_price), with no client order id; its side is
 * the liquidation order's (sell closes a long).
 */
export interface VenueLiquidation extends Omit<VenueFill, 'client_order_id' | 'liquidation_price'> {
  liquidation_price: number;
}

export interface LookedUpOrder extends VenueOrder {
  status: VenueOrderStatus;
  /** Average fill price, when the venue reports one. */
  avg_price?: number;
}

/** Requests per second and burst per named bucket (see throttle.ts for the defaults). */
export interface BucketRate {
  rate_per_s: number;
  burst: number;
}
export type BucketName = 'orders' | 'account_reads' | 'ip';
export type VenueRates = Record<BucketName, BucketRate>;

export interface OpenVenueOptions {
  /** `pink run --live`: required, with DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-live, for bingx-live. */
  live?: boolean;
  /** Simulator base URL (http://127.0.0.1:PORT) for venue sim; else config.sim_url. */
  simUrl?: string;
  /** Per HTTP request; a send that takes longer is SEND_UNKNOWN. Default 10 000 ms. */
  timeoutMs?: number;
  /** Progress lines (already redacted). */
  logger?: (line: string) => void;
  /** Override the self-imposed request rates (bench and tests only; the defaults are 80% of BingX's). */
  rates?: Partial<VenueRates>;
}
