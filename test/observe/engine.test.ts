// Issue 22 end to end, on one engine: the real binary, the simulator over HTTP through ccxt, the
// embedded store. A known script (two trades, one exit rejected first, a flatten through the
// engine, a hard halt and a resume of the whole engine, a rate-limit cycle) runs once in before();
// a webhook receiver that is up, then down,
// then slow, then up again gets the alerts; /metrics is scraped while the engine runs; then the
// timeline and the report (engine down, from the store) are checked figure by figure against
// values computed here from the simulator's ground truth and the raw rows.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'parse5';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/engine/store/index.js';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import type { ReportDoc } from '../../src/engine/observe/report.js';
import type { TimelineDoc } from '../../src/engine/observe/timeline.js';
import { runPink, tempDir, type PinkResult } from '../support/cli.js';
import { stopPid, waitFor } from '../support/e2e.js';
import { HEAVY_MODULE, loadedModules } from '../support/loads.js';
import { closedPort } from '../store/fixtures.js';
import { parseProm, sample, startReceiver, type Receiver } from './support.js';
import { expectedFromVenue, near } from './venue-truth.js';

const KEY = 'obs-test-key-0123456789abcdef';
const SECRET = 'obs-test-secret-fedcba9876543210';
const HOOK_SECRET = 'T0KEN-B1GSECRET-9f8e7d';

interface World {
  sim: SimHandle;
  dir: ReturnType<typeof tempDir>;
  home: string;
  logDir: string;
  signalsPath: string;
  env: Record<string, string>;
  receiver: Receiver;
  metricsUrl: string;
}

let w: World;
const facts: {
  since: string;
  until: string;
  metricsAfterTrades: string;
  metricsAfterRateLimit: string;
  statusAfterTrades: Record<string, any>;
  /** Scraped and asked while the engine was HALTED by `pink halt --all --hard`, then after `pink resume --all`. */
  metricsHalted: string;
  statusHalted: Record<string, any>;
  metricsResumed: string;
  /** The receiver's alerts from just before the halt on (the halt's and the resume's are among them). */
  alertsFromHalt: number;
  timelineUp: { code: number | null; doc: TimelineDoc; stderr: string };
  timelineUpLoads: { code: number | null; loaded: string[] };
  stepsWhileDown: [number, number];
  stepsWhileSlow: [number, number];
  failedAttemptsWhileDown: number;
  outputs: PinkResult[];
} = {} as never;

async function pink(args: string[], extra: Record<string, string> = {}): Promise<PinkResult> {
  const r = await runPink(args, { ...w.env, ...extra }, { timeoutMs: 90_000 });
  facts.outputs.push(r);
  return r;
}

async function json<T>(args: string[]): Promise<{ code: number | null; doc: T; stderr: string }> {
  const r = await pink([...args, '--json']);
  try {
    return { code: r.code, doc: JSON.parse(r.stdout) as T, stderr: r.stderr };
  } catch {
    throw new Error(`pink ${args.join(' ')} --json: no JSON (exit ${r.code}): ${r.stdout.slice(0, 300)} / ${r.stderr.slice(0, 300)}`);
  }
}

async function status(): Promise<Record<string, any>> {
  return (await json<Record<string, any>>(['ditav2-status'])).doc;
}

async function slot(symbol: string): Promise<Record<string, any> | undefined> {
  return ((await status()).slots as Record<string, any>[] | undefined)?.find((s) => s['symbol'] === symbol);
}

