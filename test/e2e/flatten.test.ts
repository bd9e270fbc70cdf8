// Issue 21 end to end: `pink flatten --all` through a running engine sends every symbol's cancel
// side by side, then every symbol's reduce-only exit side by side (the simulator's request log
// shows them overlapping in time), confirms flat at the venue, and still refuses, sending nothing
// and exiting 2, when the venue's position is not PINK's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { RequestRecord } from '../../src/sim/index.js';
import { makeWorld, stopPid, waitFor, type World } from '../support/e2e.js';

type Slot = { symbol: string; state: string; qty: number; side: string | null; working_order: { client_order_id: string } | null };

async function slots(w: World): Promise<Slot[]> {
  return (await w.json<{ slots: Slot[] }>(['ditav2-status'])).doc.slots;
}

/** A long position and a resting reduce-only limit exit far above the price, on each symbol. */
async function arrange(w: World, symbols: string[], tag: string): Promise<void> {
  w.signals(symbols.map((symbol) => ({ intent_id: `${tag}-${symbol}-enter`, symbol, action: 'ENTER', side: 'long', notional: 200, order_type: 'market', reason: 'test' })));
  await waitFor('positions open', async () => (await slots(w)).filter((s) => symbols.includes(s.symbol) && s.qty > 0).length === symbols.length);
  const prices = w.sim.state().prices as Record<string, number>;
  w.signals(symbols.map((symbol) => ({ intent_id: `${tag}-${symbol}-exit`, symbol, action: 'EXIT', fraction: 0.5, order_type: 'limit', price: Number(((prices[symbol] ?? 0) * 1.5).toPrecision(6)), reason: 'test' })));
  await waitFor('exits resting', async () => (await slots(w)).filter((s) => symbols.includes(s.symbol) && s.working_order !== null).length === symbols.length);
}

const overlap = (a: RequestRecord, b: RequestRecord): boolean => a.t0_ms! < b.t1_ms! && b.t0_ms! < a.t1_ms!;

test('flatten --all: both cancels in parallel, then both exits in parallel; flat at the venue; a mismatch still refuses with exit 2', async () => {
  const symbols = ['BTC-USDT', 'ETH-USDT'];
  const w = await makeWorld({ symbols, env: { DOLPHIN_PINK_POLL_INTERVAL_SEC: '0.5' } });
  try {
    const run = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
    assert.equal(run.code, 0, run.stderr);
    await arrange(w, symbols, 'a');

    // Issue 18: --dry-run prints the very plan the real run then executes, and sends nothing.
    type Plan = { action: string; detail: string }[];
    const mutating = (from: number): RequestRecord[] => w.sim.requests().slice(from).filter((r) => r.method !== 'GET');
    const dryFrom = w.sim.requests().length;
    const dry = await w.json<{ flat: boolean; symbols: Array<{ symbol: string; plan: Plan }> }>(['flatten', '--all', '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(mutating(dryFrom), [], 'a dry run sent something');
    for (const s of dry.doc.symbols) assert.deepEqual(s.plan.map((p) => p.action), ['cancel', 'exit'], s.symbol);

    // 100 ms per request: requests sent one after another cannot overlap; parallel ones must.
    await w.admin('/__sim/faults', { latencyMs: 100 });
    const from = w.sim.requests().length;
    const flat = await w.json<{ flat: boolean; symbols: Array<{ symbol: string; flat: boolean; orders: Array<{ action: string; status: string }> }> }>(['flatten', '--all', '--yes']);
    await w.admin('/__sim/faults', { latencyMs: 0 });
    assert.equal(flat.code, 0, flat.stderr);
    assert.equal(flat.doc.flat, true);
    for (const s of flat.doc.symbols) {
      assert.equal(s.flat, true, s.symbol);
      assert.deepEqual(s.orders.map((o) => [o.action.split(' ')[0], o.status]), [['cancel', 'done'], ['sell', 'done']], s.symbol);
    }
    for (const symbol of symbols) assert.equal(w.sim.state().positions.find((p) => p.symbol === symbol)?.qty ?? 0, 0, `venue ${symbol}`);
    const realPlans = (flat.doc.symbols as unknown as Array<{ symbol: string; plan: Plan }>).map((s) => [s.symbol, s.plan]);
    assert.deepEqual(realPlans, dry.doc.symbols.map((s) => [s.symbol, s.plan]), 'the real run executed another plan than its dry run printed');

    const log = w.sim.requests().slice(from).filter((r) => r.t0_ms !== undefined && r.t1_ms !== undefined);
    const cancels = log.filter((r) => r.method === 'DELETE' && /\/trade\/order$/.test(r.path));
    const places = log.filter((r) => r.method === 'POST' && /\/trade\/order$/.test(r.path));
    assert.equal(cancels.length, 2, cancels.map((r) => r.path).join(', '));
    assert.equal(places.length, 2, places.map((r) => r.path).join(', '));
    assert.ok(overlap(cancels[0]!, cancels[1]!), 'the two cancels were sent one after the other');
    assert.ok(overlap(places[0]!, places[1]!), 'the two exits were sent one after the other');
    // Each symbol's exit went out after its cancel was answered (the cancel frees the reduce-only room).
    for (const p of places) {
      const cancel = cancels.find((c) => c.query['symbol'] === p.query['symbol']);
      assert.ok(cancel && p.t0_ms! >= cancel.t1_ms!, `exit of ${p.query['symbol']} before its cancel was answered`);
    }

    // A position changed at the venue (not PINK's size): flatten sends nothing, exit 2, names the way out.
    assert.equal((await w.pink(['resume', '--all'])).code, 0);
    await arrange(w, ['ETH-USDT'], 'b');
    const held = (await slots(w)).find((s) => s.symbol === 'ETH-USDT')!;
    await w.admin('/__sim/position', { symbol: 'ETH-USDT', qty: held.qty * 3, entryPrice: 3000 });
    // The dry run reads the venue as the real run does first: it says the exit will be refused, and why.
    const dryMismatchFrom = w.sim.requests().length;
    const dryMismatch = await w.json<{ plan: Plan; dry_run: boolean }>(['flatten', 'ETH-USDT', '--dry-run']);
    assert.equal(dryMismatch.code, 0, dryMismatch.stderr);
    assert.deepEqual(mutating(dryMismatchFrom), [], 'a dry run sent something');
    assert.deepEqual(dryMismatch.doc.plan.map((p) => p.action), ['cancel', 'reconcile', 'exit']);
    assert.match(dryMismatch.doc.plan[1]!.detail, /the venue holds long [0-9.]+, PINK's books long [0-9.]+\).*exit 2.*pink flatten ETH-USDT --venue-position/);
    const dryText = await w.pink(['flatten', 'ETH-USDT', '--dry-run']);
    assert.match(dryText.stdout, /plan: reconcile ETH-USDT first/);
    const before = w.sim.requests().length;
    const refused = await w.json<{ flat: boolean; blocked?: string; orders: unknown[] }>(['flatten', 'ETH-USDT', '--yes']);
    assert.equal(refused.code, 2, refused.stderr);
    assert.equal(refused.doc.flat, false);
    assert.match(refused.doc.blocked ?? '', /do not match the venue.*--venue-position/);
    const sent = w.sim.requests().slice(before).filter((r) => r.method === 'POST' && /\/trade\/order$/.test(r.path));
    assert.deepEqual(sent, [], 'an order was placed although the books did not match');
  } finally {
    await stopPid(join(w.home, 'pink.pid'));
    await w.close();
  }
});
