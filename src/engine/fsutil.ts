// Durable file primitives shared by the runner (journal, checkpoint, run.json), the store (spool
// units, the unit ledger) and the simulator (its state file). Every file written here is opened
// without following a symlink (O_NOFOLLOW), and created 0600 unless its caller says otherwise: a
// link planted in $PINK_HOME cannot redirect PINK's writes (issue 17).
import { closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const { O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW, O_TRUNC } = constants;

/** An append-only file, created 0600 if missing; a symlink at `path` is refused (ELOOP). */
export function openAppendNoFollow(path: string, mode = 0o600): number {
  return openSync(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, mode);
}

/** A new or truncated file holding `data`, created 0600; a symlink at `path` is refused (ELOOP). */
export function writeFileNoFollow(path: string, data: Buffer): void {
  const fd = openSync(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600);
  try {
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `data` at the file's position (a short write is continued, never dropped). */
export function writeAll(fd: number, data: Buffer): void {
  // Bounded: every round writes at least one byte, or writeSync throws.
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off, data.length - off);
}

/** The disk (or the user's quota) is full: an operating error, unlike any other write failure. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

/** `ENOSPC: no space left on device, write` → `ENOSPC (no space left on device)`. */
export function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException | null;
  const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
  if (typeof e?.code !== 'string') return message;
  const why = /^[A-Z]+: ([^,]+)/.exec(message)?.[1];
  return why ? `${e.code} (${why})` : e.code;
}

/** How writeFileAtomic names its temporary: `<path>.tmp-<pid>`, in the same folder as `path`. */
function temporaryOf(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

/** Whether a file name is one of writeFileAtomic's temporaries (a write a crash cut short). */
export function isAtomicTemporary(name: string): boolean {
  return /\.tmp-\d+$/.test(name);
}

export interface AtomicWriteOptions {
  /** The new file's mode, before the umask (default 0600). */
  mode?: number;
  /** Fail when the folder cannot be fsynced, rather than go on (see fsyncDir). */
  dir_fsync_required?: boolean;
}

/**
 * Write, fsync, rename, fsync the folder: a reader sees the old file or the new one, never half.
 * The temporary file is created exclusively (never through a link) and removed when anything
 * fails, so a full disk leaves no `*.tmp-PID` behind.
 */
export function writeFileAtomic(path: string, data: string, opts: AtomicWriteOptions = {}): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = temporaryOf(path);
  // A temporary file left by a killed process of the same pid: ours to replace (rmSync removes a link, not its target).
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, opts.mode ?? 0o600);
  try {
    try {
      writeAll(fd, Buffer.from(data, 'utf8'));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dirname(path), { required: opts.dir_fsync_required === true });
}

/**
 * Makes a rename or unlink in `dir` durable. Some file systems refuse fsync on a folder: by
 * default that is fine (the rename is still atomic there), with `required` it throws.
 */
export function fsyncDir(dir: string, opts: { required?: boolean } = {}): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if (opts.required === true) throw err;
  }
}
