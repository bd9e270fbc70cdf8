// A seeded chaos driver for property tests: a list of abstract actions is interpreted against a
// tiny venue (its book, fills and positions) that reacts to the kernel's commands. Fills come
// partial, duplicated, late, undelivered (left for reconcile to infer) and overfilled; sends are
// rejected, rate limited and lost; reconciles see the venue's truth. The whole run is a function
// of the action list, so fast-check can shrink and replay it from its seed.
import fc from 'fast-check';
import { Kernel } from '../../src/engine/kernel/index.js';
import type { KernelInput, KernelOutcome, VenueCommand, VenueEvent, VenueFill, VenueOrder, VenuePosition } from '../../src/engine/kernel/types.js';
import { CONFIG } from './harness.js';

export const SYMBOLS = ['BTC-USDT', 'ETH-USDT'] as const;

/** Short cooldowns and windows, so that generated runs reach the persistent and max-hold codes. */
export const DRIVER_CONFIG = { ...CONFIG, rate_limit_cooldown_ms: 2_000, rate_limit_persistent_ms: 20_000, max_hold_bars: 8 };

export type Action =
  | { t: 'tick'; move: number }
  | { t: 'enter'; sym: number; side: 'long' | 'short'; qty: number; notional: boolean; resend: boolean }
  | { t: 'exit'; sym: number; mode: 'fraction' | 'final' | 'qty'; x: number }
  | { t: 'cancel'; sym: number }
  | { t: 'ack'; k: number }
  | { t: 'fill'; k: number; frac: number; fee: number; deliver: boolean }
  /** The common path: ACCEPTED then one fill for the whole order, delivered. */
  | { t: 'complete'; k: number }
  | { t: 'reject'; k: number }
  | { t: 'canceled'; k: number }
  | { t: 'cancel_rejected'; k: number }
  | { t: 'dup'; k: number }
  | { t: 'rate'; k: number; named: boolean; retry: number | null }
  | { t: 'ok' }
  | { t: 'unknown'; k: number }
  | { t: 'reconcile'; adopt: boolean; external_close: boolean; scoped: boolean }
  | { t: 'funding'; sym: number; amount: number; again: boolean }
  | { t: 'wait'; ms: number }
  | { t: 'garbage'; n: number };

const sym = fc.integer({ min: 0, max: SYMBOLS.length - 1 });
const k = fc.nat(1000);

export const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('tick' as const), move: fc.double({ min: -0.05, max: 0.05, noNaN: true }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('enter' as const), sym, side: fc.constantFrom('long' as const, 'short' as const), qty: fc.double({ min: 0.001, max: 5, noNaN: true }), notional: fc.boolean(), resend: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('exit' as const), sym, mode: fc.constantFrom('fraction' as const, 'final' as const, 'qty' as const), x: fc.double({ min: 0.01, max: 1.5, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cancel' as const), sym }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('ack' as const), k }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('fill' as const), k, frac: fc.double({ min: 0.05, max: 1.3, noNaN: true }), fee: fc.double({ min: -0.01, max: 0.2, noNaN: true }), deliver: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('complete' as const), k }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('reject' as const), k }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('canceled' as const), k }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cancel_rejected' as const), k }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('dup' as const), k }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('rate' as const), k, named: fc.boolean(), retry: fc.option(fc.nat(3_000)) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'ok' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('unknown' as const), k }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('reconcile' as const), adopt: fc.boolean(), external_close: fc.boolean(), scoped: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('funding' as const), sym, amount: fc.double({ min: -5, max: 5, noNaN: true }), again: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('wait' as const), ms: fc.nat(30_000) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('garbage' as const), n: fc.nat(5) }) },
);

interface VOrder {
  coid: string;
  symbol: string;
  side: 'buy' | 'sell';
  qty: number;
  filled: number;
  reduce_only: boolean;
  on_book: boolean;
  acked: boolean;
}

/** The venue's truth, as simple as it can be while staying a venue (reduce-only never flips). */
class MiniVenue {
  orders: VOrder[] = [];
  fills: VenueFill[] = [];
  position = new Map<string, { signed_qty: number; entry: number }>();

  place(cmd: Extract<VenueCommand, { kind: 'PLACE' }>): void {
    if (this.orders.some((o) => o.coid === cmd.client_order_id && o.on_book)) return;
    this.orders = this.orders.filter((o) => o.coid !== cmd.client_order_id);
    this.orders.push({ coid: cmd.client_order_id, symbol: cmd.symbol, side: cmd.side, qty: cmd.qty, filled: 0, reduce_only: cmd.reduce_only, on_book: true, acked: false });
  }

  pick(k: number): VOrder | undefined {
    const live = this.orders.filter((o) => o.on_book);
    const pool = live.length > 0 ? live : this.orders;
    return pool.length === 0 ? undefined : pool[k % pool.length];
  }

