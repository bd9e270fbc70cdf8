// Metrics (SPEC 6: DOLPHIN_PINK_METRICS_ADDR; off unless set, loopback unless another host is
// named): Prometheus text at /metrics through prom-client, on its own registry. The step loop pays
// for two things only: a histogram observation per step and a counter per fault above INFO;
// everything else is read from the engine when Prometheus scrapes (the gauges' collect()).
import { createServer, type Server } from 'node:http';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { EXIT, ExitError } from '../../errors.js';
import type { KernelView } from '../runner/kernel-glue.js';
import type { StoreStats } from '../store/index.js';
import type { EndpointCount } from '../venue/types.js';
import type { AlertStats } from './alerts.js';
import type { MetricsAddr } from './settings.js';

/** Step duration buckets (seconds): a step is ~10-300 ms; a slow venue or store shows past 1 s. */
export const STEP_SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** What the gauges read at scrape time; each may be absent before the engine is up. */
export interface MetricsSources {
  view?: () => KernelView;
  heartbeat_ts?: () => number;
  steps?: () => number;
  store?: () => StoreStats;
  venueRequests?: () => ReadonlyMap<string, EndpointCount> | undefined;
  alerts?: () => AlertStats | undefined;
  healthy?: () => boolean | undefined;
}

/** The trading state of the engine and of each slot, when the kernel has one (issue 19). */
export function tradingStates(view: KernelView): { scope: string; state: string }[] {
  const out: { scope: string; state: string }[] = [];
  const engineState = (view as unknown as { trading_state?: unknown }).trading_state;
  if (typeof engineState === 'string') out.push({ scope: 'engine', state: engineState });
  for (const s of view.slots) {
    const st = (s as unknown as { trading_state?: unknown }).trading_state;
    if (typeof st === 'string') out.push({ scope: s.symbol, state: st });
  }
  return out;
}

const SLOT_STATES = ['IDLE', 'ENTRY_WORKING', 'OPEN', 'EXIT_WORKING', 'CLOSED', 'STALE_STATE_RECONCILING'];

export class Metrics {
  readonly registry: Registry;
  readonly stepSeconds: Histogram<string>;
  readonly faults: Counter<'code' | 'severity'>;
  sources: MetricsSources = {};
  #server: Server | null = null;
  address: string | null = null;

  private constructor(prom: typeof import('prom-client')) {
    const registry = new prom.Registry();
    this.registry = registry;
    const registers = [registry];
    prom.collectDefaultMetrics({ register: registry, prefix: 'pink_' });
    this.stepSeconds = new prom.Histogram({ name: 'pink_step_duration_seconds', help: 'Duration of one engine step (venue reads, kernel, sends).', buckets: STEP_SECONDS_BUCKETS, registers });
    this.faults = new prom.Counter({ name: 'pink_faults_total', help: 'Kernel outcomes above INFO, by taxonomy code (pink fault CODE).', labelNames: ['code', 'severity'], registers });
    const src = () => this.sources;
    const def: Definer = {
      src,
      view: () => src().view?.(),
      gauge: (name, help, read, labelNames = []) => {
        new prom.Gauge({ name, help, labelNames, registers, collect() { read(this); } });
      },
      counterFrom: (name, help, labelNames, read) => {
        new prom.Counter({ name, help, labelNames, registers, collect() { this.reset(); read(this); } });
      },
    };
    defineVenueMetrics(def);
    defineBookMetrics(def);
    defineAccountMetrics(def);
    defineOperationalMetrics(def);
  }

  /** Loads prom-client (only when metrics are on) and binds the server; ExitError(2) if it cannot. */
  static async start(addr: MetricsAddr, log: (line: string) => void = () => {}): Promise<Metrics> {
    const prom = await import('prom-client');
    const m = new Metrics(prom);
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('pink serves /metrics only\n');
        return;
      }
      m.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': m.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new ExitError(
            EXIT.USAGE,
            `DOLPHIN_PINK_METRICS_ADDR ${addr.host}:${addr.port} cannot be served: ${err.code === 'EADDRINUSE' ? 'the port is in use' : err.code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : (err.code ?? err.message)}`,
            'Choose a free port (e.g. 127.0.0.1:9464), or unset DOLPHIN_PINK_METRICS_ADDR. Nothing was sent to the venue.',
          ),
        ),
      );
      server.listen(addr.port, addr.host, () => resolve());
    });
    m.#server = server;
    m.address = `${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`;
    log(`metrics: Prometheus text at http://${m.address}/metrics${addr.loopback ? '' : ' (NOT loopback: reachable from other machines)'}`);
    return m;
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (!server) return;
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeAllConnections(); // a scraper's keep-alive connection would hold close() open
    await closed;
  }
}

/** What the metric groups below define their metrics with (prom-client's, bound to one registry). */
interface Definer {
  src: () => MetricsSources;
  view: () => KernelView | undefined;
  gauge: (name: string, help: string, read: (g: Gauge<string>) => void, labelNames?: string[]) => void;
  counterFrom: (name: string, help: string, labelNames: string[], read: (c: Counter<string>) => void) => void;
}

