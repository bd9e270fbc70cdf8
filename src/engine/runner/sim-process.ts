// Venue `sim` with no PINK_SIM_URL: start (or reuse) a simulator process under $PINK_HOME/sim/,
// so that `npx pink run` works on a fresh machine. It is its own process, so the venue's truth
// survives a kill -9 of the engine, as a real venue's would.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { unreachableError } from '../../errors.js';
import { writeFileAtomic } from './fsutil.js';
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
  const existing = readSimInfo(simDir);
  if (existing && (await answers(existing.url))) return existing;
  const logPath = join(simDir, 'sim.log');
  const out = openAppendPrivate(logPath);
  const child = spawn(
    process.execPath,
    [bin, 'sim', '--json', '--port', '0', '--state', join(simDir, 'state.json'), '--seed', String(seed), '--symbols', [...new Set([...SIM_BASE_SYMBOLS, ...symbols])].join(',')],
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
