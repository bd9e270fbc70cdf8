// The audit queries and schema parity catch what they exist to catch: a leg that does not add up,
// a broken capital identity, a row_id that landed twice, a PINK row in BLUE's tables, a column that
// drifted from BLUE's. A raw client plays the parts the store never would (BLUE, a broken writer).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../../src/config.js';
import type { RowOut } from '../../src/engine/kernel/types.js';
import { encodeRow } from '../../src/engine/store/encode.js';
import { blueReference, describeParity, openStore, schemaDdl, schemaParity, type AuditReport, type Store } from '../../src/engine/store/index.js';
import { backendCases, configFor, distinctCounts, dropDatabases, INITIAL_CAPITAL_USDT, rawClient, T0_MS, tmpHome, tradeBatches, tradeRows, type BackendCase } from './fixtures.js';

const HOME = tmpHome('audit');
after(() => rmSync(HOME, { recursive: true, force: true }));

type Raw = Awaited<ReturnType<typeof rawClient>>;

async function withStore(backend: BackendCase, fn: (store: Store, raw: Raw, config: Config) => Promise<void>): Promise<void> {
  const config = configFor(HOME, backend);
  const store = await openStore({ config, runId: 'run-1', spoolDir: join(HOME, `spool-${config.database}`) });
  const raw = await rawClient(config);
  try {
    await store.ensureSchema();
    await fn(store, raw, config);
  } finally {
    await raw.close();
    await store.close();
    await dropDatabases(config);
  }
}

function check(report: AuditReport, id: string): { ok: boolean; detail: string } {
  const c = report.checks.find((x) => x.id === id);
  assert.ok(c, `check ${id} present`);
  return c;
}

/** Inserts rows the way no PINK writer would: straight into any table (BLUE's included). */
async function rawInsert(raw: Raw, database: string, rows: RowOut[], namespace = 'pink'): Promise<void> {
  const family = rows[0]!.family;
  const text = rows.map((r) => encodeRow(r, { namespace, run_id: 'raw' })).join('');
  const { Readable } = await import('node:stream');
  const res = await raw.exec({ query: `INSERT INTO \`${database}\`.\`${family}\` SETTINGS insert_deduplication_token = 'raw-${Date.now()}-${Math.random()}' FORMAT TabSeparated`, values: Readable.from([text], { objectMode: false }) });
  for await (const _ of res.stream) {
    // drain
  }
}

