// What the writer sends: queued batches (one write() each) and the units made of them. A unit is
// one batch, or consecutive batches merged when the store is behind (one INSERT per family either
// way: in chDB each INSERT writes a part, 5-10 ms whatever its size, so merging is what lets a
// backlog drain at speed). Which batches went into which unit is recorded in the ledger.
import type { RowFamily, RowOut } from '../kernel/types.js';
import { familyColumnNames, type EncodedBatch, type WireFormat } from './encode.js';
import { PINK_FAMILIES } from './schema.js';
import { SPOOL_FORMAT_VERSION, type SpoolEntry, type SpoolFamily, type SpoolUnit } from './spool.js';

/** Test hooks that make ClickHouse "fail" for real requests (the counters decrement as they fire). */
export interface StoreFaults {
  /** The next N family inserts fail before they are sent. */
  failNextInserts?: number;
  /** The next N family inserts land, then fail as if the answer had been lost. */
  loseNextAcks?: number;
}

export interface WriterStats {
  pending_rows: number;
  spooled_rows: number;
  spooled_batches: number;
  last_flush_ts: number | null;
  last_error: string | null;
}

/**
 * How a queued batch may be sent: `merge` (a new batch: free to share a unit), `alone` (its token
 * was sent before as a unit of its own: re-sent under that token, ClickHouse drops it if it landed),
 * `verify` (it was part of a merged unit of an earlier process whose fate is unknown: sent alone,
 * each family only if its row ids are not in ClickHouse yet).
 */
export type SendMode = 'merge' | 'alone' | 'verify';

export interface QueuedBatch {
  seq: number;
  token: string;
  rows: number;
  format: WireFormat;
  families: EncodedBatch;
  mode: SendMode;
  verify?: Partial<Record<RowFamily, string[]>>;
}

export interface Unit extends SpoolUnit {
  /** Where the unit came from: a spool file (deleted once sent) or the queue. */
  entry: SpoolEntry | null;
  /** The batch tokens to record in the ledger before the unit is sent or spooled; null once recorded. */
  record: string[] | null;
  /** The queued batches it was made of (null: from the spool), to put back if it cannot be recorded. */
  parts: QueuedBatch[] | null;
}

/** Per family, the row ids of a batch (what `verify` looks for). */
export function rowIdsByFamily(rows: readonly RowOut[]): Partial<Record<RowFamily, string[]>> {
  const ids: Partial<Record<RowFamily, string[]>> = {};
  for (const r of rows) (ids[r.family] ??= []).push(r.row.row_id);
  return ids;
}

/**
 * The bytes of consecutive batches as one Buffer. The writer cuts them from one chunk end to end
 * (RowBinaryBuffer, encode.ts), so they are usually one view of it; otherwise (a chunk boundary, a
 * batch skipped between them, a spooled unit) a copy.
 */
export function joined(parts: readonly Buffer[]): Buffer {
  const first = parts[0]!;
  let end = first.byteOffset + first.length;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.buffer !== first.buffer || p.byteOffset !== end) return Buffer.concat(parts);
    end += p.length;
  }
  return parts.length === 1 ? first : Buffer.from(first.buffer, first.byteOffset, end - first.byteOffset);
}

/** Consecutive batches (of one format) as one unit; one batch keeps its own token. */
export function unitOf(batches: readonly QueuedBatch[]): Unit {
  const first = batches[0]!;
  const last = batches[batches.length - 1]!;
  const families: Partial<Record<RowFamily, SpoolFamily>> = {};
  for (const family of PINK_FAMILIES) {
    const parts = batches.map((b) => b.families[family]).filter((p) => p !== undefined);
    if (parts.length === 0) continue;
    families[family] = {
      columns: familyColumnNames(family),
      rows: parts.reduce((n, p) => n + p.rows, 0),
      format: first.format,
      bytes: joined(parts.map((p) => p.bytes)),
    };
  }
  const unit: Unit = {
    v: SPOOL_FORMAT_VERSION,
    seq_first: first.seq,
    seq_last: last.seq,
    token: batches.length === 1 ? first.token : `${first.token}..${last.token}#${batches.length}`,
    rows: batches.reduce((n, b) => n + b.rows, 0),
    batches: batches.length,
    families,
    entry: null,
    parts: [...batches],
    // A verify batch is already covered by the merged unit it came from: recording it as a unit of
    // its own would make a later replay skip the check.
    record: first.mode === 'verify' ? null : batches.map((b) => b.token),
  };
  if (first.verify !== undefined) unit.verify = first.verify;
  return unit;
}

/** The unit as the spool keeps it. */
export function spoolable(unit: Unit): SpoolUnit {
  const { v, seq_first, seq_last, token, rows, batches, families, verify } = unit;
  return verify === undefined ? { v, seq_first, seq_last, token, rows, batches, families } : { v, seq_first, seq_last, token, rows, batches, families, verify };
}

/**
 * A verify unit: a family with any of its row ids in ClickHouse already landed with its merged unit
 * (one INSERT: all or nothing) and leaves the unit. Not all of them need be there: a trade's open
 * row may have been replaced by its close (`legs` is the version). A trade's open row whose close
 * was in another batch of the merged unit is sent again: the close still replaces it.
 */
export async function dropLanded(unit: Unit, verify: Partial<Record<RowFamily, string[]>>, countRows: (family: RowFamily, ids: readonly string[]) => Promise<number>): Promise<void> {
  for (const family of PINK_FAMILIES) {
    const part = unit.families[family];
    const ids = verify[family];
    if (part === undefined || ids === undefined || ids.length === 0) continue;
    if ((await countRows(family, ids)) === 0) continue;
    unit.rows -= part.rows;
    delete unit.families[family];
  }
}
