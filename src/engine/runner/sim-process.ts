// Venue `sim` with no PINK_SIM_URL: start (or reuse) a simulator process under $PINK_HOME/sim/,
// so that `npx pink run` works on a fresh machine. It is its own process, so the venue's truth
// survives a kill -9 of the engine, as a real venue's would.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unreachableError } from '../../errors.js';
import { writeFileAtomic } from '../fsutil.js';
import { processAlive } from './lock.js';
import { openAppendPrivate, PRIVATE_DIR_MODE } from './private-fs.js';

export interface SimProcessInfo {
  pid: number;
  url: string;
}

const SIM_START_TIMEOUT_MS = 15_000;

export function simInfoPath(simDir: string): string {
  return join(simDir, 'sim.json');
}

export function readSimInfo(simDir: string): SimProcessInfo | undefined {
  const path = simInfoPath(simDir);
  if (!existsSync(path)) return undefined;
  try {
    const info = JSON.parse(readFileSync(path, 'utf8')) as SimProcessInfo;
    return processAlive(info.pid) ? info : undefined;
  } catch {
    return undefined;
  }
}

const statePath = (simDir: string): string => join(simDir, 'state.json');

/** A process's command line (Linux /proc), or undefined where it cannot be read. */
function cmdlineOf(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

/**
 * The simulator recorded in sim.json, found again by its pid and URL: alive and, where the
 * command line can be read, a `sim` on this home's state file (not a pid reused by another program).
 */
export function recordedSim(simDir: string): SimProcessInfo | undefined {
  const info = readSimInfo(simDir);
  if (!info) return undefined;
  const cmd = cmdlineOf(info.pid);
  if (cmd !== undefined && !(cmd.includes('sim') && cmd.includes(statePath(simDir)))) return undefined;
  return info;
}

/** The live pid holding the state file's lock (persist.ts: "PID TOKEN"), if any. */
function stateLockOwner(simDir: string): number | undefined {
  const lock = `${statePath(simDir)}.lock`;
  try {
    const pid = Number(readFileSync(lock, 'utf8').trim().split(' ')[0]);
    return Number.isInteger(pid) && pid > 0 && processAlive(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const r = await fetch(`${url}/openApi/swap/v2/server/time`, { signal: AbortSignal.timeout(2000) });
    return r.ok;
  } catch {
    return false;
  }
}

/** The simulator lists these besides the engine's own symbols (as `pink sim` does by default). */
const SIM_BASE_SYMBOLS = ['BTC-USDT', 'ETH-USDT', 'SOL-USDT', 'LTC-USDT', 'BNB-USDT', 'XRP-USDT', 'DOGE-USDT'];

export async function ensureSimProcess(bin: string, simDir: string, env: Readonly<Record<string, string | undefined>>, seed: number, initialCapital: number, symbols: string[]): Promise<SimProcessInfo> {
  // Under the home, which ensureHome has made PINK's own: the folder 0700, its log 0600, no symlink.
  mkdirSync(simDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  // One simulator per PINK_HOME (issue 18): the one recorded is reused whatever it answers now (a
  // rate limit, a hang, SIGSTOP are venue faults the engine reports), never replaced while it lives.
  const existing = recordedSim(simDir);
  if (existing) return existing;
  const owner = stateLockOwner(simDir);
  if (owner !== undefined) {
    throw unreachableError(`a simulator (pid ${owner}) already owns ${statePath(simDir)}, but ${simInfoPath(simDir)} does not name it; PINK does not start a second simulator on the same state.`, `Stop that simulator (kill ${owner}), then run the command again.`);
  }
  const logPath = join(simDir, 'sim.log');
  const out = openAppendPrivate(logPath);
  const child = spawn(
    process.execPath,
    [bin, 'sim', '--json', '--port', '0', '--state', statePath(simDir), '--seed', String(seed), '--symbols', [...new Set([...SIM_BASE_SYMBOLS, ...symbols])].join(',')],
    { detached: true, stdio: ['ignore', out, out], env: { ...env, DOLPHIN_PINK_INITIAL_CAPITAL: String(initialCapital) } },
  );
  closeSync(out);
  child.unref();
  const deadline = Date.now() + SIM_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    const text = existsSync(logPath) ? readFileSync(logPath, 'utf8') : '';
    const m = /"url"\s*:\s*"(http:\/\/127\.0\.0\.1:\d+)"/g;
    let url: string | undefined;
    for (let hit = m.exec(text); hit; hit = m.exec(text)) url = hit[1];
    if (url && child.pid && (await answers(url))) {
      const info = { pid: child.pid, url };
      writeFileAtomic(simInfoPath(simDir), `${JSON.stringify(info)}\n`);
      return info;
    }
    if (child.exitCode !== null) break;
  }
  throw unreachableError(`the simulator did not start (see ${logPath}).`, 'Start one with `pink sim` and set PINK_SIM_URL to its URL.');
}
