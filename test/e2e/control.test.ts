// Issue 19 end to end: the real binary, a real simulator over HTTP through ccxt, a real chDB store.
// Two engine worlds: the operator's (flatten / resume / flatten --resume / halt / kill -9 / restart /
// stop / an engine-down resume and halt / the audit trail) and the circuit breakers'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/engine/store/index.js';
import { makeWorld, waitFor, type World } from '../support/e2e.js';
import { runPink, tempDir } from '../support/cli.js';

type Slot = { symbol: string; state: string; qty: number; side: string | null; trade_id: string | null; trading_state: string; trading_state_reason: string; trading_state_since: number | null };
type Status = { engine: { up: boolean; pid: number; steps: number; trading_state: string; trading_state_reason: string }; slots: Slot[]; healthy: boolean; reasons: string[] };

async function status(w: World): Promise<{ code: number | null; doc: Status }> {
  return w.json<Status>(['ditav2-status']);
}

async function slot(w: World, symbol: string): Promise<Slot> {
  const s = (await status(w)).doc.slots.find((x) => x.symbol === symbol);
  assert.ok(s, `no slot ${symbol}`);
  return s;
}

/** The simulator's own position on a symbol (signed qty): the venue's truth, not PINK's books. */
function venueQty(w: World, symbol: string): number {
  return w.sim.state().positions.find((x) => x.symbol === symbol)?.qty ?? 0;
}

async function startDemo(w: World, extra: string[] = []): Promise<number> {
  const r = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'demo', ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return r.doc.pid;
}

async function operatorRows(w: World): Promise<Array<{ code: string; details: string }>> {
  const store = await openStore({ config: loadConfig(w.env), runId: 'e2e-check' });
  try {
    return await store.query<{ code: string; details: string }>(`SELECT code, details FROM ${store.database}.anomalies WHERE origin = 'operator' ORDER BY ts`);
  } finally {
    await store.close();
  }
}