/** The loop and its venue requests. */
function defineVenueMetrics({ src, counterFrom }: Definer): void {
  counterFrom('pink_steps_total', 'Engine steps since start.', [], (c) => c.inc(src().steps?.() ?? 0));
  counterFrom('pink_venue_requests_total', 'REST requests to the venue, by endpoint.', ['endpoint'], (c) => {
    for (const [endpoint, n] of src().venueRequests?.() ?? []) c.inc({ endpoint }, n.requests);
  });
  counterFrom('pink_venue_request_errors_total', 'Venue requests that failed (an error answer, a rate limit, a timeout), by endpoint.', ['endpoint'], (c) => {
    for (const [endpoint, n] of src().venueRequests?.() ?? []) c.inc({ endpoint }, n.errors);
  });
}

/** The kernel's slots and positions. */
function defineBookMetrics({ view, gauge }: Definer): void {
  gauge('pink_slots', 'Slots by state.', (g) => {
    g.reset();
    const v = view();
    if (!v) return;
    for (const state of SLOT_STATES) g.set({ state }, v.slots.filter((s) => s.state === state).length);
  }, ['state']);
  gauge('pink_positions', 'Open positions (slots holding a quantity).', (g) => {
    const v = view();
    if (v) g.set(v.slots.filter((s) => s.qty > 0).length);
  });
  gauge('pink_position_qty', 'Position quantity by symbol and side (0 when flat).', (g) => {
    g.reset();
    for (const s of view()?.slots ?? []) g.set({ symbol: s.symbol, side: s.side ?? 'flat' }, s.qty);
  }, ['symbol', 'side']);
  gauge('pink_unrealized_pnl_usdt', 'Unrealized PnL by symbol at the last mark.', (g) => {
    g.reset();
    for (const s of view()?.slots ?? []) g.set({ symbol: s.symbol }, s.unrealized_pnl);
  }, ['symbol']);
}

/** The kernel's account. */
function defineAccountMetrics({ view, gauge }: Definer): void {
  const account = (name: string, help: string, key: 'equity' | 'capital' | 'realized_pnl' | 'fees' | 'funding' | 'drift' | 'venue_balance') =>
    gauge(name, help, (g) => {
      const a = view()?.account;
      const value = a?.[key];
      if (typeof value === 'number') g.set(value);
    });
  account('pink_equity_usdt', "The kernel's equity: capital plus unrealized PnL.", 'equity');
  account('pink_capital_usdt', "The kernel's capital: initial + realized - fees - funding.", 'capital');
  account('pink_realized_pnl_usdt', 'Realized PnL since the first start.', 'realized_pnl');
  account('pink_fees_usdt', 'Fees paid since the first start.', 'fees');
  account('pink_funding_usdt', 'Funding paid (positive) or received (negative) since the first start.', 'funding');
  account('pink_drift_usdt', 'Venue balance minus capital at the last reconcile.', 'drift');
  account('pink_venue_balance_usdt', 'The venue balance read at the last reconcile.', 'venue_balance');
}

/** The store, the rate limit, health, trading states and alerts. */
function defineOperationalMetrics({ src, view, gauge, counterFrom }: Definer): void {
  gauge('pink_store_pending_rows', 'Rows waiting to be written to ClickHouse.', (g) => {
    const s = src().store?.();
    if (s) g.set(s.pending_rows);
  });
  gauge('pink_store_spooled_rows', 'Rows in the spool, ClickHouse not taking them (pink fault STORE_SPOOLING).', (g) => {
    const s = src().store?.();
    if (s) g.set(s.spooled_rows);
  });
  gauge('pink_rate_limit_cooldown_seconds', 'Time left in the rate-limit cooldown (0 when clear).', (g) => {
    const rl = view()?.rateLimit;
    if (rl) g.set(rl.cooling_until_ts != null ? Math.max(0, rl.cooling_until_ts - Date.now()) / 1000 : 0);
  });
  gauge('pink_rate_limit_consecutive', 'RATE_LIMITED answers in a row.', (g) => {
    const rl = view()?.rateLimit;
    if (rl) g.set(rl.consecutive);
  });
  gauge('pink_heartbeat_age_seconds', 'Time since the last completed step.', (g) => {
    const hb = src().heartbeat_ts?.();
    if (hb !== undefined) g.set(Math.max(0, Date.now() - hb) / 1000);
  });
  gauge('pink_healthy', '1 when ditav2-status would say HEALTHY, 0 degraded.', (g) => {
    const h = src().healthy?.();
    if (h !== undefined) g.set(h ? 1 : 0);
  });
  gauge('pink_trading_state', 'Trading state (ACTIVE, REDUCING, HALTED) of the engine and each symbol, 1 for the current one.', (g) => {
    g.reset();
    const v = view();
    if (v) for (const t of tradingStates(v)) g.set({ scope: t.scope, state: t.state }, 1);
  }, ['scope', 'state']);
  counterFrom('pink_alerts_total', 'Alerts by outcome: sent, failed attempts, dropped (queue full or attempts spent), suppressed repeats.', ['outcome'], (c) => {
    const a = src().alerts?.();
    if (!a) return;
    c.inc({ outcome: 'sent' }, a.sent);
    c.inc({ outcome: 'failed_attempt' }, a.failures);
    c.inc({ outcome: 'dropped_queue_full' }, a.dropped_queue_full);
    c.inc({ outcome: 'dropped_attempts' }, a.dropped_attempts);
    c.inc({ outcome: 'suppressed_repeat' }, a.suppressed);
  });
  gauge('pink_alerts_queued', 'Alerts waiting to be delivered.', (g) => {
    const a = src().alerts?.();
    if (a) g.set(a.queued);
  });
}
