// The simulator's state holder: options resolved once, the engine, candles, faults, the
// request counters and the bounded request log, and persistence. server.ts drives it per
// HTTP request; admin.ts changes it on behalf of tests.

import { CandleBook } from './candles.js';
import { SimEngine, type EngineConfig } from './engine.js';
import { DEFAULT_SIM_SYMBOLS, buildMarkets } from './markets.js';
import { FUNDING_INTERVAL_MS_DEFAULT } from './funding.js';
import { StateFencedError, StateWriter, loadState } from './persist.js';

/** Funding intervals shorter than this would settle on almost every request. */
export const FUNDING_INTERVAL_MS_MIN = 1000;
import type { SimFaults, SimGroundTruth } from './types.js';

export interface SimOptions {
  /** 0 = any free port. */
  port?: number;
  host?: '127.0.0.1';
  seed?: number;
  /** Kept across restarts: loaded at start, rewritten atomically after each mutating request. */
  statePath?: string;
  latencyMs?: number;
  slippageBps?: number;
  apiKey?: string;
  apiSecret?: string;
  symbols?: string[];
  initialBalanceUsdt?: number;
  /** Every Nth venue request is refused for rate (0 or undefined = never). */
  rateLimitEvery?: number;
  rateLimitStyle?: 'http' | 'body';
  takerFeeRate?: number;
  makerFeeRate?: number;
  /** Random walk per request/tick; default true. */
  priceWalk?: boolean;
  /** Standard deviation of one walk step in basis points; default 5. */
  walkBps?: number;
  /** Share of an order's quantity filled per match step; default 1 (no partial fills). */
  partialFillRatio?: number;
  recvWindowMs?: number;
  /** The machine's clock (tests may shift it); default Date.now. The venue's clock is this plus the clockSkewMs fault. */
  nowMs?: () => number;
  /** Funding settles every this many ms (multiples since the epoch); default BingX's 8 h. */
  fundingIntervalMs?: number;
  /** The venue's clock runs this far ahead (+) or behind (−); default 0 (see SimFaults). */
  clockSkewMs?: number;
  /** Called once if the state file was taken over by another simulator (pink sim then exits). */
  onFenced?: (message: string) => void;
}

export interface RequestRecord {
  method: string;
  path: string;
  /** Decoded query parameters, `signature` removed. */
  query: Record<string, string>;
  /** Wall time (ms since the epoch, sub-millisecond) the request arrived, before any latency fault. */
  t0_ms?: number;
  /** Wall time its answer was written (or its connection dropped); absent while in flight. */
  t1_ms?: number;
}

/** The request log keeps the most recent entries only. */
export const REQUEST_LOG_MAX = 1000;

export interface ResolvedOptions {
  port: number;
  host: '127.0.0.1';
  seed: number;
  statePath: string | undefined;
  apiKey: string;
  apiSecret: string;
  recvWindowMs: number;
  nowMs: () => number;
  engine: EngineConfig;
  faults: SimFaults;
  onFenced?: (message: string) => void;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new Error(`simulator option: ${message}`);
}

export function resolveOptions(opts: SimOptions = {}): ResolvedOptions {
  const seed = opts.seed ?? 1;
  const nowMs = opts.nowMs ?? Date.now;
  check(Number.isInteger(seed) && seed >= 0, `seed must be a non-negative integer, got ${seed}`);
  const port = opts.port ?? 0;
  check(Number.isInteger(port) && port >= 0 && port <= 65535, `port must be 0-65535, got ${port}`);
  const faults: SimFaults = {
    rateLimitEvery: opts.rateLimitEvery ?? 0,
    rateLimitStyle: opts.rateLimitStyle ?? 'http',
    rateLimitCooldownMs: 1000,
    rejectNext: null,
    rejectNextCode: 110425,
    rejectNextCancel: null,
    dropResponseNext: 0,
    latencyMs: opts.latencyMs ?? 0,
    duplicateFills: false,
    hideFills: false,
    failPaths: [],
    partialFillRatio: opts.partialFillRatio ?? 1,
    priceWalk: opts.priceWalk ?? true,
    clockSkewMs: opts.clockSkewMs ?? 0,
    clockSkewCode: 109400,
  };
  check(Number.isInteger(faults.rateLimitEvery) && faults.rateLimitEvery >= 0, 'rateLimitEvery must be a non-negative integer');
  check(faults.latencyMs >= 0, 'latencyMs must be >= 0');
  check(faults.partialFillRatio > 0 && faults.partialFillRatio <= 1, 'partialFillRatio must be in (0, 1]');
  const engine: EngineConfig = {
    markets: buildMarkets(opts.symbols ?? DEFAULT_SIM_SYMBOLS),
    seed,
    initial_balance_usdt: opts.initialBalanceUsdt ?? 10_000,
    taker_fee_rate: opts.takerFeeRate ?? 0.0005,
    maker_fee_rate: opts.makerFeeRate ?? 0.0002,
    slippage_bps: opts.slippageBps ?? 2,
    walk_bps: opts.walkBps ?? 5,
    now_ms: nowMs,
    funding_interval_ms: opts.fundingIntervalMs ?? FUNDING_INTERVAL_MS_DEFAULT,
  };
  check(Number.isInteger(engine.funding_interval_ms) && engine.funding_interval_ms >= FUNDING_INTERVAL_MS_MIN, `fundingIntervalMs must be an integer >= ${FUNDING_INTERVAL_MS_MIN}`);
  check(Number.isFinite(faults.clockSkewMs), 'clockSkewMs must be a number');
  check(engine.markets.size > 0, 'symbols must not be empty');
  check(engine.initial_balance_usdt >= 0 && engine.slippage_bps >= 0 && engine.walk_bps >= 0, 'balance, slippage and walk must be >= 0');
  return {
    port,
    host: opts.host ?? '127.0.0.1',
    seed,
    statePath: opts.statePath,
    apiKey: opts.apiKey ?? 'pink-sim-key',
    apiSecret: opts.apiSecret ?? 'pink-sim-secret',
    recvWindowMs: opts.recvWindowMs ?? 5000,
    nowMs,
    engine,
    faults,
    ...(opts.onFenced ? { onFenced: opts.onFenced } : {}),
  };
}

