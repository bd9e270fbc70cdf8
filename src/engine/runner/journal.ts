// The event-sourced journal (SPEC 3.7): every kernel input is appended, and fsynced, before the
// kernel applies it. After the input is applied, a digest of its outcomes is appended too, so
// that `pink replay` can prove the kernel does the same thing again, input by input.
//
// Layout: $PINK_HOME/journal/seg-<first seq, 12 digits>.ndjson; a new segment starts at every
// checkpoint so that old segments can be dropped whole. A crash can leave a torn last line; it is
// cut off when the journal is opened (its input was never applied, since apply follows fsync).
import { closeSync, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { KernelInput, KernelOutcome } from '../kernel/types.js';
import { fsyncDir } from './fsutil.js';

export interface InputRecord {
  t: 'in';
  seq: number;
  input: KernelInput;
  /** Runner facts that are not kernel state (the signals file offset). */
  meta?: { signals_offset?: number };
}

export interface OutputRecord {
  t: 'out';
  seq: number;
  digest: string;
}

/** The rows of inputs first..seq were handed to the store as one batch (token `seq:first-seq`).
 * Replay rebuilds the same batch with the same token, so a batch that did reach ClickHouse
 * before a crash is de-duplicated there, and one that did not is written now. */
export interface BatchRecord {
  t: 'batch';
  first: number;
  seq: number;
}

export type JournalRecord = InputRecord | OutputRecord | BatchRecord;

/** What `pink replay` compares input by input: a digest of everything the kernel answered. */
export function outcomeDigest(outcomes: KernelOutcome[]): string {
  return createHash('sha256').update(JSON.stringify(outcomes)).digest('hex').slice(0, 32);
}

const SEGMENT_RE = /^seg-(\d{12})\.ndjson$/;

export function segmentName(firstSeq: number): string {
  return `seg-${String(firstSeq).padStart(12, '0')}.ndjson`;
}

export function listSegments(dir: string): { path: string; first_seq: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ name, m: SEGMENT_RE.exec(name) }))
    .filter((e): e is { name: string; m: RegExpExecArray } => e.m !== null)
    .map((e) => ({ path: join(dir, e.name), first_seq: Number(e.m[1]) }))
    .sort((a, b) => a.first_seq - b.first_seq);
}

/** Every complete record of the journal with seq > afterSeq, in order. */
export function* readJournal(dir: string, afterSeq = 0): Generator<JournalRecord> {
  const segments = listSegments(dir);
  for (let i = 0; i < segments.length; i += 1) {
    const next = segments[i + 1];
    // A segment whose successor starts at or before afterSeq+1 holds nothing we need.
    if (next && next.first_seq <= afterSeq + 1) continue;
    const text = readFileSync(segments[i]!.path, 'utf8');
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end < 0) break; // a torn last line: never applied, ignore
      const line = text.slice(start, end);
      start = end + 1;
      if (line === '') continue;
      let rec: JournalRecord;
      try {
        rec = JSON.parse(line) as JournalRecord;
      } catch {
        continue; // only a torn write can produce this, and only on the last line
      }
      if (rec.seq > afterSeq) yield rec;
    }
  }
}

export class Journal {
  readonly dir: string;
  private fd: number | null = null;
  private segmentFirstSeq = 0;
  /** Records written but not yet fsynced (output digests ride along with the next fsync). */
  private pending: string[] = [];

  constructor(dir: string) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.repairTail();
  }

  /** Cut a torn last line left by a crash mid-write. */
  private repairTail(): void {
    const segments = listSegments(this.dir);
    const last = segments[segments.length - 1];
    if (!last) return;
    const text = readFileSync(last.path, 'utf8');
    if (text === '' || text.endsWith('\n')) return;
    const keep = Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1));
    const fd = openSync(last.path, 'r+');
    try {
      ftruncateSync(fd, keep);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Start a new segment (at a checkpoint) whose first record will be `firstSeq`. */
  rotate(firstSeq: number): void {
    this.closeFd();
    this.segmentFirstSeq = firstSeq;
  }

  private ensureFd(nextSeq: number): number {
    if (this.fd !== null) return this.fd;
    const segments = listSegments(this.dir);
    const last = segments[segments.length - 1];
    const first = this.segmentFirstSeq > 0 ? this.segmentFirstSeq : (last?.first_seq ?? nextSeq);
    const path = join(this.dir, segmentName(first));
    this.fd = openSync(path, 'a', 0o600);
    fsyncDir(this.dir);
    return this.fd;
  }

  /** Append inputs durably: returns after fsync. Call before applying them. */
  appendInputs(records: InputRecord[]): void {
    if (records.length === 0) return;
    const fd = this.ensureFd(records[0]!.seq);
    const text = this.pending.join('') + records.map((r) => `${JSON.stringify(r)}\n`).join('');
    this.pending = [];
    writeSync(fd, text);
    fsyncSync(fd);
  }

  /** Record an applied input's outcome digest; made durable with the next input append. */
  appendOutput(record: OutputRecord | BatchRecord): void {
    this.pending.push(`${JSON.stringify(record)}\n`);
  }

  flush(): void {
    if (this.pending.length === 0 || this.fd === null) return;
    writeSync(this.fd, this.pending.join(''));
    this.pending = [];
    fsyncSync(this.fd);
  }

  /** Drop whole segments that only hold records at or before `seq` (an old checkpoint's). */
  prune(seq: number): number {
    const segments = listSegments(this.dir);
    let removed = 0;
    for (let i = 0; i + 1 < segments.length; i += 1) {
      if (segments[i + 1]!.first_seq <= seq + 1) {
        rmSync(segments[i]!.path, { force: true });
        removed += 1;
      }
    }
    return removed;
  }

  sizeBytes(): number {
    return listSegments(this.dir).reduce((sum, s) => sum + statSync(s.path).size, 0);
  }

  private closeFd(): void {
    if (this.fd === null) return;
    this.flush();
    closeSync(this.fd);
    this.fd = null;
  }

  close(): void {
    this.closeFd();
  }
}
