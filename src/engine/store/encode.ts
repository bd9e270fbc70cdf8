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

/**
 * What a RowBinaryBuffer takes from the allocator at a time: a chunk holds about CHUNK_BATCHES
 * batches of the size last written, within these bounds. Batches are cut from one chunk end to end,
 * so the batches of a merged unit are usually one view of it, not a copy (units.ts); a chunk lives
 * while a batch cut from it waits in the queue (at most QUEUE_ROWS_MAX rows, writer.ts). Sized by
 * the batches, an engine's steps of a few rows hold 64 KB a family, a backlog of 1,000-row writes
 * 4 MB.
 */
export const ROW_BINARY_CHUNK_MIN_BYTES = 64 * 1024;
export const ROW_BINARY_CHUNK_MAX_BYTES = 4 * 1024 * 1024;
const CHUNK_BATCHES = 64;

/**
 * A growing Buffer that RowBinary values are appended to, batch after batch: `cut()` hands out what
 * was written since the last cut (never written again), `rewind()` drops a batch that failed its
 * checks half-way.
 */
export class RowBinaryBuffer {
  buf: Buffer;
  len = 0;
  /** Where the batch being written starts (everything before it has been cut). */
  #start = 0;
  #view: DataView;
  /** Bytes of the last batch cut: what the next chunk is sized by. */
  #lastBatch = 0;

