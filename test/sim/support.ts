// Shared by the simulator tests: a simulator with a real ccxt bingx client pointed at it, and
// a small admin client. Everything stays on 127.0.0.1.
import ccxt from 'ccxt';
import { pointCcxtAtSim, startSim, type SimHandle, type SimOptions } from '../../src/sim/index.js';

export type Bingx = InstanceType<typeof ccxt.bingx>;

export const BTC = 'BTC/USDT:USDT';
export const ETH = 'ETH/USDT:USDT';
export const LTC = 'LTC/USDT:USDT';

/** A ccxt bingx client for the simulator: swap by default, no client-side throttle (speed). */
export function ccxtClient(url: string, creds: { apiKey?: string; secret?: string } = {}): Bingx {
  const ex = new ccxt.bingx({
    apiKey: creds.apiKey ?? 'pink-sim-key',
    secret: creds.secret ?? 'pink-sim-secret',
    enableRateLimit: false,
    timeout: 5000,
    options: { defaultType: 'swap' },
  });
  pointCcxtAtSim(ex, url);
  return ex;
}

export interface SimWithClient {
  sim: SimHandle;
  ex: Bingx;
  close: () => Promise<void>;
}

/** A simulator that does not walk by default, so prices only move when a test says so. */
export async function simWithClient(opts: SimOptions = {}): Promise<SimWithClient> {
  const sim = await startSim({ priceWalk: false, ...opts });
  const ex = ccxtClient(sim.url);
  await ex.loadMarkets();
  return { sim, ex, close: () => sim.close() };
}

export async function admin(sim: SimHandle, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${sim.url}/__sim/${path}`, {
    method: body === undefined ? 'GET' : 'POST',
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** The error a promise rejects with (the test fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection, the call succeeded');
}
