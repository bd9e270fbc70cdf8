// Shape and bound checks of every input, before anything is mutated. Each returns null when the
// input is well-formed, else the reason (which names the field) for an INVALID_INPUT /
// INVALID_INTENT outcome. They judge shape and limits (limits.ts) only; whether the slot allows
// it is the transition table's job.
//
// JSON-invariance: the runner journals inputs as JSON and replay reads them back, so an input and
// its JSON form must be judged alike. JSON turns a non-finite number into null and drops an
// undefined key: a key whose value is undefined counts as absent here, and the one field where
// null is valid (a snapshot's balance_usdt) reads a non-finite number as null (unknown), as the
// journal will hold it.
import {
  BALANCE_USDT_ABS_MAX,
  COOLDOWN_MS_MAX,
  DRIFT_ACCEPTED_USDT_ABS_MAX,
  DRIFT_TOLERANCE_USDT_MAX,
  FEE_USDT_ABS_MAX,
  FUNDING_RATE_ABS_MAX,
  FUNDING_USDT_ABS_MAX,
  HOLD_BARS_MAX,
  MAX_DRAWDOWN_USDT_MAX,
  MAX_REJECTS_MAX,
  NOTIONAL_USDT_MAX,
  PRICE_USDT_MAX,
  PRICE_USDT_MIN,
  QTY_MAX,
  QTY_MIN,
  QTY_STEP_MAX,
  QTY_STEP_MIN,
  RATE_LIMIT_PERSISTENT_MS_MAX,
  RETRY_AFTER_MS_MAX,
  SYMBOL_CHARS_MAX,
  SYMBOLS_MAX,
  TS_MS_MAX,
} from './limits.js';
import type { Intent, KernelInput, KernelSettings, VenueEvent } from './types.js';

type Obj = Record<string, unknown>;

const ACTIONS = new Set(['ENTER', 'EXIT', 'CANCEL']);
const SIDES = new Set(['long', 'short']);
const ORDER_SIDES = new Set(['buy', 'sell']);
const ORDER_TYPES = new Set(['market', 'limit']);
const EVENT_KINDS = new Set(['ACCEPTED', 'REJECTED', 'FILL', 'CANCELED', 'CANCEL_REJECTED', 'EXPIRED']);
/** Ids longer than this are refused: they end up in rows and in every seen-id set. */
export const ID_CHARS_MAX = 256;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= ID_CHARS_MAX;
}

export function isSymbol(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= SYMBOL_CHARS_MAX;
}

export const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const within = (min: number, max: number) => (v: unknown): v is number => finite(v) && v >= min && v <= max;
export const isQty = within(QTY_MIN, QTY_MAX);
export const isPrice = within(PRICE_USDT_MIN, PRICE_USDT_MAX);
const isFee = within(-FEE_USDT_ABS_MAX, FEE_USDT_ABS_MAX);
const isNotional = (v: unknown): v is number => finite(v) && v > 0 && v <= NOTIONAL_USDT_MAX;

const QTY_TEXT = `a number in [${QTY_MIN}, ${QTY_MAX}]`;
const PRICE_TEXT = `a number in [${PRICE_USDT_MIN}, ${PRICE_USDT_MAX}] USDT`;

/** Epoch ms: an integer (the store's DateTime64(3) takes whole ms) in [0, TS_MS_MAX]. */
export function validTs(v: unknown): v is number {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= TS_MS_MAX;
}

function optional(o: Obj, key: string, ok: (v: unknown) => boolean, what: string): string | null {
  return o[key] === undefined || ok(o[key]) ? null : `${key} must be ${what}`;
}

