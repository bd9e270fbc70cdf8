// `pink flatten SYMBOL --venue-position` (issue 18): close the venue's whole position on a symbol,
// not PINK's, with one reduce-only market order: the way out of a POSITION_MISMATCH or an orphan.
// One plan, computed once from the venue's positions and PINK's slot: --dry-run prints it, the
// confirmation shows both sizes, and the real run executes it only if the venue still holds
// exactly the size confirmed (else it refuses, exit 2, nothing sent). Afterwards a reconcile of
// the symbol settles PINK's slot against the now-flat venue.
import { ExitError, EXIT } from '../../errors.js';
import type { KernelInput, OperatorAudit, VenuePosition } from '../kernel/types.js';
import { applyTrading, recordOperatorAction } from './control.js';
import type { Engine } from './engine.js';
import { slotOf } from './kernel-glue.js';

/**
 * Like `pink flatten` (issue 19): the symbol goes REDUCING before anything is sent (the strategy
 * enters no more) and stays so unless `resume` (`--resume`) and the venue is flat and reconciled.
 * The operator's facts go to the TRADING_STATE_CHANGED row and to an OPERATOR_ACTION row with the
 * plan and its outcome.
 */
export interface VenueFlattenControl {
  resume: boolean;
  operator: OperatorAudit;
}

export interface VenueFlattenPlan {
  symbol: string;
  /** PINK's slot, signed (long > 0, short < 0). */
  pink_qty: number;
  /** The venue's position, signed. */
  venue_qty: number;
  /** The one order that closes the venue's position, or null when the venue is flat. */
  order: { side: 'buy' | 'sell'; qty: number; reduce_only: true; order_type: 'market' } | null;
  text: string;
}

export interface VenueFlattenResult {
  symbol: string;
  plan: VenueFlattenPlan;
  dry_run: boolean;
  sent: { client_order_id: string; answer: string } | null;
  venue_flat: boolean;
  converged: boolean;
  after: unknown;
  /** The symbol's trading state once done (real run with an operator only). */
  trading_state?: string;
}

const FLAT_POLL_MS = 250;
/** Digits of a lot step (0.001 → 3); 8 when the market has none. */
export function stepDigits(step: number | undefined): number {
  if (step === undefined || !(step > 0)) return 8;
  return Math.min(12, Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
}

/** A quantity at the market's precision: no 0.019999999999999997. */
export function roundQty(q: number, step: number | undefined): number {
  const v = Number(q.toFixed(stepDigits(step)));
  return Object.is(v, -0) ? 0 : v;
}

const signed = (p: Pick<VenuePosition, 'side' | 'qty'>): number => (p.side === 'short' ? -p.qty : p.qty);
const venueQty = (positions: VenuePosition[], symbol: string): number => positions.filter((p) => p.symbol === symbol).reduce((a, p) => a + signed(p), 0);

export async function planVenueFlatten(engine: Engine, symbol: string, control?: VenueFlattenControl): Promise<VenueFlattenPlan> {
  const step = engine.opts.venue.qtySteps([symbol])[symbol];
  const venue_qty = roundQty(venueQty(await engine.opts.venue.positions(), symbol), step);
  const slot = slotOf(engine.kernel.view(), symbol);
  const pink_qty = roundQty(slot ? (slot.side === 'short' ? -slot.qty : slot.qty) : 0, step);
  const order = venue_qty === 0 ? null : { side: venue_qty > 0 ? ('sell' as const) : ('buy' as const), qty: Math.abs(venue_qty), reduce_only: true as const, order_type: 'market' as const };
  const text = order
    ? `${symbol}: PINK holds ${pink_qty}, the venue holds ${venue_qty}; plan: one reduce-only market ${order.side} ${order.qty} (the venue's whole position), then reconcile ${symbol}`
    : `${symbol}: PINK holds ${pink_qty}, the venue holds nothing; plan: no order, reconcile ${symbol}`;
  const hold = control === undefined ? '' : control.resume ? `; ${symbol} REDUCING while it runs, ACTIVE again once flat (--resume)` : `; ${symbol} goes REDUCING first and stays so until \`pink resume ${symbol}\``;
  return { symbol, pink_qty, venue_qty, order, text: text + hold };
}

/**
 * The real run. `expect_venue_qty` is the venue size the operator confirmed: if the venue now
 * holds another size, nothing is sent and it is a safety refusal (exit 2).
 */
export async function flattenVenuePosition(engine: Engine, symbol: string, timeout_ms: number, dry_run: boolean, expect_venue_qty?: number, control?: VenueFlattenControl): Promise<VenueFlattenResult> {
  const plan = await planVenueFlatten(engine, symbol, control);
  const result: VenueFlattenResult = { symbol, plan, dry_run, sent: null, venue_flat: plan.order === null, converged: false, after: slotOf(engine.kernel.view(), symbol) };
  if (dry_run) return result;
  const audit = (extra: Record<string, unknown>): void => {
    if (control) recordOperatorAction(engine, 'OPERATOR_ACTION', control.operator, { symbol, venue_position: true, pink_qty: plan.pink_qty, venue_qty: plan.venue_qty, order: plan.order, ...extra });
  };
  if (control) {
    // Before anything is sent, and whatever follows (even a refusal): the strategy enters no more.
    applyTrading(engine, { symbol, state: 'REDUCING', reason: `pink flatten ${symbol} --venue-position`, operator: control.operator });
  }
  if (expect_venue_qty !== undefined && Math.abs(plan.venue_qty - expect_venue_qty) > 1e-12) {
    audit({ refused: `venue size ${plan.venue_qty}, confirmed ${expect_venue_qty}` });
    throw new ExitError(EXIT.USAGE, `the venue's ${symbol} position is now ${plan.venue_qty}, not the ${expect_venue_qty} confirmed; nothing was sent.`, `Run pink flatten ${symbol} --venue-position again to see the new plan.`);
  }
  if (plan.order) {
    const client_order_id = `ops-vp-${Date.now().toString(36)}`;
    const answers: KernelInput[] = await engine.opts.venue.send(
      [{ kind: 'PLACE', client_order_id, intent_id: client_order_id, symbol, side: plan.order.side, qty: plan.order.qty, order_type: 'market', reduce_only: true }],
      Date.now(),
    );
    const a = answers[0];
    const answer = !a ? 'no answer' : a.type === 'EVENT' ? `${a.event.kind.toLowerCase()}${a.event.reason ? `: ${a.event.reason}` : ''}` : `${a.type}${'reason' in a && a.reason ? `: ${a.reason}` : ''}`;
    result.sent = { client_order_id, answer };
    const deadline = Date.now() + timeout_ms;
    for (;;) {
      try {
        if (venueQty(await engine.opts.venue.positions(), symbol) === 0) {
          result.venue_flat = true;
          break;
        }
      } catch {
        // a failed read: look again until the deadline
      }
      if (Date.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, FLAT_POLL_MS));
    }
  }
  const report = await engine.reconcile([symbol], true);
  result.converged = report.converged;
  if (control) {
    if (control.resume && result.venue_flat && result.converged) {
      applyTrading(engine, { symbol, state: 'ACTIVE', reason: `pink flatten ${symbol} --venue-position --resume`, operator: control.operator });
    }
    result.trading_state = slotOf(engine.kernel.view(), symbol)?.trading_state ?? 'ACTIVE';
    audit({ sent: result.sent, venue_flat: result.venue_flat, converged: result.converged, trading_state: result.trading_state });
  }
  result.after = slotOf(engine.kernel.view(), symbol);
  return result;
}

