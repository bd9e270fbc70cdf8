// One engine per home: a pid file taken with O_EXCL (which never follows a symlink), created 0600
// in a home that ensureHome has made PINK's own. A pid file left by a killed engine is detected
// (that pid is gone, or is not a pink engine) and taken over, never obeyed.
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { usageError } from '../../errors.js';
import { ensureHome, openReadNoFollow, PRIVATE_FILE_MODE } from './private-fs.js';

export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A recycled pid belonging to something else is not our engine.
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // An argv element that is the pink executable (bin/pink.js, or npx's .bin/pink).
    return /(^|\/)pink(\.js)?\0/.test(cmdline);
  } catch {
    return true;
  }
}

/** The pid in the pid file; undefined when there is none, or it is a symlink (not PINK's). */
export function readPid(path: string): number | undefined {
  let fd: number | undefined;
  try {
    fd = openReadNoFollow(path);
  } catch {
    return undefined;
  }
  if (fd === undefined) return undefined;
  let text: string;
  try {
    text = readFileSync(fd, 'utf8');
  } catch {
    return undefined; // a folder, or unreadable: no pid of ours
  } finally {
    closeSync(fd);
  }
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** The pid of the running engine of this home, or undefined (a stale pid file counts as none). */
export function runningEnginePid(pidPath: string): number | undefined {
  const pid = readPid(pidPath);
  return pid !== undefined && processAlive(pid) && pid !== process.pid ? pid : undefined;
}

export interface PidLock {
  stale_pid: number | undefined;
  release(): void;
}

export function acquirePidLock(pidPath: string): PidLock {
  let stale: number | undefined;
  ensureHome(dirname(pidPath));
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const fd = openSync(pidPath, 'wx', PRIVATE_FILE_MODE);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        stale_pid: stale,
        release: () => {
          if (readPid(pidPath) === process.pid) rmSync(pidPath, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = readPid(pidPath);
      if (pid !== undefined && pid !== process.pid && processAlive(pid)) {
        throw usageError(
          `an engine is already running on this home (pid ${pid}).`,
          'Use `pink ditav2-status`, `pink restart`, or another --home.',
        );
      }
      stale = pid;
      rmSync(pidPath, { force: true });
    }
  }
  throw usageError(`could not take the pid file ${pidPath}.`, 'Another engine is starting on this home; retry in a moment.');
}
