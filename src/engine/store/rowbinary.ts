// RowBinary (chDB): a Buffer, no text. String and LowCardinality(String) = LEB128 byte length +
// UTF-8 bytes; DateTime64(3, 'UTC') = Int64 ms little-endian; Float64 = its 8 bytes little-endian
// (bit for bit: -0, 5e-324, ±1.79e308 as they are); UInt32 little-endian; UInt8. Each value is
// checked as it is written (checks.ts), with the same messages as the TabSeparated path.
import type { RowFamily, RowOut } from '../kernel/types.js';
import { checked, EXPECTED, fail, JSON_COLUMNS, RowAssertionError, TIME_MS_MAX, UINT32_MAX, unknownColumns, type RowContext } from './checks.js';
import { FAMILY_COLUMNS, type ColumnKind, type ColumnSpec } from './schema.js';

const TWO_32 = 4_294_967_296;

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

export const BINARY_PLANS = new Map<string, BinaryPlan>(
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
export function encodeBinaryRow(out: RowOut, ctx: RowContext, bin: RowBinaryBuffer): void {
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


/** One RowBinaryBuffer per family, kept by the writer so that its batches are cut from shared chunks. */
export type RowBinaryBuffers = Partial<Record<RowFamily, RowBinaryBuffer>>;
