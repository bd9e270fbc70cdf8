// Decision engines that feed the kernel intents. Both are deterministic: `demo` is a function
// of the kernel's view, the seed and the input sequence number; `signals` of the file's bytes.
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import type { Intent, SlotState, TradingState } from '../kernel/types.js';

export interface SlotFacts {
  symbol: string;
  state: SlotState;
  qty: number;
  hold_bars: number;
  legs: number;
  trade_id: string | null;
  has_working_order: boolean;
  /** The symbol's effective trading state (its own or the engine's, the stricter): the demo does
   * not ask for what the kernel would refuse (a TRADING_STATE_REFUSED decision row every step). */
  trading_state: TradingState;
}

export interface DemoParams {
  seed: number;
  notional_usdt: number;
  max_hold_bars: number;
}

/** FNV-1a over a string, as a uint32: the demo's only source of "randomness". */
function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/**
 * New entries the demo opens in one step, at most. Twenty idle symbols entering at once would be
 * twenty orders in one step, which PINK's own order budget (8/s, src/engine/venue/throttle.ts)
 * paces over 2.5 s: a stalled step for no reason but the demo's. Staggered, the trades that follow
 * (their legs, their final exits) are staggered too. Exits are never held back: they reduce risk.
 */
export const DEMO_ENTRIES_PER_STEP_MAX = 2;

/**
 * demo: enter (side from the seed), exit half at half the max hold, then a final EXIT at the max
 * hold asking for 1.5x what remains, so that the kernel's clamp is exercised in every demo trade.
 * Entries: DEMO_ENTRIES_PER_STEP_MAX a step, the first slot looked at turning with `seq` so that
 * no symbol waits behind the others for ever.
 */
export function demoIntents(slots: SlotFacts[], seq: number, p: DemoParams): Intent[] {
  const out: Intent[] = [];
  const firstLegBar = Math.max(1, Math.floor(p.max_hold_bars / 2));
  let entries = 0;
  const start = slots.length === 0 ? 0 : seq % slots.length;
  for (let i = 0; i < slots.length; i += 1) {
    const s = slots[(start + i) % slots.length]!;
    if (s.has_working_order || s.trading_state === 'HALTED') continue;
    const tag = `${s.symbol}-${seq}`;
    if (s.state === 'IDLE' || s.state === 'CLOSED') {
      if (entries >= DEMO_ENTRIES_PER_STEP_MAX || s.trading_state !== 'ACTIVE') continue;
      entries += 1;
      const side = hash32(`${p.seed}:${tag}`) % 2 === 0 ? 'long' : 'short';
      out.push({ intent_id: `demo-${tag}-enter`, symbol: s.symbol, action: 'ENTER', side, notional: p.notional_usdt, order_type: 'market', reason: 'demo_entry' });
    } else if ((s.state === 'OPEN' || s.state === 'EXIT_WORKING') && s.qty > 0) {
      // EXIT_WORKING with no working order is an exit the venue rejected: the retry is ours to send.
      if (s.hold_bars >= p.max_hold_bars) {
        // Deliberately more than remains: the kernel must clamp it (no oversell).
        out.push({ intent_id: `demo-${tag}-final`, symbol: s.symbol, action: 'EXIT', qty: s.qty * 1.5, final: true, order_type: 'market', reason: 'max_hold' });
      } else if (s.legs === 0 && s.hold_bars >= firstLegBar) {
        out.push({ intent_id: `demo-${tag}-leg1`, symbol: s.symbol, action: 'EXIT', fraction: 0.5, order_type: 'market', reason: 'demo_take_profit' });
      }
    }
  }
  return out;
}

/** Bounds on one step's read of the signals file, so a huge append cannot stall a step. */
export const SIGNALS_BYTES_PER_STEP_MAX = 1 << 20;
export const SIGNALS_LINE_BYTES_MAX = 16 * 1024;

export interface SignalsRead {
  intents: { intent: Intent; offset: number }[];
  malformed: { offset: number; line: string; error: string }[];
  offset: number;
}

