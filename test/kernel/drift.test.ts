// DRIFT_ACCEPTED: an operator accounts for a drift PINK did not cause. Capital is never touched
// (SPEC 3.5); the accepted amount is an offset the kernel judges drift net of, checkpointed and
// replayed like any state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { judgeDriftAcceptance, Kernel } from '../../src/engine/kernel/index.js';
import type { KernelInput } from '../../src/engine/kernel/types.js';
import { codes, Harness } from './harness.js';

const OP = { command: 'accept-drift', args: ['-8.40'], user: 'alice', host: 'box', pid: 42 };

/** `null` as the operator: the input carries none. */
function accept(h: Harness, amount_usdt: unknown, operator: unknown = OP) {
  return h.apply({ type: 'DRIFT_ACCEPTED', ts: h.next(), amount_usdt, ...(operator === null ? {} : { operator }) } as unknown as KernelInput);
}

/** A kernel whose last reconcile measured a drift of -8.4 USDT (capital 10000, venue 9991.6). */
function drifted(): Harness {
  const h = new Harness();
  const out = h.reconcile({ balance_usdt: 9_991.6 });
  assert.ok(codes(out).includes('ACCOUNT_DRIFT'));
  return h;
}

const driftCorrections = (out: ReturnType<Harness['apply']>) => ((out[0]!.details['corrections'] ?? []) as { kind: string; detail: string }[]).filter((c) => c.kind === 'drift');

test('DRIFT_ACCEPTED: amount, bound and operator are checked before anything changes (INVALID_INPUT)', () => {
  const h = drifted();
  const seq = h.k.view().seq;
  const before = h.k.checkpoint();
  for (const [amount, op, field] of [
    ['-8.4', OP, /amount_usdt/],
    [Infinity, OP, /amount_usdt/],
    [null, OP, /amount_usdt/],
    [2e15, OP, /amount_usdt must be a number within ±1000000000000000 USDT/],
    [-8.4, null, /needs operator/],
    [-8.4, { command: 'x', args: [], user: 'u', host: 'h' }, /operator needs command, user, host and pid/],
    [-8.4, { command: 'x', args: [1], user: 'u', host: 'h', pid: 1 }, /operator\.args/],
  ] as const) {
    const out = accept(h, amount, op);
    assert.deepEqual(codes(out), ['INVALID_INPUT'], `${String(amount)} ${JSON.stringify(op)}`);
    assert.match(String(out[0]!.details.reason), field);
  }
  assert.equal(h.k.view().seq, seq, 'nothing changed');
  assert.equal(h.k.checkpoint(), before);
});

test('DRIFT_ACCEPTED is refused unless it equals the drift of the last reconcile (within tolerance), or before any balance read', () => {
  const fresh = new Harness();
  const none = accept(fresh, 0);
  assert.deepEqual(codes(none), ['DRIFT_ACCEPT_REFUSED']);
  assert.match(String(none[0]!.details.reason), /no venue balance read yet.*pink restart/);
  assert.equal(fresh.k.view().seq, 0);

  const h = drifted();
  const seq = h.k.view().seq;
  for (const amount of [-6.0, -10.0, 8.4, 0]) {
    const out = accept(h, amount);
    assert.deepEqual(codes(out), ['DRIFT_ACCEPT_REFUSED'], String(amount));
    assert.match(String(out[0]!.details.reason), /is not the account drift -8\.40 USDT the last reconcile measured \(tolerance 1 USDT\): run `pink accept-drift -8\.40`/);
  }
  assert.equal(h.k.view().seq, seq, 'a refusal changes nothing');
  assert.equal(h.k.view().account.drift_accepted, 0);
  // The pure judgement the runner asks before it journals anything is the kernel's own.
  assert.equal(judgeDriftAcceptance(-8.4, 0, 1, -6).kind, 'refused');
  assert.equal(judgeDriftAcceptance(null, 0, 1, 0).kind, 'refused');
  assert.equal(judgeDriftAcceptance(-8.4, 0, 1, -8.4).kind, 'accept');
  assert.equal(judgeDriftAcceptance(-8.4, -8.4, 1, -8.4).kind, 'noop');
});

