// Continuous venue checks while the engine runs (issue 18): when the venue last answered, how many
// steps failed in a row, and whether each slot still agrees with the venue's position. A slot that
// disagrees for DIVERGED_CHECKS_MAX checks in a row gets one targeted reconcile; if it still
// disagrees after that, it is a SLOT_DIVERGED fault and a divergence in ditav2-status (degraded)
// until the venue and the slot agree again.
import type { KernelInput, SlotView, VenuePosition } from '../kernel/types.js';
import { qtyText } from './health.js';

/** Checks of the venue's positions at most this often (one REST call each). */
export const POSITION_CHECK_MS = 1000;
/** A difference seen this many checks in a row is acted on (a fill in flight settles sooner). */
export const DIVERGED_CHECKS_MAX = 3;

export interface Divergence {
  symbol: string;
  /** Signed size PINK's slot holds (long > 0, short < 0). */
  pink_qty: number;
  /** Signed size the venue holds. */
  venue_qty: number;
  slot_state: string;
  since_ts: number;
  checks: number;
  /** A targeted reconcile ran and did not settle it. */
  reconciled: boolean;
  hint: string;
}

export interface VenueLiquidationPrice {
  symbol: string;
  side: string;
  liquidation_price: number;
  /** The venue's mark in the same read (null: it gave none). */
  mark_price: number | null;
  ts: number;
}

/**
 * How far the mark is from the liquidation price, in % of the mark, on the safe side (a long is
 * liquidated below, a short above): 0 or less means at or past it.
 */
export function liquidationDistancePct(side: string, mark: number, liquidation_price: number): number {
  const d = side === 'short' ? liquidation_price - mark : mark - liquidation_price;
  return Math.round((d / mark) * 100 * 100) / 100;
}

const signed = (side: string | null | undefined, qty: number): number => (side === 'short' ? -qty : qty);

export class VenueCheck {
  /** Last successful venue read (a poll that answered, a snapshot, a positions read). */
  contact_ts: number;
  /** Last venue balance read (a snapshot). */
  balance_ts: number | null = null;
  failed_steps_in_row = 0;
  private lastCheckTs = 0;
  private seen = new Map<string, Divergence>();
  /** Issue 20: each open position's liquidation price (and the venue's mark) as last read. */
  private liq = new Map<string, VenueLiquidationPrice>();

  constructor(now: number) {
    this.contact_ts = now;
  }

  /** One poll's inputs: VENUE_OK is a contact; a failed read counts as a failed step. */
  polled(inputs: KernelInput[], now: number): void {
    if (inputs.some((i) => i.type === 'VENUE_OK')) {
      this.contact_ts = now;
      this.failed_steps_in_row = 0;
    } else if (inputs.some((i) => i.type === 'VENUE_UNAVAILABLE' || i.type === 'RATE_LIMITED')) {
      this.failed_steps_in_row += 1;
    }
  }

  /** A step that threw (the loop counted it). */
  stepFailed(): void {
    this.failed_steps_in_row += 1;
  }

  snapshotRead(now: number): void {
    this.contact_ts = now;
    this.balance_ts = now;
  }

  due(now: number): boolean {
    return now - this.lastCheckTs >= POSITION_CHECK_MS;
  }

