// The ledger makes merged units safe to replay: steps replayed after a crash land exactly once
// whether their unit landed (dropped), was in flight at the crash and landed (checked, dropped),
// or was recorded but never sent (checked, sent). And spool files from before RowBinary (version 1,
// TabSeparated text) still drain into the embedded store.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRow } from '../../src/engine/store/encode.js';
import { FAMILIES, openStore } from '../../src/engine/store/index.js';
import { Ledger, LEDGER_FILE } from '../../src/engine/store/ledger.js';
import { Spool, SPOOL_FORMAT_VERSION, spooledOnDisk, spoolFileName } from '../../src/engine/store/spool.js';
import { backendCases, configFor, distinctCounts, dropDatabases, tmpHome, tradeBatches, ROWS_PER_TRADE } from './fixtures.js';

const HOME = tmpHome('ledger');
after(() => rmSync(HOME, { recursive: true, force: true }));

test('the ledger tells new, alone, covered and unknown tokens apart, across a reopen, bounded', async () => {
  const dir = join(HOME, 'unit');
  mkdirSync(dir, { recursive: true });
  const a = new Ledger(dir);
  a.open(() => false);
  assert.equal(a.cover('s1'), 'new');
  await a.record('s1', ['s1']);
  await a.record('s2..s3#2', ['s2', 's3']);
  await a.record('s4..s5#2', ['s4', 's5']);
  a.recordSync('s6..s7#2', ['s6', 's7']);
  a.landed('s2..s3#2');
  // In this process nothing is unknown: an unlanded merged unit is in flight or spooled.
  assert.deepEqual(['s1', 's2', 's4', 's6', 's8'].map((t) => a.cover(t)), ['alone', 'covered', 'covered', 'covered', 'new']);
  a.close();
  writeFileSync(join(dir, LEDGER_FILE), `${readFileSync(join(dir, LEDGER_FILE), 'utf8')}{"u":"torn`); // a crash mid-append
  const b = new Ledger(dir);
  b.open((token) => token === 's6..s7#2'); // s6..s7 waits in the spool; s4..s5 was in flight at the crash
  assert.deepEqual(['s1', 's3', 's5', 's7', 's8'].map((t) => b.cover(t)), ['alone', 'covered', 'unknown', 'covered', 'new']);
  b.close();
  // Bounded: the newest units holding at most `max` batch tokens are kept.
  const c = new Ledger(dir, 3);
  c.open(() => false);
  assert.deepEqual(['s1', 's3', 's5', 's7'].map((t) => c.cover(t)), ['new', 'new', 'new', 'unknown']);
  c.close();
  assert.equal(readFileSync(join(dir, LEDGER_FILE), 'utf8').trim().split('\n').length, 1);
  // And within a run: past 1.5 times the bound, the oldest are dropped.
  const d = new Ledger(dir, 2);
  d.open(() => false);
  for (const t of ['t1', 't2', 't3', 't4', 't5']) await d.record(t, [t]);
  assert.deepEqual(['s6', 't1', 't5'].map((t) => d.cover(t)), ['new', 'new', 'alone']);
  d.close();
  assert.ok(readFileSync(join(dir, LEDGER_FILE), 'utf8').trim().split('\n').length <= 5);
});

test('the ledger is PINK\'s own: created 0600 whatever the umask allows, kept 0600 by its compaction, and never written through a symlink', async () => {
  const dir = join(HOME, 'modes');
  mkdirSync(dir, { recursive: true });
  const umask = process.umask(0o022); // what a shell usually leaves: files 0644 unless asked
  try {
    const a = new Ledger(dir, 2);
    a.open(() => false);
    a.recordSync('m1..m2#2', ['m1', 'm2']);
    assert.equal(statSync(join(dir, LEDGER_FILE)).mode & 0o777, 0o600, 'created by an append');
    for (const t of ['m3', 'm4', 'm5', 'm6']) await a.record(t, [t]); // past the bound: rewritten
    a.close();
    assert.equal(readFileSync(join(dir, LEDGER_FILE), 'utf8').includes('m1..m2#2'), false, 'compacted');
    assert.equal(statSync(join(dir, LEDGER_FILE)).mode & 0o777, 0o600, 'rewritten by its compaction');
    const linked = join(HOME, 'modes-linked');
    mkdirSync(linked, { recursive: true });
    writeFileSync(join(HOME, 'victim'), '');
    symlinkSync(join(HOME, 'victim'), join(linked, LEDGER_FILE));
    const b = new Ledger(linked);
    b.open(() => false);
    assert.throws(() => b.recordSync('v1..v2#2', ['v1', 'v2']), /ELOOP/);
    b.close();
    assert.equal(readFileSync(join(HOME, 'victim'), 'utf8'), '', 'nothing written through the link');
  } finally {
    process.umask(umask);
  }
});

