// The chaos harness inside `npm test`: a few seeds of 10 s each, chosen so that together they hold
// every fault the harness injects (kill -9, SIGTERM and restarts, each with the store failing after
// it, rate limits of both styles, rejects, rejected cancels, dropped answers, latency spikes up to
// one past the adapter's timeout, partial and duplicated fills, price jumps; and issue 16's:
// SIGABRT, a full disk for a while, a journal byte changed while the engine is down, an injected
// kernel assertion; and issue 20's liquidation of a position). The long run (`npm run chaos -- --seeds 1000 --seconds 15`) is in docs/chaos.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed } from './harness.js';
import { planChaos } from './schedule.js';
import { rerunCommand } from './run.js';
import { DEFAULT_CHAOS_SYMBOLS } from './harness.js';

const SECONDS = 10;
/** 13: SIGTERM, kill -9 + store, SIGABRT, store at start, all seven venue faults. 30: kill -9 + store, a restart of the running engine, a full disk, store at start. 2: a latency spike past the 10 s send timeout. 262: a kernel assertion (fail-stop), kill -9 + store, a journal byte changed while down. 18: a liquidation (BTC-USDT isolated at 20x) while fills come in parts, so the venue liquidates in several fills. */
const SEEDS = [13, 30, 2, 262, 18];

test('the CI seeds hold every kind of fault between them', () => {
  const kinds = new Set<string>();
  for (const seed of SEEDS) {
    const p = planChaos(seed, SECONDS, DEFAULT_CHAOS_SYMBOLS);
    for (const v of p.venue) kinds.add(v.fault.kind === 'latency' && v.fault.latency_ms > 10_000 ? 'latency_timeout' : v.fault.kind);
    for (const x of p.process) kinds.add(x.fault.kind).add(x.fault.store ? 'store' : 'no-store');
    if (p.start_store) kinds.add('store');
    if (p.liquidation) kinds.add('liquidation');
  }
  for (const k of ['rate_limit', 'reject', 'reject_cancel', 'drop_response', 'latency', 'latency_timeout', 'fills', 'price_jump', 'kill9', 'sigterm', 'restart', 'store', 'sigabrt', 'disk_full', 'journal_flip', 'kernel_assert', 'liquidation']) {
    assert.ok(kinds.has(k), `no seed injects ${k}`);
  }
});

for (const seed of SEEDS) {
  test(`chaos seed ${seed} (${SECONDS} s): every venue fill once, no order twice, no oversell, audits, converged, spool empty, replay identical`, async () => {
    const r = await runSeed({ seed, seconds: SECONDS });
    const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
    assert.ok(r.ok, `seed ${seed} failed (re-run: ${rerunCommand(seed, { seconds: SECONDS, symbols: DEFAULT_CHAOS_SYMBOLS })}):\n${failed.join('\n')}`);
    // Not vacuous: the seed traded and was hurt.
    assert.ok(r.fills > 0 && r.trades > 0, `${r.fills} fills, ${r.trades} trades`);
    assert.ok(r.kills + r.restarts >= 1 && r.faults >= 10, `${r.kills} kills, ${r.restarts} restarts, ${r.faults} faults`);
    assert.ok(r.checks.length >= 18, `${r.checks.length} checks ran`);
  });
}
