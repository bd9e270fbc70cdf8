// Status after `pink accept-drift`: health is judged on the drift no operator accepted, the JSON
// keeps `account.drift` (venue balance − capital) and adds `account.drift_accepted`, and the human
// account block shows the accepted amount within 80 columns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Kernel } from '../../src/engine/kernel/index.js';
import { judgeHealth, type HealthFacts } from '../../src/engine/runner/health.js';
import { buildStatus, type EngineFacts, type StoreFacts } from '../../src/engine/runner/status-data.js';
import { renderStatus } from '../../src/commands/ditav2-status.js';
import { CONFIG } from '../kernel/harness.js';

const NOW = 1_800_000_000_000;
const base: HealthFacts = { up: true, now_ts: NOW, poll_interval_ms: 1000, heartbeat_ts: NOW - 500, step_ms_p50: 40, slots: [], spooled_rows: 0, rate_limit_first_ts: null, rate_limit_persistent: false, overdue: [], drift: 0 };

test('health: drift is judged net of the accepted drift; the reason names the whole drift and the accepted part', () => {
  assert.deepEqual(judgeHealth({ ...base, drift: -8.4 }).reasons, ['account drift -8.40 USDT vs the venue balance (pink fault ACCOUNT_DRIFT)']);
  assert.equal(judgeHealth({ ...base, drift: -8.4, drift_accepted: -8.4 }).healthy, true);
  assert.equal(judgeHealth({ ...base, drift: -9.2, drift_accepted: -8.4 }).healthy, true, 'within the 1 USDT tolerance of what was accepted');
  assert.deepEqual(judgeHealth({ ...base, drift: -11.4, drift_accepted: -8.4 }).reasons, ['account drift -11.40 USDT vs the venue balance, -8.40 of it accepted (pink fault ACCOUNT_DRIFT)']);
  assert.equal(judgeHealth({ ...base, drift: 0, drift_accepted: -8.4 }).healthy, false, 'the money came back: +8.40 unaccounted');
});

test('status: account.drift keeps its meaning, account.drift_accepted is added, the account block fits 80 columns', async () => {
  const k = new Kernel(CONFIG);
  const ts = 1_700_000_000_000;
  k.apply({ type: 'RECONCILE', ts, snapshot: { ts, balance_usdt: 9_991.6, marks: {}, positions: [], open_orders: [], fills: [] } });
  const engine = { up: false, pid: null, uptime_s: null, venue: 'sim', namespace: 'pink', history_id: CONFIG.history_id, run_id: null, heartbeat_ts: null, heartbeat_age_ms: null, steps: 0, last_step_ms: null, step_ms_p50: null, step_ms_p99: null, rest_calls: null, rss_mb: null, heap_used_mb: null, heap_total_mb: null, seq: 1, source: 'checkpoint' } as EngineFacts;
  const store: StoreFacts = { backend: 'chdb', database: 'dolphin_pink', pending_rows: 0, spooled_rows: 0, last_flush_age_ms: null, last_error: null };
  const before = buildStatus(k.view(), engine, store, [], 1000, 250, NOW);
  assert.ok(before.reasons.some((r) => /ACCOUNT_DRIFT/.test(r)));
  assert.equal((before.account as { drift_accepted: number }).drift_accepted, 0);
  k.apply({ type: 'DRIFT_ACCEPTED', ts: ts + 1000, amount_usdt: -8.4, operator: { command: 'accept-drift', args: ['-8.40'], user: 'u', host: 'h', pid: 1 } });
  const after = buildStatus(k.view(), engine, store, [], 1000, 250, NOW);
  assert.ok(!after.reasons.some((r) => /ACCOUNT_DRIFT/.test(r)), after.reasons.join('; '));
  const a = after.account as { drift: number; drift_accepted: number; capital: number };
  assert.equal(a.drift_accepted, -8.4);
  assert.equal(a.drift.toFixed(2), '-8.40');
  assert.equal(a.capital, 10_000);
  const text = await renderStatus(after, false);
  assert.match(text, /^ {2}drift accepted -8\.40 USDT, unaccepted 0\.00 \(pink accept-drift\)$/m);
  const block = text.split('\n').slice(text.split('\n').findIndex((l) => l.startsWith('account')), text.split('\n').findIndex((l) => l.startsWith('account')) + 3);
  for (const line of block) assert.ok(line.length <= 80, `${line.length} columns: ${line}`);
});
