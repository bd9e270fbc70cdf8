// "Check rows before they are written" (STYLE 6): every row the kernel hands the store is checked
// against FAMILY_COLUMNS and encoded, in the same pass. A missing column, an unknown one or a value of
// the wrong type is a programmer error: an assertion naming the family, the column and the row_id,
// thrown from write() so the stack points at whoever built the row.
//
// The wire formats, all in this file (the backend picks one, the spool records which):
// - RowBinary (chDB): a Buffer, no text. String and LowCardinality(String) = LEB128 byte length +
//   UTF-8 bytes; DateTime64(3, 'UTC') = Int64 ms little-endian; Float64 = its 8 bytes little-endian
//   (bit for bit: -0, 5e-324, ±1.79e308 as they are); UInt32 little-endian; UInt8. Half the
//   JavaScript of TabSeparated (no number or date printing) and cheaper for ClickHouse to read.
// - TabSeparated (a server over HTTP, and spool files from before RowBinary): text, `\t` `\n` `\\`
//   `\r` `\0` escaped; times as 'YYYY-MM-DD hh:mm:ss.mmm' (a short number would be read as a date);
//   floats as JavaScript's shortest round-trip text (exact, except that -0 reads back as 0).
import type { RowFamily, RowOut } from '../kernel/types.js';
import { columnType, FAMILY_COLUMNS, type ColumnKind, type ColumnSpec } from './schema.js';

export type WireFormat = 'RowBinary' | 'TabSeparated';
export const WIRE_FORMATS: readonly WireFormat[] = ['RowBinary', 'TabSeparated'];

/** DateTime64(3)'s last representable day; a later ts is a unit mistake (µs or ns for ms). */
export const TIME_MS_MAX = Date.UTC(2299, 11, 31);
const UINT32_MAX = 4_294_967_295;
const TWO_32 = 4_294_967_296;
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

/** One family's share of a batch: its rows, encoded in the batch's format. */
export interface EncodedFamily {
  rows: number;
  bytes: Buffer;
}

export type EncodedBatch = Partial<Record<RowFamily, EncodedFamily>>;

// ---------------------------------------------------------------- checks

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
interface Sink {
  value(kind: ColumnKind, v: string | number): void;
}

/** Checks one row against its family and hands its values, in table order, to `sink`. */
function visitRow(out: RowOut, ctx: RowContext, sink: Sink): void {
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
  if (Object.keys(row).length !== known) {
    const names = new Set(cols.map((c) => c.name));
    const extra = Object.keys(row).filter((k) => !names.has(k));
    throw new RowAssertionError(`store row ${family}: unknown column(s) ${extra.join(', ')} (row_id ${String(rowId)})`);
  }
}

// ---------------------------------------------------------------- TabSeparated

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

class TextLine implements Sink {
  line = '';
  #first = true;
  value(kind: ColumnKind, v: string | number): void {
    // JS prints the shortest text that reads back to the same double; ClickHouse reads it exactly.
    const text = typeof v === 'string' ? escapeText(v) : kind === 'time' ? formatTimeMs(v) : String(v);
    this.line = this.#first ? text : `${this.line}\t${text}`;
    this.#first = false;
  }
}

/** Checks one row against its family and returns its TabSeparated line (with the newline). */
export function encodeRow(out: RowOut, ctx: RowContext): string {
  const sink = new TextLine();
  visitRow(out, ctx, sink);
  return `${sink.line}\n`;
}

// ---------------------------------------------------------------- RowBinary

/** A growing Buffer that RowBinary values are appended to. */
export class RowBinaryBuffer implements Sink {
  buf: Buffer;
  len = 0;

