// The send path of the ccxt adapter: order commands out, the kernel inputs that say what became
// of them back. What a failure means is the resend table's (resend.ts); this file carries its
// actions out: the lookups they need and the client ids whose send had no answer.
import type { bingx as BingxExchange } from 'ccxt';
import type { KernelInput, Symbol, VenueCommand } from '../kernel/types.js';
import { accepted, cancelRejected, orderEnded, rateLimited, rejected, sendUnknown, venueUnavailable } from './inputs.js';
import { failureOf, resendAction, type ResendAction, type SendFailure } from './resend.js';
import { toCcxtSymbol } from './translate.js';
import type { BucketName, LookedUpOrder } from './types.js';
import type { OrderWatch } from './watch.js';

type PlaceCommand = Extract<VenueCommand, { kind: 'PLACE' }>;
type CancelCommand = Extract<VenueCommand, { kind: 'CANCEL' }>;
type SharedAction = Extract<ResendAction, 'retry_later' | 'refuse_key' | 'refuse' | 'unknown'>;

/** Relative nudge before lot truncation (see place()). */
const LOT_NUDGE_RATIO = 1e-9;
/** Client order ids whose send had no answer, remembered so a resend looks before it sends. */
const UNKNOWN_SENDS_MAX = 1_000;

/** What the send path uses of the adapter. */
export interface SendPort {
  readonly ex: BingxExchange;
  readonly watch: OrderWatch;
  /** Throttled (ThrottledError), a timestamp refusal synced and sent once more (see CcxtVenue.paced). */
  paced<T>(buckets: BucketName[], fn: () => Promise<T>): Promise<T>;
  /** Throws VenueReadError. */
  lookupOrder(client_order_id: string, symbol: Symbol): Promise<LookedUpOrder | null>;
  redact(text: string): string;
  skewMs(): number;
}

export class VenueSends {
  private readonly unknownSends = new Set<string>();

  constructor(private readonly port: SendPort) {}

  async send(commands: VenueCommand[], ts: number): Promise<KernelInput[]> {
    const out: KernelInput[] = [];
    for (let i = 0; i < commands.length; i++) {
      const cmd = commands[i]!;
      const inputs = cmd.kind === 'PLACE' ? await this.place(cmd, ts) : await this.cancel(cmd, ts);
      out.push(...inputs);
      const limited = inputs.find((x) => x.type === 'RATE_LIMITED');
      if (limited && limited.type === 'RATE_LIMITED') {
        // Sending more into a rate limit only lengthens it: the rest are refused unsent.
        for (const rest of commands.slice(i + 1)) {
          out.push(rateLimited({ ts, client_order_id: rest.client_order_id, reason: `not sent: ${limited.reason}`, retry_after_ms: limited.retry_after_ms }));
        }
        break;
      }
    }
    return out;
  }

  private rememberUnknown(coid: string): void {
    this.unknownSends.add(coid);
    if (this.unknownSends.size > UNKNOWN_SENDS_MAX) {
      const oldest = this.unknownSends.values().next().value;
      if (oldest !== undefined) this.unknownSends.delete(oldest);
    }
  }

  /** The order already exists at the venue (a resend): ACCEPTED for it, nothing sent. */
  private async existing(c: PlaceCommand, ts: number): Promise<KernelInput | undefined> {
    const found = await this.port.lookupOrder(c.client_order_id, c.symbol);
    if (!found) return undefined;
    this.unknownSends.delete(c.client_order_id);
    this.port.watch.watch({ ...c, venue_order_id: found.venue_order_id });
    return accepted(ts, c.client_order_id, found.venue_order_id, found.qty);
  }

  private async place(c: PlaceCommand, ts: number): Promise<KernelInput[]> {
    const coid = c.client_order_id;
    const { ex, watch } = this.port;
    try {
      // A previous send of this id had no answer: look before sending again, never blindly.
      if (this.unknownSends.has(coid)) {
        const found = await this.existing(c, ts);
        if (found) return [found];
      }
      // Remembered before sending: if the answer is lost, the fills still get their side.
      watch.learn(undefined, coid, c.side);
      const params: Record<string, unknown> = { clientOrderID: coid };
      if (c.reduce_only) params['reduceOnly'] = true;
      const price = c.order_type === 'limit' ? c.price : undefined;
      const symbol = toCcxtSymbol(c.symbol);
      // What ccxt will send: the quantity truncated to the lot step (InvalidOrder if that is 0).
      // The kernel's sizes are float sums of lots (0.03 - 0.02 = 0.009999999999999998), which a
      // plain truncation would turn into 0.00: a nudge of LOT_NUDGE_RATIO puts them back on their
      // lot first, far too small to reach the next lot of any real size.
      const sent_qty = Number(ex.amountToPrecision(symbol, c.qty * (1 + LOT_NUDGE_RATIO)));
      const order = await this.port.paced(['orders'], () => ex.createOrder(symbol, c.order_type, c.side, sent_qty, price, params));
      const qty = typeof order.amount === 'number' && order.amount > 0 ? order.amount : sent_qty;
      this.unknownSends.delete(coid);
      watch.watch({ ...c, qty, venue_order_id: String(order.id) });
      return [accepted(ts, coid, String(order.id), qty)];
    } catch (err) {
      return this.placeFailed(c, failureOf('PLACE', err, Date.now(), (t) => this.port.redact(t)), ts);
    }
  }

