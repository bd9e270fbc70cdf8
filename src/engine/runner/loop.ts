// The step loop of `pink run` and its fail-stop (the lifecycle's table is in lifecycle.ts, the
// errors' classes in failstop.ts). Operating
// errors are classified by their name and counted; an internal error stops the engine before
// anything else happens (Engine.markFailed: no input, no send), then the CRITICAL anomaly row, the
// error log line, a checkpoint if the kernel's state is sound, $PINK_HOME/stopped.json, exit 4.
import { homePaths } from '../../config.js';
import { failStopError, type ExitError } from '../../errors.js';
import { FAULT } from '../faults/taxonomy.js';
import type { Store } from '../store/index.js';
import type { Engine } from './engine.js';
import { classifyLoopError, describeError, FAIL_STOP_NEXT, LOOP_ERROR_EVENT, failStopReason, writeFailStop, type FailStopRecord } from './failstop.js';
import { stoppedPath } from './history.js';
import type { Logger } from './log.js';
import { anomalyRow as buildAnomalyRow } from '../kernel/anomaly-row.js';
import type { StopReason } from './lifecycle.js';

export type { StopReason } from './lifecycle.js';

export interface LoopOptions {
  steps?: number;
  duration_ms?: number;
  poll_interval_ms: number;
  /** Resolves the loop's wait early (a stop request). */
  setWake: (wake: (() => void) | undefined) => void;
  stop: (why: StopReason) => void;
  progress: (line: string) => void;
}

/** While the disk stays full, one DISK_FULL line per this long (the error log may share that disk). */
const DISK_FULL_LOG_EVERY_MS = 10_000;
/** While held, a reconcile (a venue snapshot, then a journal append) is tried at most this often. */
const HOLD_RETRY_MS = 1000;
/** The fail-stop's anomaly row and checkpoint wait for the store this long at most. */
const FAIL_STOP_FLUSH_MS_MAX = 10_000;

const sleep = (ms: number, setWake: LoopOptions['setWake']): Promise<void> =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    setWake(() => {
      clearTimeout(timer);
      resolve();
    });
  }).finally(() => setWake(undefined));

/**
 * Steps until a stop is asked for, the step or time limit is reached, or an internal error stops
 * the engine (then throws the fail-stop's ExitError, exit 4, after recording it).
 */
export async function runLoop(engine: Engine, store: Store, logger: Logger, o: LoopOptions): Promise<void> {
  const deadline = o.duration_ms !== undefined ? Date.now() + o.duration_ms : Infinity;
  const errors = new LoopErrors(engine, logger);
  let holdTried = 0;
  // Bounded: each round is one step (or one reconcile attempt) and a wait of the poll interval.
  // The lifecycle (lifecycle.ts) says whether it goes on: RUNNING or HOLDING.
  while (engine.lifecycle.rule.loops) {
    const t0 = Date.now();
    try {
      if (engine.lifecycle.state === 'RUNNING') {
        engine.lifecycle.admitRound();
        await engine.serialize(() => engine.step());
        errors.succeeded();
      } else if (Date.now() - holdTried >= HOLD_RETRY_MS) {
        // Held after a failed append: the venue's truth settles whatever that step lost, before any
        // intent. Tried at most every HOLD_RETRY_MS: the venue is not read for nothing at every poll.
        holdTried = Date.now();
        engine.lifecycle.admitRound();
        await engine.serialize(() => engine.reconcile(undefined, true));
        engine.lifecycle.fire('RECONCILED');
        errors.reconciled();
      }
    } catch (err) {
      if (!errors.absorb(err)) break;
    }
    if (o.steps !== undefined && engine.steps >= o.steps) o.stop('steps');
    if (Date.now() >= deadline) o.stop('duration');
    const wait = Math.max(0, o.poll_interval_ms - (Date.now() - t0));
    if (engine.lifecycle.rule.loops && wait > 0) await sleep(wait, o.setWake);
  }
  if (engine.failure) throw await failStop(engine, store, logger, o.progress);
}

/** The loop's errors in a row and its disk-full episode: what is counted, logged, held. */
class LoopErrors {
  #consecutive = 0;
  #diskFullSince: number | undefined;
  #diskFullLogged = 0;

  constructor(
    private readonly engine: Engine,
    private readonly logger: Logger,
  ) {}

  succeeded(): void {
    this.#consecutive = 0;
  }

  reconciled(): void {
    this.#consecutive = 0;
    const since = this.#diskFullSince;
    this.logger.info(`journal writable again${since !== undefined ? ` after ${Math.round((Date.now() - since) / 1000)} s` : ''}: reconciled with the venue; trading resumes`);
    this.#diskFullSince = undefined;
  }

