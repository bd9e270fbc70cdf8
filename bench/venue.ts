// Venue adapter bench against the simulator on loopback (real ccxt, real HTTP):
// REST calls per poll (2 vs 20 symbols), orders per second through the adapter (with PINK's
// BingX pacing and without), snapshot latency p50/p99, and the cost of loading ccxt.
// Run: node dist/bench/venue.js
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import type { VenueCommand } from '../src/engine/kernel/types.js';
import { openVenue, type Venue, type VenueRates } from '../src/engine/venue/index.js';
import { startSim, type SimHandle } from '../src/sim/index.js';

const UNPACED: VenueRates = {
  orders: { rate_per_s: 1e6, burst: 1e6 },
  account_reads: { rate_per_s: 1e6, burst: 1e6 },
  ip: { rate_per_s: 1e6, burst: 1e6 },
};
const SNAPSHOTS = 200;
const ORDERS_PACED = 24;
const ORDERS_UNPACED = 300;

const TWENTY = ['BTC', 'ETH', 'SOL', 'LTC', 'BNB', 'XRP', 'DOGE', ...Array.from({ length: 13 }, (_, i) => `C${i}`)].map((b) => `${b}-USDT`);

async function withVenue<T>(symbols: string[], rates: Partial<VenueRates> | undefined, fn: (v: Venue, sim: SimHandle) => Promise<T>): Promise<T> {
  const sim = await startSim({ seed: 5, priceWalk: false, symbols, initialBalanceUsdt: 1e9 });
  const home = mkdtempSync(join(tmpdir(), 'pink-bench-venue-'));
  const config = loadConfig({ PINK_HOME: home, PINK_SIM_URL: sim.url, DOLPHIN_PINK_SYMBOLS: symbols.join(',') });
  const venue = await openVenue(config, rates === undefined ? {} : { rates });
  try {
    return await fn(venue, sim);
  } finally {
    await venue.close();
    await sim.close();
    rmSync(home, { recursive: true, force: true });
  }
}

let seq = 0;
const market = (symbol: string, side: 'buy' | 'sell', qty: number): Extract<VenueCommand, { kind: 'PLACE' }> => {
  seq += 1;
  return { kind: 'PLACE', client_order_id: `pink-bench-${process.pid}-${seq}`, intent_id: `b${seq}`, symbol, side, qty, order_type: 'market', reduce_only: false };
};

async function callsPerPoll(symbols: string[]): Promise<number> {
  return withVenue(symbols, undefined, async (v) => {
    await v.send([market(symbols[0]!, 'buy', 0.01), { ...market(symbols[1]!, 'buy', 1), order_type: 'limit', price: 1 }], Date.now());
    await v.poll(symbols, Date.now());
    const before = v.restCalls;
    await v.poll(symbols, Date.now());
    return v.restCalls - before;
  });
}

async function ordersPerSecond(n: number, rates: Partial<VenueRates> | undefined): Promise<number> {
  return withVenue(['BTC-USDT', 'ETH-USDT'], rates, async (v) => {
    const one = async (i: number) => {
      const out = await v.send([market('BTC-USDT', i % 2 === 0 ? 'buy' : 'sell', 0.001)], Date.now());
      if (out[0]?.type !== 'EVENT') throw new Error(`order ${i}: ${JSON.stringify(out[0])}`);
    };
    // Spend the bucket's burst first: the figure is the sustained rate.
    for (let i = 0; i < 10; i++) await one(i);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await one(i);
    return n / ((performance.now() - t0) / 1000);
  });
}

async function snapshotLatency(): Promise<{ p50: number; p99: number }> {
  return withVenue(['BTC-USDT', 'ETH-USDT'], UNPACED, async (v) => {
    for (let i = 0; i < 20; i++) await v.send([market('BTC-USDT', i % 2 === 0 ? 'buy' : 'sell', 0.001)], Date.now());
    const ms: number[] = [];
    for (let i = 0; i < SNAPSHOTS; i++) {
      const t0 = performance.now();
      await v.snapshot(['BTC-USDT', 'ETH-USDT'], Date.now() - 3_600_000, Date.now());
      ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    return { p50: ms[Math.floor(ms.length * 0.5)]!, p99: ms[Math.floor(ms.length * 0.99)]! };
  });
}

/** Import cost in a fresh process (median of 3): the whole package vs bingx.js alone. */
function importMs(which: 'package' | 'bingx'): number {
  const code =
    which === 'package'
      ? "const t=performance.now(); await import('ccxt'); console.log(performance.now()-t)"
      : "const t=performance.now(); const m=await import(new URL('./src/bingx.js', import.meta.resolve('ccxt')).href); new m.default({}); console.log(performance.now()-t)";
  const cwd = fileURLToPath(new URL('../..', import.meta.url));
  const runs = [0, 1, 2].map(() => Number(spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd, encoding: 'utf8' }).stdout.trim()));
  return runs.sort((a, b) => a - b)[1]!;
}

export async function bench(): Promise<void> {
  const line = (s: string) => process.stdout.write(s + '\n');
  line('venue adapter (simulator on 127.0.0.1, ccxt over HTTP)');
  const two = await callsPerPoll(TWENTY.slice(0, 2));
  const twenty = await callsPerPoll(TWENTY);
  line(`  REST calls per poll: ${two} with 2 symbols, ${twenty} with 20 symbols (goal: equal, <= 3)`);
  line(`  orders/s sustained, BingX pacing (8/s): ${(await ordersPerSecond(ORDERS_PACED, undefined)).toFixed(1)}`);
  line(`  orders/s sustained, unpaced:            ${(await ordersPerSecond(ORDERS_UNPACED, UNPACED)).toFixed(0)}`);
  const lat = await snapshotLatency();
  line(`  snapshot latency over ${SNAPSHOTS} (5 calls, unpaced): p50 ${lat.p50.toFixed(1)} ms, p99 ${lat.p99.toFixed(1)} ms`);
  line(`  ccxt load: import('ccxt') ${importMs('package').toFixed(0)} ms, bingx.js alone ${importMs('bingx').toFixed(0)} ms`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await bench();
}
