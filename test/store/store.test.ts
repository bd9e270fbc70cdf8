// The store against a real ClickHouse: chDB in a temp folder always, and the server named by
// PINK_CLICKHOUSE_URL as well when it is set. DDL, round trips with exact types and values,
// exactly-once under failures, the queue bound, and the refusal of BLUE's database.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { homePaths } from '../../src/config.js';
import { ExitError } from '../../src/errors.js';
import type { RowFamily, RowOut } from '../../src/engine/kernel/types.js';
import { EMBEDDED_PART_SETTINGS } from '../../src/engine/store/schema.js';
import { FAMILIES, PINK_FAMILIES, FAMILY_COLUMNS, LEGACY_BLUE_SCHEMA, openStore, RowAssertionError, schemaParity, type Store, type StoreFaults } from '../../src/engine/store/index.js';
import { backendCases, configFor, distinctCounts, dropDatabases, rawClient, specialRows, tmpHome, tradeBatches, type BackendCase } from './fixtures.js';

const HOME = tmpHome('store');
after(() => rmSync(HOME, { recursive: true, force: true }));

async function withStore(backend: BackendCase, fn: (store: Store, spoolDir: string) => Promise<void>, extra: { faults?: StoreFaults; bounds?: { queue_rows_max?: number }; logger?: (l: string) => void } = {}): Promise<void> {
  const config = configFor(HOME, backend);
  const spoolDir = join(HOME, `spool-${config.database}`);
  const store = await openStore({ config, runId: 'run-1', spoolDir, ...extra });
  try {
    await fn(store, spoolDir);
  } finally {
    await store.close();
    await dropDatabases(config);
  }
}

/** What a row must read back as: the store's columns added, flags as 0/1, absent text as ''. */
function expected(out: RowOut): Record<string, unknown> {
  const r: Record<string, unknown> = { namespace: 'pink', run_id: 'run-1' };
  for (const c of FAMILY_COLUMNS[out.family]) {
    if (c.name === 'namespace' || c.name === 'run_id') continue;
    const v = out.row[c.name];
    r[c.name] = c.kind === 'flag' ? (v ? 1 : 0) : v === null && (c.kind === 'string' || c.kind === 'lc') ? '' : v;
  }
  return r;
}

function selectAll(database: string, family: RowFamily): string {
  const cols = FAMILY_COLUMNS[family].map((c) => (c.kind === 'time' ? `toUnixTimestamp64Milli(${c.name}) AS ${c.name}` : c.name));
  return `SELECT ${cols.join(', ')} FROM \`${database}\`.\`${family}\``;
}

