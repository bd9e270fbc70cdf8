// The ledger: which batch tokens went into which unit, kept durably next to the spool, so that a
// step the engine replays from its journal after a crash is recognised whatever unit its rows were
// sent in. Without it, merging queued batches into one INSERT (what makes a backlog cheap: each
// INSERT writes a part, 5-10 ms in chDB whatever its size) would break the de-duplication of
// replayed steps: a merged unit's token cannot be rebuilt by a replay that writes the steps one by
// one (chaos seed 13), and a step first sent alone must not be re-sent inside a merged unit.
//
// A unit is recorded (appended, fdatasync) before it is first sent or spooled. A replayed token is:
// - unknown to the ledger: a new batch, free to merge;
// - recorded as a unit of its own: sent alone again under its own token, ClickHouse drops it;
// - part of a merged unit that landed, is spooled, or is in flight in this process: a no-op (its
//   rows are in ClickHouse or will be);
// - part of a merged unit of an earlier process whose fate is unknown (it was in flight at the
//   crash): sent alone after checking, family by family, whether its row ids are already there.
// Bounded: the newest LEDGER_BATCHES_MAX batch tokens are kept, compacted when 1.5 times that many
// are held. A restart replays from the newest checkpoint, at most CHECKPOINT_EVERY_STEPS (10)
// steps back, and a step writes one batch of rows plus one per malformed signals line: 10,000 is
// hundreds of times more than a replay can ask about. (Each token costs ~250 bytes of JS heap:
// 100,000 kept, compacted at 200,000, grew the heap by ~47 MB over a day or more of the soak's
// steps.)
// One line per record: {"u":unit,"b":[batches]} (b omitted: one batch, u), {"ok":unit} once a
// merged unit landed (not synced: a lost "ok" only costs a check).
import { closeSync, existsSync, fdatasync, fdatasyncSync, readFileSync, write, writeSync } from 'node:fs';
import { join } from 'node:path';
import { openAppendNoFollow, writeFileAtomic } from '../fsutil.js';

export const LEDGER_FILE = 'units.ledger';
/** Batch tokens the ledger remembers (~30 bytes each on disk, ~250 in memory). */
export const LEDGER_BATCHES_MAX = 10_000;

export type Cover = 'new' | 'alone' | 'covered' | 'unknown';

interface LedgerUnit {
  batches: string[];
  state: 'pending' | 'landed' | 'unknown';
}

export class Ledger {
  readonly path: string;
  readonly #max: number;
  #units = new Map<string, LedgerUnit>();
  #byBatch = new Map<string, string>();
  #batches = 0;
  #fd: number | null = null;
  #torn = false;
  /** Appends awaiting their fdatasync. */
  #writing = 0;

  constructor(dir: string, max = LEDGER_BATCHES_MAX) {
    this.path = join(dir, LEDGER_FILE);
    this.#max = max;
  }

  /** Reads the ledger; `isSpooled(unit token)` tells a merged unit waiting in the spool from a lost one. */
  open(isSpooled: (token: string) => boolean): void {
    const oks = new Set<string>();
    if (existsSync(this.path)) {
      const text = readFileSync(this.path, 'utf8');
      // A line torn by a crash: the next record starts on a line of its own.
      this.#torn = text !== '' && !text.endsWith('\n');
      for (const line of text.split('\n')) {
        let rec: { u?: unknown; b?: unknown; ok?: unknown };
        try {
          rec = JSON.parse(line) as typeof rec;
        } catch {
          continue; // empty, or a line torn by a crash (its unit was never sent)
        }
        if (typeof rec.ok === 'string') oks.add(rec.ok);
        else if (typeof rec.u === 'string') {
          const batches = Array.isArray(rec.b) && rec.b.every((t) => typeof t === 'string') ? (rec.b as string[]) : [rec.u];
          this.#add(rec.u, batches, 'unknown');
        }
      }
    }
    for (const [token, unit] of this.#units) {
      if (unit.batches.length === 1 && unit.batches[0] === token) continue;
      unit.state = oks.has(token) ? 'landed' : isSpooled(token) ? 'pending' : 'unknown';
    }
    this.#compact();
  }