export function renderVenueFlatten(r: VenueFlattenResult): string {
  const lines = [`flatten ${r.symbol} --venue-position${r.dry_run ? ' (dry run: nothing sent)' : ''}`, `  ${r.plan.text}`];
  if (r.dry_run) return lines.join('\n');
  if (r.sent) lines.push(`  order ${r.sent.client_order_id}: ${r.sent.answer}`);
  lines.push(r.venue_flat ? `  venue FLAT on ${r.symbol}; reconcile ${r.converged ? 'converged' : 'did NOT converge: check pink ditav2-status'}` : `  venue NOT FLAT in time: check pink ditav2-status and the venue`);
  if (r.trading_state !== undefined) {
    lines.push(r.trading_state === 'ACTIVE' ? `  ${r.symbol} is ACTIVE: the strategy may enter again.` : `  ${r.symbol} stays ${r.trading_state}: no new entries. To trade again: pink resume ${r.symbol}`);
  }
  return lines.join('\n');
}

/** The control socket's `flatten_venue` op (engine up), serialized with the step loop. */
export async function flattenVenueOp(engine: Engine, req: { symbol: string; timeout_ms: number; dry_run: boolean; expect_venue_qty?: number; resume?: boolean; operator?: OperatorAudit }): Promise<{ ok: true; data: unknown } | { ok: false; error: string; exit: number; hint?: string }> {
  if (!engine.opts.config.symbols.includes(req.symbol)) {
    return { ok: false, exit: EXIT.USAGE, error: `${req.symbol} is not one of this engine's symbols (${engine.opts.config.symbols.join(', ')}).`, hint: 'Use one of the engine symbols.' };
  }
  try {
    return { ok: true, data: await engine.serialize(() => flattenVenuePosition(engine, req.symbol, req.timeout_ms, req.dry_run, req.expect_venue_qty, req.operator ? { resume: req.resume === true, operator: req.operator } : undefined)) };
  } catch (err) {
    if (err instanceof ExitError) return { ok: false, exit: err.code, error: err.message, ...(err.hint ? { hint: err.hint } : {}) };
    throw err;
  }
}