/** Appends intents to the signals file (synchronously: the engine's tail sees whole lines). */
function signal(...lines: unknown[]): void {
  appendFileSync(w.signalsPath, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

async function admin(path: string, body: unknown): Promise<void> {
  const res = await fetch(`${w.sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!res.ok) throw new Error(`sim admin ${path}: ${res.status} ${await res.text()}`);
}

/** Waits for `fn` at most `timeout_ms`, without failing: the tests judge what came (before() must not throw for it). */
async function settle(fn: () => Promise<boolean>, timeout_ms = 15_000): Promise<void> {
  await waitFor('', fn, timeout_ms).catch(() => undefined);
}

async function scrape(): Promise<string> {
  const res = await fetch(w.metricsUrl);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return res.text();
}

const alerts = (event: string, code?: string) => w.receiver.received.filter((b) => b['event'] === event && (code === undefined || b['code'] === code));

async function metric(name: string, labels: Record<string, string> = {}): Promise<number> {
  return sample(parseProm(await scrape()).samples, name, labels) ?? 0;
}

before(async () => {
  facts.outputs = [];
  const dir = tempDir('pink-observe-');
  const logDir = join(dir.path, 'logs');
  mkdirSync(logDir, { recursive: true });
  const sim = await startSim({ seed: 7, priceWalk: false, apiKey: KEY, apiSecret: SECRET });
  const receiver = await startReceiver(`/services/${HOOK_SECRET}`);
  const port = await closedPort();
  w = {
    sim, dir, logDir, receiver,
    home: join(dir.path, 'home'),
    signalsPath: join(dir.path, 'intents.ndjson'),
    metricsUrl: `http://127.0.0.1:${port}/metrics`,
    env: {
      PINK_HOME: join(dir.path, 'home'),
      DOLPHIN_LOG_DIR: logDir,
      PINK_SIM_URL: sim.url,
      DOLPHIN_PINK_POLL_INTERVAL_SEC: '0.05',
      DOLPHIN_PINK_SYMBOLS: 'BTC-USDT,ETH-USDT',
      // Venue sim signs with the simulator's credentials only (SECURITY.md); they are secrets too.
      PINK_SIM_API_KEY: KEY,
      PINK_SIM_API_SECRET: SECRET,
      DOLPHIN_PINK_ALERT_WEBHOOK_URL: receiver.url,
      DOLPHIN_PINK_ALERT_MIN_SEVERITY: 'WARNING',
      DOLPHIN_PINK_METRICS_ADDR: `127.0.0.1:${port}`,
    },
  };
  facts.since = new Date(Date.now() - 1000).toISOString();
  writeFileSync(w.signalsPath, ''); // `--signals` must name an existing file (issue 17)
  const started = await json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
  assert.equal(started.code, 0, started.stderr);
  await waitFor('the engine_started alert', async () => alerts('engine_started').length > 0);

  // Trade 1: BTC long 0.01 at 60000; the first exit is rejected (EXIT_ORDER_REJECTED, ERROR), the second fills at 61000.
  await admin('/__sim/price', { symbol: 'BTC-USDT', price: 60000 });
  await admin('/__sim/price', { symbol: 'ETH-USDT', price: 3000 });
  signal({ intent_id: 'obs-btc-in', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0.01, order_type: 'market', reason: 'obs_entry' });
  await waitFor('BTC OPEN', async () => (await slot('BTC-USDT'))?.['state'] === 'OPEN');
  await admin('/__sim/price', { symbol: 'BTC-USDT', price: 61000 });
  await admin('/__sim/faults', { rejectNext: 'obs test: exit refused' });
  signal({ intent_id: 'obs-btc-out-1', symbol: 'BTC-USDT', action: 'EXIT', final: true, order_type: 'market', reason: 'take_profit' });
  await waitFor('the EXIT_ORDER_REJECTED alert', async () => alerts('fault', 'EXIT_ORDER_REJECTED').length > 0);
  signal({ intent_id: 'obs-btc-out-2', symbol: 'BTC-USDT', action: 'EXIT', final: true, order_type: 'market', reason: 'take_profit' });
  await waitFor('BTC CLOSED', async () => (await slot('BTC-USDT'))?.['state'] === 'CLOSED');

  // Trade 2: ETH short 0.1 at 3000, the price goes to 3100, flattened through the engine.
  signal({ intent_id: 'obs-eth-in', symbol: 'ETH-USDT', action: 'ENTER', side: 'short', qty: 0.1, order_type: 'market', reason: 'obs_entry' });
  await waitFor('ETH OPEN', async () => (await slot('ETH-USDT'))?.['state'] === 'OPEN');
  await admin('/__sim/price', { symbol: 'ETH-USDT', price: 3100 });
  const flat = await json<{ flat: boolean }>(['flatten', 'ETH-USDT', '--yes']);
  assert.equal(flat.code, 0, flat.stderr);
  assert.equal(flat.doc.flat, true);

  facts.metricsAfterTrades = await scrape();
  facts.statusAfterTrades = await status();

  // A hard halt of the whole engine, then a resume. The health watch looks once a second; the
  // waits are bounded and do not throw: whether the alerts came is the tests' to say.
  facts.alertsFromHalt = w.receiver.received.length;
  const halted = await pink(['halt', '--all', '--hard', '--reason', 'obs test halt']);
  assert.equal(halted.code, 0, halted.stderr);
  const fromHalt = () => w.receiver.received.slice(facts.alertsFromHalt);
  await settle(async () => fromHalt().some((b) => b['code'] === 'TRADING_HALTED'));
  facts.metricsHalted = await scrape();
  facts.statusHalted = await status();
  const resumed = await pink(['resume', '--all']);
  assert.equal(resumed.code, 0, resumed.stderr);
  await settle(async () => fromHalt().some((b) => b['code'] === 'TRADING_ACTIVE' && b['symbol'] === null));
  facts.metricsResumed = await scrape();

  facts.timelineUp = await json<TimelineDoc>(['timeline', '--since', '10m']);
  facts.timelineUpLoads = await loadedModules(['timeline', '--since', '10m', '--json'], w.env);

  // A slow venue: steps stall past 5 poll intervals, status turns degraded, then healthy again.
  await admin('/__sim/faults', { latencyMs: 1500 });
  await waitFor('the health_degraded alert', async () => alerts('health_degraded').length > 0);
  await admin('/__sim/faults', { latencyMs: 0 });
  await waitFor('the health_recovered alert', async () => alerts('health_recovered').length > 0);

  // The rate-limit cycle while the receiver is down: the engine keeps stepping, alerts wait.
  await w.receiver.setMode('down');
  let s0 = Number((await status())['engine']['steps']);
  await admin('/__sim/faults', { rateLimitEvery: 3 });
  await waitFor('a failed alert attempt and 10 more steps while the receiver is down', async () => {
    const failed = await metric('pink_alerts_total', { outcome: 'failed_attempt' });
    const steps = Number((await status())['engine']['steps']);
    if (failed > 0 && steps >= s0 + 10) {
      facts.failedAttemptsWhileDown = failed;
      facts.stepsWhileDown = [s0, steps];
      return true;
    }
    return false;
  }, 60_000);
  // Slow: the receiver takes the connection and never answers; the engine keeps stepping.
  await w.receiver.setMode('slow');
  s0 = Number((await status())['engine']['steps']);
  await waitFor('a held alert and 10 more steps while the receiver is slow', async () => {
    const steps = Number((await status())['engine']['steps']);
    if (w.receiver.held > 0 && steps >= s0 + 10) {
      facts.stepsWhileSlow = [s0, steps];
      return true;
    }
    return false;
  }, 60_000);
  await admin('/__sim/faults', { rateLimitEvery: 0 });
  await w.receiver.setMode('ok');
  await waitFor('the RATE_LIMITED alert, retried until the receiver took it', async () => alerts('fault', 'RATE_LIMITED').length > 0, 90_000);
  facts.metricsAfterRateLimit = await scrape();
  await waitFor('the rate limit clears', async () => Number((await status())['rateLimit']['consecutive']) === 0, 60_000);

  await stopPid(join(w.home, 'pink.pid'));
  await waitFor('the engine_stopped alert', async () => alerts('engine_stopped').length > 0);
  facts.until = new Date(Date.now() + 1000).toISOString();
});

after(async () => {
  await stopPid(join(w.home, 'pink.pid'));
  await w.receiver.close();
  await w.sim.close();
  w.dir.remove();
});

// ---------------------------------------------------------------- tests

test('the script ran as written: two trades closed at the venue, one exit rejected first, flat at the end', () => {
  const truth = w.sim.state();
  assert.equal(truth.positions.length, 0, 'flat at the venue');
  const e = expectedFromVenue(w.sim.state().fills);
  assert.equal(e.trades, 2);
  assert.equal(e.wins, 1, 'BTC won, ETH lost');
});

test('timeline with the engine up: answered by the engine (named query), the start and the rejected exit in it', () => {
  const t = facts.timelineUp;
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /asked the running engine/);
  const started = t.doc.events.filter((e) => e.kind === 'engine' && e.code === 'ENGINE_STARTED');
  assert.equal(started.length, 1);
  const reject = t.doc.events.find((e) => e.code === 'EXIT_ORDER_REJECTED');
  assert.ok(reject, JSON.stringify(t.doc.events.map((e) => e.code)));
  assert.equal(reject.symbol, 'BTC-USDT');
  assert.equal(reject.hint, 'pink fault EXIT_ORDER_REJECTED');
  const loads = facts.timelineUpLoads;
  assert.equal(loads.code, 0);
  assert.ok(loads.loaded.some((l) => l.includes('runner/socket.js')), 'the hook saw the socket path');
  assert.deepEqual(loads.loaded.filter((l) => HEAVY_MODULE.test(l)), [], 'asking the engine loads neither ccxt nor chDB nor the ClickHouse client');
});

