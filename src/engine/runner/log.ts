// Logs under DOLPHIN_LOG_DIR: dolphin_live_pink.log (runtime) and dolphin_live_pink-error.log
// (kernel faults above INFO), one line per event with time, code and the `pink fault CODE` hint.
// Lines pass through `redact` so that no secret is ever written. The folder is PINK's own
// (ensurePrivateDir: created 0700, refused when another user owns or can write it) and each line is
// appended through an open that never follows a symlink, to a file created 0600.
import { closeSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_PATHS } from '../faults/taxonomy.js';
import { ensurePrivateDir, openAppendPrivate } from './private-fs.js';

/** The log files' names, as the fault taxonomy tells the operator (one definition: LOG_PATHS). */
export const RUNTIME_LOG = LOG_PATHS.runtime;
export const ERROR_LOG = LOG_PATHS.errors;

export interface Logger {
  info(message: string): void;
  fault(code: string, severity: string, symbol: string | undefined, reason: string): void;
  readonly runtimePath: string;
  readonly errorPath: string;
}

/** Throws ExitError(2) when the log dir or a log file is not PINK's own (see private-fs.ts). */
export function createLogger(dir: string, secrets: (string | undefined)[], echo?: (line: string) => void): Logger {
  ensurePrivateDir(dir, { variable: 'DOLPHIN_LOG_DIR', private: false });
  const runtimePath = join(dir, RUNTIME_LOG);
  const errorPath = join(dir, ERROR_LOG);
  // Refused now, at start, rather than lost line by line: a symlink or someone else's file.
  for (const path of [runtimePath, errorPath]) closeSync(openAppendPrivate(path));
  const hidden = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4);
  const clean = (s: string): string => hidden.reduce((acc, secret) => acc.split(secret).join('***'), s).replace(/\n/g, ' ');
  const write = (path: string, line: string): void => {
    try {
      // Opened per line (as appendFileSync did), so that a rotated log is followed by its new file.
      const fd = openAppendPrivate(path);
      try {
        writeSync(fd, `${line}\n`);
      } finally {
        closeSync(fd);
      }
    } catch {
      /* a full or missing log disk must not stop trading; the journal is the record */
    }
  };
  return {
    runtimePath,
    errorPath,
    info(message) {
      const line = `${new Date().toISOString()} INFO ${clean(message)}`;
      write(runtimePath, line);
      echo?.(line);
    },
    fault(code, severity, symbol, reason) {
      const line = `${new Date().toISOString()} ${severity} ${code}${symbol ? ` ${symbol}` : ''} ${clean(reason)} (see: pink fault ${code})`;
      write(runtimePath, line);
      write(errorPath, line);
      echo?.(line);
    },
  };
}
