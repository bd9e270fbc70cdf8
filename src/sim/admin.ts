// Admin endpoints (/__sim/*): how tests and operators steer the simulator. Loopback only:
// they can move prices and invent positions, so nothing off this machine may call them.
//
//   GET  /__sim/state     ground truth (SimGroundTruth)
//   POST /__sim/price     {symbol, price}                       set the mark, then match
//   POST /__sim/faults    {rateLimitEvery?, rateLimitStyle?, rateLimitCooldownMs?,
//                          rejectNext?, rejectNextCode?, rejectNextCancel?,
//                          dropResponseNext?: boolean|number, latencyMs?,
//                          duplicateFills?, hideFills?, failPaths?: string[], partialFillRatio?, priceWalk?,
//                          clockSkewMs?, clockSkewCode?: 109400|100421}     merge; null clears
//   POST /__sim/funding   {symbol?, rate?: number|null, settleNow?: true}
//                         rate: that symbol's (or, without symbol, every symbol's) funding rate
//                         from now on (null: back to the price walk's); settleNow: settle the
//                         next funding at once (as if its time had come) and restart the schedule
//   POST /__sim/position  {symbol, qty (signed), entryPrice}    a position PINK did not open
//   POST /__sim/order     {symbol, side, qty, price, clientOrderId?}  someone else's limit order
//   POST /__sim/tick      {n?}                                   n match steps (default 1)
//   POST /__sim/reset     {seed?}                                a fresh venue

import type { SimCore } from './core.js';
import { VenueError } from './errors.js';
import { FUNDING_RATE_MAX, nextFundingAfter, settleFunding } from './funding.js';
import { orderWire } from './wire.js';

export interface AdminAnswer {
  status: number;
  body: unknown;
}

/** Loopback in all its spellings (IPv4 127/8, IPv6 ::1, IPv4-mapped IPv6). */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4 === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** A skew beyond a day is a broken test, not a clock. */
export const CLOCK_SKEW_MS_MAX = 86_400_000;

/** POST /__sim/funding. */
function setFunding(core: SimCore, b: Record<string, unknown>): unknown {
  const e = core.engine;
  const f = e.state.funding;
  need(f !== undefined, 'funding is not set up');
  const fs = f as NonNullable<typeof f>;
  const symbols = b['symbol'] === undefined ? [...e.cfg.markets.keys()] : [symbolIn(core, b)];
  if ('rate' in b) {
    const rate = b['rate'] === null ? null : num(b, 'rate', (v) => Math.abs(v) <= FUNDING_RATE_MAX, `a number within ±${FUNDING_RATE_MAX} (BingX's clamp), or null`);
    for (const s of symbols) {
      if (rate === null) delete fs.overrides[s];
      else fs.overrides[s] = rate;
    }
  }
  let settled = 0;
  if (b['settleNow'] === true) {
    // Settle the scheduled funding now, stamped with the current time, then restart the schedule.
    fs.next_ms = e.nowMs();
    settled = settleFunding(e.state, e.cfg.markets, e.nowMs());
    fs.next_ms = nextFundingAfter(e.nowMs(), fs.interval_ms);
  }
  e.dirty = true;
  return { settled, next_ms: fs.next_ms, interval_ms: fs.interval_ms, rates: Object.fromEntries([...e.cfg.markets.keys()].map((s) => [s, e.fundingRate(s)])) };
}

/** Bound on n for /__sim/tick: one call cannot freeze the simulator. */
export const TICKS_PER_CALL_MAX = 100_000;

class AdminInputError extends Error {}

function need(ok: boolean, message: string): void {
  if (!ok) throw new AdminInputError(message);
}

function obj(body: unknown): Record<string, unknown> {
  need(typeof body === 'object' && body !== null && !Array.isArray(body), 'the body must be a JSON object');
  return body as Record<string, unknown>;
}

function num(b: Record<string, unknown>, key: string, check: (v: number) => boolean, what: string): number {
  const v = b[key];
  need(typeof v === 'number' && Number.isFinite(v) && check(v), `${key} must be ${what}`);
  return v as number;
}

function symbolIn(core: SimCore, b: Record<string, unknown>): string {
  const s = b['symbol'];
  need(typeof s === 'string' && core.engine.cfg.markets.has(s), `symbol must be one of ${[...core.engine.cfg.markets.keys()].join(', ')}`);
  return s as string;
}

