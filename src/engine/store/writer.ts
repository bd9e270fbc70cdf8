// The writer: takes one batch per step, returns at once, and sends it off the step's critical path.
//
// Exactly-once, in order:
// - a unit (one batch, or consecutive queued batches sent together when the store falls behind) is
//   sent as one INSERT per family, each with insert_deduplication_token `${unit.token}:${family}`;
//   a unit of one batch carries the runner's own token, so a replayed step de-duplicates too;
// - a unit ClickHouse does not take is written to the spool whole, minus the families that did land,
//   under the same token; it is re-sent unchanged, so a family that landed although its answer was
//   lost is dropped by ClickHouse; the spool drains before the queue, in sequence order;
// - ReplacingMergeTree keyed by row_id is the second defense (schema.ts), and counting queries
//   de-duplicate by row_id (audit.ts).
// Bounded: QUEUE_ROWS_MAX rows wait in memory; past that the queue goes to the spool.
import type { Backend } from './backend.js';
import { EXIT, ExitError } from '../../errors.js';
import type { RowFamily, RowOut } from '../kernel/types.js';
import { encodeBatch, familyColumnNames, RowAssertionError, type EncodedBatch, type RowContext } from './encode.js';
import { FAMILIES } from './schema.js';
import { Spool, spoolFileName, SPOOL_FORMAT_VERSION, type SpoolEntry, type SpoolFamily, type SpoolUnit } from './spool.js';

/** Rows waiting in memory before the queue is spilled to the spool (~120 bytes of text a row: ~24 MB). */
export const QUEUE_ROWS_MAX = 200_000;
/** Rows sent in one unit: big units amortise the 3-5 ms each INSERT costs whatever its size. */
export const UNIT_ROWS_MAX = 50_000;
/** Back-off between attempts while ClickHouse refuses: doubles from MIN up to MAX. */
export const RETRY_DELAY_MS_MIN = 250;
export const RETRY_DELAY_MS_MAX = 30_000;
/** flush() re-runs the pump for batches written while it ran, this many times at most. */
const FLUSH_ROUNDS_MAX = 4;

/** Test hooks that make ClickHouse "fail" for real requests (the counters decrement as they fire). */
export interface StoreFaults {
  /** The next N family inserts fail before they are sent. */
  failNextInserts?: number;
  /** The next N family inserts land, then fail as if the answer had been lost. */
  loseNextAcks?: number;
}

interface QueuedBatch {
  seq: number;
  token: string;
  rows: number;
  families: EncodedBatch;
}

interface Unit extends SpoolUnit {
  /** Where the unit came from: a spool file (deleted once sent) or the queue. */
  entry: SpoolEntry | null;
}

export interface WriterDeps {
  insert: Backend['insert'];
  database: string;
  ctx: RowContext;
  /** Opened before the first write; may already hold units from an earlier run. */
  spool: Spool;
  ensureSchema: () => Promise<void>;
  log: (line: string) => void;
  describeError: (err: unknown) => string;
  faults: StoreFaults;
  /** Bounds, overridable by tests and the bench. */
  queue_rows_max?: number;
  unit_rows_max?: number;
}

export interface WriterStats {
  pending_rows: number;
  spooled_rows: number;
  spooled_batches: number;
  last_flush_ts: number | null;
  last_error: string | null;
}

export class Writer {
  readonly #d: WriterDeps;
  readonly #queueRowsMax: number;
  readonly #unitRowsMax: number;
  #queue: QueuedBatch[] = [];
  #queuedRows = 0;
  #inflightRows = 0;
  /** A unit from the queue that ClickHouse refused and the spool could not take: sent first. */
  #stranded: SpoolUnit | null = null;
  #seq: number;
  #pumping: Promise<void> | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #failures = 0;
  #scheduled = false;
  #closed = false;
  #lastFlushTs: number | null = null;
  #lastError: string | null = null;

  constructor(deps: WriterDeps) {
    this.#d = deps;
    this.#queueRowsMax = deps.queue_rows_max ?? QUEUE_ROWS_MAX;
    this.#unitRowsMax = deps.unit_rows_max ?? UNIT_ROWS_MAX;
    this.#seq = deps.spool.maxSeq();
  }

