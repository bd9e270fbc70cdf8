// Issue 19: operator control inside the engine (halt, resume, the trading state a flatten leaves,
// the audit of stop). The trading state is a kernel input (kernel/trading.ts): it is fed like any
// input, so it is journaled before it applies, checkpointed, and replayed.
import { hostname, userInfo } from 'node:os';
import type { OperatorAudit, Symbol, TradingState } from '../kernel/types.js';
import type { Engine } from './engine.js';
import { anomalyRow } from '../kernel/anomaly-row.js';
import { judgeDriftAcceptance } from '../kernel/drift.js';

/** Longest reason an operator may give (`--reason`); the kernel refuses longer. */
export const REASON_CHARS_MAX = 500;

/** The audit facts of this process's operator command: never a secret (arguments are PINK's own options). */
export function operatorAudit(command: string, args: string[]): OperatorAudit {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    user = process.env['USER'] ?? 'unknown';
  }
  return { command, args, user, host: hostname(), pid: process.pid };
}

export interface TradingRequest {
  symbol?: Symbol;
  all?: boolean;
  state: TradingState;
  reason: string;
  operator: OperatorAudit;
}

export interface TradingResult {
  changed: boolean;
  /** The kernel's words: what changed, or why nothing did. */
  detail: string;
  /** Refused by the kernel (an unknown symbol, a bad field): the operator's input was wrong. */
  refused?: string;
  engine: { trading_state: TradingState; trading_state_reason: string; trading_state_since: number | null };
  slots: { symbol: Symbol; trading_state: TradingState; trading_state_reason: string; trading_state_since: number | null }[];
}

/** Feeds one TRADING_STATE input (journaled, then applied) and says what it did. */
export function applyTrading(engine: Engine, req: TradingRequest): TradingResult {
  const input = {
    type: 'TRADING_STATE' as const,
    ts: Date.now(),
    state: req.state,
    reason: req.reason,
    ...(req.symbol !== undefined ? { symbol: req.symbol } : {}),
    ...(req.all === true ? { all: true } : {}),
    operator: req.operator,
  };
  const out = engine.feed([input]);
  const first = out[0];
  const detail = String(first?.details.reason ?? '');
  const changed = first?.diagnostic_code === 'TRADING_STATE_CHANGED';
  const refused = first !== undefined && first.diagnostic_code !== 'TRADING_STATE_CHANGED' && first.diagnostic_code !== 'OK' ? detail : undefined;
  const op = req.operator;
  engine.opts.logger.info(`operator ${op.command} ${op.args.join(' ')} by ${op.user}@${op.host} pid ${op.pid}: ${detail}`);
  return { changed, detail, ...(refused !== undefined ? { refused } : {}), ...tradingStates(engine) };
}

export function tradingStates(engine: Engine): Pick<TradingResult, 'engine' | 'slots'> {
  const v = engine.kernel.view();
  return {
    engine: { trading_state: v.trading_state, trading_state_reason: v.trading_state_reason, trading_state_since: v.trading_state_since },
    slots: v.slots.map((s) => ({ symbol: s.symbol, trading_state: s.trading_state, trading_state_reason: s.trading_state_reason, trading_state_since: s.trading_state_since })),
  };
}

/**
 * An operator action that is not a kernel input (stop, restart): an anomalies row of origin
 * `operator` through the store, and a runtime-log line. Its row id is unique per command
 * (time and pid of the command's process).
 */
export function recordOperatorAction(engine: Engine, code: string, op: OperatorAudit, extra: Record<string, unknown> = {}): void {
  const ts = Date.now();
  const history = engine.kernel.history_id;
  const key = `${code}:${ts}:${op.pid}`;
  engine.opts.store.write({
    token: `${history}:operator:${key}`,
    rows: [anomalyRow({ row_id: `anomalies:${history}:operator:${key}`, ts, origin: 'operator', code, severity: 'INFO', slot_id: '', symbol: '', details: JSON.stringify({ command: op.command, args: op.args, user: op.user, host: op.host, pid: op.pid, ...extra }) })],
  });
  engine.opts.logger.info(`operator ${op.command} ${op.args.join(' ')} by ${op.user}@${op.host} pid ${op.pid}`);
}