export function checkIntent(v: unknown): string | null {
  if (!isObj(v)) return 'intent must be an object';
  if (!isId(v['intent_id'])) return 'intent_id must be a non-empty string';
  if (!isSymbol(v['symbol'])) return `symbol must be a non-empty string of at most ${SYMBOL_CHARS_MAX} chars`;
  if (typeof v['action'] !== 'string' || !ACTIONS.has(v['action'])) return 'action must be ENTER, EXIT or CANCEL';
  if (typeof v['reason'] !== 'string') return 'reason must be a string';
  const bad =
    optional(v, 'side', (x) => typeof x === 'string' && SIDES.has(x), 'long or short') ??
    optional(v, 'qty', isQty, QTY_TEXT) ??
    optional(v, 'notional', isNotional, `a positive number of at most ${NOTIONAL_USDT_MAX} USDT`) ??
    optional(v, 'fraction', (x) => finite(x) && x > 0 && x <= 1, 'a number in (0, 1]') ??
    optional(v, 'final', (x) => typeof x === 'boolean', 'a boolean') ??
    optional(v, 'order_type', (x) => typeof x === 'string' && ORDER_TYPES.has(x), 'market or limit') ??
    optional(v, 'price', isPrice, PRICE_TEXT);
  if (bad) return bad;
  if (v['order_type'] === 'limit' && v['price'] === undefined) return 'a limit order needs a price';
  const i = v as unknown as Intent;
  if (i.action === 'ENTER') {
    if (i.side === undefined) return 'ENTER needs side (long or short)';
    if ((i.qty === undefined) === (i.notional === undefined)) return 'ENTER needs exactly one of qty or notional';
    if (i.fraction !== undefined || i.final !== undefined) return 'ENTER takes no fraction or final';
  } else if (i.action === 'EXIT') {
    if (i.qty !== undefined && i.fraction !== undefined) return 'EXIT takes qty or fraction, not both';
    if (i.qty === undefined && i.fraction === undefined && i.final !== true) return 'EXIT needs qty, fraction or final';
  }
  return null;
}

export function checkEvent(v: unknown): string | null {
  if (!isObj(v)) return 'event must be an object';
  if (!isId(v['event_id'])) return 'event_id must be a non-empty string';
  if (typeof v['kind'] !== 'string' || !EVENT_KINDS.has(v['kind'])) return 'kind must be one of ' + [...EVENT_KINDS].join(', ');
  if (!isId(v['client_order_id'])) return 'client_order_id must be a non-empty string';
  if (!validTs(v['ts'])) return `event ts must be an integer in [0, ${TS_MS_MAX}]`;
  const bad =
    optional(v, 'venue_order_id', (x) => typeof x === 'string' && x.length <= ID_CHARS_MAX, 'a string') ??
    optional(v, 'reason', (x) => typeof x === 'string', 'a string') ??
    optional(v, 'qty', isQty, QTY_TEXT) ??
    optional(v, 'price', isPrice, PRICE_TEXT) ??
    optional(v, 'fee', isFee, `a number in [-${FEE_USDT_ABS_MAX}, ${FEE_USDT_ABS_MAX}] USDT`) ??
    optional(v, 'fill_id', isId, 'a non-empty string');
  if (bad) return bad;
  const e = v as unknown as VenueEvent;
  if (e.kind === 'FILL') {
    if (e.qty === undefined || e.price === undefined) return 'FILL needs qty and price';
    if (e.fill_id === undefined) return "FILL needs fill_id (the venue's trade id: fills are applied once per fill id)";
  }
  return null;
}

function checkArray(v: unknown, what: string, each: (x: Obj) => string | null): string | null {
  if (!Array.isArray(v)) return `${what} must be an array`;
  for (let i = 0; i < v.length; i += 1) {
    const x: unknown = v[i];
    if (!isObj(x)) return `${what}[${i}] must be an object`;
    const bad = each(x);
    if (bad) return `${what}[${i}]: ${bad}`;
  }
  return null;
}

/** A map of symbol → price (TICK and snapshot marks); an undefined value counts as absent. */
function checkMarks(marks: unknown, what: string): string | null {
  if (!isObj(marks)) return `${what} must be an object`;
  // for-in, not Object.entries: this runs on every step and should not allocate.
  for (const k in marks) {
    if (!Object.hasOwn(marks, k) || marks[k] === undefined) continue;
    if (!isPrice(marks[k])) return `${what}.${k} must be ${PRICE_TEXT}`;
  }
  return null;
}

/** The venue balance the kernel reads: a non-finite number is null (unknown), as JSON holds it. */
export function balanceOf(v: unknown): number | null {
  return finite(v) ? v : null;
}

