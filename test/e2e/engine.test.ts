// End to end: the real binary, a real simulator over HTTP through ccxt, a real chDB store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ENGINE_NODE_FLAGS } from '../../src/commands/run.js';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/engine/store/index.js';
import { makeWorld, stopPid, waitFor, type World } from '../support/e2e.js';
import { BIN } from '../support/cli.js';
import { HEAVY_MODULE, loadedModules } from '../support/loads.js';
import { join } from 'node:path';

type Slot = { symbol: string; state: string; qty: number; legs: number; side: string | null };
type Status = { engine: { up: boolean; pid: number; source: string; rss_mb: number | null; heap_used_mb: number | null; heap_total_mb: number | null }; slots: Slot[]; healthy: boolean; reasons: string[] };

async function status(w: World): Promise<{ code: number | null; doc: Status }> {
  return w.json<Status>(['ditav2-status']);
}

async function slot(w: World, symbol: string): Promise<Slot | undefined> {
  const s = await status(w);
  return s.doc.slots?.find((x) => x.symbol === symbol);
}

async function startEngine(w: World, extra: string[] = []): Promise<number> {
  const r = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(r.doc.pid > 0);
  return r.doc.pid;
}

async function stopEngine(w: World): Promise<void> {
  await stopPid(join(w.home, 'pink.pid'));
}

async function withStore<T>(w: World, fn: (s: Awaited<ReturnType<typeof openStore>>) => Promise<T>): Promise<T> {
  const store = await openStore({ config: loadConfig(w.env), runId: 'e2e-check' });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

function noOrderTwice(w: World): void {
  const truth = w.sim.state();
  for (const [id, c] of Object.entries(truth.client_order_ids)) {
    assert.ok(c.created <= 1, `client order id ${id} created ${c.created} times`);
  }
}

test('signals run: a two-leg exit and a clamped final exit, each fill recorded once, legs sum to the trade', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT'] });
  try {
    await startEngine(w);
    w.signals([{ intent_id: 'e2e-enter-1', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0.01, order_type: 'market', reason: 'e2e' }]);
    await waitFor('OPEN 0.01', async () => {
      const s = await slot(w, 'BTC-USDT');
      return s?.state === 'OPEN' && Math.abs(s.qty - 0.01) < 1e-12;
    });
    w.signals(['this line is not json', { intent_id: 'e2e-exit-1', symbol: 'BTC-USDT', action: 'EXIT', fraction: 0.5, order_type: 'market', reason: 'e2e_leg1' }]);
    await waitFor('first leg', async () => (await slot(w, 'BTC-USDT'))?.legs === 1);
    await w.admin('/__sim/price', { symbol: 'BTC-USDT', price: 61000 });
    w.signals([{ intent_id: 'e2e-exit-2', symbol: 'BTC-USDT', action: 'EXIT', qty: 1, final: true, order_type: 'market', reason: 'e2e_final' }]);
    await waitFor('CLOSED', async () => (await slot(w, 'BTC-USDT'))?.state === 'CLOSED');
    await stopEngine(w);

    const truth = w.sim.state();
    assert.equal(truth.positions.filter((p) => p.symbol === 'BTC-USDT').length, 0, 'flat at the venue: the final exit did not oversell');
    noOrderTwice(w);
    await withStore(w, async (store) => {
      const trades = await store.query<{ trade_id: string; status: string; entry_qty: number; realized_pnl: number; legs: number }>(
        "SELECT trade_id, argMax(status, exit_ts) AS status, argMax(entry_qty, exit_ts) AS entry_qty, argMax(realized_pnl, exit_ts) AS realized_pnl, argMax(legs, exit_ts) AS legs FROM dolphin_pink.trades GROUP BY trade_id",
      );
      assert.equal(trades.length, 1);
      const t = trades[0]!;
      assert.equal(t.status, 'closed');
      assert.equal(t.legs, 2);
      const legs = await store.query<{ n: number; qty: number; pnl: number; finals: number }>(
        `SELECT count() AS n, sum(leg_qty) AS qty, sum(leg_realized_pnl) AS pnl, countIf(is_final) AS finals FROM (SELECT * FROM dolphin_pink.trade_exit_legs WHERE trade_id = '${t.trade_id}' LIMIT 1 BY row_id)`,
      );
      assert.equal(legs[0]!.n, 2);
      assert.equal(legs[0]!.finals, 1);
      assert.ok(Math.abs(legs[0]!.qty - t.entry_qty) < 1e-12, `legs qty ${legs[0]!.qty} vs entry ${t.entry_qty}`);
      assert.ok(Math.abs(legs[0]!.pnl - t.realized_pnl) < 1e-9, `legs pnl ${legs[0]!.pnl} vs trade ${t.realized_pnl}`);
      const fills = await store.query<{ n: number; u: number }>('SELECT count() AS n, uniqExact(fill_id) AS u FROM dolphin_pink.fills');
      assert.equal(fills[0]!.n, fills[0]!.u, 'no fill recorded twice');
      assert.equal(fills[0]!.u, truth.fills.filter((f) => f.symbol === 'BTC-USDT').length, 'every venue fill recorded');
      const anomalies = await store.query<{ n: number }>("SELECT count() AS n FROM dolphin_pink.anomalies WHERE origin = 'signals'");
      assert.equal(anomalies[0]!.n, 1, 'the malformed signals line is an anomaly, not a crash');
      const audit = await store.audit();
      assert.ok(audit.ok, JSON.stringify(audit.checks.filter((c) => !c.ok)));
    });
    const replay = await w.json<{ identical: boolean; inputs: number }>(['replay']);
    assert.equal(replay.code, 0, JSON.stringify(replay.doc));
    assert.equal(replay.doc.identical, true);
    assert.ok(replay.doc.inputs > 0);
  } finally {
    await w.close();
  }
});

