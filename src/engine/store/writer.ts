// The writer: takes one batch per step, returns at once, and sends it off the step's critical path.
//
// Exactly-once, in order:
// - a unit (one batch, or consecutive queued batches merged when the store falls behind, until it
//   holds unit_rows_max rows) is sent as one INSERT per family, each with insert_deduplication_token
//   `${unit.token}:${family}`; a unit of one batch carries the runner's own token;
// - every unit is recorded in the ledger before it is first sent or spooled, so a step replayed
//   from the journal after a crash lands once whatever unit it first went out in (ledger.ts);
// - a unit ClickHouse does not take is written to the spool whole, minus the families that did land,
//   under the same token; it is re-sent unchanged, so a family that landed although its answer was
//   lost is dropped by ClickHouse; the spool drains before the queue, in sequence order;
// - ReplacingMergeTree keyed by row_id is the second defense (schema.ts), and counting queries
//   de-duplicate by row_id (audit.ts).
// Bounded: QUEUE_ROWS_MAX rows wait in memory; past that the queue goes to the spool.
// Which unit goes next, and where a refused one goes, is the table in places.ts: every unit moves
// through its `move`.
import type { Backend } from './backend.js';
import { EXIT, ExitError } from '../../errors.js';
import type { RowFamily, RowOut } from '../kernel/types.js';
import { encodeBatch, RowAssertionError, type RowBinaryBuffers, type RowContext, type WireFormat } from './encode.js';
import type { Ledger } from './ledger.js';
import { move, olderThanQueueWait, PLACE_RULES, SOURCE_ORDER, StoreAssertionError, waitingPlace, type Source, type UnitPlace } from './places.js';
import { Spool, spoolFileName } from './spool.js';
import { rowIdsByFamily, sendUnit, spoolable, unitOf, QUEUE_ROWS_MAX, UNIT_GATHER_MS_MAX, UNIT_INTERVAL_MS, UNIT_ROWS_MAX, type QueuedBatch, type Unit, type WriterStats } from './units.js';

export type { WriterStats } from './units.js';
export { QUEUE_ROWS_MAX, UNIT_GATHER_MS_MAX, UNIT_INTERVAL_MS, UNIT_ROWS_MAX } from './units.js';

/** Back-off between attempts while ClickHouse refuses: doubles from MIN up to MAX. */
export const RETRY_DELAY_MS_MIN = 250;
export const RETRY_DELAY_MS_MAX = 30_000;
/** flush() re-runs the pump for batches written while it ran, this many times at most. */
const FLUSH_ROUNDS_MAX = 4;

export interface WriterDeps {
  /** The backend's insert (openStore wraps it in the test faults, faults.ts, when it is given any). */
  insert: Backend['insert'];
  /** The backend's wire format (encode.ts): what write() encodes into. */
  format: WireFormat;
  /** How many of `rowIds` are in `family` already (for `verify` units). */
  countRows: (family: RowFamily, rowIds: readonly string[]) => Promise<number>;
  database: string;
  ctx: RowContext;
  /** Opened before the first write; may already hold units from an earlier run. */
  spool: Spool;
  /** Opened with the spool; which batch tokens went into which unit. */
  ledger: Ledger;
  ensureSchema: () => Promise<void>;
  log: (line: string) => void;
  /** A unit ClickHouse did not take (the error log's STORE_SPOOLING line; the store adds the fix). */
  fault?: (reason: string) => void;
  describeError: (err: unknown) => string;
  /** Bounds, overridable by tests and the bench. */
  queue_rows_max?: number;
  unit_rows_max?: number;
  unit_interval_ms?: number;
}

export class Writer {
  readonly #d: WriterDeps;
  readonly #queueRowsMax: number;
  readonly #unitRowsMax: number;
  readonly #unitIntervalMs: number;
  /** When the last unit was taken to be sent (performance.now()); see UNIT_INTERVAL_MS. */
  #lastUnitAt = -Infinity;
  #queue: QueuedBatch[] = [];
  /** Where write() encodes RowBinary: consecutive batches end to end, so a merged unit is not a copy. */
  readonly #bins: RowBinaryBuffers = {};
  #queuedRows = 0;
  #inflightRows = 0;
  /** The unit STRANDED (places.ts), if any: sent first. */
  #stranded: Unit | null = null;
  #seq: number;
  #pumping: Promise<void> | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #failures = 0;
  #scheduled = false;
  /** A write() came since the pump last looked at the queue (see #gather). */
  #writtenSinceLook = false;
  /** The ledger could not be written: no merged units until it can (see #record). */
  #mergeOff = false;
  #closed = false;
  #lastFlushTs: number | null = null;
  #lastError: string | null = null;

  constructor(deps: WriterDeps) {
    this.#d = deps;
    this.#queueRowsMax = deps.queue_rows_max ?? QUEUE_ROWS_MAX;
    this.#unitRowsMax = deps.unit_rows_max ?? UNIT_ROWS_MAX;
    this.#unitIntervalMs = deps.unit_interval_ms ?? UNIT_INTERVAL_MS;
    this.#seq = deps.spool.maxSeq();
  }