test('timeline with the engine down, from the store: every fill once, both exit legs, faults, the engine\'s start and stop, in order', async () => {
  const r = await json<TimelineDoc>(['timeline', '--since', facts.since, '--until', facts.until]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /engine down: read from the store/);
  const ev = r.doc.events;
  assert.deepEqual(ev.map((e) => e.ts_ms), [...ev.map((e) => e.ts_ms)].sort((a, b) => a - b), 'chronological');
  const e = expectedFromVenue(w.sim.state().fills);
  assert.equal(ev.filter((x) => x.kind === 'fill').length, e.fills, 'one fill event per venue fill');
  const legs = ev.filter((x) => x.kind === 'exit_leg');
  assert.deepEqual(legs.map((l) => `${l.symbol} ${/\((\w+)\)/.exec(l.detail)?.[1]}`), ['BTC-USDT take_profit', 'ETH-USDT manual_flatten']);
  assert.equal(ev.filter((x) => x.kind === 'engine' && x.code === 'ENGINE_STARTED').length, 1);
  assert.equal(ev.filter((x) => x.kind === 'engine' && x.code === 'ENGINE_STOPPED').length, 1);
  assert.ok(ev.findIndex((x) => x.code === 'ENGINE_STARTED') < ev.findIndex((x) => x.code === 'EXIT_ORDER_REJECTED'));
  assert.equal(ev.filter((x) => x.code === 'EXIT_ORDER_REJECTED').length, 1);
  const rl = ev.filter((x) => x.code === 'RATE_LIMITED');
  assert.ok(rl.length >= 1, 'the rate-limit cycle');
  assert.ok(rl.every((x) => x.hint === 'pink fault RATE_LIMITED' && x.kind === 'fault'));
  const closed = ev.filter((x) => x.kind === 'trade' && x.detail.startsWith('closed'));
  assert.equal(closed.length, 2);
  for (const k of ['decision', 'order', 'slot']) assert.ok(ev.some((x) => x.kind === k), k);
  near(r.doc.cost.realized, e.realized, 'the window\'s realized', 1e-6);
  near(r.doc.cost.fees, e.fees, 'the window\'s fees', 1e-6);
  // One symbol: its events and the engine-wide ones only.
  const eth = await json<TimelineDoc>(['timeline', '--since', facts.since, '--until', facts.until, '--symbol', 'eth-usdt']);
  assert.equal(eth.code, 0);
  assert.ok(eth.doc.events.every((x) => x.symbol === 'ETH-USDT' || x.symbol === null));
  assert.ok(eth.doc.events.some((x) => x.kind === 'exit_leg' && x.detail.includes('manual_flatten')));
  assert.ok(!eth.doc.events.some((x) => x.code === 'EXIT_ORDER_REJECTED'));
  // The human rendering: one line per event, the hint on fault lines.
  const text = await pink(['timeline', '--since', facts.since, '--until', facts.until]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /EXIT_ORDER_REJECTED.*\(pink fault EXIT_ORDER_REJECTED\)/);
  assert.match(text.stdout, /cost of the window: realized/);
});

