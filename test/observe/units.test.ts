// The observe pieces that need no engine: --since/--until, the settings, the alert sink's queue,
// de-duplication, backoff and redaction against a local receiver, and the metrics server alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';
import { ExitError } from '../../src/errors.js';
import { AlertSink, alertBody, type AlertEvent } from '../../src/engine/observe/alerts.js';
import { Metrics } from '../../src/engine/observe/metrics.js';
import { parseMetricsAddr } from '../../src/engine/observe/settings.js';
import { parseWhen, parseWindow } from '../../src/engine/observe/when.js';
import { resample, stretch } from '../../src/engine/observe/report.js';
import { escapeHtml, scriptJson } from '../../src/engine/observe/html.js';
import { waitFor } from '../support/e2e.js';
import { closedPort } from '../store/fixtures.js';
import { parseProm, sample, startReceiver } from './support.js';

const NOW = Date.UTC(2026, 10, 26, 3, 30, 0);
const usage = (fn: () => unknown, re: RegExp): void => {
  assert.throws(fn, (err: unknown) => err instanceof ExitError && err.code === 2 && re.test(err.message + (err.hint ?? '')));
};

test('--since/--until: durations, UTC times of day (the latest not after now), dates, zones; bad ones are exit 2', () => {
  assert.equal(parseWhen('30m', NOW, '--since'), NOW - 30 * 60_000);
  assert.equal(parseWhen('24h', NOW, '--since'), NOW - 86_400_000);
  assert.equal(parseWhen('7d', NOW, '--since'), NOW - 7 * 86_400_000);
  assert.equal(parseWhen('03:10', NOW, '--since'), Date.UTC(2026, 10, 26, 3, 10));
  assert.equal(parseWhen('03:40', NOW, '--since'), Date.UTC(2026, 10, 25, 3, 40), 'later than now today: yesterday');
  assert.equal(parseWhen('2026-11-26', NOW, '--since'), Date.UTC(2026, 10, 26));
  assert.equal(parseWhen('2026-11-26T03:10Z', NOW, '--since'), Date.UTC(2026, 10, 26, 3, 10));
  assert.equal(parseWhen('2026-11-26 03:10:05.250', NOW, '--since'), Date.UTC(2026, 10, 26, 3, 10, 5, 250));
  assert.equal(parseWhen('2026-11-26T05:10+02:00', NOW, '--since'), Date.UTC(2026, 10, 26, 3, 10));
  assert.equal(parseWhen(String(NOW - 5), NOW, '--since'), NOW - 5);
  for (const bad of ['yesterday', '25:00', '2026-02-30', '2026-11-26T24:00', '-5m', '10', '']) usage(() => parseWhen(bad, NOW, '--since'), /--since .* is not a duration or a time/);
  // A time of day for --until is the first one after --since: "between 03:10 and 03:20", or across midnight.
  assert.deepEqual(parseWindow({ since: '03:10', until: '03:40' }, '30m', NOW), { since_ms: Date.UTC(2026, 10, 26, 3, 10), until_ms: Date.UTC(2026, 10, 26, 3, 40) });
  assert.deepEqual(parseWindow({ since: '23:50', until: '00:10' }, '30m', NOW), { since_ms: Date.UTC(2026, 10, 25, 23, 50), until_ms: Date.UTC(2026, 10, 26, 0, 10) });
  usage(() => parseWindow({ since: '2026-11-26T03:20Z', until: '2026-11-26T03:10Z' }, '30m', NOW), /--until .* is not after --since/);
  usage(() => parseWindow({ since: '1000d' }, '30m', NOW), /longer than 400 days/);
  assert.deepEqual(parseWindow({}, '30m', NOW), { since_ms: NOW - 30 * 60_000, until_ms: NOW });
});

