// Issue 17, case 1, the second wall: the store's read-only session (what the control socket's named
// queries run through) refuses every write by ClickHouse's own `readonly = 1`, even for text the
// socket's parser would never let through: a write, DDL, a table function, a setting, and the same
// hidden behind a first statement (embedded ClickHouse runs several per request). The embedded
// store (chDB through @clickhouse/client), with the engine's real read path; nothing may change.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/engine/store/index.js';
import { backendCases, configFor, tmpHome, tradeBatches } from './fixtures.js';

const HOME = tmpHome('readonly');
after(() => rmSync(HOME, { recursive: true, force: true }));

test("the store's read-only session refuses writes, DDL, table functions and settings, one statement or several; nothing changes", async () => {
  const config = configFor(HOME, backendCases().find((b) => b.name === 'chdb')!);
  const store = await openStore({ config, runId: 'readonly' });
  try {
    await store.ensureSchema();
    for (const b of tradeBatches(2)) store.write(b);
    await store.flush();
    const db = store.database;
    const outfile = join(HOME, 'written-by-a-read.csv');
    /** What a write would change: the databases, PINK's tables, the rows of two families. */
    const snapshot = async (): Promise<unknown> => ({
      databases: (await store.query<{ name: string }>('SELECT name FROM system.databases ORDER BY name')).map((r) => r.name),
      tables: (await store.query<{ name: string }>('SELECT name FROM system.tables WHERE database = {db:String} ORDER BY name', { db })).map((r) => r.name),
      rows: await store.query(`SELECT (SELECT count() FROM ${db}.trades) AS trades, (SELECT count() FROM ${db}.decisions) AS decisions`),
    });
    const before = await snapshot();
    assert.deepEqual(await store.readOnly.query('SELECT 1 AS one'), [{ one: 1 }], 'the read-only session reads');

    const writes = [
      `INSERT INTO ${db}.decisions (namespace, run_id, row_id) SELECT 'pink', 'x', 'planted'`,
      'CREATE DATABASE dolphin',
      `CREATE TABLE ${db}.planted (x UInt8) ENGINE = Memory`,
      `DROP TABLE ${db}.trades`,
      `TRUNCATE TABLE ${db}.decisions`,
      `INSERT INTO FUNCTION file('${outfile}', 'CSV', 'x UInt8') SELECT 1`,
      "SELECT * FROM file('/etc/passwd', 'LineAsString')",
      'SELECT 1 SETTINGS readonly = 0',
      // Behind a first statement, as the attacks were:
      'SELECT 1; CREATE DATABASE dolphin',
      `SELECT 1; INSERT INTO ${db}.decisions (namespace, run_id, row_id) SELECT 'pink', 'x', 'planted'`,
      `select 1 /* */ ; DROP DATABASE ${db}`,
      `SELECT 1; SET readonly = 0; DROP TABLE ${db}.trades`,
    ];
    for (const sql of writes) {
      await assert.rejects(store.readOnly.query(sql), /in readonly mode/, `ClickHouse itself refuses: ${sql}`);
    }
    assert.deepEqual(await snapshot(), before, 'no database, table or row changed');
    assert.equal(existsSync(outfile), false, 'no file written');
  } finally {
    await store.close();
  }
});