test('report: every figure equals the one computed from the venue\'s fills and the raw account rows', async () => {
  const r = await json<ReportDoc>(['report', '--since', facts.since, '--until', facts.until]);
  assert.equal(r.code, 0, r.stderr);
  const s = r.doc.summary;
  const e = expectedFromVenue(w.sim.state().fills);
  near(s.realized, e.realized, 'realized', 1e-6);
  near(s.fees, e.fees, 'fees', 1e-6);
  // Funding is paid only if a funding time (00/08/16 UTC) passed during the test: as the venue's ledger says.
  const paid = -w.sim.state().income.filter((x) => x.type === 'FUNDING_FEE').reduce((n, x) => n + x.amount_usdt, 0);
  near(s.funding, paid, 'funding as the venue ledger says', 1e-9);
  near(s.net, e.realized - e.fees, 'net', 1e-6);
  assert.equal(s.trades, e.trades);
  assert.equal(s.wins, e.wins);
  near(s.win_rate, e.wins / e.trades, 'win rate');
  near(s.avg_hold_s, e.avg_hold_s, 'average hold', 1e-6);
  assert.equal(s.liquidations, 0);
  assert.equal(s.exposure_usdt, 0, 'flat at the end');
  assert.equal(s.best_symbol?.symbol, 'BTC-USDT');
  assert.equal(s.worst_symbol?.symbol, 'ETH-USDT');
  for (const row of r.doc.symbols) {
    near(row.realized, e.bySymbol[row.symbol]!.realized, `${row.symbol} realized`, 1e-6);
    near(row.fees, e.bySymbol[row.symbol]!.fees, `${row.symbol} fees`, 1e-6);
    assert.equal(row.trades, 1);
  }
  assert.deepEqual(r.doc.symbols.map((x) => x.symbol).sort(), Object.keys(e.bySymbol).sort());
  assert.deepEqual(r.doc.days.map((d) => d.day), e.days);
  // Max drawdown, computed here from the raw account rows (each row_id once, the last before the window first).
  const config = loadConfig(w.env);
  const store = await openStore({ config, runId: 'observe-check' });
  try {
    const sinceMs = Date.parse(facts.since);
    const untilMs = Date.parse(facts.until);
    const raw = await store.query<{ t: number; row_id: string; equity: number }>(`SELECT toUnixTimestamp64Milli(ts) AS t, row_id, equity FROM ${config.database}.account`);
    const once = [...new Map(raw.map((x) => [x.row_id, x])).values()].sort((a, b) => a.t - b.t || (a.row_id < b.row_id ? -1 : 1));
    const beforeRows = once.filter((x) => x.t < sinceMs);
    const series = [...(beforeRows.length > 0 ? [beforeRows[beforeRows.length - 1]!] : []), ...once.filter((x) => x.t >= sinceMs && x.t < untilMs)].map((x) => x.equity);
    let peak = -Infinity;
    let dd = 0;
    for (const v of series) {
      peak = Math.max(peak, v);
      dd = Math.max(dd, peak - v);
    }
    assert.ok(series.length >= 2, 'account rows in the window');
    near(s.max_drawdown, dd, 'max drawdown', 1e-9);
    assert.ok(dd > 0, 'the ETH loss is a drawdown');
    near(s.equity_end, series[series.length - 1]!, 'equity at the end');
  } finally {
    await store.close();
  }
  const text = await pink(['report', '--since', facts.since, '--until', facts.until]);
  assert.equal(text.code, 0);
  assert.match(text.stdout, /win rate 50\.0%/);
  assert.match(text.stdout, /[╭╮╯╰│─┼┤]/, 'the equity chart (asciichart)');
});

