// `pink flatten`: cancel PINK's working orders on a symbol, a reduce-only market order for the
// whole remainder, wait until the venue shows flat, the leg recorded as `manual_flatten`.
// The same code runs inside the engine (engine up, through the socket) and in a one-off engine
// built from the checkpoint (engine down).
import type { Intent, OperatorAudit } from '../kernel/types.js';
import { applyTrading } from './control.js';
import type { Engine } from './engine.js';
import { slotOf } from './kernel-glue.js';

export interface FlattenPlanStep {
  action: 'cancel' | 'exit';
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

/** Between two looks at the venue while waiting for flat. */
const FLAT_POLL_MS = 250;

export async function flattenSymbol(engine: Engine, symbol: string, timeout_ms: number, dry_run: boolean, control?: FlattenControl): Promise<FlattenResult> {
  const result = await flattenNow(engine, symbol, timeout_ms, dry_run, control);
  if (control === undefined || dry_run) return result;
  const scope = control.hold === 'engine' ? undefined : symbol;
  if (control.resume && result.flat) {
    applyTrading(engine, { ...(scope ? { symbol: scope } : { all: true }), state: 'ACTIVE', reason: 'flatten --resume', operator: control.operator });
  }
  const view = engine.kernel.view();
  result.trading_state = scope === undefined ? view.trading_state : slotOf(view, symbol)?.trading_state ?? 'ACTIVE';
  result.trading_scope = scope ?? 'engine';
  return result;
}

async function flattenNow(engine: Engine, symbol: string, timeout_ms: number, dry_run: boolean, control?: FlattenControl): Promise<FlattenResult> {
  if (control !== undefined && !dry_run) {
    // Before anything is sent, and whatever follows (even a refusal): the strategy enters no more.
    const scope = control.hold === 'engine' ? {} : { symbol };
    applyTrading(engine, { ...scope, state: 'REDUCING', reason: `pink flatten${control.hold === 'engine' ? ' --all' : ` ${symbol}`}`, operator: control.operator });
  }
  // The venue's truth first: PINK's own view may be stale (that is often why an operator is here).
  const first = dry_run ? undefined : await engine.reconcile([symbol], true);
  const before = slotOf(engine.kernel.view(), symbol);
  const mismatch = first?.corrections.find((c) => c.symbol === symbol && c.kind === 'position_mismatch');
  if (mismatch) {
    // The venue's position is not the one PINK holds (someone else traded this symbol on PINK's
    // account): a reduce-only order sized from PINK's books could not close it. Send nothing.
    return {
      symbol, before, after: before, plan: [], orders: [], flat: false, already_flat: false, realized: 0, dry_run,
      blocked: `${mismatch.detail}: PINK's books do not match the venue, so PINK sends nothing. Close the position at the venue, then run \`pink restart\` to reconcile.`,
    };
  }
  const realizedBefore = before?.realized_pnl ?? 0;
  const plan: FlattenPlanStep[] = [];
  if (before?.working_order) plan.push({ action: 'cancel', detail: `cancel ${before.working_order.client_order_id}` });
  if (before && before.qty > 0) plan.push({ action: 'exit', detail: `reduce-only market ${before.side === 'long' ? 'sell' : 'buy'} ${before.qty} (the whole remainder)` });
  const result: FlattenResult = { symbol, before, after: before, plan, orders: [], flat: !before || before.qty === 0, already_flat: false, realized: 0, dry_run };
  if (plan.length === 0 || (before && before.qty === 0 && !before.working_order)) {
    result.already_flat = true;
    result.flat = true;
    return result;
  }
  if (dry_run) return result;

  const seq = engine.currentSeq;
  const ts = Date.now();
  if (before?.working_order) {
    const cancel: Intent = { intent_id: `flatten-${symbol}-${seq}-cancel`, symbol, action: 'CANCEL', reason: 'manual_flatten' };
    engine.feed([{ type: 'INTENT', ts, intent: cancel }]);
    await engine.sendPending();
    result.orders.push({ client_order_id: before.working_order.client_order_id, action: 'cancel', status: 'sent' });
  }
  const exit: Intent = { intent_id: `flatten-${symbol}-${seq}-exit`, symbol, action: 'EXIT', final: true, order_type: 'market', reason: 'manual_flatten' };
  const outcomes = engine.feed([{ type: 'INTENT', ts: Date.now(), intent: exit }]);
  const refusedByState = outcomes.find((o) => o.diagnostic_code === 'TRADING_STATE_REFUSED');
  if (refusedByState) {
    result.blocked = `${String(refusedByState.details.reason)}. Let exits through with \`pink halt --all\` (REDUCING, without --hard), then flatten again.`;
    return result;
  }
  for (const o of outcomes) for (const c of o.commands) if (c.kind === 'PLACE') result.orders.push({ client_order_id: c.client_order_id, action: `${c.side} ${c.qty} reduce-only market`, status: 'sent' });
  await engine.sendPending();

  const deadline = Date.now() + timeout_ms;
  for (;;) {
    engine.feed(await engine.opts.venue.poll(engine.opts.config.symbols, Date.now()));
    await engine.sendPending();
    const slot = slotOf(engine.kernel.view(), symbol);
    if (!slot || slot.qty === 0) break;
    if (Date.now() >= deadline) break;
    await new Promise((r) => setTimeout(r, FLAT_POLL_MS));
  }
  // Confirm with the venue itself, not just PINK's books.
  const report = await engine.reconcile([symbol], true);
  const after = slotOf(engine.kernel.view(), symbol);
  result.after = after;
  result.flat = report.converged && (!after || after.qty === 0);
  result.realized = (after?.realized_pnl ?? 0) - realizedBefore;
  for (const o of result.orders) o.status = result.flat ? 'done' : 'pending';
  return result;
}