test('detach, status, kill -9, a position opened behind PINK\'s back, restart converges, flatten twice', async () => {
  const w = await makeWorld();
  try {
    const pid = await startEngine(w);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    assert.deepEqual(argv.slice(1, 1 + ENGINE_NODE_FLAGS.length), [...ENGINE_NODE_FLAGS], `the detached engine runs with the engine's node flags: ${argv.join(' ')}`);
    assert.equal(readFileSync(BIN, 'utf8').split('\n')[0], `#!/usr/bin/env -S node ${ENGINE_NODE_FLAGS.join(' ')}`, "bin/pink.js's shebang passes the same flags to a foreground engine");
    w.signals([{ intent_id: 'e2e-eth-1', symbol: 'ETH-USDT', action: 'ENTER', side: 'short', qty: 0.1, order_type: 'market', reason: 'e2e' }]);
    await waitFor('ETH OPEN', async () => (await slot(w, 'ETH-USDT'))?.state === 'OPEN');
    const up = await status(w);
    assert.equal(up.code, 0, JSON.stringify(up.doc.reasons));
    assert.equal(up.doc.engine.up, true);
    assert.equal(up.doc.healthy, true);
    const { rss_mb, heap_used_mb, heap_total_mb } = up.doc.engine;
    assert.ok(heap_used_mb! > 0 && heap_used_mb! <= heap_total_mb! && heap_total_mb! < rss_mb!, `the engine's memory figures: ${JSON.stringify({ rss_mb, heap_used_mb, heap_total_mb })}`);
    const loads = await loadedModules(['ditav2-status', '--json'], w.env);
    assert.equal(loads.code, 0);
    assert.ok(loads.loaded.some((l) => l.includes('runner/socket.js')), 'the hook saw the status path');
    assert.deepEqual(loads.loaded.filter((l) => HEAVY_MODULE.test(l)), [], 'status over the socket loads neither ccxt nor chDB');
    // kernel/limits.js is the one kernel file status may load: constants, no imports, so that the
    // drift tolerance status judges by is the kernel's own (DRIFT_TOLERANCE_USDT_DEFAULT).
    const kernelLoads = loads.loaded.filter((l) => /engine\/(kernel|faults)\//.test(l) && !/engine\/kernel\/limits\.js$/.test(l));
    assert.deepEqual(kernelLoads, [], 'status over the socket loads no kernel code: only the engine-down path replays it');
    assert.doesNotMatch(readFileSync(new URL('../../src/engine/kernel/limits.js', import.meta.url), 'utf8'), /^import /m, 'kernel/limits.js stays constants only');

    process.kill(pid, 'SIGKILL');
    await waitFor('engine gone', async () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    const down = await status(w);
    assert.equal(down.code, 3);
    assert.equal(down.doc.engine.up, false);
    assert.equal(down.doc.engine.source, 'checkpoint');
    assert.equal(down.doc.engine.heap_total_mb, null, 'no engine, no memory figures');

    await w.admin('/__sim/position', { symbol: 'BTC-USDT', qty: 0.002, entryPrice: 60000 });
    const restart = await w.json<{ converged: boolean; corrections: { kind: string; symbol: string }[] }>(['restart']);
    assert.equal(restart.code, 0, restart.stderr);
    assert.equal(restart.doc.converged, true);
    assert.ok(restart.doc.corrections.some((c) => c.symbol === 'BTC-USDT'), JSON.stringify(restart.doc.corrections));
    const btc = await slot(w, 'BTC-USDT');
    assert.equal(btc?.state, 'OPEN', 'the orphan was adopted');

    const before = w.sim.state().orders_created;
    const refused = await w.pink(['flatten', 'BTC-USDT']);
    assert.equal(refused.code, 2, 'no terminal and no --yes: refused');
    const malformed = await w.pink(['flatten', 'BTC_USD', '--yes']);
    assert.equal(malformed.code, 2);
    assert.equal(w.sim.state().orders_created, before, 'refused flattens sent nothing');

    const flat = await w.json<{ flat: boolean; symbol: string }>(['flatten', 'btc/usdt:usdt', '--yes']);
    assert.equal(flat.code, 0, flat.stderr);
    assert.equal(flat.doc.flat, true);
    assert.equal(flat.doc.symbol, 'BTC-USDT');
    assert.equal(w.sim.state().positions.filter((p) => p.symbol === 'BTC-USDT').length, 0);
    const created = w.sim.state().orders_created;
    const again = await w.json<{ flat: boolean; already_flat: boolean }>(['flatten', 'BTC-USDT', '--yes']);
    assert.equal(again.code, 0);
    assert.equal(again.doc.already_flat, true);
    assert.equal(w.sim.state().orders_created, created, 'a second flatten sends nothing');
    noOrderTwice(w);
    await stopEngine(w);
  } finally {
    await w.close();
  }
});

test('an order whose response was dropped after the venue acted is settled by reconcile, never sent twice', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT'] });
  try {
    await startEngine(w);
    await w.admin('/__sim/faults', { dropResponseNext: 1 });
    w.signals([{ intent_id: 'e2e-drop-1', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0.01, order_type: 'market', reason: 'e2e' }]);
    await waitFor('OPEN after reconcile', async () => {
      const s = await slot(w, 'BTC-USDT');
      return s?.state === 'OPEN' && Math.abs(s.qty - 0.01) < 1e-12;
    });
    noOrderTwice(w);
    const truth = w.sim.state();
    assert.equal(truth.positions.find((p) => p.symbol === 'BTC-USDT')?.qty, 0.01);
    await stopEngine(w);
  } finally {
    await w.close();
  }
});

test('mode-verify passes on defaults and fails for a shared database, a shared API key (never printed), a BLUE log dir', async () => {
  const w = await makeWorld();
  try {
    const ok = await w.json<{ ok: boolean; checks: { id: string; status: string }[] }>(['mode-verify']);
    assert.equal(ok.code, 0, JSON.stringify(ok.doc));
    assert.equal(ok.doc.ok, true);
    assert.deepEqual(ok.doc.checks.map((c) => c.id), ['store', 'schema', 'blue-rows', 'env', 'venue', 'orders', 'files']);

    const shared = await w.json<{ ok: boolean; checks: { id: string; status: string }[] }>(['mode-verify'], { DOLPHIN_PINK_CH_DATABASE: 'blue_db', DOLPHIN_BLUE_CH_DATABASE: 'blue_db' });
    assert.equal(shared.code, 1);
    assert.equal(shared.doc.checks.find((c) => c.id === 'store')?.status, 'FAIL');
    // BLUE's `dolphin` is refused as PINK's database outright (exit 2), whatever BLUE's is said to be.
    const dolphin = await w.pink(['mode-verify'], { DOLPHIN_PINK_CH_DATABASE: 'dolphin', DOLPHIN_BLUE_CH_DATABASE: 'blue_db' });
    assert.equal(dolphin.code, 2, dolphin.stderr);

    const key = 'k3y-shared-with-blue-0123456789';
    const sharedKey = await w.pink(['mode-verify', '--json'], { DOLPHIN_PINK_BINGX_API_KEY: key, DOLPHIN_PINK_BINGX_API_SECRET: 's3cret-abcdef', DOLPHIN_BINGX_API_KEY_BLUE: key });
    assert.equal(sharedKey.code, 1);
    assert.equal((JSON.parse(sharedKey.stdout) as { checks: { id: string; status: string }[] }).checks.find((c) => c.id === 'env')?.status, 'FAIL');
    assert.ok(!sharedKey.stdout.includes(key) && !sharedKey.stderr.includes(key), 'the key is compared, never printed');
    assert.ok(!sharedKey.stdout.includes('s3cret-abcdef') && !sharedKey.stderr.includes('s3cret-abcdef'));

    const blueLogs = await w.json<{ checks: { id: string; status: string }[] }>(['mode-verify'], { DOLPHIN_LOG_DIR_BLUE: w.logDir });
    assert.equal(blueLogs.code, 1);
    assert.equal(blueLogs.doc.checks.find((c) => c.id === 'files')?.status, 'FAIL');
  } finally {
    await w.close();
  }
});

test('restart through a supervisor command waits for the new engine and prints its reconcile report', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT'] });
  try {
    const oldPid = await startEngine(w);
    const pidFile = join(w.home, 'pink.pid');
    // Stands in for `supervisorctl restart dolphin_live_pink`: stop the engine, start it again.
    const supervisor = `kill -TERM $(cat ${pidFile}); while kill -0 ${oldPid} 2>/dev/null; do sleep 0.1; done; ${process.execPath} ${BIN} run --detach --strategy signals --signals ${w.signalsPath} > /dev/null`;
    const r = await w.json<{ converged: boolean; via: string; corrections: unknown[] }>(['restart', '--supervisor', supervisor, '--timeout', '30']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.doc.via, 'supervisor');
    assert.equal(r.doc.converged, true);
    const s = await status(w);
    assert.equal(s.code, 0, JSON.stringify(s.doc));
    assert.notEqual(s.doc.engine.pid, oldPid, 'a new engine answers');
    const failing = await w.json(['restart', '--supervisor', 'exit 7']);
    assert.equal(failing.code, 1, 'a failing supervisor command is a bad answer, not a crash');
    await stopEngine(w);
  } finally {
    await w.close();
  }
});

test('a write ClickHouse refuses is a STORE_SPOOLING line in the error log, with the embedded store\'s fix', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT'] });
  try {
    const r = await w.pink(['run', '--steps', '6', '--strategy', 'demo'], { PINK_CHAOS_STORE_FAIL: 'failNextInserts=2' });
    assert.equal(r.code, 0, r.stderr);
    const errorLog = readFileSync(join(w.logDir, 'dolphin_live_pink-error.log'), 'utf8');
    assert.match(errorLog, /WARNING STORE_SPOOLING ClickHouse did not take a unit \(injected failure.*Fix: free disk space under .*clickhouse \(df -h\).*pink restart \(see: pink fault STORE_SPOOLING\)/);
    const s = await w.json<{ store: { spooled_rows: number } }>(['ditav2-status']);
    assert.equal(s.doc.store.spooled_rows, 0, 'the spool drained before the engine stopped');
  } finally {
    await w.close();
  }
});