for (const backend of backendCases()) {
  const name = backend.name;

  test(`${name}: ensureSchema is idempotent and creates nine ReplacingMergeTree tables (the eight and funding) with a dedup window`, async () => {
    await withStore(backend, async (store) => {
      await store.ensureSchema();
      await store.ensureSchema();
      const tables = await store.query<{ name: string; engine: string; engine_full: string }>(
        'SELECT name, engine, engine_full FROM system.tables WHERE database = {db:String} ORDER BY name',
        { db: store.database },
      );
      assert.deepEqual(tables.map((t) => t.name), [...PINK_FAMILIES].sort());
      for (const t of tables) {
        assert.match(t.engine, /ReplacingMergeTree$/, t.name);
        assert.match(t.engine_full, /deduplication_window = 1000/, t.name);
        if (name === 'chdb') for (const setting of EMBEDDED_PART_SETTINGS.split(', ')) assert.ok(t.engine_full.includes(setting), `${t.name}: ${setting}`);
        else assert.doesNotMatch(t.engine_full, /old_parts_lifetime/, t.name);
      }
      const parity = await schemaParity(store, store.database);
      assert.equal(parity.ok, true, JSON.stringify(parity.families.filter((f) => !f.ok)));
    });
  });

  test(`${name}: every family round-trips with exact types and values (ms times, exact floats, escaped text)`, async () => {
    await withStore(backend, async (store) => {
      const batches = tradeBatches(3);
      // Doubles at the edges of Float64 read back bit for bit.
      const edges = [1e21, 5e-324, -1.7976931348623157e308, 0.1 + 0.2, 123456789.12345679, 2 ** 53 + 2];
      batches.push({
        token: 'edges',
        rows: edges.map((x, i) => ({ family: 'account', row: { row_id: `edge:${i}`, ts: 1 + i, capital: x, realized_pnl: -x, fees: x / 3, equity: x / 7, venue_balance: x, drift: 0 } })),
      });
      for (const b of batches) store.write(b);
      await store.flush();
      const cols = await store.query<{ table: string; name: string; type: string }>(
        'SELECT table, name, type FROM system.columns WHERE database = {db:String} ORDER BY table, position',
        { db: store.database },
      );
      for (const f of FAMILIES) assert.deepEqual(cols.filter((c) => c.table === f).map(({ name, type }) => ({ name, type })), LEGACY_BLUE_SCHEMA[f], f);
      const types = new Set(cols.map((c) => c.type));
      for (const t of ["DateTime64(3, 'UTC')", 'Float64', 'LowCardinality(String)', 'String', 'UInt32', 'UInt8']) assert.ok(types.has(t), t);

      const written = batches.flatMap((b) => b.rows);
      for (const f of FAMILIES) {
        const mine = new Map(written.filter((r) => r.family === f).map((r) => [r.row.row_id, expected(r)]));
        const back = await store.query<Record<string, unknown>>(selectAll(store.database, f));
        for (const row of back) assert.deepEqual(row, mine.get(row['row_id'] as string), `${f} ${String(row['row_id'])}`);
        if (f === 'trades') {
          // The open and closed rows of a trade may already be one: the latest (closed) must be there.
          const closed = [...mine.values()].filter((r) => r['status'] === 'closed').map((r) => r['row_id']);
          assert.deepEqual(closed.filter((id) => !back.some((r) => r['row_id'] === id)), []);
        } else {
          assert.equal(back.length, mine.size, f);
        }
      }
    });
  });

  test(`${name}: every column type of every family round-trips through the backend's encoding, awkward values included`, async () => {
    await withStore(backend, async (store) => {
      const rows = specialRows();
      store.write({ token: 'special', rows });
      await store.flush();
      assert.equal(store.stats().last_error, null);
      // chDB gets RowBinary (-0 keeps its sign); a server gets TabSeparated, which prints -0 as 0.
      const signedZero = name === 'chdb';
      for (const f of FAMILIES) {
        const want = new Map(
          rows
            .filter((r) => r.family === f)
            .map((r) => {
              const e = expected(r);
              for (const [k, v] of Object.entries(e)) {
                if (typeof v === 'string') e[k] = Buffer.from(v).toString(); // a lone surrogate is U+FFFD in UTF-8
                if (Object.is(v, -0) && !signedZero) e[k] = 0;
              }
              return [r.row.row_id, e];
            }),
        );
        const back = await store.query<Record<string, unknown>>(`${selectAll(store.database, f)} WHERE row_id LIKE 'special:%'`);
        assert.equal(back.length, want.size, f);
        for (const row of back) assert.deepEqual(row, want.get(row['row_id'] as string), `${f} ${String(row['row_id'])}`);
      }
    });
  });

  test(`${name}: a batch written twice with its token appears once`, async () => {
    await withStore(backend, async (store) => {
      const [b] = tradeBatches(1);
      store.write(b!);
      await store.flush();
      store.write(b!);
      await store.flush();
      const counts = await distinctCounts(store, store.database, FAMILIES);
      for (const [f, c] of Object.entries(counts)) assert.deepEqual(c, { raw: c.ids, ids: c.ids }, f);
      assert.equal(counts['fills']!.ids, 3);
    });
  });

  test(`${name}: a batch whose answer was lost is spooled, re-sent and appears once`, async () => {
    const faults: StoreFaults = { loseNextAcks: 2 };
    await withStore(
      backend,
      async (store, spoolDir) => {
        const batches = tradeBatches(2);
        for (const b of batches) store.write(b);
        await store.flush();
        // Two families landed but their answers were lost: the store believes they did not.
        assert.ok(store.stats().spooled_rows > 0, 'spooled after the lost answer');
        assert.match(store.stats().last_error ?? '', /answer to insert into \w+ lost/);
        assert.ok(readdirSync(spoolDir).some((n) => n.endsWith('.spool.json')));
        await store.flush();
        await store.flush();
        assert.equal(store.stats().spooled_rows, 0);
        assert.equal(store.stats().last_error, null);
        assert.deepEqual(readdirSync(spoolDir).filter((n) => n.endsWith('.spool.json')), []);
        const counts = await distinctCounts(store, store.database, FAMILIES);
        for (const [f, c] of Object.entries(counts)) assert.equal(c.raw, c.ids, f);
        assert.equal(counts['trade_exit_legs']!.ids, 4);
        assert.equal((await store.audit()).ok, true);
      },
      { faults },
    );
    assert.equal(faults.loseNextAcks, 0);
  });

  test(`${name}: batches refused by ClickHouse stay durable across close and drain in order on the next open`, async () => {
    const config = configFor(HOME, backend);
    const spoolDir = join(HOME, `spool-${config.database}`);
    const lines: string[] = [];
    const faultLines: string[] = [];
    const first = await openStore({ config, runId: 'run-1', spoolDir, faults: { failNextInserts: 1_000 }, onFault: (code, reason) => faultLines.push(`${code} ${reason}`) });
    for (const b of tradeBatches(4)) {
      first.write(b);
      await first.flush(); // one failed attempt per batch: four units in the spool
    }
    const spooled = first.stats();
    await first.close();
    assert.equal(spooled.spooled_batches, 4);
    assert.equal(spooled.pending_rows, 0);
    const names = readdirSync(spoolDir).filter((n) => n.endsWith('.spool.json'));
    assert.equal(names.length, 4);
    // Issue 18: each refused write is an error-log line with the fix for this store, embedded or server.
    assert.ok(faultLines.length >= 4, `one per refused unit at least (retries too): ${faultLines.join('\n')}`);
    for (const l of faultLines) {
      assert.match(l, /^STORE_SPOOLING ClickHouse did not take a unit \(.*injected failure.*Nothing is lost: the rows wait in /);
      assert.match(l, backend.name === 'chdb' ? /free disk space under \/.*\(df -h\).*pink mode-verify.*pink restart$/ : /Check the ClickHouse server \(PINK_CLICKHOUSE_URL/);
    }
    const second = await openStore({ config, runId: 'run-1', spoolDir, logger: (l) => lines.push(l) });
    try {
      await second.flush();
      assert.equal(second.stats().spooled_rows, 0);
      const sent = lines.filter((l) => l.startsWith('store: sent spooled unit')).map((l) => /unit (\S+)/.exec(l)![1]);
      assert.deepEqual(sent, [...names].sort());
      const counts = await distinctCounts(second, config.database, ['fills', 'trade_exit_legs', 'account']);
      assert.deepEqual(counts['fills'], { raw: 12, ids: 12 });
      assert.equal((await second.audit()).ok, true);
    } finally {
      await second.close();
      await dropDatabases(config);
    }
  });

  test(`${name}: when ClickHouse refuses and the spool cannot be written, the unit is kept in memory and sent later`, async () => {
    await withStore(
      backend,
      async (store, spoolDir) => {
        const [b] = tradeBatches(1);
        rmSync(spoolDir, { recursive: true, force: true });
        writeFileSync(spoolDir, 'not a folder'); // every spool write now fails
        store.write(b!);
        await store.flush();
        const s = store.stats();
        assert.equal(s.pending_rows, b!.rows.length, 'held in memory');
        assert.equal(s.spooled_rows, 0);
        assert.match(s.last_error ?? '', /injected failure.*the spool cannot be written/);
        rmSync(spoolDir, { force: true });
        mkdirSync(spoolDir);
        await store.flush();
        assert.equal(store.stats().pending_rows, 0);
        assert.deepEqual((await distinctCounts(store, store.database, ['fills']))['fills'], { raw: 3, ids: 3 });
      },
      { faults: { failNextInserts: FAMILIES.length } },
    );
  });

  test(`${name}: past the queue bound write() spills to the spool at once, and nothing is lost`, async () => {
    await withStore(
      backend,
      async (store) => {
        const batches = tradeBatches(6);
        for (const b of batches) store.write(b); // no turn of the loop: nothing can have been sent
        const s = store.stats();
        assert.ok(s.spooled_rows > 0, 'spilled');
        assert.ok(s.pending_rows <= 40, `pending ${s.pending_rows} within the bound`);
        assert.equal(s.pending_rows + s.spooled_rows, batches.reduce((n, b) => n + b.rows.length, 0));
        await store.flush();
        assert.deepEqual(store.stats().spooled_rows, 0);
        const counts = await distinctCounts(store, store.database, ['fills', 'decisions']);
        assert.deepEqual(counts['fills'], { raw: 18, ids: 18 });
      },
      { bounds: { queue_rows_max: 40 } },
    );
  });

  test(`${name}: a bad row throws from write() naming family and column, and nothing of its batch is queued`, async () => {
    await withStore(backend, async (store) => {
      const [b] = tradeBatches(1);
      const broken = structuredClone(b!);
      delete broken.rows.find((r) => r.family === 'positions')!.row['unrealized_pnl'];
      assert.throws(() => store.write(broken), (e: unknown) => e instanceof RowAssertionError && /positions\.unrealized_pnl/.test(e.message));
      assert.equal(store.stats().pending_rows, 0);
      assert.throws(() => store.write({ token: '', rows: b!.rows }), RowAssertionError);
    });
  });

  test(`${name}: BLUE's database is refused before anything is created`, async () => {
    const home = tmpHome('blue');
    // BLUE's under another name (`dolphin` itself is refused by loadConfig already).
    const config = configFor(home, backend, { DOLPHIN_PINK_CH_DATABASE: 'blue_db', DOLPHIN_BLUE_CH_DATABASE: 'blue_db' });
    await assert.rejects(
      openStore({ config, runId: 'r', spoolDir: join(home, 'spool') }),
      (e: unknown) => e instanceof ExitError && e.code === 2 && /^refused: PINK's database is BLUE's \(blue_db\)/.test(e.message),
    );
    assert.equal(existsSync(homePaths(home).clickhouse), false);
    assert.equal(existsSync(join(home, 'spool')), false);
    rmSync(home, { recursive: true, force: true });
    if (backend.name === 'server') {
      const raw = await rawClient(config);
      try {
        const rs = await raw.query({ query: "SELECT count() AS n FROM system.tables WHERE database = 'blue_db' AND name = 'trades'", format: 'JSONEachRow' });
        const [row] = await rs.json<{ n: string }>();
        assert.equal(Number(row!.n), 0);
      } finally {
        await raw.close();
      }
    }
  });

  test(`${name}: stats name the backend and database, and a read-only store never opens a spool`, async () => {
    const config = configFor(HOME, backend);
    const store = await openStore({ config, runId: 'reader' });
    try {
      assert.deepEqual(store.stats(), {
        backend: name,
        database: config.database,
        pending_rows: 0,
        spooled_rows: 0,
        spooled_batches: 0,
        last_flush_ts: null,
        last_error: null,
      });
      await store.ensureSchema();
      assert.deepEqual(await store.query('SELECT count() AS n FROM {db:Identifier}.fills', { db: config.database }), [{ n: 0 }]);
      await assert.rejects(store.query('SELECT no_such_column FROM system.one'), (e: unknown) => e instanceof Error && !(e instanceof ExitError));
    } finally {
      await store.close();
      await dropDatabases(config);
    }
    assert.equal(existsSync(homePaths(HOME).spool), false);
  });
}

test('chdb: merged-away parts leave within seconds (they are not kept for old_parts_lifetime), rows intact', async () => {
  const backend = backendCases().find((b) => b.name === 'chdb')!;
  await withStore(backend, async (store) => {
    for (const b of tradeBatches(4)) {
      store.write(b);
      await store.flush();
    }
    const raw = await rawClient(configFor(HOME, backend));
    try {
      await raw.command({ query: `OPTIMIZE TABLE \`${store.database}\`.fills FINAL` });
    } finally {
      await raw.close();
    }
    const parts = async (): Promise<{ active: number; inactive: number }> => {
      const rows = await store.query<{ active: number; n: number }>(
        "SELECT active, count() AS n FROM system.parts WHERE database = {db:String} AND table = 'fills' GROUP BY active",
        { db: store.database },
      );
      const n = (a: number): number => Number(rows.find((r) => Number(r.active) === a)?.n ?? 0);
      return { active: n(1), inactive: n(0) };
    };
    let now = await parts();
    assert.equal(now.active, 1);
    // The cleanup looks every second; a server's default would keep these 480 s.
    for (const deadline = Date.now() + 30_000; now.inactive > 0 && Date.now() < deadline; now = await parts()) {
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(now.inactive, 0, 'merged-away parts of fills still listed after 30 s');
    assert.deepEqual((await distinctCounts(store, store.database, ['fills']))['fills'], { raw: 12, ids: 12 });
  });
});
