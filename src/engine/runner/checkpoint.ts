// Checkpoints (SPEC 3.7): the kernel's state plus the runner's own, written atomically, with a
// checksum over the whole content (format 2). The last CHECKPOINTS_KEPT are kept under
// checkpoints/ so `pink replay --from` can start further back and a lost checkpoint.json is
// replaced by the newest of them (history.ts); the journal is pruned only up to the oldest kept.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ExitError, usageError } from '../../errors.js';
import { Kernel } from '../kernel/index.js';
import { writeFileAtomic } from '../fsutil.js';

export const CHECKPOINTS_KEPT = 5;
/** Steps between checkpoints (a checkpoint also happens at every stop and reconcile). */
export const CHECKPOINT_EVERY_STEPS = 10;
export const CHECKPOINT_FORMAT_VERSION = 2;

export interface RunnerState {
  steps: number;
  signals_offset: number;
  /** When this history first started (ms): set once and kept by every checkpoint; the funding reader starts there. */
  started_ts: number;
}

export interface Checkpoint {
  version: 2;
  seq: number;
  ts: number;
  run_id: string;
  kernel: string;
  runner: RunnerState;
}

/** sha-256 of the checkpoint's JSON without its checksum (key order as written, which JSON.parse keeps). */
function checksumOf(body: object): string {
  return createHash('sha256').update(JSON.stringify(body)).digest('hex');
}

/** The file's text: the checkpoint and, last, the checksum of everything before it. */
export function checkpointText(cp: Checkpoint): string {
  return `${JSON.stringify({ ...cp, checksum: checksumOf(cp) })}\n`;
}

/**
 * The checkpoint at `path`, or undefined when there is none. A file that is not a whole pink
 * checkpoint (a folder, torn or foreign JSON, a checksum that does not match, a kernel state that
 * does not restore) is exit 2 with the way out, never an internal error: it was damaged or is the
 * wrong file, and nothing in it is used.
 */
export function readCheckpoint(path: string): Checkpoint | undefined {
  if (!existsSync(path)) return undefined;
  const refuse = (why: string): ExitError =>
    usageError(`${path} is not a pink checkpoint, or it is damaged: ${why}.`, 'Give a checkpoint file ($PINK_HOME/checkpoint.json, or a kept copy in $PINK_HOME/checkpoints/); move a damaged checkpoint.json aside: pink then starts from the newest kept copy and the journal after it.');
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw refuse(err instanceof Error ? err.message.split('\n')[0]! : String(err));
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw refuse('not a JSON object');
  if (raw['version'] === 1) throw refuse('written by an older pink (format 1, without a checksum); this pink reads only format 2');
  if (raw['version'] !== CHECKPOINT_FORMAT_VERSION) throw refuse(`not a version ${CHECKPOINT_FORMAT_VERSION} checkpoint (version ${String(raw['version'])})`);
  const { checksum, ...body } = raw;
  if (typeof checksum !== 'string' || checksum !== checksumOf(body)) throw refuse('its checksum does not match: the file was changed or damaged');
  const cp = body as unknown as Checkpoint;
  if (typeof cp.kernel !== 'string' || !Number.isSafeInteger(cp.seq) || cp.seq < 0 || typeof cp.runner !== 'object' || cp.runner === null) {
    throw refuse('a field is missing or malformed (kernel, seq, runner)');
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

/** Writes a numbered copy, then checkpoint.json; returns the oldest kept seq (prune limit). */
export function writeCheckpoint(latestPath: string, dir: string, cp: Checkpoint): number {
  const text = checkpointText(cp);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileAtomic(join(dir, `cp-${String(cp.seq).padStart(12, '0')}.json`), text);
  writeFileAtomic(latestPath, text);
  const kept = listCheckpoints(dir);
  for (const old of kept.slice(0, Math.max(0, kept.length - CHECKPOINTS_KEPT))) rmSync(old.path, { force: true });
  return listCheckpoints(dir)[0]?.seq ?? cp.seq;
}
