// One chaos seed's world: a seeded simulator in this process, a temporary PINK_HOME, the real
// binary for every engine start and command, and the bookkeeping that guarantees cleanup: every
// engine pid this world started is killed (SIGKILL) at close if still alive, even on failure.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { runPink, tempDir, type PinkResult } from '../support/cli.js';
import { injectEnv } from './inject.js';

export interface ChaosWorldOptions {
  seed: number;
  symbols: string[];
  /** The simulator's funding interval (issue 20). */
  fundingIntervalMs?: number;
}

/** Engine settings for chaos: fast steps, short trades, a short default rate-limit cooldown. */
export const CHAOS_ENGINE_ENV = {
  DOLPHIN_PINK_POLL_INTERVAL_SEC: '0.05',
  DOLPHIN_MAX_HOLD_BARS: '4',
  DITA_V2_RATE_LIMIT_COOLDOWN_SEC: '1',
};

/** Bound on one CLI invocation (a restart waits up to its own --timeout inside this). */
export const PINK_CALL_MS_MAX = 60_000;

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie or a recycled pid is not our engine.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (/\) [ZX] /.test(stat)) return false;
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pink.js');
  } catch {
    return false;
  }
}

export async function waitGone(pid: number, timeout_ms: number): Promise<boolean> {
  const deadline = Date.now() + timeout_ms;
  while (Date.now() < deadline) {
    if (!pidAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return !pidAlive(pid);
}

/** Worlds not yet closed, so that an interrupted run (Ctrl-C) can still kill its engines. */
const OPEN_WORLDS = new Set<ChaosWorld>();

/** SIGKILLs every engine of every open world, synchronously (for a signal handler). */
export function killAllEnginesSync(): number {
  let killed = 0;
  for (const w of OPEN_WORLDS) {
    w.enginePid();
    for (const pid of w.pids) {
      if (!pidAlive(pid)) continue;
      try {
        process.kill(pid, 'SIGKILL');
        killed += 1;
      } catch {
        /* gone meanwhile */
      }
    }
  }
  return killed;
}

export class ChaosWorld {
  readonly sim: SimHandle;
  readonly home: string;
  readonly logDir: string;
  /** Flag files of inject.ts (a full disk, a kernel assertion), loaded into every pink process of this world. */
  readonly faultsDir: string;
  readonly env: Record<string, string>;
  private readonly dir: { path: string; remove: () => void };
  /** Every engine pid this world started, for cleanup. */
  readonly pids = new Set<number>();
  /** CLI invocations still running: close() waits for them (each is bounded) before its kills. */
  private readonly inflight = new Set<Promise<unknown>>();
  private closed = false;

  private constructor(sim: SimHandle, dir: { path: string; remove: () => void }, symbols: string[]) {
    this.sim = sim;
    this.dir = dir;
    this.home = join(dir.path, 'home');
    this.logDir = join(dir.path, 'logs');
    this.faultsDir = join(dir.path, 'faults');
    mkdirSync(this.logDir, { recursive: true });
    mkdirSync(this.faultsDir, { recursive: true });
    OPEN_WORLDS.add(this);
    this.env = {
      PINK_HOME: this.home,
      DOLPHIN_LOG_DIR: this.logDir,
      PINK_SIM_URL: sim.url,
      DOLPHIN_PINK_SYMBOLS: symbols.join(','),
      ...CHAOS_ENGINE_ENV,
      ...injectEnv(this.faultsDir),
    };
  }

  static async open(o: ChaosWorldOptions): Promise<ChaosWorld> {
    const dir = tempDir(`pink-chaos-${o.seed}-`);
    try {
      const sim = await startSim({ seed: o.seed, symbols: [...new Set([...o.symbols, 'BTC-USDT', 'ETH-USDT'])], ...(o.fundingIntervalMs !== undefined ? { fundingIntervalMs: o.fundingIntervalMs } : {}) });
      return new ChaosWorld(sim, dir, o.symbols);
    } catch (err) {
      dir.remove();
      throw err;
    }
  }

  get folder(): string {
    return this.dir.path;
  }

  pink(args: string[], extraEnv: Record<string, string> = {}, timeoutMs = PINK_CALL_MS_MAX): Promise<PinkResult> {
    if (this.closed) return Promise.reject(new Error('chaos world closed'));
    const p = runPink(args, { ...this.env, ...extraEnv }, { timeoutMs });
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p)).catch(() => {});
    return p;
  }

  /** The pid in $PINK_HOME/pink.pid (the running engine's, or a killed one's), remembered for cleanup. */
  enginePid(): number | undefined {
    const path = join(this.home, 'pink.pid');
    if (!existsSync(path)) return undefined;
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    this.pids.add(pid);
    return pid;
  }

  async admin(path: string, body?: unknown): Promise<unknown> {
    if (this.closed) throw new Error('chaos world closed');
    const res = await fetch(`${this.sim.url}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    if (!res.ok) throw new Error(`sim admin ${path}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  /** Kills every engine this world started (SIGKILL), stops the simulator, removes the folder unless `keep`. */
  async close(keep = false): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inflight]);
    this.enginePid();
    for (const pid of this.pids) {
      if (pidAlive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone meanwhile */
        }
        await waitGone(pid, 5000);
      }
    }
    await this.sim.close();
    OPEN_WORLDS.delete(this);
    if (!keep) this.dir.remove();
  }
}
