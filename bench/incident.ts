// Incident latency (issue 21): what an operator waits for in an incident, with the simulator adding
// 0 and 150 ms to every venue request. For each: the wall time of the command (the CLI's own start
// included, as the operator sees it), the venue requests served while it ran and the *sequential*
// round trips among them (the longest chain of requests each sent after the previous one was
// answered: src/sim/overlap.ts). The engine's own step reads during the command are
// venue requests too and are counted with it. Real binary, real simulator over HTTP, real chDB;
// medians of RUNS runs. Floors (issue 21): flatten = cancels and closes in parallel, one read to
// confirm = 3 round trips; restart = stop, start, one parallel round of snapshot reads.
import { appendFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sequentialRoundTrips, spansBetween, startSim, type SimHandle } from '../src/sim/index.js';
import { runPink, type PinkResult } from '../test/support/cli.js';
import { stopPid, waitFor } from '../test/support/e2e.js';
import { median } from './measure.js';

const RUNS = 5;
const LATENCIES_MS = [0, 150] as const;
const POLL_SEC = 0.5;
const SYMBOLS = ['BTC-USDT', 'ETH-USDT'];
const GOALS = { flatten2_ms: 800, flatten2_rtt: 3, restart_ms: 1200 };

const wallMs = (): number => performance.timeOrigin + performance.now();

interface Slot {
  symbol: string;
  state: string;
  qty: number | null;
  side: string | null;
  working_order: { client_order_id: string } | null;
}

interface World {
  sim: SimHandle;
  env: Record<string, string>;
  signals: string;
  home: string;
  dir: string;
  seq: number;
}

async function startWorld(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'pink-bench-incident-'));
  // No price walk: the resting exit orders stay where they are put.
  const sim = await startSim({ seed: 21, symbols: SYMBOLS, priceWalk: false });
  const home = join(dir, 'home');
  const signals = join(dir, 'intents.ndjson');
  writeFileSync(signals, '');
  const env: Record<string, string> = {
    PINK_HOME: home,
    DOLPHIN_LOG_DIR: join(dir, 'logs'),
    PINK_SIM_URL: sim.url,
    DOLPHIN_PINK_POLL_INTERVAL_SEC: String(POLL_SEC),
    DOLPHIN_PINK_SYMBOLS: SYMBOLS.join(','),
    DOLPHIN_PINK_TRADE_NOTIONAL: '200',
  };
  const r = await runPink(['run', '--detach', '--json', '--strategy', 'signals', '--signals', signals], env);
  if (r.code !== 0) throw new Error(`engine did not start: ${r.stderr.trim()}`);
  return { sim, env, signals, home, dir, seq: 0 };
}

async function stopWorld(w: World): Promise<void> {
  await stopPid(join(w.home, 'pink.pid'));
  await w.sim.close();
  rmSync(w.dir, { recursive: true, force: true });
}

async function slots(w: World): Promise<Slot[]> {
  const r = await runPink(['ditav2-status', '--json'], w.env);
  if (r.stdout.trim() === '') throw new Error(`status printed nothing: ${r.stderr.trim()}`);
  return (JSON.parse(r.stdout) as { slots: Slot[] }).slots;
}

