// Issue 19: `pink halt [SYMBOL|--all] [--hard] [--reason TEXT]`, `pink resume [SYMBOL|--all]` and
// `pink stop [--timeout 30s]`. Halt and resume go through the engine's control socket when it is
// up; when it is down they are fed to a one-off engine built from the checkpoint and the journal
// (the same path as an engine-down flatten): journaled, applied, checkpointed, never sent.
import { homePaths, normalizeSymbol, type Config } from '../config.js';
import { EXIT, ExitError, usageError } from '../errors.js';
import type { DriftAcceptResult, TradingResult } from '../engine/runner/control.js';
import { processAlive, runningEnginePid } from '../engine/runner/lock.js';
import { askEngine } from '../engine/runner/socket.js';
import { readRunJson } from '../engine/runner/run-json.js';
import type { TradingState } from '../engine/kernel/types.js';
import type { CommandResult, CommandRun, Context } from './types.js';

/** The engine's symbols, venue and --live: run.json's (validated like the environment), else the settings. */
function engineRun(ctx: Context): { symbols: string[]; venue: Config['venue']; live: boolean } {
  const r = readRunJson(homePaths(ctx.config.home).runJson);
  return r ? { symbols: r.symbols, venue: r.venue, live: r.live } : { symbols: ctx.config.symbols, venue: ctx.config.venue, live: false };
}

/** `SYMBOL` or `--all` (or neither: the engine) → the request's scope, checked against the engine's symbols. */
function scopeOf(ctx: Context, command: string, args: string[], opts: Record<string, unknown>): { symbol?: string; all: boolean } {
  const all = opts['all'] === true;
  if (all && args[0] !== undefined) throw usageError('give a SYMBOL or --all, not both.', `pink ${command} BTC-USDT, or pink ${command} --all.`);
  if (args.length > 1) throw usageError(`one symbol at a time (got ${args.length}).`, `pink ${command} BTC-USDT, or pink ${command} --all.`);
  if (args[0] === undefined) return { all };
  const sym = normalizeSymbol(args[0]);
  if (!sym) throw usageError(`"${args[0]}" is not a symbol.`, 'Use BTC-USDT (also accepted: btc-usdt, BTC/USDT:USDT).');
  const known = engineRun(ctx).symbols;
  if (!known.includes(sym)) throw usageError(`${sym} is not one of PINK's symbols (${known.join(', ')}).`, `pink ${command} one of those, or pink ${command} --all.`);
  return { symbol: sym, all: false };
}

function render(command: string, r: TradingResult, down: boolean): string {
  const lines = [`${command}: ${r.changed ? r.detail : `${r.detail}`}${down ? ' (engine down: recorded into the checkpoint)' : ''}`];
  lines.push(`  engine     ${r.engine.trading_state}${r.engine.trading_state_reason ? ` (${r.engine.trading_state_reason})` : ''}`);
  for (const s of r.slots) lines.push(`  ${s.symbol.padEnd(10)} ${s.trading_state}${s.trading_state !== 'ACTIVE' && s.trading_state_reason ? ` (${s.trading_state_reason})` : ''}`);
  const held = r.engine.trading_state !== 'ACTIVE' || r.slots.some((s) => s.trading_state !== 'ACTIVE');
  if (held) lines.push('  to trade again: pink resume SYMBOL, or pink resume --all');
  return lines.join('\n');
}

async function setTrading(ctx: Context, command: 'halt' | 'resume', argv: string[], req: { symbol?: string; all?: boolean; state: TradingState; reason: string }): Promise<CommandResult> {
  const { operatorAudit } = await import('../engine/runner/control.js');
  const operator = operatorAudit(command, argv);
  const paths = homePaths(ctx.config.home);
  const up = runningEnginePid(paths.pid) !== undefined;
  let data: TradingResult;
  if (up) {
    const answer = await askEngine(paths.socket, { op: 'trading', ...req, operator }, 30_000);
    if (!answer) throw new ExitError(EXIT.UNREACHABLE, `the engine did not answer the ${command} request.`, `Check \`pink ditav2-status\`; retry (${command} is safe to repeat).`);
    if (!answer.ok) throw new ExitError(answer.exit === 2 ? EXIT.USAGE : EXIT.BAD, answer.error, answer.hint);
    data = answer.data as TradingResult;
  } else {
    const [{ openEngine }, { acquirePidLock }, { applyTrading }] = await Promise.all([import('../engine/runner/main.js'), import('../engine/runner/lock.js'), import('../engine/runner/control.js')]);
    const lock = acquirePidLock(paths.pid);
    try {
      const run = engineRun(ctx);
      // Nothing is sent: the venue is opened only because a one-off engine needs one (its gate applies as recorded).
      const opened = await openEngine({ config: { ...ctx.config, symbols: run.symbols, venue: run.venue }, env: ctx.env, bin: ctx.bin, strategy: 'demo', seed: 1, live: run.live });
      try {
        data = applyTrading(opened.engine, { ...req, operator });
      } finally {
        await opened.close();
      }
    } finally {
      lock.release();
    }
    if (data.refused !== undefined) throw usageError(data.refused, 'Check the symbol with `pink ditav2-status`.');
  }
  return { exit: EXIT.OK, text: render(command, data, !up), data: { ...data, engine_up: up } };
}

