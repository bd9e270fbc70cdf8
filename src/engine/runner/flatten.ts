// `pink flatten`: cancel PINK's working orders on a symbol, a reduce-only market order for the
// whole remainder, wait until the venue shows flat, the leg recorded as `manual_flatten`.
// The same code runs inside the engine (engine up, through the socket) and in a one-off engine
// built from the checkpoint (engine down).
import type { Intent, OperatorAudit, SlotView, VenuePosition } from '../kernel/types.js';
import { applyTrading } from './control.js';
import type { Engine } from './engine.js';
import { qtyText } from './health.js';
import { slotOf } from './kernel-glue.js';

export interface FlattenPlanStep {
  /** `reconcile`: a dry run found the venue disagreeing; the real run reconciles before any exit. */
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
 * Issue 19: what a flatten does to the trading state. `hold`: the symbol ('symbol') or the whole
 * engine ('engine', `--all`) goes REDUCING before anything is sent, so the strategy cannot enter
 * again; `resume`: once flat, it is ACTIVE again at once (`--resume`).
 */
export interface FlattenControl {
  hold: 'symbol' | 'engine';
  resume: boolean;
  operator: OperatorAudit;
}

/** Between two looks at the venue while waiting for flat (each look is itself a round trip). */
const FLAT_POLL_MS = 50;

/** The venue and PINK agree on a size when they differ by less than this share of a lot-sized qty. */
const SAME_QTY_TOLERANCE = 1e-9;

export async function flattenSymbol(engine: Engine, symbol: string, timeout_ms: number, dry_run: boolean, control?: FlattenControl): Promise<FlattenResult> {
  return (await flattenSymbols(engine, [symbol], timeout_ms, dry_run, control))[0]!;
}

/**
 * Flattens `symbols` together (issue 21), in about three venue round trips:
 *   1. PINK's working orders cancelled on every symbol, beside one read of the venue's positions;
 *   2. the reduce-only market exits, every symbol's beside the others';
 *   3. the confirmation: one fills read (PINK's books) beside one positions read (the venue's).
 * A symbol whose venue position is not PINK's slot takes the slow, careful path: a full reconcile
 * first (missed fills applied, orphans adopted), and nothing sent on a mismatch.
 */
export async function flattenSymbols(engine: Engine, symbols: string[], timeout_ms: number, dry_run: boolean, control?: FlattenControl): Promise<FlattenResult[]> {
  const results = await flattenNow(engine, symbols, timeout_ms, dry_run, control);
  if (control === undefined || dry_run) return results;
  const scope = control.hold === 'engine' ? undefined : symbols;
  if (control.resume) {
    if (scope === undefined) {
      if (results.every((r) => r.flat)) applyTrading(engine, { all: true, state: 'ACTIVE', reason: 'flatten --resume', operator: control.operator });
    } else {
      for (const r of results) if (r.flat) applyTrading(engine, { symbol: r.symbol, state: 'ACTIVE', reason: 'flatten --resume', operator: control.operator });
    }
  }
  const view = engine.kernel.view();
  for (const r of results) {
    r.trading_state = scope === undefined ? view.trading_state : slotOf(view, r.symbol)?.trading_state ?? 'ACTIVE';
    r.trading_scope = scope === undefined ? 'engine' : r.symbol;
  }
  return results;
}

const signedQty = (side: string | null | undefined, qty: number): number => (side === 'short' ? -qty : qty);

/** PINK's slot and the venue's position agree (the same signed size, one position at most). */
function agrees(slot: SlotView | undefined, venue: VenuePosition[]): boolean {
  if (venue.length > 1) return false;
  const pink = slot ? signedQty(slot.side, slot.qty) : 0;
  const v = venue[0] ? signedQty(venue[0].side, venue[0].qty) : 0;
  return Math.abs(pink - v) <= SAME_QTY_TOLERANCE * Math.max(1, Math.abs(pink), Math.abs(v));
}

function planOf(slot: SlotView | undefined): FlattenPlanStep[] {
  const plan: FlattenPlanStep[] = [];
  if (slot?.working_order) plan.push({ action: 'cancel', detail: `cancel ${slot.working_order.client_order_id}` });
  if (slot && slot.qty > 0) plan.push({ action: 'exit', detail: `reduce-only market ${slot.side === 'long' ? 'sell' : 'buy'} ${qtyText(slot.qty)} (the whole remainder)` });
  return plan;
}

const positionText = (venue: VenuePosition[]): string => (venue.length === 0 ? 'nothing' : venue.map((p) => `${p.side} ${qtyText(p.qty)}`).join(' and '));

function newResult(symbol: string, before: SlotView | undefined, dry_run: boolean): FlattenResult {
  const plan = planOf(before);
  const flat = plan.length === 0 || (before !== undefined && before.qty === 0 && !before.working_order);
  return { symbol, before, after: before, plan, orders: [], flat: flat || !before || before.qty === 0, already_flat: flat, realized: 0, dry_run };
}

const blockedText = (symbol: string, detail: string): string =>
  `${detail}: PINK's books do not match the venue, so PINK sends no exit (only PINK's own working order, if any, was cancelled). Close the venue's position with \`pink flatten ${symbol} --venue-position\` (it shows both sizes before sending), then \`pink ditav2-status\`.`;

async function flattenNow(engine: Engine, symbols: string[], timeout_ms: number, dry_run: boolean, control?: FlattenControl): Promise<FlattenResult[]> {
  if (dry_run) {
    // Issue 18: the plan the real run would execute now. PINK's books, and the one read the real
    // run makes before it decides (the venue's positions); nothing sent. Where the venue disagrees
    // the real run reconciles first and refuses the exit if the position is not PINK's.
    const view = engine.kernel.view();
    const venuePositions = await engine.opts.venue.positions().catch(() => null);
    return symbols.map((symbol) => {
      const slot = slotOf(view, symbol);
      const r = newResult(symbol, slot, true);
      const venue = venuePositions?.filter((p) => p.symbol === symbol) ?? [];
      if (venuePositions !== null && agrees(slot, venue)) return r;
      const why = venuePositions === null ? 'the venue\'s positions could not be read now' : `the venue holds ${positionText(venue)}, PINK's books ${slot && slot.qty > 0 ? `${slot.side} ${qtyText(slot.qty)}` : 'nothing'}`;
      const reconcile: FlattenPlanStep = { action: 'reconcile', detail: `reconcile ${symbol} first (${why}); a position that is not PINK's gets no exit (exit 2): \`pink flatten ${symbol} --venue-position\` closes it` };
      r.plan = [...r.plan.filter((p) => p.action === 'cancel'), reconcile, ...r.plan.filter((p) => p.action === 'exit').map((p) => ({ ...p, detail: `${p.detail}, if the reconcile finds it PINK's` }))];
      r.already_flat = false;
      return r;
    });
  }
  if (control !== undefined) {
    // Before anything is sent, and whatever follows (even a refusal): the strategy enters no more.
    if (control.hold === 'engine') applyTrading(engine, { state: 'REDUCING', reason: 'pink flatten --all', operator: control.operator });
    else for (const symbol of symbols) applyTrading(engine, { symbol, state: 'REDUCING', reason: `pink flatten ${symbol}`, operator: control.operator });
  }
  const seq = engine.currentSeq;
  const realizedBefore = new Map(symbols.map((s) => [s, slotOf(engine.kernel.view(), s)?.realized_pnl ?? 0]));
  const results = new Map<string, FlattenResult>();

  // Round 1: cancel PINK's own working orders (always safe: they are PINK's) beside one read of
  // the venue's positions (what decides whether PINK's books can be trusted to size the exits).
  const cancelled = new Map<string, string>();
  for (const symbol of symbols) {
    const working = slotOf(engine.kernel.view(), symbol)?.working_order;
    if (!working) continue;
    engine.feed([{ type: 'INTENT', ts: Date.now(), intent: { intent_id: `flatten-${symbol}-${seq}-cancel`, symbol, action: 'CANCEL', reason: 'manual_flatten' } }]);
    cancelled.set(symbol, working.client_order_id);
  }
  const [venuePositions] = await Promise.all([engine.opts.venue.positions().catch(() => null), engine.sendPendingBySymbol()]);

  // The slow path for every symbol the venue disagrees on (or when the read failed): a full
  // reconcile of those symbols, as before issue 21; a mismatch then sends nothing.
  const careful = symbols.filter((s) => venuePositions === null || !agrees(slotOf(engine.kernel.view(), s), venuePositions.filter((p) => p.symbol === s)));
  const mismatched = new Map<string, string>();
  if (careful.length > 0) {
    const first = await engine.reconcile(careful, true);
    for (const c of first.corrections) if (c.kind === 'position_mismatch' && careful.includes(c.symbol)) mismatched.set(c.symbol, c.detail);
  }

  // Round 2: the exits, every symbol's beside the others'.
  const view = engine.kernel.view();
  const exiting: string[] = [];
  for (const symbol of symbols) {
    const before = slotOf(view, symbol);
    const r = newResult(symbol, before, false);
    const cancel = cancelled.get(symbol);
    if (cancel !== undefined) {
      r.plan = [{ action: 'cancel', detail: `cancel ${cancel}` }, ...r.plan.filter((p) => p.action !== 'cancel')];
      r.orders.push({ client_order_id: cancel, action: 'cancel', status: 'sent' });
      r.already_flat = false;
    }
    results.set(symbol, r);
    const detail = mismatched.get(symbol);
    if (detail !== undefined) {
      r.blocked = blockedText(symbol, detail);
      r.flat = false;
      r.already_flat = false;
      r.plan = r.plan.filter((p) => p.action === 'cancel');
      continue;
    }
    if (!before || before.qty === 0) continue;
    const outcomes = engine.feed([{ type: 'INTENT', ts: Date.now(), intent: { intent_id: `flatten-${symbol}-${seq}-exit`, symbol, action: 'EXIT', final: true, order_type: 'market', reason: 'manual_flatten' } satisfies Intent }]);
    const refusedByState = outcomes.find((o) => o.diagnostic_code === 'TRADING_STATE_REFUSED');
    if (refusedByState) {
      r.blocked = `${String(refusedByState.details.reason)}. Let exits through with \`pink halt --all\` (REDUCING, without --hard), then flatten again.`;
      continue;
    }
    for (const o of outcomes) for (const c of o.commands) if (c.kind === 'PLACE') r.orders.push({ client_order_id: c.client_order_id, action: `${c.side} ${c.qty} reduce-only market`, status: 'sent' });
    exiting.push(symbol);
  }
  await engine.sendPendingBySymbol();

  // Round 3: confirm with the venue itself, not just PINK's books: one fills read (the exits'
  // fills in; the next step's poll settles anything else) beside one positions read; again, briefly, until both say flat or the deadline passes.
  const watched = symbols.filter((s) => !mismatched.has(s) && !results.get(s)!.blocked);
  const deadline = Date.now() + timeout_ms;
  // Nothing was sent (flat already, and the positions read or the reconcile said so): no round 3.
  const sentNothing = exiting.length === 0 && cancelled.size === 0;
  let venueFlat = sentNothing;
  let booksFlat = sentNothing;
  while (!sentNothing) {
    const [filled, positions] = await Promise.all([engine.opts.venue.fills(Date.now()), engine.opts.venue.positions().catch(() => null)]);
    engine.feed(filled);
    await engine.sendPendingBySymbol();
    const now = engine.kernel.view();
    booksFlat = watched.every((s) => (slotOf(now, s)?.qty ?? 0) === 0);
    venueFlat = positions !== null && watched.every((s) => !positions.some((p) => p.symbol === s && p.qty > 0));
    if ((booksFlat && venueFlat) || Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, FLAT_POLL_MS));
  }
  // Not confirmed in time: a full reconcile of the symbols says what the venue holds now.
  const converged = booksFlat && venueFlat ? true : watched.length === 0 ? true : (await engine.reconcile(watched, true)).converged;
  const after = engine.kernel.view();
  for (const symbol of symbols) {
    const r = results.get(symbol)!;
    const slot = slotOf(after, symbol);
    r.after = slot;
    if (r.blocked) continue;
    r.flat = converged && (!slot || slot.qty === 0);
    r.realized = (slot?.realized_pnl ?? 0) - (realizedBefore.get(symbol) ?? 0);
    for (const o of r.orders) o.status = r.flat ? 'done' : 'pending';
  }
  return symbols.map((s) => results.get(s)!);
}
