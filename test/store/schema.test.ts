// The schema source and everything derived from it without a database: the DDL text (embedded and
// ON CLUSTER), the legacy BLUE reference, the row checks and the TabSeparated encoding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { loadConfig } from '../../src/config.js';
import { EXIT, ExitError } from '../../src/errors.js';
import type { BlueFamily, RowFamily, RowOut } from '../../src/engine/kernel/types.js';
import { encodeRow, formatTimeMs, RowAssertionError, TIME_MS_MAX } from '../../src/engine/store/encode.js';
import { assertNotBlue } from '../../src/engine/store/index.js';
import { EMBEDDED_PART_SETTINGS, FAMILIES, FAMILY_COLUMNS, LEGACY_BLUE_SCHEMA, PINK_FAMILIES, schemaDdl } from '../../src/engine/store/schema.js';
import { checkServerVersion, insertSql } from '../../src/engine/store/backend.js';
import { tradeRows } from './fixtures.js';

// SPEC section 5, copied by hand: the schema must not drift from the contract.
const SPEC_COLUMNS: Record<BlueFamily, string> = {
  trades: 'trade_id, slot_id, symbol, side, status, entry_ts, entry_price, entry_qty, exit_ts, exit_price_avg, exit_qty, realized_pnl, fees, legs, exit_reason, hold_bars',
  trade_exit_legs: 'ts, trade_id, leg_index, symbol, side, leg_qty, leg_price, leg_realized_pnl, leg_fee, remaining_qty, cum_realized_pnl, is_final, exit_reason, client_order_id',
  orders: 'ts, client_order_id, venue_order_id, trade_id, symbol, side, order_type, qty, price, reduce_only, status, reason',
  fills: 'ts, fill_id, client_order_id, venue_order_id, trade_id, symbol, side, qty, price, fee, fee_asset, inferred',
  positions: 'ts, slot_id, symbol, state, side, qty, avg_entry_price, mark_price, unrealized_pnl, hold_bars',
  account: 'ts, capital, realized_pnl, fees, equity, venue_balance, drift',
  anomalies: 'ts, origin, code, severity, slot_id, symbol, details',
  decisions: 'ts, intent_id, symbol, action, side, qty, reason, outcome_code',
};

const CTX = { namespace: 'pink', run_id: 'run-1' };