async function setLatency(w: World, ms: number): Promise<void> {
  const res = await fetch(`${w.sim.url}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ latencyMs: ms }) });
  if (!res.ok) throw new Error(`sim refused latencyMs ${ms}: ${res.status}`);
}

/**
 * Opens a long position on each of `symbols` and rests a reduce-only limit exit far above the
 * price on each (a working order), at 0 ms latency. After a flatten the symbols may be left in
 * REDUCING (issue 19): `pink resume` first; a pink without it answers with a usage error we ignore.
 */
async function arrange(w: World, symbols: string[]): Promise<void> {
  await setLatency(w, 0);
  await runPink(['resume', '--all'], w.env);
  const tag = `${process.pid}-${Date.now()}`;
  for (const symbol of symbols) {
    w.seq += 1;
    appendFileSync(w.signals, `${JSON.stringify({ intent_id: `bench-${tag}-${w.seq}-enter`, symbol, action: 'ENTER', side: 'long', notional: 200, order_type: 'market', reason: 'bench' })}\n`);
  }
  await waitFor('positions open', async () => (await slots(w)).filter((s) => symbols.includes(s.symbol) && s.state === 'OPEN' && (s.qty ?? 0) > 0).length === symbols.length, 30_000, 100);
  const prices = w.sim.state().prices as Record<string, number>;
  for (const symbol of symbols) {
    w.seq += 1;
    const price = Number(((prices[symbol] ?? 0) * 1.5).toPrecision(6));
    appendFileSync(w.signals, `${JSON.stringify({ intent_id: `bench-${tag}-${w.seq}-exit`, symbol, action: 'EXIT', fraction: 0.5, order_type: 'limit', price, reason: 'bench' })}\n`);
  }
  await waitFor('exits resting', async () => (await slots(w)).filter((s) => symbols.includes(s.symbol) && s.working_order !== null).length === symbols.length, 30_000, 100);
}

interface Figure {
  ms: number;
  requests: number;
  rtt: number;
  code: number | null;
}

async function measure(w: World, args: string[]): Promise<Figure> {
  const t0 = wallMs();
  const r: PinkResult = await runPink(args, w.env, { timeoutMs: 60_000 });
  const t1 = wallMs();
  const spans = spansBetween(w.sim.requests(), t0, t1);
  if (r.code !== 0) console.log(`  (pink ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-1)[0] ?? ''})`);
  return { ms: t1 - t0, requests: spans.length, rtt: sequentialRoundTrips(spans), code: r.code };
}

function row(name: string, latency: number, figs: Figure[], floor: string): string {
  const ms = median(figs.map((f) => f.ms));
  const req = median(figs.map((f) => f.requests));
  const rtt = median(figs.map((f) => f.rtt));
  const bad = figs.filter((f) => f.code !== 0).length;
  return `${name.padEnd(28)} ${String(latency).padStart(4)} ms   ${ms.toFixed(0).padStart(6)} ms   ${String(req).padStart(5)}   ${String(rtt).padStart(4)}   ${floor}${bad > 0 ? `   (${bad} of ${figs.length} not exit 0)` : ''}`;
}

export async function bench(): Promise<void> {
  console.log(`incident: medians of ${RUNS}; demo-free engine (signals strategy), ${SYMBOLS.length} symbols, ${POLL_SEC} s poll; requests and round trips counted by the simulator`);
  console.log(`${'command'.padEnd(28)} latency   ${'wall'.padStart(9)}   req.   seq.   floor`);
  const lines: string[] = [];
  for (const latency of LATENCIES_MS) {
    const w = await startWorld();
    try {
      const two: Figure[] = [];
      const one: Figure[] = [];
      const restart: Figure[] = [];
      for (let i = 0; i < RUNS; i += 1) {
        await arrange(w, SYMBOLS);
        await setLatency(w, latency);
        two.push(await measure(w, ['flatten', '--all', '--yes', '--json']));
        await arrange(w, [SYMBOLS[0]!]);
        await setLatency(w, latency);
        one.push(await measure(w, ['flatten', SYMBOLS[0]!, '--yes', '--json']));
        await setLatency(w, latency);
        restart.push(await measure(w, ['restart', '--json']));
      }
      const floorMs = (n: number): string => `${n} round trips${latency > 0 ? ` (~${n * latency} ms + the CLI's start)` : ''}`;
      lines.push(row('flatten --all (2 positions)', latency, two, floorMs(3)));
      lines.push(row('flatten SYMBOL (1 position)', latency, one, floorMs(3)));
      lines.push(row('restart to converged', latency, restart, `stop + start + 1 parallel read round`));
      for (const l of lines.splice(0)) console.log(l);
    } finally {
      await setLatency(w, 0).catch(() => undefined);
      await stopWorld(w);
    }
  }
  console.log(`incident goals at 150 ms: flatten --all of two <= ${GOALS.flatten2_ms} ms and <= ${GOALS.flatten2_rtt} sequential round trips; restart <= ${GOALS.restart_ms} ms`);
}

if (process.argv[1] && existsSync(process.argv[1]) && fileURLToPath(import.meta.url) === process.argv[1]) {
  await bench();
}
