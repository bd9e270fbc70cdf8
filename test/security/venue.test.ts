// Issue 17, case 2: PINK_SIM_URL cannot send the real key anywhere. The simulator URL must be
// loopback, checked before any lookup or connect (exit 2, and the network probe sees nothing);
// venue sim signs with the simulator's credentials only; run.json's venue and flags pass the same
// gate when `pink restart` reuses them. And no secret in anything PINK printed, logged or wrote.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/engine/store/index.js';
import { tempDir } from '../support/cli.js';
import { makeWorld, stopPid, waitFor, type World } from '../support/e2e.js';
import { netProbe } from './support.js';

const REAL_KEY = 'REALkeyVst0123456789abcdef';
const REAL_SECRET = 'REALsecretVst/9876+543210=';
const REAL = { DOLPHIN_PINK_BINGX_API_KEY: REAL_KEY, DOLPHIN_PINK_BINGX_API_SECRET: REAL_SECRET };

let w: World;
before(async () => {
  w = await makeWorld({ symbols: ['BTC-USDT'] });
});
after(async () => {
  await w.close();
});

function noSecret(text: string, where: string): void {
  for (const s of [REAL_KEY, REAL_SECRET, encodeURIComponent(REAL_SECRET)]) assert.ok(!text.includes(s), `${where} carries a secret`);
}

/** Every file under `dir` but the embedded ClickHouse's (its rows are searched through SQL). */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'clickhouse') out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

test('PINK_SIM_URL off loopback: exit 2 naming it, before any name lookup or connect, whatever the command', async () => {
  const dir = tempDir('pink-simurl-');
  try {
    const probe = netProbe(dir.path);
    const urls = ['http://sim.pink.invalid:8080', 'http://127.0.0.1.pink.invalid:1', 'https://localhost.pink.invalid/openApi?token=T0KEN'];
    const commands = [['run', '--steps', '1'], ['mode-verify'], ['flatten', 'BTC-USDT', '--yes'], ['restart', '--no-start']];
    for (const url of urls) {
      for (const args of commands) {
        const r = await w.pink(args, { ...REAL, PINK_SIM_URL: url, ...probe.env });
        assert.equal(r.code, 2, `${args.join(' ')} with ${url}: exit ${r.code}: ${r.stderr}`);
        assert.match(r.stderr, /PINK_SIM_URL.*refused: the simulator must be on this machine/);
        assert.doesNotMatch(r.stderr, /T0KEN/, 'the URL is shown without its path and query');
        noSecret(r.stdout + r.stderr, `${args.join(' ')} output`);
      }
    }
    assert.deepEqual(probe.attempts(), [], 'no lookup and no connect');
    const withPassword = await w.pink(['run', '--steps', '1'], { PINK_SIM_URL: 'http://pink:pw-S3CRET@127.0.0.1:1', ...probe.env });
    assert.equal(withPassword.code, 2, withPassword.stderr);
    assert.doesNotMatch(withPassword.stdout + withPassword.stderr, /pw-S3CRET/);
    assert.deepEqual(probe.attempts(), []);
  } finally {
    dir.remove();
  }
});

test('venue sim never signs with DOLPHIN_PINK_BINGX_*: every request carries the simulator key, and the real one is nowhere', async () => {
  // A loopback proxy in front of the simulator that records the key header of every request.
  const keys: string[] = [];
  const target = new URL(w.sim.url);
  const proxy: Server = createServer((req, res) => {
    keys.push(String(req.headers['x-bx-apikey'] ?? ''));
    const up = request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const env = { ...REAL, PINK_SIM_URL: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` };
  try {
    const r = await w.pink(['run', '--steps', '3'], env);
    assert.equal(r.code, 0, r.stderr);
    const signed = keys.filter((k) => k !== '');
    assert.ok(signed.length > 0, 'the engine made signed requests');
    assert.deepEqual([...new Set(signed)], ['pink-sim-key'], 'signed with the simulator key only');
    noSecret(r.stdout + r.stderr, 'pink run output');
    const mv = await w.pink(['mode-verify', '--json'], env);
    noSecret(mv.stdout + mv.stderr, 'mode-verify output');
  } finally {
    proxy.close();
  }
  // Nothing PINK wrote carries the real key or secret: its home (journal, checkpoints, run.json,
  // spool, engine output), its logs, and every row of its store.
  for (const file of [...filesUnder(w.home), ...filesUnder(w.logDir)]) noSecret(readFileSync(file, 'latin1'), file);
  const store = await openStore({ config: loadConfig(w.env), runId: 'leak-check' });
  try {
    const tables = await store.query<{ name: string }>("SELECT name FROM system.tables WHERE database = 'dolphin_pink'");
    for (const t of tables) noSecret(JSON.stringify(await store.query(`SELECT * FROM dolphin_pink.${t.name}`)), `dolphin_pink.${t.name}`);
  } finally {
    await store.close();
  }
});

test("restart validates run.json like the environment before it stops anything: a bingx-live or damaged run.json is exit 2, the engine stays up", async () => {
  const dir = tempDir('pink-runjson-');
  const start = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
  assert.equal(start.code, 0, start.stderr);
  const runJson = join(w.home, 'run.json');
  const original = readFileSync(runJson, 'utf8');
  const recorded = JSON.parse(original) as Record<string, unknown>;
  try {
    const probe = netProbe(dir.path);
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['a live venue without its authorization', { ...recorded, venue: 'bingx-live', live: true }, /DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-live/],
      ['a malformed symbol', { ...recorded, symbols: ['BTC_USD;x'] }, /run\.json/],
      ['a live flag that is not a boolean', { ...recorded, live: 'yes' }, /run\.json/],
      ['a signals file that is not there', { ...recorded, signals: join(dir.path, 'gone.ndjson') }, /gone\.ndjson/],
    ];
    for (const [what, doc, pattern] of cases) {
      writeFileSync(runJson, JSON.stringify(doc));
      const r = await w.pink(['restart'], { ...REAL, ...probe.env });
      assert.equal(r.code, 2, `${what}: exit ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, pattern, what);
      noSecret(r.stdout + r.stderr, what);
      const s = await w.json<{ engine: { up: boolean; pid: number } }>(['ditav2-status']);
      assert.equal(s.doc.engine.up, true, `${what}: the engine was not stopped`);
      assert.equal(s.doc.engine.pid, start.doc.pid, `${what}: the same engine`);
    }
    assert.deepEqual(probe.attempts(), [], 'restart contacted nothing');
  } finally {
    writeFileSync(runJson, original);
    await stopPid(join(w.home, 'pink.pid'));
    await waitFor('engine gone', async () => {
      try {
        statSync(join(w.home, 'pink.pid'));
        return false;
      } catch {
        return true;
      }
    });
    dir.remove();
  }
});
