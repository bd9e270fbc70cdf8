// Bad input fuzzing, signals file: generated NDJSON lines, from almost-right intents to garbage,
// through readSignals/parseSignalLine and into the kernel. Each line becomes an intent or a reason;
// the kernel never throws on an intent; a refusal sends nothing and changes nothing (checkpoint
// before = after); an acceptance sends orders that are sane (positive finite sizes; exits
// reduce-only and never more than the position).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parseSignalLine, readSignals, SIGNALS_LINE_BYTES_MAX } from '../../src/engine/runner/strategies.js';
import type { Intent, KernelOutcome } from '../../src/engine/kernel/types.js';
import { BTC, ETH, Harness } from '../kernel/harness.js';

const DIR = mkdtempSync(join(tmpdir(), 'pink-fuzz-signals-'));
after(() => rmSync(DIR, { recursive: true, force: true }));

/** Outcomes of an intent that refuse it: nothing sent, nothing changed. */
const REFUSALS = new Set(['INVALID_INTENT', 'INVALID_INPUT', 'UNKNOWN_SYMBOL', 'INVALID_TRANSITION', 'NO_ACTIVE_EXIT_ORDER', 'RATE_LIMITED', 'STALE_STATE_RECONCILING', 'DUPLICATE_EVENT']);
const ACCEPTED = new Set(['INTENT_ACCEPTED', 'EXIT_CLAMPED']);

const weird = fc.oneof(
  fc.constantFrom(null, true, false, '', ' ', 'NaN', 'Infinity', '-0', '1e309', 0, -0, -1, 1e-320, 1e308, Number.MAX_SAFE_INTEGER + 2, 0.1 + 0.2, '0.01', [], {}, [1], { n: 1 }),
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 8 }),
);
const field = <T>(good: fc.Arbitrary<T>) => fc.option(fc.oneof({ weight: 4, arbitrary: good as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: weird }), { nil: undefined, freq: 5 });

/** Intents the way a model might get them almost right. */
const intentish = fc.record(
  {
    intent_id: field(fc.oneof(fc.constantFrom('i-1', 'i-2', 'i-3', 'dup'), fc.string({ minLength: 1, maxLength: 40 }), fc.string({ minLength: 60, maxLength: 200 }))),
    symbol: field(fc.constantFrom(BTC, ETH, 'btc-usdt', 'BTC/USDT:USDT', 'DOGE-USDT', 'BTC_USD', '')),
    action: field(fc.constantFrom('ENTER', 'EXIT', 'CANCEL', 'enter', 'BUY', '')),
    side: field(fc.constantFrom('long', 'short', 'LONG', 'buy', 'flat')),
    qty: field(fc.oneof(fc.double({ min: -1, max: 2, noNaN: true }), fc.constantFrom(0.001, 0.01, 0.5, 1e-12, 1e12))),
    notional: field(fc.oneof(fc.double({ min: -100, max: 1e6, noNaN: true }), fc.constantFrom(100, 5, 1e-9))),
    fraction: field(fc.oneof(fc.double({ min: -0.5, max: 1.5, noNaN: true }), fc.constantFrom(0.5, 1, 0))),
    final: field(fc.boolean()),
    order_type: field(fc.constantFrom('market', 'limit', 'stop', 'MARKET')),
    price: field(fc.oneof(fc.double({ min: -10, max: 1e5, noNaN: true }), fc.constantFrom(100, 0))),
    reason: field(fc.string({ maxLength: 30 })),
  },
  { requiredKeys: [] },
);

/** Well-formed intents of every action and sizing, then 0 to 2 fields mutated, dropped or added. */
const template = fc.oneof(
  fc.record({ action: fc.constant('ENTER'), side: fc.constantFrom('long', 'short'), qty: fc.constantFrom(0.001, 0.01, 0.3) }),
  fc.record({ action: fc.constant('ENTER'), side: fc.constantFrom('long', 'short'), notional: fc.constantFrom(5, 50, 100) }),
  fc.record({ action: fc.constant('ENTER'), side: fc.constantFrom('long', 'short'), qty: fc.constant(0.01), order_type: fc.constant('limit'), price: fc.constantFrom(90, 110) }),
  fc.record({ action: fc.constant('EXIT'), fraction: fc.constantFrom(0.25, 0.5, 1) }),
  fc.record({ action: fc.constant('EXIT'), qty: fc.constantFrom(0.005, 0.02, 0.05), final: fc.boolean() }),
  fc.record({ action: fc.constant('EXIT'), final: fc.constant(true), qty: fc.constant(1) }),
  fc.record({ action: fc.constant('CANCEL') }),
);
const plausible = fc
  .tuple(template, fc.constantFrom(BTC, ETH, 'DOGE-USDT'), fc.nat({ max: 1_000_000 }), fc.array(fc.tuple(fc.constantFrom('intent_id', 'symbol', 'action', 'side', 'qty', 'notional', 'fraction', 'final', 'order_type', 'price', 'reason', 'extra'), fc.option(weird, { nil: undefined })), { maxLength: 2 }))
  .map(([t, symbol, n, edits]) => {
    const o: Record<string, unknown> = { intent_id: `fz-${n}`, symbol, reason: 'fuzz', ...t };
    for (const [k, v] of edits) {
      if (v === undefined) delete o[k];
      else o[k] = v;
    }
    return o;
  });