export const halt: CommandRun = async (ctx, args, opts) => {
  const scope = scopeOf(ctx, 'halt', args, opts);
  const reason = typeof opts['reason'] === 'string' ? opts['reason'] : 'operator halt';
  if (reason.length > 500) throw usageError(`--reason is ${reason.length} chars long.`, 'Give a reason of at most 500 chars.');
  const state: TradingState = opts['hard'] === true ? 'HALTED' : 'REDUCING';
  const argv = [...(scope.symbol ? [scope.symbol] : []), ...(scope.all ? ['--all'] : []), ...(opts['hard'] === true ? ['--hard'] : []), ...(typeof opts['reason'] === 'string' ? ['--reason', reason] : [])];
  // `--all` and no symbol both mean the engine: every symbol at once.
  return setTrading(ctx, 'halt', argv, { ...(scope.symbol ? { symbol: scope.symbol } : {}), state, reason });
};

export const resume: CommandRun = async (ctx, args, opts) => {
  const scope = scopeOf(ctx, 'resume', args, opts);
  if (!scope.symbol && !scope.all) throw usageError('resume what? no symbol given.', 'pink resume BTC-USDT, or pink resume --all (the engine and every symbol).');
  const argv = scope.symbol ? [scope.symbol] : ['--all'];
  return setTrading(ctx, 'resume', argv, { ...(scope.symbol ? { symbol: scope.symbol } : { all: true }), state: 'ACTIVE', reason: 'operator resume' });
};

