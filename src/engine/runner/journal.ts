// The event-sourced journal (SPEC 3.7): every kernel input is appended, and fsynced, before the
// kernel applies it. After the input is applied, a digest of its outcomes is appended too, so
// that `pink replay` can prove the kernel does the same thing again, input by input.
//
// Layout: $PINK_HOME/journal/seg-<first seq, 12 digits>.ndjson; a new segment starts at every
// checkpoint so that old segments can be dropped whole. Format 2 (this one): each line is
// `<crc32, 8 hex> <record JSON>`; the first line of a segment is a header naming the format and
// the segment's first seq. The checksums are chained: a line's crc32 continues from the one
// before it (zlib.crc32(json, previous)), so a changed, dropped or reordered line fails its check.
// Input seqs run on without a gap across segments. Reading verifies all of it (journal-read.ts).
//
// Failure rules: a torn last line of the last segment (a write a crash cut short; its input was
// never applied, since apply follows fsync) is cut back when the engine opens the journal, and
// reported. An append that fails (ENOSPC, EIO) is cut back to the last good record before the
// error goes up: the file never keeps half a record in its middle.
import { closeSync, constants, existsSync, fsyncSync, ftruncateSync, mkdirSync, openSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import type { KernelInput, KernelOutcome } from '../kernel/types.js';
import { errnoText, fsyncDir, isDiskFull, openAppendNoFollow, writeAll } from '../fsutil.js';
import { crcHex, listSegments, scanJournal, segmentName, type JournalScan, type TornTail } from './journal-read.js';

export { listSegments, readJournal, scanJournal, segmentName, JournalDamageError, JOURNAL_FORMAT_VERSION, type JournalScan, type TornTail } from './journal-read.js';

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

/** An append that did not reach the disk. Nothing of it stays in the file (cut_back), unless the
 * cut itself failed: then the journal refuses every later write (the engine must stop). */
export class JournalWriteError extends Error {
  readonly path: string;
  readonly disk_full: boolean;
  readonly cut_back: boolean;

  constructor(path: string, cause: unknown, cutError?: unknown) {
    super(`journal append to ${path} failed: ${errnoText(cause)}${cutError === undefined ? '; cut back to the last good record' : `; and it could not be cut back (${errnoText(cutError)})`}`);
    this.name = 'JournalWriteError';
    this.path = path;
    this.disk_full = isDiskFull(cause) && cutError === undefined;
    this.cut_back = cutError === undefined;
  }
}

/** The segment appended to: where its good bytes end and the checksum the next line continues from. */
interface Tail {
  path: string;
  first_seq: number;
  bytes: number;
  crc: number;
}

export class Journal {
  readonly dir: string;
  /** The torn last line cut when the journal was opened (reported by the engine at start). */
  readonly torn: TornTail | undefined;
  private fd: number | null = null;
  private tail: Tail | undefined;
  private segmentFirstSeq = 0;
  /** Records written but not yet fsynced (output digests ride along with the next fsync). */
  private pending: string[] = [];
  /** Set when a failed append could not be cut back: nothing more may be written. */
  private broken: JournalWriteError | undefined;

  /** Verifies the whole journal (a damaged record throws JournalDamageError) and cuts a torn tail. */
  constructor(dir: string, scan?: JournalScan) {
    this.dir = dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const s = scan ?? scanJournal(dir);
    this.torn = s.torn;
    if (s.torn) cutTo(s.torn.path, s.torn.offset);
    const last = s.segments[s.segments.length - 1];
    if (last) this.tail = { path: last.path, first_seq: last.first_seq, bytes: last.good_bytes, crc: last.last_crc };
  }

  /** Start a new segment (at a checkpoint) whose first record will be `firstSeq`. */
  rotate(firstSeq: number): void {
    this.closeFd();
    this.segmentFirstSeq = firstSeq;
  }

  private ensureFd(nextSeq: number): number {
    if (this.fd !== null) return this.fd;
    const first = this.segmentFirstSeq > 0 ? this.segmentFirstSeq : (this.tail?.first_seq ?? nextSeq);
    if (this.tail?.first_seq === first && existsSync(this.tail.path)) {
      // The last segment continues (no input since it was started, or no checkpoint since).
      this.fd = openAppendNoFollow(this.tail.path);
    } else {
      const path = join(this.dir, segmentName(first));
      // A new segment never exists yet: O_EXCL refuses to append into a file we did not verify.
      this.fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      this.tail = { path, first_seq: first, bytes: 0, crc: 0 };
      fsyncDir(this.dir);
    }
    return this.fd;
  }

  /**
   * Writes the lines durably (fsync) or not at all: a failure is cut back to the last good record
   * before it is thrown (JournalWriteError). Output records waiting in `pending` are dropped with
   * a failed write: their inputs are journaled already, and a missing digest only means one
   * comparison fewer for `pink replay`.
   */
  private write(jsons: string[]): void {
    if (this.broken) throw this.broken;
    const fd = this.ensureFd(0);
    const tail = this.tail!;
    let crc = tail.crc;
    let text = '';
    if (tail.bytes === 0) {
      const header = JSON.stringify({ t: 'seg', v: 2, first: tail.first_seq });
      crc = crc32(header);
      text += `${crcHex(crc)} ${header}\n`;
    }
    for (const json of jsons) {
      crc = crc32(json, crc);
      text += `${crcHex(crc)} ${json}\n`;
    }
    const data = Buffer.from(text, 'utf8');
    try {
      writeAll(fd, data);
      fsyncSync(fd);
    } catch (err) {
      this.pending = [];
      try {
        ftruncateSync(fd, tail.bytes);
        fsyncSync(fd);
      } catch (cutErr) {
        this.broken = new JournalWriteError(tail.path, err, cutErr);
        this.closeQuietly();
        throw this.broken;
      }
      throw new JournalWriteError(tail.path, err);
    }
    tail.bytes += data.length;
    tail.crc = crc;
  }

  /** Append inputs durably: returns after fsync. Call before applying them. */
  appendInputs(records: InputRecord[]): void {
    if (records.length === 0) return;
    this.ensureFd(records[0]!.seq);
    const jsons = [...this.pending, ...records.map((r) => JSON.stringify(r))];
    this.pending = [];
    this.write(jsons);
  }

  /** Record an applied input's outcome digest; made durable with the next input append. */
  appendOutput(record: OutputRecord | BatchRecord): void {
    this.pending.push(JSON.stringify(record));
  }

  flush(): void {
    if (this.pending.length === 0) return;
    const jsons = this.pending;
    this.pending = [];
    this.write(jsons);
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

  private closeQuietly(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      /* already failing */
    }
    this.fd = null;
  }

  close(): void {
    if (this.broken) return this.closeQuietly();
    this.closeFd();
  }
}

/** Cuts a torn tail (the engine's own journal, under its lock). */
function cutTo(path: string, offset: number): void {
  const fd = openSync(path, constants.O_RDWR | constants.O_NOFOLLOW);
  try {
    ftruncateSync(fd, offset);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
