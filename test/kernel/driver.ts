// A seeded chaos driver for property tests: a list of abstract actions is interpreted against a
// tiny venue (its book, fills and positions) that reacts to the kernel's commands. Fills come
// partial, duplicated (under the same or a new event id), late, undelivered (left for reconcile
// to infer) and overfilled; sends are rejected, rate limited (some after the venue placed them
// anyway) and lost; old intent ids are resent; time jumps past the memory horizons; settings
// change; reconciles see the venue's truth. The whole run is a function of the action list (and
// the options), so fast-check can shrink and replay it from its seed.
import fc from 'fast-check';
import { Kernel } from '../../src/engine/kernel/index.js';
import type { KernelConfig, KernelInput, KernelOutcome, KernelSettings, VenueCommand, VenueEvent, VenueFill, VenueOrder, VenuePosition } from '../../src/engine/kernel/types.js';
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
  | { t: 'garbage'; n: number }
  /** The venue answered "rate limited" but had placed the order: it works on, and may fill. */
  | { t: 'rate_placed'; k: number }
  /** A venue fill delivered again under a new event id (a poll overlap, a reconnect). */
  | { t: 'refill'; k: number }
  /** An intent id used before, sent again (a strategy restarted, a signals file replayed). */
  | { t: 'resend_old'; k: number; exit: boolean }
  /** Time jumps past the order and fill memories (31-90 min), then a tick. */
  | { t: 'long_wait'; min: number }
  /** A start with other settings: the SETTINGS input. */
  | { t: 'settings'; drop_eth: boolean; cooldown_ms: number; max_hold: number; step: boolean }
  /** Issue 19: an operator's halt / resume (sym -1: the engine; all: resume --all). Not in actionArb: trading.test.ts mixes it in. */
  | { t: 'trading'; sym: number; state: 'ACTIVE' | 'REDUCING' | 'HALTED'; all: boolean };

export const tradingActionArb: fc.Arbitrary<Action> = fc.record({
  t: fc.constant('trading' as const),
  sym: fc.integer({ min: -1, max: SYMBOLS.length - 1 }),
  state: fc.constantFrom('ACTIVE' as const, 'REDUCING' as const, 'HALTED' as const),
  all: fc.boolean(),
});

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
  { weight: 1, arbitrary: fc.record({ t: fc.constant('rate_placed' as const), k }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('refill' as const), k }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('resend_old' as const), k, exit: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('long_wait' as const), min: fc.integer({ min: 31, max: 90 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('settings' as const), drop_eth: fc.boolean(), cooldown_ms: fc.constantFrom(0, 1_000, 2_000, 30_000), max_hold: fc.integer({ min: 1, max: 12 }), step: fc.boolean() }) },
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

export interface DriveOptions {
  config?: KernelConfig;
  /** Checkpoint and restore the kernel before the input of this index (a restart at a random cut). */
  restore_at?: number;
}

/** Interprets `actions`; `observe` sees each input's outcomes as they come (for invariants). */
export function drive(actions: Action[], observe?: (input: KernelInput, out: KernelOutcome[], kernel: Kernel) => void, opts: DriveOptions = {}): RunResult {
  let kernel = new Kernel(opts.config ?? DRIVER_CONFIG);
  const venue = new MiniVenue();
  const delivered: KernelInput[] = [];
  const inputs: KernelInput[] = [];
  const outcomes: KernelOutcome[][] = [];
  const marks: Record<string, number> = { 'BTC-USDT': 100, 'ETH-USDT': 20 };
  let ts = 1_700_000_000_000;
  let n = 0;
  let lastIntent = '';
  let lastFunding = '';
  const used: { id: string; sym: number; side: 'long' | 'short' }[] = [];
  const apply = (input: KernelInput): KernelOutcome[] => {
    if (inputs.length === opts.restore_at) kernel = Kernel.restore(kernel.checkpoint());
    inputs.push(input);
    const out = kernel.apply(input);
    outcomes.push(out);
    observe?.(input, out, kernel);
    for (const o of out) for (const c of o.commands) if (c.kind === 'PLACE') venue.place(c);
    return out;
  };
  /** An event at input time `ts`; `event_ts` is the venue's time of the fact (a fill's own time). */
  const deliver = (event: Omit<VenueEvent, 'ts'>, event_ts = ts): void => {
    const input: KernelInput = { type: 'EVENT', ts, event: { ...event, ts: event_ts } };
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
        used.push({ id, sym: a.sym, side: a.side });
        apply({ type: 'INTENT', ts, intent: { intent_id: id, symbol: SYMBOLS[a.sym]!, action: 'ENTER', side: a.side, ...size, reason: 'chaos' } });
        break;
      }
      case 'exit': {
        const size = a.mode === 'final' ? { final: true, ...(a.x > 1 ? { qty: a.x * 10 } : {}) } : a.mode === 'fraction' ? { fraction: Math.min(1, a.x) } : { qty: a.x };
        used.push({ id: `i${n}`, sym: a.sym, side: 'long' });
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
      case 'rate_placed': {
        // Refused "for rate" as far as the kernel knows; the venue keeps the order on its book.
        const o = venue.pick(a.k);
        if (o?.on_book && !o.acked && o.filled === 0) apply({ type: 'RATE_LIMITED', ts, reason: '429 after the venue acted', client_order_id: o.coid });
        break;
      }
      case 'refill': {
        const f = venue.fills.length === 0 ? undefined : venue.fills[a.k % venue.fills.length]!;
        // The venue's fill, with the venue's time: a fill's time is part of what the venue says.
        if (f) deliver({ event_id: `fill:${f.fill_id}:again${n}`, kind: 'FILL', client_order_id: f.client_order_id, venue_order_id: f.venue_order_id, qty: f.qty, price: f.price, fee: f.fee, fill_id: f.fill_id }, f.ts);
        break;
      }
      case 'resend_old': {
        const u = used.length === 0 ? undefined : used[a.k % used.length]!;
        if (!u) break;
        const intent = a.exit
          ? { intent_id: u.id, symbol: SYMBOLS[u.sym]!, action: 'EXIT' as const, final: true, reason: 'chaos_resend' }
          : { intent_id: u.id, symbol: SYMBOLS[u.sym]!, action: 'ENTER' as const, side: u.side, qty: 1, reason: 'chaos_resend' };
        apply({ type: 'INTENT', ts, intent });
        break;
      }
      case 'long_wait':
        ts += a.min * 60_000;
        apply({ type: 'TICK', ts, marks: { ...marks } });
        break;
      case 'trading': {
        const all = a.all && a.state === 'ACTIVE';
        const symbol = all || a.sym < 0 ? undefined : SYMBOLS[a.sym];
        apply({ type: 'TRADING_STATE', ts, state: a.state, reason: `test ${n}`, ...(symbol ? { symbol } : {}), ...(all ? { all: true } : {}), operator: { command: 'halt', args: [], user: 'u', host: 'h', pid: 1 } });
        break;
      }
      case 'settings': {
        const base = opts.config ?? DRIVER_CONFIG;
        const settings: KernelSettings = {
          symbols: a.drop_eth ? ['BTC-USDT'] : [...SYMBOLS],
          rate_limit_cooldown_ms: a.cooldown_ms,
          rate_limit_persistent_ms: base.rate_limit_persistent_ms,
          max_hold_bars: a.max_hold,
          drift_tolerance_usdt: 1,
          qty_step_by_symbol: a.step ? { 'BTC-USDT': 0.001 } : {},
        };
        apply({ type: 'SETTINGS', ts, settings });
        break;
      }
    }
  }
  return { inputs, outcomes, kernel };
}
