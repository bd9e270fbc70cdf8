// What the writer sends: queued batches (one write() each) and the units made of them. A unit is
// one batch, or consecutive batches merged when the store is behind (one INSERT per family either
// way: in chDB each INSERT writes a part, 5-10 ms whatever its size, so merging is what lets a
// backlog drain at speed). Which batches went into which unit is recorded in the ledger.
import type { RowFamily, RowOut } from '../kernel/types.js';
import { familyColumnNames, type EncodedBatch, type WireFormat } from './encode.js';
import { PINK_FAMILIES } from './schema.js';
import type { WriterDeps } from './writer.js';
import { SPOOL_FORMAT_VERSION, type SpoolEntry, type SpoolFamily, type SpoolUnit } from './spool.js';

export interface WriterStats {
  pending_rows: number;
  spooled_rows: number;
  spooled_batches: number;
  last_flush_ts: number | null;
  last_error: string | null;
}

/** Rows waiting in memory before the queue is spilled to the spool (~100 bytes a row: ~20 MB). */
export const QUEUE_ROWS_MAX = 200_000;
/**
 * Rows in one unit: big units amortise what each INSERT costs whatever its size (a part). A unit
 * takes batches until it holds this many rows, so it ends less than one batch past it: the rule
 * #gather stops on, so a gathered backlog goes out whole rather than leave a last batch or two to a
 * unit of their own (a part per family like any other: 49 + 49 + 2 batches of ~1,000, bench/store.ts).
 */
export const UNIT_ROWS_MAX = 50_000;
/** How long the pump waits at most for a backlog to fill a unit (see Writer.#gather). */
export const UNIT_GATHER_MS_MAX = 250;
/**
 * A unit from the queue goes at most this often (unless a full unit waits, or flush() asks): the
 * steps written meanwhile go together. Each unit is a part per family in ClickHouse, which keeps
 * ~15 KB of memory for it until merged parts are cleaned up (chDB measured: 4,448 parts, 130 MB),
 * and a ledger fsync. An engine stepping 4 times a second made 32 parts a second, now ~10 (its
 * checkpoint every 10 steps still flushes). Rows land in ClickHouse at most this much later; the
 * journal holds them meanwhile, so nothing is at risk.
 */
export const UNIT_INTERVAL_MS = 1000;
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

/**
 * One INSERT per family, all in flight at once (chDB runs them on its own threads, a server on
 * its own connections). A family that landed leaves the unit; if any failed, the first failure
 * is thrown and what is left of the unit is what gets spooled.
 */
export async function sendUnit(unit: Unit, d: Pick<WriterDeps, 'insert' | 'database' | 'ensureSchema' | 'countRows'>): Promise<void> {
  await d.ensureSchema();
  if (unit.verify !== undefined) await dropLanded(unit, unit.verify, d.countRows);
  const families = PINK_FAMILIES.filter((f) => unit.families[f] !== undefined);
  const results = await Promise.allSettled(
    families.map(async (family) => {
      const part = unit.families[family]!;
      // The token is a setting of this INSERT statement, never a session SET: on chDB a SET outlives
      // the query, and a later insert would be de-duplicated under the wrong token.
      await d.insert(d.database, family, part.columns, `${unit.token}:${family}`, part.format, part.bytes);
    }),
  );
  families.forEach((family, i) => {
    if (results[i]!.status === 'fulfilled') {
      unit.rows -= unit.families[family]!.rows;
      delete unit.families[family];
    }
  });
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
}
