// The pure and in-process parts of issue 17's fixes, case by case, where the end-to-end tests
// cannot reach every branch: the simulator URL rule, the control request parser, the named-query
// registry, and the signals tail's file changes (rotation drained, rewrite, truncation, removal).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkSimUrl, loadConfig } from '../../src/config.js';
import { ExitError } from '../../src/errors.js';
import { NAMED_QUERIES, runNamedQuery } from '../../src/engine/runner/queries.js';
import { parseControlRequest } from '../../src/engine/runner/socket.js';
import { SIGNALS_TAKEN_IDS_MAX, SignalsTail, type SignalsCursor } from '../../src/engine/runner/strategies.js';
import { tempDir } from '../support/cli.js';

test('simulator URL: loopback in any notation is accepted; any other host, a user or a password, is exit 2', () => {
  for (const ok of ['http://127.0.0.1:9', 'http://127.255.0.7/', 'http://localhost:8080', 'http://LOCALHOST:1', 'http://[::1]:9', 'http://[0:0:0:0:0:0:0:1]:9', 'http://0x7f.1:9', 'http://2130706433:9', 'https://127.0.0.1']) {
    assert.equal(checkSimUrl(ok, 'PINK_SIM_URL'), ok, ok);
  }
  for (const bad of ['http://sim.pink.invalid', 'http://open-api.bingx.com', 'http://128.0.0.1', 'http://10.0.0.1', 'http://[::ffff:127.0.0.1]:9', 'http://localhost.:9', 'http://127.0.0.1.nip.io', 'ftp://127.0.0.1', 'http://u:p@127.0.0.1:9', 'not a url']) {
    assert.throws(() => checkSimUrl(bad, 'PINK_SIM_URL'), (e: unknown) => e instanceof ExitError && e.code === 2 && /PINK_SIM_URL/.test(e.message), bad);
  }
  assert.throws(() => loadConfig({ PINK_SIM_URL: 'http://sim.pink.invalid' }), /PINK_SIM_URL/);
});

test('control requests: each op with exactly its fields, typed; anything else refused', () => {
  assert.deepEqual(parseControlRequest('{"op":"status"}\n'), { op: 'status' });
  assert.deepEqual(parseControlRequest('{"op":"query","name":"isolation"}'), { op: 'query', name: 'isolation' });
  assert.deepEqual(parseControlRequest('{"op":"flatten","symbol":"BTC-USDT","timeout_ms":1000,"dry_run":true}'), { op: 'flatten', symbol: 'BTC-USDT', timeout_ms: 1000, dry_run: true });
  for (const bad of [
    '{"op":"status"}\nxx',
    '{"op":"status"}{"op":"stop"}',
    '[]',
    '{"op":"query","sql":"SELECT 1"}',
    '{"op":"query","name":"isolation","sql":"SELECT 1"}',
    '{"op":"query","name":""}',
    '{"op":"query","name":"isolation","params":[1]}',
    '{"op":"flatten","symbol":"BTC-USDT","timeout_ms":1e12,"dry_run":false}',
    '{"op":"flatten","symbol":"BTC-USDT","timeout_ms":1000}',
    '{"op":"__proto__"}',
    '{"op":"toString"}',
  ]) {
    assert.equal(typeof parseControlRequest(bad), 'string', bad);
  }
});

test('named queries: an unknown name or any parameter is refused before the store is asked', async () => {
  let asked = 0;
  const ctx = { q: { query: async () => { asked += 1; return []; } }, config: loadConfig({ PINK_HOME: '/tmp/pink-q' }) };
  assert.equal((await runNamedQuery('SELECT 1', undefined, ctx)).ok, false);
  assert.equal((await runNamedQuery('toString', undefined, ctx)).ok, false);
  assert.equal((await runNamedQuery('isolation', { sql: 'DROP DATABASE dolphin_pink' }, ctx)).ok, false);
  assert.equal(asked, 0);
  assert.ok(Object.keys(NAMED_QUERIES).includes('isolation'));
  assert.equal((await runNamedQuery('store_metrics', {}, ctx)).ok, true);
  assert.ok(asked > 0);
});

