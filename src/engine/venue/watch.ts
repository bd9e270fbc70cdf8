// What poll remembers between steps, and nothing more: PINK's orders on the book (to notice
// one leaving it unfilled), the fills already reported (the fill read re-reads a window, so a
// fill that arrives late is still seen), and the last successful read (the window's start).
// Pure: no I/O, no clock; times are given.
import type { OrderSide, VenueFill, VenueOrder } from '../kernel/types.js';
import { isPinkOrder } from './translate.js';

/** The fill read re-reads this far back from the last successful read (late-arriving fills). */
export const FILL_LOOKBACK_MS = 60_000;
/** Never ask BingX for a wider window than this (allFillOrders keeps about this much). */
export const FILL_WINDOW_MS_MAX = 7 * 24 * 3600_000;
/** Order ids remembered after an order leaves the book, to attribute its late fills. */
export const ORDER_IDS_MAX = 10_000;
/** A vanished order the venue cannot find (or shows filled without fills) is dropped after this many polls. */
export const VANISHED_POLLS_MAX = 5;
/** Quantities equal within this relative tolerance (venue decimals). */
const QTY_REL_EPS = 1e-9;

export interface Watched {
  client_order_id: string;
  venue_order_id: string;
  symbol: string;
  side: OrderSide;
  qty: number;
  /** Sum of the fills reported for it so far. */
  filled_qty: number;
  /** Polls during which it was off the book but not yet settled. */
  vanished_polls: number;
}

export class OrderWatch {
  private readonly watched = new Map<string, Watched>();
  private readonly orderIds = new Map<string, { client_order_id: string; side: OrderSide }>();
  private readonly sentSides = new Map<string, OrderSide>();
  private readonly seenFills = new Map<string, number>();
  /** Adapter clock (ms) of the last read that succeeded; the next fill window starts before it. */
  private lastReadMs: number | undefined;

  watch(o: Pick<Watched, 'client_order_id' | 'venue_order_id' | 'symbol' | 'side' | 'qty'>, filled_qty = 0): void {
    const prev = this.watched.get(o.client_order_id);
    this.watched.set(o.client_order_id, {
      ...o,
      filled_qty: Math.max(prev?.filled_qty ?? 0, filled_qty),
      vanished_polls: 0,
    });
    this.remember(o.venue_order_id, o.client_order_id, o.side);
  }

  unwatch(client_order_id: string): void {
    this.watched.delete(client_order_id);
  }

  isWatched(client_order_id: string): boolean {
    return this.watched.has(client_order_id);
  }

  /** An order's side, learnt from a send or a lookup, for fill rows that carry none. */
  learn(venue_order_id: string | undefined, client_order_id: string, side: OrderSide): void {
    if (client_order_id !== '') {
      this.sentSides.delete(client_order_id);
      this.sentSides.set(client_order_id, side);
      if (this.sentSides.size > ORDER_IDS_MAX) {
        const oldest = this.sentSides.keys().next().value;
        if (oldest !== undefined) this.sentSides.delete(oldest);
      }
    }
    if (venue_order_id !== undefined) this.remember(venue_order_id, client_order_id, side);
  }

  private remember(venue_order_id: string, client_order_id: string, side: OrderSide): void {
    this.orderIds.delete(venue_order_id);
    this.orderIds.set(venue_order_id, { client_order_id, side });
    if (this.orderIds.size > ORDER_IDS_MAX) {
      const oldest = this.orderIds.keys().next().value;
      if (oldest !== undefined) this.orderIds.delete(oldest);
    }
  }

  /** The side of an order we know, for fill rows that carry none. */
  sideOf = (venue_order_id: string, client_order_id: string): OrderSide | undefined =>
    this.orderIds.get(venue_order_id)?.side ?? this.watched.get(client_order_id)?.side ?? this.sentSides.get(client_order_id);

  /** Whether a fill of this order can matter to poll: a PINK order, or one we know by venue id. */
  concerns(venue_order_id: string, client_order_id: string): boolean {
    return isPinkOrder(client_order_id) || this.orderIds.has(venue_order_id);
  }

  /** [start, end] of the next fill read, in the adapter's clock. */
  fillWindow(now_ms: number): { start_ms: number; end_ms: number } {
    const from = (this.lastReadMs ?? now_ms) - FILL_LOOKBACK_MS;
    return { start_ms: Math.max(from, now_ms - FILL_WINDOW_MS_MAX), end_ms: now_ms };
  }

  /** Marks a read as successful: fills older than the next window can be forgotten. */
  readSucceeded(now_ms: number): void {
    this.lastReadMs = now_ms;
    const { start_ms } = this.fillWindow(now_ms);
    // Bounded: entries older than the window can never be returned again.
    for (const [id, ts] of this.seenFills) if (ts < start_ms - FILL_LOOKBACK_MS) this.seenFills.delete(id);
  }

  /**
   * The fills not reported before (oldest first), attributed to their order (a fill row may
   * carry no client order id: it is found by venue order id among the orders we know and the
   * book just read); marks them seen.
   */
  takeNewFills(fills: VenueFill[], book: VenueOrder[] = []): VenueFill[] {
    const fresh: VenueFill[] = [];
    const onBook = new Map(book.map((o) => [o.venue_order_id, o]));
    for (const f of [...fills].sort((a, b) => a.ts - b.ts)) {
      if (this.seenFills.has(f.fill_id)) continue;
      this.seenFills.set(f.fill_id, f.ts);
      const known = this.orderIds.get(f.venue_order_id) ?? onBook.get(f.venue_order_id);
      const fill = f.client_order_id === '' && known ? { ...f, client_order_id: known.client_order_id } : f;
      const w = this.watched.get(fill.client_order_id);
      if (w) w.filled_qty += fill.qty;
      fresh.push(fill);
    }
    return fresh;
  }

  /**
   * Given the book as just read: watches every PINK order on it (orders placed before a
   * restart, or by another PINK process, are watched from their first sighting), and returns
   * the watched orders that are off the book and not fully filled (fully filled ones are
   * dropped). Each returned order's vanished_polls has been incremented.
   */
  offTheBook(open: VenueOrder[]): Watched[] {
    const onBook = new Set<string>();
    for (const o of open) {
      if (!isPinkOrder(o.client_order_id)) continue;
      onBook.add(o.client_order_id);
      const w = this.watched.get(o.client_order_id);
      if (!w) this.watch(o, o.filled_qty);
      else w.vanished_polls = 0;
    }
    const out: Watched[] = [];
    for (const w of this.watched.values()) {
      if (onBook.has(w.client_order_id)) continue;
      if (w.filled_qty >= w.qty * (1 - QTY_REL_EPS)) {
        this.watched.delete(w.client_order_id);
        continue;
      }
      w.vanished_polls += 1;
      out.push(w);
    }
    return out;
  }
}
