// Issue 19: trading states (ACTIVE / REDUCING / HALTED) and the circuit breakers, in the kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Kernel, reducingInput } from '../../src/engine/kernel/index.js';
import type { KernelInput, KernelOutcome } from '../../src/engine/kernel/types.js';
import { actionArb, drive, DRIVER_CONFIG, SYMBOLS, tradingActionArb } from './driver.js';
import { BTC, codes, CONFIG, ETH, Harness } from './harness.js';

const OP = { command: 'halt', args: ['BTC-USDT'], user: 'alice', host: 'box', pid: 42 };
const SEED = Number(process.env['PINK_PROPERTY_SEED'] ?? 20240611);

function setState(h: Harness, state: 'ACTIVE' | 'REDUCING' | 'HALTED', symbol?: string, all = false): KernelOutcome[] {
  return h.apply({ type: 'TRADING_STATE', ts: h.next(), state, reason: 'test', ...(symbol ? { symbol } : {}), ...(all ? { all } : {}), operator: OP });
}

test('REDUCING refuses ENTER with TRADING_STATE_REFUSED in decisions; exits go through; resume re-enables', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 1, 100);
  const set = setState(h, 'REDUCING', BTC);
  assert.deepEqual(codes(set), ['TRADING_STATE_CHANGED']);
  const audit = h.rows('anomalies', set);
  assert.equal(audit.length, 1);
  assert.equal(audit[0]!['origin'], 'operator');
  assert.deepEqual(JSON.parse(String(audit[0]!['details'])).user, 'alice');
  assert.equal(h.slot(BTC).trading_state, 'REDUCING');
  assert.equal(h.slot(ETH).trading_state, 'ACTIVE');
  // Exit allowed while REDUCING.
  const x = h.exit('x1', BTC, { final: true });
  assert.equal(x[0]!.diagnostic_code, 'INTENT_ACCEPTED');
  h.accept(h.coidOf('x1'));
  h.fill(h.coidOf('x1'), 1, 101);
  assert.equal(h.slot(BTC).state, 'CLOSED');
  const seq = h.k.view().seq;
  const refused = h.intent({ intent_id: 'e2', symbol: BTC, action: 'ENTER', side: 'long', qty: 1 });
  assert.deepEqual(codes(refused), ['TRADING_STATE_REFUSED']);
  assert.equal(refused[0]!.commands.length, 0);
  assert.equal(h.rows('decisions', refused)[0]!['outcome_code'], 'TRADING_STATE_REFUSED');
  assert.equal(h.k.view().seq, seq, 'a refusal changes nothing');
  // ETH is still ACTIVE.
  assert.equal(h.intent({ intent_id: 'e3', symbol: ETH, action: 'ENTER', side: 'long', qty: 1 })[0]!.diagnostic_code, 'INTENT_ACCEPTED');
  // The same state again is a no-op (no seq, no audit row).
  const again = setState(h, 'REDUCING', BTC);
  assert.equal(again[0]!.details['changed'], false);
  assert.equal(h.rows('anomalies', again).length, 0);
  setState(h, 'ACTIVE', BTC);
  assert.equal(h.intent({ intent_id: 'e4', symbol: BTC, action: 'ENTER', side: 'long', qty: 1 })[0]!.diagnostic_code, 'INTENT_ACCEPTED');
});

test('HALTED (engine) refuses ENTER and EXIT, allows CANCEL; the engine state wins over an ACTIVE symbol', () => {
  const h = new Harness();
  h.open('e1', BTC, 'long', 1, 100);
  const eth = h.enter('e2', ETH, 'short', 1);
  setState(h, 'HALTED');
  assert.equal(h.k.view().trading_state, 'HALTED');
  assert.equal(h.slot(BTC).trading_state, 'HALTED');
  assert.deepEqual(codes(h.exit('x1', BTC, { final: true })), ['TRADING_STATE_REFUSED']);
  const cancel = h.intent({ intent_id: 'c1', symbol: ETH, action: 'CANCEL' });
  assert.equal(cancel[0]!.diagnostic_code, 'INTENT_ACCEPTED');
  assert.equal(cancel[0]!.commands[0]!.kind, 'CANCEL');
  assert.equal(cancel[0]!.commands[0]!.client_order_id, eth);
  // Loosening the engine to REDUCING lets the exit through.
  setState(h, 'REDUCING');
  assert.equal(h.exit('x2', BTC, { final: true })[0]!.diagnostic_code, 'INTENT_ACCEPTED');
  // resume --all clears the engine and every symbol.
  setState(h, 'HALTED', ETH);
  setState(h, 'ACTIVE', undefined, true);
  assert.equal(h.k.view().trading_state, 'ACTIVE');
  assert.equal(h.slot(ETH).trading_state, 'ACTIVE');
});