export function checkSnapshot(v: unknown): string | null {
  if (!isObj(v)) return 'snapshot must be an object';
  if (!validTs(v['ts'])) return `snapshot.ts must be an integer in [0, ${TS_MS_MAX}]`;
  const b = v['balance_usdt'];
  if (b !== null && typeof b !== 'number') return 'snapshot.balance_usdt must be a number or null';
  if (finite(b) && Math.abs(b) > BALANCE_USDT_ABS_MAX) return `snapshot.balance_usdt must be within ±${BALANCE_USDT_ABS_MAX} USDT`;
  const sym = (x: Obj): string | null => (isSymbol(x['symbol']) ? null : 'symbol missing');
  return (
    checkMarks(v['marks'], 'snapshot.marks') ??
    checkArray(v['positions'], 'snapshot.positions', (p) =>
      sym(p) ??
      (typeof p['side'] === 'string' && SIDES.has(p['side']) ? null : 'side must be long or short') ??
      (isQty(p['qty']) ? null : `qty must be ${QTY_TEXT}`) ??
      // 0: the venue did not say (reconcile adopts such a position at the mark, never at 0).
      (p['entry_price'] === 0 || isPrice(p['entry_price']) ? null : `entry_price must be 0 (unknown) or ${PRICE_TEXT}`) ??
      optional(p, 'mark_price', isPrice, PRICE_TEXT),
    ) ??
    checkArray(v['open_orders'], 'snapshot.open_orders', (o) =>
      sym(o) ??
      (typeof o['client_order_id'] === 'string' && o['client_order_id'].length <= ID_CHARS_MAX ? null : 'client_order_id missing') ??
      (typeof o['side'] === 'string' && ORDER_SIDES.has(o['side']) ? null : 'side must be buy or sell') ??
      (within(0, QTY_MAX)(o['qty']) && within(0, QTY_MAX)(o['filled_qty']) ? null : `qty and filled_qty must be numbers in [0, ${QTY_MAX}]`),
    ) ??
    checkArray(v['fills'], 'snapshot.fills', (f) =>
      sym(f) ??
      (isId(f['fill_id']) ? null : 'fill_id missing') ??
      (typeof f['client_order_id'] === 'string' && f['client_order_id'].length <= ID_CHARS_MAX ? null : 'client_order_id missing') ??
      (isQty(f['qty']) ? null : `qty must be ${QTY_TEXT}`) ??
      (isPrice(f['price']) ? null : `price must be ${PRICE_TEXT}`) ??
      (isFee(f['fee']) ? null : `fee must be within ±${FEE_USDT_ABS_MAX} USDT`) ??
      (validTs(f['ts']) ? null : `ts must be an integer in [0, ${TS_MS_MAX}]`),
    )
  );
}

/** The SETTINGS input's settings (and a KernelConfig's): each within its documented range. */
export function checkSettings(v: unknown): string | null {
  if (!isObj(v)) return 'settings must be an object';
  const symbols = v['symbols'];
  if (!Array.isArray(symbols) || !symbols.every(isSymbol)) return 'symbols must be an array of symbols';
  if (symbols.length > SYMBOLS_MAX) return `at most ${SYMBOLS_MAX} symbols`;
  if (new Set(symbols).size !== symbols.length) return 'symbols must not repeat';
  if (!within(0, COOLDOWN_MS_MAX)(v['rate_limit_cooldown_ms'])) return `rate_limit_cooldown_ms must be in [0, ${COOLDOWN_MS_MAX}]`;
  if (!within(0, RATE_LIMIT_PERSISTENT_MS_MAX)(v['rate_limit_persistent_ms'])) return `rate_limit_persistent_ms must be in [0, ${RATE_LIMIT_PERSISTENT_MS_MAX}]`;
  const hold = v['max_hold_bars'];
  if (!Number.isInteger(hold) || !within(1, HOLD_BARS_MAX)(hold)) return `max_hold_bars must be an integer in [1, ${HOLD_BARS_MAX}]`;
  if (!within(0, DRIFT_TOLERANCE_USDT_MAX)(v['drift_tolerance_usdt'])) return `drift_tolerance_usdt must be in [0, ${DRIFT_TOLERANCE_USDT_MAX}]`;
  const rejects = v['max_rejects'];
  if (rejects !== undefined && !(Number.isInteger(rejects) && within(0, MAX_REJECTS_MAX)(rejects))) return `max_rejects must be an integer in [0, ${MAX_REJECTS_MAX}]`;
  if (v['max_drawdown_usdt'] !== undefined && !within(0, MAX_DRAWDOWN_USDT_MAX)(v['max_drawdown_usdt'])) return `max_drawdown_usdt must be in [0, ${MAX_DRAWDOWN_USDT_MAX}]`;
  const steps = v['qty_step_by_symbol'];
  if (!isObj(steps)) return 'qty_step_by_symbol must be an object';
  for (const [sym, step] of Object.entries(steps)) {
    if (step === undefined) continue;
    if (!isSymbol(sym) || !within(QTY_STEP_MIN, QTY_STEP_MAX)(step)) return `qty step of ${sym} must be in [${QTY_STEP_MIN}, ${QTY_STEP_MAX}]`;
  }
  return null;
}

