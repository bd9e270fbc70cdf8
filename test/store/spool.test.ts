// Across processes: a spool written while ClickHouse is unreachable survives `kill -9` of its
// writer and drains once into the store on the next open; the embedded store held by a running
// engine is refused with its pid, and freed when that process dies; no password in any message.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config.js';
import { ExitError } from '../../src/errors.js';
import { openStore } from '../../src/engine/store/index.js';
import { spooledOnDisk } from '../../src/engine/store/spool.js';
import { backendCases, closedPort, configFor, distinctCounts, dropDatabases, tmpHome, tradeBatches, ROWS_PER_TRADE } from './fixtures.js';

const CHILD = fileURLToPath(new URL('./child.js', import.meta.url));
/** A child that has not reached its state by then is broken, not slow. */
const CHILD_READY_MS_MAX = 30_000;
const homes: string[] = [];
after(() => homes.forEach((h) => rmSync(h, { recursive: true, force: true })));

function home(tag: string): string {
  const h = tmpHome(tag);
  homes.push(h);
  return h;
}

/** Starts the child and resolves with its first stdout line (its "I am in the state" signal). */
function startChild(args: string[]): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`child not ready in ${CHILD_READY_MS_MAX} ms; stderr: ${err}`));
    }, CHILD_READY_MS_MAX);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve({ child, line: out.slice(0, nl) });
      }
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child exited ${code} before it was ready; stderr: ${err}`));
    });
  });
}

function kill9(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners('exit');
    child.on('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

for (const backend of backendCases()) {
  test(`${backend.name}: a spool written while ClickHouse was down survives kill -9 and drains once on the next open`, async () => {
    const h = home('kill');
    const config = configFor(h, backend);
    const spoolDir = join(h, 'spool');
    const { child, line } = await startChild(['spool', h, config.database, spoolDir, String(await closedPort())]);
    const m = /^SPOOLED (\d+) (.*)$/.exec(line);
    assert.ok(m, line);
    assert.equal(Number(m[1]), 3 * ROWS_PER_TRADE);
    assert.match(m[2]!, /ECONNREFUSED/);
    await kill9(child);
    const files = readdirSync(spoolDir).filter((n) => n.endsWith('.spool.json'));
    assert.ok(files.length >= 1, 'spool files left by the killed writer');
    // What `pink ditav2-status` reports while the engine is down: read from the files' heads.
    assert.deepEqual(spooledOnDisk(spoolDir), { files: files.length, rows: 3 * ROWS_PER_TRADE });

    const lines: string[] = [];
    const store = await openStore({ config, runId: 'after-kill', spoolDir, logger: (l) => lines.push(l) });
    try {
      await store.flush();
      assert.equal(store.stats().spooled_rows, 0);
      assert.deepEqual(readdirSync(spoolDir).filter((n) => n.endsWith('.spool.json')), []);
      assert.ok(lines.some((l) => /rows from an earlier run/.test(l)));
      const counts = await distinctCounts(store, config.database, ['fills', 'trade_exit_legs', 'orders', 'account']);
      assert.deepEqual(counts, { fills: { raw: 9, ids: 9 }, trade_exit_legs: { raw: 6, ids: 6 }, orders: { raw: 3, ids: 3 }, account: { raw: 3, ids: 3 } });
      // The rows keep the run that wrote them.
      assert.deepEqual(await store.query(`SELECT DISTINCT run_id FROM \`${config.database}\`.fills`), [{ run_id: 'child' }]);
      assert.equal((await store.audit({ funding_paid_usdt: 0 })).ok, true);
    } finally {
      await store.close();
      await dropDatabases(config);
    }
  });
}

test('chdb: the embedded store held by a running engine is refused with its pid, and freed when it dies', async () => {
  const h = home('lock');
  const config = configFor(h, { name: 'chdb', env: {} });
  const { child, line } = await startChild(['hold', h, config.database]);
  const pid = Number(/^READY (\d+)$/.exec(line)?.[1]);
  assert.equal(pid, child.pid);
  assert.match(readFileSync(join(h, 'clickhouse', 'status'), 'utf8'), new RegExp(`PID: ${pid}`));
  await assert.rejects(
    openStore({ config, runId: 'second' }),
    (e: unknown) =>
      e instanceof ExitError && e.code === 3 && e.message.includes(`is held by the running engine (pid ${pid}); ask it through \`pink`) && !e.message.includes('\n'),
  );
  await kill9(child);
  const store = await openStore({ config, runId: 'second' });
  try {
    assert.deepEqual((await distinctCounts(store, config.database, ['fills']))['fills'], { raw: 6, ids: 6 });
  } finally {
    await store.close();
  }
});

test('server: an unreachable server is exit 3 with a fix, and no password appears in any message', async () => {
  const port = await closedPort();
  const secrets = ['url-secret-p4ss', 'env-secret-p4ss'];
  const h = home('secret');
  const config = loadConfig({
    PINK_HOME: h,
    PINK_CLICKHOUSE_URL: `http://pink:${secrets[0]}@127.0.0.1:${port}`,
    PINK_CLICKHOUSE_USER: 'pink',
    PINK_CLICKHOUSE_PASSWORD: secrets[1],
  });
  const err = await openStore({ config, runId: 'r' }).then(
    () => assert.fail('opened an unreachable server'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ExitError);
  assert.equal(err.code, 3);
  assert.match(err.message, /^ClickHouse at http:\/\/pink:\*\*\*@127\.0\.0\.1:\d+ is unreachable: .*ECONNREFUSED/);
  assert.match(err.hint ?? '', /PINK_CLICKHOUSE_URL/);
  const lines: string[] = [];
  const store = await openStore({ config, runId: 'r', spoolDir: join(h, 'spool'), allowUnreachable: true, logger: (l) => lines.push(l) });
  store.write(tradeBatches(1)[0]!);
  await store.flush();
  const stats = store.stats();
  await store.close();
  assert.ok(stats.spooled_rows > 0);
  const everything = [err.message, err.hint ?? '', String(stats.last_error), ...lines, ...readdirSync(join(h, 'spool')).map((n) => readFileSync(join(h, 'spool', n), 'utf8'))].join('\n');
  for (const s of secrets) assert.ok(!everything.includes(s), `secret ${s} leaked`);
  assert.match(everything, /ECONNREFUSED/);
});
