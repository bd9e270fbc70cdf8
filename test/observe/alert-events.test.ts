// Which kernel outcomes wake someone: the real kernel (the kernel tests' harness) produces a
// liquidation, a persistent rate-limit cycle, a position mismatch and an adopted orphan; the
// engine's real Observer (the one function the step loop hands every outcome to) files them; a
// local HTTP receiver gets what it sends. With SPEC 6's default minimum (ERROR): the ERROR and
// CRITICAL ones arrive at their severity, the WARNING ones do not (and are counted).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import type { KernelOutcome } from '../../src/engine/kernel/types.js';
import { Observer } from '../../src/engine/observe/observer.js';
import type { AlertStats } from '../../src/engine/observe/alerts.js';
import { BTC, CONFIG, ETH, Harness, codes } from '../kernel/harness.js';
import { startReceiver } from './support.js';

/** The outcomes through a real Observer to a real receiver; close() drains the queue before returning. */
async function alertsFor(outcomes: KernelOutcome[], min_severity?: string): Promise<{ got: string[]; bodies: Record<string, unknown>[]; stats: AlertStats }> {
  const dir = mkdtempSync(join(tmpdir(), 'pink-alert-events-'));
  const rx = await startReceiver('/hook/alert-events');
  try {
    const config = loadConfig({
      PINK_HOME: join(dir, 'home'),
      DOLPHIN_LOG_DIR: join(dir, 'logs'),
      DOLPHIN_PINK_ALERT_WEBHOOK_URL: rx.url,
      ...(min_severity ? { DOLPHIN_PINK_ALERT_MIN_SEVERITY: min_severity } : {}),
    });
    const observer = await Observer.create(config);
    for (const o of outcomes) observer.outcome(o);
    const stats = { ...observer.alerts!.stats };
    await observer.close();
    const bodies = rx.received;
    return { got: bodies.map((b) => `${b['event']}:${b['code']}:${b['severity']}:${b['symbol'] ?? '-'}`).sort(), bodies, stats: { ...stats, sent: observer.alerts!.stats.sent } };
  } finally {
    await rx.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a liquidation: the CRITICAL fault and the liquidation itself, each once, at the default minimum', async () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 2, 100, 0.1);
  const liq = { fill_id: 'LIQ1', client_order_id: '', venue_order_id: 'vl', symbol: BTC, side: 'sell' as const, qty: 2, price: 95.5, fee: 0.2, ts: h.next(), liquidation_price: 95.6 };
  const out = h.reconcile({ fills: [liq], marks: { [BTC]: 95 } });
  assert.ok(codes(out).includes('POSITION_LIQUIDATED'), codes(out).join(','));
  const { got, bodies } = await alertsFor(out);
  assert.deepEqual(got, ['fault:POSITION_LIQUIDATED:CRITICAL:BTC-USDT', 'liquidation:LIQUIDATION:CRITICAL:BTC-USDT']);
  const l = bodies.find((b) => b['event'] === 'liquidation')!;
  assert.match(String(l['text']), /^\[PINK CRITICAL\] LIQUIDATION BTC-USDT: 2 @ 95\.5, realized -9\.00 USDT/);
  assert.equal((l['details'] as Record<string, unknown>)['leg_realized_pnl'], -9);
});

test('a persistent rate-limit cycle: RATE_LIMITED_PERSISTENT and its breaker at ERROR; the RATE_LIMITED warnings not sent, counted', async () => {
  const h = new Harness({ ...CONFIG, rate_limit_persistent_ms: 2_000 });
  const out: KernelOutcome[] = [];
  for (let i = 0; i < 4; i += 1) out.push(...h.apply({ type: 'RATE_LIMITED', ts: h.next(1_000), reason: '429' }));
  const warnings = out.filter((o) => o.diagnostic_code === 'RATE_LIMITED' && o.severity === 'WARNING').length;
  assert.ok(warnings >= 3 && codes(out).includes('RATE_LIMITED_PERSISTENT'), codes(out).join(','));
  const { got, stats, bodies } = await alertsFor(out);
  assert.deepEqual(got, ['fault:BREAKER_RATE_LIMITED:ERROR:-', 'fault:RATE_LIMITED_PERSISTENT:ERROR:-']);
  assert.equal(stats.below_min_severity, warnings, 'each RATE_LIMITED below the minimum, counted');
  assert.match(String(bodies.find((b) => b['code'] === 'RATE_LIMITED_PERSISTENT')!['text']), /\(pink fault RATE_LIMITED_PERSISTENT\)$/);
});

test('a position mismatch: POSITION_MISMATCH and its breaker at ERROR, on the symbol', async () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 1, 100);
  // The venue holds more than PINK does: someone else bought on PINK's account.
  const out = h.reconcile({ positions: [{ symbol: BTC, side: 'long', qty: 3, entry_price: 100 }] });
  assert.ok(codes(out).includes('POSITION_MISMATCH'), codes(out).join(','));
  const { got, bodies } = await alertsFor(out);
  assert.deepEqual(got, ['fault:BREAKER_MISMATCH:ERROR:BTC-USDT', 'fault:POSITION_MISMATCH:ERROR:BTC-USDT']);
  assert.match(String(bodies.find((b) => b['code'] === 'POSITION_MISMATCH')!['text']), /^\[PINK ERROR\] POSITION_MISMATCH BTC-USDT: .*\(pink fault POSITION_MISMATCH\)$/);
});

test('below the minimum: an adopted orphan (WARNING) is not sent at the default ERROR, and is at WARNING', async () => {
  const h = new Harness();
  const out = h.reconcile({ positions: [{ symbol: ETH, side: 'short', qty: 0.5, entry_price: 3000 }] }, { adopt_orphans: true });
  const adopted = out.filter((o) => o.diagnostic_code === 'POSITION_ADOPTED');
  assert.equal(adopted.length, 1, codes(out).join(','));
  assert.equal(adopted[0]!.severity, 'WARNING');
  const byDefault = await alertsFor(out);
  assert.deepEqual(byDefault.got, [], 'nothing at the default minimum');
  assert.ok(byDefault.stats.below_min_severity >= 1, 'counted');
  const lowered = await alertsFor(out, 'WARNING');
  assert.ok(lowered.got.includes('fault:POSITION_ADOPTED:WARNING:ETH-USDT'), JSON.stringify(lowered.got));
});