const line = (id: string): string => `${JSON.stringify({ intent_id: id, symbol: 'BTC-USDT', action: 'CANCEL', reason: 'x' })}\n`;
const ids = (t: SignalsTail): { intents: string[]; notices: string[] } => {
  const r = t.read();
  const intents = r.intents.map((i) => i.intent.intent_id);
  t.take(intents);
  return { intents, notices: r.notices.map((n) => n.code) };
};

test('signals tail: a rotated file is read to its end before the new one, from its start', () => {
  const dir = tempDir('pink-tail-');
  try {
    const path = join(dir.path, 'intents.ndjson');
    writeFileSync(path, line('a'));
    const t = new SignalsTail(path, 0, {});
    assert.deepEqual(ids(t), { intents: ['a'], notices: [] });
    // logrotate: the writer appends its last line, the file is renamed, a new one started.
    appendFileSync(path, line('b'));
    renameSync(path, `${path}.1`);
    writeFileSync(path, line('c'));
    assert.deepEqual(ids(t), { intents: ['b'], notices: ['SIGNALS_FILE_CHANGED'] }, 'the old file to its end first');
    assert.deepEqual(ids(t), { intents: ['c'], notices: [] }, 'then the new one from its start');
    // Removed: one notice, then nothing; back: read from its start.
    rmSync(path);
    assert.deepEqual(ids(t), { intents: [], notices: ['SIGNALS_FILE_CHANGED'] });
    assert.deepEqual(ids(t), { intents: [], notices: [] });
    writeFileSync(path, line('d'));
    assert.deepEqual(ids(t).intents, ['d']);
    t.close();
  } finally {
    dir.remove();
  }
});

test('signals tail: rewritten in place or truncated: read again from its start, taken ids dropped there, new ones fed', () => {
  const dir = tempDir('pink-tail-');
  try {
    const path = join(dir.path, 'intents.ndjson');
    writeFileSync(path, line('a') + line('b'));
    const cursor: SignalsCursor = {};
    const t = new SignalsTail(path, 0, cursor);
    assert.deepEqual(ids(t).intents, ['a', 'b']);
    // Same inode, same length: the bytes before the offset differ.
    writeFileSync(path, line('b') + line('e'));
    assert.deepEqual(ids(t), { intents: ['e'], notices: ['SIGNALS_FILE_CHANGED', 'SIGNALS_LINES_SKIPPED'] });
    // An id taken long before, written again after the recheck: fed (the kernel judges it).
    appendFileSync(path, line('a'));
    assert.deepEqual(ids(t).intents, ['a']);
    // Truncated below the offset.
    writeFileSync(path, line('f'));
    assert.deepEqual(ids(t), { intents: ['f'], notices: ['SIGNALS_FILE_CHANGED'] });
    t.close();
    // The cursor (the checkpoint's) carries the file, the tail and the taken ids: a restart on
    // another file at the path reads it from its start, and drops what was taken.
    assert.ok(cursor.file && cursor.tail && cursor.taken?.includes('f'));
    renameSync(path, `${path}.old`);
    writeFileSync(path, line('f') + line('g'));
    const again = new SignalsTail(path, t.offset, cursor);
    assert.deepEqual(ids(again), { intents: ['g'], notices: ['SIGNALS_FILE_CHANGED', 'SIGNALS_LINES_SKIPPED'] });
    again.close();
  } finally {
    dir.remove();
  }
});

test('signals tail: a replaced file that ended mid-line is a notice; the taken list is bounded', () => {
  const dir = tempDir('pink-tail-');
  try {
    const path = join(dir.path, 'intents.ndjson');
    writeFileSync(path, line('a'));
    const t = new SignalsTail(path, 0, {});
    ids(t);
    appendFileSync(path, '{"intent_id":"half');
    renameSync(path, `${path}.1`);
    writeFileSync(path, '');
    assert.deepEqual(ids(t).notices, ['SIGNALS_LINES_SKIPPED', 'SIGNALS_FILE_CHANGED']);
    t.close();
    const cursor: SignalsCursor = {};
    const bounded = new SignalsTail(path, 0, cursor);
    bounded.take(Array.from({ length: SIGNALS_TAKEN_IDS_MAX + 10 }, (_, i) => `id-${i}`));
    assert.equal(cursor.taken?.length, SIGNALS_TAKEN_IDS_MAX);
    assert.equal(cursor.taken?.[0], 'id-10', 'the oldest are forgotten first');
  } finally {
    dir.remove();
  }
});
