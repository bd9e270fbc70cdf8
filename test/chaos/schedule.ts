// The fault schedule of one chaos seed: a pure function of (seed, seconds, symbols). Two lanes:
// venue faults (simulator admin calls, applied on time) and process faults (kill -9, SIGTERM,
// restarts of the engine, applied one after the other because each waits for the engine to come
// back). Wall-clock timing makes two runs of a seed differ in detail; the schedule never does.
import { rngOf, type Rng } from './rng.js';

/** The store's test faults for one engine start (PINK_CHAOS_STORE_FAIL). */
export interface StoreFail {
  failNextInserts: number;
  loseNextAcks: number;
}

export type VenueFault =
  /** Every Nth venue request refused for rate, for a while (HTTP 429 plain, or BingX's 100410 body). */
  | { kind: 'rate_limit'; every: number; style: 'http' | 'body'; duration_ms: number }
  /** The next order create refused (110425 invalid, 101204 margin; 100500: "busy", the venue did not act). */
  | { kind: 'reject'; reason: string; code: number }
  /** The next cancel refused. */
  | { kind: 'reject_cancel'; reason: string }
  /** The next N mutating requests act at the venue, and their answer is lost. */
  | { kind: 'drop_response'; count: number }
  /** Every request waits this long, for a while. Above the adapter's 10 s timeout PINK gives up on the
   * send (SEND_UNKNOWN) and the simulator, like BingX, then refuses the request as older than its
   * 5 s recvWindow: the order never exists, and the reconcile must find exactly that. */
  | { kind: 'latency'; latency_ms: number; duration_ms: number }
  /** Partial fills (each match fills this share) and every fill row reported twice, for a while. */
  | { kind: 'fills'; ratio: number; duplicate: boolean; duration_ms: number }
  /** The mark jumps by this ratio (0.05 = +5 %). */
  | { kind: 'price_jump'; symbol: string; ratio: number };

export type ProcessFault =
  /** kill -9 the engine, then `pink restart` (engine down: it starts it). */
  | { kind: 'kill9'; store: StoreFail | null }
  /** kill -ABRT: the process must end (chDB's handlers would keep it alive), then `pink restart`. */
  | { kind: 'sigabrt'; store: StoreFail | null }
  /** The disk of $PINK_HOME full for a while (inject.ts): the engine holds, then resumes by itself. */
  | { kind: 'disk_full'; duration_ms: number; store: null }
  /** SIGTERM, then one byte of a journal record changed while the engine is down: restart, status and
   * replay must refuse (exit 2) naming the segment; the byte restored (a copy put back), restart. */
  | { kind: 'journal_flip'; pick: number; xor: number; store: StoreFail | null }
  /** The engine's next Kernel.apply throws (inject.ts): it must stop fail-closed by itself, send
   * nothing after it, and say so (error log, anomalies row, stopped.json, status); then restart. */
  | { kind: 'kernel_assert'; store: StoreFail | null }
  /** SIGTERM the engine, wait for its graceful exit, then `pink restart`. */
  | { kind: 'sigterm'; store: StoreFail | null }
  /** `pink restart` while the engine runs (it stops it gracefully itself). */
  | { kind: 'restart'; store: StoreFail | null };

export interface Timed<T> {
  at_ms: number;
  fault: T;
}

export interface ChaosPlan {
  seed: number;
  seconds: number;
  symbols: string[];
  /** Store faults of the first engine start. */
  start_store: StoreFail | null;
  venue: Timed<VenueFault>[];
  process: Timed<ProcessFault>[];
  /** Issue 20: the simulator's funding interval (seconds, not 8 h: funding is paid throughout a seed). */
  funding_interval_ms: number;
  /** Fixed funding rates per symbol for this seed (the rest follow the simulator's model). */
  funding_rates: Record<string, number>;
  /** Issue 20: a liquidation of PINK's position on one symbol, or none (most seeds). */
  liquidation: LiquidationEvent | null;
}

/**
 * One symbol's margin set isolated at high leverage (through the venue's API, before the engine
 * starts), and at `at_ms`, on the process lane, the mark moved past the liquidation price of the
 * position PINK then holds on it (waited for a short while if it holds none).
 */
export interface LiquidationEvent {
  symbol: string;
  leverage: number;
  at_ms: number;
}

/** Funding: an interval of 1.5-3 s, and for half the seeds fixed rates up to BingX's clamp (±0.3 %). */
function fundingPlan(seed: number, symbols: string[]): Pick<ChaosPlan, 'funding_interval_ms' | 'funding_rates'> {
  // Their own stream: every seed keeps the fault schedule it had before funding was added.
  const r = rngOf(seed, 'chaos-funding');
  const funding_interval_ms = r.int(1500, 3000);
  const funding_rates: Record<string, number> = {};
  if (r.chance(0.5)) for (const s of symbols) funding_rates[s] = Math.round(r.between(-0.003, 0.003) * 1e6) / 1e6;
  return { funding_interval_ms, funding_rates };
}

