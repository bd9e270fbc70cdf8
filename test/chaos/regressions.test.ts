// Bugs the chaos harness found, each pinned by the smallest test that would have caught it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig, parseChaosStoreFail } from '../../src/config.js';
import { ExitError } from '../../src/errors.js';
import { SIDE_LOOKUPS_PER_READ_MAX } from '../../src/engine/venue/ccxt.js';
import { openVenue } from '../../src/engine/venue/index.js';
import { makeWorld, stopPid } from '../support/e2e.js';
import { place, rig } from '../venue/harness.js';
import { planChaos } from './schedule.js';

const FAST = { orders: { rate_per_s: 1000, burst: 1000 }, account_reads: { rate_per_s: 1000, burst: 1000 }, ip: { rate_per_s: 1000, burst: 1000 } };

// Chaos seed 3 (--seconds 15): the offline reconcile after the stop read fills of ~20 orders it had
// never seen (a fresh adapter), looked up the side of the OLDEST 20 only, and dropped the newest
// fills: PINK then "closed" three slots at the mark instead of applying their real exit fills.
test('a fresh adapter (restart, offline reconcile) reads every fill of more orders than its per-order lookup bound', async () => {
  const r = await rig({ venue: { rates: FAST } });
  try {
    const n = SIDE_LOOKUPS_PER_READ_MAX + 8;
    for (let i = 0; i < n; i += 1) await r.venue.send([place('BTC-USDT', i % 2 === 0 ? 'buy' : 'sell', 0.001)], Date.now());
    const venueFills = r.state().fills;
    assert.equal(venueFills.length, n);
    const fresh = await r.another();
    const snap = await fresh.snapshot(['BTC-USDT'], Date.now() - 60_000, Date.now());
    assert.equal(snap.fills.length, n, `fills read: ${snap.fills.length} of ${n}`);
    const sides = new Map(venueFills.map((f) => [f.order_id, f.side.toLowerCase()]));
    for (const f of snap.fills) assert.equal(f.side, sides.get(f.venue_order_id), `side of ${f.venue_order_id}`);
  } finally {
    await r.close();
  }
});

// Chaos seed 1: `pink restart` while the venue rate-limited: the engine's startup reconcile threw
// VenueReadError, which the CLI printed as "internal error ... this is a bug in pink" (exit 1),
// and the engine never came back. Startup now waits the rate limit out (bounded).
test('the engine comes up through a venue that rate-limits its startup reads', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT'] });
  try {
    // Every 4th request refused: any 4 consecutive requests (a snapshot's parallel reads) hold
    // one, so every reconcile attempt fails until the limit lifts, 3 s later.
    await w.admin('/__sim/faults', { rateLimitEvery: 4, rateLimitStyle: 'body', rateLimitCooldownMs: 200 });
    const lift = new Promise((r) => setTimeout(r, 3000)).then(() => w.admin('/__sim/faults', { rateLimitEvery: null }));
    const r = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
    await lift;
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /internal error/);
    assert.match((await import('node:fs')).readFileSync(join(w.home, 'engine.out'), 'utf8'), /startup reconcile attempt 1 failed \(RATE_LIMITED\)/);
    const last = (await import('node:fs')).readFileSync(join(w.home, 'last-reconcile.json'), 'utf8');
    assert.equal((JSON.parse(last) as { converged: boolean }).converged, true);
  } finally {
    await stopPid(join(w.home, 'pink.pid'));
    await w.close();
  }
});

test('connect waits out a rate limit on its first reads (bounded), and a down venue is still exit 3', async () => {
  const r = await rig();
  try {
    await r.admin('/__sim/faults', { rateLimitEvery: 2, rateLimitCooldownMs: 50 });
    const v = await openVenue(r.config, { timeoutMs: 2000 });
    await v.close();
    await r.admin('/__sim/faults', { rateLimitEvery: 1 });
    await assert.rejects(openVenue(r.config, { timeoutMs: 2000 }), (e: unknown) => e instanceof ExitError && e.code === 3);
  } finally {
    await r.close();
  }
});

test('PINK_CHAOS_STORE_FAIL: a validated test hook, unset by default', () => {
  assert.equal(loadConfig({ PINK_HOME: '/tmp/x' }).chaos_store_faults, undefined);
  assert.deepEqual(parseChaosStoreFail({ PINK_CHAOS_STORE_FAIL: 'failNextInserts=3,loseNextAcks=2' }), { failNextInserts: 3, loseNextAcks: 2 });
  assert.deepEqual(parseChaosStoreFail({ PINK_CHAOS_STORE_FAIL: 'loseNextAcks=1' }), { failNextInserts: 0, loseNextAcks: 1 });
  for (const bad of ['x', 'failNextInserts=-1', 'failNextInserts=1.5', 'failNextInserts=99999999', 'loseNextAcks=1,,', 'dropTables=1']) {
    assert.throws(() => loadConfig({ PINK_HOME: '/tmp/x', PINK_CHAOS_STORE_FAIL: bad }), (e: unknown) => e instanceof ExitError && e.code === 2 && /PINK_CHAOS_STORE_FAIL/.test(e.message), bad);
  }
});

test('the chaos schedule is a pure function of its seed', () => {
  const a = planChaos(17, 15, ['BTC-USDT', 'ETH-USDT']);
  assert.deepEqual(planChaos(17, 15, ['BTC-USDT', 'ETH-USDT']), a);
  assert.notDeepEqual(planChaos(18, 15, ['BTC-USDT', 'ETH-USDT']), a);
  assert.ok(a.venue.length > 10 && a.process.length >= 1);
  for (const x of [...a.venue, ...a.process]) assert.ok(x.at_ms >= 0 && x.at_ms < 15_000);
});