const ACTIONS = new Set(['ENTER', 'EXIT', 'CANCEL']);

/** Shape check only; the kernel judges the meaning (qty sign, symbol, state) with an outcome. */
export function parseSignalLine(line: string): Intent | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'not JSON';
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'not a JSON object';
  const o = v as Record<string, unknown>;
  if (typeof o['intent_id'] !== 'string' || o['intent_id'] === '') return 'intent_id missing';
  if (typeof o['symbol'] !== 'string') return 'symbol missing';
  if (typeof o['action'] !== 'string' || !ACTIONS.has(o['action'])) return 'action must be ENTER, EXIT or CANCEL';
  for (const k of ['qty', 'notional', 'fraction', 'price']) {
    if (o[k] !== undefined && typeof o[k] !== 'number') return `${k} must be a number`;
  }
  if (o['reason'] !== undefined && typeof o['reason'] !== 'string') return 'reason must be a string';
  return { ...(o as unknown as Intent), reason: typeof o['reason'] === 'string' ? o['reason'] : 'signal' };
}

/** Reads the complete lines of the open file `fd` from `offset` (at most SIGNALS_BYTES_PER_STEP_MAX
 * bytes); a partial last line waits for the next step. */
function readLinesAt(fd: number, size: number, offset: number): SignalsRead {
  const result: SignalsRead = { intents: [], malformed: [], offset };
  if (size <= offset) return result;
  const length = Math.min(size - offset, SIGNALS_BYTES_PER_STEP_MAX);
  const buf = Buffer.alloc(length);
  const got = readSync(fd, buf, 0, length, offset);
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl < 0 || nl >= got) {
      // No newline within the bound: a line longer than the bound is malformed, skip it.
      if (start === 0 && got === SIGNALS_BYTES_PER_STEP_MAX) {
        result.malformed.push({ offset, line: buf.subarray(0, 80).toString('utf8'), error: 'line too long' });
        result.offset = offset + got;
      }
      break;
    }
    const lineOffset = offset + start;
    const line = buf.subarray(start, nl).toString('utf8').trim();
    start = nl + 1;
    result.offset = offset + start;
    if (line === '') continue;
    if (line.length > SIGNALS_LINE_BYTES_MAX) {
      result.malformed.push({ offset: lineOffset, line: line.slice(0, 80), error: 'line too long' });
      continue;
    }
    const parsed = parseSignalLine(line);
    if (typeof parsed === 'string') result.malformed.push({ offset: lineOffset, line: line.slice(0, 200), error: parsed });
    else result.intents.push({ intent: parsed, offset: lineOffset });
  }
  return result;
}