/** Venue faults per second of chaos, on average. */
const VENUE_FAULTS_PER_S = 1.6;
/** No fault in the first and last moments: the engine must be up to be hurt, and the end is quiet. */
const LEAD_IN_MS = 400;
const LEAD_OUT_MS = 1000;
/** The longest latency that still answers before the adapter's timeout, and one that does not. */
const LATENCY_MS_MAX = 2500;
const LATENCY_TIMEOUT_MS = 10_500;

/** Counts are family inserts; the writer backs off (250 ms doubling) between attempts, so keep them small. */
function storeFail(r: Rng): StoreFail {
  const fail = r.chance(0.7) ? r.int(1, 12) : 0;
  const lose = fail === 0 || r.chance(0.5) ? r.int(1, 8) : 0;
  return { failNextInserts: fail, loseNextAcks: lose };
}

function venueFault(r: Rng, symbols: string[], ms_left: number): VenueFault {
  const roll = r.next();
  const window = (lo: number, hi: number): number => Math.min(ms_left, r.int(lo, hi));
  if (roll < 0.18) return { kind: 'rate_limit', every: r.int(2, 6), style: r.chance(0.5) ? 'http' : 'body', duration_ms: window(300, 2500) };
  if (roll < 0.32) return { kind: 'reject', reason: r.pick(['chaos: insufficient margin', 'chaos: invalid order', 'chaos: system busy']), code: r.pick([110425, 101204, 100500]) };
  if (roll < 0.40) return { kind: 'reject_cancel', reason: 'chaos: cancel refused' };
  if (roll < 0.55) return { kind: 'drop_response', count: r.int(1, 2) };
  if (roll < 0.67) {
    // Rarely past the adapter's timeout: PINK gives up on the send; the venue refuses it as stale.
    const timeout = r.chance(0.06);
    return { kind: 'latency', latency_ms: timeout ? LATENCY_TIMEOUT_MS : r.int(100, LATENCY_MS_MAX), duration_ms: timeout ? 300 : window(300, 2000) };
  }
  if (roll < 0.82) return { kind: 'fills', ratio: r.pick([0.2, 0.25, 0.34, 0.5, 0.6]), duplicate: r.chance(0.7), duration_ms: window(500, 4000) };
  const sign = r.chance(0.5) ? 1 : -1;
  return { kind: 'price_jump', symbol: r.pick(symbols), ratio: sign * r.between(0.01, 0.08) };
}

/** Which admin setting a windowed fault holds (two windows of one key never overlap). */
export function faultKey(f: VenueFault): string | null {
  if (f.kind === 'rate_limit') return 'rate';
  if (f.kind === 'latency') return 'latency';
  if (f.kind === 'fills') return 'fills';
  return null;
}

export function planChaos(seed: number, seconds: number, symbols: string[]): ChaosPlan {
  const total_ms = Math.round(seconds * 1000);
  const r = rngOf(seed, 'chaos-plan');
  const span = Math.max(0, total_ms - LEAD_IN_MS - LEAD_OUT_MS);
  const venue: Timed<VenueFault>[] = [];
  const busy = new Map<string, number>();
  const count = Math.round((span / 1000) * VENUE_FAULTS_PER_S);
  const times = Array.from({ length: count }, () => LEAD_IN_MS + Math.floor(r.next() * span)).sort((a, b) => a - b);
  for (const at_ms of times) {
    const fault = venueFault(r, symbols, Math.max(100, LEAD_IN_MS + span - at_ms));
    const key = faultKey(fault);
    if (key !== null) {
      if ((busy.get(key) ?? 0) > at_ms) continue; // that setting is already held: skip, keep windows disjoint
      busy.set(key, at_ms + ('duration_ms' in fault ? fault.duration_ms : 0));
    }
    venue.push({ at_ms, fault });
  }
  // 1 to 3 process faults in 15 s; longer runs get one per ~6 s.
  const n = Math.max(1, r.int(1, Math.max(1, Math.floor(seconds / 5))));
  const process: Timed<ProcessFault>[] = [];
  for (let i = 0; i < n; i += 1) {
    const at_ms = LEAD_IN_MS + 800 + Math.floor(r.next() * Math.max(1, span - 1600));
    const roll = r.next();
    const store = r.chance(0.5) ? storeFail(r) : null;
    const kind = roll < 0.5 ? 'kill9' : roll < 0.8 ? 'sigterm' : 'restart';
    process.push({ at_ms, fault: { kind, store } });
  }
  const start_store = r.chance(0.35) ? storeFail(r) : null;
  process.push(...durableFaults(seed, span));
  process.sort((a, b) => a.at_ms - b.at_ms);
  return { seed, seconds, symbols, start_store, venue, process, ...fundingPlan(seed, symbols), liquidation: liquidationPlan(seed, symbols, span) };
}