/** The fields of the non-intent, non-event inputs. */
export function checkOther(input: KernelInput): string | null {
  const o = input as unknown as Obj;
  switch (input.type) {
    case 'TICK':
      return checkMarks(o['marks'], 'TICK.marks');
    case 'RATE_LIMITED':
      return (
        optional(o, 'retry_after_ms', within(0, RETRY_AFTER_MS_MAX), `a number in [0, ${RETRY_AFTER_MS_MAX}]`) ??
        optional(o, 'client_order_id', isId, 'a non-empty string') ??
        (typeof o['reason'] === 'string' ? null : 'reason must be a string')
      );
    case 'SEND_UNKNOWN':
      return isId(o['client_order_id']) ? (typeof o['reason'] === 'string' ? null : 'reason must be a string') : 'client_order_id must be a non-empty string';
    case 'VENUE_UNAVAILABLE':
      return typeof o['reason'] === 'string' ? null : 'reason must be a string';
    case 'FUNDING':
      if (!isSymbol(o['symbol'])) return 'FUNDING.symbol must be a non-empty string';
      if (!within(-FUNDING_USDT_ABS_MAX, FUNDING_USDT_ABS_MAX)(o['amount_usdt'])) return `FUNDING.amount_usdt must be within ±${FUNDING_USDT_ABS_MAX} USDT`;
      if (!isId(o['funding_id'])) return 'FUNDING.funding_id must be a non-empty string';
      return (
        optional(o, 'funding_ts', validTs, `an integer in [0, ${TS_MS_MAX}]`) ??
        optional(o, 'rate', within(-FUNDING_RATE_ABS_MAX, FUNDING_RATE_ABS_MAX), `a number within ±${FUNDING_RATE_ABS_MAX}`) ??
        optional(o, 'position_qty', within(-QTY_MAX, QTY_MAX), `a number within ±${QTY_MAX}`) ??
        optional(o, 'mark_price', within(0, PRICE_USDT_MAX), `a number in [0, ${PRICE_USDT_MAX}]`)
      );
    case 'RECONCILE':
      if (o['symbols'] !== undefined && !(Array.isArray(o['symbols']) && o['symbols'].every((s) => typeof s === 'string'))) return 'RECONCILE.symbols must be an array of strings';
      if (o['adopt_orphans'] !== undefined && typeof o['adopt_orphans'] !== 'boolean') return 'RECONCILE.adopt_orphans must be a boolean';
      return checkSnapshot(o['snapshot']);
    case 'TRADING_STATE':
      return checkTradingState(o);
    case 'DRIFT_ACCEPTED':
      if (!within(-DRIFT_ACCEPTED_USDT_ABS_MAX, DRIFT_ACCEPTED_USDT_ABS_MAX)(o['amount_usdt'])) return `DRIFT_ACCEPTED.amount_usdt must be a number within ±${DRIFT_ACCEPTED_USDT_ABS_MAX} USDT`;
      // Always an operator's: an accept nobody signed is refused.
      if (o['operator'] === undefined) return 'DRIFT_ACCEPTED needs operator (command, args, user, host, pid)';
      return checkOperator(o['operator']);
    case 'SETTINGS': {
      const bad = checkSettings(o['settings']);
      return bad === null ? null : `SETTINGS: ${bad}`;
    }
    default:
      return null;
  }
}

const TRADING_STATES = new Set(['ACTIVE', 'REDUCING', 'HALTED']);

function checkTradingState(o: Obj): string | null {
  if (typeof o['state'] !== 'string' || !TRADING_STATES.has(o['state'])) return 'state must be ACTIVE, REDUCING or HALTED';
  if (typeof o['reason'] !== 'string' || o['reason'].length > 500) return 'reason must be a string of at most 500 chars';
  const bad = optional(o, 'symbol', isSymbol, 'a symbol') ?? optional(o, 'all', (x) => typeof x === 'boolean', 'a boolean');
  if (bad) return bad;
  if (o['all'] === true && (o['symbol'] !== undefined || o['state'] !== 'ACTIVE')) return 'all is only for ACTIVE (resume --all), without a symbol';
  return o['operator'] === undefined ? null : checkOperator(o['operator']);
}

/** The audit facts an operator's input carries (OperatorAudit). */
function checkOperator(op: unknown): string | null {
  if (!isObj(op)) return 'operator must be an object';
  if (typeof op['command'] !== 'string' || typeof op['user'] !== 'string' || typeof op['host'] !== 'string' || !Number.isInteger(op['pid'])) return 'operator needs command, user, host and pid';
  if (!Array.isArray(op['args']) || !op['args'].every((a) => typeof a === 'string')) return 'operator.args must be an array of strings';
  return null;
}
