// Model-based test (fast-check `commands`): a deliberately simple model of one slot predicts the
// outcome code of every intent and venue event and the slot's state, size and working order.
// Quantities are multiples of 1/4 so that the model's arithmetic is exact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Kernel } from '../../src/engine/kernel/index.js';
import type { KernelInput, KernelOutcome, SlotState } from '../../src/engine/kernel/types.js';
import { BTC, CONFIG, coid } from './harness.js';

interface Working {
  coid: string;
  purpose: 'entry' | 'exit';
  qty: number;
  filled: number;
}

interface Model {
  state: SlotState;
  qty: number;
  working: Working | null;
  n: number;
  ts: number;
  last_event: KernelInput | null;
}

interface Real {
  k: Kernel;
}

type Cmd = fc.Command<Model, Real>;

function step(m: Model, r: Real, input: (ts: number, id: string) => KernelInput): KernelOutcome[] {
  m.n += 1;
  m.ts += 1000;
  return r.k.apply(input(m.ts, `m${m.n}`));
}

function codes(out: KernelOutcome[]): string[] {
  return out.map((o) => o.diagnostic_code);
}

function agree(m: Model, r: Real): void {
  const s = r.k.view().slots.find((x) => x.symbol === BTC)!;
  assert.equal(s.state, m.state, 'state');
  assert.equal(s.qty, m.qty, 'qty');
  assert.equal(s.working_order?.client_order_id ?? null, m.working?.coid ?? null, 'working order');
  if (m.working) assert.equal(s.working_order?.filled_qty, m.working.filled, 'filled qty');
}

class Enter implements Cmd {
  constructor(readonly qty: number) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const out = step(m, r, (ts, id) => ({ type: 'INTENT', ts, intent: { intent_id: id, symbol: BTC, action: 'ENTER', side: 'long', qty: this.qty, reason: 'model' } }));
    if (m.state === 'IDLE' || m.state === 'CLOSED') {
      assert.deepEqual(codes(out), ['INTENT_ACCEPTED']);
      m.state = 'ENTRY_WORKING';
      m.working = { coid: coid(`m${m.n}`), purpose: 'entry', qty: this.qty, filled: 0 };
    } else {
      assert.deepEqual(codes(out), ['INVALID_TRANSITION']);
    }
    agree(m, r);
  }
  toString = (): string => `Enter(${this.qty})`;
}

class Exit implements Cmd {
  constructor(readonly mode: 'final' | 'qty' | 'half', readonly x: number) {}
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const size = this.mode === 'final' ? { final: true } : this.mode === 'half' ? { fraction: 0.5 } : { qty: this.x };
    const out = step(m, r, (ts, id) => ({ type: 'INTENT', ts, intent: { intent_id: id, symbol: BTC, action: 'EXIT', ...size, reason: 'model' } }));
    if (m.state === 'IDLE' || m.state === 'CLOSED') {
      assert.deepEqual(codes(out), ['NO_ACTIVE_EXIT_ORDER']);
    } else if (m.state === 'ENTRY_WORKING' || m.working !== null) {
      assert.deepEqual(codes(out), ['INVALID_TRANSITION']);
    } else {
      const wanted = this.mode === 'final' ? m.qty : this.mode === 'half' ? m.qty / 2 : this.x;
      assert.deepEqual(codes(out), [wanted > m.qty ? 'EXIT_CLAMPED' : 'INTENT_ACCEPTED']);
      const place = out[0]!.commands[0]!;
      assert.ok(place.kind === 'PLACE' && place.reduce_only);
      assert.equal(place.qty, Math.min(wanted, m.qty));
      m.state = 'EXIT_WORKING';
      m.working = { coid: coid(`m${m.n}`), purpose: 'exit', qty: place.qty, filled: 0 };
    }
    agree(m, r);
  }
  toString = (): string => `Exit(${this.mode},${this.x})`;
}

class Cancel implements Cmd {
  check = (): boolean => true;
  run(m: Model, r: Real): void {
    const out = step(m, r, (ts, id) => ({ type: 'INTENT', ts, intent: { intent_id: id, symbol: BTC, action: 'CANCEL', reason: 'model' } }));
    if (m.working) assert.deepEqual(out[0]!.commands.map((c) => c.kind), ['CANCEL']);
    else assert.deepEqual(codes(out), [m.state === 'IDLE' ? 'INVALID_TRANSITION' : 'NO_ACTIVE_EXIT_ORDER']);
    agree(m, r);
  }
  toString = (): string => 'Cancel';
}

