// The engine process (`pink run` in the foreground): lock, venue, store, restore, the startup
// reconcile, the control socket, the step loop, and a graceful stop on SIGINT/SIGTERM.
import { closeSync, existsSync, fstatSync, openSync, readSync, rmSync } from 'node:fs';
import { homePaths, type Config } from '../../config.js';
import { EXIT, ExitError, unreachableError } from '../../errors.js';
import { Observer } from '../observe/observer.js';
import { spooledOnDisk } from '../store/spool.js';
import { openStore, type Store } from '../store/index.js';
import { openVenue } from '../venue/index.js';
import { assertOneWay } from './position-mode.js';
import type { Venue } from '../venue/types.js';
import type { Server } from 'node:net';
import { Engine } from './engine.js';
import { newRunId, ReconcileReadError, ReplayFailedError, type ReconcileReport } from './engine-types.js';
import type { StopReason } from './lifecycle.js';
import { flattenSymbols } from './flatten.js';
import { acceptDriftControl, recordOperatorAction, tradingControl } from './control.js';
import { flattenVenueOp } from './flatten-plan.js';
import { settingLine } from './kernel-glue.js';
import { writeFileAtomic } from '../fsutil.js';
import { archiveHistory, archiveRoot, historyMissing, locateHistory, stoppedPath, type History } from './history.js';
import { classifyLoopError, clearFailStop, describeError, failStopReason, readFailStop } from './failstop.js';
import { failStopAtStart, runLoop } from './loop.js';
import { acquirePidLock } from './lock.js';
import { createLogger, type Logger } from './log.js';
import { runNamedQuery } from './queries.js';
import { serveControl, type ControlAnswer, type ControlRequest } from './socket.js';
import { ensureSimProcess } from './sim-process.js';
import { engineStatus } from './status-data.js';

/** What to run: `pink run`'s options once validated (commands/run.ts adds only --detach). */
export interface RunSpec {
  config: Config;
  strategy: 'demo' | 'signals';
  signals_path?: string;
  steps?: number;
  duration_ms?: number;
  seed: number;
  live: boolean;
  /** `--new-history`: start a new history on purpose (the old journal and checkpoints are archived). */
  new_history?: boolean;
}

export interface RunOptions extends RunSpec {
  env: Readonly<Record<string, string | undefined>>;
  bin: string;
  /** Where progress lines go (stderr of the foreground process). */
  progress: (line: string) => void;
}

export interface RunSummary {
  run_id: string;
  steps: number;
  seq: number;
  startup: ReconcileReport;
  stopped_by: 'signal' | 'steps' | 'duration' | 'control';
}

/** The signals that mean the process is broken (a fault, an abort): they must end it. */
export const CRASH_SIGNALS = ['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE', 'SIGSYS', 'SIGTRAP'] as const;

/**
 * Embedded ClickHouse (chDB) installs its own handlers for the crash signals when its first
 * connection opens (measured: SigCgt gains ABRT, BUS, FPE, ILL, SEGV, SYS, TRAP); with them a
 * `kill -ABRT` (or a real fault) leaves the process alive but stepping no more, its socket dead
 * and its lock held, so a supervisor sees it running. Listening and un-listening through libuv
 * puts each back to the default disposition (libuv's uv__signal_unregister_handler sets SIG_DFL):
 * the process ends with the signal, as an unhandled crash should, and `pink restart` takes over.
 */
export function restoreCrashSignals(): void {
  for (const signal of CRASH_SIGNALS) {
    const noop = (): void => {};
    process.on(signal, noop);
    process.off(signal, noop);
  }
}

/**
 * The history this start continues (history.ts), checked before any contact: exit 2 on damage or a
 * missing history. `--new-history` first moves an existing one aside.
 */
function historyAtStart(o: { config: Config; new_history?: boolean; signals_path?: string }, say: (line: string) => void): History {
  const paths = homePaths(o.config.home);
  let signals_from: number | undefined;
  if (o.new_history) {
    const archived = archiveHistory(paths, Date.now());
    say(archived ? `pink: --new-history: the previous history (journal, checkpoints) moved to ${archived}; a new one starts.` : 'pink: --new-history: no previous history here; a new one starts.');
    // Fail closed: the old history may have taken any intent already in the signals file (its
    // journal is what a new history is started without), so none of them is taken again. "An old
    // history" is any under archive/, not only the one moved now: a start that archived it and then
    // stopped before the new history's first checkpoint (the venue unreachable, exit 3) leaves
    // nothing to move the next time, and the file must still not be read from its start.
    const earlier = archived !== undefined || existsSync(archiveRoot(paths));
    const size = earlier && o.signals_path !== undefined && existsSync(o.signals_path) ? endOfLastLine(o.signals_path) : 0;
    if (size > 0) {
      signals_from = size;
      say(`pink: --new-history: the signals file's first ${size} bytes are not read (the previous history may have taken their intents); intents appended from now on are. Send again any intent written while no engine ran.`);
    }
  }
  const history = locateHistory(paths);
  if (signals_from !== undefined) history.signals_from = signals_from;
  if (!history.checkpoint && !o.new_history) {
    const spool = spooledOnDisk(paths.spool);
    if (spool.files > 0) throw historyMissing(`the spool ${paths.spool} holds ${spool.files} batch file(s) of rows from an earlier run`);
  }
  return history;
}