/** `-8.40`, `12`, `+0.5` (USDT); undefined when it is not a plain decimal number. */
export function parseUsdt(v: unknown): number | undefined {
  const t = String(v ?? '').trim();
  if (!/^[+-]?\d+(\.\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

const usdt = (v: number | null): string => (v === null ? '-' : (Math.abs(v) < 0.005 ? 0 : v).toFixed(2));

function renderDrift(r: DriftAcceptResult, down: boolean): string {
  const where = down ? ' (engine down: recorded into the checkpoint)' : '';
  const head = r.changed ? `accept-drift: recorded${where}: ${r.detail}` : `accept-drift: nothing recorded: ${r.detail}`;
  const net = r.drift === null ? null : r.drift - r.drift_accepted;
  return [head, `  drift ${usdt(r.drift)} USDT  accepted ${usdt(r.drift_accepted)}  unaccepted ${usdt(net)}  capital ${usdt(r.capital)} (unchanged)`].join('\n');
}

/**
 * `pink accept-drift AMOUNT`: the operator has accounted for the account drift (another system's
 * trades, a transfer). AMOUNT must be the drift the last reconcile measured, within the tolerance
 * (`pink ditav2-status` shows it); else exit 2 and nothing is recorded. Engine up: through the
 * control socket, serialized with the steps; engine down: a one-off engine from the checkpoint,
 * as an engine-down halt. Repeating it once accepted is a no-op (exit 0).
 */
export const acceptDrift: CommandRun = async (ctx, args, _opts) => {
  if (args.length !== 1) throw usageError(`accept-drift takes one AMOUNT (got ${args.length}).`, 'pink accept-drift -8.40, with the drift `pink ditav2-status` shows.');
  const amount_usdt = parseUsdt(args[0]);
  if (amount_usdt === undefined) throw usageError(`"${String(args[0])}" is not an amount of USDT.`, 'pink accept-drift -8.40, with the drift `pink ditav2-status` shows.');
  const { operatorAudit } = await import('../engine/runner/control.js');
  const operator = operatorAudit('accept-drift', [String(args[0])]);
  const paths = homePaths(ctx.config.home);
  const up = runningEnginePid(paths.pid) !== undefined;
  // One line, naming the fix (the kernel's words): nothing was journaled, nothing written.
  const refusal = (why: string): ExitError => new ExitError(EXIT.USAGE, `accept-drift refused, nothing recorded: ${why}`);
  let data: DriftAcceptResult;
  if (up) {
    const answer = await askEngine(paths.socket, { op: 'accept_drift', amount_usdt, operator }, 30_000);
    if (!answer) throw new ExitError(EXIT.UNREACHABLE, 'the engine did not answer the accept-drift request.', 'Check `pink ditav2-status`; retry (accept-drift is safe to repeat).');
    if (!answer.ok) throw answer.exit === 2 ? refusal(answer.error) : new ExitError(EXIT.BAD, answer.error, answer.hint);
    data = answer.data as DriftAcceptResult;
  } else {
    const [{ openEngine }, { acquirePidLock }, { applyDriftAccept }, { locateHistory }] = await Promise.all([import('../engine/runner/main.js'), import('../engine/runner/lock.js'), import('../engine/runner/control.js'), import('../engine/runner/history.js')]);
    // Fail closed: no history here means no drift was ever measured; never start one to accept into.
    if (locateHistory(paths).checkpoint === undefined) throw refusal(`no PINK history in ${ctx.config.home}, so no drift to accept: start the engine (\`pink run\`, or \`pink restart\`), then \`pink ditav2-status\``);
    const lock = acquirePidLock(paths.pid);
    try {
      const run = engineRun(ctx);
      // Nothing is sent: the venue is opened only because a one-off engine needs one. The drift
      // judged is the one the last reconcile (a restart's) left in the checkpoint.
      const opened = await openEngine({ config: { ...ctx.config, symbols: run.symbols, venue: run.venue }, env: ctx.env, bin: ctx.bin, strategy: 'demo', seed: 1, live: run.live });
      try {
        data = applyDriftAccept(opened.engine, { amount_usdt, operator });
      } finally {
        await opened.close();
      }
    } finally {
      lock.release();
    }
    if (data.refused !== undefined) throw refusal(data.refused);
  }
  return { exit: EXIT.OK, text: renderDrift(data, !up), data: { ...data, engine_up: up } };
};

/** `30`, `30s`, `2m` → ms; undefined when malformed. */
export function parseDurationMs(v: unknown): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(s|m)?$/.exec(String(v).trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * (m[2] === 'm' ? 60_000 : 1000);
  return ms > 0 && ms <= 3_600_000 ? ms : undefined;
}

export const stop: CommandRun = async (ctx, _args, opts) => {
  const timeout_ms = parseDurationMs(opts['timeout'] ?? '30s');
  if (timeout_ms === undefined) throw usageError(`--timeout "${String(opts['timeout'])}" is not a duration.`, 'Use --timeout 30s (seconds, or 2m; at most an hour).');
  const paths = homePaths(ctx.config.home);
  const pid = runningEnginePid(paths.pid);
  if (pid === undefined) throw new ExitError(EXIT.UNREACHABLE, 'no engine is running here (no live pid in $PINK_HOME/pink.pid).', 'Nothing to stop; `pink ditav2-status` shows the state.');
  const { operatorAudit } = await import('../engine/runner/control.js');
  const answer = await askEngine(paths.socket, { op: 'stop', operator: operatorAudit('stop', [`--timeout`, `${timeout_ms / 1000}s`]) }, 5_000);
  if (!answer?.ok) {
    // The socket is the graceful way; SIGTERM is the same graceful stop for an engine that does not answer it.
    ctx.io.stderr(`pink: the engine (pid ${pid}) did not answer the stop request; sending SIGTERM (the same graceful stop).`);
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      /* gone already */
    }
  }
  const deadline = Date.now() + timeout_ms;
  while (Date.now() < deadline && processAlive(pid)) await new Promise((r) => setTimeout(r, 100));
  if (processAlive(pid)) {
    return { exit: EXIT.BAD, text: `pink: the engine (pid ${pid}) is still stopping after ${timeout_ms / 1000} s: it flushes the store and writes a checkpoint. Check again with \`pink ditav2-status\`.`, data: { stopped: false, pid } };
  }
  return { exit: EXIT.OK, text: `pink: engine stopped (pid ${pid}); checkpoint written. Start it again with \`pink restart\`.`, data: { stopped: true, pid } };
};
