// The plan of `pink flatten SYMBOL | --all` (PINK's own position; `--venue-position` has its
// own, flatten-plan.ts). One pure function of PINK's books (the kernel's view) and what is known
// of the venue's positions, in one place: `--dry-run` prints it (engine up or down), and the real
// run executes it step by step (runner/flatten.ts), so the two cannot drift apart.
//
// The steps, in the order the real run executes them:
//   cancel     PINK's working order: its own, always safe, so it needs no venue read;
//   reconcile  only where the venue's position is not PINK's books (or could not be read): the
//              real run reconciles first, and a position that is not PINK's gets no exit (exit 2);
//   exit       one reduce-only market order for the whole remainder PINK's books hold.
import type { KernelView, SlotView, VenuePosition } from '../kernel/types.js';
import { qtyText } from './health.js';
import { slotOf } from './kernel-glue.js';

export interface FlattenPlanStep {
  /** `reconcile`: the venue disagrees with PINK's books; the real run reconciles before any exit. */
  action: 'cancel' | 'reconcile' | 'exit';
  detail: string;
}

export interface FlattenResult {
  symbol: string;
  before: unknown;
  after: unknown;
  plan: FlattenPlanStep[];
  orders: { client_order_id: string; action: string; status: string }[];
  flat: boolean;
  already_flat: boolean;
  realized: number;
  dry_run: boolean;
  /** Why nothing was sent although PINK is not flat (an operator must act). */
  blocked?: string;
  /** Issue 19: the trading state the flatten left (REDUCING unless --resume), and of what. */
  trading_state?: string;
  trading_scope?: string;
}

/**
 * What the plan knows of the venue's positions: the positions read just now; `null`, the read
 * failed (the venue is then not known to agree: reconcile first); `'not_read'`, no connection at
 * all (engine down, `--dry-run`): PINK's books alone, as of the last checkpoint and the journal.
 */
export type VenuePositionsRead = VenuePosition[] | null | 'not_read';

/** One symbol's plan: the decisions, and the steps that say them in the operator's words. */
export interface FlattenPlan {
  symbol: string;
  /** PINK's slot the plan was made from (undefined: PINK has no slot, hence nothing, there). */
  slot: SlotView | undefined;
  /** The client order id of PINK's working order to cancel, or null. */
  cancel: string | null;
  /** Why the venue's position must be reconciled before any exit, or null when it agrees. */
  reconcile: string | null;
  /** The reduce-only market exit of the whole remainder, or null when PINK's books hold nothing. */
  exit: { side: 'buy' | 'sell'; qty: number } | null;
  steps: FlattenPlanStep[];
  /** Nothing to cancel, reconcile or exit. */
  already_flat: boolean;
  /**
   * No position now: PINK's books hold none and the venue, when read, agrees. A working order
   * alone is flat (the cancel is all there is to do), with the engine up or down alike.
   */
  flat: boolean;
}

/** The venue and PINK agree on a size when they differ by less than this share of a lot-sized qty. */
const SAME_QTY_TOLERANCE = 1e-9;

const signedQty = (side: string | null | undefined, qty: number): number => (side === 'short' ? -qty : qty);

/** PINK's slot and the venue's position agree (the same signed size, one position at most). */
export function agrees(slot: SlotView | undefined, venue: VenuePosition[]): boolean {
  if (venue.length > 1) return false;
  const pink = slot ? signedQty(slot.side, slot.qty) : 0;
  const v = venue[0] ? signedQty(venue[0].side, venue[0].qty) : 0;
  return Math.abs(pink - v) <= SAME_QTY_TOLERANCE * Math.max(1, Math.abs(pink), Math.abs(v));
}

const positionText = (venue: VenuePosition[]): string => (venue.length === 0 ? 'nothing' : venue.map((p) => `${p.side} ${qtyText(p.qty)}`).join(' and '));

/**
 * The plan's first step, which needs PINK's books alone: the working order of each symbol that
 * has one (symbol → client order id, in the order of `symbols`). The real run sends these beside
 * its one read of the venue's positions, then completes the plan with `planFlatten`.
 */