  constructor(capacity = 4096) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  #room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  value(kind: ColumnKind, v: string | number): void {
    if (typeof v === 'string') return this.string(v);
    switch (kind) {
      case 'time':
        // DateTime64(3) is Int64 ms; a checked ms is in 0..2^53, so two exact 32-bit halves.
        this.#room(8);
        this.buf.writeUInt32LE(v % TWO_32, this.len);
        this.buf.writeUInt32LE(Math.floor(v / TWO_32), this.len + 4);
        this.len += 8;
        return;
      case 'float':
        this.#room(8);
        this.len = this.buf.writeDoubleLE(v, this.len);
        return;
      case 'uint32':
        this.#room(4);
        this.len = this.buf.writeUInt32LE(v, this.len);
        return;
      default: // flag: UInt8
        this.#room(1);
        this.buf[this.len++] = v;
    }
  }

  /** LEB128 byte length, then the UTF-8 bytes (a lone surrogate becomes U+FFFD, as Buffer.from does). */
  string(s: string): void {
    const n = s.length;
    this.#room(n * 3 + 5);
    const buf = this.buf;
    if (n < 128) {
      // Short ASCII (ids, symbols, codes: nearly every value) is copied by hand: no native call.
      let o = this.len + 1;
      let i = 0;
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[o++] = c;
      }
      if (i === n) {
        buf[this.len] = n;
        this.len = o;
        return;
      }
    }
    let size = Buffer.byteLength(s, 'utf8');
    let o = this.len;
    while (size >= 0x80) {
      buf[o++] = (size & 0x7f) | 0x80;
      size >>>= 7;
    }
    buf[o++] = size;
    this.len = o + buf.write(s, o, 'utf8');
  }

  bytes(): Buffer {
    return this.buf.subarray(0, this.len);
  }
}

// ---------------------------------------------------------------- batches

/**
 * Checks and encodes a batch, grouped by family, in `format`; throws on the first bad row. Text is
 * joined from an array, not grown with `+=`: a string grown row by row is a tree of thousands of
 * pieces that the garbage collector traces until it is flattened (3-5x the encoding, bench/store.ts).
 */
export function encodeBatch(rows: readonly RowOut[], ctx: RowContext, format: WireFormat = 'RowBinary'): { batch: EncodedBatch; rows: number } {
  const counts: Partial<Record<RowFamily, number>> = {};
  for (const out of rows) counts[out.family] = (counts[out.family] ?? 0) + 1;
  const batch: EncodedBatch = {};
  if (format === 'RowBinary') {
    const bins: Partial<Record<RowFamily, RowBinaryBuffer>> = {};
    for (const out of rows) {
      // ~100-200 bytes a row; the buffer grows if a family's rows are longer.
      visitRow(out, ctx, (bins[out.family] ??= new RowBinaryBuffer(Math.max(256, counts[out.family]! * 192))));
    }
    for (const [family, bin] of Object.entries(bins) as [RowFamily, RowBinaryBuffer][]) batch[family] = { rows: counts[family]!, bytes: bin.bytes() };
  } else {
    const lines: Partial<Record<RowFamily, string[]>> = {};
    for (const out of rows) (lines[out.family] ??= []).push(encodeRow(out, ctx));
    for (const [family, list] of Object.entries(lines) as [RowFamily, string[]][]) batch[family] = { rows: list.length, bytes: Buffer.from(list.join('')) };
  }
  return { batch, rows: rows.length };
}

/** The column list an encoded family is in (the INSERT names it, so order is explicit). */
export function familyColumnNames(family: RowFamily): string[] {
  return FAMILY_COLUMNS[family].map((c) => c.name);
}

/** The `name Type, …` structure ClickHouse reads an encoded family with (file(), input()). */
export function familyStructure(family: RowFamily, columns: readonly string[]): string {
  const byName = new Map(FAMILY_COLUMNS[family].map((c) => [c.name, c]));
  return columns
    .map((name) => {
      const col = byName.get(name);
      if (col === undefined) throw new RowAssertionError(`store: ${family} has no column ${name}`);
      return `${name} ${columnType(col)}`;
    })
    .join(', ');
}