test('the state is checkpointed; a version 2 checkpoint reads as ACTIVE; bad inputs are refused', () => {
  const h = new Harness();
  setState(h, 'HALTED', BTC);
  const text = h.k.checkpoint();
  const back = Kernel.restore(text);
  assert.equal(back.view().slots.find((s) => s.symbol === BTC)!.trading_state, 'HALTED');
  assert.equal(back.checkpoint(), text);
  const v2 = JSON.parse(text) as Record<string, unknown>;
  v2['version'] = 2;
  delete v2['trading'];
  assert.equal(Kernel.restore(JSON.stringify(v2)).view().slots.find((s) => s.symbol === BTC)!.trading_state, 'ACTIVE');
  for (const bad of [
    { type: 'TRADING_STATE', ts: h.next(), state: 'PAUSED', reason: '' },
    { type: 'TRADING_STATE', ts: h.next(), state: 'HALTED', reason: '', all: true },
    { type: 'TRADING_STATE', ts: h.next(), state: 'HALTED', reason: 1 },
  ]) assert.equal(h.apply(bad as unknown as KernelInput)[0]!.diagnostic_code, 'INVALID_INPUT');
  assert.equal(h.apply({ type: 'TRADING_STATE', ts: h.next(), symbol: 'XRP-USDT', state: 'HALTED', reason: '' })[0]!.diagnostic_code, 'UNKNOWN_SYMBOL');
  // The helper for the runner's own triggers (a liquidation).
  assert.equal(h.apply(reducingInput(h.next(), 'liquidated', ETH))[0]!.diagnostic_code, 'TRADING_STATE_CHANGED');
  assert.equal(h.slot(ETH).trading_state_reason, 'liquidated');
});

test('breaker: N consecutive rejects set the symbol REDUCING, once, and it stays', () => {
  const h = new Harness({ ...CONFIG, max_rejects: 3 });
  const seen: string[] = [];
  for (let i = 0; i < 3; i += 1) {
    const coid = h.enter(`e${i}`, BTC, 'long', 1);
    seen.push(...codes(h.event({ kind: 'REJECTED', client_order_id: coid, reason: 'margin' })));
  }
  assert.deepEqual(seen.filter((c) => c === 'BREAKER_REJECTS'), ['BREAKER_REJECTS']);
  const breaker = h.log.find((o) => o.diagnostic_code === 'BREAKER_REJECTS')!;
  assert.equal(h.rows('anomalies', [breaker])[0]!['origin'], 'ditav2_kernel');
  assert.equal(h.slot(BTC).trading_state, 'REDUCING');
  assert.match(h.slot(BTC).trading_state_reason, /BREAKER_REJECTS/);
  for (let i = 0; i < 20; i += 1) h.tick({ [BTC]: 100 });
  assert.deepEqual(codes(h.intent({ intent_id: 'e9', symbol: BTC, action: 'ENTER', side: 'long', qty: 1 })), ['TRADING_STATE_REFUSED']);
  // An accept between rejects restarts the count.
  const g = new Harness({ ...CONFIG, max_rejects: 2 });
  g.event({ kind: 'REJECTED', client_order_id: g.enter('a', ETH, 'long', 1) });
  g.open('b', ETH, 'long', 1, 20);
  g.exit('c', ETH, { final: true });
  g.event({ kind: 'REJECTED', client_order_id: g.coidOf('c') });
  assert.equal(g.slot(ETH).trading_state, 'ACTIVE');
});

