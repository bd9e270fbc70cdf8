// How many venue round trips a client waited for one after another: the longest chain of requests
// in which each one arrived after the previous one was answered. Requests sent in parallel count
// once; a read that waits for a write counts twice. issue 21's bench reports it beside the count.
import type { RequestRecord } from './core.js';

export interface RequestSpan {
  t0_ms: number;
  t1_ms: number;
}

/** The spans of the answered requests in [from_ms, to_ms] (requests still in flight are left out). */
export function spansBetween(log: readonly RequestRecord[], from_ms: number, to_ms: number): RequestSpan[] {
  const out: RequestSpan[] = [];
  for (const r of log) {
    if (r.t0_ms === undefined || r.t1_ms === undefined) continue;
    if (r.t0_ms >= from_ms && r.t1_ms <= to_ms) out.push({ t0_ms: r.t0_ms, t1_ms: r.t1_ms });
  }
  return out;
}

/** The length of the longest chain a0, a1, ... with a(i+1).t0_ms >= a(i).t1_ms; 0 for no request. */
export function sequentialRoundTrips(spans: readonly RequestSpan[]): number {
  // by end, then by start: a span that ends where another ends can only follow it if it has no length
  const byEnd = [...spans].sort((a, b) => a.t1_ms - b.t1_ms || a.t0_ms - b.t0_ms);
  const chain: number[] = [];
  let best = 0;
  for (let i = 0; i < byEnd.length; i += 1) {
    let before = 0;
    for (let j = 0; j < i; j += 1) {
      if (byEnd[j]!.t1_ms <= byEnd[i]!.t0_ms && chain[j]! > before) before = chain[j]!;
    }
    chain.push(before + 1);
    if (before + 1 > best) best = before + 1;
  }
  return best;
}
