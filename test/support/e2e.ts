// End-to-end support: a real simulator on loopback, a temp PINK_HOME, the real binary.
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { runPink, tempDir, type PinkResult } from './cli.js';

export interface World {
  sim: SimHandle;
  home: string;
  logDir: string;
  env: Record<string, string>;
  pink(args: string[], extraEnv?: Record<string, string>, opts?: { timeoutMs?: number }): Promise<PinkResult>;
  json<T = Record<string, unknown>>(args: string[], extraEnv?: Record<string, string>): Promise<{ code: number | null; doc: T; stderr: string }>;
  admin(path: string, body?: unknown): Promise<unknown>;
  signals(lines: unknown[]): void;
  signalsPath: string;
  close(): Promise<void>;
}

/** `fundingIntervalMs`: the simulator's funding interval (default BingX's 8 h: no funding in a test unless asked). */
export async function makeWorld(opts: { seed?: number; symbols?: string[]; env?: Record<string, string>; fundingIntervalMs?: number } = {}): Promise<World> {
  const dir = tempDir('pink-e2e-');
  const sim = await startSim({ seed: opts.seed ?? 7, priceWalk: false, ...(opts.fundingIntervalMs !== undefined ? { fundingIntervalMs: opts.fundingIntervalMs } : {}) });
  const home = join(dir.path, 'home');
  const logDir = join(dir.path, 'logs');
  mkdirSync(logDir, { recursive: true });
  const signalsPath = join(dir.path, 'intents.ndjson');
  writeFileSync(signalsPath, ''); // `pink run --signals` refuses a file that does not exist
  const env: Record<string, string> = {
    PINK_HOME: home,
    DOLPHIN_LOG_DIR: logDir,
    PINK_SIM_URL: sim.url,
    DOLPHIN_PINK_POLL_INTERVAL_SEC: '0.05',
    DOLPHIN_PINK_SYMBOLS: (opts.symbols ?? ['BTC-USDT', 'ETH-USDT']).join(','),
    ...opts.env,
  };
  const world: World = {
    sim,
    home,
    logDir,
    env,
    signalsPath,
    pink: (args, extraEnv = {}, o = {}) => runPink(args, { ...env, ...extraEnv }, o),
    async json(args, extraEnv = {}) {
      const r = await runPink([...args, '--json'], { ...env, ...extraEnv });
      let doc: unknown;
      try {
        doc = JSON.parse(r.stdout);
      } catch {
        throw new Error(`pink ${args.join(' ')} --json printed no single JSON document (exit ${r.code}): ${r.stdout.slice(0, 300)} / ${r.stderr.slice(0, 300)}`);
      }
      return { code: r.code, doc: doc as never, stderr: r.stderr };
    },
    async admin(path, body) {
      const res = await fetch(`${sim.url}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.text();
      if (!res.ok) throw new Error(`sim admin ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    signals(lines) {
      appendFileSync(signalsPath, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
    },
    async close() {
      // Stop any engine (and auto-started simulator) left running in this home, then ours.
      await stopPid(join(home, 'pink.pid'));
      await stopPid(join(home, 'sim', 'sim.json'));
      await sim.close();
      dir.remove();
    },
  };
  return world;
}

/** Polls `fn` until it returns a truthy value or the time runs out (then throws with `what`). */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, timeout_ms = 30_000, every_ms = 100): Promise<T> {
  const deadline = Date.now() + timeout_ms;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, every_ms));
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

/** SIGTERM the process named by a pid file (or a JSON file with a pid), then SIGKILL after 10 s. */
export async function stopPid(path: string): Promise<void> {
  if (!existsSync(path)) return;
  const text = readFileSync(path, 'utf8').trim();
  const pid = text.startsWith('{') ? Number((JSON.parse(text) as { pid: number }).pid) : Number(text);
  if (!Number.isInteger(pid) || pid <= 0) return;
  const alive = (): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10_000;
  while (alive() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive()) process.kill(pid, 'SIGKILL');
}
