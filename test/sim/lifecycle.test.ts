// The simulator as a process: state kept across restarts, seeded reproducibility, admin
// refused off loopback, and `pink sim` through the real binary.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import ccxt from 'ccxt';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { handleAdmin, isLoopbackAddress } from '../../src/sim/admin.js';
import { SimCore, resolveOptions } from '../../src/sim/core.js';
import { startSim } from '../../src/sim/index.js';
import { BIN, cleanEnv, runPink, tempDir } from '../support/cli.js';
import { BTC, ETH, admin, ccxtClient, simWithClient } from './support.js';

test('--state: orders, positions, fills, balance and used clientOrderIDs survive a restart', async () => {
  const dir = tempDir();
  const statePath = join(dir.path, 'sim', 'state.json');
  try {
    const first = await simWithClient({ statePath, seed: 3 });
    await first.ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'pink-keep-1' });
    await first.ex.createOrder(ETH, 'limit', 'buy', 0.1, 2000, { clientOrderId: 'pink-keep-2' });
    const before = first.sim.state();
    await first.close();
    assert.deepEqual(readdirSync(join(dir.path, 'sim')), ['state.json'], 'no temporary file left behind');

    const second = await simWithClient({ statePath, seed: 3 });
    try {
      const after = second.sim.state();
      assert.deepEqual(after.positions, before.positions);
      assert.deepEqual(after.open_orders, before.open_orders);
      assert.deepEqual(after.fills, before.fills);
      assert.equal(after.balance.wallet_usdt, before.balance.wallet_usdt);
      const open = await second.ex.fetchOpenOrders();
      assert.deepEqual(open.map((o) => o.clientOrderId), ['pink-keep-2']);
      const resend = await second.ex.createOrder(BTC, 'market', 'buy', 0.01, undefined, { clientOrderId: 'pink-keep-1' }).catch((e: Error) => e);
      assert.match(String((resend as Error).message), /unique check failed/);
      // The ids continue; they do not restart at 1.
      const next = await second.ex.createOrder(BTC, 'market', 'sell', 0.01, undefined, { reduceOnly: true });
      assert.equal(next.id!, '1900000000000000003');
    } finally {
      await second.close();
    }
  } finally {
    dir.remove();
  }
});

test('a corrupt state file is refused with a message, not silently replaced', async () => {
  const dir = tempDir();
  try {
    const statePath = join(dir.path, 'state.json');
    (await import('node:fs')).writeFileSync(statePath, '{"half":');
    await assert.rejects(startSim({ statePath }), /not valid JSON/);
  } finally {
    dir.remove();
  }
});

/** The same requests against two simulators: prices, ids and fills as seen through ccxt. */
async function scriptedRun(seed: number): Promise<unknown> {
  const sim = await startSim({ seed, priceWalk: true });
  try {
    const ex = ccxtClient(sim.url);
    await ex.loadMarkets();
    const seen: unknown[] = [];
    for (let i = 0; i < 5; i++) {
      seen.push((await ex.fetchTicker(BTC)).last);
      const o = await ex.createOrder(ETH, 'market', i % 2 ? 'sell' : 'buy', 0.1);
      seen.push([o.id, o.average]);
    }
    await admin(sim, 'tick', { n: 50 });
    const t = sim.state();
    seen.push(t.prices, t.fills.map((f) => [f.fill_id, f.order_id, f.price, f.qty]), t.balance.wallet_usdt);
    return seen;
  } finally {
    await sim.close();
  }
}