test('operator control: flatten stays flat (REDUCING) while the demo runs, a second flatten is a no-op, resume, flatten --resume, halt survives kill -9 and restart, stop, engine-down resume and halt, audit rows', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT', 'ETH-USDT'] });
  try {
    await startDemo(w);
    await waitFor('the demo holds BTC', async () => (await slot(w, 'BTC-USDT')).qty > 0);

    const flat = await w.json<{ flat: boolean; trading_state: string }>(['flatten', 'BTC-USDT', '--yes']);
    assert.equal(flat.code, 0, flat.stderr);
    assert.equal(flat.doc.flat, true);
    assert.equal(flat.doc.trading_state, 'REDUCING');
    const text = await w.pink(['ditav2-status']);
    assert.match(text.stdout, /REDUCING since [0-9:]+: pink flatten BTC-USDT/);

    // Flat for 30 steps at PINK and at the venue, REDUCING throughout; ETH trades on.
    const s0 = (await status(w)).doc.engine.steps;
    await waitFor('30 steps after the flatten', async () => {
      const s = (await status(w)).doc;
      const btc = s.slots.find((x) => x.symbol === 'BTC-USDT')!;
      assert.equal(btc.qty, 0, `BTC entered again at step ${s.engine.steps}`);
      assert.equal(btc.trading_state, 'REDUCING');
      assert.equal(venueQty(w, 'BTC-USDT'), 0);
      return s.engine.steps >= s0 + 30;
    }, 60_000, 50);

    const again = await w.json<{ flat: boolean; already_flat: boolean }>(['flatten', 'BTC-USDT', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.doc.already_flat, true);

    const resumed = await w.json<{ changed: boolean }>(['resume', 'BTC-USDT']);
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.equal(resumed.doc.changed, true);
    await waitFor('entries again after resume', async () => (await slot(w, 'BTC-USDT')).qty > 0);

    // flatten --resume: flat at the venue, then ACTIVE again at once, and the demo enters a new trade.
    const eth = await waitFor('the demo holds ETH', async () => {
      const s = await slot(w, 'ETH-USDT');
      return s.qty > 0 && s.state === 'OPEN' ? s : undefined;
    });
    const fr = await w.json<{ flat: boolean; trading_state: string; orders: { client_order_id: string }[] }>(['flatten', 'ETH-USDT', '--yes', '--resume']);
    assert.equal(fr.code, 0, fr.stderr);
    assert.equal(fr.doc.flat, true);
    assert.equal(fr.doc.trading_state, 'ACTIVE', 'ACTIVE again at once');
    const exits = new Set(fr.doc.orders.map((o) => o.client_order_id));
    const exited = w.sim.state().fills.filter((f) => f.symbol === 'ETH-USDT' && exits.has(f.client_order_id)).reduce((q, f) => q + f.qty, 0);
    assert.ok(Math.abs(exited - eth.qty) < 1e-9, `the venue filled the flatten's exit for the whole ${eth.qty} (filled ${exited})`);
    assert.equal((await slot(w, 'ETH-USDT')).trading_state, 'ACTIVE');
    await waitFor('a new ETH entry after flatten --resume', async () => {
      const s = await slot(w, 'ETH-USDT');
      return s.qty > 0 && s.trade_id !== eth.trade_id;
    });

    const halted = await w.json<{ engine: { trading_state: string } }>(['halt', '--all', '--hard', '--reason', 'drill']);
    assert.equal(halted.code, 0, halted.stderr);
    assert.equal(halted.doc.engine.trading_state, 'HALTED');
    const pid = (await status(w)).doc.engine.pid;
    process.kill(pid, 'SIGKILL');
    await waitFor('the engine gone', async () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    const down = await status(w);
    assert.equal(down.code, 3);
    assert.equal(down.doc.engine.trading_state, 'HALTED');
    const restarted = await w.pink(['restart']);
    assert.equal(restarted.code, 0, restarted.stderr);
    const up = (await status(w)).doc;
    assert.equal(up.engine.up, true);
    assert.equal(up.engine.trading_state, 'HALTED');
    assert.equal(up.engine.trading_state_reason, 'drill');
    const held = up.slots.map((s) => ({ symbol: s.symbol, qty: s.qty }));
    // HALTED: nothing is sent, so positions do not change over the next steps (the demo's exits are refused too).
    const s1 = up.engine.steps;
    await waitFor('10 steps while HALTED', async () => (await status(w)).doc.engine.steps >= s1 + 10);
    assert.deepEqual((await status(w)).doc.slots.map((s) => ({ symbol: s.symbol, qty: s.qty })), held);

    const stopped = await w.pink(['stop', '--timeout', '30s']);
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal((await w.pink(['stop'])).code, 3, 'no engine: exit 3');

    // Engine down: resume is recorded into the checkpoint; the next start trades.
    const downResume = await w.json<{ engine: { trading_state: string }; engine_up: boolean }>(['resume', '--all']);
    assert.equal(downResume.code, 0, downResume.stderr);
    assert.equal(downResume.doc.engine_up, false);
    assert.equal((await status(w)).doc.engine.trading_state, 'ACTIVE');

    // Engine down: a halt is recorded into the checkpoint; status says so, and the next start is HALTED there.
    const downHalt = await w.json<{ engine_up: boolean; slots: { symbol: string; trading_state: string }[] }>(['halt', 'ETH-USDT', '--hard', '--reason', 'down drill']);
    assert.equal(downHalt.code, 0, downHalt.stderr);
    assert.equal(downHalt.doc.engine_up, false);
    assert.equal(downHalt.doc.slots.find((x) => x.symbol === 'ETH-USDT')?.trading_state, 'HALTED');
    const downEth = (await status(w)).doc.slots.find((x) => x.symbol === 'ETH-USDT')!;
    assert.deepEqual([downEth.trading_state, downEth.trading_state_reason], ['HALTED', 'down drill'], 'status (engine down) shows the halt');
    assert.equal((await w.pink(['restart'])).code, 0);
    const upAgain = (await status(w)).doc;
    assert.equal(upAgain.engine.up, true);
    const upEth = upAgain.slots.find((x) => x.symbol === 'ETH-USDT')!;
    assert.deepEqual([upEth.trading_state, upEth.trading_state_reason], ['HALTED', 'down drill'], 'the next start is HALTED on ETH');
    assert.equal(upAgain.engine.trading_state, 'ACTIVE');
    assert.equal((await w.pink(['stop'])).code, 0);

    const rows = await operatorRows(w);
    const downRow = rows.map((r) => JSON.parse(r.details) as { command: string; args: string[] }).find((d) => d.command === 'halt' && d.args.includes('down drill'));
    assert.deepEqual(downRow?.args, ['ETH-USDT', '--hard', '--reason', 'down drill'], 'the engine-down halt has its audit row');
    assert.match(readFileSync(join(w.logDir, 'dolphin_live_pink.log'), 'utf8'), /operator halt ETH-USDT --hard --reason down drill by /, 'and its runtime-log line');
    const commands = rows.map((r) => (JSON.parse(r.details) as { command: string }).command);
    for (const c of ['flatten', 'resume', 'halt', 'restart', 'stop']) assert.ok(commands.includes(c), `no operator row for ${c}: ${commands.join(',')}`);
    const one = JSON.parse(rows[0]!.details) as Record<string, unknown>;
    for (const k of ['command', 'args', 'user', 'host', 'pid']) assert.ok(k in one, k);

    // Replay over the halts and resumes reproduces every recorded outcome.
    const replay = await w.pink(['replay']);
    assert.equal(replay.code, 0, replay.stdout + replay.stderr);
  } finally {
    await w.close();
  }
});

test('circuit breakers trip on the simulator and stay tripped: rejects, the persistent rate-limit cycle, drawdown, a position mismatch', async () => {
  const w = await makeWorld({
    symbols: ['BTC-USDT'],
    env: { DOLPHIN_PINK_MAX_REJECTS: '2', DOLPHIN_MAX_HOLD_BARS: '4', DOLPHIN_PINK_RATE_LIMIT_PERSISTENT_SEC: '1', DITA_V2_RATE_LIMIT_COOLDOWN_SEC: '0.1' },
  });
  try {
    await startDemo(w);
    // Rejects: every order refused until the breaker trips.
    await waitFor('BREAKER_REJECTS', async () => {
      await w.admin('/__sim/faults', { rejectNext: 'e2e reject' });
      return (await slot(w, 'BTC-USDT')).trading_state_reason.startsWith('BREAKER_REJECTS');
    }, 60_000, 100);
    await w.admin('/__sim/faults', { rejectNext: null });
    const s0 = (await status(w)).doc.engine.steps;
    await waitFor('20 steps later', async () => (await status(w)).doc.engine.steps >= s0 + 20);
    const b = await slot(w, 'BTC-USDT');
    assert.equal(b.trading_state, 'REDUCING', 'never a self-resume');
    const st = await status(w);
    assert.equal(st.code, 1, 'a breaker is a degraded status');
    assert.ok(st.doc.reasons.some((r) => /circuit breaker/.test(r)));

    // Persistent rate limit: the engine goes REDUCING and stays so once the venue answers again.
    await w.admin('/__sim/faults', { rateLimitEvery: 1 });
    await waitFor('BREAKER_RATE_LIMITED', async () => (await status(w)).doc.engine.trading_state_reason.startsWith('BREAKER_RATE_LIMITED'), 60_000, 200);
    await w.admin('/__sim/faults', { rateLimitEvery: null });
    const s1 = (await status(w)).doc.engine.steps;
    await waitFor('10 steps after the venue answers', async () => (await status(w)).doc.engine.steps >= s1 + 10);
    assert.equal((await status(w)).doc.engine.trading_state, 'REDUCING');

    // Drawdown: resume, restart with a 1 USDT drawdown limit, walk the price against the position.
    assert.equal((await w.pink(['resume', '--all'])).code, 0);
    assert.equal((await w.pink(['restart'], { DOLPHIN_PINK_MAX_DRAWDOWN_USDT: '1', DOLPHIN_MAX_HOLD_BARS: '100000' })).code, 0);
    const held = await waitFor('a position', async () => {
      const s = await slot(w, 'BTC-USDT');
      return s.qty > 0 && s.state === 'OPEN' ? s : undefined;
    });
    const price = w.sim.state().prices['BTC-USDT']!;
    for (let i = 1; i <= 10; i += 1) {
      await w.admin('/__sim/price', { symbol: 'BTC-USDT', price: price * (held.side === 'long' ? 1 - 0.01 * i : 1 + 0.01 * i) });
      await new Promise((r) => setTimeout(r, 100));
    }
    await waitFor('BREAKER_DRAWDOWN', async () => (await status(w)).doc.engine.trading_state_reason.startsWith('BREAKER_DRAWDOWN'), 30_000, 200);
    await w.admin('/__sim/price', { symbol: 'BTC-USDT', price });
    const s2 = (await status(w)).doc.engine.steps;
    await waitFor('10 steps after the price came back', async () => (await status(w)).doc.engine.steps >= s2 + 10);
    assert.equal((await status(w)).doc.engine.trading_state, 'REDUCING');

    // Mismatch: the venue's position is no longer PINK's (someone traded it); the restart's reconcile trips the symbol.
    const venue = w.sim.state().positions.find((p) => p.symbol === 'BTC-USDT');
    assert.ok(venue, 'a venue position');
    await w.admin('/__sim/position', { symbol: 'BTC-USDT', qty: venue.qty * 3, entryPrice: venue.entry_price });
    const r = await w.pink(['restart']);
    assert.equal(r.code, 1, `divergence remains: ${r.stdout}`);
    const m = await slot(w, 'BTC-USDT');
    assert.equal(m.trading_state, 'REDUCING');
    assert.match(m.trading_state_reason, /^BREAKER_MISMATCH/);
  } finally {
    await w.close();
  }
});

test('engine-down flatten uses the venue and flags of run.json, behind that venue\'s gate', async () => {
  const dir = tempDir('pink-flatten-gate-');
  try {
    const home = join(dir.path, 'home');
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const base = { venue: 'bingx-vst', symbols: ['BTC-USDT'], strategy: 'demo', signals: null, seed: 1, live: false };
    const env = { PINK_HOME: home, DOLPHIN_LOG_DIR: join(dir.path, 'logs'), DOLPHIN_PINK_VENUE: 'sim' };
    writeFileSync(join(home, 'run.json'), JSON.stringify(base), { mode: 0o600 });
    const vst = await runPink(['flatten', 'BTC-USDT', '--yes'], env);
    assert.equal(vst.code, 2, vst.stderr);
    assert.match(vst.stderr, /venue bingx-vst refused: missing DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-vst/);
    writeFileSync(join(home, 'run.json'), JSON.stringify({ ...base, venue: 'bingx-live', live: true }), { mode: 0o600 });
    const liveEnv = { ...env, DOLPHIN_PINK_AUTHORIZE_VENUE: 'bingx-live', DOLPHIN_PINK_BINGX_API_KEY: 'k-e2e-1234', DOLPHIN_PINK_BINGX_API_SECRET: 's-e2e-5678' };
    const live = await runPink(['flatten', 'BTC-USDT', '--yes'], liveEnv);
    assert.equal(live.code, 2, live.stderr);
    assert.match(live.stderr, /missing the --live flag/);
    assert.doesNotMatch(live.stderr + live.stdout, /k-e2e-1234|s-e2e-5678/);
  } finally {
    dir.remove();
  }
});
