// The books' property suite (issue 15): generated runs with resends of old intent ids, sends
// rate-limited after the venue placed them, late fills, fills delivered again under new event ids,
// time jumps past the memories, settings changes, memory bounds reached, and a restart at a
// random cut. After every input: no fill id applied twice, legs sum to their trade, the capital
// identity. After the run: a replay of its inputs from scratch gives the same outcomes and the same
// checkpoint as the run with its restart; and a second history on the same actions shares no row
// id, trade id or client order id with the first (two histories writing one store).
// Seeded (PINK_PROPERTY_SEED); fast-check prints the seed and the shrunk run on failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Kernel } from '../../src/engine/kernel/index.js';
import type { KernelConfig, KernelOutcome } from '../../src/engine/kernel/types.js';
import { actionArb, drive, DRIVER_CONFIG } from './driver.js';
import { InvariantChecker } from './invariants.js';

const SEED = Number(process.env['PINK_PROPERTY_SEED'] ?? 20251204);
/** At least 10,000 generated runs in `npm test` (the bound); short runs keep it fast. */
const RUNS = 10_000;

/** Small memory bounds, so that a short run fills them (BOOK_MEMORY_FULL) and must fail closed. */
const TIGHT: Partial<KernelConfig> = { orders_remembered_max: 3, fill_ids_max: 5, fill_ids_intents_max: 3 };

const run = fc.record({
  actions: fc.array(actionArb, { minLength: 5, maxLength: 60 }),
  cut: fc.nat(),
  tight: fc.boolean(),
  second: fc.boolean(),
});

const digest = (outcomes: KernelOutcome[][]): string => JSON.stringify(outcomes);

test(`books: ${RUNS} generated runs keep every fill once, legs = trades, capital = its sum; replay and restore are exact; histories never share an id`, () => {
  const seen = new Set<string>();
  let restored = 0;
  let compared = 0;
  fc.assert(
    fc.property(run, ({ actions, cut, tight, second }) => {
      const config: KernelConfig = { ...DRIVER_CONFIG, ...(tight ? TIGHT : {}) };
      const checker = new InvariantChecker();
      const a = drive(actions, (input, out, kernel) => checker.observe(input, out, kernel), { config, restore_at: cut % (actions.length + 1) });
      if (cut % (actions.length + 1) < a.inputs.length) restored += 1;
      for (const c of checker.codes) seen.add(c);
      // Replay from scratch (no restart): the same outcomes, the same state.
      const b = new Kernel(config);
      const replayed = a.inputs.map((i) => b.apply(i));
      assert.equal(digest(replayed), digest(a.outcomes));
      assert.equal(b.checkpoint(), a.kernel.checkpoint());
      if (second) {
        compared += 1;
        const other = new InvariantChecker();
        const c = drive(actions, (input, out, kernel) => other.observe(input, out, kernel), { config: { ...config, history_id: 'otherhist9' } });
        const mine = checker.rowIdSet;
        for (const id of other.rowIdSet) assert.ok(!mine.has(id), `row id ${id} in both histories`);
        for (const id of other.tradeIds) assert.ok(!checker.tradeIds.has(id), `trade id ${id} in both histories`);
        const coids = new Set(a.outcomes.flat().flatMap((o) => o.commands.map((x) => x.client_order_id)));
        for (const o of c.outcomes.flat()) for (const x of o.commands) assert.ok(!coids.has(x.client_order_id), `client order id ${x.client_order_id} in both histories`);
      }
    }),
    { seed: SEED, numRuns: RUNS },
  );
  // The generator reaches what it is meant to (otherwise the property proves little).
  for (const code of ['DUPLICATE_EVENT', 'BOOK_MEMORY_FULL', 'SETTINGS_CHANGED', 'TRADE_CLOSED', 'RATE_LIMITED', 'STALE_STATE_RECONCILING', 'UNKNOWN_ORDER', 'OVERFILL', 'POSITION_MISMATCH']) {
    assert.ok(seen.has(code), `no generated run produced ${code}`);
  }
  assert.ok(restored > RUNS / 3, `only ${restored} runs restarted at a cut`);
  assert.ok(compared > RUNS / 4, `only ${compared} runs compared two histories`);
});
