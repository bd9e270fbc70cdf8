// The engine's observability hooks in one object: alerts (alerts.ts), metrics (metrics.ts), the
// health watch that turns "degraded" and "healthy again" into alerts, and the anomalies rows of
// origin `engine` (ENGINE_STARTED / ENGINE_STOPPED / ENGINE_FAILED). The runner calls it at five
// places (start, each outcome, each step, stop, failure); each call returns at once: nothing here
// waits on the network inside a step.
import { hostname } from 'node:os';
import type { Config } from '../../config.js';
import { ExitError } from '../../errors.js';
import type { KernelOutcome, RowOut } from '../kernel/types.js';
import type { Engine } from '../runner/engine.js';
import { createLogger } from '../runner/log.js';
import { engineStatus } from '../runner/status-data.js';
import type { Store } from '../store/index.js';
import type { Venue } from '../venue/types.js';
import { AlertSink, type AlertEvent } from './alerts.js';
import { Metrics, tradingStates } from './metrics.js';
import type { AlertSeverity } from './settings.js';
import { ENGINE_ORIGIN } from './timeline.js';
import { newWatchState, watchStep } from './watch.js';

/** How often the health watch judges the engine (as `ditav2-status` would). */
export const HEALTH_CHECK_MS = 1000;
/** At stop or failure, alerts still queued are sent for this long at most. */
export const ALERT_DRAIN_MS_MAX = 3000;

/** The two calls the step loop makes (engine.ts): both return at once. */
export interface EngineObserver {
  outcome(o: KernelOutcome): void;
  stepDone(step_ms: number): void;
}

export type EngineRowCode = 'ENGINE_STARTED' | 'ENGINE_STOPPED' | 'ENGINE_FAILED';

/** An anomalies row of origin `engine`; its row_id is unique per run (run ids never repeat). */
export function engineRow(run_id: string, code: EngineRowCode, ts: number, details: Record<string, unknown>): RowOut {
  return {
    family: 'anomalies',
    row: { row_id: `anomalies:engine:${run_id}:${code}`, ts, origin: ENGINE_ORIGIN, code, severity: code === 'ENGINE_FAILED' ? 'CRITICAL' : 'INFO', slot_id: '', symbol: '', details: JSON.stringify(details) },
  };
}

/** What must never leave in an alert or a log line: the venue key and secret, ClickHouse's password (also inside its URL). */
function secretsOf(config: Config): (string | undefined)[] {
  let inUrl: string | undefined;
  try {
    inUrl = config.clickhouse_url ? decodeURIComponent(new URL(config.clickhouse_url).password) || undefined : undefined;
  } catch {
    inUrl = undefined;
  }
  return [config.api_key, config.api_secret, config.clickhouse_password, inUrl];
}

const reasonOf = (o: KernelOutcome): string => String(o.details.reason ?? '').slice(0, 500);

export class Observer implements EngineObserver {
  readonly alerts: AlertSink | undefined;
  readonly metrics: Metrics | undefined;
  readonly #config: Config;
  readonly #log: (line: string) => void;
  readonly #context: { namespace: string; run_id: string; venue: string };
  #attached: { engine: Engine; store: Store; venue: Venue } | undefined;
  #timer: NodeJS.Timeout | null = null;
  #healthy: boolean | undefined;
  readonly #watchState = newWatchState();

  private constructor(config: Config, log: (line: string) => void, metrics: Metrics | undefined) {
    this.#config = config;
    this.#log = log;
    this.metrics = metrics;
    this.#context = { namespace: config.namespace, run_id: '', venue: config.venue };
    this.alerts = config.alert_webhook_url
      ? new AlertSink({
          url: config.alert_webhook_url,
          min_severity: config.alert_min_severity,
          secrets: secretsOf(config),
          context: this.#context,
          log,
        })
      : undefined;
  }

  /** Binds the metrics server first (ExitError 2 if it cannot, before the venue is contacted). */
  static async create(config: Config): Promise<Observer> {
    const logger = createLogger(config.log_dir, [...secretsOf(config), config.alert_webhook_url]);
    const log = (line: string): void => logger.info(line);
    const metrics = config.metrics_addr ? await Metrics.start(config.metrics_addr, log) : undefined;
    if (config.alert_webhook_url) log(`alerts: on (minimum severity ${config.alert_min_severity})`);
    return new Observer(config, log, metrics);
  }

  /** The engine is open: the gauges read it, the health watch starts. */
  attach(engine: Engine, store: Store, venue: Venue): void {
    this.#attached = { engine, store, venue };
    this.#context.run_id = engine.opts.run_id;
    if (this.metrics) {
      this.metrics.sources = {
        view: () => engine.kernel.view(),
        heartbeat_ts: () => engine.heartbeat_ts,
        steps: () => engine.steps,
        store: () => store.stats(),
        venueRequests: () => venue.requestsByEndpoint,
        alerts: () => this.alerts?.stats,
        healthy: () => this.#healthy,
      };
    }
  }

  // ---- the step loop's two calls --------------------------------------------------------------