  /**
   * An error of one round: false when it is internal (the engine is marked failed: the loop ends
   * and records the fail-stop); a refused key is thrown on (exit 2); every other operating error
   * is counted and logged under its code, and a full disk holds the engine.
   */
  absorb(err: unknown): boolean {
    const { engine, logger } = this;
    const c = classifyLoopError(err);
    const event = LOOP_ERROR_EVENT[c.kind];
    if (event === 'FAIL') {
      engine.markFailed(err);
      return false;
    }
    if (c.kind === 'venue' && c.auth) throw err; // the key was refused: exit 2 (ReconcileReadError)
    this.#consecutive += 1;
    engine.venueCheck.stepFailed();
    const reason = `step failed (${this.#consecutive} in a row): ${describeError(err)}`;
    // A venue failure was fed to the kernel as an input (counted by its outcome); the others are counted here.
    if (c.kind !== 'venue') engine.faults.record(c.code, FAULT[c.code].severity, Date.now(), undefined, { reason });
    if (event !== 'DISK_FULL') {
      logger.fault(c.code, FAULT[c.code].severity, undefined, reason);
      return true;
    }
    engine.lifecycle.fire('DISK_FULL');
    this.#diskFullSince ??= Date.now();
    if (Date.now() - this.#diskFullLogged >= DISK_FULL_LOG_EVERY_MS) {
      this.#diskFullLogged = Date.now();
      logger.fault(c.code, FAULT[c.code].severity, undefined, `${reason}; nothing is sent until the journal takes inputs again and a reconcile has gone through`);
    }
    return true;
  }
}

function anomalyRow(engine: Engine, rec: FailStopRecord) {
  return buildAnomalyRow({
    row_id: `anomalies:failstop:${rec.run_id}:${rec.seq}`,
    ts: rec.ts,
    origin: 'engine',
    code: rec.code,
    severity: 'CRITICAL',
    slot_id: '',
    symbol: '',
    details: JSON.stringify({ reason: `engine stopped fail-closed at seq ${rec.seq}: ${rec.error}`, seq: rec.seq, error: rec.error, checkpointed: rec.checkpointed, run_id: engine.opts.run_id }),
  });
}

async function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The fail-stop, after the engine has stopped sending: record it everywhere it will be looked for. */
async function failStop(engine: Engine, store: Store, logger: Logger, progress: (line: string) => void): Promise<ExitError> {
  const f = engine.failure!;
  const c = classifyLoopError(f.error);
  const code = c.kind === 'internal' ? c.code : 'INTERNAL_ERROR';
  const rec: FailStopRecord = { seq: f.seq, ts: Date.now(), code, error: describeError(f.error), run_id: engine.opts.run_id, pid: process.pid, checkpointed: false, next: FAIL_STOP_NEXT };
  logger.fault(code, 'CRITICAL', undefined, `engine stopped fail-closed at seq ${rec.seq}: ${rec.error}; nothing is sent after it`);
  if (f.error instanceof Error && f.error.stack) logger.info(`fail-stop stack: ${f.error.stack}`);
  try {
    store.write({ token: `failstop:${rec.run_id}:${rec.seq}`, rows: [anomalyRow(engine, rec)] });
    await bounded(store.flush(), FAIL_STOP_FLUSH_MS_MAX, 'store flush');
  } catch (err) {
    logger.info(`fail-stop: its anomaly row could not be written: ${describeError(err)}`);
  }
  if (engine.checkpointSafe) {
    try {
      await bounded(engine.checkpoint(), FAIL_STOP_FLUSH_MS_MAX, 'checkpoint');
      rec.checkpointed = true;
    } catch (err) {
      logger.info(`fail-stop: no checkpoint (${describeError(err)}); the last checkpoint and the journal hold everything`);
    }
  } else {
    logger.info(`fail-stop: no checkpoint: the kernel failed mid-input at seq ${rec.seq}; the last checkpoint and the journal hold everything before it`);
  }
  recordFailStop(homePaths(engine.opts.config.home), rec, logger);
  progress(`pink: ${failStopReason(rec)}; nothing was sent after it.`);
  return failStopError(`${failStopReason(rec)}; nothing was sent after it.`, `Run: ${FAIL_STOP_NEXT.join('; ')}.`);
}

function recordFailStop(paths: ReturnType<typeof homePaths>, rec: FailStopRecord, logger: Logger): void {
  try {
    writeFailStop(stoppedPath(paths), rec);
  } catch (err) {
    logger.info(`fail-stop: ${stoppedPath(paths)} could not be written: ${describeError(err)}`);
  }
}

/** The journal replayed into an internal error at start: nothing was sent; exit 4, recorded for status. */
export function failStopAtStart(error: unknown, seq: number, o: { paths: ReturnType<typeof homePaths>; logger: Logger; run_id: string }): ExitError {
  const c = classifyLoopError(error);
  const code = c.kind === 'internal' ? c.code : 'INTERNAL_ERROR';
  const rec: FailStopRecord = { seq, ts: Date.now(), code, error: describeError(error), run_id: o.run_id, pid: process.pid, checkpointed: false, next: FAIL_STOP_NEXT };
  o.logger.fault(code, 'CRITICAL', undefined, `engine stopped fail-closed at start: replaying the journal failed at seq ${seq}: ${rec.error}; nothing was sent`);
  if (error instanceof Error && error.stack) o.logger.info(`fail-stop stack: ${error.stack}`);
  recordFailStop(o.paths, rec, o.logger);
  return failStopError(`${failStopReason(rec)}, while replaying the journal at start; nothing was sent.`, `Run: ${FAIL_STOP_NEXT.join('; ')}.`);
}
