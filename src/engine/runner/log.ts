// Logs under DOLPHIN_LOG_DIR: dolphin_live_pink.log (runtime) and dolphin_live_pink-error.log
// (kernel faults above INFO), one line per event with time, code and the `pink fault CODE` hint.
// Lines pass through `redact` so that no secret is ever written.
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const RUNTIME_LOG = 'dolphin_live_pink.log';
export const ERROR_LOG = 'dolphin_live_pink-error.log';

export interface Logger {
  info(message: string): void;
  fault(code: string, severity: string, symbol: string | undefined, reason: string): void;
  readonly runtimePath: string;
  readonly errorPath: string;
}

export function createLogger(dir: string, secrets: (string | undefined)[], echo?: (line: string) => void): Logger {
  mkdirSync(dir, { recursive: true });
  const runtimePath = join(dir, RUNTIME_LOG);
  const errorPath = join(dir, ERROR_LOG);
  const hidden = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 4);
  const clean = (s: string): string => hidden.reduce((acc, secret) => acc.split(secret).join('***'), s).replace(/\n/g, ' ');
  const write = (path: string, line: string): void => {
    try {
      appendFileSync(path, `${line}\n`);
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
