// Reading the journal (format 2, see journal.ts): every line's chained crc32, each record's shape,
// the segment headers and the continuity of input seqs are verified before anything is used.
// A record that fails is never skipped: JournalDamageError (exit 2) names the file, the line, the
// byte offset and the seq, with the fix. The one thing tolerated is a torn last line of the last
// segment (no newline: a write a crash cut short), which is returned as `torn` for the engine to
// cut and report; read-only readers (status, replay) just stop before it.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ExitError, EXIT } from '../../errors.js';
import type { JournalRecord } from './journal.js';

export const JOURNAL_FORMAT_VERSION = 2;

const SEGMENT_RE = /^seg-(\d{12})\.ndjson$/;
const LINE_RE = /^([0-9a-f]{8}) (.*)$/s;

export function segmentName(firstSeq: number): string {
  return `seg-${String(firstSeq).padStart(12, '0')}.ndjson`;
}

export const crcHex = (crc: number): string => crc.toString(16).padStart(8, '0');

export function listSegments(dir: string): { path: string; first_seq: number }[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((name) => ({ name, m: SEGMENT_RE.exec(name) }))
    .filter((e): e is { name: string; m: RegExpExecArray } => e.m !== null)
    .map((e) => ({ path: join(dir, e.name), first_seq: Number(e.m[1]) }))
    .sort((a, b) => a.first_seq - b.first_seq);
}

/** What the operator does about a damaged journal (also `pink fault JOURNAL_DAMAGED`). */
export const JOURNAL_DAMAGE_FIX =
  'Do not edit the journal. Restore that segment from a copy if you have one; otherwise keep this home for the post-mortem and start a new history from the venue\'s truth with `pink run --new-history` (see `pink fault JOURNAL_DAMAGED`).';

/** Where a damaged record is, and what is wrong with it. */
export interface Damage {
  file: string;
  /** 1-based line of the segment. */
  line: number;
  /** Byte offset of the line's start in the segment. */
  offset: number;
  /** The record's seq, or the seq it claims when its text still shows one. */
  seq?: number;
  why: string;
}

/** A damaged or discontinuous journal: exit 2, naming the record; nothing past it was used. */
export class JournalDamageError extends ExitError {
  readonly damage: Damage;

  constructor(d: Damage, fix = JOURNAL_DAMAGE_FIX) {
    super(EXIT.USAGE, `the journal is damaged: ${d.file} line ${d.line} (byte ${d.offset}${d.seq !== undefined ? `, seq ${d.seq}` : ''}): ${d.why}. Nothing was read past it.`, fix);
    this.name = 'JournalDamageError';
    this.damage = d;
  }
}

/** The torn last line of the last segment: everything from `offset` on. */
export interface TornTail {
  path: string;
  offset: number;
  bytes: number;
}

export interface SegmentFacts {
  path: string;
  first_seq: number;
  /** Bytes up to the end of the last good record (the torn tail excluded). */
  good_bytes: number;
  /** The checksum the next line of this segment continues from. */
  last_crc: number;
  inputs: number;
}

export interface JournalScan {
  /** Every record, verified, in order (segment headers excluded). */
  records: JournalRecord[];
  first_in: number | undefined;
  last_in: number | undefined;
  torn: TornTail | undefined;
  segments: SegmentFacts[];
}

const isSeq = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The record's shape, or why it is not one. */
function shapeError(r: unknown): string | undefined {
  if (!isObj(r)) return 'not a record object';
  switch (r['t']) {
    case 'in':
      if (!isSeq(r['seq']) || r['seq'] < 1) return 'an input record without a valid seq';
      if (!isObj(r['input'])) return 'an input record without its input';
      if (r['meta'] !== undefined && !isObj(r['meta'])) return 'an input record with a malformed meta';
      return undefined;
    case 'out':
      return isSeq(r['seq']) && typeof r['digest'] === 'string' ? undefined : 'a malformed output digest record';
    case 'batch':
      return isSeq(r['first']) && isSeq(r['seq']) && r['first'] <= r['seq'] ? undefined : 'a malformed batch record';
    default:
      return `an unknown record type ${JSON.stringify(r['t'])}`;
  }
}

/** The seq a damaged line still shows, for the message (never trusted beyond that). */
function claimedSeq(text: string): number | undefined {
  const m = /"seq":(\d{1,15})/.exec(text);
  return m ? Number(m[1]) : undefined;
}

interface Cursor {
  last_in: number | undefined;
  first_in: number | undefined;
}

