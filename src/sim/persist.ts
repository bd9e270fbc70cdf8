// --state FILE: the simulator's state survives a restart. Written atomically after every
// request that changed orders, fills, positions or the balance (write a temporary file,
// fsync it, rename it over the old one, fsync the folder), so a kill -9 at any instant
// leaves either the previous state or the new one, never half of one.
//
// One writer per state file, and never a stale one:
//   - FILE.lock, taken with O_EXCL at start (pid and a per-simulator token inside): a second
//     simulator on the same file refuses to start while the first lives (a stopped process —
//     SIGSTOP — still lives); a lock left by a dead process is taken over.
//   - before each write the writer checks that the lock still carries its token and that the
//     file is the one it wrote last (inode, size, mtime): a simulator stopped with SIGSTOP
//     whose lock was taken over meanwhile (someone removed it by hand and started another)
//     finds a newer state on resume and refuses to write (StateFencedError) instead of
//     putting its older state back.

import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../engine/fsutil.js';
import type { SimStateData } from './types.js';

/** Another simulator owns the state file now: this one must not write it again. */
export class StateFencedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateFencedError';
  }
}

function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Stamp {
  ino: number;
  size: number;
  mtime_ms: number;
}

const stampOf = (path: string): Stamp | undefined => {
  if (!existsSync(path)) return undefined;
  const st = statSync(path);
  return { ino: st.ino, size: st.size, mtime_ms: st.mtimeMs };
};
const sameStamp = (a: Stamp | undefined, b: Stamp | undefined): boolean =>
  a === undefined || b === undefined ? a === b : a.ino === b.ino && a.size === b.size && a.mtime_ms === b.mtime_ms;

/** The right to write one state file, held from start to close. */
export class StateWriter {
  readonly path: string;
  private readonly lockPath: string;
  private readonly token = randomBytes(8).toString('hex');
  /** What this writer last saw on disk (loaded or wrote). */
  private stamp: Stamp | undefined;
  private released = false;

  constructor(path: string) {
    this.path = path;
    this.lockPath = `${path}.lock`;
    mkdirSync(dirname(path), { recursive: true });
    this.take();
    this.stamp = stampOf(path);
  }

  private take(): void {
    // Two attempts: the second after removing a lock whose owner is gone.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockPath, 'wx', 0o600);
        writeSync(fd, `${process.pid} ${this.token}\n`);
        closeSync(fd);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const [pidText] = readFileSync(this.lockPath, 'utf8').trim().split(' ');
        const pid = Number(pidText);
        if (pid === process.pid) throw new Error(`simulator state ${this.path} is in use by another simulator of this process (${this.lockPath}); use another --state`);
        if (alive(pid)) throw new Error(`simulator state ${this.path} is in use by another simulator (pid ${pid}, ${this.lockPath}); stop it first, or use another --state`);
        rmSync(this.lockPath, { force: true });
      }
    }
    throw new Error(`simulator state ${this.path}: could not take ${this.lockPath}; another simulator is starting on it`);
  }

  /** Throws StateFencedError when another writer took the file over. */
  private checkFence(): void {
    const owner = existsSync(this.lockPath) ? readFileSync(this.lockPath, 'utf8').trim().split(' ')[1] : undefined;
    if (owner !== this.token) {
      throw new StateFencedError(`simulator state ${this.path}: the lock ${this.lockPath} is no longer this simulator's; not writing (another simulator owns the state now)`);
    }
    if (!sameStamp(stampOf(this.path), this.stamp)) {
      throw new StateFencedError(`simulator state ${this.path} was written by someone else since this simulator last wrote it; not writing an older state over it`);
    }
  }

  save(state: SimStateData): void {
    if (this.released) throw new StateFencedError(`simulator state ${this.path}: this simulator has closed`);
    this.checkFence();
    saveState(this.path, state);
    this.stamp = stampOf(this.path);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    const owner = existsSync(this.lockPath) ? readFileSync(this.lockPath, 'utf8').trim().split(' ')[1] : undefined;
    if (owner === this.token) rmSync(this.lockPath, { force: true });
  }
}

export function loadState(path: string): SimStateData | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`simulator state ${path} is not valid JSON (${(err as Error).message}); move it away to start fresh`);
  }
  const d = data as Partial<SimStateData>;
  if (typeof d !== 'object' || d === null || d.version !== 1 || !Array.isArray(d.open_orders) || !Array.isArray(d.fills)) {
    throw new Error(`simulator state ${path} is not a version 1 simulator state; move it away to start fresh`);
  }
  return d as SimStateData;
}

export function saveState(path: string, state: SimStateData): void {
  writeFileAtomic(path, JSON.stringify(state));
}
