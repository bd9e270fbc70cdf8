// The venue as the runner sees it: reads that become kernel inputs, sends that become kernel
// inputs, and one lookup for reconcile. Types only (no code), so importing it costs nothing;
// the ccxt implementation is in ccxt.ts and is loaded by openVenue (index.ts) on demand.
import type { VenueName } from '../../config.js';
import type { KernelInput, Symbol, VenueCommand, VenueOrder, VenueSnapshot } from '../kernel/types.js';

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
   * Each symbol's lot step (the quantity step orders are sized in), from the markets read at
   * connect (ccxt's market precision.amount): no call. A symbol without one is left out.
   */
  qtySteps(symbols: Symbol[]): Record<Symbol, number>;

  /** REST calls made so far (sent to the venue, whatever the answer). */
  readonly restCalls: number;

  close(): Promise<void>;
}

export type VenueOrderStatus = 'open' | 'filled' | 'canceled' | 'expired' | 'rejected';

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