test('settings: the webhook URL http(s) (never echoed), the minimum severity, the metrics address loopback by default', () => {
  const c = loadConfig({ DOLPHIN_PINK_ALERT_WEBHOOK_URL: 'https://hooks.example/services/T/B/x', DOLPHIN_PINK_ALERT_MIN_SEVERITY: 'warning', DOLPHIN_PINK_METRICS_ADDR: '9464' });
  assert.equal(c.alert_min_severity, 'WARNING');
  assert.deepEqual(c.metrics_addr, { host: '127.0.0.1', port: 9464, loopback: true });
  const d = loadConfig({});
  assert.equal(d.alert_webhook_url, undefined);
  assert.equal(d.alert_min_severity, 'ERROR', 'SPEC 6 default');
  assert.equal(d.metrics_addr, undefined, 'off unless set');
  assert.deepEqual(parseMetricsAddr(':9100'), { host: '127.0.0.1', port: 9100, loopback: true });
  assert.deepEqual(parseMetricsAddr('[::1]:9100'), { host: '::1', port: 9100, loopback: true });
  assert.deepEqual(parseMetricsAddr('0.0.0.0:9100'), { host: '0.0.0.0', port: 9100, loopback: false }, 'another host only when named');
  for (const bad of ['abc', '127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', 'host name:80', '1.2.3.4:x']) usage(() => parseMetricsAddr(bad), /DOLPHIN_PINK_METRICS_ADDR=.* is not an address/);
  usage(() => loadConfig({ DOLPHIN_PINK_ALERT_MIN_SEVERITY: 'LOUD' }), /DOLPHIN_PINK_ALERT_MIN_SEVERITY="LOUD" is not a severity/);
  usage(() => loadConfig({ DOLPHIN_PINK_ALERT_WEBHOOK_URL: 'ftp://hooks.example/secret-token' }), /must be an http:\/\/ or https:\/\/ URL/);
  try {
    loadConfig({ DOLPHIN_PINK_ALERT_WEBHOOK_URL: 'not a url secret-token' });
    assert.fail('accepted');
  } catch (err) {
    assert.ok(err instanceof ExitError && err.code === 2);
    assert.ok(!(err.message + err.hint).includes('secret-token'), 'the value (a credential) is not echoed');
  }
});

const ev = (over: Partial<AlertEvent> = {}): AlertEvent => ({ event: 'fault', severity: 'ERROR', code: 'EXIT_ORDER_REJECTED', symbol: 'BTC-USDT', ts_ms: Date.now(), text: 'x', ...over });

test('alerts: below the minimum not sent; a repeat within the window suppressed and counted into the next; redacted', async () => {
  const rx = await startReceiver('/hook/s3cr3t-path');
  const t = Date.now();
  const sink = new AlertSink({ url: rx.url, min_severity: 'ERROR', secrets: ['api-key-123456'], context: { namespace: 'pink', run_id: 'r1', venue: 'sim' }, dedup_ms: 60_000 });
  try {
    sink.push(ev({ severity: 'WARNING', code: 'RATE_LIMITED', ts_ms: t }));
    sink.push(ev({ text: 'rejected: api-key-123456 in a reason, and the hook /hook/s3cr3t-path', ts_ms: t }));
    sink.push(ev({ ts_ms: t + 1 }));
    sink.push(ev({ ts_ms: t + 2 }));
    sink.push(ev({ symbol: 'ETH-USDT', ts_ms: t + 3 }));
    await waitFor('two alerts', async () => rx.received.length >= 2);
    assert.equal(sink.stats.below_min_severity, 1);
    assert.equal(sink.stats.suppressed, 2);
    assert.deepEqual(rx.received.map((b) => b['symbol']), ['BTC-USDT', 'ETH-USDT']);
    const body = JSON.stringify(rx.received[0]);
    assert.ok(!body.includes('api-key-123456') && !body.includes('s3cr3t-path'), body);
    sink.push(ev({ ts_ms: t + 61_000 }));
    await waitFor('the third', async () => rx.received.length >= 3);
    assert.match(String(rx.received[2]!['text']), /\(2 more since the last alert\)/);
    assert.equal((rx.received[2]!['details'] as Record<string, unknown>)['repeats_since_last_alert'], 2);
  } finally {
    await sink.close(1000);
    await rx.close();
  }
});