export function cancelsOf(view: KernelView | undefined, symbols: readonly string[]): Map<string, string> {
  const cancels = new Map<string, string>();
  for (const symbol of symbols) {
    const working = view === undefined ? undefined : slotOf(view, symbol)?.working_order;
    if (working) cancels.set(symbol, working.client_order_id);
  }
  return cancels;
}

/** Why the venue's position must be reconciled first, or null when it agrees (or was not read). */
function reconcileWhy(symbol: string, slot: SlotView | undefined, venue: VenuePositionsRead): string | null {
  if (venue === 'not_read') return null;
  const held = venue?.filter((p) => p.symbol === symbol) ?? [];
  if (venue !== null && agrees(slot, held)) return null;
  const why = venue === null ? 'the venue\'s positions could not be read now' : `the venue holds ${positionText(held)}, PINK's books ${slot && slot.qty > 0 ? `${slot.side} ${qtyText(slot.qty)}` : 'nothing'}`;
  return `reconcile ${symbol} first (${why}); a position that is not PINK's gets no exit (exit 2): \`pink flatten ${symbol} --venue-position\` closes it`;
}

function exitText(exit: { side: string; qty: number }, reconcile: boolean, venue_read: boolean): string {
  const base = `reduce-only market ${exit.side} ${qtyText(exit.qty)}`;
  if (!venue_read) return `${base} (the whole remainder, as of the last checkpoint and the journal after it; the real run reconciles with the venue first)`;
  return reconcile ? `${base} (the whole remainder), if the reconcile finds it PINK's` : `${base} (the whole remainder)`;
}

function symbolPlan(symbol: string, slot: SlotView | undefined, cancel: string | null, reconcile: string | null, venue_read: boolean): FlattenPlan {
  const exit = slot && slot.qty > 0 ? { side: slot.side === 'long' ? ('sell' as const) : ('buy' as const), qty: slot.qty } : null;
  const steps: FlattenPlanStep[] = [];
  if (cancel !== null) steps.push({ action: 'cancel', detail: `cancel ${cancel}` });
  if (reconcile !== null) steps.push({ action: 'reconcile', detail: reconcile });
  if (exit !== null) steps.push({ action: 'exit', detail: exitText(exit, reconcile !== null, venue_read) });
  const already_flat = steps.length === 0;
  return { symbol, slot, cancel, reconcile, exit, steps, already_flat, flat: exit === null && reconcile === null };
}

/**
 * The plan for `symbols`: a pure function of PINK's books (`view`; undefined when there are none
 * yet) and the venue's positions. `cancels`: the working orders to cancel, by default those of
 * `view`; the real run passes the ones it has already sent (its view after them may no longer
 * show the orders).
 */
export function planFlatten(view: KernelView | undefined, symbols: readonly string[], venue: VenuePositionsRead, cancels: ReadonlyMap<string, string> = cancelsOf(view, symbols)): FlattenPlan[] {
  return symbols.map((symbol) => {
    const slot = view === undefined ? undefined : slotOf(view, symbol);
    return symbolPlan(symbol, slot, cancels.get(symbol) ?? null, reconcileWhy(symbol, slot, venue), venue !== 'not_read');
  });
}

/**
 * The plan as the real run executes it once its reconcile step (if any) has run; `slot`: PINK's
 * slot now. A reconcile that found the venue's position not PINK's (`mismatch`) leaves only the
 * cancel: no exit is sent. Otherwise the books agree with the venue now, and the exit is of the
 * remainder they hold (a reconcile may have applied a missed fill).
 */
export function settlePlan(plan: FlattenPlan, slot: SlotView | undefined, mismatch: boolean): FlattenPlan {
  if (!mismatch) return symbolPlan(plan.symbol, slot, plan.cancel, null, true);
  const steps = plan.steps.filter((s) => s.action === 'cancel');
  return { ...plan, slot, reconcile: null, exit: null, steps, already_flat: false, flat: false };
}

/** A plan as the result `pink flatten` reports (before anything is sent: no orders, nothing realized). */
export function planResult(plan: FlattenPlan, dry_run: boolean): FlattenResult {
  return { symbol: plan.symbol, before: plan.slot, after: plan.slot, plan: plan.steps, orders: [], flat: plan.flat, already_flat: plan.already_flat, realized: 0, dry_run };
}
