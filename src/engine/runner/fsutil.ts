// Durable file primitives shared by the journal, the checkpoint and run.json. Every file PINK
// writes here is created 0600 and opened without following a symlink (O_NOFOLLOW): a link
// planted in $PINK_HOME cannot redirect PINK's writes (issue 17).
import { closeSync, constants, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

const { O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW } = constants;

/** An append-only file, created 0600 if missing; a symlink at `path` is refused (ELOOP). */
export function openAppendNoFollow(path: string, mode = 0o600): number {
  return openSync(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, mode);
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

/**
 * Write, fsync, rename, fsync the folder: a reader sees the old file or the new one, never half.
 * The temporary file is created exclusively (never through a link) and removed when anything
 * fails, so a full disk leaves no `*.tmp-PID` behind.
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  // A temporary file left by a killed process of the same pid: ours to replace (rmSync removes a link, not its target).
  rmSync(tmp, { force: true });
  const fd = openSync(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
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
  fsyncDir(dirname(path));
}

export function fsyncDir(dir: string): void {
  // Directory fsync makes the rename itself durable; some file systems refuse it, which is fine.
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    /* not supported here */
  }
}