/** Verifies one segment's lines; appends its records. */
function scanSegment(seg: { path: string; first_seq: number }, isLast: boolean, cur: Cursor, records: JournalRecord[]): { facts: SegmentFacts; torn?: TornTail } {
  const data = readFileSync(seg.path);
  const damage = (line: number, offset: number, why: string, seq?: number): JournalDamageError =>
    new JournalDamageError({ file: seg.path, line, offset, ...(seq !== undefined ? { seq } : {}), why });
  const facts: SegmentFacts = { path: seg.path, first_seq: seg.first_seq, good_bytes: 0, last_crc: 0, inputs: 0 };
  let offset = 0;
  let lineNo = 0;
  let crc = 0;
  // Bounded by the segment's size: each round consumes one line.
  while (offset < data.length) {
    lineNo += 1;
    const end = data.indexOf(0x0a, offset);
    if (end < 0) {
      // No newline: the write of this line never completed.
      if (!isLast) throw damage(lineNo, offset, 'an incomplete last record in a segment that is not the last one');
      return { facts, torn: { path: seg.path, offset, bytes: data.length - offset } };
    }
    const text = data.toString('utf8', offset, end);
    const m = LINE_RE.exec(text);
    if (lineNo === 1 && text.startsWith('{')) {
      throw damage(1, 0, 'this segment was written by an older pink, without checksums (journal format 1); this pink reads only checksummed journals (format 2)');
    }
    if (!m) throw damage(lineNo, offset, 'the line is not "<checksum> <record>"', claimedSeq(text));
    const json = m[2]!;
    crc = lineNo === 1 ? crc32(json) : crc32(json, crc);
    if (crcHex(crc) !== m[1]) throw damage(lineNo, offset, `the checksum does not match (stored ${m[1]}, computed ${crcHex(crc)}): the record was changed, or a record before it is missing`, claimedSeq(json));
    let rec: unknown;
    try {
      rec = JSON.parse(json);
    } catch {
      throw damage(lineNo, offset, 'the record is not JSON although its checksum matches', claimedSeq(json));
    }
    if (lineNo === 1) {
      const h = rec as Record<string, unknown>;
      if (!isObj(h) || h['t'] !== 'seg' || h['v'] !== JOURNAL_FORMAT_VERSION || h['first'] !== seg.first_seq) {
        throw damage(1, offset, `not a format ${JOURNAL_FORMAT_VERSION} header for first seq ${seg.first_seq} (${json.slice(0, 80)})`);
      }
    } else {
      const bad = shapeError(rec);
      if (bad) throw damage(lineNo, offset, bad, claimedSeq(json));
      const r = rec as JournalRecord;
      if (r.t === 'in') {
        const expected = cur.last_in === undefined ? seg.first_seq : cur.last_in + 1;
        if (facts.inputs === 0 && r.seq !== seg.first_seq) throw damage(lineNo, offset, `the segment starts at seq ${seg.first_seq} but its first input is seq ${r.seq}`, r.seq);
        if (r.seq !== expected) throw damage(lineNo, offset, `input seq ${r.seq} where seq ${expected} was due: the seqs do not run on`, r.seq);
        cur.last_in = r.seq;
        cur.first_in ??= r.seq;
        facts.inputs += 1;
      } else if (cur.last_in === undefined || r.seq > cur.last_in) {
        throw damage(lineNo, offset, `a ${r.t} record for seq ${r.seq}, after input seq ${cur.last_in ?? 'none'}`, r.seq);
      }
      records.push(r);
    }
    offset = end + 1;
    facts.good_bytes = offset;
    facts.last_crc = crc;
  }
  return { facts };
}

/** Verifies every segment of the journal, in order. Throws JournalDamageError on any damage. */
export function scanJournal(dir: string): JournalScan {
  const segments = listSegments(dir);
  const cur: Cursor = { last_in: undefined, first_in: undefined };
  const records: JournalRecord[] = [];
  const facts: SegmentFacts[] = [];
  let torn: TornTail | undefined;
  for (let i = 0; i < segments.length; i += 1) {
    const seg = segments[i]!;
    const isLast = i === segments.length - 1;
    if (cur.last_in !== undefined && seg.first_seq !== cur.last_in + 1) {
      throw new JournalDamageError({ file: seg.path, line: 1, offset: 0, seq: seg.first_seq, why: `the segment starts at seq ${seg.first_seq}, but the one before it ends at seq ${cur.last_in}: ${seg.first_seq > cur.last_in + 1 ? 'inputs are missing' : 'the segments overlap'}` });
    }
    const r = scanSegment(seg, isLast, cur, records);
    if (!isLast && r.facts.inputs === 0) {
      throw new JournalDamageError({ file: seg.path, line: 1, offset: 0, why: 'a segment with no input that is not the last one' });
    }
    facts.push(r.facts);
    torn = r.torn;
  }
  return { records, first_in: cur.first_in, last_in: cur.last_in, torn, segments: facts };
}

/**
 * The journal continues from a checkpoint at `seq`: every input after it is there (the first input
 * kept is at most seq + 1) and the journal reaches it (its last input is at least seq). A journal
 * with no input continues only from seq 0. Else: the damage, naming the gap.
 */
export function continuesFrom(scan: JournalScan, seq: number, dir: string): Damage | undefined {
  const first = scan.segments[0];
  const last = scan.segments[scan.segments.length - 1];
  if (scan.first_in === undefined || scan.last_in === undefined) {
    return seq === 0 ? undefined : { file: last?.path ?? dir, line: 1, offset: 0, why: `the journal holds no input, but the checkpoint is at seq ${seq}: inputs up to seq ${seq} are missing` };
  }
  if (scan.first_in > seq + 1) return { file: first!.path, line: 1, offset: 0, seq: scan.first_in, why: `the journal starts at seq ${scan.first_in}: inputs ${seq + 1}-${scan.first_in - 1} after the checkpoint at seq ${seq} are missing` };
  if (scan.last_in < seq) return { file: last!.path, line: 1, offset: 0, seq: scan.last_in, why: `the journal ends at seq ${scan.last_in}, before the checkpoint at seq ${seq}: inputs ${scan.last_in + 1}-${seq} are missing` };
  return undefined;
}

/** Every record with seq > afterSeq, after verifying the whole journal and that it continues from afterSeq. */
export function readJournal(dir: string, afterSeq = 0, scan: JournalScan = scanJournal(dir)): JournalRecord[] {
  const gap = continuesFrom(scan, afterSeq, dir);
  if (gap) throw new JournalDamageError(gap);
  return scan.records.filter((r) => r.seq > afterSeq);
}
