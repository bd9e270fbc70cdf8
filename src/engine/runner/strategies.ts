// Decision engines that feed the kernel intents. Both are deterministic: `demo` is a function
// of the kernel's view, the seed and the input sequence number; `signals` of the file's bytes.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { Intent, SlotState } from '../kernel/types.js';

export interface SlotFacts {
  symbol: string;
  state: SlotState;
  qty: number;
  hold_bars: number;
  legs: number;
  trade_id: string | null;
  has_working_order: boolean;
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
    if (s.has_working_order) continue;
    const tag = `${s.symbol}-${seq}`;
    if (s.state === 'IDLE' || s.state === 'CLOSED') {
      if (entries >= DEMO_ENTRIES_PER_STEP_MAX) continue;
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

/** Reads complete lines appended since `offset`; a partial last line waits for the next step. */
export function readSignals(path: string, offset: number): SignalsRead {
  const result: SignalsRead = { intents: [], malformed: [], offset };
  if (!existsSync(path)) return result;
  const size = statSync(path).size;
  if (size < offset) offset = 0; // truncated and rewritten: start over
  if (size === offset) return { ...result, offset };
  const length = Math.min(size - offset, SIGNALS_BYTES_PER_STEP_MAX);
  const buf = Buffer.alloc(length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, buf, 0, length, offset);
  } finally {
    closeSync(fd);
  }
  let start = 0;
  for (;;) {
    const nl = buf.indexOf(10, start);
    if (nl < 0) {
      // No newline within the bound: a line longer than the bound is malformed, skip it.
      if (start === 0 && length === SIGNALS_BYTES_PER_STEP_MAX) {
        result.malformed.push({ offset, line: buf.subarray(0, 80).toString('utf8'), error: 'line too long' });
        result.offset = offset + length;
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
