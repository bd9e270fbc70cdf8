// The spool: rows ClickHouse did not take, kept on disk until it does (SPEC 5: nothing lost,
// nothing seen twice). One file per unit (a batch, or the consecutive batches sent together), so a
// unit is re-sent exactly as it was first sent, with the same de-duplication token: ClickHouse then
// drops whatever part of it had landed. A file is written to a temporary name, fsynced, renamed and
// the folder fsynced, so after a crash it is either whole or absent. Names sort in send order.
//
// Why the spool has no row bound: dropping rows would lose records; it grows only while ClickHouse
// is down, by the rows the engine writes, and `pink ditav2-status` reports it (degraded) until it drains.
import { closeSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, isAtomicTemporary, writeFileAtomic } from '../fsutil.js';
import type { RowFamily } from '../kernel/types.js';
import { WIRE_FORMATS, type WireFormat } from './encode.js';

/** 2: per-family wire format (RowBinary as base64, TabSeparated as text) and `verify`. 1 (read only): TabSeparated `text`. */
export const SPOOL_FORMAT_VERSION = 2;
const SUFFIX = '.spool.json';
const SEQ_DIGITS = 16;

/** One family of a unit: its rows, encoded (encode.ts). */
export interface SpoolFamily {
  columns: string[];
  rows: number;
  format: WireFormat;
  bytes: Buffer;
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
  /** A replayed batch whose merged unit's fate is unknown (ledger.ts): per family, the row ids to
   * look for before sending; a family already there is not sent again. */
  verify?: Partial<Record<RowFamily, string[]>>;
}

/** A family as a spool file holds it (JSON): text for TabSeparated, base64 for RowBinary. */
interface FileFamily {
  columns: string[];
  rows: number;
  format?: WireFormat;
  data?: string;
  /** Version 1: TabSeparated text. */
  text?: string;
}

export interface SpoolEntry {
  name: string;
  token: string;
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

/** A spool file's JSON as a unit (payloads decoded), or null if it is not one. */
function parseUnit(json: string): SpoolUnit | null {
  let x: { v?: unknown; seq_first?: unknown; seq_last?: unknown; token?: unknown; families?: unknown } & Record<string, unknown>;
  try {
    x = JSON.parse(json) as typeof x;
  } catch {
    return null;
  }
  if (
    typeof x !== 'object' || x === null || (x.v !== 1 && x.v !== SPOOL_FORMAT_VERSION) || !Number.isInteger(x.seq_first) ||
    !Number.isInteger(x.seq_last) || typeof x.token !== 'string' || typeof x.families !== 'object' || x.families === null
  ) {
    return null;
  }
  const families: Partial<Record<RowFamily, SpoolFamily>> = {};
  for (const [family, f] of Object.entries(x.families as Record<string, FileFamily>)) {
    if (typeof f !== 'object' || f === null || !Array.isArray(f.columns) || !Number.isInteger(f.rows)) return null;
    if (x.v === 1 || f.format === undefined) {
      if (typeof f.text !== 'string') return null;
      families[family as RowFamily] = { columns: f.columns, rows: f.rows, format: 'TabSeparated', bytes: Buffer.from(f.text) };
    } else {
      if (!WIRE_FORMATS.includes(f.format) || typeof f.data !== 'string') return null;
      const bytes = f.format === 'RowBinary' ? Buffer.from(f.data, 'base64') : Buffer.from(f.data);
      families[family as RowFamily] = { columns: f.columns, rows: f.rows, format: f.format, bytes };
    }
  }
  return { ...(x as unknown as SpoolUnit), v: SPOOL_FORMAT_VERSION, families };
}

function fileJson(unit: SpoolUnit): string {
  const families: Record<string, FileFamily> = {};
  for (const [family, f] of Object.entries(unit.families) as [RowFamily, SpoolFamily][]) {
    families[family] = { columns: f.columns, rows: f.rows, format: f.format, data: f.format === 'RowBinary' ? f.bytes.toString('base64') : f.bytes.toString() };
  }
  return JSON.stringify({ ...unit, v: SPOOL_FORMAT_VERSION, families });
}

function entryOf(name: string, unit: SpoolUnit): SpoolEntry {
  return { name, token: unit.token, seq_first: unit.seq_first, seq_last: unit.seq_last, rows: unit.rows, batches: unit.batches };
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
    // PINK's rows: the folder 0700 and each unit 0600 (SECURITY.md), whatever the umask.
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const entries: SpoolEntry[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      const path = join(this.dir, name);
      if (isAtomicTemporary(name) || name.endsWith('.tmp')) {
        // A temporary is only ever renamed when whole: one left over was never committed (the
        // spool's units and the ledger's; `*.PID.tmp` is how a pink before issue 23 named them).
        unlinkSync(path);
        continue;
      }
      if (!name.endsWith(SUFFIX)) continue;
      let unit: SpoolUnit | null;
      try {
        unit = parseUnit(readFileSync(path, 'utf8'));
      } catch {
        unit = null;
      }
      if (unit === null) {
        // Not ours to delete: set aside for the operator, keep draining the rest.
        renameSync(path, `${path}.corrupt`);
        this.#log(`store: spool file ${name} is unreadable; moved aside as ${name}.corrupt`);
        continue;
      }
      entries.push(entryOf(name, unit));
    }
    this.#entries = entries;
  }

  entries(): readonly SpoolEntry[] {
    return this.#entries;
  }

  /** True if a unit with this token waits in the spool. */
  hasToken(token: string): boolean {
    return this.#entries.some((e) => e.token === token);
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
    // A unit counts as spooled only once its name is durable: a folder that refuses fsync fails the put.
    writeFileAtomic(path, fileJson(unit), { dir_fsync_required: true });
    const entry = entryOf(name, unit);
    const rest = this.#entries.filter((e) => e.name !== name);
    rest.push(entry);
    rest.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#entries = rest;
    return entry;
  }

  /** A unit's rows; null (and the file set aside as .corrupt) if it can no longer be read. */
  read(entry: SpoolEntry): SpoolUnit | null {
    const path = join(this.dir, entry.name);
    let unit: SpoolUnit | null;
    try {
      unit = parseUnit(readFileSync(path, 'utf8'));
    } catch {
      unit = null;
    }
    if (unit !== null) return unit;
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
    fsyncDir(this.dir, { required: true });
    this.#entries = this.#entries.filter((e) => e.name !== entry.name);
  }
}

/** Enough of a spool file to hold its counts: fileJson writes them before the payloads. */
const HEAD_BYTES = 1024;

/**
 * What a spool folder holds, read without opening the store (`pink ditav2-status` while the engine
 * is down): each unit file's leading `"rows":N`, so only its first bytes are read; a file whose
 * head does not say is parsed whole. Temporaries (a write cut short) are not counted.
 */
export function spooledOnDisk(dir: string): { files: number; rows: number } {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(SUFFIX));
  } catch {
    return { files: 0, rows: 0 };
  }
  let rows = 0;
  const head = Buffer.alloc(HEAD_BYTES);
  for (const name of names) {
    const path = join(dir, name);
    const fd = openSync(path, 'r');
    let n: number;
    try {
      n = readSync(fd, head, 0, HEAD_BYTES, 0);
    } finally {
      closeSync(fd);
    }
    const m = /^\{"v":\d+,"seq_first":\d+,"seq_last":\d+,"token":"(?:[^"\\]|\\.)*","rows":(\d+),/.exec(head.toString('utf8', 0, n));
    rows += m ? Number(m[1]) : (parseUnit(readFileSync(path, 'utf8'))?.rows ?? 0);
  }
  return { files: names.length, rows };
}
