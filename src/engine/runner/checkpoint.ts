// Checkpoints (SPEC 3.7): the kernel's state plus the runner's own, written atomically. The last
// CHECKPOINTS_KEPT are kept under checkpoints/ so `pink replay --from` can start further back;
// the journal is pruned only up to the oldest kept checkpoint.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ExitError, usageError } from '../../errors.js';
import { Kernel } from '../kernel/index.js';
import { writeFileAtomic } from './fsutil.js';

export const CHECKPOINTS_KEPT = 5;
/** Steps between checkpoints (a checkpoint also happens at every stop and reconcile). */
export const CHECKPOINT_EVERY_STEPS = 10;

export interface RunnerState {
  steps: number;
  signals_offset: number;
  /** Intent ids the signals strategy has already handed to the kernel (bounded). */
  started_ts: number;
}

export interface Checkpoint {
  version: 1;
  seq: number;
  ts: number;
  run_id: string;
  kernel: string;
  runner: RunnerState;
}

/**
 * The checkpoint at `path`, or undefined when there is none. A file that is not a whole pink
 * checkpoint (a folder, torn or foreign JSON, a kernel state that does not restore) is an operating
 * error, exit 2 with the way out, never an internal error: it was damaged or is the wrong file.
 */
export function readCheckpoint(path: string): Checkpoint | undefined {
  if (!existsSync(path)) return undefined;
  const refuse = (why: string): ExitError =>
    usageError(`${path} is not a pink checkpoint, or it is damaged: ${why}.`, 'Give a checkpoint file ($PINK_HOME/checkpoint.json, or a kept copy in $PINK_HOME/checkpoints/); move a damaged one aside.');
  let cp: Checkpoint;
  try {
    cp = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
  } catch (err) {
    throw refuse(err instanceof Error ? err.message.split('\n')[0]! : String(err));
  }
  if (typeof cp !== 'object' || cp === null || cp.version !== 1 || typeof cp.kernel !== 'string' || typeof cp.seq !== 'number' || !Number.isInteger(cp.seq) || cp.seq < 0) {
    throw refuse(`not a version 1 checkpoint (version ${String((cp as Partial<Checkpoint> | null)?.version)})`);
  }
  try {
    Kernel.restore(cp.kernel);
  } catch (err) {
    // A KernelAssertionError here is a state that breaks the kernel's invariants: damaged too.
    throw refuse(`its kernel state does not restore (${err instanceof Error ? err.message.split('\n')[0]! : String(err)})`);
  }
  return cp;
}

export function listCheckpoints(dir: string): { path: string; seq: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ name, m: /^cp-(\d{12})\.json$/.exec(name) }))
    .filter((e): e is { name: string; m: RegExpExecArray } => e.m !== null)
    .map((e) => ({ path: join(dir, e.name), seq: Number(e.m[1]) }))
    .sort((a, b) => a.seq - b.seq);
}

/** Writes checkpoint.json and a numbered copy; returns the oldest kept seq (prune limit). */
export function writeCheckpoint(latestPath: string, dir: string, cp: Checkpoint): number {
  const text = `${JSON.stringify(cp)}\n`;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(dir, `cp-${String(cp.seq).padStart(12, '0')}.json`), text);
  writeFileAtomic(latestPath, text);
  const kept = listCheckpoints(dir);
  for (const old of kept.slice(0, Math.max(0, kept.length - CHECKPOINTS_KEPT))) rmSync(old.path, { force: true });
  return listCheckpoints(dir)[0]?.seq ?? cp.seq;
}