  fill(o: VOrder, qty: number, price: number, fee: number, id: string, ts: number): VenueFill {
    const pos = this.position.get(o.symbol) ?? { signed_qty: 0, entry: price };
    const dir = o.side === 'buy' ? 1 : -1;
    let applied = qty;
    if (o.reduce_only) applied = Math.min(qty, Math.abs(pos.signed_qty));
    if (applied > 0) {
      if (Math.sign(pos.signed_qty) !== -dir || pos.signed_qty === 0) pos.entry = price;
      pos.signed_qty += dir * applied;
      if (Math.abs(pos.signed_qty) < 1e-12) pos.signed_qty = 0;
      this.position.set(o.symbol, pos);
    }
    o.filled += qty;
    if (o.filled >= o.qty - 1e-12) o.on_book = false;
    const f: VenueFill = { fill_id: id, client_order_id: o.coid, venue_order_id: `v-${o.coid}`, symbol: o.symbol, side: o.side, qty, price, fee, ts };
    this.fills.push(f);
    return f;
  }

  positions(): VenuePosition[] {
    const out: VenuePosition[] = [];
    for (const [symbol, p] of this.position) {
      if (p.signed_qty !== 0) out.push({ symbol, side: p.signed_qty > 0 ? 'long' : 'short', qty: Math.abs(p.signed_qty), entry_price: p.entry });
    }
    return out;
  }

  book(): VenueOrder[] {
    return this.orders
      .filter((o) => o.on_book)
      .map((o) => ({ client_order_id: o.coid, venue_order_id: `v-${o.coid}`, symbol: o.symbol, side: o.side, order_type: 'market', qty: o.qty, filled_qty: Math.min(o.filled, o.qty), reduce_only: o.reduce_only, ts: 0 }));
  }
}

const GARBAGE: unknown[] = [
  null,
  { type: 'TICK', ts: Number.NaN, marks: {} },
  { type: 'INTENT', ts: 1, intent: { intent_id: 'g', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: -1, reason: 'g' } },
  { type: 'EVENT', ts: 1, event: { event_id: 'g', kind: 'FILL', client_order_id: 'pink-nope', qty: 1, price: 1, fill_id: 'g', ts: 1 } },
  { type: 'INTENT', ts: 1, intent: { intent_id: 'g2', symbol: 'XRP-USDT', action: 'EXIT', final: true, reason: 'g' } },
  { type: 'RECONCILE', ts: 1, snapshot: { ts: 1 } },
];

export interface RunResult {
  inputs: KernelInput[];
  outcomes: KernelOutcome[][];
  kernel: Kernel;
}