test('--seed: the same seed and the same requests give the same prices, ids and fills; another seed differs', async () => {
  const a = await scriptedRun(42);
  const b = await scriptedRun(42);
  const c = await scriptedRun(43);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('admin endpoints answer loopback callers only', () => {
  for (const ok of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '127.8.9.10']) assert.equal(isLoopbackAddress(ok), true, ok);
  for (const no of ['10.0.0.5', '192.168.1.2', '::ffff:10.0.0.5', 'fe80::1', '2001:db8::1', '', undefined]) {
    assert.equal(isLoopbackAddress(no), false, String(no));
  }
  const core = new SimCore(resolveOptions({ priceWalk: false }));
  const refused = handleAdmin(core, 'POST', '/__sim/price', '10.1.2.3', { symbol: 'BTC-USDT', price: 1 });
  assert.equal(refused.status, 403);
  assert.equal(core.engine.price('BTC-USDT'), 60000);
  assert.equal(handleAdmin(core, 'POST', '/__sim/price', '127.0.0.1', { symbol: 'BTC-USDT', price: 1 }).status, 200);
  assert.equal(core.engine.price('BTC-USDT'), 1);
});

test('admin reset and tick: a fresh venue on demand; ticks walk the prices', async () => {
  const sim = await startSim({ seed: 5 });
  try {
    const ex = ccxtClient(sim.url);
    await ex.loadMarkets();
    await ex.createOrder(BTC, 'market', 'buy', 0.001);
    const ticked = await admin(sim, 'tick', { n: 10 });
    assert.notEqual(ticked.body.prices['BTC-USDT'], 60000);
    await admin(sim, 'faults', { failPaths: ['/openApi/swap/v2/trade/allFillOrders'] });
    await admin(sim, 'reset', { seed: 6 });
    const t = sim.state();
    assert.equal(t.seed, 6);
    assert.deepEqual([t.positions.length, t.fills.length, t.orders_created, t.requests], [0, 0, 0, 0]);
    assert.equal(t.prices['BTC-USDT'], 60000);
    // Every fault is back to its default, failPaths too: the fill feed answers again.
    assert.deepEqual(await ex.fetchMyTrades(BTC, Date.now() - 60_000), []);
  } finally {
    await sim.close();
  }
});

test('pink sim (the real binary) prints its URL, serves BingX, and stops with exit 0 on SIGTERM', async () => {
  for (const json of [false, true]) {
    const child = spawn(process.execPath, [BIN, ...(json ? ['--json'] : []), 'sim', '--port', '0', '--seed', '9'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout });
    const first = await new Promise<string>((resolve, reject) => {
      lines.once('line', resolve);
      child.once('exit', (code) => reject(new Error(`pink sim exited ${code}: ${stderr}`)));
    });
    const url = json ? (JSON.parse(first) as { url: string; port: number }).url : first.trim();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const time = (await (await fetch(`${url}/openApi/swap/v2/server/time`)).json()) as any;
    assert.equal(time.code, 0);
    const rest: string[] = [];
    lines.on('line', (l) => rest.push(l));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /listening on http:\/\/127\.0\.0\.1/);
    assert.deepEqual(rest, [], 'the start line is the only stdout');
  }
});

test('pink sim refuses bad option values with exit 2 and starts nothing', async () => {
  for (const args of [['--port', 'x'], ['--port', '70000'], ['--seed', '-1'], ['--latency-ms', 'slow'], ['--rate-limit-every', '0'], ['--symbols', 'BTC_USD'], ['--api-key', ' ']]) {
    const r = await runPink(['sim', ...args], {}, { timeoutMs: 20_000 });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^pink: --/);
  }
});

test('one simulator per state file: a second is refused while the first lives; the lock goes with the first', async () => {
  const dir = tempDir();
  const statePath = join(dir.path, 'state.json');
  try {
    const first = await startSim({ statePath });
    await assert.rejects(startSim({ statePath }), /in use by another simulator/);
    await first.close();
    const second = await startSim({ statePath });
    await second.close();
    assert.deepEqual(readdirSync(dir.path), ['state.json'], 'no lock left behind');
  } finally {
    dir.remove();
  }
});

test('a simulator whose state was taken over never writes its older state back: it stops serving (fail closed)', async () => {
  const dir = tempDir();
  const statePath = join(dir.path, 'state.json');
  try {
    const stale = await simWithClient({ statePath });
    await stale.ex.createOrder(BTC, 'market', 'buy', 0.01);
    // As if it had been stopped (SIGSTOP) and its lock removed by hand: another simulator takes over.
    rmSync(`${statePath}.lock`);
    const newer = await simWithClient({ statePath });
    await newer.ex.createOrder(ETH, 'market', 'buy', 0.1);
    const truth = readFileSync(statePath, 'utf8');
    // The stale one resumes: its next change must not reach the file.
    const err = await stale.ex.createOrder(BTC, 'market', 'buy', 0.01).catch((e: Error) => e);
    assert.ok(err instanceof ccxt.OperationFailed, `the change it could not write is not reported done: ${String(err)}`);
    assert.equal(readFileSync(statePath, 'utf8'), truth, 'the newer state is intact');
    const after = await stale.ex.fetchBalance().catch((e: Error) => e);
    assert.ok(after instanceof ccxt.OperationFailed, `fenced: ${String(after)}`);
    assert.match(String((after as Error).message), /simulator stopped/);
    await stale.close();
    assert.equal(readFileSync(statePath, 'utf8'), truth, 'closing it writes nothing either');
    assert.ok(existsSync(`${statePath}.lock`), "the newer simulator's lock stays");
    await newer.close();
  } finally {
    dir.remove();
  }
});

test('pink sim (the real binary): a second one on a stopped (SIGSTOP) simulator\'s state exits 2; the first resumes intact', async () => {
  const dir = tempDir();
  const statePath = join(dir.path, 'state.json');
  const child = spawn(process.execPath, [BIN, 'sim', '--port', '0', '--state', statePath], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', (code) => reject(new Error(`pink sim exited ${code}`)));
    });
    child.kill('SIGSTOP');
    const second = await runPink(['sim', '--port', '0', '--state', statePath], {}, { timeoutMs: 20_000 });
    assert.equal(second.code, 2, second.stderr);
    assert.match(second.stderr, /in use by another simulator \(pid \d+/);
    child.kill('SIGCONT');
    const time = (await (await fetch(`${url.trim()}/openApi/swap/v2/server/time`)).json()) as any;
    assert.equal(time.code, 0);
  } finally {
    child.kill('SIGCONT');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    dir.remove();
  }
});
