import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DEMO_ENTRIES_PER_STEP_MAX, demoIntents, parseSignalLine, readSignals, type SlotFacts } from '../../src/engine/runner/strategies.js';
import { tempDir } from '../support/cli.js';

const slot = (over: Partial<SlotFacts>): SlotFacts => ({ symbol: 'BTC-USDT', state: 'IDLE', qty: 0, hold_bars: 0, legs: 0, trade_id: null, has_working_order: false, trading_state: 'ACTIVE', ...over });
const P = { seed: 7, notional_usdt: 100, max_hold_bars: 6 };

test('demo: no entry on a REDUCING symbol (exits go on), nothing at all on a HALTED one', () => {
  assert.deepEqual(demoIntents([slot({ trading_state: 'REDUCING' })], 10, P), []);
  const leg1 = demoIntents([slot({ state: 'OPEN', qty: 1, hold_bars: 3, trading_state: 'REDUCING' })], 12, P);
  assert.deepEqual(leg1.map((i) => i.action), ['EXIT']);
  assert.deepEqual(demoIntents([slot({ state: 'OPEN', qty: 1, hold_bars: 9, trading_state: 'HALTED' })], 13, P), []);
  assert.deepEqual(demoIntents([slot({ trading_state: 'HALTED' })], 14, P), []);
});

test('demo: enters from IDLE, exits half at half the max hold, then a final EXIT asking for more than remains', () => {
  const enter = demoIntents([slot({})], 10, P);
  assert.equal(enter.length, 1);
  assert.equal(enter[0]!.action, 'ENTER');
  assert.equal(enter[0]!.notional, 100);
  assert.deepEqual(demoIntents([slot({ state: 'OPEN', qty: 1, hold_bars: 2 })], 11, P), []);
  const leg1 = demoIntents([slot({ state: 'OPEN', qty: 1, hold_bars: 3 })], 12, P);
  assert.equal(leg1[0]!.fraction, 0.5);
  const final = demoIntents([slot({ state: 'OPEN', qty: 0.5, hold_bars: 6, legs: 1 })], 13, P);
  assert.equal(final[0]!.final, true);
  assert.ok(final[0]!.qty! > 0.5, 'the final exit overshoots on purpose, so the kernel clamps it');
  assert.deepEqual(demoIntents([slot({ state: 'OPEN', qty: 1, hold_bars: 9, has_working_order: true })], 14, P), [], 'never a second order while one works');
});

test('demo: the same seed and sequence give the same intents; intent ids never repeat across steps', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 0, max: 1e6 }), (seed, seq) => {
      const a = demoIntents([slot({}), slot({ symbol: 'ETH-USDT' })], seq, { ...P, seed });
      const b = demoIntents([slot({}), slot({ symbol: 'ETH-USDT' })], seq, { ...P, seed });
      assert.deepEqual(a, b);
      const c = demoIntents([slot({})], seq + 1, { ...P, seed });
      assert.notEqual(a[0]!.intent_id, c[0]!.intent_id);
    }),
  );
});

test('demo: twenty idle symbols enter a few a step, every one within a few steps; exits are never held back', () => {
  const symbols = Array.from({ length: 20 }, (_, i) => `S${i}-USDT`);
  const entered = new Set<string>();
  for (let seq = 100; seq < 110; seq += 1) {
    const idle = symbols.filter((sym) => !entered.has(sym)).map((sym) => slot({ symbol: sym }));
    const out = demoIntents(idle, seq, P);
    assert.ok(out.length <= DEMO_ENTRIES_PER_STEP_MAX, `step ${seq}: ${out.length} entries`);
    for (const i of out) entered.add(i.symbol);
  }
  assert.equal(entered.size, 20, 'all twenty entered within 10 steps');
  const holding = symbols.map((sym) => slot({ symbol: sym, state: 'OPEN', qty: 1, hold_bars: P.max_hold_bars }));
  const exits = demoIntents([...holding, slot({ symbol: 'IDLE1-USDT' }), slot({ symbol: 'IDLE2-USDT' }), slot({ symbol: 'IDLE3-USDT' })], 7, P);
  assert.equal(exits.filter((i) => i.action === 'EXIT').length, 20, 'every final exit in the same step');
  assert.equal(exits.filter((i) => i.action === 'ENTER').length, DEMO_ENTRIES_PER_STEP_MAX);
});

test('signals: complete lines become intents, malformed lines are reported with their offset, a partial line waits', () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'intents.ndjson');
    writeFileSync(path, '{"intent_id":"a","symbol":"BTC-USDT","action":"ENTER","side":"long","qty":0.01,"reason":"x"}\nnot json\n{"intent_id":"b","symbol":"BTC-USDT","action":"FLY"}\n{"intent_id":"c","sym');
    const r = readSignals(path, 0);
    assert.deepEqual(r.intents.map((i) => i.intent.intent_id), ['a']);
    assert.deepEqual(r.malformed.map((m) => m.error), ['not JSON', 'action must be ENTER, EXIT or CANCEL']);
    appendFileSync(path, 'bol":"BTC-USDT","action":"EXIT","final":true}\n');
    const r2 = readSignals(path, r.offset);
    assert.deepEqual(r2.intents.map((i) => i.intent.intent_id), ['c']);
    assert.equal(r2.malformed.length, 0);
    assert.equal(readSignals(path, r2.offset).intents.length, 0, 'nothing is read twice');
  } finally {
    dir.remove();
  }
});

test('signals: arbitrary bytes never throw; each line is an intent or a reason', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (line) => {
      const r = parseSignalLine(line);
      assert.ok(typeof r === 'string' || (typeof r === 'object' && typeof r.intent_id === 'string'));
    }),
    { numRuns: 2000 },
  );
});