/** Interprets `actions`; `observe` sees each input's outcomes as they come (for invariants). */
export function drive(actions: Action[], observe?: (input: KernelInput, out: KernelOutcome[], kernel: Kernel) => void): RunResult {
  const kernel = new Kernel(DRIVER_CONFIG);
  const venue = new MiniVenue();
  const delivered: KernelInput[] = [];
  const inputs: KernelInput[] = [];
  const outcomes: KernelOutcome[][] = [];
  const marks: Record<string, number> = { 'BTC-USDT': 100, 'ETH-USDT': 20 };
  let ts = 1_700_000_000_000;
  let n = 0;
  let lastIntent = '';
  let lastFunding = '';
  const apply = (input: KernelInput): KernelOutcome[] => {
    inputs.push(input);
    const out = kernel.apply(input);
    outcomes.push(out);
    observe?.(input, out, kernel);
    for (const o of out) for (const c of o.commands) if (c.kind === 'PLACE') venue.place(c);
    return out;
  };
  const deliver = (event: Omit<VenueEvent, 'ts'>): void => {
    const input: KernelInput = { type: 'EVENT', ts, event: { ...event, ts } };
    delivered.push(input);
    apply(input);
  };
  for (const a of actions) {
    ts += 250;
    n += 1;
    switch (a.t) {
      case 'tick':
        for (const s of SYMBOLS) marks[s] = Math.max(0.01, marks[s]! * (1 + a.move));
        apply({ type: 'TICK', ts, marks: { ...marks } });
        break;
      case 'enter': {
        const id = a.resend && lastIntent !== '' ? lastIntent : `i${n}`;
        lastIntent = id;
        const size = a.notional ? { notional: a.qty * 100 } : { qty: a.qty };
        apply({ type: 'INTENT', ts, intent: { intent_id: id, symbol: SYMBOLS[a.sym]!, action: 'ENTER', side: a.side, ...size, reason: 'chaos' } });
        break;
      }
      case 'exit': {
        const size = a.mode === 'final' ? { final: true, ...(a.x > 1 ? { qty: a.x * 10 } : {}) } : a.mode === 'fraction' ? { fraction: Math.min(1, a.x) } : { qty: a.x };
        apply({ type: 'INTENT', ts, intent: { intent_id: `i${n}`, symbol: SYMBOLS[a.sym]!, action: 'EXIT', ...size, reason: 'chaos_exit' } });
        break;
      }
      case 'cancel':
        apply({ type: 'INTENT', ts, intent: { intent_id: `i${n}`, symbol: SYMBOLS[a.sym]!, action: 'CANCEL', reason: 'chaos' } });
        break;
      case 'ack': {
        const o = venue.pick(a.k);
        if (o?.on_book) {
          o.acked = true;
          deliver({ event_id: `acc-${o.coid}`, kind: 'ACCEPTED', client_order_id: o.coid, venue_order_id: `v-${o.coid}` });
        }
        break;
      }
      case 'fill': {
        const o = venue.pick(a.k);
        if (!o?.on_book) break;
        const qty = Math.max(1e-6, (o.qty - o.filled) * a.frac);
        const price = marks[o.symbol]!;
        const f = venue.fill(o, qty, price, a.fee, `F${n}`, ts);
        if (a.deliver) deliver({ event_id: `fill:${f.fill_id}`, kind: 'FILL', client_order_id: o.coid, venue_order_id: f.venue_order_id, qty, price, fee: a.fee, fill_id: f.fill_id });
        break;
      }
      case 'complete': {
        const o = venue.pick(a.k);
        if (!o?.on_book) break;
        if (!o.acked) {
          o.acked = true;
          deliver({ event_id: `acc-${o.coid}`, kind: 'ACCEPTED', client_order_id: o.coid, venue_order_id: `v-${o.coid}` });
        }
        const qty = o.qty - o.filled;
        const f = venue.fill(o, qty, marks[o.symbol]!, 0.01, `F${n}`, ts);
        deliver({ event_id: `fill:${f.fill_id}`, kind: 'FILL', client_order_id: o.coid, venue_order_id: f.venue_order_id, qty, price: f.price, fee: f.fee, fill_id: f.fill_id });
        break;
      }
      case 'reject': {
        const o = venue.pick(a.k);
        if (o?.on_book && o.filled === 0) {
          o.on_book = false;
          deliver({ event_id: `rej-${o.coid}-${n}`, kind: 'REJECTED', client_order_id: o.coid, reason: 'chaos reject' });
        }
        break;
      }
      case 'canceled': {
        const o = venue.pick(a.k);
        if (o?.on_book) {
          o.on_book = false;
          deliver({ event_id: `can-${o.coid}`, kind: 'CANCELED', client_order_id: o.coid });
        }
        break;
      }
      case 'cancel_rejected': {
        const o = venue.pick(a.k);
        if (o) deliver({ event_id: `crj-${o.coid}-${n}`, kind: 'CANCEL_REJECTED', client_order_id: o.coid, reason: 'chaos' });
        break;
      }
      case 'dup':
        if (delivered.length > 0) apply({ ...delivered[a.k % delivered.length]!, ts } as KernelInput);
        break;
      case 'rate': {
        const o = a.named ? venue.pick(a.k) : undefined;
        // The venue refused the PLACE itself: the order never reached the book.
        if (o && !o.acked && o.filled === 0) o.on_book = false;
        apply({ type: 'RATE_LIMITED', ts, reason: '429', ...(o ? { client_order_id: o.coid } : {}), ...(a.retry === null ? {} : { retry_after_ms: a.retry }) });
        break;
      }
      case 'ok':
        apply({ type: 'VENUE_OK', ts });
        break;
      case 'unknown': {
        const o = venue.pick(a.k);
        if (o) apply({ type: 'SEND_UNKNOWN', ts, client_order_id: o.coid, reason: 'timeout' });
        break;
      }
      case 'reconcile': {
        if (a.external_close) venue.position.clear();
        apply({
          type: 'RECONCILE',
          ts,
          adopt_orphans: a.adopt,
          ...(a.scoped ? { symbols: [SYMBOLS[n % SYMBOLS.length]!] } : {}),
          snapshot: { ts, balance_usdt: n % 3 === 0 ? null : 10_000 + (n % 7), marks: { ...marks }, positions: venue.positions(), open_orders: venue.book(), fills: [...venue.fills] },
        });
        break;
      }
      case 'funding': {
        const id = a.again && lastFunding !== '' ? lastFunding : `fund-${n}`;
        lastFunding = id;
        apply({ type: 'FUNDING', ts, symbol: SYMBOLS[a.sym]!, amount_usdt: a.amount, funding_id: id });
        break;
      }
      case 'wait':
        ts += a.ms;
        break;
      case 'garbage':
        apply(GARBAGE[a.n % GARBAGE.length] as KernelInput);
        break;
    }
  }
  return { inputs, outcomes, kernel };
}