test('alerts: a bounded queue; when full the least severe goes first; a dead receiver costs retries, then a counted drop', async () => {
  const port = await closedPort();
  const sink = new AlertSink({ url: `http://127.0.0.1:${port}/x`, min_severity: 'INFO', secrets: [], context: { namespace: 'pink', run_id: 'r', venue: 'sim' }, queue_max: 3, attempts_max: 2, backoff_ms_min: 10, backoff_ms_max: 10 });
  for (let i = 0; i < 3; i += 1) sink.push(ev({ event: 'engine_started', severity: 'INFO', code: `I${i}` }));
  sink.push(ev({ event: 'engine_failed', severity: 'CRITICAL', code: 'C' }));
  sink.push(ev({ event: 'engine_started', severity: 'INFO', code: 'I9' }));
  assert.ok(sink.pending <= 3, 'bounded');
  assert.equal(sink.stats.dropped_queue_full, 2, 'one INFO evicted for the CRITICAL, the last INFO refused');
  await waitFor('every queued alert given up after its attempts', async () => sink.pending === 0);
  assert.equal(sink.stats.sent, 0);
  assert.equal(sink.stats.dropped_attempts, 3);
  assert.equal(sink.stats.failures, 6, 'two attempts each');
  await sink.close(100);
});

test('alerts: close() delivers what is queued within its deadline', async () => {
  const rx = await startReceiver();
  const sink = new AlertSink({ url: rx.url, min_severity: 'INFO', secrets: [], context: { namespace: 'pink', run_id: 'r', venue: 'sim' } });
  for (let i = 0; i < 5; i += 1) sink.push(ev({ event: 'engine_stopped', severity: 'WARNING', code: `S${i}` }));
  await sink.close(5000);
  assert.equal(rx.received.length, 5);
  assert.equal(sink.stats.sent, 5);
  await rx.close();
});

test('alert body: Slack text and the SPEC fields', () => {
  const b = alertBody(ev({ ts_ms: Date.UTC(2026, 0, 1) }), { namespace: 'pink', run_id: 'r', venue: 'sim' }, 'h');
  assert.equal(b['text'], '[PINK ERROR] x');
  assert.equal(b['ts'], '2026-01-01T00:00:00.000Z');
  for (const k of ['event', 'severity', 'code', 'symbol', 'ts']) assert.ok(k in b);
});

test('metrics server alone: /metrics in Prometheus text, everything else 404, a busy port is exit 2', async () => {
  const port = await closedPort();
  const m = await Metrics.start({ host: '127.0.0.1', port, loopback: true });
  try {
    m.stepSeconds.observe(0.02);
    m.faults.inc({ code: 'RATE_LIMITED', severity: 'WARNING' });
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    const { samples } = parseProm(await res.text());
    assert.equal(sample(samples, 'pink_step_duration_seconds_count'), 1);
    assert.equal(sample(samples, 'pink_step_duration_seconds_bucket', { le: '0.025' }), 1);
    assert.equal(sample(samples, 'pink_faults_total', { code: 'RATE_LIMITED' }), 1);
    assert.ok((sample(samples, 'pink_process_resident_memory_bytes') ?? 0) > 0);
    assert.equal((await fetch(`http://127.0.0.1:${port}/`)).status, 404);
    await assert.rejects(Metrics.start({ host: '127.0.0.1', port, loopback: true }), (err: unknown) => err instanceof ExitError && err.code === 2 && /the port is in use/.test(err.message));
  } finally {
    await m.close();
  }
});

test('report and page helpers: resampling keeps the last of each slice; HTML and script text escaped', () => {
  assert.deepEqual(resample([1, 2, 3, 4, 5, 6], 3), [2, 4, 6]);
  assert.deepEqual(resample([1, 2], 5), [1, 2]);
  assert.deepEqual(stretch([1, 2], 5), [1, 1, 2, 2]);
  assert.deepEqual(stretch([1, 2, 3], 2), [1, 2, 3]);
  assert.equal(escapeHtml('<a href="x">&\'</a>'), '&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;');
  assert.ok(!scriptJson({ s: '</script><!--' }).includes('<'));
  assert.deepEqual(JSON.parse(scriptJson({ s: '</script>' })), { s: '</script>' });
});

