// mode-verify's store checks (SPEC 1 checks 2 and 3): PINK's tables against BLUE's schema, and no
// `namespace = 'pink'` row in BLUE's tables. One definition, run where the store is: by mode-verify
// on a store it opens, or by the running engine as the control socket's named query `isolation`
// (the engine holds the embedded store; the socket takes no SQL). Reads only.
import type { Config } from '../../config.js';
import { blueReference, describeParity, readSchema, schemaParity, type Queryable } from './parity.js';
import { ident, LEGACY_BLUE_SCHEMA } from './schema.js';

export type CheckStatus = 'PASS' | 'WARN' | 'FAIL';
export interface Check {
  id: string;
  status: CheckStatus;
  detail: string;
}

/** The `schema` and `blue-rows` checks over `q`; `where` says which store answered, for the details. */
export async function storeIsolationChecks(q: Queryable, config: Pick<Config, 'database' | 'blue_database'>, where: string): Promise<[Check, Check]> {
  const pinkTables = await readSchema(q, config.database);
  const ref = await blueReference(q, config.blue_database);
  const live = Object.values(ref.source).filter((s) => s === 'live').length;
  const refName = live > 0 ? `BLUE's live tables in ${config.blue_database} (${live}/8; the built-in legacy schema for the rest)` : 'the built-in BLUE legacy schema';
  let schema: Check;
  if (Object.keys(pinkTables).length === 0) {
    const builtin = await schemaParity({ query: async () => [] }, config.database, ref.schema);
    const same = Object.keys(LEGACY_BLUE_SCHEMA).every((f) => JSON.stringify(LEGACY_BLUE_SCHEMA[f as keyof typeof LEGACY_BLUE_SCHEMA]) === JSON.stringify(ref.schema[f as keyof typeof LEGACY_BLUE_SCHEMA]));
    schema = { id: 'schema', status: same ? 'WARN' : 'FAIL', detail: `PINK's tables are not created yet in ${config.database} (${where}); they will be made from the legacy schema${same ? '' : `, which differs from BLUE's live tables: ${describeParity(builtin)}`}` };
  } else {
    const parity = await schemaParity(q, config.database, ref.schema);
    schema = { id: 'schema', status: parity.ok ? 'PASS' : 'FAIL', detail: `${config.database} vs ${refName}: ${describeParity(parity)}` };
  }
  // BLUE's eight families (a PINK-only table such as funding is not BLUE's).
  const families = { db: config.blue_database, families: Object.keys(LEGACY_BLUE_SCHEMA) };
  const blueTables = await q.query<{ name: string }>('SELECT name FROM system.tables WHERE database = {db:String} AND name IN {families:Array(String)}', families);
  if (blueTables.length === 0) {
    return [schema, { id: 'blue-rows', status: 'PASS', detail: `no BLUE tables in ${config.blue_database} on this ClickHouse (${where}): nothing of PINK's can be there` }];
  }
  const withNamespace = await q.query<{ table: string }>("SELECT table FROM system.columns WHERE database = {db:String} AND name = 'namespace' AND table IN {families:Array(String)}", families);
  const counts: string[] = [];
  for (const t of withNamespace) {
    const r = await q.query<{ n: number | string }>(`SELECT count() AS n FROM ${ident(config.blue_database)}.${ident(t.table)} WHERE namespace = 'pink'`);
    const n = Number(r[0]?.n ?? 0);
    if (n > 0) counts.push(`${t.table}: ${n}`);
  }
  return [
    schema,
    counts.length === 0
      ? { id: 'blue-rows', status: 'PASS', detail: `no namespace='pink' row in BLUE's ${blueTables.length} table(s) of ${config.blue_database}` }
      : { id: 'blue-rows', status: 'FAIL', detail: `PINK rows in BLUE's tables: ${counts.join(', ')}` },
  ];
}