/** Share of seeds that get each durability fault (issue 16), drawn from their own stream so that
 * the schedules of the faults above stay what they were for every seed. */
const DURABLE_FAULT_CHANCE = { disk_full: 0.3, journal_flip: 0.15, sigabrt: 0.2, kernel_assert: 0.15 } as const;

function durableFaults(seed: number, span: number): Timed<ProcessFault>[] {
  const r = rngOf(seed, 'chaos-durable');
  const at = (): number => LEAD_IN_MS + 800 + Math.floor(r.next() * Math.max(1, span - 1600));
  const out: Timed<ProcessFault>[] = [];
  if (r.chance(DURABLE_FAULT_CHANCE.disk_full)) out.push({ at_ms: at(), fault: { kind: 'disk_full', duration_ms: r.int(300, 3000), store: null } });
  if (r.chance(DURABLE_FAULT_CHANCE.journal_flip)) out.push({ at_ms: at(), fault: { kind: 'journal_flip', pick: r.next(), xor: r.int(1, 255), store: null } });
  if (r.chance(DURABLE_FAULT_CHANCE.sigabrt)) out.push({ at_ms: at(), fault: { kind: 'sigabrt', store: r.chance(0.3) ? storeFail(r) : null } });
  if (r.chance(DURABLE_FAULT_CHANCE.kernel_assert)) out.push({ at_ms: at(), fault: { kind: 'kernel_assert', store: null } });
  return out;
}

/** Share of seeds that get a liquidation, and the isolated leverages drawn (BingX allows 75x on the alts, 125x on the majors). */
const LIQUIDATION_CHANCE = 0.25;
const LIQUIDATION_LEVERAGES = [20, 25, 50] as const;

/** A liquidation (issue 20), drawn from its own stream: every seed keeps the faults it had before it. */
function liquidationPlan(seed: number, symbols: string[], span: number): LiquidationEvent | null {
  const r = rngOf(seed, 'chaos-liquidation');
  if (!r.chance(LIQUIDATION_CHANCE) || symbols.length === 0) return null;
  const symbol = r.pick(symbols);
  const leverage = r.pick(LIQUIDATION_LEVERAGES);
  return { symbol, leverage, at_ms: LEAD_IN_MS + 800 + Math.floor(r.next() * Math.max(1, span - 1600)) };
}

/** PINK_CHAOS_STORE_FAIL's value for a store fault. */
export function storeFailEnv(f: StoreFail | null): Record<string, string> {
  return f === null ? {} : { PINK_CHAOS_STORE_FAIL: `failNextInserts=${f.failNextInserts},loseNextAcks=${f.loseNextAcks}` };
}

/** The admin calls that start a venue fault and, for windowed ones, end it. */
export function adminCalls(f: VenueFault): { set: { path: string; body: unknown }; clear?: { after_ms: number; body: unknown } } {
  const faults = (body: unknown) => ({ path: '/__sim/faults', body });
  switch (f.kind) {
    case 'rate_limit':
      return { set: faults({ rateLimitEvery: f.every, rateLimitStyle: f.style }), clear: { after_ms: f.duration_ms, body: { rateLimitEvery: null } } };
    case 'reject':
      return { set: faults({ rejectNext: f.reason, rejectNextCode: f.code }) };
    case 'reject_cancel':
      return { set: faults({ rejectNextCancel: f.reason }) };
    case 'drop_response':
      return { set: faults({ dropResponseNext: f.count }) };
    case 'latency':
      return { set: faults({ latencyMs: f.latency_ms }), clear: { after_ms: f.duration_ms, body: { latencyMs: null } } };
    case 'fills':
      return { set: faults({ partialFillRatio: f.ratio, duplicateFills: f.duplicate }), clear: { after_ms: f.duration_ms, body: { partialFillRatio: null, duplicateFills: false } } };
    case 'price_jump':
      return { set: { path: '/__sim/price', body: { symbol: f.symbol, ratio: f.ratio } } };
  }
}

/** Every venue fault off (the quiet end of a seed). */
export const CLEAR_ALL_FAULTS = {
  rateLimitEvery: null,
  rejectNext: null,
  rejectNextCancel: null,
  dropResponseNext: null,
  latencyMs: null,
  partialFillRatio: null,
  duplicateFills: false,
};