/** The offset just past the file's last newline (0 if it has none): a line still being written is not skipped. */
function endOfLastLine(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(65_536);
    for (let end = fstatSync(fd).size; end > 0; ) {
      const start = Math.max(0, end - buf.length);
      const n = readSync(fd, buf, 0, end - start, start);
      const nl = buf.subarray(0, n).lastIndexOf(0x0a);
      if (nl >= 0) return start + nl + 1;
      end = start;
    }
    return 0;
  } finally {
    closeSync(fd);
  }
}

/** A fresh history is refused when the store already holds PINK rows (counters would restart over them). */
async function assertStoreFresh(store: Store): Promise<void> {
  const db = store.database;
  const [row] = await store.query<{ n: number }>(`SELECT (SELECT count() FROM ${db}.account) + (SELECT count() FROM ${db}.orders) AS n`);
  const n = Number(row?.n ?? 0);
  if (n > 0) throw historyMissing(`the store (database ${db}) holds ${n} account and order rows of an earlier history`);
}

export interface OpenedEngine {
  engine: Engine;
  venue: Venue;
  store: Store;
  logger: Logger;
  close(): Promise<void>;
}

type OpenOptions = Omit<RunOptions, 'steps' | 'duration_ms' | 'progress'> & { echo?: (line: string) => void; say?: (line: string) => void; observer?: Observer };

/** Venue + store + restored kernel, without the loop: used by `run`, and by flatten/restart when the engine is down. */
export async function openEngine(o: OpenOptions): Promise<OpenedEngine> {
  const { config } = o;
  const paths = homePaths(config.home);
  const logger = createLogger(config.log_dir, [config.api_key, config.api_secret, config.sim_api_key, config.sim_api_secret, config.clickhouse_password], o.echo);
  // Issue 18: the first start says what it waits for (simulator, venue, embedded store).
  const say = o.say ?? ((l: string) => logger.info(l));
  const history = historyAtStart(o, say);
  const run_id = newRunId();
  const { venue, store } = await openVenueAndStore(o, { history, run_id, logger, say });
  let engine: Engine;
  try {
    engine = Engine.restore({ config, venue, store, logger, strategy: o.strategy, ...(o.signals_path ? { signals_path: o.signals_path } : {}), seed: o.seed, run_id, ...(o.observer ? { observer: o.observer } : {}) }, history);
  } catch (err) {
    // E.g. settings that drop a held symbol (exit 2): nothing was sent; release what was opened.
    await Promise.allSettled([store.close(), venue.close()]);
    if (!(err instanceof ReplayFailedError)) throw err;
    // The journal replays into an internal error: a fail-stop at start (exit 4), recorded for status.
    throw failStopAtStart(err.error, err.seq, { paths, logger, run_id });
  }
  for (const note of engine.startup_notes) logger.fault(note.code, 'WARNING', undefined, note.text);
  o.observer?.attach(engine, store, venue);
  return { engine, venue, store, logger, close: closer(engine, store, venue) };
}

/** The simulator PINK starts when none is named (reused if it runs), and the config to reach it. */
async function simulatorAtStart(o: OpenOptions, logger: Logger, say: (line: string) => void): Promise<{ simUrl: string | undefined; venueConfig: Config }> {
  const { config } = o;
  if (config.venue !== 'sim' || config.sim_url) return { simUrl: config.sim_url, venueConfig: config };
  const paths = homePaths(config.home);
  say(`pink: simulator under ${paths.sim} (reused if it runs, else started)...`);
  const simUrl = (await ensureSimProcess(o.bin, paths.sim, o.env, o.seed, config.initial_capital_usdt, config.symbols)).url;
  logger.info(`venue sim at ${simUrl} (started or reused under ${paths.sim})`);
  // The simulator PINK starts accepts its default credentials; PINK_SIM_API_* name another's.
  return { simUrl, venueConfig: { ...config, sim_api_key: undefined, sim_api_secret: undefined } };
}