for (const backend of backendCases()) {
  const name = backend.name;

  test(`${name}: consistent records pass every audit`, async () => {
    await withStore(backend, async (store) => {
      for (const b of tradeBatches(4)) store.write(b);
      await store.flush();
      const report = await store.audit({ funding_paid_usdt: 0 });
      assert.deepEqual(report.checks.map((c) => [c.id, c.ok]), [
        ['trade_legs', true],
        ['account_identity', true],
        ['row_id_unique', true],
        ['blue_clean', true],
      ]);
      assert.equal(report.ok, true);
      assert.match(check(report, 'trade_legs').detail, /^4 closed trades/);
      assert.match(check(report, 'blue_clean').detail, /does not exist/);
    });
  });

  test(`${name}: a leg with a wrong realized PnL fails trade_legs and the account cross-check, within tolerance it passes`, async () => {
    await withStore(backend, async (store) => {
      const [good, broken, tiny] = tradeBatches(3, 10);
      const leg = (b: typeof good) => b!.rows.find((r) => r.family === 'trade_exit_legs' && r.row['leg_index'] === 1)!;
      (leg(tiny).row['leg_realized_pnl'] as number) += 1e-13; // float noise, not an error
      (leg(broken).row['leg_realized_pnl'] as number) += 0.01;
      for (const b of [good!, broken!, tiny!]) store.write(b);
      await store.flush();
      const report = await store.audit();
      assert.equal(report.ok, false);
      const legs = check(report, 'trade_legs');
      assert.equal(legs.ok, false);
      assert.match(legs.detail, /^1 of 3 closed trades do not match their exit legs: T11 realized_pnl/);
      assert.equal(check(report, 'account_identity').ok, false);
      assert.match(check(report, 'account_identity').detail, /exit legs realized/);
    });
  });

  test(`${name}: a broken capital identity fails account_identity: funding is the funding table's, not the leftover`, async () => {
    await withStore(backend, async (store) => {
      const [b] = tradeBatches(1);
      (b!.rows.find((r) => r.family === 'account')!.row['capital'] as number) += 5;
      store.write(b!);
      await store.flush();
      const broken = check(await store.audit(), 'account_identity');
      assert.equal(broken.ok, false, 'no funding row explains the 5 USDT');
      assert.match(broken.detail, /but initial \+ realized - fees - funding = .*funding 0 \(0 funding row\(s\)\)/);
      // A funding row of +5 received (the venue's sign) explains it exactly.
      store.write({ token: 'funding-1', rows: [{ family: 'funding', row: { row_id: 'funding:T0:1', ts: T0_MS, funding_id: 'tran-1', symbol: 'BTC-USDT', amount_usdt: 5, rate: -0.0001, position_qty: -0.3, mark_price: 100 } }] });
      await store.flush();
      const explained = check(await store.audit(), 'account_identity');
      assert.equal(explained.ok, true, explained.detail);
      assert.match(explained.detail, /funding -5 \(1 funding row\(s\)\)/);
      const known = check(await store.audit({ funding_paid_usdt: 0 }), 'account_identity');
      assert.equal(known.ok, false);
      assert.match(known.detail, /funding table -5 but 0 applied/);
    });
  });

  test(`${name}: funding rows count within the latest account row's history and up to its input, each row once`, async () => {
    await withStore(backend, async (store) => {
      const acct = (seq: number, capital: number): RowOut => ({ family: 'account', row: { row_id: `account:hist000001:${seq}:1`, ts: T0_MS + seq, capital, realized_pnl: 0, fees: 0, equity: capital, venue_balance: capital, drift: 0 } });
      const fund = (history: string, seq: number, amount: number): RowOut => ({ family: 'funding', row: { row_id: `funding:${history}:${seq}:0`, ts: T0_MS + seq - 1, funding_id: `tran-${history}-${seq}`, symbol: 'ETH-USDT', amount_usdt: amount, rate: 0.0001, position_qty: 1, mark_price: 2000 } });
      // Paid 0.2 at seq 3 and 0.3 at seq 7; another history's row and a later input's row are not this account row's.
      store.write({ token: 'a', rows: [fund('hist000001', 3, -0.2), fund('hist000001', 7, -0.3), fund('otherhist1', 5, -100), fund('hist000001', 9, -1), acct(7, INITIAL_CAPITAL_USDT - 0.5)] });
      await store.flush();
      const ok = check(await store.audit(), 'account_identity');
      assert.equal(ok.ok, true, ok.detail);
      assert.match(ok.detail, /history hist000001: .* funding 0\.5 \(2 funding row\(s\)\)/);
      // The same row landed twice (another token): counted once.
      store.write({ token: 'b', rows: [fund('hist000001', 3, -0.2)] });
      await store.flush();
      assert.equal(check(await store.audit(), 'account_identity').ok, true);
    });
  });

  test(`${name}: a row_id that landed twice (another dedup token) fails row_id_unique; readers still count it once`, async () => {
    await withStore(backend, async (store, raw, config) => {
      const [b] = tradeBatches(1, 20);
      store.write(b!);
      await store.flush();
      assert.equal(check(await store.audit(), 'row_id_unique').ok, true);
      // Keep the duplicate from being merged away before the audit reads it.
      await raw.command({ query: `SYSTEM STOP MERGES \`${config.database}\`.fills` });
      await rawInsert(raw, config.database, b!.rows.filter((r) => r.family === 'fills'));
      const report = await store.audit();
      const dup = check(report, 'row_id_unique');
      assert.equal(dup.ok, false);
      assert.match(dup.detail, /fills: 3 row_id\(s\) twice \(fills:T20:/);
      assert.equal(report.ok, false);
      assert.deepEqual((await distinctCounts(store, config.database, ['fills']))['fills'], { raw: 6, ids: 3 });
      assert.equal(check(report, 'trade_legs').ok, true, 'sums count each row_id once');
    });
  });

  test(`${name}: a namespace='pink' row in BLUE's tables fails blue_clean; BLUE's own rows do not`, async () => {
    await withStore(backend, async (store, raw, config) => {
      for (const sql of schemaDdl(config.blue_database)) await raw.command({ query: sql });
      const orders = tradeRows(30).rows.filter((r) => r.family === 'orders');
      await rawInsert(raw, config.blue_database, orders, 'blue');
      const clean = check(await store.audit(), 'blue_clean');
      assert.equal(clean.ok, true);
      assert.match(clean.detail, /no namespace='pink' row in BLUE's 8 tables/);
      await rawInsert(raw, config.blue_database, orders, 'pink');
      const dirty = check(await store.audit(), 'blue_clean');
      assert.equal(dirty.ok, false);
      assert.equal(dirty.detail, `namespace='pink' rows in BLUE's tables: ${config.blue_database}.orders 1`);
    });
  });

  test(`${name}: schema parity compares with BLUE's live tables when present and reports each difference`, async () => {
    await withStore(backend, async (store, raw, config) => {
      const builtin = await schemaParity(store, config.database);
      assert.equal(builtin.ok, true, describeParity(builtin));
      for (const sql of schemaDdl(config.blue_database)) await raw.command({ query: sql });
      await raw.command({ query: `ALTER TABLE \`${config.blue_database}\`.fills MODIFY COLUMN fee Float32` });
      await raw.command({ query: `ALTER TABLE \`${config.blue_database}\`.decisions DROP COLUMN reason` });
      await raw.command({ query: `DROP TABLE \`${config.blue_database}\`.anomalies` });
      await raw.command({ query: `DROP TABLE \`${config.database}\`.positions` });
      const ref = await blueReference(store, config.blue_database);
      assert.equal(ref.source.fills, 'live');
      assert.equal(ref.source.anomalies, 'builtin');
      const parity = await schemaParity(store, config.database, ref.schema);
      assert.equal(parity.ok, false);
      const by = Object.fromEntries(parity.families.map((f) => [f.family, f]));
      assert.deepEqual(by['fills']!.type_mismatch, [{ column: 'fee', actual: 'Float64', reference: 'Float32' }]);
      assert.deepEqual(by['decisions']!.extra, ['reason']);
      assert.equal(by['positions']!.present, false);
      assert.equal(by['anomalies']!.ok, true);
      assert.equal(by['trades']!.ok, true);
      assert.equal(describeParity(parity), 'fills: fee is Float64, reference Float32 | positions: table missing | decisions: extra reason; funding is PINK-only (not compared)');
    });
  });

  test(`${name}: an empty database audits clean with notes, and the initial capital is the audit's parameter`, async () => {
    await withStore(backend, async (store) => {
      const empty = await store.audit();
      assert.equal(empty.ok, true);
      assert.match(check(empty, 'account_identity').detail, /no account rows yet/);
      for (const b of tradeBatches(1)) store.write(b);
      await store.flush();
      const wrongInitial = await store.audit({ initial_capital_usdt: INITIAL_CAPITAL_USDT + 100, funding_paid_usdt: 0 });
      assert.equal(check(wrongInitial, 'account_identity').ok, false);
    });
  });
}
