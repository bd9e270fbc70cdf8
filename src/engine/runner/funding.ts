// Issue 20, the engine's side of funding: when to read the venue's funding income, from where,
// and the FUNDING inputs it becomes (docs/funding.md).
//
// Pacing: not every step. A read is due at start (before the startup reconcile, so its drift
// already counts the funding paid), at every full reconcile, FUNDING_READ_GRACE_MS after each
// funding time the venue announces (premiumIndex nextFundingTime), and at least every
// FUNDING_READ_EVERY_MS (a ledger row the venue listed late). Each read: one public call (the next
// funding time), one private call per 1000 ledger rows, and two public calls per symbol paid.
//
// Once per funding id, across restarts: the kernel remembers applied ids in its checkpointed state
// (FUNDING_IDS_MAX, oldest forgotten first) and refuses one seen again (DUPLICATE_EVENT, no row).
// The read starts at the cursor, the latest funding time applied (kept in the runner's state,
// which rides in the checkpoint, and advanced by the journal's FUNDING inputs on replay), so the
// ids read again are only those of the cursor's own funding time: never an id old enough to have
// been forgotten. A fresh history starts at its first start: earlier funding is not PINK's.
import type { KernelInput, Symbol } from '../kernel/types.js';
import { VenueReadError } from '../venue/errors.js';
import type { FundingPayment, Venue } from '../venue/types.js';

/** After a funding time, the ledger is read this much later (the venue books it within seconds). */
export const FUNDING_READ_GRACE_MS = 2_000;
/** A read at least this often, funding time or not (a row the venue listed late; 12 private calls an hour). */
export const FUNDING_READ_EVERY_MS = 5 * 60_000;
/** After a failed read, the next is tried no sooner than this (not at every step while the venue is down). */
export const FUNDING_RETRY_MS = 10_000;

/** The runner's funding cursor, checkpointed with the runner's state. */
export interface FundingCursor {
  /** The latest funding time applied (venue clock, ms); reads start here. */
  since_ms: number;
  /** The ids applied at exactly since_ms (read again by every read): not fed again. */
  ids?: string[];
}

/** Ids kept at one funding time: one per symbol paid then (SYMBOLS_MAX bounds it; a margin over it). */
const CURSOR_IDS_MAX = 1024;

export interface FundingRead {
  inputs: Extract<KernelInput, { type: 'FUNDING' }>[];
  /** Payments on symbols PINK does not trade (another system's positions): not PINK's capital. */
  foreign: number;
}

/** A payment as the kernel's FUNDING input; what the venue did not say is left out. */
export function fundingInput(p: FundingPayment, ts: number): Extract<KernelInput, { type: 'FUNDING' }> {
  return {
    type: 'FUNDING',
    ts,
    symbol: p.symbol,
    amount_usdt: p.amount_usdt,
    funding_id: p.funding_id,
    funding_ts: p.ts,
    ...(p.rate !== null ? { rate: p.rate } : {}),
    ...(p.position_qty !== null ? { position_qty: p.position_qty } : {}),
    ...(p.mark_price !== null ? { mark_price: p.mark_price } : {}),
  };
}

export class FundingReader {
  private readonly venue: Venue;
  private readonly symbols: readonly Symbol[];
  private readonly cursor: FundingCursor;
  /** Local time of the next read; 0: at once. */
  next_read_ms = 0;
  /** The venue's next funding time as last read (venue clock), for status and logs. */
  next_funding_ts: number | null = null;
  reads = 0;
  last_error: string | null = null;
  /** Payments on symbols PINK does not trade, already reported (each is logged once per process). */
  private readonly foreignSeen = new Set<string>();

  constructor(venue: Venue, symbols: readonly Symbol[], cursor: FundingCursor) {
    this.venue = venue;
    this.symbols = symbols;
    this.cursor = cursor;
  }

  get since_ms(): number {
    return this.cursor.since_ms;
  }

  /** For ditav2-status (engine.funding). */
  status(): { since_ts: number; next_funding_ts: number | null; next_read_ts: number; reads: number; last_error: string | null } {
    return { since_ts: this.cursor.since_ms, next_funding_ts: this.next_funding_ts, next_read_ts: this.next_read_ms, reads: this.reads, last_error: this.last_error };
  }