/**
 * The venue's connect (its round trips) and the store's open (chDB's load, the schema) side by
 * side (issue 21): neither needs the other. Whichever fails, what the other opened is closed.
 */
async function openVenueAndStore(o: OpenOptions, s: { history: History; run_id: string; logger: Logger; say: (line: string) => void }): Promise<{ venue: Venue; store: Store }> {
  const { config } = o;
  const { logger } = s;
  const paths = homePaths(config.home);
  const { simUrl, venueConfig } = await simulatorAtStart(o, logger, s.say);
  s.say(`pink: connecting to the venue (${simUrl !== undefined ? `sim at ${simUrl}` : config.venue}) and opening the store (${config.clickhouse_url ? 'ClickHouse server' : 'embedded chDB; its first start takes several seconds'})...`);
  // Issue 20: hedge mode refused before anything is sent (exit 2); the venue is then closed.
  const opening = openVenue(venueConfig, { live: o.live, ...(simUrl ? { simUrl } : {}), logger: (l) => logger.info(l) }).then(async (v) => {
    await assertOneWay(v).catch(async (err: unknown) => {
      await v.close().catch(() => undefined);
      throw err;
    });
    return v;
  });
  const storing = (async () => {
    // config.chaos_store_faults is a test hook (PINK_CHAOS_STORE_FAIL): unset in production.
    const faults = config.chaos_store_faults ? { faults: { ...config.chaos_store_faults } } : {};
    if (config.chaos_store_faults) logger.info(`store: test hook PINK_CHAOS_STORE_FAIL active (${JSON.stringify(config.chaos_store_faults)})`);
    const opened = await openStore({ config, runId: s.run_id, spoolDir: paths.spool, logger: (l) => logger.info(l), onFault: (code, reason) => logger.fault(code, 'WARNING', undefined, reason), ...faults });
    try {
      // chDB is loaded now (its first connection installs its signal handlers): crashes must end us.
      restoreCrashSignals();
      await opened.ensureSchema();
      if (!s.history.checkpoint && !o.new_history) await assertStoreFresh(opened);
    } catch (err) {
      await opened.close().catch(() => undefined);
      throw err;
    }
    return opened;
  })();
  const [venueOpen, storeOpen] = await Promise.allSettled([opening, storing]);
  if (venueOpen.status === 'rejected' || storeOpen.status === 'rejected') {
    if (venueOpen.status === 'fulfilled') await venueOpen.value.close().catch(() => undefined);
    if (storeOpen.status === 'fulfilled') await storeOpen.value.close().catch(() => undefined);
    // The venue's refusal first (exit 2/3 with its fix), as when the venue was opened first.
    throw venueOpen.status === 'rejected' ? venueOpen.reason : (storeOpen as PromiseRejectedResult).reason;
  }
  return { venue: venueOpen.value, store: storeOpen.value };
}

/** OpenedEngine.close: once; everything is closed whatever fails, the first failure thrown after. */
function closer(engine: Engine, store: Store, venue: Venue): () => Promise<void> {
  let closed = false;
  return async () => {
    if (closed) return;
    closed = true;
    // A full disk at the last checkpoint is an operating error: the journal holds every input.
    let failure: unknown;
    try {
      // Never a checkpoint after a fail-stop here: loop.ts wrote one if, and only if, it was safe.
      if (!engine.failure) await engine.checkpoint();
    } catch (err) {
      failure = err;
    }
    try {
      engine.journal.close();
    } catch (err) {
      failure ??= err;
    }
    engine.lifecycle.fire('CLOSE');
    await store.close();
    await venue.close();
    if (failure !== undefined) throw failure;
  };
}

export async function runEngine(o: RunOptions): Promise<RunSummary> {
  const paths = homePaths(o.config.home);
  const lock = acquirePidLock(paths.pid);
  let opened: OpenedEngine | undefined;
  let observer: Observer | undefined;
  let wake: (() => void) | undefined;
  const onInternal = (err: unknown): void => {
    // An error no code path caught (a timer, a stream): the engine stops sending at once, and the loop records it.
    opened?.engine.markFailed(err);
    wake?.();
  };
  try {
    if (lock.stale_pid !== undefined) o.progress(`pink: a stale pid file (pid ${lock.stale_pid}, not running) was found and taken over.`);
    // Issue 22: metrics bound (or exit 2) before the venue is contacted; alerts from here on.
    observer = await Observer.create(o.config);
    opened = await openEngine({ ...o, echo: undefined, say: o.progress, observer });
    process.on('uncaughtException', onInternal);
    process.on('unhandledRejection', onInternal);
    const startup = await startUp(opened, o, observer, lock.stale_pid);
    await serveAndLoop(opened, o, (w) => (wake = w), () => wake?.());
    const summary = await finishRun(opened, o, observer, startup);
    opened = undefined;
    return summary;
  } catch (err) {
    observer?.engineFailed(err);
    throw err;
  } finally {
    process.off('uncaughtException', onInternal);
    process.off('unhandledRejection', onInternal);
    if (opened) {
      try {
        await opened.close();
      } catch {
        /* already failing: the journal holds everything */
      }
    }
    await observer?.close();
    lock.release();
  }
}