  /** Checks and encodes the rows now (a bad row throws here), queues them, and returns. */
  write(batch: { token: string; rows: readonly RowOut[] }): void {
    if (this.#closed) throw new RowAssertionError('store: write() after close()');
    if (typeof batch.token !== 'string' || batch.token === '') throw new RowAssertionError('store: a batch needs a non-empty token');
    const format = this.#d.format;
    const { batch: families, rows } = encodeBatch(batch.rows, this.#d.ctx, format, this.#bins);
    if (rows === 0) return;
    // A replay (or a second write) of a token already sent: see the header and ledger.ts.
    const cover = this.#d.ledger.cover(batch.token);
    if (cover === 'covered' || this.#queue.some((b) => b.token === batch.token)) return;
    const queued: QueuedBatch = { seq: ++this.#seq, token: batch.token, rows, format, families, mode: cover === 'new' ? 'merge' : cover === 'alone' ? 'alone' : 'verify' };
    if (cover === 'unknown') queued.verify = rowIdsByFamily(batch.rows);
    this.#queue.push(queued);
    this.#writtenSinceLook = true;
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
    this.#d.ledger.close();
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
    // Not inside write(): the step returns first, the pump runs on the next turn of the loop, or
    // when UNIT_INTERVAL_MS has passed since the last unit.
    const go = (): void => {
      this.#scheduled = false;
      // Failures are handled inside; anything else (a spool file that cannot be read) is reported,
      // never an unhandled rejection that would take the engine down.
      this.#run(false).catch((err: unknown) => this.#unexpected(err));
    };
    const wait = this.#lingerMs();
    if (wait > 0) setTimeout(go, wait);
    else setImmediate(go);
  }

  /** How long the next unit from the queue should wait (UNIT_INTERVAL_MS); 0 for older rows or a full unit. */
  #lingerMs(): number {
    if (olderThanQueueWait(this.#waiting) || this.#queuedRows >= this.#unitRowsMax) return 0;
    return Math.max(0, this.#lastUnitAt + this.#unitIntervalMs - performance.now());
  }

  /** Runs one pump at a time; `force` tries now even while backing off (flush). */
  async #run(force: boolean): Promise<void> {
    while (this.#pumping !== null) await this.#pumping;
    if (!force && (this.#closed || this.#retryTimer !== null)) return;
    if (force && this.#retryTimer !== null) {
      clearTimeout(this.#retryTimer);
      this.#retryTimer = null;
    }
    this.#pumping = this.#pump(force).finally(() => {
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

  /** Sends units until none is left, or (not forced) the next one should wait (#lingerMs). */
  async #pump(force: boolean): Promise<void> {
    for (;;) {
      if (!force && this.#lingerMs() > 0) return;
      await this.#gather();
      const next = this.#nextUnit();
      if (next === null) return;
      const { unit, place } = next;
      this.#lastUnitAt = performance.now();
      try {
        if (unit.record !== null && !(await this.#record(unit, place))) continue;
        await sendUnit(unit, this.#d);
      } catch (err) {
        this.#inflightRows = 0;
        this.#onFailure(unit, place, err);
        return;
      }
      this.#inflightRows = 0;
      move(place, 'LANDED');
      this.#d.ledger.landed(unit.token);
      if (unit.entry !== null) this.#d.spool.remove(unit.entry);
      this.#failures = 0;
      this.#lastError = null;
      this.#lastFlushTs = Date.now();
      if (unit.entry !== null) this.#d.log(`store: sent spooled unit ${unit.entry.name} (${unit.entry.rows} rows)`);
    }
  }

  /**
   * While writes keep arriving turn after turn (a backlog, a replay), waits for them, up to a full
   * unit or UNIT_GATHER_MS_MAX: each unit costs eight parts (5-10 ms of CPU each in chDB, whatever
   * their size), so a few full units drain a burst faster than many small ones. A single step
   * (nothing written in the turn after it) goes at once.
   */
  async #gather(): Promise<void> {
    const t0 = performance.now();
    while (
      this.#writtenSinceLook && !olderThanQueueWait(this.#waiting) && this.#queue.length > 0 &&
      this.#queuedRows < this.#unitRowsMax && performance.now() - t0 < UNIT_GATHER_MS_MAX
    ) {
      this.#writtenSinceLook = false;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    this.#writtenSinceLook = false;
  }

  /** Whether a unit waits in `source`. */
  readonly #waiting = (source: Source): boolean => {
    if (source === 'stranded') return this.#stranded !== null;
    if (source === 'spool') return this.#d.spool.entries().length > 0;
    return this.#queue.length > 0;
  };

  /** The oldest waiting unit (SOURCE_ORDER, places.ts), taken: SENDING from where it waited. */
  #nextUnit(): { unit: Unit; place: UnitPlace } | null {
    for (const source of SOURCE_ORDER) {
      const unit = this.#take(source);
      if (unit === null) continue;
      const place = move(waitingPlace(source), 'TAKEN');
      if (PLACE_RULES[place].counted === 'pending_rows') this.#inflightRows = unit.rows;
      return { unit, place };
    }
    return null;
  }

  #take(source: Source): Unit | null {
    if (source === 'stranded') {
      const unit = this.#stranded;
      this.#stranded = null;
      return unit;
    }
    if (source === 'spool') {
      for (let head = this.#d.spool.entries()[0]; head !== undefined; head = this.#d.spool.entries()[0]) {
        const unit = this.#d.spool.read(head);
        // Recorded when it was spooled.
        if (unit !== null) return { ...unit, entry: head, record: null, parts: null };
      }
      return null;
    }
    const n = this.#takeable();
    if (n === 0) return null;
    const unit = unitOf(this.#queue.splice(0, n));
    this.#queuedRows -= unit.rows;
    return unit;
  }

  /** How many batches at the head of the queue make the next unit: mergeable ones until it holds the row bound. */
  #takeable(): number {
    const q = this.#queue;
    if (q.length === 0) return 0;
    if (q[0]!.mode !== 'merge' || this.#mergeOff) return 1;
    let n = 1;
    let rows = q[0]!.rows;
    while (n < q.length && q[n]!.mode === 'merge' && rows < this.#unitRowsMax) rows += q[n++]!.rows;
    return n;
  }

  #onFailure(unit: Unit, place: UnitPlace, err: unknown): void {
    const why = this.#d.describeError(err);
    this.#lastError = why;
    this.#failures++;
    const delay = this.#retryDelayMs();
    try {
      // What did not land goes to the spool under the same name and token (replacing the file it
      // came from, if any), then everything queued behind it.
      this.#d.spool.put(spoolable(unit));
      move(place, 'REFUSED_SPOOLED');
      this.#spillQueue();
      this.#d.log(`store: ClickHouse did not take a unit (${why}); ${this.#d.spool.rows} rows spooled, retry in ${delay} ms`);
      this.#d.fault?.(`ClickHouse did not take a unit (${why}); ${this.#d.spool.rows} rows spooled, retry in ${delay} ms`);
    } catch (spoolErr) {
      // The put may have gone through and the queue's spill failed after it: its file says which.
      const onDisk = this.#d.spool.entries().some((e) => e.name === spoolFileName(unit.seq_first, unit.seq_last));
      if (move(place, onDisk ? 'REFUSED_SPOOLED' : 'REFUSED_UNSPOOLED') === 'STRANDED') {
        // Only one: a unit is taken only while none is stranded (SOURCE_ORDER).
        if (this.#stranded !== null) throw new StoreAssertionError(`unit ${unit.token} refused while ${this.#stranded.token} is stranded`);
        this.#stranded = unit;
      }
      this.#lastError = `${why}; and the spool cannot be written: ${this.#d.describeError(spoolErr)}`;
      this.#d.log(`store: ${this.#lastError}; ${this.stats().pending_rows} rows held in memory, retry in ${delay} ms`);
      this.#d.fault?.(`${this.#lastError}; ${this.stats().pending_rows} rows held in memory, retry in ${delay} ms`);
    }
    this.#armRetry(delay);
  }

  /**
   * Records a unit from the queue in the ledger before it is sent. If the ledger cannot be written,
   * ClickHouse still gets the rows, one batch a unit, unrecorded (a merged unit goes back to the
   * queue): a step replayed after a crash could then land twice until the next merge, which beats
   * holding every row in memory while the disk is broken. False: the unit went back to the queue.
   */
  async #record(unit: Unit, place: UnitPlace): Promise<boolean> {
    try {
      await this.#d.ledger.record(unit.token, unit.record!);
      this.#mergeOff = false;
    } catch (err) {
      this.#ledgerFailed(err);
      if (unit.parts !== null && unit.parts.length > 1) {
        move(place, 'UNRECORDED');
        this.#queue.unshift(...unit.parts);
        this.#queuedRows += unit.rows;
        this.#inflightRows = 0;
        return false;
      }
    }
    unit.record = null;
    return true;
  }

  #ledgerFailed(err: unknown): void {
    if (!this.#mergeOff) {
      this.#d.log(`store: the ledger ${this.#d.ledger.path} cannot be written (${this.#d.describeError(err)}); sending one batch a unit, unrecorded, until it can`);
    }
    this.#mergeOff = true;
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
   * Moves every queued batch to the spool, in order, as the units the pump would have sent (merged
   * until each holds unit_rows_max rows), each recorded in the ledger first. A batch leaves the queue only once
   * its unit is on disk, so a failed write loses nothing.
   */
  #spillQueue(): void {
    for (let n = this.#takeable(); n > 0; n = this.#takeable()) {
      const unit = unitOf(this.#queue.slice(0, n));
      if (unit.record !== null) {
        try {
          this.#d.ledger.recordSync(unit.token, unit.record);
          this.#mergeOff = false;
        } catch (err) {
          this.#ledgerFailed(err);
          if (n > 1) continue; // now one batch a unit
        }
      }
      this.#d.spool.put(spoolable(unit));
      move('QUEUED', 'SPILLED');
      this.#queue.splice(0, n);
      this.#queuedRows -= unit.rows;
    }
  }
}