  private async placeFailed(c: PlaceCommand, f: SendFailure, ts: number): Promise<KernelInput[]> {
    const coid = c.client_order_id;
    const action = resendAction('PLACE', f);
    switch (action) {
      case 'adopt_existing': {
        try {
          const found = await this.existing(c, ts);
          if (found) return [found];
        } catch {
          /* the lookup failed: unknown */
        }
        this.rememberUnknown(coid);
        return [sendUnknown(ts, coid, `the venue has an order with this client id but it could not be read back: ${f.reason}`)];
      }
      case 'refuse_clock':
        return [rejected(ts, coid, `venue refused the request's timestamp after a clock sync (skew ${this.port.skewMs()} ms): ${f.reason}`)];
      case 'unknown_look_first':
        this.rememberUnknown(coid);
        return [sendUnknown(ts, coid, f.reason)];
      case 'check_closed':
        throw new Error(`resend: ${action} is a cancel's action, the PLACE table has no such row`);
      default:
        return this.shared(action, f, coid, ts, rejected);
    }
  }

  /** The actions a place and a cancel carry out alike; `refused` is REJECTED or CANCEL_REJECTED. */
  private shared(action: SharedAction, f: SendFailure, coid: string, ts: number, refused: (ts: number, coid: string, reason: string) => KernelInput): KernelInput[] {
    switch (action) {
      case 'retry_later': {
        // A failed read's RATE_LIMITED keeps that read's time, as the read reported it.
        const retry_after_ms = f.cls.kind === 'rate_limited' ? f.cls.retry_after_ms : undefined;
        return [rateLimited({ ts: f.read_ts ?? ts, client_order_id: coid, reason: f.reason, retry_after_ms })];
      }
      case 'refuse_key':
        return [refused(ts, coid, `venue refused the API key: ${f.reason}`), venueUnavailable(ts, `venue refused the API key: ${f.reason}`)];
      case 'refuse':
        return [refused(ts, coid, f.reason)];
      case 'unknown':
        return [sendUnknown(ts, coid, f.reason)];
    }
  }

  private async cancel(c: CancelCommand, ts: number): Promise<KernelInput[]> {
    const coid = c.client_order_id;
    try {
      await this.port.paced(['orders'], () => this.port.ex.cancelOrder(c.venue_order_id ?? '', toCcxtSymbol(c.symbol), { clientOrderID: coid }));
      this.port.watch.unwatch(coid);
      return [orderEnded('CANCELED', ts, coid, c.venue_order_id)];
    } catch (err) {
      const f = failureOf('CANCEL', err, Date.now(), (t) => this.port.redact(t));
      const action = resendAction('CANCEL', f);
      switch (action) {
        case 'check_closed':
          return this.cancelTooLate(c, f.reason, ts);
        case 'refuse_clock':
        case 'adopt_existing':
        case 'unknown_look_first':
          throw new Error(`resend: ${action} is a place's action, the CANCEL table has no such row`);
        default:
          return this.shared(action, f, coid, ts, cancelRejected);
      }
    }
  }

  /**
   * 80018: the order was already filled or cancelled when the cancel arrived. Cancelled: that is
   * the CANCELED event. Filled (or unreadable): CANCEL_REJECTED saying so; the fills come by poll.
   */
  private async cancelTooLate(c: CancelCommand, reason: string, ts: number): Promise<KernelInput[]> {
    const found = await this.port.lookupOrder(c.client_order_id, c.symbol).catch(() => null);
    if (found?.status === 'canceled' || found?.status === 'expired') {
      this.port.watch.unwatch(c.client_order_id);
      return [orderEnded('CANCELED', ts, c.client_order_id, found.venue_order_id, 'already cancelled at the venue')];
    }
    return [cancelRejected(ts, c.client_order_id, `${reason} (the order is ${found?.status ?? 'not readable'} at the venue)`)];
  }
}