/** run.json, the startup reconcile and what it found, a previous fail-stop cleared: STARTING's work. */
async function startUp(opened: OpenedEngine, o: RunOptions, observer: Observer, stale_pid: number | undefined): Promise<ReconcileReport> {
  const { config } = o;
  const paths = homePaths(config.home);
  const { engine, logger } = opened;
  for (const note of engine.startup_notes) o.progress(`pink: ${note.text}.`);
  logger.info(`engine starting: pid ${process.pid}, venue ${config.venue}, symbols ${config.symbols.join(',')}, strategy ${o.strategy}, run ${engine.opts.run_id}`);
  writeFileAtomic(
    paths.runJson,
    `${JSON.stringify({ venue: config.venue, symbols: config.symbols, strategy: o.strategy, signals: o.signals_path ?? null, seed: o.seed, live: o.live, home: config.home, pid: process.pid, started_ts: Date.now() }, null, 2)}\n`,
  );
  o.progress('pink: startup reconcile against the venue...');
  const startup = await startupReconcile(engine, o.progress);
  writeFileAtomic(`${paths.home}/last-reconcile.json`, `${JSON.stringify(startup)}\n`);
  for (const ch of startup.settings_changed) o.progress(`pink: setting changed: ${settingLine(ch)}`);
  o.progress(`pink: reconciled: ${startup.corrections.length} correction(s), ${startup.converged ? 'converged' : 'NOT converged'}.`);
  observer.engineStarted({ stale_pid, converged: startup.converged, corrections: startup.corrections.length });
  const previous = readFailStop(stoppedPath(paths));
  if (previous) {
    logger.info(`the previous engine ${failStopReason(previous)}; this one replayed past it and reconciled: record cleared`);
    clearFailStop(stoppedPath(paths));
  }
  return startup;
}

/**
 * The loop with its stop paths (SIGINT/SIGTERM, the control socket's stop, --steps, --duration),
 * until it ends: STOPPING, or FAILED (runLoop then throws the fail-stop's exit 4).
 */
