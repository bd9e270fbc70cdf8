// A small driver around the kernel for tests: builds well-formed inputs with an advancing clock
// and remembers every outcome, so a test reads like the scenario it checks.
import assert from 'node:assert/strict';
import { clientOrderId, Kernel } from '../../src/engine/kernel/index.js';
import type {
  Intent,
  KernelConfig,
  KernelInput,
  KernelOutcome,
  RowFamily,
  VenueEvent,
  VenueSnapshot,
} from '../../src/engine/kernel/types.js';

export const BTC = 'BTC-USDT';
export const ETH = 'ETH-USDT';

/** The history id of every test kernel (a fixed one: tests are deterministic). */
export const HID = 'harness001';

export const CONFIG: KernelConfig = {
  history_id: HID,
  namespace: 'pink',
  initial_capital_usdt: 10_000,
  rate_limit_cooldown_ms: 5_000,
  rate_limit_persistent_ms: 600_000,
  max_hold_bars: 250,
  symbols: [BTC, ETH],
};

type Row = Record<string, string | number | boolean | null>;

export class Harness {
  k: Kernel;
  ts = 1_700_000_000_000;
  readonly log: KernelOutcome[] = [];
  readonly inputs: KernelInput[] = [];
  private n = 0;

  constructor(config: KernelConfig = CONFIG) {
    this.k = new Kernel(config);
  }

  apply(input: KernelInput): KernelOutcome[] {
    this.inputs.push(input);
    const out = this.k.apply(input);
    this.log.push(...out);
    return out;
  }

  next(ms = 1000): number {
    this.ts += ms;
    return this.ts;
  }

  tick(marks: Record<string, number>): KernelOutcome[] {
    return this.apply({ type: 'TICK', ts: this.next(), marks });
  }

  intent(intent: Omit<Intent, 'reason'> & { reason?: string }): KernelOutcome[] {
    return this.apply({ type: 'INTENT', ts: this.next(), intent: { reason: 'test', ...intent } });
  }

  /** The client order id of an intent in this kernel's history. */
  coidOf(intent_id: string): string {
    return clientOrderId(this.k.history_id, intent_id);
  }

  /** ENTER by qty; returns the entry order's client order id. */
  enter(intent_id: string, symbol: string, side: 'long' | 'short', qty: number): string {
    const out = this.intent({ intent_id, symbol, action: 'ENTER', side, qty });
    assert.equal(out[0]!.diagnostic_code, 'INTENT_ACCEPTED', JSON.stringify(out[0]!.details));
    return this.coidOf(intent_id);
  }

  exit(intent_id: string, symbol: string, fields: Partial<Intent> = {}): KernelOutcome[] {
    return this.intent({ intent_id, symbol, action: 'EXIT', ...fields });
  }

  event(event: Omit<VenueEvent, 'ts' | 'event_id'> & { event_id?: string }): KernelOutcome[] {
    this.n += 1;
    const ts = this.next();
    return this.apply({ type: 'EVENT', ts, event: { event_id: event.event_id ?? `ev-${this.n}`, ts, ...event } });
  }

  accept(coid: string): KernelOutcome[] {
    return this.event({ kind: 'ACCEPTED', client_order_id: coid, venue_order_id: `v-${coid}` });
  }

  fill(coid: string, qty: number, price: number, fee = 0, fill_id?: string): KernelOutcome[] {
    this.n += 1;
    return this.event({ kind: 'FILL', client_order_id: coid, qty, price, fee, fill_id: fill_id ?? `fill-${this.n}` });
  }

  /** ENTER, ACCEPTED and one complete fill: an OPEN slot. */
  open(intent_id: string, symbol: string, side: 'long' | 'short', qty: number, price: number, fee = 0): string {
    const coid = this.enter(intent_id, symbol, side, qty);
    this.accept(coid);
    this.fill(coid, qty, price, fee);
    assert.equal(this.slot(symbol).state, 'OPEN');
    return coid;
  }

  reconcile(snapshot: Partial<VenueSnapshot>, opts: { adopt_orphans?: boolean; symbols?: string[] } = {}): KernelOutcome[] {
    const ts = this.next();
    return this.apply({
      type: 'RECONCILE',
      ts,
      snapshot: { ts, balance_usdt: null, marks: {}, positions: [], open_orders: [], fills: [], ...snapshot },
      ...opts,
    });
  }

  slot(symbol: string) {
    const s = this.k.view().slots.find((x) => x.symbol === symbol);
    assert.ok(s, `no slot ${symbol}`);
    return s;
  }

  /** Every row of a family recorded so far, in order. */
  rows(family: RowFamily, outcomes: KernelOutcome[] = this.log): Row[] {
    return outcomes.flatMap((o) => o.rows.filter((r) => r.family === family).map((r) => r.row as Row));
  }
}

/** The client order id of an intent in the test history. */
export const coid = (intent_id: string): string => clientOrderId(HID, intent_id);

export const codes = (outcomes: KernelOutcome[]): string[] => outcomes.map((o) => o.diagnostic_code);

/** |a − b| ≤ tol, with the values in the message. */
export function near(actual: number, expected: number, tol = 1e-9, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} != ${expected} (tol ${tol})`);
}