test('the human timeline: a burst of one fault is one line with its count; long details are cut, the JSON keeps them', async () => {
  const { renderTimeline } = await import('../../src/engine/observe/timeline.js');
  const at = (i: number, over: Record<string, unknown> = {}) => ({ ts: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), ts_ms: Date.UTC(2026, 0, 1, 0, 0, i), kind: 'fault' as const, symbol: null, code: 'RATE_LIMITED', severity: 'WARNING', detail: `WARNING RATE_LIMITED: try ${i}`, hint: 'pink fault RATE_LIMITED', ...over });
  const doc = {
    since: '2026-01-01T00:00:00.000Z', until: '2026-01-01T01:00:00.000Z', symbol: null, truncated: [],
    cost: { realized: 1, fees: 0.5, funding: 0, net: 0.5, trades: 1 },
    events: [at(1), at(2), at(3), at(4), at(5, { kind: 'fill', code: null, severity: null, hint: null, detail: 'x'.repeat(500) }), at(6), at(7)],
  };
  const lines = renderTimeline(doc as never).split('\n');
  assert.equal(lines.length, 1 + 1 + 1 + 2 + 1, 'header, the run of four, the fill, two single faults, the cost');
  assert.match(lines[1]!, /RATE_LIMITED x4 until 00:00:04\.000, the first: try 1 {2}\(pink fault RATE_LIMITED\)$/);
  assert.ok(lines[2]!.length < 220 && lines[2]!.endsWith('...'), 'cut');
  assert.match(lines[3]!, /try 6/);
  assert.match(lines[5]!, /^cost of the window: realized 1\.00 {2}fees 0\.50 {2}funding 0\.00 {2}net 0\.50 USDT/);
});

test('the health watch: degraded and healthy again alert once each, at one severity; trading states alert on change', async () => {
  const { newWatchState, watchStep } = await import('../../src/engine/observe/watch.js');
  const s = newWatchState();
  const codes = (f: Parameters<typeof watchStep>[1], now: number) => watchStep(s, f, now).map((a) => `${a.code}:${a.severity}:${a.symbol ?? '-'}`);
  assert.deepEqual(codes({ healthy: true, reasons: [], trading: [{ scope: 'engine', state: 'ACTIVE' }, { scope: 'BTC-USDT', state: 'ACTIVE' }] }, 0), [], 'healthy and ACTIVE at first sight: nothing');
  assert.deepEqual(codes({ healthy: false, reasons: ['heartbeat 9.0 s old'], trading: [] }, 1000), ['HEALTH_DEGRADED:ERROR:-']);
  assert.deepEqual(codes({ healthy: false, reasons: ['heartbeat 10.0 s old'], trading: [] }, 2000), [], 'still degraded: no second alert');
  const back = watchStep(s, { healthy: true, reasons: [], trading: [] }, 31_000);
  assert.deepEqual(back.map((a) => `${a.code}:${a.severity}`), ['HEALTH_RECOVERED:ERROR'], 'the same severity as the degraded alert');
  assert.match(back[0]!.text, /HEALTHY again after 30 s degraded/);
  assert.deepEqual(codes({ healthy: true, reasons: [], trading: [{ scope: 'BTC-USDT', state: 'REDUCING' }] }, 32_000), ['TRADING_REDUCING:ERROR:BTC-USDT']);
  assert.deepEqual(codes({ healthy: true, reasons: [], trading: [{ scope: 'BTC-USDT', state: 'REDUCING' }] }, 33_000), []);
  assert.deepEqual(codes({ healthy: true, reasons: [], trading: [{ scope: 'engine', state: 'HALTED' }, { scope: 'BTC-USDT', state: 'ACTIVE' }] }, 34_000), ['TRADING_HALTED:ERROR:-', 'TRADING_ACTIVE:ERROR:BTC-USDT']);
  assert.deepEqual(codes({ healthy: false, reasons: ['x'], trading: [] }, 35_000), ['HEALTH_DEGRADED:ERROR:-'], 'degraded again: alerts again');
});
