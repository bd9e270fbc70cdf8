// sequentialRoundTrips: the incident bench's "round trips" column (issue 21). Parallel requests
// count once, a request that waits for another counts twice; a brute-force model checks it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sequentialRoundTrips, spansBetween, type RequestSpan } from '../../src/sim/overlap.js';
import type { RequestRecord } from '../../src/sim/core.js';

test('no request is zero round trips; parallel requests are one; a chain counts each link', () => {
  assert.equal(sequentialRoundTrips([]), 0);
  assert.equal(sequentialRoundTrips([{ t0_ms: 0, t1_ms: 10 }, { t0_ms: 1, t1_ms: 9 }, { t0_ms: 2, t1_ms: 12 }]), 1);
  assert.equal(sequentialRoundTrips([{ t0_ms: 0, t1_ms: 10 }, { t0_ms: 10, t1_ms: 20 }, { t0_ms: 21, t1_ms: 30 }]), 3);
  // two parallel cancels, then one read that waited for both: two round trips
  assert.equal(sequentialRoundTrips([{ t0_ms: 0, t1_ms: 10 }, { t0_ms: 0, t1_ms: 11 }, { t0_ms: 12, t1_ms: 20 }]), 2);
});

/** The longest chain by trying every order (small inputs only). */
function bruteForce(spans: readonly RequestSpan[]): number {
  let best = 0;
  const walk = (last: RequestSpan | undefined, used: Set<number>, depth: number): void => {
    if (depth > best) best = depth;
    spans.forEach((s, i) => {
      if (used.has(i)) return;
      if (last !== undefined && s.t0_ms < last.t1_ms) return;
      used.add(i);
      walk(s, used, depth + 1);
      used.delete(i);
    });
  };
  walk(undefined, new Set(), 0);
  return best;
}

test('sequentialRoundTrips equals the longest chain found by brute force', () => {
  const span = fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 20 }))
    .map(([t0, d]) => ({ t0_ms: t0, t1_ms: t0 + d }));
  fc.assert(fc.property(fc.array(span, { maxLength: 7 }), (spans) => {
    assert.equal(sequentialRoundTrips(spans), bruteForce(spans));
  }), { numRuns: 300 });
});

test('spansBetween keeps answered requests inside the window only', () => {
  const rec = (t0?: number, t1?: number): RequestRecord => ({ t0_ms: t0, t1_ms: t1 } as unknown as RequestRecord);
  const spans = spansBetween([rec(0, 5), rec(10, 20), rec(15, undefined), rec(18, 40), rec(undefined, undefined)], 5, 30);
  assert.deepEqual(spans, [{ t0_ms: 10, t1_ms: 20 }]);
});