export class SimCore {
  readonly opts: ResolvedOptions;
  faults: SimFaults;
  engine: SimEngine;
  candles: CandleBook;
  venueRequests = 0;
  /** Counts requests since rateLimitEvery was last set, so "every Nth" starts from then. */
  rateLimitCounter = 0;
  readonly log: RequestRecord[] = [];
  /** The right to write --state (undefined without a state file). */
  readonly writer: StateWriter | undefined;
  /** Set when the state file was taken over by another simulator: this one serves nothing more. */
  fenced: string | undefined;

  constructor(opts: ResolvedOptions) {
    // The venue's clock: the machine's plus the skew fault (which tests change at run time).
    const machineNow = opts.nowMs;
    this.opts = { ...opts, nowMs: () => machineNow() + this.faults.clockSkewMs, engine: { ...opts.engine, now_ms: () => machineNow() + this.faults.clockSkewMs } };
    this.faults = { ...opts.faults };
    opts = this.opts;
    // The lock first: a second simulator on the same file stops here, before reading it.
    this.writer = opts.statePath ? new StateWriter(opts.statePath) : undefined;
    let saved;
    try {
      saved = opts.statePath ? loadState(opts.statePath) : undefined;
    } catch (err) {
      this.writer?.release();
      throw err;
    }
    // Symbols the state file trades but --symbols no longer lists stay listed: their orders
    // and positions must still be readable and closable.
    const missing = Object.keys(saved?.prices ?? {}).filter((s) => !opts.engine.markets.has(s));
    for (const [symbol, spec] of buildMarkets([...opts.engine.markets.keys(), ...missing])) {
      if (!opts.engine.markets.has(symbol)) opts.engine.markets.set(symbol, spec);
    }
    this.engine = new SimEngine(opts.engine, this.faults, saved);
    this.candles = new CandleBook(this.engine.state.seed, opts.engine.markets, this.engine.state.prices, opts.nowMs());
  }

  /** A fresh venue: new state (optionally another seed), default faults, counters at zero. */
  reset(seed?: number): void {
    Object.assign(this.faults, this.opts.faults);
    const engineCfg = { ...this.opts.engine, seed: seed ?? this.opts.seed };
    this.engine = new SimEngine(engineCfg, this.faults);
    this.candles = new CandleBook(engineCfg.seed, engineCfg.markets, this.engine.state.prices, this.opts.nowMs());
    this.venueRequests = 0;
    this.rateLimitCounter = 0;
    this.log.length = 0;
    this.engine.dirty = true;
    this.persistIfDirty();
  }

  record(entry: RequestRecord): void {
    this.log.push(entry);
    if (this.log.length > REQUEST_LOG_MAX) this.log.splice(0, this.log.length - REQUEST_LOG_MAX);
  }

  /** One match step: walk, match, and let the candles see the new prices. */
  step(): void {
    this.engine.step();
    this.observePrices();
  }

  observePrices(): void {
    const now = this.opts.nowMs();
    for (const [symbol, price] of Object.entries(this.engine.state.prices)) this.candles.observe(symbol, price, 0, now);
  }

  /** Writes --state when something changed. Fenced (another simulator took the file): never again. */
  persistIfDirty(): void {
    if (!this.engine.dirty || this.fenced !== undefined) return;
    try {
      this.writer?.save(this.engine.state);
    } catch (err) {
      if (!(err instanceof StateFencedError)) throw err;
      this.fenced = err.message;
      process.stderr.write(`pink sim: ${err.message}; serving nothing more\n`);
      this.opts.onFenced?.(err.message);
      return;
    }
    this.engine.dirty = false;
  }

  groundTruth(): SimGroundTruth {
    return this.engine.groundTruth(this.venueRequests);
  }
}
