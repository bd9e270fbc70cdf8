// "Check rows before they are written" (STYLE 6): every row the kernel hands the store is checked
// against FAMILY_COLUMNS and encoded, in the same pass, as one TabSeparated line. A missing column,
// an unknown one or a value of the wrong type is a programmer error: an assertion naming the family,
// the column and the row_id, thrown from write() so the stack points at whoever built the row.
//
// Why TabSeparated: it is the fastest text format ClickHouse parses (about twice JSONEachRow, which
// looks each key up by name), and @clickhouse/client sends it as raw bytes, so the text encoded here
// is what goes over the wire or into chDB, and what the spool keeps, without a second encoding.
import type { RowFamily, RowOut } from '../kernel/types.js';
import { FAMILY_COLUMNS, type ColumnSpec } from './schema.js';

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

export interface RowContext {
  namespace: string;
  run_id: string;
}

/** One family's share of a batch: its rows, encoded. */
export interface EncodedFamily {
  rows: number;
  text: string;
}

export type EncodedBatch = Partial<Record<RowFamily, EncodedFamily>>;

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' };
const NEEDS_ESCAPE = /[\\\t\n\r\0]/;
const NEEDS_ESCAPE_ALL = /[\\\t\n\r\0]/g;

function escapeText(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(NEEDS_ESCAPE_ALL, (ch) => ESCAPES[ch]!) : s;
}

const MS_PER_DAY = 86_400_000;
// Rows of one step share a day: its 'YYYY-MM-DD ' is formatted once (toISOString costs ~1 µs).
let cachedDay = -1;
let cachedDayText = '';

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Epoch ms → DateTime64(3, 'UTC') text. Text, not a number: ClickHouse reads a short number as a date. */
export function formatTimeMs(ms: number): string {
  const day = Math.floor(ms / MS_PER_DAY);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedDayText = `${new Date(day * MS_PER_DAY).toISOString().slice(0, 10)} `;
  }
  let rest = ms - day * MS_PER_DAY;
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const sec = rest % 60;
  rest = (rest - sec) / 60;
  const min = rest % 60;
  const hour = (rest - min) / 60;
  const milliText = milli < 10 ? `00${milli}` : milli < 100 ? `0${milli}` : String(milli);
  return `${cachedDayText}${pad2(hour)}:${pad2(min)}:${pad2(sec)}.${milliText}`;
}

function fail(family: RowFamily, column: string, expected: string, value: unknown, rowId: unknown): never {
  const shown = typeof value === 'number' ? String(value) : JSON.stringify(value);
  const got = value === undefined ? 'nothing (missing)' : `${typeof value} ${shown}`;
  throw new RowAssertionError(`store row ${family}.${column}: expected ${expected}, got ${got} (row_id ${String(rowId)})`);
}

const EXPECTED: Record<ColumnSpec['kind'], string> = {
  string: 'a string',
  lc: 'a string',
  time: `epoch ms (integer 0..${TIME_MS_MAX})`,
  float: 'a finite number',
  uint32: 'an integer 0..4294967295',
  flag: 'a boolean (or 0/1)',
};

function expected(col: ColumnSpec): string {
  return EXPECTED[col.kind];
}

function encodeValue(family: RowFamily, col: ColumnSpec, value: unknown, rowId: unknown): string {
  switch (col.kind) {
    case 'string':
    case 'lc':
      // null is absent text: BLUE's '' (a kernel record may carry a null id before the venue gives one).
      if (value === null) return '';
      if (typeof value !== 'string') return fail(family, col.name, expected(col), value, rowId);
      if (JSON_COLUMNS.has(col.name)) {
        try {
          JSON.parse(value);
        } catch {
          return fail(family, col.name, 'JSON text', value, rowId);
        }
      }
      return escapeText(value);
    case 'time':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > TIME_MS_MAX) {
        return fail(family, col.name, expected(col), value, rowId);
      }
      return formatTimeMs(value);
    case 'float':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return fail(family, col.name, expected(col), value, rowId);
      }
      // JS prints the shortest text that reads back to the same double; ClickHouse reads it exactly.
      return String(value);
    case 'uint32':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > UINT32_MAX) {
        return fail(family, col.name, expected(col), value, rowId);
      }
      return String(value);
    case 'flag':
      if (value === true || value === 1) return '1';
      if (value === false || value === 0) return '0';
      return fail(family, col.name, expected(col), value, rowId);
  }
}

/** Checks one row against its family and returns its TabSeparated line (with the newline). */
export function encodeRow(out: RowOut, ctx: RowContext): string {
  const family = out.family;
  const cols = FAMILY_COLUMNS[family];
  if (cols === undefined) throw new RowAssertionError(`store row: unknown family ${JSON.stringify(family)}`);
  const row = out.row as Record<string, unknown>;
  const rowId = row['row_id'];
  if (typeof rowId !== 'string' || rowId === '') fail(family, 'row_id', 'a non-empty string', rowId, rowId);
  let line = '';
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
      fail(family, col.name, expected(col), value, rowId);
    } else {
      known++;
    }
    line += (i === 0 ? '' : '\t') + encodeValue(family, col, value, rowId);
  }
  if (Object.keys(row).length !== known) {
    const names = new Set(cols.map((c) => c.name));
    const extra = Object.keys(row).filter((k) => !names.has(k));
    throw new RowAssertionError(`store row ${family}: unknown column(s) ${extra.join(', ')} (row_id ${String(rowId)})`);
  }
  return line + '\n';
}

/**
 * Checks and encodes a batch, grouped by family; throws on the first bad row. Each family's text is
 * joined from an array, not grown with `+=`: a string grown row by row is a tree of thousands of
 * pieces that the garbage collector traces until it is flattened, which cost 3-5x the encoding
 * itself when batches queue up (bench/store.ts).
 */
export function encodeBatch(rows: readonly RowOut[], ctx: RowContext): { batch: EncodedBatch; rows: number } {
  const lines: Partial<Record<RowFamily, string[]>> = {};
  for (const out of rows) {
    const line = encodeRow(out, ctx);
    (lines[out.family] ??= []).push(line);
  }
  const batch: EncodedBatch = {};
  for (const [family, list] of Object.entries(lines) as [RowFamily, string[]][]) batch[family] = { rows: list.length, text: list.join('') };
  return { batch, rows: rows.length };
}

/** The column list an encoded family's text is in (the INSERT names it, so order is explicit). */
export function familyColumnNames(family: RowFamily): string[] {
  return FAMILY_COLUMNS[family].map((c) => c.name);
}