test('breaker: drawdown from the equity peak sets the engine REDUCING; resume restarts the peak', () => {
  const h = new Harness({ ...CONFIG, max_drawdown_usdt: 50 });
  h.open('e1', BTC, 'long', 10, 100);
  h.tick({ [BTC]: 103 });
  h.tick({ [BTC]: 99 });
  assert.equal(h.k.view().trading_state, 'ACTIVE', '40 below the peak');
  const out = h.tick({ [BTC]: 97 });
  assert.ok(codes(out).includes('BREAKER_DRAWDOWN'));
  assert.equal(h.k.view().trading_state, 'REDUCING');
  h.tick({ [BTC]: 110 });
  assert.equal(h.k.view().trading_state, 'REDUCING', 'never a self-resume');
  setState(h, 'ACTIVE');
  h.tick({ [BTC]: 109 });
  assert.equal(h.k.view().trading_state, 'ACTIVE');
});

test('breaker: a persistent rate-limit cycle sets the engine REDUCING', () => {
  const h = new Harness({ ...CONFIG, rate_limit_persistent_ms: 2_000 });
  const all: string[] = [];
  for (let i = 0; i < 4; i += 1) all.push(...codes(h.apply({ type: 'RATE_LIMITED', ts: h.next(1_000), reason: '429' })));
  assert.ok(all.includes('RATE_LIMITED_PERSISTENT'));
  assert.deepEqual(all.filter((c) => c === 'BREAKER_RATE_LIMITED'), ['BREAKER_RATE_LIMITED']);
  h.apply({ type: 'VENUE_OK', ts: h.next() });
  assert.equal(h.k.view().trading_state, 'REDUCING');
});

const mixed = fc.array(fc.oneof({ weight: 6, arbitrary: actionArb }, { weight: 1, arbitrary: tradingActionArb }), { minLength: 10, maxLength: 200, size: 'max' });

test('property: over halts and resumes, replay and checkpoint/restore are identical; no ENTER while REDUCING/HALTED, no order at all while HALTED', () => {
  let refused = 0;
  fc.assert(
    fc.property(mixed, fc.nat(), (actions, cutSeed) => {
      const a = drive(actions, (input, out, kernel) => {
        // The driver also feeds garbage (null, malformed inputs).
        if (input === null || typeof input !== 'object' || input.type !== 'INTENT' || input.intent === null || typeof input.intent !== 'object') return;
        const intent = input.intent;
        const view = kernel.view();
        // The state the intent met is the state now (a refused or accepted intent does not change it).
        const slot = view.slots.find((s) => s.symbol === intent.symbol);
        if (slot === undefined) return;
        const places = out.flatMap((o) => o.commands).filter((c) => c.kind === 'PLACE');
        if (slot.trading_state === 'HALTED') assert.equal(places.length, 0, `order sent while HALTED: ${JSON.stringify(intent)}`);
        if (slot.trading_state !== 'ACTIVE' && intent.action === 'ENTER') {
          assert.equal(places.length, 0, 'ENTER sent while not ACTIVE');
          refused += 1;
        }
        for (const c of places) if (slot.trading_state === 'REDUCING') assert.equal(c.reduce_only, true);
      });
      const b = new Kernel(DRIVER_CONFIG);
      assert.equal(JSON.stringify(a.inputs.map((i) => b.apply(i))), JSON.stringify(a.outcomes));
      assert.equal(b.checkpoint(), a.kernel.checkpoint());
      const cut = cutSeed % (a.inputs.length + 1);
      const first = new Kernel(DRIVER_CONFIG);
      const head = a.inputs.slice(0, cut).map((i) => first.apply(i));
      const second = Kernel.restore(first.checkpoint());
      const tail = a.inputs.slice(cut).map((i) => second.apply(i));
      assert.equal(JSON.stringify([...head, ...tail]), JSON.stringify(a.outcomes));
    }),
    { seed: SEED + 19, numRuns: 300 },
  );
  assert.ok(refused > 50, `only ${refused} ENTERs met a REDUCING/HALTED state`);
  assert.ok(SYMBOLS.length === 2);
});
