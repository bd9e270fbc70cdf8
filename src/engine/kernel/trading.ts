// Issue 19: the trading state of each symbol and of the engine (SPEC 6), a kernel input like any
// other: journaled, checkpointed, replayed identically. ACTIVE sends anything; REDUCING only
// orders that reduce a position (exits, flatten); HALTED nothing but cancels of PINK's own orders.
// A symbol's effective state is the stricter of its own and the engine's. Nothing here ever
// loosens a state by itself: only a TRADING_STATE input (an operator's resume) does.
//
// The circuit breakers live here too, so that a replay trips them at the same input: after an
// input that changed state, `afterInput` looks at its outcomes (a venue reject, the persistent
// rate-limit cycle, a reconcile's mismatch or orphan, a tick's equity) and sets REDUCING.
import type { Core } from './core.js';
import { equityOf } from './core.js';
import { decisionRow } from './rows.js';
import type { State, TradingRec } from './state.js';
import type { FaultClass } from '../faults/taxonomy.js';
import type { Intent, KernelInput, KernelOutcome, Symbol, TradingState } from './types.js';

const RANK: Record<TradingState, number> = { ACTIVE: 0, REDUCING: 1, HALTED: 2 };
const ACTIVE_REC: TradingRec = { state: 'ACTIVE', reason: '', since_ts: null };

/** The symbol's effective state: the stricter of its own and the engine's (its own on a tie, so its own reason shows). */
export function effectiveTrading(st: State, symbol: Symbol): TradingRec {
  const own = st.trading.symbols[symbol];
  const eng = st.trading.engine;
  return own !== undefined && RANK[own.state] >= RANK[eng.state] ? own : eng;
}

/**
 * The input that puts one symbol (or, without a symbol, the engine) into REDUCING with a reason:
 * for the runner's own triggers (a liquidation, issue 20). Feed it like any input.
 */
export function reducingInput(ts: number, reason: string, symbol?: Symbol): KernelInput {
  return symbol === undefined ? { type: 'TRADING_STATE', ts, state: 'REDUCING', reason } : { type: 'TRADING_STATE', ts, symbol, state: 'REDUCING', reason };
}

/** An intent the trading state forbids, refused with TRADING_STATE_REFUSED (in decisions.outcome_code); null if allowed. */
export function tradingRefusal(c: Core, intent: Intent): KernelOutcome | null {
  if (intent.action === 'CANCEL') return null;
  const t = effectiveTrading(c.st, intent.symbol);
  if (t.state === 'ACTIVE') return null;
  if (t.state === 'REDUCING' && intent.action === 'EXIT') return null;
  const scope = t === c.st.trading.engine ? 'the engine' : intent.symbol;
  const what = t.state === 'HALTED' ? 'nothing but cancels is sent' : 'only orders that reduce a position are sent';
  const fault = c.F.TRADING_STATE_REFUSED;
  const requested = typeof intent.qty === 'number' ? intent.qty : 0;
  return c.refuse(fault, intent.symbol, { reason: `${intent.action} refused: ${scope} is ${t.state} (${t.reason || 'no reason given'}): ${what}`, trading_state: t.state, since_ts: t.since_ts }, [decisionRow(c, intent, fault.code, requested)]);
}

export function handleTradingState(c: Core, input: Extract<KernelInput, { type: 'TRADING_STATE' }>): KernelOutcome[] {
  const st = c.st;
  const tr = st.trading;
  if (input.symbol !== undefined && !st.slots.has(input.symbol)) {
    return [c.refuse(c.F.UNKNOWN_SYMBOL, undefined, { reason: `no slot for ${input.symbol} (slots: ${[...st.slots.keys()].join(', ')})` })];
  }
  const targets: Array<{ scope: string; rec: TradingRec | undefined }> = [];
  if (input.all === true) {
    targets.push({ scope: 'engine', rec: tr.engine });
    // Sorted: a checkpoint's canonical JSON sorts keys, so insertion order would not survive a restore.
    for (const sym of Object.keys(tr.symbols).sort()) targets.push({ scope: sym, rec: tr.symbols[sym] });
  } else if (input.symbol === undefined) targets.push({ scope: 'engine', rec: tr.engine });
  else targets.push({ scope: input.symbol, rec: tr.symbols[input.symbol] });
  const changed = targets.filter((t) => (t.rec?.state ?? 'ACTIVE') !== input.state);
  if (changed.length === 0) {
    const where = input.all === true ? 'the engine and every symbol' : input.symbol ?? 'the engine';
    return [c.refuse(c.F.OK, input.symbol, { reason: `${where} already ${input.state}: nothing changed`, trading_state: input.state, changed: false })];
  }
  c.begin();
  const changes: Array<{ scope: string; from: TradingState; to: TradingState }> = [];
  for (const t of changed) {
    const from = t.rec?.state ?? 'ACTIVE';
    const rec: TradingRec = input.state === 'ACTIVE' ? { state: 'ACTIVE', reason: input.reason, since_ts: c.ts } : { state: input.state, reason: input.reason, since_ts: c.ts };
    if (t.scope === 'engine') {
      tr.engine = rec;
      // A resumed engine measures its drawdown from now on: the old peak would trip it again at once.
      if (rec.state === 'ACTIVE') tr.equity_peak = null;
    } else {
      if (rec.state === 'ACTIVE') delete tr.symbols[t.scope];
      else tr.symbols[t.scope] = rec;
      if (rec.state === 'ACTIVE') delete tr.rejects[t.scope];
    }
    changes.push({ scope: t.scope, from, to: input.state });
  }
  const text = changes.map((ch) => `${ch.scope} ${ch.from} → ${ch.to}`).join(', ');
  const details = { reason: `trading state: ${text}${input.reason ? ` (${input.reason})` : ''}`, changes, changed: true, trading_state: input.state };
  const rows = [];
  if (input.operator !== undefined) {
    const op = input.operator;
    rows.push(
      c.row('anomalies', {
        row_id: c.rowId('anomalies'),
        ts: c.ts,
        origin: 'operator',
        code: c.F.TRADING_STATE_CHANGED.code,
        severity: 'INFO',
        slot_id: input.symbol ?? '',
        symbol: input.symbol ?? '',
        details: JSON.stringify({ command: op.command, args: op.args, user: op.user, host: op.host, pid: op.pid, changes, reason: input.reason }),
      }),
    );
  }
  return [c.outcome(c.F.TRADING_STATE_CHANGED, input.symbol, details, [], rows)];
}