  constructor(firstChunkBytes = ROW_BINARY_CHUNK_MIN_BYTES) {
    this.buf = Buffer.allocUnsafe(firstChunkBytes);
    this.#view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  /** Room for `n` more bytes: a new chunk (the batch so far moves along) when this one is full. */
  room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const batch = this.len - this.#start;
    const sized = CHUNK_BATCHES * Math.max(this.#lastBatch, batch + n);
    const next = Buffer.allocUnsafe(Math.max(2 * (batch + n), Math.min(ROW_BINARY_CHUNK_MAX_BYTES, Math.max(ROW_BINARY_CHUNK_MIN_BYTES, sized))));
    this.buf.copy(next, 0, this.#start, this.len);
    this.buf = next;
    this.#view = new DataView(next.buffer, next.byteOffset, next.length);
    this.#start = 0;
    this.len = batch;
  }

  /** DateTime64(3) is Int64 ms; a checked ms is in 0..2^53, so two exact 32-bit halves. */
  int64(v: number): void {
    this.room(8);
    const lo = v % TWO_32;
    this.#view.setUint32(this.len, lo, true);
    this.#view.setUint32(this.len + 4, (v - lo) / TWO_32, true);
    this.len += 8;
  }

  float64(v: number): void {
    this.room(8);
    this.#view.setFloat64(this.len, v, true);
    this.len += 8;
  }

  uint32(v: number): void {
    this.room(4);
    this.#view.setUint32(this.len, v, true);
    this.len += 4;
  }

  uint8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v;
  }

  /** LEB128 byte length, then the UTF-8 bytes (a lone surrogate becomes U+FFFD, as Buffer.from does). */
  string(s: string): void {
    const n = s.length;
    this.room(n * 3 + 5);
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

  /** What was written since the last cut; those bytes are never written again. */
  cut(): Buffer {
    const bytes = this.buf.subarray(this.#start, this.len);
    this.#lastBatch = bytes.length;
    this.#start = this.len;
    return bytes;
  }

  rewind(): void {
    this.len = this.#start;
  }
}

/** What the RowBinary encoder does with a column, decided once per family (not per value). */
const enum Op {
  Text,
  Json,
  Namespace,
  RunId,
  Time,
  Float,
  Uint32,
  Flag,
}

interface BinaryPlan {
  cols: readonly ColumnSpec[];
  ops: readonly Op[];
}

const KIND_OP: Record<ColumnKind, Op> = { string: Op.Text, lc: Op.Text, time: Op.Time, float: Op.Float, uint32: Op.Uint32, flag: Op.Flag };

const BINARY_PLANS = new Map<string, BinaryPlan>(
  (Object.entries(FAMILY_COLUMNS) as [RowFamily, readonly ColumnSpec[]][]).map(([family, cols]) => {
    const ops = cols.map((c) => (c.name === 'namespace' ? Op.Namespace : c.name === 'run_id' ? Op.RunId : c.kind !== 'time' && c.kind !== 'float' && c.kind !== 'uint32' && c.kind !== 'flag' && JSON_COLUMNS.has(c.name) ? Op.Json : KIND_OP[c.kind]));
    return [family, { cols, ops }];
  }),
);

/**
 * Checks one row against its family and appends it as RowBinary: the same checks, in the same
 * order and with the same messages, as visitRow + checked (the TabSeparated path), one switch per
 * value instead of a check then a write.
 */
function encodeBinaryRow(out: RowOut, ctx: RowContext, bin: RowBinaryBuffer): void {
  const family = out.family;
  const plan = BINARY_PLANS.get(family);
  if (plan === undefined) throw new RowAssertionError(`store row: unknown family ${JSON.stringify(family)}`);
  const row = out.row as Record<string, unknown>;
  const rowId = row['row_id'];
  if (typeof rowId !== 'string' || rowId === '') fail(family, 'row_id', 'a non-empty string', rowId, rowId);
  const { cols, ops } = plan;
  let known = 0;
  for (let i = 0; i < ops.length; i++) {
    const name = cols[i]!.name;
    const value = row[name];
    switch (ops[i]!) {
      case Op.Namespace:
      case Op.RunId: {
        // The store adds both; a row that carries one must agree with the store.
        const own = ops[i] === Op.Namespace ? ctx.namespace : ctx.run_id;
        if (value !== undefined) {
          known++;
          if (value !== own) fail(family, name, JSON.stringify(own), value, rowId);
        }
        bin.string(own);
        break;
      }
      case Op.Text:
      case Op.Json:
        // null is absent text: BLUE's '' (a kernel record may carry a null id before the venue gives one).
        if (typeof value === 'string') {
          if (ops[i] === Op.Json) checked(family, cols[i]!, value, rowId);
          bin.string(value);
        } else if (value === null) {
          bin.string('');
        } else {
          fail(family, name, EXPECTED[cols[i]!.kind], value, rowId);
        }
        known++;
        break;
      case Op.Time:
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > TIME_MS_MAX) fail(family, name, EXPECTED.time, value, rowId);
        bin.int64(value);
        known++;
        break;
      case Op.Float:
        if (typeof value !== 'number' || !Number.isFinite(value)) fail(family, name, EXPECTED.float, value, rowId);
        bin.float64(value);
        known++;
        break;
      case Op.Uint32:
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > UINT32_MAX) fail(family, name, EXPECTED.uint32, value, rowId);
        bin.uint32(value);
        known++;
        break;
      case Op.Flag:
        if (value === true || value === 1) bin.uint8(1);
        else if (value === false || value === 0) bin.uint8(0);
        else fail(family, name, EXPECTED.flag, value, rowId);
        known++;
        break;
    }
  }
  // Counted with for-in (no array per row); Object.keys, as visitRow does, only when they differ.
  let keys = 0;
  for (const _key in row) keys++;
  if (keys !== known && Object.keys(row).length !== known) unknownColumns(family, cols, row, rowId);
}

function unknownColumns(family: RowFamily, cols: readonly ColumnSpec[], row: Record<string, unknown>, rowId: unknown): never {
  const names = new Set(cols.map((c) => c.name));
  const extra = Object.keys(row).filter((k) => !names.has(k));
  throw new RowAssertionError(`store row ${family}: unknown column(s) ${extra.join(', ')} (row_id ${String(rowId)})`);
}

/** One RowBinaryBuffer per family, kept by the writer so that its batches are cut from shared chunks. */
export type RowBinaryBuffers = Partial<Record<RowFamily, RowBinaryBuffer>>;

// ---------------------------------------------------------------- batches

/**
 * Checks and encodes a batch, grouped by family, in `format`; throws on the first bad row (and
 * nothing of the batch stays in `buffers`). Text is joined from an array, not grown with `+=`: a
 * string grown row by row is a tree of thousands of pieces that the garbage collector traces until
 * it is flattened (3-5x the encoding, bench/store.ts). `buffers`: where RowBinary goes (the
 * writer's, reused from batch to batch); without it, buffers of the batch's own size.
 */
export function encodeBatch(rows: readonly RowOut[], ctx: RowContext, format: WireFormat = 'RowBinary', buffers?: RowBinaryBuffers): { batch: EncodedBatch; rows: number } {
  const counts: Partial<Record<RowFamily, number>> = {};
  for (const out of rows) counts[out.family] = (counts[out.family] ?? 0) + 1;
  const batch: EncodedBatch = {};
  if (format === 'RowBinary') {
    const bins: RowBinaryBuffers = buffers ?? {};
    const families = (Object.keys(counts) as RowFamily[]).filter((f) => BINARY_PLANS.has(f));
    // Without the writer's buffers: ~100-200 bytes a row; a buffer grows if a family's rows are longer.
    for (const f of families) (bins[f] ??= new RowBinaryBuffer(buffers === undefined ? Math.max(256, counts[f]! * 192) : ROW_BINARY_CHUNK_MIN_BYTES)).rewind();
    try {
      for (const out of rows) {
        const bin = bins[out.family];
        if (bin === undefined) throw new RowAssertionError(`store row: unknown family ${JSON.stringify(out.family)}`);
        encodeBinaryRow(out, ctx, bin);
      }
    } catch (err) {
      for (const f of families) bins[f]!.rewind();
      throw err;
    }
    for (const f of families) batch[f] = { rows: counts[f]!, bytes: bins[f]!.cut() };
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
