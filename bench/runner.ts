// Engine figures: status cold start against a running engine, step time with 2 and 20 symbols,
// restart-to-converged, and engine RSS after minutes of the demo strategy. Real binary, real
// simulator over HTTP, real chDB. `--quick` shortens the RSS run from 10 minutes to 1.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSim, type SimHandle } from '../src/sim/index.js';
import { BIN, cleanEnv, runPink } from '../test/support/cli.js';
import { stopPid, waitFor } from '../test/support/e2e.js';
import { median, memMb } from './measure.js';

const SYMBOLS_20 = ['BTC', 'ETH', 'SOL', 'LTC', 'BNB', 'XRP', 'DOGE', 'ADA', 'DOT', 'LINK', 'AVAX', 'ATOM', 'NEAR', 'APT', 'ARB', 'OP', 'SUI', 'TRX', 'FIL', 'UNI'].map((s) => `${s}-USDT`);

function timeCommand(args: string[], env: Record<string, string>, runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    spawnSync(process.execPath, args, { env, stdio: 'ignore' });
    times.push(performance.now() - t0);
  }
  return median(times);
}

interface Running {
  sim: SimHandle;
  home: string;
  env: Record<string, string>;
  pid: number;
  stop(): Promise<void>;
}

async function startEngine(symbols: string[], poll_sec: number, extraEnv: Record<string, string> = {}): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'pink-bench-'));
  const sim = await startSim({ seed: 11, symbols, priceWalk: true });
  const home = join(dir, 'home');
  const env = cleanEnv({
    PINK_HOME: home,
    DOLPHIN_LOG_DIR: join(dir, 'logs'),
    PINK_SIM_URL: sim.url,
    DOLPHIN_PINK_POLL_INTERVAL_SEC: String(poll_sec),
    DOLPHIN_PINK_SYMBOLS: symbols.join(','),
    DOLPHIN_MAX_HOLD_BARS: '20',
    DOLPHIN_PINK_TRADE_NOTIONAL: '50',
    ...extraEnv,
  });
  const r = await runPink(['run', '--detach', '--json'], env);
  if (r.code !== 0) throw new Error(`engine did not start: ${r.stderr}`);
  const pid = (JSON.parse(r.stdout) as { pid: number }).pid;
  return {
    sim,
    home,
    env,
    pid,
    async stop() {
      await stopPid(join(home, 'pink.pid'));
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function status(e: Running): Promise<{ engine: { steps: number; step_ms_p50: number; step_ms_p99: number; rest_calls: number; pid: number } }> {
  const r = await runPink(['ditav2-status', '--json'], e.env);
  return JSON.parse(r.stdout) as never;
}

async function stepFigures(symbols: string[]): Promise<string> {
  // 0.3 s: under BingX's 5/s limit on open-order reads, which the adapter's throttle enforces at
  // 80% (4/s); a faster poll would measure the throttle, not the step.
  const e = await startEngine(symbols, 0.3);
  try {
    const first = await status(e);
    await waitFor('100 steps', async () => (await status(e)).engine.steps >= first.engine.steps + 100, 120_000, 500);
    const s = await status(e);
    const calls = (s.engine.rest_calls - first.engine.rest_calls) / (s.engine.steps - first.engine.steps);
    return `step time with ${String(symbols.length).padStart(2)} symbols: p50 ${s.engine.step_ms_p50.toFixed(1)} ms, p99 ${s.engine.step_ms_p99.toFixed(1)} ms (demo strategy, last ≤1024 steps; ${calls.toFixed(2)} REST calls/step incl. orders)`;
  } finally {
    await e.stop();
  }
}

export async function bench(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const rssMinutes = quick ? 1 : 10;
  // 1. status against a running engine, vs node -e 0, same run.
  const e = await startEngine(['BTC-USDT', 'ETH-USDT'], 0.2);
  try {
    await waitFor('a few steps', async () => (await status(e)).engine.steps >= 5, 30_000, 200);
    const nodeMs = timeCommand(['-e', '0'], e.env, 15);
    const statusMs = timeCommand([BIN, 'ditav2-status', '--json'], e.env, 15);
    console.log(`status: pink ditav2-status --json (engine up) ${statusMs.toFixed(0)} ms = ${(statusMs / nodeMs).toFixed(2)}x node -e 0 (${nodeMs.toFixed(0)} ms), median of 15 (goal <= 2x)`);

    // 3. restart to converged, and what it cost the venue.
    const before = e.sim.requestCount();
    const t0 = performance.now();
    const r = await runPink(['restart', '--json'], e.env);
    const ms = performance.now() - t0;
    const doc = JSON.parse(r.stdout) as { converged: boolean; pid: number };
    const requests = e.sim.requestCount() - before;
    console.log(`restart: to converged ${ms.toFixed(0)} ms (exit ${r.code}, converged ${doc.converged}); venue requests during it: ${requests} (new engine's markets + key check + startup reconcile + its first polls)`);
  } finally {
    await e.stop();
  }
  // 2. step time, 2 and 20 symbols.
  console.log(await stepFigures(['BTC-USDT', 'ETH-USDT']));
  console.log(await stepFigures(SYMBOLS_20));
  // 4. RSS after minutes of the demo strategy.
  const d = await startEngine(['BTC-USDT', 'ETH-USDT'], 0.1, { DOLPHIN_MAX_HOLD_BARS: '10' });
  try {
    await waitFor('warm-up', async () => (await status(d)).engine.steps >= 20, 60_000, 500);
    const rssStart = memMb(d.pid).rss;
    const stepsStart = (await status(d)).engine.steps;
    await new Promise((r) => setTimeout(r, rssMinutes * 60_000));
    const s = await status(d);
    const rssEnd = memMb(d.pid).rss;
    console.log(`rss: engine ${rssEnd.toFixed(0)} MB after ${rssMinutes} min of the demo strategy at a 0.1 s poll (${s.engine.steps - stepsStart} steps; ${rssStart.toFixed(0)} MB after warm-up)${quick ? ' [--quick]' : ''}`);
  } finally {
    await d.stop();
  }
}

if (process.argv[1] && existsSync(process.argv[1]) && fileURLToPath(import.meta.url) === process.argv[1]) {
  await bench();
}
