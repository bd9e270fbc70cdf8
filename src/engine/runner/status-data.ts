// The `pink ditav2-status` document (SPEC keys: engine, account, slots[], faults[], rateLimit,
// store, overdue[], healthy, reasons[]), built from a kernel view whether the engine answered
// over the socket or the view was restored from the last checkpoint.
import type { Store } from '../store/index.js';
import type { Venue } from '../venue/types.js';
import type { Engine } from './engine.js';
import type { FaultSummary } from './faults-window.js';
import { judgeHealth } from './health.js';
import type { KernelView } from './kernel-glue.js';
import { liquidationDistancePct, type Divergence, type VenueLiquidationPrice } from './venue-check.js';

export interface StoreFacts {
  backend: string;
  database: string;
  pending_rows: number;
  spooled_rows: number;
  last_flush_age_ms: number | null;
  last_error: string | null;
}

export interface EngineFacts {
  up: boolean;
  pid: number | null;
  uptime_s: number | null;
  venue: string;
  namespace: string;
  /** SPEC 6: the kernel history every trade_id, row_id and client order id carries. */
  history_id: string | null;
  run_id: string | null;
  heartbeat_ts: number | null;
  heartbeat_age_ms: number | null;
  steps: number;
  last_step_ms: number | null;
  step_ms_p50: number | null;
  step_ms_p99: number | null;
  rest_calls: number | null;
  /** The engine process's memory (MB): resident set, the JavaScript heap in use, and the heap V8 has committed. */
  rss_mb: number | null;
  heap_used_mb: number | null;
  heap_total_mb: number | null;
  seq: number;
  source: 'engine' | 'checkpoint' | 'none';
  /** Engine down: how the state was found, when not from checkpoint.json (a kept checkpoint). */
  note?: string;
  /** Engine down: the fail-stop it ended with ($PINK_HOME/stopped.json), or null. */
  fail_stop?: unknown;
  /** Issue 19 (SPEC 6): the engine's trading state, why, since when (added by buildStatus). */
  trading_state?: string;
  trading_state_reason?: string;
  trading_state_since?: number | null;
  /** Issue 20 (running engine only): the venue's clock minus this machine's (ms), from ccxt's time sync. */
  venue_clock_skew_ms?: number;
  /** Issue 20 (running engine only): funding reads (runner/funding.ts, docs/funding.md). */
  funding?: FundingStatus;
}

export interface FundingStatus {
  /** The latest funding time applied (venue ms): reads start there. */
  since_ts: number;
  /** The venue's next funding time as last read (venue ms), null before the first read. */
  next_funding_ts: number | null;
  /** When the next read is due (local ms). */
  next_read_ts: number;
  reads: number;
  last_error: string | null;
}

export interface StatusDoc {
  engine: EngineFacts;
  account: unknown;
  slots: unknown[];
  faults: FaultSummary[];
  rateLimit: unknown;
  store: StoreFacts;
  overdue: { symbol: string; hold_bars: number; max_hold_bars: number; hint: string }[];
  /** Seconds since the last successful venue read (null: engine down). */
  venue_contact_age_s: number | null;
  /** Seconds since the venue balance was last read (a reconcile's snapshot; null: engine down or never). */
  venue_balance_age_s: number | null;
  failed_steps_in_row: number | null;
  /** Slots that disagree with the venue's position after a targeted reconcile (venue-check.ts). */
  divergences: Divergence[];
  /** The engine runs but has not reached the venue for long: ditav2-status exits 3. */
  venue_down: boolean;
  healthy: boolean;
  reasons: string[];
}

