// The BingX-protocol venue simulator: an HTTP server on loopback that the unmodified ccxt
// bingx client cannot tell from BingX's USDT-M perpetual swap API (signed requests, BingX's
// envelopes and error codes), with a seeded matching engine behind it and admin endpoints
// for tests (see admin.ts). Importing this module does not load ccxt.
//
// Pointing ccxt at it. ccxt's bingx.sign() builds every URL as
//   urls.api[section] + '/' + section + '/' + version + '/' + path   (e.g. …/openApi + /swap/v2/trade/order)
// from these `urls.api` keys: fund, spot, swap, contract, wallets, user, subAccount, account,
// copyTrading, cswap, api. So set each to `${url}/openApi` (pointCcxtAtSim does it, and the
// same for urls.test in case the caller turns sandbox mode on). Then:
//   const ex = new ccxt.bingx({ apiKey: 'pink-sim-key', secret: 'pink-sim-secret',
//                               options: { defaultType: 'swap' } });
//   pointCcxtAtSim(ex, sim.url);
//   await ex.loadMarkets();   // swap contracts + (empty) spot and coin-M lists + currencies
// defaultType 'swap' matters: without it fetchTickers/fetchBalance/cancelAllOrders go to the
// spot endpoints (served, but empty).

import type { Server } from 'node:http';
import { SimCore, resolveOptions, type RequestRecord, type SimOptions } from './core.js';
import { createSimServer, listen } from './server.js';
import type { SimGroundTruth } from './types.js';

export type { SimOptions, RequestRecord } from './core.js';
export type { SimGroundTruth, SimFaults, SimOrder, SimFill, SimPosition, SimAccountView } from './types.js';
export { VENUE_ERRORS } from './errors.js';
export { isLoopbackAddress } from './admin.js';
export { DEFAULT_SIM_SYMBOLS } from './markets.js';
export { sequentialRoundTrips, spansBetween, type RequestSpan } from './overlap.js';

export interface SimHandle {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** Stops listening, drops open connections, writes the state file one last time. */
  close(): Promise<void>;
  state(): SimGroundTruth;
  /** Venue requests served so far (admin requests not counted). */
  requestCount(): number;
  /** The most recent venue requests, oldest first (at most REQUEST_LOG_MAX). */
  requests(): RequestRecord[];
}

/** The `urls.api` sections ccxt 4.5.84's bingx knows; pointCcxtAtSim rewrites each. */
export const CCXT_BINGX_URL_SECTIONS = ['fund', 'spot', 'swap', 'contract', 'wallets', 'user', 'subAccount', 'account', 'copyTrading', 'cswap', 'api'];

/** Structural: the simulator must not import ccxt, so any object with ccxt's `urls` shape will do. */
export interface CcxtLike {
  urls: { api?: unknown; test?: unknown } & Record<string, unknown>;
}

export function pointCcxtAtSim(exchange: CcxtLike, url: string): void {
  const base = `${url.replace(/\/+$/, '')}/openApi`;
  const point = (existing: unknown): Record<string, string> => {
    const out: Record<string, string> = {};
    const keys = new Set([...CCXT_BINGX_URL_SECTIONS, ...Object.keys(typeof existing === 'object' && existing !== null ? existing : {})]);
    for (const key of keys) out[key] = base;
    return out;
  };
  exchange.urls['api'] = point(exchange.urls['api']);
  exchange.urls['test'] = point(exchange.urls['test']);
}

export async function startSim(opts: SimOptions = {}): Promise<SimHandle> {
  const resolved = resolveOptions(opts);
  const core = new SimCore(resolved);
  const server: Server = createSimServer(core);
  let port: number;
  try {
    port = await listen(server, resolved.port, resolved.host);
  } catch (err) {
    core.writer?.release();
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    url: `http://${resolved.host}:${port}`,
    port,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => {
        core.engine.dirty = true;
        core.persistIfDirty();
        core.writer?.release();
      });
      return closed;
    },
    state: () => core.groundTruth(),
    requestCount: () => core.venueRequests,
    requests: () => core.log.map((r) => ({ ...r, query: { ...r.query } })),
  };
}
