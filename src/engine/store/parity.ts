// Schema parity (`pink mode-verify` check 2): each of PINK's eight tables has exactly the column
// names and types of BLUE's table of the same family. The reference is BLUE's live table when the
// same ClickHouse has it, else the legacy schema built into pink (schema.ts, the one source).
import type { RowFamily } from '../kernel/types.js';
import { FAMILIES, LEGACY_BLUE_SCHEMA, PINK_ONLY_FAMILIES, type ColumnType, type ReferenceSchema } from './schema.js';

/** Anything that runs a SELECT and returns JSONEachRow objects: a Store, or a test's client. */
export interface Queryable {
  query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
}

export interface FamilyParity {
  family: RowFamily;
  ok: boolean;
  /** False when the table does not exist in the database checked. */
  present: boolean;
  /** In the reference, not in the table. */
  missing: string[];
  /** In the table, not in the reference. */
  extra: string[];
  type_mismatch: { column: string; actual: string; reference: string }[];
  /** Same names and types in another order: reported, not a failure (inserts name their columns). */
  order_differs: boolean;
}

export interface ParityReport {
  ok: boolean;
  families: FamilyParity[];
}

/** The columns of each family's table in `database`, as system.columns spells their types. */
export async function readSchema(q: Queryable, database: string): Promise<Partial<Record<RowFamily, ColumnType[]>>> {
  const rows = await q.query<{ table: string; name: string; type: string }>(
    'SELECT table, name, type FROM system.columns WHERE database = {db:String} AND table IN {families:Array(String)} ORDER BY table, position',
    { db: database, families: [...FAMILIES] },
  );
  const out: Partial<Record<RowFamily, ColumnType[]>> = {};
  for (const r of rows) (out[r.table as RowFamily] ??= []).push({ name: r.name, type: r.type });
  return out;
}

export function compareFamily(family: RowFamily, actual: ColumnType[] | undefined, reference: ColumnType[]): FamilyParity {
  if (actual === undefined) {
    return { family, ok: false, present: false, missing: reference.map((c) => c.name), extra: [], type_mismatch: [], order_differs: false };
  }
  const ref = new Map(reference.map((c) => [c.name, c.type]));
  const act = new Map(actual.map((c) => [c.name, c.type]));
  const missing = reference.filter((c) => !act.has(c.name)).map((c) => c.name);
  const extra = actual.filter((c) => !ref.has(c.name)).map((c) => c.name);
  const type_mismatch = actual
    .filter((c) => ref.has(c.name) && ref.get(c.name) !== c.type)
    .map((c) => ({ column: c.name, actual: c.type, reference: ref.get(c.name)! }));
  const ok = missing.length === 0 && extra.length === 0 && type_mismatch.length === 0;
  const order_differs = ok && actual.some((c, i) => reference[i]?.name !== c.name);
  return { family, ok, present: true, missing, extra, type_mismatch, order_differs };
}

/** Compares PINK's eight tables in `database` with `reference` (default: the built-in legacy schema). */
export async function schemaParity(q: Queryable, database: string, reference: ReferenceSchema = LEGACY_BLUE_SCHEMA): Promise<ParityReport> {
  const actual = await readSchema(q, database);
  const families = FAMILIES.map((f) => compareFamily(f, actual[f], reference[f]));
  return { ok: families.every((f) => f.ok), families };
}

export type ReferenceSource = 'live' | 'builtin';

/**
 * The reference for parity: BLUE's live table of each family where `blue_database` has it, the
 * built-in legacy schema elsewhere. Reads only; BLUE's database is never written.
 */
export async function blueReference(q: Queryable, blueDatabase: string): Promise<{ schema: ReferenceSchema; source: Record<RowFamily, ReferenceSource> }> {
  const live = await readSchema(q, blueDatabase);
  const schema = {} as ReferenceSchema;
  const source = {} as Record<RowFamily, ReferenceSource>;
  for (const f of FAMILIES) {
    const table = live[f];
    schema[f] = table ?? LEGACY_BLUE_SCHEMA[f];
    source[f] = table ? 'live' : 'builtin';
  }
  return { schema, source };
}

/** One line per family that differs, for a check's detail. */
export function describeParity(report: ParityReport): string {
  const bad = report.families.filter((f) => !f.ok);
  if (bad.length === 0) return `all eight tables match; ${PINK_ONLY_NOTE}`;
  return `${bad
    .map((f) => {
      if (!f.present) return `${f.family}: table missing`;
      const parts = [
        f.missing.length > 0 ? `missing ${f.missing.join(', ')}` : '',
        f.extra.length > 0 ? `extra ${f.extra.join(', ')}` : '',
        ...f.type_mismatch.map((m) => `${m.column} is ${m.actual}, reference ${m.reference}`),
      ].filter((p) => p !== '');
      return `${f.family}: ${parts.join('; ')}`;
    })
    .join(' | ')}; ${PINK_ONLY_NOTE}`;
}

/** SPEC 6: mode-verify compares the eight BLUE families only and names the PINK-only ones. */
export const PINK_ONLY_NOTE = `${PINK_ONLY_FAMILIES.join(', ')} is PINK-only (not compared)`;