/** Reads complete lines appended since `offset`; a partial last line waits for the next step. */
export function readSignals(path: string, offset: number): SignalsRead {
  if (!existsSync(path)) return { intents: [], malformed: [], offset };
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    return readLinesAt(fd, size, size < offset ? 0 : offset); // truncated and rewritten: start over
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------- the engine's tail of the file

/** Bytes just before the offset remembered, to notice a file rewritten in place (same inode). */
export const SIGNALS_TAIL_BYTES = 64;
/** Intent ids remembered as taken (handed to the kernel), for a re-read of a changed file. */
export const SIGNALS_TAKEN_IDS_MAX = 4096;

/**
 * Where the signals strategy is in its file, beside the checkpoint's signals_offset: which file
 * (device and inode), what it held just before the offset, the intent ids already taken, and, while
 * a changed file is read again from its start, up to where its lines may be ones already taken.
 */
export interface SignalsCursor {
  file?: string;
  /** Hex of the SIGNALS_TAIL_BYTES (or fewer) bytes that end at offset tail_at. */
  tail?: string;
  tail_at?: number;
  taken?: string[];
  recheck_until?: number;
}

/** Something the operator must hear about the signals file: an anomaly row and a log line. */
export interface SignalsNotice {
  code: 'SIGNALS_FILE_CHANGED' | 'SIGNALS_LINES_SKIPPED';
  /** Names the notice apart (row id): the file and offset it is about. */
  key: string;
  reason: string;
  details: Record<string, unknown>;
}

export interface SignalsStep extends SignalsRead {
  /** `dev:ino` of the file the offsets are in. */
  file: string;
  notices: SignalsNotice[];
}

function fileId(st: { dev: number; ino: number }): string {
  return `${st.dev}:${st.ino}`;
}

/**
 * The engine's tail of the signals file, like `tail -F`: it keeps the file open, so a file renamed
 * away (log rotation) is read to its end before the new one at the path is started, from its start.
 * A new file at the path (device and inode), or the same file truncated or rewritten before the
 * offset (its last bytes there differ), is read again from its start; its lines up to where it
 * ended when that was noticed may be ones already taken, and an intent id among the last
 * SIGNALS_TAKEN_IDS_MAX taken is dropped there (the kernel refuses a used id too while it remembers
 * the order: DUPLICATE_EVENT). Every such event, and every line skipped, is a notice.
 */
export class SignalsTail {
  readonly path: string;
  #offset: number;
  #cursor: SignalsCursor;
  #taken: Set<string>;
  #fd: number | undefined;
  #file: string | undefined;
  #missing = false;

  /** `cursor` is the checkpoint's own object: kept current in place, so a checkpoint holds it as is. */
  constructor(path: string, offset: number, cursor: SignalsCursor) {
    this.path = path;
    this.#offset = offset;
    this.#cursor = cursor;
    cursor.taken ??= [];
    this.#taken = new Set(cursor.taken);
  }

  get offset(): number {
    return this.#offset;
  }

  /** Records intent ids handed to the kernel (also those replayed from the journal). */
  take(ids: readonly string[]): void {
    const taken = this.#cursor.taken!;
    for (const id of ids) {
      if (this.#taken.has(id)) continue;
      this.#taken.add(id);
      taken.push(id);
    }
    while (taken.length > SIGNALS_TAKEN_IDS_MAX) this.#taken.delete(taken.shift()!);
  }

  close(): void {
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** One step's read: the intents to feed (already-taken ones of a re-read dropped), malformed lines, notices. */
  read(): SignalsStep {
    const notices: SignalsNotice[] = [];
    let atPath: string | undefined;
    try {
      atPath = fileId(statSync(this.path));
    } catch {
      atPath = undefined;
    }
    if (this.#fd !== undefined && atPath !== this.#file) return this.#finishOld(atPath, notices);
    if (this.#fd === undefined) {
      if (atPath === undefined) {
        if (!this.#missing) notices.push(this.#notice('SIGNALS_FILE_CHANGED', `the signals file ${this.path} is missing: nothing is read until it is there again`, {}));
        this.#missing = true;
        return { intents: [], malformed: [], offset: this.#offset, file: this.#file ?? '', notices };
      }
      this.#open(notices);
    }
    const fd = this.#fd!;
    const size = fstatSync(fd).size;
    if (this.#offset > 0 && (size < this.#offset || !this.#tailMatches(fd))) {
      notices.push(this.#notice('SIGNALS_FILE_CHANGED', `the signals file was truncated or rewritten before offset ${this.#offset}: reading it again from its start; intent ids already taken are dropped`, { size }));
      this.#restart(size);
    }
    return this.#readStep(fd, size, notices);
  }

  #notice(code: SignalsNotice['code'], reason: string, details: Record<string, unknown>): SignalsNotice {
    const file = this.#file ?? 'none';
    return { code, key: `${code}:${file}:${this.#offset}`, reason, details: { ...details, path: this.path, file, offset: this.#offset } };
  }

  #open(notices: SignalsNotice[]): void {
    this.#missing = false;
    const fd = openSync(this.path, 'r');
    const id = fileId(fstatSync(fd));
    this.#fd = fd;
    if (this.#cursor.file !== undefined && this.#cursor.file !== id) {
      const was = this.#cursor.file;
      this.#file = id;
      notices.push(this.#notice('SIGNALS_FILE_CHANGED', `the signals file is not the one read up to offset ${this.#offset} (file ${was} → ${id}): reading it from its start; lines the old file held after that offset, if any, were not read; intent ids already taken are dropped`, { previous_file: was }));
      this.#restart(fstatSync(fd).size);
    }
    this.#file = id;
    this.#cursor.file = id;
  }

  /** A changed file: read again from its start; up to `size`, its lines may have been taken already. */
  #restart(size: number): void {
    this.#offset = 0;
    delete this.#cursor.tail;
    delete this.#cursor.tail_at;
    this.#cursor.recheck_until = size;
  }

  /** The path now names another file (or none): read the old one to its end, then switch. */
  #finishOld(atPath: string | undefined, notices: SignalsNotice[]): SignalsStep {
    const fd = this.#fd!;
    const size = fstatSync(fd).size;
    const step = this.#readStep(fd, size, notices);
    if (step.intents.length + step.malformed.length > 0 && this.#offset < size) return step; // more to read next step
    if (this.#offset < size) notices.push(this.#notice('SIGNALS_LINES_SKIPPED', `the replaced signals file ended with an incomplete line (${size - this.#offset} bytes, no newline): skipped`, { bytes: size - this.#offset }));
    this.close();
    const was = this.#file;
    // The file now at the path, from its start. An editor's new file holds the old lines again:
    // up to where it ends now, its lines may be ones already taken (a rotated log's is empty).
    this.#cursor.file = atPath;
    this.#file = atPath;
    let newSize = 0;
    try {
      newSize = atPath === undefined ? 0 : statSync(this.path).size;
    } catch {
      // Gone again since: nothing at the path to recheck.
    }
    this.#restart(newSize);
    notices.push(
      atPath === undefined
        ? this.#notice('SIGNALS_FILE_CHANGED', `the signals file was removed (file ${was ?? 'none'}, read to its end): nothing is read until a new one is there`, { previous_file: was })
        : this.#notice('SIGNALS_FILE_CHANGED', `the signals file was replaced (file ${was ?? 'none'} → ${atPath}): the old one was read to its end; reading the new one from its start`, { previous_file: was }),
    );
    this.#missing = atPath === undefined;
    return step;
  }

  #tailMatches(fd: number): boolean {
    const { tail, tail_at } = this.#cursor;
    if (tail === undefined || tail_at === undefined) return true; // a checkpoint from before tails were kept: trust the offset
    const want = Buffer.from(tail, 'hex');
    const got = Buffer.alloc(want.length);
    const n = readSync(fd, got, 0, want.length, tail_at - want.length);
    return n === want.length && got.equals(want);
  }

  #readStep(fd: number, size: number, notices: SignalsNotice[]): SignalsStep {
    const from = this.#offset;
    const read = readLinesAt(fd, size, from);
    const recheck = this.#cursor.recheck_until ?? 0;
    const dropped: string[] = [];
    const intents = read.intents.filter(({ intent, offset }) => {
      const again = offset < recheck && this.#taken.has(intent.intent_id);
      if (again) dropped.push(intent.intent_id);
      return !again;
    });
    if (dropped.length > 0) {
      notices.push({ ...this.#notice('SIGNALS_LINES_SKIPPED', `${dropped.length} line(s) of the re-read signals file skipped: their intent ids were already taken`, { ids: dropped.slice(0, 10) }), key: `SIGNALS_LINES_SKIPPED:${this.#file}:${from}:taken` });
    }
    this.#offset = read.offset;
    if (read.offset >= recheck) delete this.#cursor.recheck_until;
    if (read.offset > from) {
      const n = Math.min(SIGNALS_TAIL_BYTES, read.offset);
      const tail = Buffer.alloc(n);
      readSync(fd, tail, 0, n, read.offset - n);
      this.#cursor.tail = tail.toString('hex');
      this.#cursor.tail_at = read.offset;
    }
    return { intents, malformed: read.malformed, offset: read.offset, file: this.#file ?? '', notices };
  }
}
