// Rows to the wire, batch by batch, checked in the same pass (checks.ts). The two wire formats (the
// backend picks one, the spool records which):
// - RowBinary (chDB; rowbinary.ts): a Buffer, no text. Half the JavaScript of TabSeparated (no number
//   or date printing) and cheaper for ClickHouse to read.
// - TabSeparated (a server over HTTP, and spool files from before RowBinary): text, `\t` `\n` `\\`
//   `\r` `\0` escaped; times as 'YYYY-MM-DD hh:mm:ss.mmm' (a short number would be read as a date);
//   floats as JavaScript's shortest round-trip text (exact, except that -0 reads back as 0).
import type { RowFamily, RowOut } from '../kernel/types.js';
import { RowAssertionError, visitRow, type RowContext, type Sink } from './checks.js';
import { ROW_BINARY_CHUNK_MIN_BYTES, RowBinaryBuffer, type RowBinaryBuffers } from './rowbinary.js';
import { columnType, FAMILY_COLUMNS, type ColumnKind } from './schema.js';

export { RowAssertionError, TIME_MS_MAX, type RowContext } from './checks.js';
export { RowBinaryBuffer, type RowBinaryBuffers } from './rowbinary.js';

export type WireFormat = 'RowBinary' | 'TabSeparated';
export const WIRE_FORMATS: readonly WireFormat[] = ['RowBinary', 'TabSeparated'];

/** One family's share of a batch: its rows, encoded in the batch's format. */
export interface EncodedFamily {
  rows: number;
  bytes: Buffer;
}

export type EncodedBatch = Partial<Record<RowFamily, EncodedFamily>>;

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
    const families = (Object.keys(counts) as RowFamily[]).filter((f) => FAMILY_COLUMNS[f] !== undefined);
    // Without the writer's buffers: ~100-200 bytes a row; a buffer grows if a family's rows are longer.
    for (const f of families) (bins[f] ??= new RowBinaryBuffer(buffers === undefined ? Math.max(256, counts[f]! * 192) : ROW_BINARY_CHUNK_MIN_BYTES)).rewind();
    try {
      for (const out of rows) {
        const bin = bins[out.family];
        if (bin === undefined) throw new RowAssertionError(`store row: unknown family ${JSON.stringify(out.family)}`);
        visitRow(out, ctx, bin);
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
