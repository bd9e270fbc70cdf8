// Property tests over thousands of generated input sequences (fast-check prints the seed and the
// shrunk counterexample on failure; re-run with that seed to reproduce).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FAULTS } from '../../src/engine/faults/taxonomy.js';
import { Kernel } from '../../src/engine/kernel/index.js';
import type { KernelOutcome } from '../../src/engine/kernel/types.js';
import { actionArb, drive, DRIVER_CONFIG } from './driver.js';
import { InvariantChecker } from './invariants.js';

const SEED = Number(process.env['PINK_PROPERTY_SEED'] ?? 20240611);
export const sequences = fc.array(actionArb, { minLength: 10, maxLength: 200, size: 'max' });

test('invariants hold over random sequences: no zero crossing, legs sum to the trade, capital = initial + realized - fees - funding', () => {
  const seen = new Set<string>();
  fc.assert(
    fc.property(sequences, (actions) => {
      const checker = new InvariantChecker();
      drive(actions, (input, out, kernel) => checker.observe(input, out, kernel));
      for (const c of checker.codes) seen.add(c);
    }),
    { seed: SEED, numRuns: 1500 },
  );
  // The generator reaches the interesting codes (otherwise the property proves little).
  for (const code of ['TRADE_CLOSED', 'EXIT_CLAMPED', 'OVERFILL', 'DUPLICATE_EVENT', 'STALE_STATE_RECONCILING', 'RATE_LIMITED', 'RATE_LIMITED_PERSISTENT', 'ORDER_REJECTED', 'EXIT_ORDER_REJECTED', 'CANCEL_REJECTED', 'NO_ACTIVE_EXIT_ORDER', 'ORDER_GONE', 'POSITION_ADOPTED', 'ORPHAN_POSITION', 'INVALID_INPUT', 'ACCOUNT_DRIFT', 'HOLD_BARS_EXCEEDED', 'POSITION_MISMATCH', 'FOREIGN_ORDER', 'LATE_EVENT']) {
    assert.ok(seen.has(code), `no generated sequence produced ${code}`);
  }
  assert.ok(seen.size >= 20, `only ${seen.size} distinct codes reached`);
  for (const c of seen) assert.ok(FAULTS.some((f) => f.code === c));
});

const digest = (outcomes: KernelOutcome[][]): string => JSON.stringify(outcomes);

test('same inputs give byte-identical outcomes and checkpoints', () => {
  fc.assert(
    fc.property(sequences, (actions) => {
      const a = drive(actions);
      const b = new Kernel(DRIVER_CONFIG);
      const replayed = a.inputs.map((i) => b.apply(i));
      assert.equal(digest(replayed), digest(a.outcomes));
      assert.equal(b.checkpoint(), a.kernel.checkpoint());
    }),
    { seed: SEED + 1, numRuns: 400 },
  );
});

test('checkpoint → restore → continue equals never stopping', () => {
  fc.assert(
    fc.property(sequences, fc.nat(), (actions, cutSeed) => {
      const a = drive(actions);
      const cut = cutSeed % (a.inputs.length + 1);
      const first = new Kernel(DRIVER_CONFIG);
      const head = a.inputs.slice(0, cut).map((i) => first.apply(i));
      const text = first.checkpoint();
      const second = Kernel.restore(text);
      assert.equal(second.checkpoint(), text, 'restore is exact');
      const tail = a.inputs.slice(cut).map((i) => second.apply(i));
      assert.equal(digest([...head, ...tail]), digest(a.outcomes));
      assert.equal(second.checkpoint(), a.kernel.checkpoint());
    }),
    { seed: SEED + 2, numRuns: 400 },
  );
});