  /**
   * Compares the slots with the venue's positions. Returns the symbols due for a targeted
   * reconcile (diverged DIVERGED_CHECKS_MAX checks in a row, not reconciled yet) and those newly
   * past it (reconciled and still diverged: the fault to record).
   */
  compare(slots: SlotView[], positions: VenuePosition[], now: number): { reconcile: string[]; fault: Divergence[] } {
    this.lastCheckTs = now;
    this.contact_ts = now;
    // A divergence that cleared after its reconcile did not settle it: one more reconcile confirms
    // the agreement (and replaces the unconverged verdict status shows).
    const reconcile: string[] = [];
    const fault: Divergence[] = [];
    this.liq.clear();
    for (const p of positions) {
      if (p.qty > 0 && p.liquidation_price !== undefined && p.liquidation_price > 0) {
        this.liq.set(p.symbol, { symbol: p.symbol, side: p.side, liquidation_price: p.liquidation_price, mark_price: p.mark_price ?? null, ts: now });
      }
    }
    for (const s of slots) {
      const pink = signed(s.side, s.qty);
      const venue = positions.filter((p) => p.symbol === s.symbol).reduce((a, p) => a + signed(p.side, p.qty), 0);
      const tol = Math.max(1e-12, 1e-9 * Math.max(Math.abs(pink), Math.abs(venue)));
      const prev = this.seen.get(s.symbol);
      if (Math.abs(pink - venue) <= tol) {
        if (prev?.reconciled) reconcile.push(s.symbol);
        this.seen.delete(s.symbol);
        continue;
      }
      const d: Divergence = prev
        ? { ...prev, pink_qty: pink, venue_qty: venue, slot_state: s.state, checks: prev.checks + 1 }
        : { symbol: s.symbol, pink_qty: pink, venue_qty: venue, slot_state: s.state, since_ts: now, checks: 1, reconciled: false, hint: 'pink restart' };
      this.seen.set(s.symbol, d);
      if (d.checks === DIVERGED_CHECKS_MAX && !d.reconciled) reconcile.push(s.symbol);
      else if (d.reconciled && d.checks === DIVERGED_CHECKS_MAX + 1) fault.push(d);
    }
    return { reconcile, fault };
  }

  /** A targeted reconcile of these symbols went through (the next check decides). */
  reconciled(symbols: string[]): void {
    for (const s of symbols) {
      const d = this.seen.get(s);
      if (d) this.seen.set(s, { ...d, reconciled: true, checks: DIVERGED_CHECKS_MAX });
    }
  }

  /** The venue's liquidation price of each open position, from the last positions read. */
  liquidationPrices(): VenueLiquidationPrice[] {
    return [...this.liq.values()];
  }

  /** Divergences past the targeted reconcile: what ditav2-status lists. */
  divergences(): Divergence[] {
    return [...this.seen.values()].filter((d) => d.reconciled && d.checks > DIVERGED_CHECKS_MAX);
  }
}

/** What the step's divergence check needs from the engine (kept narrow: engine.ts is a shared file). */
export interface DivergenceHost {
  readonly venueCheck: VenueCheck;
  kernel: { view(): { slots: SlotView[] } };
  opts: { venue: { positions(): Promise<VenuePosition[]> }; logger: { fault(code: string, severity: string, symbol: string | undefined, reason: string): void } };
  faults: { record(code: string, severity: string, ts: number, symbol: string | undefined, details: unknown): void };
  reconcile(symbols?: string[]): Promise<unknown>;
}

/**
 * The step's check (its positions read beside the poll): at most every POSITION_CHECK_MS, the venue's positions
 * against the slots; a targeted reconcile for a lasting difference; SLOT_DIVERGED when that did
 * not settle it. A failed positions read is skipped (the poll's own failure is what counts).
 */
export async function checkDivergence(host: DivergenceHost, now: number, read?: Promise<VenuePosition[]>): Promise<void> {
  if (read === undefined && !host.venueCheck.due(now)) return;
  let positions: VenuePosition[];
  try {
    // `read`: the step started the positions read beside its poll (engine.ts).
    positions = await (read ?? host.opts.venue.positions());
  } catch (err) {
    const { VenueReadError } = await import('../venue/errors.js');
    if (err instanceof VenueReadError) return;
    throw err;
  }
  const { reconcile, fault } = host.venueCheck.compare(host.kernel.view().slots, positions, Date.now());
  if (reconcile.length > 0) {
    await host.reconcile(reconcile);
    host.venueCheck.reconciled(reconcile); // only those still diverged are marked
  }
  for (const d of fault) {
    const reason = `${d.symbol}: PINK holds ${qtyText(d.pink_qty)}, the venue ${qtyText(d.venue_qty)} (slot ${d.slot_state}), for ${d.checks} checks since ${new Date(d.since_ts).toISOString()}; a targeted reconcile did not settle it`;
    host.faults.record('SLOT_DIVERGED', 'ERROR', now, d.symbol, { reason, pink_qty: d.pink_qty, venue_qty: d.venue_qty });
    host.opts.logger.fault('SLOT_DIVERGED', 'ERROR', d.symbol, `${reason}; next: pink restart, then pink fault POSITION_MISMATCH if it stays`);
  }
}