for (const backend of backendCases()) {
  const name = backend.name;

  /** Writes `n` steps in one turn (one merged unit), flushes, closes; returns the batches and the spool folder. */
  async function mergedRun(tag: string, n: number): Promise<{ config: ReturnType<typeof configFor>; spoolDir: string; batches: ReturnType<typeof tradeBatches> }> {
    const config = configFor(HOME, backend);
    const spoolDir = join(HOME, `spool-${tag}-${config.database}`);
    const batches = tradeBatches(n);
    const first = await openStore({ config, runId: 'before-crash', spoolDir });
    for (const b of batches) first.write(b);
    await first.flush();
    await first.close();
    const ledger = readFileSync(join(spoolDir, LEDGER_FILE), 'utf8');
    assert.match(ledger, new RegExp(`"b":\\["${batches[0]!.token}".*"${batches[n - 1]!.token}"\\]`), 'the steps went out as one merged unit');
    return { config, spoolDir, batches };
  }

  async function replay(config: ReturnType<typeof configFor>, spoolDir: string, batches: ReturnType<typeof tradeBatches>, lines: string[] = []) {
    const second = await openStore({ config, runId: 'after-crash', spoolDir, logger: (l) => lines.push(l) });
    try {
      for (const b of batches) {
        second.write(b);
        await second.flush();
      }
      // And once more in the same process: still no second copy.
      for (const b of batches) second.write(b);
      await second.flush();
      assert.equal(second.stats().last_error, null);
      return await distinctCounts(second, config.database, FAMILIES);
    } finally {
      await second.close();
      await dropDatabases(config);
    }
  }

  test(`${name}: steps of a merged unit that landed, replayed one by one, are no-ops`, async () => {
    const { config, spoolDir, batches } = await mergedRun('landed', 5);
    const counts = await replay(config, spoolDir, batches);
    for (const [f, c] of Object.entries(counts)) assert.equal(c.raw, c.ids, f);
    assert.equal(counts['fills']!.ids, 3 * batches.length);
  });

  test(`${name}: steps of a merged unit in flight at the crash (it had landed) are checked and not sent again`, async () => {
    const { config, spoolDir, batches } = await mergedRun('inflight', 4);
    const path = join(spoolDir, LEDGER_FILE);
    // The crash came before the "landed" line: the unit's fate is unknown to the next process.
    writeFileSync(path, readFileSync(path, 'utf8').split('\n').filter((l) => !l.startsWith('{"ok"')).join('\n'));
    const counts = await replay(config, spoolDir, batches);
    for (const [f, c] of Object.entries(counts)) assert.equal(c.raw, c.ids, f);
    assert.equal(counts['trade_exit_legs']!.ids, 2 * batches.length);
  });

  test(`${name}: steps of a merged unit recorded but never sent are checked, then sent: nothing lost`, async () => {
    const config = configFor(HOME, backend);
    const spoolDir = join(HOME, `spool-lost-${config.database}`);
    const batches = tradeBatches(3);
    mkdirSync(spoolDir, { recursive: true });
    const tokens = batches.map((b) => b.token);
    writeFileSync(join(spoolDir, LEDGER_FILE), `${JSON.stringify({ u: `${tokens[0]}..${tokens[2]}#3`, b: tokens })}\n`);
    const counts = await replay(config, spoolDir, batches);
    for (const [f, c] of Object.entries(counts)) assert.equal(c.raw, c.ids, f);
    assert.equal(counts['fills']!.ids, 3 * batches.length);
    assert.equal(counts['account']!.ids, batches.length);
  });

  test(`${name}: a spool file from before RowBinary (version 1, TabSeparated text) drains into the store`, async () => {
    const config = configFor(HOME, backend);
    const spoolDir = join(HOME, `spool-v1-${config.database}`);
    mkdirSync(spoolDir, { recursive: true });
    const [b] = tradeBatches(1);
    const families: Record<string, { columns: string[]; rows: number; text: string }> = {};
    for (const r of b!.rows) {
      const f = (families[r.family] ??= { columns: [], rows: 0, text: '' });
      f.rows++;
      f.text += encodeRow(r, { namespace: config.namespace, run_id: 'v1' });
    }
    const { FAMILY_COLUMNS } = await import('../../src/engine/store/schema.js');
    for (const [f, v] of Object.entries(families)) v.columns = FAMILY_COLUMNS[f as keyof typeof FAMILY_COLUMNS].map((c) => c.name);
    const unit = { v: 1, seq_first: 1, seq_last: 1, token: b!.token, rows: ROWS_PER_TRADE, batches: 1, families };
    writeFileSync(join(spoolDir, spoolFileName(1, 1)), JSON.stringify(unit));
    const store = await openStore({ config, runId: 'after-upgrade', spoolDir });
    try {
      await store.flush();
      assert.equal(store.stats().spooled_rows, 0);
      const counts = await distinctCounts(store, config.database, FAMILIES);
      assert.deepEqual(counts['fills'], { raw: 3, ids: 3 });
      assert.equal((await store.audit()).ok, true);
    } finally {
      await store.close();
      await dropDatabases(config);
    }
  });
}

test('property: spooledOnDisk reads the rows of any spool, whatever its tokens, from the files alone', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ token: fc.string({ minLength: 1, maxLength: 1200 }), rows: fc.integer({ min: 1, max: 50_000 }) }), { maxLength: 6 }),
      (units) => {
        const dir = join(tmpHome('spooled'), 'spool');
        try {
          const spool = new Spool(dir);
          spool.open();
          units.forEach((u, i) => {
            const bytes = Buffer.from(`${i}\n`);
            spool.put({ v: SPOOL_FORMAT_VERSION, seq_first: 2 * i + 1, seq_last: 2 * i + 2, token: `${u.token}#${i}`, rows: u.rows, batches: 2, families: { fills: { columns: ['row_id'], rows: u.rows, format: 'TabSeparated', bytes } } });
          });
          // A temporary left by a write cut short is not a unit.
          writeFileSync(join(dir, `${spoolFileName(99, 99)}.123.tmp`), '{"v":2,"rows":7');
          const expected = { files: units.length, rows: units.reduce((n, u) => n + u.rows, 0) };
          assert.deepEqual(spooledOnDisk(dir), expected);
          assert.equal(spool.rows, expected.rows);
        } finally {
          rmSync(join(dir, '..'), { recursive: true, force: true });
        }
      },
    ),
    { numRuns: 60 },
  );
});