/** The control socket's `trading` op: serialized with the steps, refused (exit 2) on a bad symbol. */
export async function tradingControl(engine: Engine, req: TradingRequest): Promise<{ ok: true; data: unknown } | { ok: false; error: string; exit: number; hint?: string }> {
  const symbols = engine.opts.config.symbols;
  if (req.symbol !== undefined && !symbols.includes(req.symbol)) {
    return { ok: false, exit: 2, error: `${req.symbol} is not one of this engine's symbols (${symbols.join(', ')}).`, hint: 'Use one of the engine symbols, or --all.' };
  }
  const data = await engine.serialize(async () => applyTrading(engine, req));
  if (data.refused !== undefined) return { ok: false, exit: 2, error: data.refused };
  return { ok: true, data };
}

export interface DriftAcceptRequest {
  amount_usdt: number;
  operator: OperatorAudit;
}

export interface DriftAcceptResult {
  /** false: the drift was already accounted for (a no-op, nothing recorded). */
  changed: boolean;
  /** The kernel's words: what it recorded, or why nothing changed. */
  detail: string;
  /** Refused (exit 2): the amount is not the drift measured, or no balance was read yet. Nothing was journaled. */
  refused?: string;
  amount_usdt: number;
  /** venue balance − capital at the last reconcile (SPEC's `drift`); null before the first. */
  drift: number | null;
  drift_accepted: number;
  drift_accepted_before: number;
  capital: number;
  venue_balance: number | null;
}

/**
 * `pink accept-drift`: the kernel's own judgement (kernel/drift.ts) is asked first, on the drift
 * the last reconcile measured, so a refused or no-op accept journals nothing and writes no row;
 * only an accept that changes something is fed (journaled, then applied, checkpointed, replayed).
 */
export function applyDriftAccept(engine: Engine, req: DriftAcceptRequest): DriftAcceptResult {
  const v = engine.kernel.view();
  const a = v.account;
  const base = { amount_usdt: req.amount_usdt, drift: a.drift, drift_accepted_before: a.drift_accepted, capital: a.capital, venue_balance: a.venue_balance };
  const verdict = judgeDriftAcceptance(a.drift, a.drift_accepted, v.settings.drift_tolerance_usdt, req.amount_usdt);
  if (verdict.kind !== 'accept') {
    return { ...base, changed: false, detail: verdict.reason, drift_accepted: a.drift_accepted, ...(verdict.kind === 'refused' ? { refused: verdict.reason } : {}) };
  }
  const out = engine.feed([{ type: 'DRIFT_ACCEPTED', ts: Date.now(), amount_usdt: req.amount_usdt, operator: req.operator }]);
  const first = out[0];
  const detail = String(first?.details.reason ?? '');
  const changed = first?.diagnostic_code === 'DRIFT_ACCEPTED';
  const op = req.operator;
  engine.opts.logger.info(`operator ${op.command} ${op.args.join(' ')} by ${op.user}@${op.host} pid ${op.pid}: ${detail}`);
  const after = engine.kernel.view().account;
  return { ...base, changed, detail, drift_accepted: after.drift_accepted, capital: after.capital, ...(first?.diagnostic_code === 'DRIFT_ACCEPT_REFUSED' ? { refused: detail } : {}) };
}

/** The control socket's `accept_drift` op: serialized with the steps (a reconcile cannot move the drift between the check and the input). */
export async function acceptDriftControl(engine: Engine, req: DriftAcceptRequest): Promise<{ ok: true; data: unknown } | { ok: false; error: string; exit: number; hint?: string }> {
  const data = await engine.serialize(async () => applyDriftAccept(engine, req));
  if (data.refused !== undefined) return { ok: false, exit: 2, error: data.refused };
  return { ok: true, data };
}