  /** Checks and encodes the rows now (a bad row throws here), queues them, and returns. */
  write(batch: { token: string; rows: readonly RowOut[] }): void {
    if (this.#closed) throw new RowAssertionError('store: write() after close()');
    if (typeof batch.token !== 'string' || batch.token === '') throw new RowAssertionError('store: a batch needs a non-empty token');
    const { batch: families, rows } = encodeBatch(batch.rows, this.#d.ctx);
    if (rows === 0) return;
    this.#queue.push({ seq: ++this.#seq, token: batch.token, rows, families });
    this.#queuedRows += rows;
    if (this.#queuedRows > this.#queueRowsMax) {
      try {
        this.#spillQueue();
      } catch (err) {
        throw new ExitError(
          EXIT.UNREACHABLE,
          `the store is ${this.#queuedRows} rows behind and its spool ${this.#d.spool.dir} cannot be written: ${this.#d.describeError(err)}`,
          'Free disk space or fix the spool folder; the journal keeps every input for replay.',
        );
      }
      this.#d.log(`store: more than ${this.#queueRowsMax} rows waiting; queue spilled to ${this.#d.spool.dir}`);
    }
    this.#schedule();
  }

  /** Resolves when every batch written so far is in ClickHouse or durably in the spool. */
  async flush(): Promise<void> {
    for (let round = 0; round < FLUSH_ROUNDS_MAX; round++) {
      await this.#run(true);
      if (this.#queue.length === 0) return;
    }
    // Still being written to while flushing: make the rest durable rather than chase it.
    this.#spillQueue();
  }

  /** Flushes, stops retrying, and refuses later writes. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    while (this.#pumping !== null) await this.#pumping;
  }

  stats(): WriterStats {
    return {
      pending_rows: this.#queuedRows + this.#inflightRows + (this.#stranded?.rows ?? 0),
      spooled_rows: this.#d.spool.rows,
      spooled_batches: this.#d.spool.batches,
      last_flush_ts: this.#lastFlushTs,
      last_error: this.#lastError,
    };
  }

  /** Starts a drain of what an earlier run left in the spool (open-time). */
  drainSpool(): void {
    if (this.#d.spool.entries().length > 0) this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled || this.#pumping !== null || this.#retryTimer !== null) {
      // Backing off: nothing is sent until the timer, but the rows are made durable now.
      if (this.#retryTimer !== null && this.#pumping === null && this.#queue.length > 0) this.#spillQueueLogged();
      return;
    }
    this.#scheduled = true;
    // Not inside write(): the step returns first, the pump runs on the next turn of the loop.
    setImmediate(() => {
      this.#scheduled = false;
      // Failures are handled inside; anything else (a spool file that cannot be read) is reported,
      // never an unhandled rejection that would take the engine down.
      this.#run(false).catch((err: unknown) => this.#unexpected(err));
    });
  }

  /** Runs one pump at a time; `force` tries now even while backing off (flush). */
  async #run(force: boolean): Promise<void> {
    while (this.#pumping !== null) await this.#pumping;
    if (!force && (this.#closed || this.#retryTimer !== null)) return;
    if (force && this.#retryTimer !== null) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = null;
    });
    try {
      await this.#pumping;
    } catch (err) {
      // Not ClickHouse refusing (handled in the pump) but the spool failing: report, back off.
      this.#unexpected(err);
      this.#armRetry();
    }
    // A write that landed between the pump's last look at the queue and its end was not scheduled.
    if (this.#queue.length > 0 && this.#retryTimer === null && !this.#closed) this.#schedule();
  }

  async #pump(): Promise<void> {
    for (;;) {
      const unit = this.#nextUnit();
      if (unit === null) return;
      try {
        await this.#send(unit);
      } catch (err) {
        this.#inflightRows = 0;
        this.#onFailure(unit, err);
        return;
      }
      this.#inflightRows = 0;
      if (unit.entry !== null) this.#d.spool.remove(unit.entry);
      this.#failures = 0;
      this.#lastError = null;
      this.#lastFlushTs = Date.now();
      if (unit.entry !== null) this.#d.log(`store: sent spooled unit ${unit.entry.name} (${unit.entry.rows} rows)`);
    }
  }

  /**
   * Oldest first: a stranded unit (it was in flight before anything now spooled), then the spool,
   * then the queue (only ever sent when the spool is empty, so it is the newest).
   */
  #nextUnit(): Unit | null {
    if (this.#stranded !== null) {
      const unit = { ...this.#stranded, entry: null };
      this.#inflightRows = unit.rows;
      this.#stranded = null;
      return unit;
    }
    for (let head = this.#d.spool.entries()[0]; head !== undefined; head = this.#d.spool.entries()[0]) {
      const unit = this.#d.spool.read(head);
      if (unit !== null) return { ...unit, entry: head };
    }
    if (this.#queue.length === 0) return null;
    const take: QueuedBatch[] = [];
    let rows = 0;
    while (this.#queue.length > 0 && (take.length === 0 || rows + this.#queue[0]!.rows <= this.#unitRowsMax)) {
      const b = this.#queue.shift()!;
      take.push(b);
      rows += b.rows;
    }
    this.#queuedRows -= rows;
    this.#inflightRows = rows;
    return { ...unitOf(take), entry: null };
  }

  /**
   * One INSERT per family, all in flight at once (chDB runs them on its own threads, a server on
   * its own connections). A family that landed leaves the unit; if any failed, the first failure
   * is thrown and what is left of the unit is what gets spooled.
   */
  async #send(unit: Unit): Promise<void> {
    await this.#d.ensureSchema();
    const families = FAMILIES.filter((f) => unit.families[f] !== undefined);
    const results = await Promise.allSettled(families.map((f) => this.#insertFamily(unit, f)));
    families.forEach((family, i) => {
      if (results[i]!.status === 'fulfilled') {
        unit.rows -= unit.families[family]!.rows;
        delete unit.families[family];
      }
    });
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
  }

  async #insertFamily(unit: Unit, family: RowFamily): Promise<void> {
    const part = unit.families[family]!;
    const faults = this.#d.faults;
    if ((faults.failNextInserts ?? 0) > 0) {
      faults.failNextInserts!--;
      throw new Error(`injected failure: insert into ${family} refused`);
    }
    // The token is a setting of this INSERT statement, never a session SET: on chDB a SET outlives
    // the query, and a later insert would be de-duplicated under the wrong token.
    await this.#d.insert(this.#d.database, family, part.columns, `${unit.token}:${family}`, part.text);
    if ((faults.loseNextAcks ?? 0) > 0) {
      faults.loseNextAcks!--;
      // It landed, but the answer is "lost": the writer must believe it did not.
      throw new Error(`injected failure: answer to insert into ${family} lost`);
    }
  }

  #onFailure(unit: Unit, err: unknown): void {
    const why = this.#d.describeError(err);
    this.#lastError = why;
    this.#failures++;
    const delay = this.#retryDelayMs();
    const { entry, ...spoolable } = unit;
    try {
      // What did not land goes to the spool under the same name and token (replacing the file it
      // came from, if any), then everything queued behind it.
      this.#d.spool.put(spoolable);
      this.#spillQueue();
      this.#d.log(`store: ClickHouse did not take a unit (${why}); ${this.#d.spool.rows} rows spooled, retry in ${delay} ms`);
    } catch (spoolErr) {
      // A unit from the spool is still whole in its file; one from the queue is kept in memory.
      if (entry === null && this.#stranded === null && !this.#d.spool.entries().some((e) => e.name === spoolFileName(unit.seq_first, unit.seq_last))) {
        this.#stranded = spoolable;
      }
      this.#lastError = `${why}; and the spool cannot be written: ${this.#d.describeError(spoolErr)}`;
      this.#d.log(`store: ${this.#lastError}; ${this.stats().pending_rows} rows held in memory, retry in ${delay} ms`);
    }
    this.#armRetry(delay);
  }

  #retryDelayMs(): number {
    return Math.min(RETRY_DELAY_MS_MAX, RETRY_DELAY_MS_MIN * 2 ** Math.max(0, this.#failures - 1));
  }

  #armRetry(delay: number = this.#retryDelayMs()): void {
    if (this.#retryTimer !== null || this.#closed) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#schedule();
    }, delay);
    // The retry must not keep a finished process alive; close()/flush() settle what is left.
    this.#retryTimer.unref();
  }

  #unexpected(err: unknown): void {
    this.#lastError = `store writer: ${this.#d.describeError(err)}`;
    this.#d.log(this.#lastError);
  }

  #spillQueueLogged(): void {
    try {
      this.#spillQueue();
    } catch (err) {
      this.#lastError = `spool not writable: ${this.#d.describeError(err)}`;
      this.#d.log(`store: ${this.#lastError}; ${this.#queuedRows} rows held in memory`);
    }
  }

  /**
   * Moves every queued batch to the spool, in order, as units of at most unit_rows_max rows. A
   * batch leaves the queue only once its unit is on disk, so a failed write loses nothing.
   */
  #spillQueue(): void {
    while (this.#queue.length > 0) {
      let n = 0;
      let rows = 0;
      while (n < this.#queue.length && (n === 0 || rows + this.#queue[n]!.rows <= this.#unitRowsMax)) rows += this.#queue[n++]!.rows;
      this.#d.spool.put(unitOf(this.#queue.slice(0, n)));
      this.#queue.splice(0, n);
      this.#queuedRows -= rows;
    }
  }
}

/** Consecutive batches as one unit; one batch keeps its own token. */
function unitOf(batches: QueuedBatch[]): SpoolUnit {
  const first = batches[0]!;
  const last = batches[batches.length - 1]!;
  const families: Partial<Record<RowFamily, SpoolFamily>> = {};
  for (const family of FAMILIES) {
    const parts = batches.map((b) => b.families[family]).filter((p) => p !== undefined);
    if (parts.length === 0) continue;
    families[family] = {
      columns: familyColumnNames(family),
      rows: parts.reduce((n, p) => n + p.rows, 0),
      text: parts.length === 1 ? parts[0]!.text : parts.map((p) => p.text).join(''),
    };
  }
  return {
    v: SPOOL_FORMAT_VERSION,
    seq_first: first.seq,
    seq_last: last.seq,
    token: batches.length === 1 ? first.token : `${first.token}..${last.token}#${batches.length}`,
    rows: batches.reduce((n, b) => n + b.rows, 0),
    batches: batches.length,
    families,
  };
}