  due(now_ms: number): boolean {
    return now_ms >= this.next_read_ms;
  }

  /** A FUNDING input was applied (live or replayed): the cursor moves to its funding time. */
  applied(input: KernelInput): void {
    if (input.type !== 'FUNDING' || input.funding_ts === undefined || input.funding_ts < this.cursor.since_ms) return;
    if (input.funding_ts > this.cursor.since_ms) {
      this.cursor.since_ms = input.funding_ts;
      this.cursor.ids = [];
    }
    const ids = (this.cursor.ids ??= []);
    if (!ids.includes(input.funding_id)) ids.push(input.funding_id);
    if (ids.length > CURSOR_IDS_MAX) ids.shift();
  }

  /**
   * Reads the payments since the cursor (the next funding time first, so one that passes during
   * the read is read again soon), as FUNDING inputs stamped `ts`, and schedules the next read.
   * Throws VenueReadError (the next read is then FUNDING_RETRY_MS away).
   */
  async read(ts: number): Promise<FundingRead> {
    try {
      // Side by side (issue 21: fewer round trips in a row); a funding time that passes meanwhile
      // is read again FUNDING_READ_GRACE_MS after it.
      const [next, payments] = await Promise.all([this.venue.nextFundingTs([...this.symbols]), this.venue.fundingPayments(this.cursor.since_ms)]);
      this.next_funding_ts = next;
      const now = Date.now();
      const every = now + FUNDING_READ_EVERY_MS;
      // The venue's clock runs clockSkewMs ahead of this machine's.
      const local = next === null ? every : next - this.venue.clockSkewMs + FUNDING_READ_GRACE_MS;
      this.next_read_ms = Math.min(every, Math.max(local, now + FUNDING_READ_GRACE_MS));
      this.reads += 1;
      this.last_error = null;
      // The cursor's own funding time comes again at every read: what was applied then is left out
      // here (the kernel would refuse it too, DUPLICATE_EVENT, but each would be journaled).
      const known = new Set(this.cursor.ids ?? []);
      const fresh = payments.filter((p) => !(p.ts === this.cursor.since_ms && known.has(p.funding_id)));
      const mine = fresh.filter((p) => this.symbols.includes(p.symbol));
      let foreign = 0;
      for (const p of fresh) {
        if (this.symbols.includes(p.symbol) || this.foreignSeen.has(p.funding_id)) continue;
        if (this.foreignSeen.size >= CURSOR_IDS_MAX) this.foreignSeen.clear();
        this.foreignSeen.add(p.funding_id);
        foreign += 1;
      }
      return { inputs: mine.map((p) => fundingInput(p, ts)), foreign };
    } catch (err) {
      this.next_read_ms = Date.now() + FUNDING_RETRY_MS;
      this.last_error = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }
}

/** What readFunding needs of the engine. */
export interface FundingHost {
  readonly funding: FundingReader;
  feed(inputs: KernelInput[]): unknown;
  readonly opts: { logger: { info(line: string): void } };
}

/**
 * One funding read fed to the kernel (journaled, once per id). A venue that refuses or does not
 * answer is not fatal: a rate limit is fed to the kernel (its cooldown), anything else is logged,
 * and the read is tried again FUNDING_RETRY_MS later. Returns the payments fed.
 */
export async function readFunding(e: FundingHost, ts: number): Promise<number> {
  const inputs = await fundingInputs(e, ts);
  e.feed(inputs);
  return inputs.filter((i) => i.type === 'FUNDING').length;
}

/** The read of readFunding without the feed (a full reconcile runs it beside its snapshot, then feeds it first). */
export async function fundingInputs(e: Omit<FundingHost, 'feed'>, ts: number): Promise<KernelInput[]> {
  let read: FundingRead;
  try {
    read = await e.funding.read(ts);
  } catch (err) {
    if (!(err instanceof VenueReadError)) throw err;
    e.opts.logger.info(`funding: the venue's funding income could not be read (${err.message}); tried again in ${FUNDING_RETRY_MS / 1000} s`);
    return err.input.type === 'RATE_LIMITED' ? [err.input] : [];
  }
  if (read.foreign > 0) e.opts.logger.info(`funding: ${read.foreign} payment(s) on symbols PINK does not trade left out (not PINK's capital)`);
  return read.inputs;
}