test("SPEC 6's PINK-only ninth table `funding`: its columns, in PINK's DDL, not in BLUE's reference", () => {
  assert.deepEqual([...PINK_FAMILIES], [...FAMILIES, 'funding']);
  assert.deepEqual(FAMILY_COLUMNS.funding.map((c) => `${c.name}:${c.kind}`), [
    'namespace:lc', 'run_id:string', 'row_id:string',
    'ts:time', 'funding_id:string', 'symbol:lc', 'amount_usdt:float', 'rate:float', 'position_qty:float', 'mark_price:float',
  ]);
  assert.equal((LEGACY_BLUE_SCHEMA as Partial<Record<RowFamily, unknown>>).funding, undefined, 'not compared with BLUE');
  const ddl = schemaDdl('dolphin_pink');
  assert.match(ddl.at(-1)!, /^CREATE TABLE IF NOT EXISTS `dolphin_pink`.`funding`\n\(/);
  assert.match(ddl.at(-1)!, /ENGINE = ReplacingMergeTree\(\)\nORDER BY \(symbol, ts, row_id\)/);
});

test("every family has SPEC 5's columns after namespace, run_id, row_id, with SPEC's types", () => {
  assert.deepEqual([...FAMILIES].sort(), Object.keys(SPEC_COLUMNS).sort());
  for (const f of FAMILIES) {
    const ref = LEGACY_BLUE_SCHEMA[f];
    assert.deepEqual(ref.slice(0, 3), [
      { name: 'namespace', type: 'LowCardinality(String)' },
      { name: 'run_id', type: 'String' },
      { name: 'row_id', type: 'String' },
    ]);
    assert.deepEqual(ref.slice(3).map((c) => c.name), SPEC_COLUMNS[f].split(', '), f);
    for (const c of ref) {
      if (c.name === 'ts' || c.name.endsWith('_ts')) assert.equal(c.type, "DateTime64(3, 'UTC')", `${f}.${c.name}`);
      if (/(price|price_avg|qty|pnl|fee|fees|capital|equity|balance|drift)$/.test(c.name)) assert.equal(c.type, 'Float64', `${f}.${c.name}`);
      assert.doesNotMatch(c.type, /Nullable/, `${f}.${c.name}`);
    }
  }
});

test('the DDL creates the database and nine ReplacingMergeTree tables (the eight, then funding), all IF NOT EXISTS, with a dedup window', () => {
  const ddl = schemaDdl('dolphin_pink');
  assert.equal(ddl.length, 10);
  assert.equal(ddl[0], 'CREATE DATABASE IF NOT EXISTS `dolphin_pink`');
  for (const [i, f] of FAMILIES.entries()) {
    const sql = ddl[i + 1]!;
    assert.ok(sql.startsWith(`CREATE TABLE IF NOT EXISTS \`dolphin_pink\`.\`${f}\`\n(`), f);
    assert.match(sql, /SETTINGS non_replicated_deduplication_window = 1000$/);
    assert.doesNotMatch(sql, /ON CLUSTER|Replicated/);
    if (f === 'trades') assert.match(sql, /ENGINE = ReplacingMergeTree\(legs\)\nORDER BY \(trade_id\)/);
    else assert.match(sql, /ENGINE = ReplacingMergeTree\(\)\nORDER BY \([a-z_, ]*row_id\)/, f);
  }
});

test('the embedded tables are created with the part housekeeping, merge and fsync settings; a server or a cluster never gets them', () => {
  for (const [i, sql] of schemaDdl('dolphin_pink', { embedded: true }).slice(1).entries()) {
    assert.ok(sql.endsWith(`SETTINGS non_replicated_deduplication_window = 1000, ${EMBEDDED_PART_SETTINGS}`), FAMILIES[i]);
  }
  for (const sql of [...schemaDdl('dolphin_pink'), ...schemaDdl('dolphin_pink', { cluster: 'c', embedded: true })]) {
    assert.doesNotMatch(sql, /old_parts_lifetime|cleanup_delay_period|merge_selector_base|fsync_after_insert/);
  }
  assert.match(EMBEDDED_PART_SETTINGS, /old_parts_lifetime = 0, min_rows_to_fsync_after_merge = 1,/);
  assert.match(EMBEDDED_PART_SETTINGS, /merge_selector_base = 10(,|$)/);
  assert.match(EMBEDDED_PART_SETTINGS, /fsync_after_insert = 1, fsync_part_directory = 1(,|$)/);
});

test('with a cluster every statement is ON CLUSTER with Replicated engines at the macro path', () => {
  const ddl = schemaDdl('dolphin_pink', { cluster: 'pink_cluster' });
  assert.equal(ddl[0], 'CREATE DATABASE IF NOT EXISTS `dolphin_pink` ON CLUSTER `pink_cluster`');
  assert.equal(
    ddl[1],
    [
      'CREATE TABLE IF NOT EXISTS `dolphin_pink`.`trades` ON CLUSTER `pink_cluster`',
      '(',
      ...FAMILY_COLUMNS.trades.map((c, i, all) => `  ${c.name} ${LEGACY_BLUE_SCHEMA.trades[i]!.type}${i < all.length - 1 ? ',' : ''}`),
      ')',
      "ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/{database}/{table}', '{replica}', legs)",
      'ORDER BY (trade_id)',
      'SETTINGS replicated_deduplication_window = 1000',
    ].join('\n'),
  );
  assert.match(ddl[4]!, /ENGINE = ReplicatedReplacingMergeTree\('\/clickhouse\/tables\/\{shard\}\/\{database\}\/\{table\}', '\{replica\}'\)\nORDER BY \(symbol, ts, row_id\)/);
  for (const sql of ddl) {
    assert.match(sql.split('\n')[0]!, / ON CLUSTER `pink_cluster`$/);
    assert.doesNotMatch(sql, /non_replicated/);
  }
});

test('names that are not plain identifiers are refused (no SQL through a database or cluster name)', () => {
  assert.throws(() => schemaDdl('pink; DROP DATABASE dolphin'), /not a plain ClickHouse identifier/);
  assert.throws(() => schemaDdl('dolphin_pink', { cluster: "c' OR 1" }), /not a plain ClickHouse identifier/);
});

test('an insert names its columns and carries its token as a quoted literal', () => {
  assert.equal(
    insertSql('dolphin_pink', 'account', ['a', 'b'], "step:1-2:it's\\x"),
    "INSERT INTO `dolphin_pink`.`account` (a, b) SETTINGS insert_deduplication_token = 'step:1-2:it\\'s\\\\x' FORMAT TabSeparated",
  );
});

test('a row encodes as one TabSeparated line in table order, with the store adding namespace and run_id', () => {
  const fill: RowOut = {
    family: 'fills',
    row: { row_id: 'r1', ts: Date.UTC(2025, 0, 2, 3, 4, 5, 6), fill_id: 'f\t1', client_order_id: 'c\n1', venue_order_id: 'v\\1', trade_id: '', symbol: 'BTC-USDT', side: 'buy', qty: 0.1, price: 1e-7, fee: -0.5, fee_asset: null, inferred: true },
  };
  assert.equal(encodeRow(fill, CTX), 'pink\trun-1\tr1\t2025-01-02 03:04:05.006\tf\\t1\tc\\n1\tv\\\\1\t\tBTC-USDT\tbuy\t0.1\t1e-7\t-0.5\t\t1\n');
  const account: RowOut = { family: 'account', row: { row_id: 'a', ts: 0, capital: 1, realized_pnl: 0, fees: 0, equity: 1, venue_balance: 1e21, drift: -0 } };
  assert.equal(encodeRow(account, CTX), 'pink\trun-1\ta\t1970-01-01 00:00:00.000\t1\t0\t0\t1\t1e+21\t0\n');
});

test('every fixture row of every family encodes to one field per column', () => {
  const rows = tradeRows(3).rows;
  assert.deepEqual(new Set(rows.map((r) => r.family)), new Set(FAMILIES));
  for (const r of rows) assert.equal(encodeRow(r, CTX).split('\t').length, FAMILY_COLUMNS[r.family].length);
});

function bad(row: RowOut, pattern: RegExp): void {
  assert.throws(() => encodeRow(row, CTX), (err: unknown) => err instanceof RowAssertionError && pattern.test(err.message));
}

test('a missing column, an unknown one or a wrong type is an assertion naming family and column', () => {
  const base = tradeRows(1).rows;
  const pick = (f: RowFamily) => structuredClone(base.find((r) => r.family === f)!);
  const noFee = pick('fills');
  delete noFee.row['fee'];
  bad(noFee, /fills\.fee: expected a finite number, got nothing \(missing\) \(row_id fills:T1:0\)/);
  const extra = pick('orders');
  extra.row['colour'] = 'red';
  bad(extra, /orders: unknown column\(s\) colour/);
  const textQty = pick('trade_exit_legs');
  textQty.row['leg_qty'] = '0.1';
  bad(textQty, /trade_exit_legs\.leg_qty: expected a finite number, got string "0\.1"/);
  const nan = pick('account');
  nan.row['capital'] = Number.NaN;
  bad(nan, /account\.capital: expected a finite number, got number NaN/);
  const nullFloat = pick('positions');
  nullFloat.row['qty'] = null;
  bad(nullFloat, /positions\.qty: expected a finite number, got object null/);
  const secTs = pick('decisions');
  secTs.row['ts'] = 1.5;
  bad(secTs, /decisions\.ts: expected epoch ms/);
  const usTs = pick('decisions');
  usTs.row['ts'] = TIME_MS_MAX * 1000;
  bad(usTs, /decisions\.ts: expected epoch ms/);
  const legs = pick('trades');
  legs.row['legs'] = -1;
  bad(legs, /trades\.legs: expected an integer 0\.\.4294967295/);
  const flag = pick('trade_exit_legs');
  flag.row['is_final'] = 'yes';
  bad(flag, /trade_exit_legs\.is_final: expected a boolean/);
  const details = pick('anomalies');
  details.row['details'] = '{not json';
  bad(details, /anomalies\.details: expected JSON text/);
  const ns = pick('orders');
  ns.row['namespace'] = 'blue';
  bad(ns, /orders\.namespace: expected "pink", got string "blue"/);
  const noId = pick('orders');
  noId.row['row_id'] = '';
  bad(noId, /orders\.row_id: expected a non-empty string/);
});

test('property: any text survives TabSeparated escaping as one field', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary' }), (s) => {
      const line = encodeRow({ family: 'decisions', row: { row_id: 'x', ts: 0, intent_id: s, symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0, reason: s, outcome_code: 'OK' } }, CTX);
      const fields = line.slice(0, -1).split('\t');
      assert.equal(fields.length, FAMILY_COLUMNS.decisions.length);
      const unescape = (t: string) => t.replace(/\\(.)/g, (_m, ch: string) => ({ t: '\t', n: '\n', r: '\r', '0': '\0', '\\': '\\' })[ch] ?? ch);
      assert.equal(unescape(fields[4]!), s);
      assert.ok(!fields[4]!.includes('\n'));
    }),
  );
});

