// Issue 17, cases 1 and 5: what the control socket offers cannot write, cannot read outside PINK's
// database, cannot touch files or the network; and one request per connection. Through the real
// binary's engine, its real socket and its embedded store (one engine for the whole file).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { askEngine, CONNECTIONS_MAX, serveControl, type ControlAnswer, type ControlRequest } from '../../src/engine/runner/socket.js';
import { openStore } from '../../src/engine/store/index.js';
import { tempDir } from '../support/cli.js';
import { makeWorld, stopPid, waitFor, type World } from '../support/e2e.js';
import { answerOf, holdConnection, rawAsk } from './support.js';

let w: World;
let pid: number;
let socket: string;

before(async () => {
  w = await makeWorld({ symbols: ['BTC-USDT'] });
  const r = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
  assert.equal(r.code, 0, r.stderr);
  pid = r.doc.pid;
  socket = join(w.home, 'pink.sock');
});

after(async () => {
  await stopPid(join(w.home, 'pink.pid'));
  await w.close();
});

/** The engine answers status over its socket, and it is the one this file started. */
async function engineStillUp(): Promise<void> {
  const a = await askEngine(socket, { op: 'status' }, 5000);
  assert.ok(a?.ok, `the engine answers status: ${JSON.stringify(a)}`);
  assert.equal((a.data as { engine: { pid: number } }).engine.pid, pid, 'the same engine');
}

test('socket: one request per connection: stray bytes, a second request, an unended request and unknown fields are refused, none runs', async () => {
  // Each of these once ran (`stop` among them): the engine must still be up after every one.
  const refused: Array<[string, string | string[], { keepOpen?: boolean }]> = [
    ['a request followed by two stray bytes', ['{"op":"stop"}\n', 'x', 'x'], {}],
    ['two requests on one connection', ['{"op":"status"}\n', '{"op":"stop"}\n'], {}],
    ['a request whose connection is not ended', '{"op":"stop"}\n', { keepOpen: true }],
    ['an unknown field', '{"op":"stop","and":"more"}\n', {}],
    ['an unknown op', '{"op":"shutdown"}\n', {}],
    ['not JSON', 'stop\n', {}],
  ];
  for (const [what, bytes, opts] of refused) {
    const a = answerOf(await rawAsk(socket, bytes, opts));
    assert.equal(a?.ok, false, `${what}: refused (${JSON.stringify(a)})`);
    await engineStillUp();
  }
  const ok = answerOf(await rawAsk(socket, '{"op":"status"}\n'));
  assert.equal(ok?.ok, true, 'one whole request, then the end of the connection: answered');
});

test(`socket: at most ${CONNECTIONS_MAX} connections at once: one more is closed unanswered, and served again once they end`, async () => {
  const held: Array<{ release(): Promise<string> }> = [];
  for (let i = 0; i < CONNECTIONS_MAX; i += 1) held.push(await holdConnection(socket));
  try {
    // Accepted in the order they connected (the listen backlog is FIFO): these held ones fill the cap first.
    const extra = await rawAsk(socket, '{"op":"status"}\n');
    assert.equal(extra, '', `connection ${CONNECTIONS_MAX + 1} is closed with no answer (got ${extra.slice(0, 120)})`);
  } finally {
    const answers = await Promise.all(held.map((h) => h.release()));
    for (const a of answers) assert.equal(answerOf(a)?.ok, true, `a held connection was served once it sent its request: ${a.slice(0, 120)}`);
  }
  // The engine notes each close as it happens; the next connection after them is served.
  await waitFor('status answered after the held connections closed', async () => (await askEngine(socket, { op: 'status' }, 5000))?.ok === true, 10_000);
  await engineStillUp();
});

test('socket (in process): a handler runs at most once per connection, and never for a malformed one', async () => {
  const dir = tempDir('pink-sock-');
  const path = join(dir.path, 's.sock');
  const calls: ControlRequest[] = [];
  const server = await serveControl(path, async (req) => {
    calls.push(req);
    return { ok: true, data: calls.length } satisfies ControlAnswer;
  });
  try {
    await rawAsk(path, ['{"op":"status"}\n', 'x', 'x']);
    await rawAsk(path, ['{"op":"status"}\n', '{"op":"status"}\n']);
    await rawAsk(path, `{"op":"status","pad":"${'x'.repeat(70 * 1024)}"}\n`);
    assert.equal(calls.length, 0, `malformed requests ran ${calls.length} time(s)`);
    assert.deepEqual(await askEngine(path, { op: 'status' }), { ok: true, data: 1 });
    assert.equal(calls.length, 1);
  } finally {
    server.close();
    dir.remove();
  }
});

