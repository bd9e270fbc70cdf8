// The kernel inputs the adapter reports, each built in exactly one place: however many paths
// report a fact (a read, a send, the rest of a batch, a lookup), it reaches the kernel in one
// shape, with its event id from eventId and an optional field absent rather than undefined.
import type { KernelInput, VenueEvent, VenueFill } from '../kernel/types.js';
import { eventId } from './translate.js';

export type RateLimitedInput = Extract<KernelInput, { type: 'RATE_LIMITED' }>;
export type VenueUnavailableInput = Extract<KernelInput, { type: 'VENUE_UNAVAILABLE' }>;

/** The venue (or pink's own throttle) refused for rate: nothing was executed. */
export function rateLimited(f: { ts: number; reason: string; retry_after_ms?: number | undefined; client_order_id?: string | undefined }): RateLimitedInput {
  const out: RateLimitedInput = { type: 'RATE_LIMITED', ts: f.ts, reason: f.reason };
  if (f.client_order_id !== undefined) out.client_order_id = f.client_order_id;
  if (f.retry_after_ms !== undefined) out.retry_after_ms = f.retry_after_ms;
  return out;
}

export function venueUnavailable(ts: number, reason: string): VenueUnavailableInput {
  return { type: 'VENUE_UNAVAILABLE', ts, reason };
}

/** The order may or may not exist: the kernel makes the slot stale until a lookup or reconcile settles it. */
export function sendUnknown(ts: number, client_order_id: string, reason: string): KernelInput {
  return { type: 'SEND_UNKNOWN', ts, client_order_id, reason };
}

function event(ts: number, e: VenueEvent): KernelInput {
  return { type: 'EVENT', ts, event: e };
}

/** ACCEPTED, with the quantity the venue holds (ccxt truncates to the lot step before sending). */
export function accepted(ts: number, client_order_id: string, venue_order_id: string, qty: number): KernelInput {
  return event(ts, { event_id: eventId.accepted(client_order_id), kind: 'ACCEPTED', client_order_id, venue_order_id, qty, ts });
}

export function rejected(ts: number, client_order_id: string, reason: string): KernelInput {
  return event(ts, { event_id: eventId.rejected(client_order_id), kind: 'REJECTED', client_order_id, ts, reason });
}

export function cancelRejected(ts: number, client_order_id: string, reason: string): KernelInput {
  return event(ts, { event_id: eventId.cancelRejected(client_order_id, ts), kind: 'CANCEL_REJECTED', client_order_id, ts, reason });
}

/** CANCELED or EXPIRED: the order left the book without filling in full. */
export function orderEnded(kind: 'CANCELED' | 'EXPIRED', ts: number, client_order_id: string, venue_order_id?: string, reason?: string): KernelInput {
  const e: VenueEvent = { event_id: kind === 'CANCELED' ? eventId.canceled(client_order_id) : eventId.expired(client_order_id), kind, client_order_id, ts };
  if (venue_order_id !== undefined) e.venue_order_id = venue_order_id;
  if (reason !== undefined) e.reason = reason;
  return event(ts, e);
}

/** A venue fill of a PINK order: the event carries the venue's own fill time and id. */
export function fill(ts: number, f: VenueFill): KernelInput {
  return event(ts, { event_id: eventId.fill(f.fill_id), kind: 'FILL', client_order_id: f.client_order_id, venue_order_id: f.venue_order_id, qty: f.qty, price: f.price, fee: f.fee, fill_id: f.fill_id, ts: f.ts });
}