test('report --html: one self-contained page; its embedded data is the --json document; no network', async () => {
  const file = join(w.dir.path, 'report.html');
  const r = await pink(['report', '--since', facts.since, '--until', facts.until, '--html', file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as ReportDoc;
  const html = readFileSync(file, 'utf8');
  const tree = parse(html);
  const elements: { tag: string; attrs: Record<string, string>; text: string }[] = [];
  const walk = (node: any): void => {
    if (node.tagName) {
      const text = (node.childNodes ?? []).filter((c: any) => c.nodeName === '#text').map((c: any) => c.value).join('');
      elements.push({ tag: node.tagName, attrs: Object.fromEntries((node.attrs ?? []).map((a: any) => [a.name, a.value])), text });
    }
    for (const c of node.childNodes ?? []) walk(c);
    if (node.content) walk(node.content);
  };
  walk(tree);
  const data = elements.find((x) => x.tag === 'script' && x.attrs['id'] === 'pink-report-data');
  assert.ok(data, 'the data element');
  assert.equal(data.attrs['type'], 'application/json');
  assert.deepEqual(JSON.parse(data.text), doc, 'the page carries the same document as --json');
  assert.ok(doc.equity.length >= 2, 'an equity curve to draw');
  for (const id of ['equity', 'drawdown', 'symbols-chart']) assert.ok(elements.some((x) => x.attrs['id'] === id), `chart ${id}`);
  const scripts = elements.filter((x) => x.tag === 'script');
  assert.ok(scripts.some((x) => x.text.includes('uPlot') && x.text.length > 40_000), 'uPlot inlined');
  for (const x of elements) {
    for (const attr of ['src', 'href', 'action', 'data']) assert.ok(!(x.attrs[attr] ?? '').match(/^(https?:)?\/\//), `no remote ${attr} on <${x.tag}>`);
  }
  assert.ok(!/<link\b/i.test(html) && !/@import/i.test(html), 'no stylesheet fetched');
  assert.ok(elements.some((x) => x.tag === 'td' && x.text === 'BTC-USDT'), 'the per-symbol table');
});

test('alerts: the expected ones, Slack text plus fields, never a secret; retried through down and slow', () => {
  const got = w.receiver.received;
  for (const [event, code, severity] of [
    ['engine_started', 'ENGINE_STARTED', 'WARNING'],
    ['fault', 'EXIT_ORDER_REJECTED', 'ERROR'],
    ['fault', 'RATE_LIMITED', 'WARNING'],
    ['engine_stopped', 'ENGINE_STOPPED', 'WARNING'],
  ]) {
    const a = got.filter((b) => b['event'] === event && b['code'] === code);
    assert.equal(a.length, 1, `${event} ${code} once (${JSON.stringify(got.map((b) => b['code']))})`);
    assert.equal(a[0]!['severity'], severity);
  }
  for (const b of got) {
    assert.equal(typeof b['text'], 'string');
    assert.match(String(b['text']), /^\[PINK (INFO|WARNING|ERROR|CRITICAL)\] /);
    for (const k of ['event', 'severity', 'code', 'symbol', 'ts']) assert.ok(k in b, `field ${k}`);
    assert.ok(!Number.isNaN(Date.parse(String(b['ts']))));
    const text = JSON.stringify(b);
    for (const secret of [KEY, SECRET, HOOK_SECRET]) assert.ok(!text.includes(secret), 'no secret in an alert body');
  }
  assert.equal(got.find((b) => b['code'] === 'EXIT_ORDER_REJECTED')!['symbol'], 'BTC-USDT');
  // Status turned degraded while the venue was slow, then healthy again: one alert each way, in order.
  const degraded = got.findIndex((b) => b['event'] === 'health_degraded');
  const recovered = got.findIndex((b) => b['event'] === 'health_recovered');
  assert.ok(degraded >= 0 && recovered > degraded, 'degraded, then healthy again');
  assert.match(String(got[degraded]!['text']), /status DEGRADED: .*heartbeat/);
  assert.equal(got[degraded]!['severity'], 'ERROR');
  assert.ok(facts.failedAttemptsWhileDown >= 1, 'delivery failed while the receiver was down');
  assert.ok(w.receiver.held >= 1, 'a delivery hung on the slow receiver');
  // The engine kept stepping meanwhile (each interval waited for 10 steps; reaching it is the proof).
  assert.ok(facts.stepsWhileDown[1] >= facts.stepsWhileDown[0] + 10);
  assert.ok(facts.stepsWhileSlow[1] >= facts.stepsWhileSlow[0] + 10);
  // The repeats of RATE_LIMITED within the window were suppressed and counted, not sent.
  const m = parseProm(facts.metricsAfterRateLimit).samples;
  assert.ok((sample(m, 'pink_alerts_total', { outcome: 'suppressed_repeat' }) ?? 0) >= 1, 'repeats counted');
});

test('metrics: scraped and parsed; each figure agrees with status or with the script', () => {
  const { samples, types } = parseProm(facts.metricsAfterTrades);
  assert.equal(types.get('pink_step_duration_seconds'), 'histogram');
  assert.equal(types.get('pink_faults_total'), 'counter');
  assert.equal(types.get('pink_equity_usdt'), 'gauge');
  const st = facts.statusAfterTrades;
  assert.ok((sample(samples, 'pink_step_duration_seconds_count') ?? 0) > 0);
  assert.ok((sample(samples, 'pink_steps_total') ?? 0) > 0);
  assert.equal(sample(samples, 'pink_faults_total', { code: 'EXIT_ORDER_REJECTED', severity: 'ERROR' }), 1);
  assert.equal(sample(samples, 'pink_slots'), 2, 'two slots over all states');
  assert.equal(sample(samples, 'pink_slots', { state: 'CLOSED' }), 2, 'both trades closed');
  assert.equal(sample(samples, 'pink_positions'), 0);
  near(sample(samples, 'pink_equity_usdt'), st['account']['equity'], 'equity as status says');
  near(sample(samples, 'pink_realized_pnl_usdt'), st['account']['realized_pnl'], 'realized as status says');
  near(sample(samples, 'pink_fees_usdt'), st['account']['fees'], 'fees as status says');
  near(sample(samples, 'pink_funding_usdt'), st['account']['funding'], 'funding as status says');
  assert.equal(sample(samples, 'pink_store_spooled_rows'), 0);
  assert.ok(sample(samples, 'pink_store_pending_rows') !== undefined);
  assert.ok(sample(samples, 'pink_heartbeat_age_seconds') !== undefined);
  assert.equal(sample(samples, 'pink_rate_limit_cooldown_seconds'), 0);
  assert.ok((sample(samples, 'pink_alerts_total', { outcome: 'sent' }) ?? 0) >= 2);
  const endpoints = samples.filter((x) => x.name === 'pink_venue_requests_total');
  assert.ok(endpoints.length >= 3, 'several endpoints');
  for (const x of endpoints) assert.match(x.labels['endpoint']!, /^(GET|POST|DELETE) \/openApi\/swap\//);
  assert.ok((sample(samples, 'pink_venue_request_errors_total', { endpoint: 'POST /openApi/swap/v2/trade/order' }) ?? 0) >= 1, 'the rejected exit is an error of the order endpoint');
  const after = parseProm(facts.metricsAfterRateLimit).samples;
  assert.ok((sample(after, 'pink_faults_total', { code: 'RATE_LIMITED' }) ?? 0) >= 1);
  assert.ok((sample(after, 'pink_venue_request_errors_total') ?? 0) > (sample(samples, 'pink_venue_request_errors_total') ?? 0), 'rate-limited requests are counted as errors');
  assert.ok((sample(after, 'pink_alerts_total', { outcome: 'failed_attempt' }) ?? 0) >= 1);
});

test('metrics: drift and health as status says', () => {
  const { samples, types } = parseProm(facts.metricsAfterTrades);
  const st = facts.statusAfterTrades;
  assert.equal(types.get('pink_drift_usdt'), 'gauge');
  assert.equal(typeof st['account']['drift'], 'number', 'the startup reconcile measured the drift');
  near(sample(samples, 'pink_drift_usdt'), st['account']['drift'], 'drift as status says', 1e-9);
  near(sample(samples, 'pink_venue_balance_usdt'), st['account']['venue_balance'], 'venue balance as status says', 1e-9);
  assert.equal(st['healthy'], true, `status healthy after the trades: ${JSON.stringify(st['reasons'])}`);
  assert.equal(sample(samples, 'pink_healthy'), 1, 'pink_healthy as status says');
});

test('halt and resume: TRADING_HALTED, then TRADING_ACTIVE for the engine, at the webhook', () => {
  const got = w.receiver.received.slice(facts.alertsFromHalt);
  const codes = JSON.stringify(got.map((b) => `${b['code']}:${b['symbol']}`));
  const halted = got.findIndex((b) => b['event'] === 'trading_state' && b['code'] === 'TRADING_HALTED' && b['symbol'] === null);
  assert.ok(halted >= 0, `TRADING_HALTED for the engine (${codes})`);
  assert.equal(got[halted]!['severity'], 'ERROR');
  assert.match(String(got[halted]!['text']), /the engine now HALTED \(was ACTIVE\)/);
  const active = got.findIndex((b, i) => i > halted && b['event'] === 'trading_state' && b['code'] === 'TRADING_ACTIVE' && b['symbol'] === null);
  assert.ok(active > halted, `TRADING_ACTIVE for the engine after the halt (${codes})`);
  assert.match(String(got[active]!['text']), /the engine trading ACTIVE again \(was HALTED\)/);
  // The engine's halt is every symbol's effective state too: one alert per scope, none twice.
  assert.deepEqual(got.filter((b) => b['code'] === 'TRADING_HALTED').map((b) => b['symbol'] ?? 'engine').sort(), ['BTC-USDT', 'ETH-USDT', 'engine']);
});

test('halt and resume: pink_trading_state says HALTED while halted and ACTIVE after, as status does', () => {
  const halted = parseProm(facts.metricsHalted).samples;
  assert.equal(facts.statusHalted['engine']['trading_state'], 'HALTED');
  assert.equal(sample(halted, 'pink_trading_state', { scope: 'engine', state: 'HALTED' }), 1, 'HALTED while halted');
  assert.equal(sample(halted, 'pink_trading_state', { scope: 'engine', state: 'ACTIVE' }), undefined, 'one state at a time');
  // An operator's halt is not a degradation (only a circuit breaker's is).
  assert.equal(facts.statusHalted['healthy'], true, JSON.stringify(facts.statusHalted['reasons']));
  assert.equal(sample(halted, 'pink_healthy'), 1);
  const resumed = parseProm(facts.metricsResumed).samples;
  assert.equal(sample(resumed, 'pink_trading_state', { scope: 'engine', state: 'ACTIVE' }), 1, 'ACTIVE after the resume');
  assert.equal(sample(resumed, 'pink_trading_state', { state: 'HALTED' }), undefined);
});

test('halt and resume: the operator\'s two actions in the timeline, from the store and from the running engine', async () => {
  const ops = (events: TimelineDoc['events']) => events.filter((e) => e.kind === 'operator' && e.code === 'TRADING_STATE_CHANGED');
  const halt = (e: TimelineDoc['events'][number]) => /obs test halt; command halt; args \["--all","--hard","--reason","obs test halt"\]/.test(e.detail);
  const resume = (e: TimelineDoc['events'][number]) => /command resume; args \["--all"\]/.test(e.detail);
  const down = await json<TimelineDoc>(['timeline', '--since', facts.since, '--until', facts.until]);
  assert.equal(down.code, 0, down.stderr);
  assert.match(down.stderr, /engine down: read from the store/);
  const ev = down.doc.events;
  const h = ev.findIndex((e) => e.kind === 'operator' && halt(e));
  const r = ev.findIndex((e) => e.kind === 'operator' && resume(e));
  assert.ok(h >= 0, `the halt (${JSON.stringify(ops(ev).map((e) => e.detail))})`);
  assert.ok(r > h, 'the resume, after the halt');
  assert.ok(ev.findIndex((e) => e.code === 'ENGINE_STARTED') < h && r < ev.findIndex((e) => e.code === 'ENGINE_STOPPED'), 'between the start and the stop');
  assert.equal(ops(ev).filter(halt).length, 1);
  assert.equal(ops(ev).filter(resume).length, 1);
  // Asked of the running engine after the resume: the same two.
  const up = facts.timelineUp.doc.events;
  assert.equal(ops(up).filter(halt).length, 1, 'the halt, engine up');
  assert.equal(ops(up).filter(resume).length, 1, 'the resume, engine up');
});

test('no secret reaches a command\'s output or a log file', () => {
  for (const r of facts.outputs) for (const secret of [KEY, SECRET, HOOK_SECRET]) assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), 'command output');
  for (const f of readdirSync(w.logDir)) {
    const text = readFileSync(join(w.logDir, f), 'utf8');
    for (const secret of [KEY, SECRET, HOOK_SECRET]) assert.ok(!text.includes(secret), `${f}`);
  }
  assert.ok(existsSync(join(w.logDir, 'dolphin_live_pink.log')));
  assert.match(readFileSync(join(w.logDir, 'dolphin_live_pink.log'), 'utf8'), /alerts: http:\/\/127\.0\.0\.1:\d+ did not take an alert/, 'the delivery failure is logged, by origin only');
});

test('an engine that fails to start says so: ENGINE_FAILED, CRITICAL, at the webhook', async () => {
  const before = w.receiver.received.length;
  const home = join(w.dir.path, 'home-failing');
  const r = await runPink(['run', '--steps', '5'], { ...w.env, PINK_HOME: home, PINK_SIM_URL: `http://127.0.0.1:${await closedPort()}`, DOLPHIN_PINK_METRICS_ADDR: '' }, { timeoutMs: 60_000 });
  assert.equal(r.code, 3, r.stderr);
  const failed = w.receiver.received.slice(before).filter((b) => b['event'] === 'engine_failed');
  assert.equal(failed.length, 1, 'delivered before the process exited');
  assert.equal(failed[0]!['severity'], 'CRITICAL');
  assert.equal(failed[0]!['code'], 'ENGINE_FAILED');
  assert.match(String(failed[0]!['text']), /ENGINE FAILED/);
});

test('a metrics address in use: exit 2 before the venue is contacted', async () => {
  const busy = new URL(w.receiver.url).port;
  const requests = w.sim.state().requests;
  const r = await runPink(['run', '--steps', '3'], { ...w.env, PINK_HOME: join(w.dir.path, 'home-busy'), DOLPHIN_PINK_METRICS_ADDR: `127.0.0.1:${busy}` }, { timeoutMs: 60_000 });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /DOLPHIN_PINK_METRICS_ADDR 127\.0\.0\.1:\d+ cannot be served: the port is in use/);
  assert.equal(w.sim.state().requests, requests, 'nothing was sent to the venue');
});
