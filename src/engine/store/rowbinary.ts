// RowBinary (chDB): a Buffer, no text. String and LowCardinality(String) = LEB128 byte length +
// UTF-8 bytes; DateTime64(3, 'UTC') = Int64 ms little-endian; Float64 = its 8 bytes little-endian
// (bit for bit: -0, 5e-324, ±1.79e308 as they are); UInt32 little-endian; UInt8. Values arrive
// checked, in table order, from visitRow (checks.ts), as for TabSeparated.
import type { RowFamily } from '../kernel/types.js';
import type { Sink } from './checks.js';
import type { ColumnKind } from './schema.js';

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
export class RowBinaryBuffer implements Sink {
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

  /** One checked value (visitRow, checks.ts) in its column's binary form. */
  value(kind: ColumnKind, v: string | number): void {
    if (typeof v === 'string') return this.string(v);
    switch (kind) {
      case 'time':
        return this.int64(v);
      case 'float':
        return this.float64(v);
      case 'uint32':
        return this.uint32(v);
      default: // flag: UInt8
        return this.uint8(v);
    }
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

/** One RowBinaryBuffer per family, kept by the writer so that its batches are cut from shared chunks. */
export type RowBinaryBuffers = Partial<Record<RowFamily, RowBinaryBuffer>>;
