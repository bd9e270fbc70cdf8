// Where a kernel's history is, read and verified before anything trusts it: checkpoint.json, else
// the newest kept checkpoint that the journal continues from, and the journal after it. One rule
// for the engine, `pink ditav2-status` (engine down), `pink flatten --dry-run` and `pink restart`:
// - a damaged record or checkpoint stops the reader (exit 2, the file, the fix); never skipped;
// - a lost checkpoint.json falls back to the newest kept copy the journal continues from, said so;
// - no checkpoint at all while the journal (or the store, main.ts) shows a history: refused, exit 2;
//   a new history is started only on purpose (`pink run --new-history`, which moves the old one
//   aside under $PINK_HOME/archive/, never deleting it).
import { existsSync, mkdirSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { homePaths } from '../../config.js';
import { usageError, type ExitError } from '../../errors.js';
import { listCheckpoints, readCheckpoint, type Checkpoint } from './checkpoint.js';
import { continuesFrom, JournalDamageError, scanJournal, type JournalScan } from './journal-read.js';
import type { JournalRecord } from './journal.js';
import { fsyncDir } from '../fsutil.js';

type Paths = ReturnType<typeof homePaths>;

export interface History {
  checkpoint: Checkpoint | undefined;
  checkpoint_path: string | undefined;
  /** Said at start and by status when the checkpoint used is not checkpoint.json. */
  note: string | undefined;
  scan: JournalScan;
  /** The journal's records after the checkpoint, verified. */
  records: JournalRecord[];
  /**
   * `--new-history` after an old one: where the new history starts reading the signals file (its
   * size then). The old history may have taken any of the intents already there, and the new one
   * cannot know which; reading them again would send their orders a second time.
   */
  signals_from?: number;
}

/** What `pink run --new-history` is, for every refusal that needs it. */
export const NEW_HISTORY_FIX =
  'Restore $PINK_HOME/checkpoint.json or checkpoints/ from a copy if you have one; or start a new history on purpose: `pink run --new-history` (the old journal and checkpoints are moved to $PINK_HOME/archive/, never deleted; the startup reconcile takes the venue\'s positions).';

/** No checkpoint, but a history exists: exit 2, what was found, the fix. */
export function historyMissing(found: string): ExitError {
  return usageError(`refused to start a new history: ${found}, but there is no checkpoint to continue it from.`, NEW_HISTORY_FIX);
}

/** Reads and verifies the history of a home (read-only: a torn journal tail is left for the engine to cut). */
export function locateHistory(paths: Paths): History {
  const latest = readCheckpoint(paths.checkpoint);
  const scan = scanJournal(paths.journal);
  const from = (checkpoint: Checkpoint, path: string, note?: string): History => {
    const gap = continuesFrom(scan, checkpoint.seq, paths.journal);
    if (gap) throw new JournalDamageError(gap);
    return { checkpoint, checkpoint_path: path, note, scan, records: scan.records.filter((r) => r.seq > checkpoint.seq) };
  };
  if (latest) return from(latest, paths.checkpoint);
  const kept = listCheckpoints(paths.checkpoints).reverse();
  for (const k of kept) {
    const cp = readCheckpoint(k.path);
    if (!cp || continuesFrom(scan, cp.seq, paths.journal)) continue;
    return from(cp, k.path, `${paths.checkpoint} is missing: restored from the newest kept checkpoint ${k.path} (seq ${cp.seq}) and the journal after it`);
  }
  if (kept.length > 0) {
    throw historyMissing(`${paths.checkpoint} is missing, and the journal continues from none of the ${kept.length} kept checkpoints in ${paths.checkpoints} (seqs ${kept.map((k) => k.seq).reverse().join(', ')}; journal inputs ${scan.first_in ?? '-'}-${scan.last_in ?? '-'})`);
  }
  if (scan.segments.length > 0) {
    throw historyMissing(`the journal ${paths.journal} holds ${scan.first_in === undefined ? 'segments' : `inputs ${scan.first_in}-${scan.last_in}`}`);
  }
  return { checkpoint: undefined, checkpoint_path: undefined, note: undefined, scan, records: [] };
}

/**
 * `pink run --new-history`: moves the journal, the checkpoints and the fail-stop record of the old
 * history into $PINK_HOME/archive/history-<time>/ (same file system: renames). Returns that folder,
 * or undefined when there was nothing to move.
 */
export function archiveHistory(paths: Paths, now_ms: number): string | undefined {
  const movable = [paths.journal, paths.checkpoints, paths.checkpoint, stoppedPath(paths)].filter((p) => existsSync(p));
  if (movable.length === 0) return undefined;
  const dir = join(archiveRoot(paths), `history-${new Date(now_ms).toISOString().replace(/[-:.]/g, '')}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const p of movable) renameSync(p, join(dir, basename(p)));
  fsyncDir(dir);
  fsyncDir(paths.home);
  return dir;
}

/** $PINK_HOME/archive/: every history `--new-history` moved aside; present once there was one. */
export function archiveRoot(paths: Paths): string {
  return join(paths.home, 'archive');
}

/** $PINK_HOME/stopped.json: the last fail-stop (main.ts writes it, status reads it). */
export function stoppedPath(paths: Paths): string {
  return join(paths.home, 'stopped.json');
}
