// What the step loop does with an error (STYLE "Fail closed": a loop that catches everything is a
// bug). Named operating errors of the venue and the store keep the loop running and are counted
// under their own code; a full disk is its own operating error (the engine holds, then
// reconciles); everything else (an assertion, a journal that cannot be written, a bug) stops the
// engine fail-closed: nothing sent after it, exit 4, and $PINK_HOME/stopped.json says where.
//
// Each class plugs into the engine's lifecycle (lifecycle.ts) through LOOP_ERROR_EVENT: an
// internal error is FAIL (FAILED: no input, no send; CRITICAL row, log, stopped.json, exit 4), a
// full disk is DISK_FULL (RUNNING -> HOLDING until a full reconcile goes through), a venue or store
// error moves nothing (fault logged under its code; the next step as usual).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { ExitError, EXIT } from '../../errors.js';
import { KernelAssertionError } from '../kernel/index.js';
import { VenueReadError } from '../venue/errors.js';
import { errnoText, isDiskFull, writeFileAtomic } from '../fsutil.js';
import { JournalWriteError } from './journal.js';

export type LoopErrorClass =
  | { kind: 'venue'; code: 'VENUE_UNAVAILABLE' | 'RATE_LIMITED'; auth: boolean }
  | { kind: 'store'; code: 'STORE_SPOOLING' }
  | { kind: 'disk_full'; code: 'DISK_FULL' }
  | { kind: 'internal'; code: 'KERNEL_ASSERTION' | 'INTERNAL_ERROR' };

/** How each class moves the engine's lifecycle; null: it does not. */
export const LOOP_ERROR_EVENT: { readonly [K in LoopErrorClass['kind']]: 'FAIL' | 'DISK_FULL' | null } = {
  venue: null,
  store: null,
  disk_full: 'DISK_FULL',
  internal: 'FAIL',
};

/** The one place an error of the step loop is classified. */
export function classifyLoopError(err: unknown): LoopErrorClass {
  if (err instanceof JournalWriteError) return err.disk_full ? { kind: 'disk_full', code: 'DISK_FULL' } : { kind: 'internal', code: 'INTERNAL_ERROR' };
  if (isDiskFull(err)) return { kind: 'disk_full', code: 'DISK_FULL' };
  // ReconcileReadError (engine.ts) carries the VenueReadError's input and auth flag.
  const venue = err as { input?: VenueReadError['input']; auth?: boolean } | null;
  if (err instanceof VenueReadError || (err instanceof ExitError && err.name === 'ReconcileReadError' && venue?.input)) {
    return { kind: 'venue', code: venue!.input!.type === 'RATE_LIMITED' ? 'RATE_LIMITED' : 'VENUE_UNAVAILABLE', auth: venue!.auth === true };
  }
  // The store's named operating error: ClickHouse and its spool both unusable (writer.ts, index.ts).
  if (err instanceof ExitError && err.code === EXIT.UNREACHABLE) {
    return /\b(ENOSPC|EDQUOT)\b/.test(err.message) ? { kind: 'disk_full', code: 'DISK_FULL' } : { kind: 'store', code: 'STORE_SPOOLING' };
  }
  if (err instanceof KernelAssertionError) return { kind: 'internal', code: 'KERNEL_ASSERTION' };
  return { kind: 'internal', code: 'INTERNAL_ERROR' };
}

/** One line naming the error (its class and errno), for logs, rows and stopped.json. */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const first = err.message.split('\n')[0]!;
  const code = (err as NodeJS.ErrnoException).code;
  return `${err.name}: ${typeof code === 'string' && !first.includes(code) ? `${errnoText(err)}: ` : ''}${first}`;
}

/** $PINK_HOME/stopped.json: written at a fail-stop, read by `pink ditav2-status`, removed by the next start that comes up. */
export interface FailStopRecord {
  /** Where it stopped: the seq of the input whose apply failed, else of the last input applied. */
  seq: number;
  ts: number;
  code: 'KERNEL_ASSERTION' | 'INTERNAL_ERROR';
  error: string;
  run_id: string;
  pid: number;
  /** Whether a checkpoint of what was known could be written (never after a failed apply). */
  checkpointed: boolean;
  /** What the operator runs next. */
  next: string[];
}

/** The commands an operator runs after a fail-stop, in order. */
export const FAIL_STOP_NEXT = [
  'pink replay (reproduces it offline from the journal; send the output and the error log with the report)',
  'pink restart (once: if it stops again at start, the fault is in the journaled history)',
  'pink fault INTERNAL_ERROR (the whole operator response)',
];

export function writeFailStop(path: string, rec: FailStopRecord): void {
  writeFileAtomic(path, `${JSON.stringify(rec, null, 2)}\n`);
}

/** The last fail-stop, or undefined; a file that does not parse is reported as such, not hidden. */
export function readFailStop(path: string): FailStopRecord | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const r = JSON.parse(readFileSync(path, 'utf8')) as FailStopRecord;
    if (typeof r.seq === 'number' && typeof r.error === 'string') return r;
  } catch {
    /* below */
  }
  return { seq: -1, ts: 0, code: 'INTERNAL_ERROR', error: `${path} is not readable`, run_id: '', pid: 0, checkpointed: false, next: FAIL_STOP_NEXT };
}

export function clearFailStop(path: string): void {
  rmSync(path, { force: true });
}

/** `stopped on an internal error at seq N (CODE: error)`: the reason status gives, and `pink run`'s exit message. */
export function failStopReason(r: FailStopRecord): string {
  return `stopped on an internal error at seq ${r.seq} (${r.code}: ${r.error})`;
}