  outcome(o: KernelOutcome): void {
    if (o.severity !== 'INFO') {
      this.metrics?.faults.inc({ code: o.diagnostic_code, severity: o.severity });
      this.alerts?.push({
        event: 'fault', severity: o.severity, code: o.diagnostic_code, symbol: o.symbol ?? null, ts_ms: Date.now(),
        text: `${o.diagnostic_code}${o.symbol ? ` ${o.symbol}` : ''}: ${reasonOf(o)} (pink fault ${o.diagnostic_code})`,
        details: { reason: reasonOf(o) },
      });
    }
    for (const r of o.rows) {
      if (r.family === 'trade_exit_legs' && r.row['exit_reason'] === 'liquidation') {
        const symbol = String(r.row['symbol'] ?? '');
        this.alerts?.push({
          event: 'liquidation', severity: 'CRITICAL', code: 'LIQUIDATION', symbol, ts_ms: Date.now(),
          text: `LIQUIDATION ${symbol}: ${String(r.row['leg_qty'])} @ ${String(r.row['leg_price'])}, realized ${Number(r.row['leg_realized_pnl']).toFixed(2)} USDT (trade ${String(r.row['trade_id'])}; pink timeline --symbol ${symbol})`,
          details: { trade_id: r.row['trade_id'], leg_qty: r.row['leg_qty'], leg_price: r.row['leg_price'], leg_realized_pnl: r.row['leg_realized_pnl'] },
        });
      }
    }
  }

  stepDone(step_ms: number): void {
    this.metrics?.stepSeconds.observe(step_ms / 1000);
  }

  // ---- the engine's life ------------------------------------------------------------------------

  #record(code: EngineRowCode, details: Record<string, unknown>): void {
    const a = this.#attached;
    if (!a) return;
    try {
      a.store.write({ token: `engine:${a.engine.opts.run_id}:${code}`, rows: [engineRow(a.engine.opts.run_id, code, Date.now(), details)] });
    } catch (err) {
      this.#log(`engine row ${code} not written: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  #alert(ev: Omit<AlertEvent, 'ts_ms' | 'symbol'> & { symbol?: string | null }): void {
    this.alerts?.push({ symbol: null, ts_ms: Date.now(), ...ev });
  }

  /** After the startup reconcile: the row, the alert, and the health watch begins. */
  engineStarted(info: { stale_pid: number | undefined; converged: boolean; corrections: number }): void {
    const e = this.#attached?.engine;
    const details = { reason: 'engine started', pid: process.pid, host: hostname(), venue: this.#config.venue, symbols: this.#config.symbols, run_id: e?.opts.run_id ?? '', strategy: e?.opts.strategy ?? '', after_unclean_stop: info.stale_pid !== undefined, startup_converged: info.converged, startup_corrections: info.corrections };
    this.#record('ENGINE_STARTED', details);
    // A start after an engine that did not stop cleanly (its pid file was left) is worth more.
    const severity: AlertSeverity = info.stale_pid !== undefined || !info.converged ? 'ERROR' : 'WARNING';
    this.#alert({
      event: 'engine_started', severity, code: 'ENGINE_STARTED', details,
      text: `engine started on ${hostname()} (pid ${process.pid}, venue ${this.#config.venue}, ${this.#config.symbols.join(',')})${info.stale_pid !== undefined ? ` after an unclean stop (stale pid ${info.stale_pid})` : ''}; startup reconcile ${info.converged ? 'converged' : 'NOT converged: pink restart'}`,
    });
    this.#timer = setInterval(() => this.#watch(), HEALTH_CHECK_MS);
    this.#timer.unref();
  }

  /** A graceful stop, before the store's last flush. */
  engineStopped(info: { stopped_by: string; steps: number; seq: number }): void {
    this.#stopWatch();
    const details = { reason: `engine stopped (${info.stopped_by})`, pid: process.pid, stopped_by: info.stopped_by, steps: info.steps, seq: info.seq };
    this.#record('ENGINE_STOPPED', details);
    this.#alert({ event: 'engine_stopped', severity: 'WARNING', code: 'ENGINE_STOPPED', details, text: `engine stopped (${info.stopped_by}) after ${info.steps} steps on ${hostname()}; positions stay at the venue: pink ditav2-status` });
  }

  /** The engine is ending on an error (any exit but 0): the row if the store is open, and the alert. */
  engineFailed(err: unknown): void {
    this.#stopWatch();
    const exit = err instanceof ExitError ? err.code : 'internal';
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 500);
    const details = { reason: `engine stopped on an error: ${message}`, pid: process.pid, exit };
    this.#record('ENGINE_FAILED', details);
    this.#alert({ event: 'engine_failed', severity: 'CRITICAL', code: 'ENGINE_FAILED', details, text: `ENGINE FAILED on ${hostname()} (pid ${process.pid}, exit ${exit}): ${message} (pink fault ENGINE_FAILED; pink ditav2-status)` });
  }

  #stopWatch(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Health and trading-state changes as alerts (watch.ts): on a timer, off the step loop. */
  #watch(): void {
    const a = this.#attached;
    if (!a || a.engine.stopping) return;
    const doc = engineStatus(a.engine, a.store, a.venue);
    this.#healthy = doc.healthy;
    const facts = { healthy: doc.healthy, reasons: doc.reasons, trading: tradingStates(a.engine.kernel.view()) };
    for (const ev of watchStep(this.#watchState, facts, Date.now())) this.alerts?.push(ev);
  }

  /** Last: stops the watch, sends what alerts it can within ALERT_DRAIN_MS_MAX, closes metrics. */
  async close(): Promise<void> {
    this.#stopWatch();
    await this.alerts?.close(ALERT_DRAIN_MS_MAX);
    await this.metrics?.close();
  }
}
