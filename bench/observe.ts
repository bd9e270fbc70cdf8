// Observe bench (issue 22): how long `pink timeline` and `pink report` take over a store of a few
// days of trades (the queries alone, and the whole command with the engine down), what an alert
// costs the step loop and how soon it reaches a webhook, from a fault in a real engine too, and
// what a /metrics scrape costs. Run: `node dist/bench/observe.js` or `npm run bench -- observe`.
// Figures only: speed is measured here, never asserted in tests (STYLE).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config.js';
import { AlertSink } from '../src/engine/observe/alerts.js';
import { report } from '../src/engine/observe/report.js';
import { timeline } from '../src/engine/observe/timeline.js';
import { openStore } from '../src/engine/store/index.js';
import { startSim } from '../src/sim/index.js';
import { runPink } from '../test/support/cli.js';
import { stopPid, waitFor } from '../test/support/e2e.js';
import { closedPort, T0_MS, tmpHome, tradeRows } from '../test/store/fixtures.js';
import { startReceiver } from '../test/observe/support.js';
import { ccxtClient } from '../test/sim/support.js';
import { median } from './measure.js';

/** One trade a minute (the fixture's spacing), ~15 rows each: 5,000 trades are ~3.5 days, ~75,000 rows. */
const TRADES = 5_000;
const RUNS = 5;
const ALERTS = 200;
/** The engine run's symbols: one EXIT_ORDER_REJECTED sample each. */
const SYMBOLS = ['BTC-USDT', 'ETH-USDT', 'SOL-USDT', 'LTC-USDT', 'BNB-USDT'];
/** Liquidated one each after the EXIT samples (a liquidated symbol stays REDUCING). */
const LIQUIDATION_SYMBOLS = SYMBOLS;

const ms = (t0: number): number => performance.now() - t0;
const f1 = (x: number): string => x.toFixed(1);

async function timed<T>(fn: () => Promise<T>, runs = RUNS): Promise<{ median_ms: number; last: T }> {
  const times: number[] = [];
  let last!: T;
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    last = await fn();
    times.push(ms(t0));
  }
  return { median_ms: median(times), last };
}

