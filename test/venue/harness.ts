// A simulator on loopback and the real adapter (real ccxt, real HTTP) pointed at it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import type { KernelInput, VenueCommand } from '../../src/engine/kernel/types.js';
import { openVenue, type OpenVenueOptions, type Venue } from '../../src/engine/venue/index.js';
import { startSim, type SimGroundTruth, type SimHandle, type SimOptions } from '../../src/sim/index.js';

/** Credentials of these tests' simulators: distinctive, so a leak is searchable. */
export const TEST_KEY = 'pinkTestKey7c1e9a';
export const TEST_SECRET = 'pinkTestSecret/4b2+d8';

export interface Rig {
  sim: SimHandle;
  venue: Venue;
  config: Config;
  logs: string[];
  admin(path: string, body?: unknown): Promise<unknown>;
  state(): SimGroundTruth;
  /** A second adapter on the same account (another PINK process, or a restart). */
  another(): Promise<Venue>;
  close(): Promise<void>;
}

export async function rig(opts: { symbols?: string[]; sim?: SimOptions; venue?: OpenVenueOptions } = {}): Promise<Rig> {
  const symbols = opts.symbols ?? ['BTC-USDT', 'ETH-USDT'];
  const sim = await startSim({ seed: 11, priceWalk: false, symbols, apiKey: TEST_KEY, apiSecret: TEST_SECRET, ...opts.sim });
  const home = mkdtempSync(join(tmpdir(), 'pink-venue-'));
  const config = loadConfig({
    PINK_HOME: home,
    PINK_SIM_URL: sim.url,
    DOLPHIN_PINK_SYMBOLS: symbols.join(','),
    // Venue sim signs with the simulator's credentials only (never DOLPHIN_PINK_BINGX_*).
    PINK_SIM_API_KEY: TEST_KEY,
    PINK_SIM_API_SECRET: TEST_SECRET,
  });
  const logs: string[] = [];
  const open = () => openVenue(config, { timeoutMs: 5_000, logger: (l) => logs.push(l), ...opts.venue });
  const venue = await open();
  const others: Venue[] = [];
  return {
    sim,
    venue,
    config,
    logs,
    async admin(path, body) {
      const res = await fetch(`${sim.url}${path}`, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await res.text();
      if (!res.ok) throw new Error(`sim admin ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    state: () => sim.state(),
    async another() {
      const v = await open();
      others.push(v);
      return v;
    },
    async close() {
      for (const v of [venue, ...others]) await v.close();
      await sim.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

let seq = 0;
/** A PLACE command as the kernel would make it. */
export function place(symbol: string, side: 'buy' | 'sell', qty: number, extra: Partial<Extract<VenueCommand, { kind: 'PLACE' }>> = {}): Extract<VenueCommand, { kind: 'PLACE' }> {
  seq += 1;
  return { kind: 'PLACE', client_order_id: `pink-t${process.pid}-${seq}`, intent_id: `i-${seq}`, symbol, side, qty, order_type: 'market', reduce_only: false, ...extra };
}

export const events = (inputs: KernelInput[]) =>
  inputs.flatMap((i) => (i.type === 'EVENT' ? [i.event] : []));

export const fillsOf = (inputs: KernelInput[], coid: string) => events(inputs).filter((e) => e.kind === 'FILL' && e.client_order_id === coid);

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done` says so (bounded), returning every input seen. */
export async function pollUntil(v: Venue, symbols: string[], done: (all: KernelInput[]) => boolean, polls_max = 20): Promise<KernelInput[]> {
  const all: KernelInput[] = [];
  for (let i = 0; i < polls_max; i++) {
    all.push(...(await v.poll(symbols, Date.now())));
    if (done(all)) return all;
    await sleep(50);
  }
  return all;
}