function applyFaults(core: SimCore, b: Record<string, unknown>): void {
  const f = core.faults;
  for (const [key, value] of Object.entries(b)) {
    switch (key) {
      case 'rateLimitEvery':
        f.rateLimitEvery = value === null ? 0 : num(b, key, (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
        core.rateLimitCounter = 0;
        break;
      case 'rateLimitStyle':
        need(value === 'http' || value === 'body', "rateLimitStyle must be 'http' or 'body'");
        f.rateLimitStyle = value as 'http' | 'body';
        break;
      case 'rateLimitCooldownMs':
        f.rateLimitCooldownMs = num(b, key, (v) => v >= 0, 'a number >= 0');
        break;
      case 'rejectNext':
      case 'rejectNextCancel':
        need(value === null || (typeof value === 'string' && value !== ''), `${key} must be a non-empty reason or null`);
        f[key] = value as string | null;
        break;
      case 'rejectNextCode':
        f.rejectNextCode = num(b, key, (v) => Number.isInteger(v) && v > 0, 'a positive integer');
        break;
      case 'dropResponseNext':
        need(value === null || typeof value === 'boolean' || (typeof value === 'number' && Number.isInteger(value) && value >= 0), 'dropResponseNext must be a boolean or a count');
        f.dropResponseNext = value === true ? 1 : typeof value === 'number' ? value : 0;
        break;
      case 'latencyMs':
        f.latencyMs = value === null ? 0 : num(b, key, (v) => v >= 0, 'a number >= 0');
        break;
      case 'duplicateFills':
      case 'hideFills':
      case 'priceWalk':
        need(typeof value === 'boolean', `${key} must be true or false`);
        f[key] = value as boolean;
        break;
      case 'failPaths':
        need(value === null || (Array.isArray(value) && value.every((x) => typeof x === 'string' && x.startsWith('/'))), 'failPaths must be a list of paths (each starting with /) or null');
        f.failPaths = value === null ? [] : [...(value as string[])];
        break;
      case 'partialFillRatio':
        f.partialFillRatio = value === null ? 1 : num(b, key, (v) => v > 0 && v <= 1, 'in (0, 1]');
        break;
      case 'clockSkewMs':
        f.clockSkewMs = value === null ? 0 : num(b, key, (v) => Math.abs(v) <= CLOCK_SKEW_MS_MAX, `a number of ms within ±${CLOCK_SKEW_MS_MAX}`);
        break;
      case 'clockSkewCode':
        need(value === 109400 || value === 100421, 'clockSkewCode must be 109400 or 100421');
        f.clockSkewCode = value as 109400 | 100421;
        break;
      default:
        throw new AdminInputError(`unknown fault ${key}`);
    }
  }
}

function route(core: SimCore, method: string, path: string, body: unknown): unknown {
  const e = core.engine;
  if (method === 'GET' && path === '/__sim/state') return core.groundTruth();
  need(method === 'POST', `${method} ${path}: admin changes are POST requests`);
  const b = obj(body);
  switch (path) {
    case '/__sim/price': {
      const symbol = symbolIn(core, b);
      e.setPrice(symbol, num(b, 'price', (v) => v > 0, 'a positive number'));
      core.observePrices();
      return { symbol, price: e.price(symbol) };
    }
    case '/__sim/faults':
      applyFaults(core, b);
      return { faults: core.faults };
    case '/__sim/position': {
      const symbol = symbolIn(core, b);
      const qty = num(b, 'qty', () => true, 'a number (+ long, - short, 0 flat)');
      const entry = qty === 0 ? 0 : num(b, 'entryPrice', (v) => v > 0, 'a positive number');
      e.adminPosition(symbol, qty, entry);
      return { position: e.state.positions[symbol] ?? null };
    }
    case '/__sim/order': {
      const symbol = symbolIn(core, b);
      const side = typeof b['side'] === 'string' ? b['side'].toUpperCase() : '';
      need(side === 'BUY' || side === 'SELL', "side must be 'buy' or 'sell'");
      const coid = b['clientOrderId'] ?? '';
      need(typeof coid === 'string', 'clientOrderId must be a string');
      const order = e.place({
        symbol,
        side: side as 'BUY' | 'SELL',
        type: 'LIMIT',
        qty: num(b, 'qty', (v) => v > 0, 'a positive number'),
        price: num(b, 'price', (v) => v > 0, 'a positive number'),
        client_order_id: coid as string,
        reduce_only: b['reduceOnly'] === true,
        time_in_force: 'GTC',
        foreign: true,
      });
      return { order: orderWire(order, e.market(symbol)) };
    }
    case '/__sim/tick': {
      const n = b['n'] === undefined ? 1 : num(b, 'n', (v) => Number.isInteger(v) && v >= 1 && v <= TICKS_PER_CALL_MAX, `an integer 1-${TICKS_PER_CALL_MAX}`);
      for (let i = 0; i < n; i++) core.step();
      return { steps: e.state.steps, prices: e.state.prices };
    }
    case '/__sim/funding':
      return setFunding(core, b);
    case '/__sim/reset': {
      const seed = b['seed'] === undefined ? undefined : num(b, 'seed', (v) => Number.isInteger(v) && v >= 0, 'a non-negative integer');
      core.reset(seed);
      return { seed: core.engine.state.seed };
    }
    default:
      throw new AdminInputError(`no admin endpoint ${path}`);
  }
}

export function handleAdmin(core: SimCore, method: string, path: string, remoteAddress: string | undefined, body: unknown): AdminAnswer {
  if (!isLoopbackAddress(remoteAddress)) {
    return { status: 403, body: { error: `admin endpoints answer loopback callers only (you are ${remoteAddress ?? 'unknown'})` } };
  }
  try {
    const answer = route(core, method, path, body);
    core.persistIfDirty();
    return { status: 200, body: answer };
  } catch (err) {
    if (err instanceof AdminInputError) return { status: 400, body: { error: err.message } };
    if (err instanceof VenueError) {
      core.persistIfDirty();
      return { status: 409, body: { error: err.message, code: err.code } };
    }
    throw err;
  }
}
