// The resend policy: what a failed order command means for the order it was to make or cancel.
// One table over (command, how far the command got, the venue's error class) → action, as the
// kernel writes its slot transitions (kernel/transitions.ts); sends.ts finds the row and carries
// the action out. A new error class or a new reach is a compile error until every row has it.
//
// Why the reach matters: a command that never left this machine cannot have made an order; one
// whose request went out may have, unless the venue's answer says it did not; and a place whose
// read on the way failed (the look before a resend, the clock sync after a timestamp refusal)
// leaves an earlier send of the same client id as unknown as it was.
import type { VenueCommand } from '../kernel/types.js';
import { classify, VenueReadError, type ErrorClass } from './errors.js';
import { ThrottledError } from './throttle.js';

export type CommandKind = VenueCommand['kind'];
export type ErrorKind = ErrorClass['kind'];

/** Every error class, listed once (a Record, so a class added to ErrorClass must be added here). */
const ERROR_KIND_SET: Record<ErrorKind, true> = {
  rate_limited: true,
  auth: true,
  not_found: true,
  clock: true,
  duplicate_client_id: true,
  already_closed: true,
  reduce_only: true,
  rejected: true,
  unknown: true,
};
export const ERROR_KINDS = Object.keys(ERROR_KIND_SET) as ErrorKind[];

/**
 * How far a command got before it failed.
 * - unsent: pink's own throttle refused it, or an earlier command of the batch was rate limited:
 *   no request left this machine.
 * - read_failed (PLACE only): a read on its way failed; whether an earlier send of this client
 *   id made an order is still unknown. A cancel makes no read of its own before it sends: a
 *   failed clock sync on its way is classified by its text like the request's own error.
 * - sent: the request went out; the error class says what the venue answered (`unknown`: no answer).
 */
export type Reach = 'unsent' | 'read_failed' | 'sent';
export type CancelReach = Exclude<Reach, 'read_failed'>;

export type ResendAction =
  /** RATE_LIMITED: not executed; the kernel cools down and decides again. */
  | 'retry_later'
  /** REJECTED (place) / CANCEL_REJECTED (cancel), then VENUE_UNAVAILABLE: the key was refused. */
  | 'refuse_key'
  /** REJECTED / CANCEL_REJECTED with the venue's reason: a definite no, nothing executed. */
  | 'refuse'
  /** REJECTED saying the timestamp was refused even after the clock sync (paced() synced and sent once more). */
  | 'refuse_clock'
  /** The venue already has this client id (our earlier send): look it up; ACCEPTED if found, else as unknown_look_first. */
  | 'adopt_existing'
  /** 80018, the cancel came too late: look the order up; CANCELED if it was, else CANCEL_REJECTED saying how it ended. */
  | 'check_closed'
  /** SEND_UNKNOWN; nothing remembered (a cancel is not resent blindly; a failed look leaves the id remembered as it was). */
  | 'unknown'
  /** SEND_UNKNOWN, and the client id remembered: a resend of it looks before it sends. */
  | 'unknown_look_first';

type Row = Readonly<Record<ErrorKind, ResendAction>>;

/** A command that never left: whatever stopped it, the only fact is "not executed, try later". */
const NOT_SENT: Row = {
  rate_limited: 'retry_later',
  auth: 'retry_later',
  not_found: 'retry_later',
  clock: 'retry_later',
  duplicate_client_id: 'retry_later',
  already_closed: 'retry_later',
  reduce_only: 'retry_later',
  rejected: 'retry_later',
  unknown: 'retry_later',
};

export const PLACE_TABLE: { readonly [R in Reach]: Row } = {
  unsent: NOT_SENT,
  // Only a rate limit of the read is "try later"; any other failed read leaves the order unknown.
  read_failed: {
    rate_limited: 'retry_later',
    auth: 'unknown',
    not_found: 'unknown',
    clock: 'unknown',
    duplicate_client_id: 'unknown',
    already_closed: 'unknown',
    reduce_only: 'unknown',
    rejected: 'unknown',
    unknown: 'unknown',
  },
  sent: {
    rate_limited: 'retry_later',
    auth: 'refuse_key',
    not_found: 'refuse',
    clock: 'refuse_clock',
    // Never a reject: the order with this id exists, and may fill.
    duplicate_client_id: 'adopt_existing',
    already_closed: 'refuse',
    reduce_only: 'refuse',
    rejected: 'refuse',
    unknown: 'unknown_look_first',
  },
};

export const CANCEL_TABLE: { readonly [R in CancelReach]: Row } = {
  unsent: NOT_SENT,
  sent: {
    rate_limited: 'retry_later',
    auth: 'refuse_key',
    not_found: 'refuse',
    clock: 'refuse',
    duplicate_client_id: 'refuse',
    already_closed: 'check_closed',
    reduce_only: 'refuse',
    rejected: 'refuse',
    // The order may be cancelled or still working: the kernel's stale slot and reconcile say which.
    unknown: 'unknown',
  },
};

/** What a failed command's error says, in the table's terms. */
export interface SendFailure {
  reach: Reach;
  cls: ErrorClass;
  /** Redacted. */
  reason: string;
  /** read_failed: the time the failed read reported (its RATE_LIMITED keeps it), else absent. */
  read_ts?: number;
}

/** The failure of a `kind` command from what its send threw; `redact` clears secrets from venue text. */
export function failureOf(kind: CommandKind, err: unknown, now_ms: number, redact: (text: string) => string): SendFailure {
  if (err instanceof ThrottledError) return { reach: 'unsent', cls: { kind: 'rate_limited', retry_after_ms: err.retry_after_ms }, reason: redact(err.message) };
  if (kind === 'PLACE' && err instanceof VenueReadError) {
    const i = err.input;
    // The read already redacted its reason and classified its error into this input.
    const cls: ErrorClass =
      i.type === 'RATE_LIMITED' ? (i.retry_after_ms === undefined ? { kind: 'rate_limited' } : { kind: 'rate_limited', retry_after_ms: i.retry_after_ms }) : { kind: err.auth ? 'auth' : 'unknown' };
    return { reach: 'read_failed', cls, reason: i.reason, read_ts: i.ts };
  }
  const c = classify(err, now_ms);
  return { reach: 'sent', cls: c.cls, reason: redact(c.message) };
}

/** The table's row for this failure. */
export function resendAction(kind: CommandKind, f: Pick<SendFailure, 'reach' | 'cls'>): ResendAction {
  if (kind === 'PLACE') return PLACE_TABLE[f.reach][f.cls.kind];
  if (f.reach === 'read_failed') throw new Error('resend: a cancel has no read_failed reach (failureOf never makes one)');
  return CANCEL_TABLE[f.reach][f.cls.kind];
}