  /** How a batch token written now relates to the units already recorded. */
  cover(batchToken: string): Cover {
    const unitToken = this.#byBatch.get(batchToken);
    if (unitToken === undefined) return 'new';
    if (unitToken === batchToken) return 'alone';
    return this.#units.get(unitToken)!.state === 'unknown' ? 'unknown' : 'covered';
  }

  /** Records a unit before it is sent (awaits fdatasync; the event loop keeps running). */
  async record(unitToken: string, batchTokens: readonly string[]): Promise<void> {
    const line = this.#line(unitToken, batchTokens); // may compact (and reopen) the file: first
    const fd = this.#file();
    this.#writing++;
    try {
      await new Promise<void>((resolve, reject) => {
        write(fd, line, (err) => (err ? reject(err) : fdatasync(fd, (err2) => (err2 ? reject(err2) : resolve()))));
      });
    } finally {
      this.#writing--;
    }
  }

  /** Records a unit before it is spooled (the spill path is synchronous). */
  recordSync(unitToken: string, batchTokens: readonly string[]): void {
    const line = this.#line(unitToken, batchTokens);
    const fd = this.#file();
    writeSync(fd, line);
    fdatasyncSync(fd);
  }

  /** A merged unit is in ClickHouse: its replayed batches are no-ops from now on, in any process. */
  landed(unitToken: string): void {
    const unit = this.#units.get(unitToken);
    if (unit === undefined || unit.batches.length === 1) return;
    unit.state = 'landed';
    try {
      writeSync(this.#file(), `${JSON.stringify({ ok: unitToken })}\n`);
    } catch {
      // Not recorded: after a crash the unit counts as unknown, and its replays are checked instead.
    }
  }

  close(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
  }

  #line(unitToken: string, batchTokens: readonly string[]): string {
    this.#add(unitToken, [...batchTokens], 'pending');
    // Not under an append in flight: compacting closes and replaces the file it is writing to.
    if (this.#batches > 1.5 * this.#max && this.#writing === 0) this.#compact();
    const alone = batchTokens.length === 1 && batchTokens[0] === unitToken;
    return `${JSON.stringify(alone ? { u: unitToken } : { u: unitToken, b: batchTokens })}\n`;
  }

  #add(unitToken: string, batches: string[], state: LedgerUnit['state']): void {
    const old = this.#units.get(unitToken);
    if (old !== undefined) {
      this.#units.delete(unitToken);
      this.#batches -= old.batches.length;
    }
    this.#units.set(unitToken, { batches, state });
    this.#batches += batches.length;
    for (const b of batches) this.#byBatch.set(b, unitToken);
  }

  #file(): number {
    if (this.#fd === null) {
      // 0600 and no symlink followed, as every file PINK writes (fsutil.ts; issue 17).
      this.#fd = openAppendNoFollow(this.path);
      if (this.#torn) writeSync(this.#fd, '\n');
      this.#torn = false;
    }
    return this.#fd;
  }

  /** Keeps the newest units holding at most `max` batch tokens, rewritten atomically. */
  #compact(): void {
    if (this.#batches <= this.#max) return;
    const units = [...this.#units.entries()];
    let keep = 0;
    let n = 0;
    for (let i = units.length - 1; i >= 0 && n + units[i]![1].batches.length <= this.#max; i--) {
      n += units[i]![1].batches.length;
      keep++;
    }
    const kept = units.slice(units.length - keep);
    this.#units = new Map(kept);
    this.#byBatch = new Map();
    this.#batches = n;
    for (const [token, unit] of kept) for (const b of unit.batches) this.#byBatch.set(b, token);
    const text = kept
      .map(([u, { batches, state }]) => {
        const rec = JSON.stringify(batches.length === 1 && batches[0] === u ? { u } : { u, b: batches });
        return state === 'landed' ? `${rec}\n${JSON.stringify({ ok: u })}\n` : `${rec}\n`;
      })
      .join('');
    this.close();
    writeFileAtomic(this.path, text);
  }
}
