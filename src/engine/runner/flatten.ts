// `pink flatten`: cancel PINK's working orders on a symbol, a reduce-only market order for the
// whole remainder, wait until the venue shows flat, the leg recorded as `manual_flatten` (the
// kernel's FLATTEN_REASON). The same code runs inside the engine (engine up, through the socket)
// and in a one-off engine built from the checkpoint (engine down). What it does is the plan of
// flatten-steps.ts, which --dry-run prints: this module executes it and reports what happened.
import { FLATTEN_REASON } from '../kernel/index.js';
import type { Intent, OperatorAudit } from '../kernel/types.js';
import { applyTrading } from './control.js';
import type { Engine } from './engine.js';
import { cancelsOf, planFlatten, planResult, settlePlan, type FlattenResult } from './flatten-steps.js';
import { slotOf } from './kernel-glue.js';

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

const blockedText = (symbol: string, detail: string): string =>
  `${detail}: PINK's books do not match the venue, so PINK sends no exit (only PINK's own working order, if any, was cancelled). Close the venue's position with \`pink flatten ${symbol} --venue-position\` (it shows both sizes before sending), then \`pink ditav2-status\`.`;

async function flattenNow(engine: Engine, symbols: string[], timeout_ms: number, dry_run: boolean, control?: FlattenControl): Promise<FlattenResult[]> {
  if (dry_run) {
    // Issue 18: the plan the real run would execute now. PINK's books, and the one read the real
    // run makes before it decides (the venue's positions); nothing sent.
    const venuePositions = await engine.opts.venue.positions().catch(() => null);
    return planFlatten(engine.kernel.view(), symbols, venuePositions).map((p) => planResult(p, true));
  }
  // Before anything is sent, and whatever follows (even a refusal): the strategy enters no more.
  if (control !== undefined) holdTrading(engine, symbols, control);
  const seq = engine.currentSeq;
  const realizedBefore = new Map(symbols.map((s) => [s, slotOf(engine.kernel.view(), s)?.realized_pnl ?? 0]));
  const { cancels, plans } = await cancelAndPlan(engine, symbols, seq);
  const mismatched = await reconcileDisagreeing(engine, plans);
  const { results, exiting } = await sendExits(engine, plans, mismatched, seq);
  const watched = symbols.filter((s) => !mismatched.has(s) && !results.get(s)!.blocked);
  // Nothing was sent (flat already, and the positions read or the reconcile said so): no round 3.
  const sentNothing = exiting.length === 0 && cancels.size === 0;
  const converged = sentNothing ? true : await confirmFlat(engine, watched, timeout_ms);
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

/** Issue 19: the symbols (or the whole engine) REDUCING before the flatten sends anything. */
function holdTrading(engine: Engine, symbols: string[], control: FlattenControl): void {
  if (control.hold === 'engine') applyTrading(engine, { state: 'REDUCING', reason: 'pink flatten --all', operator: control.operator });
  else for (const symbol of symbols) applyTrading(engine, { symbol, state: 'REDUCING', reason: `pink flatten ${symbol}`, operator: control.operator });
}

/**
 * Round 1: the plan's cancels (PINK's own working orders: always safe, and decided by its books
 * alone) beside one read of the venue's positions, which completes the plan: it decides whether
 * PINK's books can be trusted to size the exits.
 */
async function cancelAndPlan(engine: Engine, symbols: string[], seq: number): Promise<{ cancels: ReturnType<typeof cancelsOf>; plans: ReturnType<typeof planFlatten> }> {
  const cancels = cancelsOf(engine.kernel.view(), symbols);
  for (const [symbol] of cancels) {
    engine.feed([{ type: 'INTENT', ts: Date.now(), intent: { intent_id: `flatten-${symbol}-${seq}-cancel`, symbol, action: 'CANCEL', reason: FLATTEN_REASON } }]);
  }
  const [venuePositions] = await Promise.all([engine.opts.venue.positions().catch(() => null), engine.sendPendingBySymbol()]);
  return { cancels, plans: planFlatten(engine.kernel.view(), symbols, venuePositions, cancels) };
}

/**
 * The plan's reconcile step, for every symbol the venue disagrees on (or when the read failed): a
 * full reconcile of those symbols, as before issue 21. The symbols still mismatched, with why:
 * they get no exit.
 */
async function reconcileDisagreeing(engine: Engine, plans: ReturnType<typeof planFlatten>): Promise<Map<string, string>> {
  const careful = plans.filter((p) => p.reconcile !== null).map((p) => p.symbol);
  const mismatched = new Map<string, string>();
  if (careful.length === 0) return mismatched;
  const first = await engine.reconcile(careful, true);
  for (const c of first.corrections) if (c.kind === 'position_mismatch' && careful.includes(c.symbol)) mismatched.set(c.symbol, c.detail);
  return mismatched;
}

/** Round 2: the plan's exits, every symbol's beside the others', sized by the books as they stand after the reconcile. */
async function sendExits(engine: Engine, plans: ReturnType<typeof planFlatten>, mismatched: Map<string, string>, seq: number): Promise<{ results: Map<string, FlattenResult>; exiting: string[] }> {
  const view = engine.kernel.view();
  const results = new Map<string, FlattenResult>();
  const exiting: string[] = [];
  for (const plan of plans) {
    const symbol = plan.symbol;
    const detail = mismatched.get(symbol);
    const settled = settlePlan(plan, slotOf(view, symbol), detail !== undefined);
    const r = planResult(settled, false);
    if (plan.cancel !== null) r.orders.push({ client_order_id: plan.cancel, action: 'cancel', status: 'sent' });
    results.set(symbol, r);
    if (detail !== undefined) {
      r.blocked = blockedText(symbol, detail);
      continue;
    }
    if (settled.exit === null) continue;
    const outcomes = engine.feed([{ type: 'INTENT', ts: Date.now(), intent: { intent_id: `flatten-${symbol}-${seq}-exit`, symbol, action: 'EXIT', final: true, order_type: 'market', reason: FLATTEN_REASON } satisfies Intent }]);
    const refusedByState = outcomes.find((o) => o.diagnostic_code === 'TRADING_STATE_REFUSED');
    if (refusedByState) {
      r.blocked = `${String(refusedByState.details.reason)}. Let exits through with \`pink halt --all\` (REDUCING, without --hard), then flatten again.`;
      continue;
    }
    for (const o of outcomes) for (const c of o.commands) if (c.kind === 'PLACE') r.orders.push({ client_order_id: c.client_order_id, action: `${c.side} ${c.qty} reduce-only market`, status: 'sent' });
    exiting.push(symbol);
  }
  await engine.sendPendingBySymbol();
  return { results, exiting };
}

/**
 * Round 3: confirm with the venue itself, not just PINK's books: one fills read (the exits' fills
 * in; the next step's poll settles anything else) beside one positions read; again, briefly,
 * until both say flat or the deadline passes. Not confirmed in time: a full reconcile of the
 * symbols says what the venue holds now.
 */
async function confirmFlat(engine: Engine, watched: string[], timeout_ms: number): Promise<boolean> {
  const deadline = Date.now() + timeout_ms;
  for (;;) {
    const [filled, positions] = await Promise.all([engine.opts.venue.fills(Date.now()), engine.opts.venue.positions().catch(() => null)]);
    engine.feed(filled);
    await engine.sendPendingBySymbol();
    const now = engine.kernel.view();
    const booksFlat = watched.every((s) => (slotOf(now, s)?.qty ?? 0) === 0);
    const venueFlat = positions !== null && watched.every((s) => !positions.some((p) => p.symbol === s && p.qty > 0));
    if (booksFlat && venueFlat) return true;
    if (Date.now() >= deadline) return watched.length === 0 || (await engine.reconcile(watched, true)).converged;
    await new Promise((r) => setTimeout(r, FLAT_POLL_MS));
  }
}