/** A breaker sets `symbol` (the engine when undefined) REDUCING, if it is ACTIVE; never loosens. */
function trip(c: Core, fault: FaultClass, symbol: Symbol | undefined, reason: string, extra: Record<string, unknown>): KernelOutcome | null {
  const tr = c.st.trading;
  const cur = symbol === undefined ? tr.engine : tr.symbols[symbol] ?? ACTIVE_REC;
  if (cur.state !== 'ACTIVE') return null;
  const rec: TradingRec = { state: 'REDUCING', reason: `${fault.code}: ${reason}`, since_ts: c.ts };
  if (symbol === undefined) tr.engine = rec;
  else tr.symbols[symbol] = rec;
  const where = symbol ?? 'the engine';
  return c.outcome(fault, symbol, { reason: `${where} set REDUCING by a circuit breaker: ${reason}; it stays REDUCING until \`pink resume${symbol ? ` ${symbol}` : ' --all'}\``, trading_state: 'REDUCING', ...extra });
}

/**
 * The circuit breakers, after an input that changed state (c.mutating). Each trips once: a scope
 * already REDUCING or HALTED is left as it is. Appends the breaker outcomes to `outcomes`.
 */
export function afterInput(c: Core, input: KernelInput, outcomes: KernelOutcome[]): void {
  if (!c.mutating) return;
  const st = c.st;
  const tr = st.trading;
  const push = (o: KernelOutcome | null): void => {
    if (o !== null) outcomes.push(o);
  };
  switch (input.type) {
    case 'EVENT': {
      for (const o of [...outcomes]) {
        const sym = o.symbol;
        if (sym === undefined || !st.slots.has(sym)) continue;
        if (o.diagnostic_code === c.F.ORDER_REJECTED.code || o.diagnostic_code === c.F.EXIT_ORDER_REJECTED.code) {
          const n = (tr.rejects[sym] ?? 0) + 1;
          tr.rejects[sym] = n;
          const max = st.config.max_rejects;
          if (max > 0 && n >= max) push(trip(c, c.F.BREAKER_REJECTS, sym, `${n} consecutive venue rejects on ${sym} (DOLPHIN_PINK_MAX_REJECTS=${max})`, { rejects: n }));
        } else if ((o.diagnostic_code === c.F.ORDER_ACCEPTED.code || o.diagnostic_code === c.F.FILL_APPLIED.code) && tr.rejects[sym] !== undefined) {
          delete tr.rejects[sym];
        }
      }
      return;
    }
    case 'RATE_LIMITED':
      if (outcomes.some((o) => o.diagnostic_code === c.F.RATE_LIMITED_PERSISTENT.code)) {
        push(trip(c, c.F.BREAKER_RATE_LIMITED, undefined, `the venue has refused for rate for ${st.config.rate_limit_persistent_ms / 1000} s with no successful call (RATE_LIMITED_PERSISTENT)`, {}));
      }
      return;
    case 'RECONCILE': {
      const corrections = (outcomes[0]?.details['corrections'] ?? []) as Array<{ kind: string; symbol: string; detail: string }>;
      const seen = new Set<string>();
      // Issue 20: a liquidated symbol goes REDUCING (its POSITION_LIQUIDATED outcome, CRITICAL, says so).
      for (const o of outcomes) {
        const sym = o.symbol;
        if (o.diagnostic_code !== c.F.POSITION_LIQUIDATED.code || sym === undefined || (tr.symbols[sym]?.state ?? 'ACTIVE') !== 'ACTIVE') continue;
        tr.symbols[sym] = { state: 'REDUCING', reason: `${c.F.POSITION_LIQUIDATED.code}: the venue liquidated the position`, since_ts: c.ts };
        seen.add(sym);
      }
      for (const corr of corrections) {
        if ((corr.kind !== 'orphan_flagged' && corr.kind !== 'position_mismatch') || !st.slots.has(corr.symbol) || seen.has(corr.symbol)) continue;
        seen.add(corr.symbol);
        push(trip(c, c.F.BREAKER_MISMATCH, corr.symbol, `${corr.kind === 'orphan_flagged' ? 'an orphan position' : 'a position mismatch'} on ${corr.symbol}: ${corr.detail}`, { kind: corr.kind }));
      }
      return;
    }
    case 'TICK': {
      const equity = equityOf(st);
      if (tr.equity_peak === null || equity > tr.equity_peak) tr.equity_peak = equity;
      const max = st.config.max_drawdown_usdt;
      const loss = tr.equity_peak - equity;
      if (max > 0 && loss > max) {
        push(trip(c, c.F.BREAKER_DRAWDOWN, undefined, `equity ${equity.toFixed(2)} USDT is ${loss.toFixed(2)} below its peak ${tr.equity_peak.toFixed(2)} (DOLPHIN_PINK_MAX_DRAWDOWN_USDT=${max})`, { equity, peak: tr.equity_peak, loss }));
      }
      return;
    }
    default:
      return;
  }
}
