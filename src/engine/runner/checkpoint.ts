// Checkpoints (SPEC 3.7): the kernel's state plus the runner's own, written atomically. The last
// CHECKPOINTS_KEPT are kept under checkpoints/ so `pink replay --from` can start further back;
// the journal is pruned only up to the oldest kept checkpoint.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './fsutil.js';

export const CHECKPOINTS_KEPT = 5;

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

export function readCheckpoint(path: string): Checkpoint | undefined {
  if (!existsSync(path)) return undefined;
  const cp = JSON.parse(readFileSync(path, 'utf8')) as Checkpoint;
  if (cp.version !== 1 || typeof cp.kernel !== 'string' || typeof cp.seq !== 'number') {
    throw new Error(`${path} is not a pink checkpoint (version ${String(cp.version)})`);
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
