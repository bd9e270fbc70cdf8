// `pink run`: the engine in the foreground, or --detach'ed in the background.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { homePaths, parseSymbols, parseVenue, type Config } from '../config.js';
import { EXIT, ExitError, unreachableError, usageError } from '../errors.js';
import { checkVenueAuthorization } from '../engine/venue/authorize.js';
import { askEngine } from '../engine/runner/socket.js';
import { processAlive, runningEnginePid } from '../engine/runner/lock.js';
import { RUNTIME_LOG } from '../engine/runner/log.js';
import { ensureHome, ensurePrivateDir, openAppendPrivate } from '../engine/runner/private-fs.js';
import type { CommandRun, Context } from './types.js';
import type { RunSpec } from '../engine/runner/main.js';

/** `90s`, `5m`, `1h`, `500ms`, or a bare number of seconds. */
export function parseDuration(raw: string, source: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw usageError(`${source} "${raw}" is not a duration.`, 'Use a duration such as 90s, 5m, 1h or 500ms.');
  const n = Number(m[1]);
  const unit = m[2] ?? 's';
  const ms = unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  if (ms <= 0) throw usageError(`${source} must be longer than zero.`, 'Use a duration such as 90s.');
  return Math.round(ms);
}

export function parseCount(raw: unknown, source: string): number {
  const n = Number(raw);
  if (typeof raw !== 'string' || !/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n <= 0) {
    throw usageError(`${source} "${String(raw)}" is not a positive whole number.`, `Give ${source} a whole number above zero.`);
  }
  return n;
}

/** The signals file must exist when the engine starts: a typo would otherwise tail nothing, silently. */
export function checkSignalsFile(path: string, source: string): void {
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch {
    throw usageError(`${source} ${path} does not exist.`, 'Create it first (e.g. `touch FILE`; the decision engine appends intents to it), or fix the path.');
  }
  if (!isFile) throw usageError(`${source} ${path} is not a regular file.`, 'Give the NDJSON file the decision engine appends intents to.');
}

export interface RunRequest extends RunSpec {
  detach: boolean;
}

/** Validates every option before anything starts; the run configuration for run.json too. */
export function parseRunOptions(ctx: Context, opts: Record<string, unknown>): RunRequest {
  const config: Config = { ...ctx.config };
  if (typeof opts['venue'] === 'string') config.venue = parseVenue(opts['venue'], '--venue');
  if (typeof opts['symbols'] === 'string') config.symbols = parseSymbols(opts['symbols'], '--symbols');
  const strategy = String(opts['strategy'] ?? 'demo');
  if (strategy !== 'demo' && strategy !== 'signals') throw usageError(`--strategy "${strategy}" is not a strategy.`, 'Use --strategy demo or --strategy signals --signals FILE.');
  let signals_path: string | undefined;
  if (strategy === 'signals') {
    if (typeof opts['signals'] !== 'string') throw usageError('--strategy signals needs --signals FILE.', 'Give the NDJSON file the decision engine appends intents to.');
    signals_path = resolve(opts['signals']);
    checkSignalsFile(signals_path, '--signals');
  } else if (opts['signals'] !== undefined) {
    throw usageError('--signals is only for --strategy signals.', 'Add --strategy signals, or drop --signals.');
  }
  const live = opts['live'] === true;
  checkVenueAuthorization(config, live);
  return {
    config,
    strategy,
    ...(signals_path ? { signals_path } : {}),
    ...(opts['steps'] !== undefined ? { steps: parseCount(opts['steps'], '--steps') } : {}),
    ...(opts['duration'] !== undefined ? { duration_ms: parseDuration(String(opts['duration']), '--duration') } : {}),
    seed: opts['seed'] !== undefined ? parseCount(opts['seed'], '--seed') : 1,
    live,
    ...(opts['newHistory'] === true ? { new_history: true } : {}),
    detach: opts['detach'] === true,
  };
}

/** The argv that starts the same engine again (for --detach and `pink restart`). */
export function runArgv(r: Omit<RunRequest, 'detach' | 'config'> & { venue: string; symbols: string[]; home: string }): string[] {
  const argv = ['run', '--home', r.home, '--venue', r.venue, '--symbols', r.symbols.join(','), '--strategy', r.strategy, '--seed', String(r.seed)];
  if (r.signals_path) argv.push('--signals', r.signals_path);
  if (r.steps !== undefined) argv.push('--steps', String(r.steps));
  if (r.duration_ms !== undefined) argv.push('--duration', `${r.duration_ms}ms`);
  if (r.live) argv.push('--live');
  // Never recorded in run.json: `pink restart` does not start a new history by itself.
  if (r.new_history) argv.push('--new-history');
  return argv;
}

const DETACH_WAIT_MS = 30_000;

/**
 * Node flags for the engine process (bin/pink.js's shebang passes the same). V8 grows its young
 * generation from 1 MB semi-spaces to 16 MB when objects survive, which a long-running engine's do:
 * ~30 MB more RSS, committed whenever V8 decides (minutes or hours in). Capped at 2 MB, the engine's
 * memory stays where it settles after start, for scavenges that are more frequent and shorter.
 */
export const ENGINE_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=2'];

