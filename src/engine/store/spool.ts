// The spool: rows ClickHouse did not take, kept on disk until it does (SPEC 5: nothing lost,
// nothing seen twice). One file per unit (a batch, or the consecutive batches sent together), so a
// unit is re-sent exactly as it was first sent, with the same de-duplication token: ClickHouse then
// drops whatever part of it had landed. A file is written to a temporary name, fsynced, renamed and
// the folder fsynced, so after a crash it is either whole or absent. Names sort in send order.
//
// Why the spool has no row bound: dropping rows would lose records; it grows only while ClickHouse
// is down, by the rows the engine writes, and `pink ditav2-status` reports it (degraded) until it drains.
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RowFamily } from '../kernel/types.js';

export const SPOOL_FORMAT_VERSION = 1;
const SUFFIX = '.spool.json';
const SEQ_DIGITS = 16;

export interface SpoolFamily {
  columns: string[];
  rows: number;
  text: string;
}

export interface SpoolUnit {
  v: number;
  /** The write() sequence numbers of the first and last batch in the unit (send order). */
  seq_first: number;
  seq_last: number;
  /** The unit's de-duplication token; each family's insert uses `${token}:${family}`. */
  token: string;
  rows: number;
  batches: number;
  families: Partial<Record<RowFamily, SpoolFamily>>;
}

export interface SpoolEntry {
  name: string;
  seq_first: number;
  seq_last: number;
  rows: number;
  batches: number;
}

function pad(seq: number): string {
  return String(seq).padStart(SEQ_DIGITS, '0');
}

export function spoolFileName(seqFirst: number, seqLast: number): string {
  return `${pad(seqFirst)}-${pad(seqLast)}${SUFFIX}`;
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function validUnit(u: unknown): u is SpoolUnit {
  const x = u as SpoolUnit;
  return (
    typeof x === 'object' && x !== null && x.v === SPOOL_FORMAT_VERSION && Number.isInteger(x.seq_first) &&
    Number.isInteger(x.seq_last) && typeof x.token === 'string' && typeof x.families === 'object' && x.families !== null
  );
}

export class Spool {
  readonly dir: string;
  #entries: SpoolEntry[] = [];
  #log: (line: string) => void;

  constructor(dir: string, log: (line: string) => void = () => {}) {
    this.dir = dir;
    this.#log = log;
  }

  /** Creates the folder, removes half-written temporaries, and indexes the units in send order. */
  open(): void {
    mkdirSync(this.dir, { recursive: true });
    const entries: SpoolEntry[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      const path = join(this.dir, name);
      if (name.endsWith('.tmp')) {
        // A temporary is only ever renamed when whole: one left over was never committed.
        unlinkSync(path);
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      let unit: unknown;
      try {
        unit = JSON.parse(readFileSync(path, 'utf8'));
      } catch {
        unit = undefined;
      }
      if (!validUnit(unit)) {
        // Not ours to delete: set aside for the operator, keep draining the rest.
        renameSync(path, `${path}.corrupt`);
        this.#log(`store: spool file ${name} is unreadable; moved aside as ${name}.corrupt`);
        continue;
      }
      entries.push({ name, seq_first: unit.seq_first, seq_last: unit.seq_last, rows: unit.rows, batches: unit.batches });
    }
    this.#entries = entries;
  }

  entries(): readonly SpoolEntry[] {
    return this.#entries;
  }

  get rows(): number {
    return this.#entries.reduce((n, e) => n + e.rows, 0);
  }

  get batches(): number {
    return this.#entries.reduce((n, e) => n + e.batches, 0);
  }

  /** The highest sequence number on disk (0 when empty), so new batches sort after old ones. */
  maxSeq(): number {
    return this.#entries.reduce((m, e) => Math.max(m, e.seq_last), 0);
  }

  /** Writes a unit durably; a unit already spooled under the same name is replaced atomically. */
  put(unit: SpoolUnit): SpoolEntry {
    const name = spoolFileName(unit.seq_first, unit.seq_last);
    const path = join(this.dir, name);
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, JSON.stringify(unit));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    fsyncDir(this.dir);
    const entry: SpoolEntry = { name, seq_first: unit.seq_first, seq_last: unit.seq_last, rows: unit.rows, batches: unit.batches };
    const rest = this.#entries.filter((e) => e.name !== name);
    rest.push(entry);
    rest.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#entries = rest;
    return entry;
  }

  /** A unit's rows; null (and the file set aside as .corrupt) if it can no longer be read. */
  read(entry: SpoolEntry): SpoolUnit | null {
    const path = join(this.dir, entry.name);
    let unit: unknown;
    try {
      unit = JSON.parse(readFileSync(path, 'utf8'));
    } catch {
      unit = undefined;
    }
    if (validUnit(unit)) return unit;
    try {
      renameSync(path, `${path}.corrupt`);
    } catch {
      // Already gone: nothing to set aside.
    }
    this.#entries = this.#entries.filter((e) => e.name !== entry.name);
    this.#log(`store: spool file ${entry.name} is unreadable; moved aside as ${entry.name}.corrupt (${entry.rows} rows not sent)`);
    return null;
  }

  /** Deletes a unit once ClickHouse has taken all of it. */
  remove(entry: SpoolEntry): void {
    unlinkSync(join(this.dir, entry.name));
    fsyncDir(this.dir);
    this.#entries = this.#entries.filter((e) => e.name !== entry.name);
  }
}