/** A venue event for the working order. */
abstract class VenueCmd implements Cmd {
  check(m: Readonly<Model>): boolean {
    return m.working !== null;
  }
  abstract run(m: Model, r: Real): void;
  protected send(m: Model, r: Real, event: Record<string, unknown>): KernelOutcome[] {
    const coid = m.working!.coid;
    return step(m, r, (ts, id) => {
      const input = { type: 'EVENT', ts, event: { event_id: id, client_order_id: coid, ts, ...event } } as KernelInput;
      m.last_event = input;
      return input;
    });
  }
}

class Fill extends VenueCmd {
  constructor(readonly quarters: number) {
    super();
  }
  run(m: Model, r: Real): void {
    const w = m.working!;
    const qty = ((w.qty - w.filled) * this.quarters) / 4;
    const out = this.send(m, r, { kind: 'FILL', qty, price: 100, fee: 0.01, fill_id: `F${m.n + 1}` });
    const cap = w.purpose === 'entry' ? w.qty - w.filled : Math.min(w.qty - w.filled, m.qty);
    const applied = Math.min(qty, cap);
    const expected: string[] = [];
    w.filled += applied;
    if (w.purpose === 'entry') {
      m.qty += applied;
      expected.push('FILL_APPLIED');
      if (w.filled === w.qty) {
        m.state = 'OPEN';
        m.working = null;
      }
    } else {
      m.qty -= applied;
      if (m.qty === 0) {
        expected.push('TRADE_CLOSED');
        m.state = 'CLOSED';
        m.working = null;
      } else {
        expected.push('FILL_APPLIED');
        if (w.filled === w.qty) {
          m.state = 'OPEN';
          m.working = null;
        }
      }
    }
    if (qty > applied) expected.push('OVERFILL');
    assert.deepEqual(codes(out), expected);
    agree(m, r);
  }
  override toString = (): string => `Fill(${this.quarters}/4)`;
}

class Reject extends VenueCmd {
  override check(m: Readonly<Model>): boolean {
    return m.working !== null && m.working.filled === 0;
  }
  run(m: Model, r: Real): void {
    const purpose = m.working!.purpose;
    const out = this.send(m, r, { kind: 'REJECTED', reason: 'model' });
    assert.deepEqual(codes(out), [purpose === 'entry' ? 'ORDER_REJECTED' : 'EXIT_ORDER_REJECTED']);
    m.state = purpose === 'entry' ? 'IDLE' : 'EXIT_WORKING';
    m.working = null;
    agree(m, r);
  }
  override toString = (): string => 'Reject';
}

class Canceled extends VenueCmd {
  run(m: Model, r: Real): void {
    const w = m.working!;
    const out = this.send(m, r, { kind: 'CANCELED' });
    assert.deepEqual(codes(out), ['ORDER_CANCELED']);
    m.state = w.purpose === 'exit' || w.filled > 0 ? 'OPEN' : 'IDLE';
    m.working = null;
    agree(m, r);
  }
  override toString = (): string => 'Canceled';
}

class Accepted extends VenueCmd {
  run(m: Model, r: Real): void {
    assert.deepEqual(codes(this.send(m, r, { kind: 'ACCEPTED', venue_order_id: 'v' })), ['ORDER_ACCEPTED']);
    agree(m, r);
  }
  override toString = (): string => 'Accepted';
}

class Duplicate implements Cmd {
  check = (m: Readonly<Model>): boolean => m.last_event !== null;
  run(m: Model, r: Real): void {
    const before = r.k.checkpoint();
    const out = r.k.apply(m.last_event!);
    assert.deepEqual(codes(out), ['DUPLICATE_EVENT']);
    assert.equal(r.k.checkpoint(), before);
    agree(m, r);
  }
  toString = (): string => 'Duplicate';
}

const commands = [
  fc.integer({ min: 1, max: 8 }).map((q) => new Enter(q)),
  fc.tuple(fc.constantFrom('final' as const, 'qty' as const, 'half' as const), fc.integer({ min: 1, max: 12 })).map(([mode, x]) => new Exit(mode, x)),
  fc.constant(new Cancel()),
  fc.integer({ min: 1, max: 5 }).map((q) => new Fill(q)),
  fc.integer({ min: 1, max: 5 }).map((q) => new Fill(q)),
  fc.constant(new Reject()),
  fc.constant(new Canceled()),
  fc.constant(new Accepted()),
  fc.constant(new Duplicate()),
];

test('model-based: the kernel agrees with a simple slot model on every intent and event', () => {
  fc.assert(
    fc.property(fc.commands(commands, { maxCommands: 120, size: 'max' }), (cmds) => {
      const model: Model = { state: 'IDLE', qty: 0, working: null, n: 0, ts: 1_700_000_000_000, last_event: null };
      fc.modelRun(() => ({ model, real: { k: new Kernel({ ...CONFIG, max_rejects: 0 /* the rejects breaker is trading.test.ts's: this model knows slot states only */ }) } }), cmds);
    }),
    { seed: 424242, numRuns: 1000 },
  );
});