test('socket: no SQL of the caller runs: no write into BLUE or PINK, no file written or read, no outbound request', async () => {
  const dir = tempDir('pink-sock-attack-');
  let hits = 0;
  const listener: Server = createServer((_req, res) => {
    hits += 1;
    res.end('fetched\n');
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', () => r()));
  const port = (listener.address() as { port: number }).port;
  const outfile = join(dir.path, 'outfile.txt');
  const fnfile = join(dir.path, 'function.csv');
  try {
    const attacks = [
      'SELECT 1; CREATE DATABASE dolphin',
      'SELECT 1; CREATE TABLE dolphin.trades (namespace String, row_id String) ENGINE = MergeTree ORDER BY row_id',
      "SELECT 1; INSERT INTO dolphin.trades VALUES ('pink', 'planted')",
      'select 1 /* */ ; DROP DATABASE dolphin_pink',
      `SELECT 42 INTO OUTFILE '${outfile}'`,
      `SELECT 1; INSERT INTO FUNCTION file('${fnfile}', 'CSV', 'x UInt8') VALUES (1)`,
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      `SELECT * FROM url('http://127.0.0.1:${port}/pink', 'LineAsString')`,
    ];
    const answers: string[] = [];
    for (const sql of attacks) {
      const text = await rawAsk(socket, `${JSON.stringify({ op: 'query', sql })}\n`, { endDelay_ms: 300 });
      answers.push(text);
      assert.equal(answerOf(text)?.ok, false, `refused: ${sql} → ${text.slice(0, 200)}`);
    }
    // The named queries take no SQL either, in their name or their parameters.
    for (const req of [
      { op: 'query', name: 'isolation', params: { sql: 'DROP DATABASE dolphin_pink' } },
      { op: 'query', name: 'isolation; DROP DATABASE dolphin_pink' },
      { op: 'query', name: 'isolation', sql: 'DROP DATABASE dolphin_pink' },
    ]) {
      const text = await rawAsk(socket, `${JSON.stringify(req)}\n`, { endDelay_ms: 300 });
      answers.push(text);
      assert.equal(answerOf(text)?.ok, false, `refused: ${JSON.stringify(req)}`);
    }
    assert.equal(hits, 0, 'no request reached the listener');
    assert.equal(existsSync(outfile), false, 'INTO OUTFILE wrote nothing');
    assert.equal(existsSync(fnfile), false, 'INSERT INTO FUNCTION file() wrote nothing');
    assert.ok(!answers.some((a) => a.includes('root:')), 'no line of /etc/passwd came back');

    // What PINK's own commands ask still works, through the engine: mode-verify's store checks.
    const mv = await w.json<{ checks: { id: string; status: string; detail: string }[] }>(['mode-verify']);
    for (const id of ['schema', 'blue-rows']) {
      const c = mv.doc.checks.find((x) => x.id === id);
      assert.equal(c?.status, 'PASS', `${id}: ${JSON.stringify(c)}`);
    }
    assert.match(mv.doc.checks.find((x) => x.id === 'blue-rows')!.detail, /through the running engine/);
  } finally {
    listener.close();
    dir.remove();
  }
  await stopPid(join(w.home, 'pink.pid'));
  const store = await openStore({ config: loadConfig(w.env), runId: 'security-check' });
  try {
    const dbs = (await store.query<{ name: string }>('SELECT name FROM system.databases')).map((d) => d.name);
    assert.ok(!dbs.includes('dolphin'), `no BLUE database was created: ${dbs.join(', ')}`);
    const tables = await store.query<{ n: number }>("SELECT count() AS n FROM system.tables WHERE database = 'dolphin_pink'");
    assert.ok(tables[0]!.n >= 8, "PINK's database and its tables are still there");
  } finally {
    await store.close();
  }
});