test('DRIFT_ACCEPTED records the offset and its operator audit row, leaves capital alone, and is idempotent', () => {
  const h = drifted();
  const capital = h.k.view().account.capital;
  const out = accept(h, -8.4);
  assert.deepEqual(codes(out), ['DRIFT_ACCEPTED']);
  assert.equal(out[0]!.severity, 'INFO');
  const audit = h.rows('anomalies', out);
  assert.equal(audit.length, 1);
  assert.equal(audit[0]!['origin'], 'operator');
  assert.equal(audit[0]!['code'], 'DRIFT_ACCEPTED');
  const details = JSON.parse(String(audit[0]!['details'])) as Record<string, unknown>;
  assert.deepEqual([details['user'], details['host'], details['pid'], details['command'], details['amount_usdt'], details['drift_accepted_before']], ['alice', 'box', 42, 'accept-drift', -8.4, 0]);
  const a = h.k.view().account;
  assert.equal(a.capital, capital, 'capital is never copied from the venue');
  assert.equal(a.drift_accepted, -8.4);
  assert.ok(Math.abs(a.drift! + 8.4) < 1e-9, 'drift keeps its meaning: venue balance − capital');
  // Again: nothing to accept, no seq, no row.
  const seq = h.k.view().seq;
  const again = accept(h, -8.4);
  assert.deepEqual(codes(again), ['OK']);
  assert.equal(again[0]!.details['changed'], false);
  assert.equal(again[0]!.rows.length, 0);
  assert.equal(h.k.view().seq, seq);
  // Within the tolerance of the drift counts as the same accept.
  assert.deepEqual(codes(accept(h, -8.0)), ['OK']);
  assert.equal(h.k.view().account.drift_accepted, -8.4);
});

test('after an accept, a reconcile judges drift net of it; a new difference beyond it is ACCOUNT_DRIFT again', () => {
  const h = drifted();
  accept(h, -8.4);
  const same = h.reconcile({ balance_usdt: 9_991.6 });
  assert.ok(!codes(same).includes('ACCOUNT_DRIFT'), JSON.stringify(codes(same)));
  assert.deepEqual(driftCorrections(same), []);
  assert.equal(same[0]!.details['drift_accepted'], -8.4);
  assert.ok(Math.abs((same[0]!.details['drift'] as number) + 8.4) < 1e-9, 'the report keeps the whole drift');
  // The account row's `drift` column keeps SPEC's meaning too.
  assert.ok(Math.abs((h.rows('account', same)[0]!['drift'] as number) + 8.4) < 1e-9);
  const more = h.reconcile({ balance_usdt: 9_988.6 });
  assert.ok(codes(more).includes('ACCOUNT_DRIFT'));
  const [line] = driftCorrections(more) as { detail: string }[];
  assert.match(line!.detail, /drift -11\.(4|39)\d* USDT, of which -8\.4 accepted by an operator and -(2\.9|3\.0)\d* not/);
  // The operator accepts the whole new drift; a transfer back (drift 0) is accepted as 0 again.
  assert.deepEqual(codes(accept(h, -11.4)), ['DRIFT_ACCEPTED']);
  assert.ok(!codes(h.reconcile({ balance_usdt: 9_988.6 })).includes('ACCOUNT_DRIFT'));
  const back = h.reconcile({ balance_usdt: 10_000 });
  assert.ok(codes(back).includes('ACCOUNT_DRIFT'), 'the money came back: +11.4 unaccounted');
  assert.deepEqual(codes(accept(h, 0)), ['DRIFT_ACCEPTED']);
  assert.ok(!codes(h.reconcile({ balance_usdt: 10_000 })).includes('ACCOUNT_DRIFT'));
});

test('the accepted drift is checkpointed, restored and replayed identically; a history without one checkpoints as before', () => {
  const h = drifted();
  assert.doesNotMatch(h.k.checkpoint(), /drift_accepted/, 'no accept: the checkpoint is what it was before the field existed');
  accept(h, -8.4);
  const text = h.k.checkpoint();
  assert.match(text, /"drift_accepted_usdt":-8\.4/);
  const restored = Kernel.restore(text);
  assert.deepEqual(restored.view(), h.k.view());
  assert.equal(restored.checkpoint(), text);
  // Continuing after the restore is indistinguishable from never stopping.
  const ts = h.next();
  const input: KernelInput = { type: 'RECONCILE', ts, snapshot: { ts, balance_usdt: 9_991.6, marks: {}, positions: [], open_orders: [], fills: [] } };
  assert.deepEqual(restored.apply(input), h.k.apply(input));
  // Replay: the same inputs from the start reach the same state and the same outcomes.
  const replayed = new Harness();
  const outcomes = h.inputs.flatMap((i) => replayed.apply(i));
  assert.deepEqual(outcomes, h.log);
  replayed.apply(input);
  assert.equal(replayed.k.checkpoint(), h.k.checkpoint());
  // A checkpoint whose accepted drift is not a bounded number is not a checkpoint.
  assert.throws(() => Kernel.restore(text.replace('"drift_accepted_usdt":-8.4', '"drift_accepted_usdt":"x"')), /drift_accepted_usdt/);
  assert.throws(() => Kernel.restore(text.replace('"drift_accepted_usdt":-8.4', '"drift_accepted_usdt":1e300')), /drift_accepted_usdt/);
});
