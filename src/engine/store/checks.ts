// "Check rows before they are written" (STYLE 6): every row the kernel hands the store is checked
// against FAMILY_COLUMNS, in the same pass that encodes it (encode.ts for TabSeparated, rowbinary.ts
// for RowBinary). A missing column, an unknown one or a value of the wrong type is a programmer
// error: an assertion naming the family, the column and the row_id, thrown from write() so the
// stack points at whoever built the row.
import type { RowFamily, RowOut } from '../kernel/types.js';
import { FAMILY_COLUMNS, type ColumnKind, type ColumnSpec } from './schema.js';

/** DateTime64(3)'s last representable day; a later ts is a unit mistake (µs or ns for ms). */
export const TIME_MS_MAX = Date.UTC(2299, 11, 31);
const UINT32_MAX = 4_294_967_295;
/** Columns that hold JSON text (SPEC 5: anomalies.details). */
const JSON_COLUMNS = new Set(['details']);

export class RowAssertionError extends Error {
  constructor(message: string) {
    super(`assertion: ${message}`);
    this.name = 'RowAssertionError';
  }
}

/** What the store adds to every row (a row that carries either must agree). */
export interface RowContext {
  namespace: string;
  run_id: string;
}

function fail(family: RowFamily, column: string, expected: string, value: unknown, rowId: unknown): never {
  const shown = typeof value === 'number' ? String(value) : JSON.stringify(value);
  const got = value === undefined ? 'nothing (missing)' : `${typeof value} ${shown}`;
  throw new RowAssertionError(`store row ${family}.${column}: expected ${expected}, got ${got} (row_id ${String(rowId)})`);
}

const EXPECTED: Record<ColumnKind, string> = {
  string: 'a string',
  lc: 'a string',
  time: `epoch ms (integer 0..${TIME_MS_MAX})`,
  float: 'a finite number',
  uint32: 'an integer 0..4294967295',
  flag: 'a boolean (or 0/1)',
};

/** The value checked against its column: text for string kinds (null → ''), a number otherwise (flags 0/1). */
function checked(family: RowFamily, col: ColumnSpec, value: unknown, rowId: unknown): string | number {
  switch (col.kind) {
    case 'string':
    case 'lc':
      // null is absent text: BLUE's '' (a kernel record may carry a null id before the venue gives one).
      if (value === null) return '';
      if (typeof value !== 'string') return fail(family, col.name, EXPECTED[col.kind], value, rowId);
      if (JSON_COLUMNS.has(col.name)) {
        try {
          JSON.parse(value);
        } catch {
          return fail(family, col.name, 'JSON text', value, rowId);
        }
      }
      return value;
    case 'time':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > TIME_MS_MAX) return fail(family, col.name, EXPECTED.time, value, rowId);
      return value;
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) return fail(family, col.name, EXPECTED.float, value, rowId);
      return value;
    case 'uint32':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > UINT32_MAX) return fail(family, col.name, EXPECTED.uint32, value, rowId);
      return value;
    case 'flag':
      if (value === true || value === 1) return 1;
      if (value === false || value === 0) return 0;
      return fail(family, col.name, EXPECTED.flag, value, rowId);
  }
}

/** Receives a row's checked values in column order. */
export interface Sink {
  value(kind: ColumnKind, v: string | number): void;
}

/** Checks one row against its family and hands its values, in table order, to `sink`. */
export function visitRow(out: RowOut, ctx: RowContext, sink: Sink): void {
  const family = out.family;
  const cols = FAMILY_COLUMNS[family];
  if (cols === undefined) throw new RowAssertionError(`store row: unknown family ${JSON.stringify(family)}`);
  const row = out.row as Record<string, unknown>;
  const rowId = row['row_id'];
  if (typeof rowId !== 'string' || rowId === '') fail(family, 'row_id', 'a non-empty string', rowId, rowId);
  let known = 0;
  for (let i = 0; i < cols.length; i++) {
    const col = cols[i]!;
    let value = row[col.name];
    if (col.name === 'namespace' || col.name === 'run_id') {
      // The store adds both; a row that carries one must agree with the store.
      const own = col.name === 'namespace' ? ctx.namespace : ctx.run_id;
      if (value !== undefined) {
        known++;
        if (value !== own) fail(family, col.name, JSON.stringify(own), value, rowId);
      }
      value = own;
    } else if (value === undefined) {
      fail(family, col.name, EXPECTED[col.kind], value, rowId);
    } else {
      known++;
    }
    sink.value(col.kind, checked(family, col, value, rowId));
  }
  // Counted with for-in (no array per row); Object.keys only when they differ.
  let keys = 0;
  for (const _key in row) keys++;
  if (keys !== known && Object.keys(row).length !== known) unknownColumns(family, cols, row, rowId);
}

function unknownColumns(family: RowFamily, cols: readonly ColumnSpec[], row: Record<string, unknown>, rowId: unknown): never {
  const names = new Set(cols.map((c) => c.name));
  const extra = Object.keys(row).filter((k) => !names.has(k));
  throw new RowAssertionError(`store row ${family}: unknown column(s) ${extra.join(', ')} (row_id ${String(rowId)})`);
}