const line = fc.oneof(
  { weight: 4, arbitrary: plausible.map((o) => JSON.stringify(o)) },
  { weight: 2, arbitrary: intentish.map((o) => JSON.stringify(o)) },
  { weight: 1, arbitrary: intentish.chain((o) => fc.nat({ max: 200 }).map((cut) => JSON.stringify(o).slice(0, cut))) },
  { weight: 1, arbitrary: fc.jsonValue().map((v) => JSON.stringify(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
  { weight: 1, arbitrary: fc.constantFrom('{', '}', '[]', 'null', '"x"', '{"intent_id":"a"}', '\u0000', '\ufeff{"a":1}', '{"__proto__":{"action":"ENTER"},"intent_id":"p","symbol":"BTC-USDT"}') },
);

/** A kernel in a mixed state: BTC open long 0.02, ETH idle (ETH-USDT has an entry in flight in some runs). */
function kernel(entryInFlight: boolean): Harness {
  const h = new Harness();
  h.tick({ [BTC]: 100, [ETH]: 50 });
  h.open('seed-btc', BTC, 'long', 0.02, 100);
  if (entryInFlight) h.enter('seed-eth', ETH, 'short', 0.5);
  return h;
}

function judgeIntent(h: Harness, intent: Intent): void {
  const before = h.k.checkpoint();
  const slots = new Map(h.k.view().slots.map((s) => [s.symbol, s]));
  let out: KernelOutcome[];
  try {
    out = h.apply({ type: 'INTENT', ts: h.next(), intent });
  } catch (err) {
    assert.fail(`kernel threw on ${JSON.stringify(intent)}: ${String(err)}`);
  }
  assert.ok(out.length >= 1);
  const code = out[0]!.diagnostic_code;
  assert.equal(typeof out[0]!.details.reason, 'string');
  if (REFUSALS.has(code)) {
    assert.equal(out.flatMap((o) => o.commands).length, 0, `${code} sent something`);
    assert.equal(h.k.checkpoint(), before, `${code} changed the state: ${JSON.stringify(intent)}`);
    return;
  }
  assert.ok(ACCEPTED.has(code), `unexpected outcome ${code} for ${JSON.stringify(intent)}`);
  for (const c of out.flatMap((o) => o.commands)) {
    if (c.kind !== 'PLACE') continue;
    assert.ok(Number.isFinite(c.qty) && c.qty > 0, `PLACE qty ${c.qty}`);
    const slot = slots.get(c.symbol);
    if (slot && slot.qty > 0 && c.reduce_only) assert.ok(c.qty <= slot.qty * (1 + 1e-12), `exit of ${c.qty} > position ${slot.qty}`);
    if (intent.action === 'EXIT') assert.equal(c.reduce_only, true, 'an EXIT is reduce-only');
  }
}

test('fuzz: each generated signals line is an intent or a reason; the kernel refuses bad intents without a change', () => {
  let intents = 0;
  let reasons = 0;
  let accepted = 0;
  fc.assert(
    fc.property(fc.boolean(), fc.array(line, { minLength: 1, maxLength: 12 }), (inFlight, lines) => {
      const h = kernel(inFlight);
      for (const text of lines) {
        const parsed = parseSignalLine(text);
        if (typeof parsed === 'string') {
          assert.ok(parsed.length > 0);
          reasons += 1;
          continue;
        }
        intents += 1;
        const before = h.log.length;
        judgeIntent(h, parsed);
        if (ACCEPTED.has(h.log[before]!.diagnostic_code)) accepted += 1;
      }
    }),
    { seed: 11, numRuns: 1500 },
  );
  // The generator reaches all three answers (no vacuous pass).
  assert.ok(intents > 1000 && reasons > 1000 && accepted > 50, `intents ${intents}, reasons ${reasons}, accepted ${accepted}`);
});

test('fuzz: readSignals over generated files: offsets only move forward, every complete line is accounted for', () => {
  let n = 0;
  fc.assert(
    fc.property(
      fc.array(fc.oneof(line, fc.constant(''), fc.constant('x'.repeat(SIGNALS_LINE_BYTES_MAX + 10))), { maxLength: 10 }),
      fc.constantFrom('\n', '\r\n'),
      fc.string({ maxLength: 30 }),
      (lines, eol, tail) => {
        const path = join(DIR, `s-${n++}.ndjson`);
        writeFileSync(path, lines.map((l) => `${l}${eol}`).join(''));
        const first = readSignals(path, 0);
        const complete = lines.filter((l) => l.trim() !== '').length;
        assert.equal(first.intents.length + first.malformed.length, complete, 'each non-empty complete line is an intent or a reason');
        assert.equal(first.offset, Buffer.byteLength(lines.map((l) => `${l}${eol}`).join('')));
        for (const m of first.malformed) assert.ok(m.error.length > 0 && m.offset >= 0 && m.offset < first.offset);
        // A partial last line waits; once completed it is read exactly once.
        appendFileSync(path, tail.replace(/[\r\n]/g, ''));
        const partial = readSignals(path, first.offset);
        assert.equal(partial.intents.length + partial.malformed.length, 0);
        assert.equal(partial.offset, first.offset);
        appendFileSync(path, '\n');
        const done = readSignals(path, first.offset);
        assert.equal(done.intents.length + done.malformed.length, tail.replace(/[\r\n]/g, '').trim() === '' ? 0 : 1);
        assert.ok(done.offset > first.offset);
        assert.equal(readSignals(path, done.offset).intents.length, 0, 'nothing read twice');
        rmSync(path);
      },
    ),
    { seed: 12, numRuns: 400 },
  );
});
