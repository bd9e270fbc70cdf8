// Issue 18, situation 4 end to end (real binary, simulator over HTTP through ccxt, chDB): the
// runbook of a position that is not PINK's no longer goes in a circle. Plain flatten refuses with
// SPEC's safety-refusal exit 2 and names `--venue-position`; that shows both sizes (its --dry-run
// prints exactly the plan the real run executes), needs a confirmation, sends one reduce-only
// order, reconciles; after `pink resume` status is HEALTHY. The command leaves an audit row.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BIN } from '../support/cli.js';
import { makeWorld } from '../support/e2e.js';
import { operatorRows, statusUntil, venueQty } from '../support/health.js';

type Plan = { symbol: string; pink_qty: number; venue_qty: number; order: { side: string; qty: number; reduce_only: boolean; order_type: string } | null; text: string };
type VenueFlatten = { plan: Plan; dry_run: boolean; sent: { client_order_id: string; answer: string } | null; venue_flat: boolean; converged: boolean; trading_state?: string };

test('runbook: a position changed at the venue → plain flatten refuses (exit 2, names --venue-position) → --venue-position closes it → resume → HEALTHY', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT', 'ETH-USDT'] });
  try {
    const run = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
    assert.equal(run.code, 0, run.stderr);
    w.signals([{ intent_id: 'runbook-eth-1', symbol: 'ETH-USDT', action: 'ENTER', side: 'short', qty: 0.1, order_type: 'market', reason: 'e2e' }]);
    await statusUntil(w, 'ETH OPEN and HEALTHY', (s) => s.code === 0 && s.doc.slots.some((x) => x.symbol === 'ETH-USDT' && x.state === 'OPEN'));

    // Someone else trades PINK's account: the venue's ETH short grows to 0.25.
    await w.admin('/__sim/position', { symbol: 'ETH-USDT', qty: -0.25, entryPrice: 3000 });
    const degraded = await statusUntil(w, 'degraded for the mismatch', (s) => s.code === 1 && s.doc.reasons.some((r) => /ETH-USDT/.test(r)));
    assert.equal(degraded.doc.healthy, false);

    // The taxonomy's responses point at the command that works.
    for (const code of ['POSITION_MISMATCH', 'SLOT_DIVERGED']) {
      const f = await w.pink(['fault', code]);
      assert.equal(f.code, 0, f.stderr);
      assert.match(f.stdout, /pink flatten SYMBOL --venue-position/, `${code}: ${f.stdout}`);
    }

    // Plain flatten: PINK's books do not match the venue; nothing sent, exit 2, the way out named.
    const refused = await w.pink(['flatten', 'ETH-USDT', '--yes']);
    assert.equal(refused.code, 2, `${refused.stdout} ${refused.stderr}`);
    assert.match(refused.stdout, /NOT FLAT, nothing sent/);
    assert.match(refused.stdout, /pink flatten ETH-USDT --venue-position/);
    assert.equal(venueQty(w, 'ETH-USDT'), -0.25, 'the refusal sent nothing');

    // The plan: both sizes, one reduce-only buy of the venue's whole size; nothing sent.
    const dry = await w.json<VenueFlatten>(['flatten', 'eth-usdt', '--venue-position', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(dry.doc.dry_run, true);
    assert.equal(dry.doc.plan.pink_qty, -0.1);
    assert.equal(dry.doc.plan.venue_qty, -0.25);
    assert.deepEqual(dry.doc.plan.order, { side: 'buy', qty: 0.25, reduce_only: true, order_type: 'market' });
    assert.equal(dry.doc.sent, null);
    assert.equal(venueQty(w, 'ETH-USDT'), -0.25, 'the dry run sent nothing');
    const dryText = await w.pink(['flatten', 'ETH-USDT', '--venue-position', '--dry-run']);
    assert.equal(dryText.code, 0, dryText.stderr);
    assert.ok(dryText.stdout.includes(dry.doc.plan.text), dryText.stdout);
    assert.match(dryText.stdout, /PINK holds -0\.1, the venue holds -0\.25/);

    // No terminal and no --yes: refused with both sizes shown, nothing sent.
    const noTty = await w.pink(['flatten', 'ETH-USDT', '--venue-position']);
    assert.equal(noTty.code, 2, noTty.stderr);
    assert.match(noTty.stderr, /PINK holds -0\.1, the venue holds -0\.25/);
    assert.doesNotMatch(noTty.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(venueQty(w, 'ETH-USDT'), -0.25);

    // The real run executes exactly the plan printed by the dry run.
    const closed = await w.json<VenueFlatten>(['flatten', 'ETH-USDT', '--venue-position', '--yes']);
    assert.equal(closed.code, 0, `${closed.stderr} ${JSON.stringify(closed.doc)}`);
    assert.equal(closed.doc.plan.text, dry.doc.plan.text);
    assert.deepEqual(closed.doc.plan.order, dry.doc.plan.order);
    assert.ok(closed.doc.sent, 'one order sent');
    assert.match(closed.doc.sent.client_order_id, /^ops-vp-/);
    assert.equal(closed.doc.venue_flat, true);
    assert.equal(closed.doc.converged, true);
    assert.equal(closed.doc.trading_state, 'REDUCING');
    assert.equal(venueQty(w, 'ETH-USDT'), 0, 'the venue is flat on ETH');

    // PINK agrees with the venue; the symbol stays REDUCING (the mismatch breaker, then the
    // flatten) until the operator resumes: status names exactly that, then HEALTHY.
    const held = await statusUntil(w, 'degraded only by the trading state', (s) => s.doc.divergences.length === 0 && s.doc.slots.some((x) => x.symbol === 'ETH-USDT' && x.qty === 0) && s.doc.reasons.length === 1);
    assert.equal(held.code, 1);
    assert.match(held.doc.reasons[0]!, /ETH-USDT is REDUCING.*pink resume ETH-USDT/);
    const resumed = await w.pink(['resume', 'ETH-USDT']);
    assert.equal(resumed.code, 0, resumed.stderr);
    const healthy = await statusUntil(w, 'HEALTHY after the resume', (s) => s.code === 0);
    assert.deepEqual(healthy.doc.reasons, []);
    assert.deepEqual(healthy.doc.divergences, []);
    assert.equal(healthy.doc.slots.find((x) => x.symbol === 'ETH-USDT')?.qty, 0);

    // Nothing to close any more: the plan says so and sends nothing.
    const again = await w.json<VenueFlatten>(['flatten', 'ETH-USDT', '--venue-position', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.doc.plan.order, null);
    assert.equal(again.doc.sent, null);

    const stop = await w.pink(['stop']);
    assert.equal(stop.code, 0, stop.stderr);
    const rows = (await operatorRows(w)).filter((r) => r.code === 'OPERATOR_ACTION' && /--venue-position/.test(r.details));
    assert.equal(rows.length, 2, 'one audit row per real run (the dry runs and the unconfirmed one write none)');
    const first = JSON.parse(rows[0]!.details) as Record<string, unknown>;
    assert.equal(first['command'], 'flatten');
    assert.deepEqual(first['args'], ['ETH-USDT', '--venue-position']);
    assert.equal(first['symbol'], 'ETH-USDT');
    assert.equal(first['venue_qty'], -0.25);
    assert.equal(first['venue_flat'], true);
    assert.equal(first['converged'], true);
  } finally {
    await w.close();
  }
});

test('Ctrl-C during flatten with the engine up: says the engine finishes it, exit 1; the engine does finish it', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT', 'ETH-USDT'] });
  try {
    const run = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
    assert.equal(run.code, 0, run.stderr);
    w.signals([{ intent_id: 'ctrlc-eth-1', symbol: 'ETH-USDT', action: 'ENTER', side: 'short', qty: 0.1, order_type: 'market', reason: 'e2e' }]);
    await statusUntil(w, 'ETH OPEN', (s) => s.code === 0 && s.doc.slots.some((x) => x.symbol === 'ETH-USDT' && x.state === 'OPEN'));
    // A slow venue keeps the flatten in the engine long enough to be interrupted from outside.
    await w.admin('/__sim/faults', { latencyMs: 1500 });
    const child = spawn(process.execPath, [BIN, 'flatten', 'ETH-USDT', '--yes'], { env: { ...process.env, ...w.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await new Promise<void>((resolve) => {
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('flattening through the engine')) resolve();
      });
    });
    child.kill('SIGINT');
    assert.equal(await exited, 1);
    assert.match(stderr, /interrupted \(Ctrl-C\)\. ETH-USDT: the engine received the flatten and finishes it by itself/);
    assert.match(stderr, /Check: pink ditav2-status/);
    await w.admin('/__sim/faults', { latencyMs: null });
    const done = await statusUntil(w, 'the engine finished the flatten', (s) => s.doc.slots.some((x) => x.symbol === 'ETH-USDT' && x.qty === 0 && x.trading_state === 'REDUCING'));
    assert.equal(done.doc.divergences.length, 0);
    assert.equal(venueQty(w, 'ETH-USDT'), 0);
  } finally {
    await w.close();
  }
});
