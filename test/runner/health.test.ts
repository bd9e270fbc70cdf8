import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeHealth, tidyNumbers, type HealthFacts } from '../../src/engine/runner/health.js';
import { liquidationDistancePct } from '../../src/engine/runner/venue-check.js';
import { acquirePidLock, runningEnginePid } from '../../src/engine/runner/lock.js';
import { askEngine, serveControl } from '../../src/engine/runner/socket.js';
import { writeFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/cli.js';

const NOW = 1_800_000_000_000;
const healthy: HealthFacts = { up: true, now_ts: NOW, poll_interval_ms: 1000, heartbeat_ts: NOW - 500, step_ms_p50: 40, slots: [{ symbol: 'BTC-USDT', state: 'OPEN' }], spooled_rows: 0, rate_limit_first_ts: null, rate_limit_persistent: false, overdue: [], drift: 0 };

test('health: each SPEC reason makes the engine degraded, and only those', () => {
  assert.deepEqual(judgeHealth(healthy), { healthy: true, reasons: [], venue_down: false });
  const cases: [Partial<HealthFacts>, RegExp][] = [
    [{ slots: [{ symbol: 'BTC-USDT', state: 'STALE_STATE_RECONCILING', stale_since_ts: NOW - 31_000 }] }, /STALE_STATE_RECONCILING for 31 s/],
    [{ heartbeat_ts: NOW - 5_001 }, /heartbeat/],
    [{ spooled_rows: 3 }, /3 rows spooled/],
    [{ rate_limit_first_ts: NOW - 601_000 }, /RATE_LIMITED persistent/],
    [{ rate_limit_persistent: true }, /RATE_LIMITED persistent/],
    // DOLPHIN_PINK_RATE_LIMIT_PERSISTENT_SEC=90: the history's window, not the default 10 min.
    [{ rate_limit_first_ts: NOW - 91_000, rate_limit_persistent_ms: 90_000 }, /RATE_LIMITED persistent for over 90 s \(pink fault RATE_LIMITED_PERSISTENT\)/],
    [{ overdue: [{ symbol: 'ETH-USDT', hold_bars: 300 }] }, /ETH-USDT held 300 bars/],
    [{ drift: 5 }, /drift 5.00/],
    [{ up: false }, /engine down/],
    [{ venue_contact_ts: NOW - 5_001 }, /no successful venue contact for 5\.0 s \(pink fault VENUE_UNAVAILABLE\)/],
    [{ failed_steps_in_row: 3 }, /3 steps failed in a row \(pink fault VENUE_UNAVAILABLE/],
    [{ failed_steps_in_row: 3, rate_limit_first_ts: NOW - 2_000 }, /3 steps failed in a row \(pink fault RATE_LIMITED;/],
    [{ divergences: [{ symbol: 'BTC-USDT', pink_qty: 0, venue_qty: 0.0016 }] }, /BTC-USDT: slot holds 0, the venue 0\.0016 \(pink fault SLOT_DIVERGED\)/],
    [{ divergences: [{ symbol: 'ETH-USDT', pink_qty: 0.019999999999999997, venue_qty: -0.05 }] }, /ETH-USDT: slot holds 0\.02, the venue -0\.05 \(pink fault SLOT_DIVERGED\)/],
    [{ unconverged: 'the reconcile at x did not converge (POSITION_MISMATCH)' }, /did not converge.*pink fault POSITION_MISMATCH/],
    [{ unconverged: 'the reconcile at x did not converge (orphan_flagged)' }, /did not converge.*\(pink fault ORPHAN_POSITION\)/],
    [{ unconverged: 'the reconcile at x did not converge (order_gone, orphan_flagged)' }, /did not converge.*a fill PINK missed\? `pink restart` reads the fills again; if it stays, pink fault ORPHAN_POSITION/],
  ];
  for (const [change, reason] of cases) {
    const r = judgeHealth({ ...healthy, ...change });
    assert.equal(r.healthy, false, String(reason));
    assert.match(r.reasons.join('\n'), reason);
  }
  assert.equal(judgeHealth({ ...healthy, slots: [{ symbol: 'BTC-USDT', state: 'STALE_STATE_RECONCILING', stale_since_ts: NOW - 29_000 }] }).healthy, true, 'under 30 s is not yet a reason');
  assert.equal(judgeHealth({ ...healthy, venue_contact_ts: NOW - 2_000 }).healthy, true, 'venue contact 2 s old is not yet a reason');
  assert.equal(judgeHealth({ ...healthy, venue_contact_ts: NOW - 20_000 }).venue_down, false, '20 s without contact: degraded, not down');
  assert.equal(judgeHealth({ ...healthy, venue_contact_ts: NOW - 31_000 }).venue_down, true, '31 s without contact: down (exit 3)');
  // A venue hung soon after the start: its timed-out steps are most of the median (10 s each).
  const hung = { ...healthy, step_ms_p50: 10_000, heartbeat_ts: NOW - 2_000 };
  assert.match(judgeHealth({ ...hung, venue_contact_ts: NOW - 22_000 }).reasons.join('\n'), /no successful venue contact for 22\.0 s \(pink fault VENUE_UNAVAILABLE\)/, 'slow steps do not stretch the contact bound');
  assert.equal(judgeHealth({ ...hung, venue_contact_ts: NOW - 31_000 }).venue_down, true, 'nor the exit-3 bound');
  assert.equal(judgeHealth({ ...healthy, failed_steps_in_row: 2 }).healthy, true, 'two failed steps are not yet a reason');
  assert.equal(judgeHealth({ ...healthy, rate_limit_first_ts: NOW - 601_000, rate_limit_persistent_ms: 900_000 }).healthy, true, 'a 15 min window is not over after 10 min');
  // A 50 ms poll interval with steps paced at ~250 ms: the loop's period is the step.
  const paced = { ...healthy, poll_interval_ms: 50, step_ms_p50: 250 };
  assert.equal(judgeHealth({ ...paced, heartbeat_ts: NOW - 300 }).healthy, true, 'a heartbeat one paced step old is not stalled');
  assert.match(judgeHealth({ ...paced, heartbeat_ts: NOW - 1_251 }).reasons.join('\n'), /heartbeat 1\.3 s old \(over 5 poll intervals of 250 ms\)/);
  // No step finished yet (a fresh engine's first step, paced after connect spent the budget): the
  // budget's pace stands in for the median, so a first step 433 ms long is not a stall; 1.3 s is.
  assert.equal(judgeHealth({ ...paced, step_ms_p50: null, heartbeat_ts: NOW - 433 }).healthy, true, 'no steps yet: a paced first step is not stalled');
  assert.match(judgeHealth({ ...paced, step_ms_p50: null, heartbeat_ts: NOW - 1_251 }).reasons.join('\n'), /heartbeat 1\.3 s old \(over 5 poll intervals of 250 ms\)/);
  assert.match(judgeHealth({ ...paced, poll_interval_ms: 1000, step_ms_p50: null, heartbeat_ts: NOW - 5_001 }).reasons.join('\n'), /over 5 poll intervals of 1000 ms/, 'a slower poll interval still rules');
});

test('pid lock: a second engine is refused; a stale pid file is detected and taken over', () => {
  const dir = tempDir();
  try {
    const pid = join(dir.path, 'pink.pid');
    writeFileSync(pid, '999999\n');
    const lock = acquirePidLock(pid);
    assert.equal(lock.stale_pid, 999999);
    assert.equal(runningEnginePid(pid), undefined, 'our own pid is not "another engine"');
    lock.release();
    writeFileSync(pid, `${process.ppid}\n`);
    // The parent (the test runner) is alive but not a pink engine unless its command line says so.
    const parentIsPink = runningEnginePid(pid) !== undefined;
    if (parentIsPink) assert.throws(() => acquirePidLock(pid), /already running/);
    else assert.equal(acquirePidLock(pid).stale_pid, process.ppid);
  } finally {
    dir.remove();
  }
});

test('control socket: mode 0600, one request one answer, and "no engine" when nobody listens', async () => {
  const dir = tempDir();
  try {
    const sock = join(dir.path, 'pink.sock');
    assert.equal(await askEngine(sock, { op: 'status' }), undefined);
    const server = await serveControl(sock, async (req) => ({ ok: true, data: { echo: req.op } }));
    assert.equal(statSync(sock).mode & 0o777, 0o600);
    assert.deepEqual(await askEngine(sock, { op: 'status' }), { ok: true, data: { echo: 'status' } });
    server.close();
  } finally {
    dir.remove();
  }
});

test('venue check: a lasting difference gets one targeted reconcile, then is a divergence until it clears', async () => {
  const { VenueCheck, DIVERGED_CHECKS_MAX } = await import('../../src/engine/runner/venue-check.js');
  const c = new VenueCheck(0);
  const slot = { symbol: 'BTC-USDT', state: 'ENTRY_WORKING', side: null, qty: 0 } as never;
  const venue = [{ symbol: 'BTC-USDT', side: 'long' as const, qty: 0.0016, entry_price: 1 }];
  for (let i = 1; i < DIVERGED_CHECKS_MAX; i++) assert.deepEqual(c.compare([slot], venue, i * 1000), { reconcile: [], fault: [] }, `check ${i}`);
  assert.deepEqual(c.compare([slot], venue, 3000).reconcile, ['BTC-USDT']);
  c.reconciled(['BTC-USDT']);
  assert.deepEqual(c.divergences(), [], 'not a divergence before the check after the reconcile');
  const after = c.compare([slot], venue, 4000);
  assert.equal(after.fault.length, 1);
  assert.deepEqual(c.divergences().map((d) => [d.symbol, d.pink_qty, d.venue_qty]), [['BTC-USDT', 0, 0.0016]]);
  assert.deepEqual(c.compare([slot], venue, 5000).fault, [], 'the fault is recorded once');
  const cleared = c.compare([{ symbol: 'BTC-USDT', state: 'OPEN', side: 'long', qty: 0.0016 } as never], venue, 6000);
  assert.deepEqual(cleared.reconcile, ['BTC-USDT'], 'a cleared divergence is confirmed by a reconcile');
  assert.deepEqual(c.divergences(), []);
  c.polled([{ type: 'VENUE_UNAVAILABLE', ts: 7000, reason: 'x' }], 7000);
  c.polled([{ type: 'VENUE_UNAVAILABLE', ts: 8000, reason: 'x' }], 8000);
  assert.equal(c.failed_steps_in_row, 2);
  assert.equal(c.contact_ts, 6000);
  c.polled([{ type: 'VENUE_OK', ts: 9000 }], 9000);
  assert.deepEqual([c.failed_steps_in_row, c.contact_ts], [0, 9000]);
});

test('liquidation distance: the safe side per direction; under the warning % a reason ending in pink flatten, 0 turns it off', () => {
  assert.equal(liquidationDistancePct('long', 60_000, 57_000), 5);
  assert.equal(liquidationDistancePct('short', 60_000, 63_000), 5);
  assert.equal(liquidationDistancePct('long', 56_000, 57_000) < 0, true, 'past it: negative');
  const near = [{ symbol: 'BTC-USDT', liquidation_price: 58_500, distance_pct: 2.5 }];
  const r = judgeHealth({ ...healthy, liquidation: near, liquidation_warn_pct: 3 });
  assert.equal(r.healthy, false);
  assert.match(r.reasons.join('\n'), /^BTC-USDT 2\.50 % from its liquidation price 58500 \(under 3 %\): pink flatten BTC-USDT$/m);
  assert.equal(judgeHealth({ ...healthy, liquidation: [{ ...near[0]!, distance_pct: 3.5 }], liquidation_warn_pct: 3 }).healthy, true, 'farther than the warning');
  assert.equal(judgeHealth({ ...healthy, liquidation: near, liquidation_warn_pct: 0 }).healthy, true, '0: off');
});

test('tidyNumbers: float noise in a kernel text printed rounded; ordinary numbers, prices and ids untouched', () => {
  assert.equal(tidyNumbers('EXIT asked for 0.0012000000000000001, 0.0011 remains'), 'EXIT asked for 0.0012, 0.0011 remains');
  assert.equal(tidyNumbers('slot holds 0.019999999999999997, the venue -0.05'), 'slot holds 0.02, the venue -0.05');
  assert.equal(tidyNumbers('-0.30000000000000004 realized'), '-0.3 realized');
  const plain = 'fill f-123 of pink-ab12: sell 0.0016 @ 60112.4 fee 0.048089 (1234567.891)';
  assert.equal(tidyNumbers(plain), plain);
});
