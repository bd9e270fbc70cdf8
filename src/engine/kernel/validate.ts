// Shape checks of every input, before anything is mutated. Each returns null when the input is
// well-formed, else the reason (which names the field) for an INVALID_INPUT / INVALID_INTENT
// outcome. They judge shape only; whether the slot allows it is the transition table's job.
import type { Intent, KernelInput, VenueEvent } from './types.js';

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

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const positive = (v: unknown): v is number => finite(v) && v > 0;

export function validTs(v: unknown): v is number {
  return finite(v) && v >= 0;
}

function optional(o: Obj, key: string, ok: (v: unknown) => boolean, what: string): string | null {
  return o[key] === undefined || ok(o[key]) ? null : `${key} must be ${what}`;
}

export function checkIntent(v: unknown): string | null {
  if (!isObj(v)) return 'intent must be an object';
  if (!isId(v['intent_id'])) return 'intent_id must be a non-empty string';
  if (typeof v['symbol'] !== 'string' || v['symbol'] === '') return 'symbol must be a non-empty string';
  if (typeof v['action'] !== 'string' || !ACTIONS.has(v['action'])) return 'action must be ENTER, EXIT or CANCEL';
  if (typeof v['reason'] !== 'string') return 'reason must be a string';
  const bad =
    optional(v, 'side', (x) => typeof x === 'string' && SIDES.has(x), 'long or short') ??
    optional(v, 'qty', positive, 'a positive number') ??
    optional(v, 'notional', positive, 'a positive number') ??
    optional(v, 'fraction', (x) => positive(x) && x <= 1, 'a number in (0, 1]') ??
    optional(v, 'final', (x) => typeof x === 'boolean', 'a boolean') ??
    optional(v, 'order_type', (x) => typeof x === 'string' && ORDER_TYPES.has(x), 'market or limit') ??
    optional(v, 'price', positive, 'a positive number');
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
  if (!validTs(v['ts'])) return 'event ts must be a finite number >= 0';
  const bad =
    optional(v, 'venue_order_id', (x) => typeof x === 'string', 'a string') ??
    optional(v, 'reason', (x) => typeof x === 'string', 'a string') ??
    optional(v, 'qty', positive, 'a positive number') ??
    optional(v, 'price', positive, 'a positive number') ??
    optional(v, 'fee', finite, 'a finite number') ??
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

export function checkSnapshot(v: unknown): string | null {
  if (!isObj(v)) return 'snapshot must be an object';
  if (!validTs(v['ts'])) return 'snapshot.ts must be a finite number >= 0';
  if (v['balance_usdt'] !== null && !finite(v['balance_usdt'])) return 'snapshot.balance_usdt must be a number or null';
  const marks = v['marks'];
  if (!isObj(marks)) return 'snapshot.marks must be an object';
  for (const [k, m] of Object.entries(marks)) if (!positive(m)) return `snapshot.marks.${k} must be a positive number`;
  const sym = (x: Obj): string | null => (typeof x['symbol'] === 'string' && x['symbol'] !== '' ? null : 'symbol missing');
  return (
    checkArray(v['positions'], 'snapshot.positions', (p) =>
      sym(p) ??
      (typeof p['side'] === 'string' && SIDES.has(p['side']) ? null : 'side must be long or short') ??
      (positive(p['qty']) ? null : 'qty must be a positive number') ??
      (finite(p['entry_price']) && p['entry_price'] >= 0 ? null : 'entry_price must be a number >= 0') ??
      optional(p, 'mark_price', positive, 'a positive number'),
    ) ??
    checkArray(v['open_orders'], 'snapshot.open_orders', (o) =>
      sym(o) ??
      (typeof o['client_order_id'] === 'string' ? null : 'client_order_id missing') ??
      (typeof o['side'] === 'string' && ORDER_SIDES.has(o['side']) ? null : 'side must be buy or sell') ??
      (finite(o['qty']) && finite(o['filled_qty']) ? null : 'qty and filled_qty must be numbers'),
    ) ??
    checkArray(v['fills'], 'snapshot.fills', (f) =>
      sym(f) ??
      (isId(f['fill_id']) ? null : 'fill_id missing') ??
      (typeof f['client_order_id'] === 'string' ? null : 'client_order_id missing') ??
      (positive(f['qty']) && positive(f['price']) ? null : 'qty and price must be positive numbers') ??
      (finite(f['fee']) ? null : 'fee must be a number') ??
      (validTs(f['ts']) ? null : 'ts must be a finite number >= 0'),
    )
  );
}

/** The fields of the non-intent, non-event inputs. */
export function checkOther(input: KernelInput): string | null {
  const o = input as unknown as Obj;
  switch (input.type) {
    case 'TICK': {
      const marks = o['marks'];
      if (!isObj(marks)) return 'TICK.marks must be an object';
      // for-in, not Object.entries: this runs on every step and should not allocate.
      for (const k in marks) if (Object.hasOwn(marks, k) && !positive(marks[k])) return `TICK.marks.${k} must be a positive number`;
      return null;
    }
    case 'RATE_LIMITED':
      return (
        optional(o, 'retry_after_ms', (x) => finite(x) && x >= 0, 'a number >= 0') ??
        optional(o, 'client_order_id', isId, 'a non-empty string') ??
        (typeof o['reason'] === 'string' ? null : 'reason must be a string')
      );
    case 'SEND_UNKNOWN':
      return isId(o['client_order_id']) ? (typeof o['reason'] === 'string' ? null : 'reason must be a string') : 'client_order_id must be a non-empty string';
    case 'VENUE_UNAVAILABLE':
      return typeof o['reason'] === 'string' ? null : 'reason must be a string';
    case 'FUNDING':
      if (typeof o['symbol'] !== 'string' || o['symbol'] === '') return 'FUNDING.symbol must be a non-empty string';
      if (!finite(o['amount_usdt'])) return 'FUNDING.amount_usdt must be a finite number';
      return isId(o['funding_id']) ? null : 'FUNDING.funding_id must be a non-empty string';
    case 'RECONCILE':
      if (o['symbols'] !== undefined && !(Array.isArray(o['symbols']) && o['symbols'].every((s) => typeof s === 'string'))) return 'RECONCILE.symbols must be an array of strings';
      if (o['adopt_orphans'] !== undefined && typeof o['adopt_orphans'] !== 'boolean') return 'RECONCILE.adopt_orphans must be a boolean';
      return checkSnapshot(o['snapshot']);
    default:
      return null;
  }
}