/** What only a running engine knows about the venue (venue-check.ts). */
export interface LiveVenueFacts {
  contact_ts: number;
  balance_ts: number | null;
  failed_steps_in_row: number;
  divergences: Divergence[];
  unconverged: string | null;
  /** Issue 20: each open position's liquidation price as the venue last gave it, and the warning distance (%). */
  liquidation_prices: VenueLiquidationPrice[];
  liquidation_warn_pct: number;
}

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function buildStatus(view: KernelView, engine: EngineFacts, store: StoreFacts, faults: FaultSummary[], poll_interval_ms: number, max_hold_bars: number, now_ts: number, firstReasons: string[] = [], live?: LiveVenueFacts): StatusDoc {
  const overdue = view.slots
    .filter((s) => s.qty > 0 && s.hold_bars > max_hold_bars)
    .map((s) => ({ symbol: s.symbol, hold_bars: s.hold_bars, max_hold_bars, hint: `pink flatten ${s.symbol}` }));
  const rl = view.rateLimit;
  const drift = typeof view.account.drift === 'number' ? view.account.drift : null;
  // (A view from an older engine over the socket has no drift_accepted: none.)
  const drift_accepted = typeof view.account.drift_accepted === 'number' ? view.account.drift_accepted : 0;
  // Issue 20: each slot's liquidation price (the venue's, engine up only) and the mark's distance
  // to it, measured with the freshest mark (the kernel's tick, else the venue's in that read).
  const slots = view.slots.map((s) => {
    const l = live?.liquidation_prices.find((x) => x.symbol === s.symbol);
    const mark = s.mark_price != null && s.mark_price > 0 ? s.mark_price : (l?.mark_price ?? 0);
    const distance = l && mark > 0 ? liquidationDistancePct(l.side, mark, l.liquidation_price) : null;
    return { ...s, liquidation_price: l?.liquidation_price ?? null, liquidation_distance_pct: distance };
  });
  const { healthy, reasons, venue_down } = judgeHealth({
    up: engine.up,
    now_ts,
    poll_interval_ms,
    heartbeat_ts: engine.heartbeat_ts,
    step_ms_p50: engine.step_ms_p50,
    slots: view.slots.map((s) => ({ symbol: s.symbol, state: s.state, stale_since_ts: s.stale_since_ts ?? null })),
    spooled_rows: store.spooled_rows,
    rate_limit_first_ts: rl.consecutive > 0 ? (rl.first_ts ?? null) : null,
    rate_limit_persistent: Boolean(rl.persistent),
    rate_limit_persistent_ms: view.settings.rate_limit_persistent_ms,
    overdue,
    drift,
    drift_accepted,
    venue_contact_ts: live?.contact_ts ?? null,
    failed_steps_in_row: live?.failed_steps_in_row ?? 0,
    divergences: live?.divergences ?? [],
    unconverged: live?.unconverged ?? null,
    liquidation: slots.flatMap((s) => (s.liquidation_price !== null && s.liquidation_distance_pct !== null ? [{ symbol: s.symbol, liquidation_price: s.liquidation_price, distance_pct: s.liquidation_distance_pct }] : [])),
    liquidation_warn_pct: live?.liquidation_warn_pct ?? 0,
  });
  const age_s = (ts: number | null | undefined): number | null => (ts == null ? null : Math.round((now_ts - ts) / 100) / 10);
  const cooling_ms = rl.cooling_until_ts != null ? Math.max(0, rl.cooling_until_ts - now_ts) : 0;
  // Issue 19: the trading states (SPEC 6 keys); a breaker's REDUCING is a health reason.
  const breakers = tradingHealthReasons(view);
  return {
    engine: { ...engine, trading_state: view.trading_state, trading_state_reason: view.trading_state_reason, trading_state_since: view.trading_state_since },
    account: { ...view.account, drift_accepted },
    slots,
    faults,
    rateLimit: { ...rl, cooling_ms, hint: rl.consecutive > 0 ? 'pink fault RATE_LIMITED' : null },
    store,
    overdue,
    venue_contact_age_s: age_s(live?.contact_ts),
    venue_balance_age_s: age_s(live?.balance_ts),
    failed_steps_in_row: live ? live.failed_steps_in_row : null,
    divergences: live?.divergences ?? [],
    venue_down,
    healthy: healthy && firstReasons.length === 0 && breakers.length === 0,
    reasons: [...firstReasons, ...reasons, ...breakers],
  };
}

/** SPEC 6 health: a scope a circuit breaker set REDUCING (an operator's halt is not a fault). */
function tradingHealthReasons(view: KernelView): string[] {
  const out: string[] = [];
  if (view.trading_state_reason.startsWith('BREAKER_')) out.push(`the engine is ${view.trading_state} by a circuit breaker: ${view.trading_state_reason}; next: pink resume --all once dealt with`);
  for (const s of view.slots) {
    if (s.trading_state_reason.startsWith('BREAKER_') && s.trading_state_reason !== view.trading_state_reason) out.push(`${s.symbol} is ${s.trading_state} by a circuit breaker: ${s.trading_state_reason}; next: pink resume ${s.symbol} once dealt with`);
  }
  return out;
}

const mb = (bytes: number): number => Math.round((bytes / 1048576) * 10) / 10;

export function engineStatus(engine: Engine, store: Store, venue: Venue): StatusDoc {
  const now = Date.now();
  const mem = process.memoryUsage();
  const s = store.stats();
  const cfg = engine.opts.config;
  return buildStatus(
    engine.kernel.view(),
    {
      up: true,
      pid: process.pid,
      uptime_s: Math.round((now - engine.started_ts) / 1000),
      venue: cfg.venue,
      namespace: cfg.namespace,
      history_id: engine.kernel.history_id,
      run_id: engine.opts.run_id,
      heartbeat_ts: engine.heartbeat_ts,
      heartbeat_age_ms: now - engine.heartbeat_ts,
      steps: engine.steps,
      last_step_ms: Math.round(engine.last_step_ms * 10) / 10,
      step_ms_p50: percentile(engine.step_ms, 50),
      step_ms_p99: percentile(engine.step_ms, 99),
      rest_calls: venue.restCalls,
      rss_mb: mb(mem.rss),
      heap_used_mb: mb(mem.heapUsed),
      heap_total_mb: mb(mem.heapTotal),
      seq: engine.currentSeq,
      source: 'engine',
      venue_clock_skew_ms: venue.clockSkewMs,
      funding: engine.funding.status(),
    },
    {
      backend: s.backend,
      database: s.database,
      pending_rows: s.pending_rows,
      spooled_rows: s.spooled_rows,
      last_flush_age_ms: s.last_flush_ts === null ? null : now - s.last_flush_ts,
      last_error: s.last_error,
    },
    engine.faults.summary(now),
    cfg.poll_interval_ms,
    cfg.max_hold_bars,
    now,
    [],
    {
      contact_ts: engine.venueCheck.contact_ts,
      balance_ts: engine.venueCheck.balance_ts,
      failed_steps_in_row: engine.venueCheck.failed_steps_in_row,
      divergences: engine.venueCheck.divergences(),
      liquidation_prices: engine.venueCheck.liquidationPrices(),
      liquidation_warn_pct: cfg.liquidation_warn_pct,
      unconverged: engine.lastReport && !engine.lastReport.converged ? `the reconcile at ${new Date(engine.lastReport.ts).toISOString()} did not converge (${engine.lastReport.corrections.map((c) => c.kind).join(', ') || 'a slot still reconciling'})` : null,
    },
  );
}
