// Issue 17, case 6: the signals file. A file replaced by another of the same length or longer, or
// rewritten in place, is noticed (device and inode; the bytes before the offset) and read from its
// start; intent ids already taken are dropped; every skip is an anomaly row. A --signals path that
// does not exist at start is exit 2. Through the real binary, a simulator and the embedded store.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/engine/store/index.js';
import { tempDir } from '../support/cli.js';
import { makeWorld, stopPid, waitFor, type World } from '../support/e2e.js';

let w: World;
before(async () => {
  w = await makeWorld({ symbols: ['BTC-USDT'] });
});
after(async () => {
  await w.close();
});

type Slot = { symbol: string; state: string; qty: number; legs: number };

async function btc(): Promise<Slot | undefined> {
  const s = await w.json<{ slots: Slot[] }>(['ditav2-status']);
  return s.doc.slots?.find((x) => x.symbol === 'BTC-USDT');
}

const intent = (id: string, fields: Record<string, unknown>, pad = 0): string =>
  JSON.stringify({ intent_id: id, symbol: 'BTC-USDT', ...fields, reason: `security-test${'-'.repeat(pad)}` });

test('--signals FILE that does not exist: exit 2 naming it, nothing started', async () => {
  const missing = join(w.home, '..', 'no-such-intents.ndjson');
  for (const args of [['run', '--steps', '1'], ['run', '--detach']]) {
    const r = await w.pink([...args, '--strategy', 'signals', '--signals', missing]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /--signals .*no-such-intents\.ndjson does not exist/);
    assert.equal(existsSync(join(w.home, 'pink.pid')), false);
  }
});

test('a replaced or rewritten signals file is read from its start; taken intent ids are dropped; each event an anomaly', async () => {
  const file = w.signalsPath;
  writeFileSync(file, `${intent('sig-enter-1', { action: 'ENTER', side: 'long', qty: 0.01, order_type: 'market' })}\n`);
  const r = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', file]);
  assert.equal(r.code, 0, r.stderr);
  try {
    await waitFor('OPEN', async () => (await btc())?.state === 'OPEN');

    // An editor writes a new file: a new intent first (longer than everything read so far, so an
    // offset kept from the old file lands inside it), then the first intent again.
    const tmp = `${file}.tmp`;
    writeFileSync(tmp, `${intent('sig-exit-1', { action: 'EXIT', fraction: 0.5, order_type: 'market' }, 400)}\n${intent('sig-enter-1', { action: 'ENTER', side: 'long', qty: 0.01, order_type: 'market' })}\n`);
    renameSync(tmp, file);
    await waitFor('the first leg, from the new file', async () => (await btc())?.legs === 1);

    // Truncated and rewritten in place (same inode), longer than what was read: read from its start.
    writeFileSync(file, `${intent('sig-exit-2', { action: 'EXIT', qty: 1, final: true, order_type: 'market' }, 1200)}\n`);
    await waitFor('CLOSED, from the rewritten file', async () => (await btc())?.state === 'CLOSED');
    appendFileSync(file, `${intent('sig-enter-2', { action: 'ENTER', side: 'short', qty: 0.01, order_type: 'market' })}\n`);
    await waitFor('OPEN again, from an append after the rewrite', async () => (await btc())?.state === 'OPEN');
  } finally {
    await stopPid(join(w.home, 'pink.pid'));
  }
  const truth = w.sim.state();
  for (const [id, c] of Object.entries(truth.client_order_ids)) assert.ok(c.created <= 1, `client order id ${id} created ${c.created} times`);
  assert.equal(Object.keys(truth.client_order_ids).length, 4, 'four orders: two entries, two exits; the repeated intent sent nothing');
  const store = await openStore({ config: loadConfig(w.env), runId: 'signals-check' });
  try {
    const rows = await store.query<{ code: string; details: string }>("SELECT code, any(details) AS details FROM dolphin_pink.anomalies WHERE origin = 'signals' GROUP BY row_id, code");
    const changed = rows.filter((x) => x.code === 'SIGNALS_FILE_CHANGED');
    assert.ok(changed.length >= 2, `the replacement and the rewrite are anomalies: ${JSON.stringify(rows)}`);
    const skipped = rows.filter((x) => x.code === 'SIGNALS_LINES_SKIPPED');
    assert.equal(skipped.length, 1, JSON.stringify(rows));
    assert.match(skipped[0]!.details, /sig-enter-1/, 'the repeated intent is named');
    const decisions = await store.query<{ intent_id: string; n: number }>('SELECT intent_id, uniqExact(row_id) AS n FROM dolphin_pink.decisions GROUP BY intent_id ORDER BY intent_id');
    assert.deepEqual(decisions.map((d) => [d.intent_id, d.n]), [['sig-enter-1', 1], ['sig-enter-2', 1], ['sig-exit-1', 1], ['sig-exit-2', 1]], 'each intent decided once');
  } finally {
    await store.close();
  }
});