async function serveAndLoop(opened: OpenedEngine, o: RunOptions, setWake: (w: (() => void) | undefined) => void, wake: () => void): Promise<void> {
  const paths = homePaths(o.config.home);
  const { engine, store, venue, logger } = opened;
  // RUNNING before any stop path exists: a signal during the socket's bind is then a stop (STOPPING,
  // exit 0), as it always was, not a STOP the table refuses in STARTING.
  engine.lifecycle.fire('LOOP_START');
  // The first stop's reason is the one reported (the lifecycle keeps it); a later one changes nothing.
  const stop = (why: StopReason): void => {
    if (engine.lifecycle.stop(why)) wake();
  };
  const onSignal = (): void => stop('signal');
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let server: Server | undefined;
  try {
    server = await serveControl(paths.socket, (req) => handleControl(engine, store, venue, req, () => stop('control')));
    o.progress(`pink: engine up (pid ${process.pid}); control socket ${paths.socket}`);
    await runLoop(engine, store, logger, {
      ...(o.steps !== undefined ? { steps: o.steps } : {}),
      ...(o.duration_ms !== undefined ? { duration_ms: o.duration_ms } : {}),
      poll_interval_ms: o.config.poll_interval_ms,
      setWake,
      stop,
      progress: o.progress,
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (server) {
      server.close();
      rmSync(paths.socket, { force: true });
    }
  }
}

/** STOPPING's work: the control actions queued finish, the store is flushed, the last checkpoint written. */
async function finishRun(opened: OpenedEngine, o: RunOptions, observer: Observer, startup: ReconcileReport): Promise<RunSummary> {
  const { engine, logger } = opened;
  o.progress('pink: stopping: flushing the store and writing a checkpoint...');
  await engine.serialize(async () => undefined);
  const stopped_by = engine.lifecycle.stopReason ?? 'signal';
  const summary: RunSummary = { run_id: engine.opts.run_id, steps: engine.steps, seq: engine.currentSeq, startup, stopped_by };
  observer.engineStopped({ stopped_by, steps: summary.steps, seq: summary.seq });
  try {
    await opened.close();
  } catch (err) {
    if (classifyLoopError(err).kind !== 'disk_full') throw err;
    // Stopped, but the last checkpoint could not be written: the journal holds everything.
    throw unreachableError(`the engine stopped, but its last checkpoint could not be written: ${describeError(err)}.`, 'Free space on the disk of $PINK_HOME (see `pink fault DISK_FULL`); the journal holds every input: the next start replays it.');
  }
  logger.info(`engine stopped (${stopped_by}) after ${summary.steps} steps, seq ${summary.seq}`);
  return summary;
}

/** The startup reconcile retries a venue that refuses for rate or does not answer, this long at most. */
export const STARTUP_RECONCILE_MS_MAX = 20_000;
/** Wait between two startup reconcile attempts when the venue gave no retry-after. */
const STARTUP_RETRY_MS = 500;

/**
 * Startup always reconciles before the first step; a rate limit or a venue that does not answer
 * for a moment (both clear by themselves) is retried within STARTUP_RECONCILE_MS_MAX, after the
 * venue's retry-after. A refused key, or a venue still failing at the bound, is exit 2 / 3.
 */
async function startupReconcile(engine: Engine, progress: (line: string) => void): Promise<ReconcileReport> {
  const deadline = Date.now() + STARTUP_RECONCILE_MS_MAX;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await engine.serialize(() => engine.reconcile(undefined, true));
    } catch (err) {
      if (!(err instanceof ReconcileReadError) || err.auth) throw err;
      const wait_ms = Math.min(Math.max(err.input.type === 'RATE_LIMITED' ? (err.input.retry_after_ms ?? engine.opts.config.rate_limit_cooldown_ms) : STARTUP_RETRY_MS, STARTUP_RETRY_MS), 5_000);
      if (Date.now() + wait_ms > deadline) throw err;
      progress(`pink: startup reconcile attempt ${attempt} failed (${err.input.type}); retrying in ${wait_ms} ms...`);
      engine.opts.logger.info(`startup reconcile attempt ${attempt}: ${err.message}; retrying in ${wait_ms} ms`);
      await new Promise((r) => setTimeout(r, wait_ms));
    }
  }
}

async function handleControl(engine: Engine, store: Store, venue: Venue, req: ControlRequest, stop: () => void): Promise<ControlAnswer> {
  switch (req.op) {
    case 'status':
      return { ok: true, data: engineStatus(engine, store, venue) };
    case 'report':
      return { ok: true, data: engine.lastReport ?? null };
    case 'stop':
      if (req.operator) recordOperatorAction(engine, 'OPERATOR_ACTION', req.operator);
      stop();
      return { ok: true, data: { stopping: true } };
    case 'trading':
      return tradingControl(engine, req);
    case 'accept_drift':
      return acceptDriftControl(engine, req);
    case 'audit':
      recordOperatorAction(engine, 'OPERATOR_ACTION', req.operator);
      return { ok: true, data: { recorded: true } };
    case 'query':
      // Named queries only, through the store's read-only session: how other commands see the
      // embedded store while we hold it, with nothing to write and no SQL of the caller's.
      return runNamedQuery(req.name, req.params, { q: store.readOnly, config: engine.opts.config, flush: () => store.flush() });
    case 'flatten': {
      const symbols = req.symbols ?? [req.symbol];
      const unknown = symbols.find((s) => !engine.opts.config.symbols.includes(s));
      if (unknown !== undefined) {
        return { ok: false, exit: EXIT.USAGE, error: `${unknown} is not one of this engine's symbols (${engine.opts.config.symbols.join(', ')}).`, hint: 'Use one of the engine symbols.' };
      }
      if (new Set(symbols).size !== symbols.length) return { ok: false, exit: EXIT.USAGE, error: 'a symbol is given twice in one flatten request.', hint: 'Name each symbol once.' };
      const control = req.operator ? { hold: req.hold ?? 'symbol', resume: req.resume === true, operator: req.operator } : undefined;
      const results = await engine.serializeUrgent(() => flattenSymbols(engine, symbols, req.timeout_ms, req.dry_run, control));
      return { ok: true, data: req.symbols ? results : results[0] };
    }
    case 'flatten_venue':
      return flattenVenueOp(engine, req);
    default:
      return { ok: false, exit: EXIT.USAGE, error: 'unknown control request' };
  }
}