/** Starts the engine in the background and waits until its control socket answers. */
export async function startDetached(ctx: Context, argv: string[], home: string, wait_ms = DETACH_WAIT_MS, replacing?: { pid: number; stop: () => void }): Promise<{ pid: number; socket: string; log: string }> {
  const paths = homePaths(home);
  ensureHome(home);
  // The log dir is checked here too, so that a refused one is this command's exit 2, not the child's.
  ensurePrivateDir(ctx.config.log_dir, { variable: 'DOLPHIN_LOG_DIR', private: false });
  const log = join(home, 'engine.out');
  // Only this start's lines are read back if it fails (engine.out keeps every start's output).
  const logStart = existsSync(log) ? statSync(log).size : 0;
  const out = openAppendPrivate(log);
  const env = { ...ctx.env, ...(replacing ? { [RESTART_AFTER_PID_ENV]: String(replacing.pid) } : {}) };
  const child = spawn(process.execPath, [...ENGINE_NODE_FLAGS, ctx.bin, ...argv], { detached: true, stdio: ['ignore', out, out], env: env as NodeJS.ProcessEnv });
  closeSync(out);
  child.unref();
  // `pink restart`: the new process loads while the old engine is asked to stop.
  replacing?.stop();
  const deadline = Date.now() + wait_ms;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 25));
    if (child.exitCode !== null) {
      const lines = existsSync(log) ? readFileSync(log).subarray(logStart).toString('utf8').trim().split('\n') : [];
      // Progress lines (ending in '...') are not the reason.
      const tail = lines.filter((l) => l.startsWith('pink:') && !l.startsWith('pink: startup') && !l.startsWith('pink: reconciled') && !l.trimEnd().endsWith('...')).slice(-2).join(' ');
      const fix = lines.filter((l) => l.startsWith('  fix: ')).pop();
      // Refused (2) and stopped fail-closed (4) keep their code; anything else is "did not come up" (3).
      const code = child.exitCode === EXIT.USAGE || child.exitCode === EXIT.FAIL_STOP ? child.exitCode : EXIT.UNREACHABLE;
      throw new ExitError(code, `the engine exited (code ${child.exitCode}) before it came up${tail ? `: ${tail.replace(/^pink: /, '')}` : ''}.`, fix ? `${fix.slice(7)} (engine output: ${log})` : `See ${log}.`);
    }
    const answer = await askEngine(paths.socket, { op: 'status' }, 1000);
    // While an old engine still answers on the socket, it is not this one.
    if (answer?.ok && (replacing === undefined || (answer.data as { engine?: { pid?: number } }).engine?.pid === child.pid)) return { pid: child.pid ?? 0, socket: paths.socket, log };
  }
  // Not up in time: a process still waiting for the engine it replaces must not start later on its own.
  if (replacing !== undefined && child.exitCode === null) child.kill('SIGTERM');
  throw unreachableError(`the engine did not come up within ${Math.round(wait_ms / 1000)} s.`, `See ${log} and ${join(ctx.config.log_dir, RUNTIME_LOG)}.`);
}

/**
 * Set by `pink restart` in the environment of the engine it starts (never by an operator): the pid
 * of the engine being replaced. The new process loads its code (ccxt, chDB: most of a start's
 * CPU) while the old one stops, then waits for it to be gone before it touches anything.
 */
export const RESTART_AFTER_PID_ENV = 'PINK_RESTART_AFTER_PID';
/** How long the engine started by `pink restart` waits for the old one to be gone. */
const AFTER_PID_WAIT_MS_MAX = 60_000;

async function loadThenWaitFor(pid: number): Promise<void> {
  const storeModules = Promise.all([import('@clickhouse/client'), import('chdb/connection')]);
  await Promise.all([import('../engine/runner/main.js'), import('../engine/venue/connect.js').then((m) => m.loadBingxClass()), storeModules]);
  const deadline = Date.now() + AFTER_PID_WAIT_MS_MAX;
  while (processAlive(pid)) {
    if (Date.now() >= deadline) throw unreachableError(`the engine being replaced (pid ${pid}) did not stop within ${AFTER_PID_WAIT_MS_MAX / 1000} s; this one did not start.`, `Look at it (pink ditav2-status); if it is hung, kill -9 ${pid} and run pink restart again.`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export const run: CommandRun = async (ctx, _args, opts) => {
  const req = parseRunOptions(ctx, opts);
  const paths = homePaths(req.config.home);
  const after = ctx.env[RESTART_AFTER_PID_ENV];
  if (after !== undefined && !req.detach) await loadThenWaitFor(parseCount(after, RESTART_AFTER_PID_ENV));
  const running = runningEnginePid(paths.pid);
  if (running !== undefined) {
    throw usageError(`an engine is already running on this home (pid ${running}).`, 'Use `pink ditav2-status`, `pink restart`, or another --home.');
  }
  if (req.detach) {
    const argv = runArgv({ ...req, venue: req.config.venue, symbols: req.config.symbols, home: req.config.home });
    const started = await startDetached(ctx, argv, req.config.home);
    return {
      exit: EXIT.OK,
      data: { pid: started.pid, socket: started.socket, home: req.config.home, log: started.log },
      text: `engine started in the background: pid ${started.pid}\n  socket ${started.socket}\n  output ${started.log}\n  next: pink ditav2-status`,
    };
  }
  const { runEngine } = await import('../engine/runner/main.js');
  const { detach: _foreground, ...spec } = req;
  const summary = await runEngine({ ...spec, env: ctx.env, bin: ctx.bin, progress: (line) => ctx.io.stderr(line) });
  return {
    exit: EXIT.OK,
    data: summary,
    text: `engine stopped (${summary.stopped_by}) after ${summary.steps} steps; journal seq ${summary.seq}; run ${summary.run_id}`,
  };
};