async function queries(): Promise<void> {
  const home = tmpHome('observe-bench');
  const env = { PINK_HOME: home, DOLPHIN_PINK_CH_DATABASE: 'pink_bench' };
  const config = loadConfig(env);
  try {
    const store = await openStore({ config, runId: 'bench', spoolDir: join(home, 'spool') });
    await store.ensureSchema();
    let prior = { realized: 0, fees: 0 };
    let rows = 0;
    for (let k = 0; k < TRADES; k += 500) {
      const batch = [];
      for (let j = k; j < k + 500; j += 1) {
        const t = tradeRows(j, prior);
        prior = { realized: t.realized, fees: t.fees };
        batch.push(...t.rows);
      }
      rows += batch.length;
      store.write({ token: `bench:${k}`, rows: batch });
    }
    await store.flush();
    const end = T0_MS + TRADES * 60_000;
    const scope = (span_ms: number) => ({ database: config.database, since_ms: end - span_ms, until_ms: end });
    console.log(`observe: store of ${rows} rows (${TRADES} trades, one a minute, ${f1(TRADES / 1440)} days), chDB`);
    for (const [name, span] of [['30m', 30 * 60_000], ['24h', 86_400_000], ['7d', 7 * 86_400_000]] as const) {
      const t = await timed(() => timeline(store, scope(span)));
      const r = await timed(() => report(store, scope(span)));
      console.log(`observe: --since ${name}: timeline ${f1(t.median_ms)} ms (${t.last.events.length} events${t.last.truncated.length > 0 ? `, capped: ${t.last.truncated.join(',')}` : ''}), report ${f1(r.median_ms)} ms (${r.last.summary.trades} trades, ${r.last.equity.length} curve points); median of ${RUNS}`);
    }
    await store.close();
    // The whole command as an operator runs it with the engine down: node, the CLI, chDB's open, the queries.
    const iso = (t: number) => new Date(t).toISOString();
    for (const cmd of ['timeline', 'report'] as const) {
      const times: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const t0 = performance.now();
        const r = await runPink([cmd, '--since', iso(end - 86_400_000), '--until', iso(end), '--json'], env);
        times.push(ms(t0));
        if (r.code !== 0) throw new Error(`pink ${cmd}: exit ${r.code}: ${r.stderr}`);
      }
      console.log(`observe: pink ${cmd} --since 24h --json (engine down, a new process each): ${f1(median(times))} ms median of 3`);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

async function alertLatency(): Promise<void> {
  const rx = await startReceiver();
  const arrived: number[] = [];
  const original = rx.received.push.bind(rx.received);
  rx.received.push = (...items) => {
    for (const b of items) arrived.push(Date.now() - Number(b['ts_ms']));
    return original(...items);
  };
  const sink = new AlertSink({ url: rx.url, min_severity: 'INFO', secrets: [], context: { namespace: 'pink', run_id: 'bench', venue: 'sim' } });
  const pushUs: number[] = [];
  for (let i = 0; i < ALERTS; i += 1) {
    const t0 = performance.now();
    sink.push({ event: 'fault', severity: 'CRITICAL', code: `BENCH_${i}`, symbol: 'BTC-USDT', ts_ms: Date.now(), text: 'bench' });
    pushUs.push(ms(t0) * 1000);
    await waitFor('the alert', async () => arrived.length > i, 10_000, 1);
  }
  await sink.close(1000);
  await rx.close();
  const s = [...arrived].sort((a, b) => a - b);
  console.log(`observe: alert push() ${f1(median(pushUs))} us median; push -> webhook received ${s[s.length >> 1]} ms median, p99 ${s[Math.floor(s.length * 0.99)]} ms, max ${s[s.length - 1]} ms (${ALERTS} CRITICAL alerts, one at a time, loopback)`);
  // A dead receiver: push() must stay as cheap (the queue is bounded, delivery is off the loop).
  const dead = new AlertSink({ url: `http://127.0.0.1:${await closedPort()}/x`, min_severity: 'INFO', secrets: [], context: { namespace: 'pink', run_id: 'bench', venue: 'sim' } });
  const t0 = performance.now();
  for (let i = 0; i < 10_000; i += 1) dead.push({ event: 'fault', severity: 'ERROR', code: `DEAD_${i}`, symbol: null, ts_ms: Date.now(), text: 'bench' });
  const per = (ms(t0) * 1000) / 10_000;
  console.log(`observe: 10,000 pushes to a dead receiver: ${f1(per)} us each; queued ${dead.pending} (bound 256), dropped ${dead.stats.dropped_queue_full}`);
  await dead.close(0);
}

/** A real engine at the default 1 s poll: from the step that met the fault to the webhook's receipt. */
async function engineFaultToWebhook(): Promise<void> {
  const sim = await startSim({ seed: 3, priceWalk: false });
  const rx = await startReceiver();
  const home = tmpHome('observe-bench-engine');
  const port = await closedPort();
  const received: { at: number; body: Record<string, unknown> }[] = [];
  const original = rx.received.push.bind(rx.received);
  rx.received.push = (...items) => {
    for (const b of items) received.push({ at: Date.now(), body: b });
    return original(...items);
  };
  const signals = join(home, 'intents.ndjson');
  const env = { PINK_HOME: home, DOLPHIN_LOG_DIR: join(home, 'logs'), PINK_SIM_URL: sim.url, DOLPHIN_PINK_SYMBOLS: SYMBOLS.join(','), DOLPHIN_PINK_ALERT_WEBHOOK_URL: rx.url, DOLPHIN_PINK_METRICS_ADDR: `127.0.0.1:${port}` };
  const { appendFileSync, writeFileSync } = await import('node:fs');
  // `pink run --signals` refuses a file that does not exist (issue 17): the decision engine's file is there first.
  writeFileSync(signals, '');
  try {
    const r = await runPink(['run', '--detach', '--strategy', 'signals', '--signals', signals], env);
    if (r.code !== 0) throw new Error(`engine: ${r.stderr}`);
    const lat: number[] = [];
    const fromSignal: number[] = [];
    const positions = async (): Promise<number> => ((await (await fetch(`${sim.url}/__sim/state`)).json()) as { positions: unknown[] }).positions.length;
    const signal = (intent: Record<string, unknown>) => appendFileSync(signals, `${JSON.stringify({ order_type: 'market', reason: 'bench', ...intent })}\n`);
    // One symbol per sample: a fault alerts once per (code, symbol) in ALERT_DEDUP_MS.
    for (const [i, symbol] of SYMBOLS.entries()) {
      signal({ intent_id: `bench-in-${i}`, symbol, action: 'ENTER', side: 'long', notional: 50 });
      await waitFor('a position', async () => (await positions()) > 0, 20_000);
      // The exit is refused: EXIT_ORDER_REJECTED, an ERROR, which the default minimum sends.
      await fetch(`${sim.url}/__sim/faults`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rejectNext: 'bench: exit refused' }) });
      const n = received.length;
      const signalled = Date.now();
      signal({ intent_id: `bench-x-${i}`, symbol, action: 'EXIT', final: true });
      await waitFor('the EXIT_ORDER_REJECTED alert', async () => received.slice(n).some((x) => x.body['code'] === 'EXIT_ORDER_REJECTED' && x.body['symbol'] === symbol), 20_000);
      const got = received.slice(n).find((x) => x.body['code'] === 'EXIT_ORDER_REJECTED' && x.body['symbol'] === symbol)!;
      // The anomaly row's ts is the step's input time: where the fault entered the kernel.
      const tl = await runPink(['timeline', '--since', '2m', '--json'], env);
      const events = (JSON.parse(tl.stdout) as { events: { code: string | null; symbol: string | null; ts_ms: number }[] }).events.filter((e) => e.code === 'EXIT_ORDER_REJECTED' && e.symbol === symbol);
      lat.push(got.at - events[events.length - 1]!.ts_ms);
      fromSignal.push(got.at - signalled);
      signal({ intent_id: `bench-y-${i}`, symbol, action: 'EXIT', final: true });
      await waitFor('flat', async () => (await positions()) === 0, 20_000);
    }
    // A CRITICAL fault (issue 22's "done when"): the venue liquidates a position (isolated 20x,
    // the mark moved past its liquidation price). Timed from the price move, the venue's act, to the
    // LIQUIDATION alert's receipt: one poll to see it, then the kernel and the sender.
    const ex = ccxtClient(sim.url);
    await ex.loadMarkets();
    const crit: number[] = [];
    const critSeen: number[] = [];
    for (const [i, symbol] of LIQUIDATION_SYMBOLS.entries()) {
      const market = `${symbol.replace('-USDT', '')}/USDT:USDT`;
      await ex.setMarginMode('isolated', market);
      await ex.setLeverage(20, market, { side: 'BOTH' });
      signal({ intent_id: `bench-liq-${i}`, symbol, action: 'ENTER', side: 'long', notional: 200 });
      const liq = await waitFor('a liquidation price', async () => sim.state().positions.find((p) => p.symbol === symbol)?.liquidation_price ?? false, 20_000);
      const n = received.length;
      const moved = Date.now();
      await fetch(`${sim.url}/__sim/price`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ symbol, price: liq * 0.99 }) });
      await waitFor('the LIQUIDATION alert', async () => received.slice(n).some((x) => x.body['code'] === 'LIQUIDATION' && x.body['symbol'] === symbol), 20_000);
      const got = received.slice(n).find((x) => x.body['code'] === 'LIQUIDATION' && x.body['symbol'] === symbol)!;
      if (got.body['severity'] !== 'CRITICAL') throw new Error(`LIQUIDATION alert at ${String(got.body['severity'])}`);
      crit.push(got.at - moved);
      // Split: the venue's act to the alert's making (the poll that saw it, the step, the kernel),
      // then the alert's making to its receipt (the queue and the POST).
      critSeen.push(Number(got.body['ts_ms']) - moved);
    }
    const scrapes: number[] = [];
    for (let i = 0; i < 20; i += 1) {
      const t0 = performance.now();
      await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      scrapes.push(ms(t0));
    }
    const list = (xs: number[]) => [...xs].sort((a, b) => a - b).map((x) => `${x} ms`).join(', ');
    console.log(`observe: engine at the default 1 s poll: EXIT_ORDER_REJECTED (ERROR) -> webhook received ${list(lat)} after the kernel took the venue's answer (the anomaly row's ts); poll interval 1000 ms`);
    console.log(`observe: the same, from the EXIT intent appended to the signals file (waits for the next step, up to one poll interval): ${list(fromSignal)}`);
    console.log(`observe: engine at the default 1 s poll: a liquidation at the venue (CRITICAL) -> LIQUIDATION webhook received ${list(crit)} after the price move (up to one poll to see it); poll interval 1000 ms`);
    console.log(`observe: of which the price move to the alert made (the poll that saw it, its step): ${list(critSeen)}`);
    console.log(`observe: /metrics scrape of a running engine: ${f1(median(scrapes))} ms median of 20`);
  } finally {
    await stopPid(join(home, 'pink.pid'));
    await stopPid(join(home, 'sim', 'sim.json'));
    await rx.close();
    await sim.close();
    rmSync(home, { recursive: true, force: true });
  }
}

export async function bench(): Promise<void> {
  await queries();
  await alertLatency();
  await engineFaultToWebhook();
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await bench();