test('property: times format exactly as DateTime64(3) text, for every ms the type holds', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: TIME_MS_MAX }), (ms) => {
      assert.equal(formatTimeMs(ms), new Date(ms).toISOString().replace('T', ' ').slice(0, 23));
    }),
    { numRuns: 2000 },
  );
});

test("PINK's writer refuses BLUE's database with exit 2", () => {
  // (`dolphin` itself is refused earlier, by loadConfig: test/security/config.test.ts.)
  const same = loadConfig({ DOLPHIN_PINK_CH_DATABASE: 'blue_db', DOLPHIN_BLUE_CH_DATABASE: 'blue_db' });
  assert.throws(
    () => assertNotBlue(same),
    (err: unknown) => err instanceof ExitError && err.code === 2 && /^refused: PINK's database is BLUE's \(blue_db\)/.test(err.message) && /DOLPHIN_PINK_CH_DATABASE/.test(err.hint ?? ''),
  );
  const own = loadConfig({});
  assert.doesNotThrow(() => assertNotBlue(own));
  assert.throws(() => assertNotBlue(own, 'dolphin'), ExitError);
});

test('importing the store loads neither @clickhouse/client nor chDB; opening it does', () => {
  const home = mkdtempSync(join(tmpdir(), 'pink-store-lazy-'));
  const store = new URL('../../src/engine/store/index.js', import.meta.url).href;
  const config = new URL('../../src/config.js', import.meta.url).href;
  const script = `
    import { createRequire } from 'node:module';
    const heavy = () => Object.keys(createRequire(import.meta.url).cache).filter((k) => /@clickhouse|[\\/]chdb[\\/]/.test(k)).length;
    const { openStore } = await import(${JSON.stringify(store)});
    const { loadConfig } = await import(${JSON.stringify(config)});
    const before = heavy();
    const s = await openStore({ config: loadConfig({ PINK_HOME: ${JSON.stringify(home)} }), runId: 'lazy' });
    await s.close();
    console.log(JSON.stringify({ before, after: heavy() }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  rmSync(home, { recursive: true, force: true });
  assert.equal(r.status, 0, r.stderr);
  const { before, after } = JSON.parse(r.stdout.trim()) as { before: number; after: number };
  assert.equal(before, 0);
  assert.ok(after > 0, 'the check can see them once loaded');
});

test('a server older than 22.2 is refused (exit 2, naming its version and the fix); 22.2 and newer pass', () => {
  const where = 'ClickHouse at http://127.0.0.1:8123';
  for (const old of ['18.16.1', '21.12.4.1', '22.1.3.7', '', 'not a version']) {
    assert.throws(
      () => checkServerVersion(old, where),
      (err: unknown) => {
        assert.ok(err instanceof ExitError);
        assert.equal(err.code, EXIT.USAGE);
        assert.match(err.message, /PINK needs ClickHouse 22\.2 or newer/);
        assert.ok(err.message.startsWith(`${where} is version `));
        assert.match(err.hint ?? '', /unset PINK_CLICKHOUSE_URL/);
        return true;
      },
      old,
    );
  }
  for (const ok of ['22.2.1.2139', '22.10.1', '24.8.14.39', '25.3.1', '26.7.1.1']) assert.doesNotThrow(() => checkServerVersion(ok, where), ok);
});
