// An operator accepts a drift PINK did not cause (DRIFT_ACCEPTED). SPEC 3.5: the venue balance is
// read at reconcile only and a difference is reported as drift, never copied over capital. So an
// accept does not touch capital: it records the difference the operator has accounted for (another
// system's trades on the account, a transfer) as an offset, and from then on the kernel, its
// reconcile report and status judge drift net of it: venue balance − capital − accepted.
//
// The amount is the whole drift accepted (what status shows as `account.drift`), not an increment:
// accepting the same drift twice is then a no-op by construction, and the state holds one number.
// It must equal the drift the last reconcile measured, within the drift tolerance: a typo, or a
// balance that moved since the operator looked, is refused, never accepted blindly. The runner
// checks the same function before it journals anything (runner/control.ts), so a refused accept
// records nothing; the kernel refuses it again if it ever arrives (fail closed).
import type { Core } from './core.js';
import type { KernelInput, KernelOutcome } from './types.js';

export type DriftAcceptance =
  | { kind: 'accept' }
  /** Nothing to accept: the drift is already accounted for (or within tolerance). */
  | { kind: 'noop'; reason: string }
  | { kind: 'refused'; reason: string };

const usdt = (v: number): string => v.toFixed(2);

/**
 * Whether accepting `amount_usdt` now is a change, a no-op or refused, from the account as the
 * last reconcile left it. Pure: the kernel and the runner's pre-check ask the same question.
 */
export function judgeDriftAcceptance(drift_usdt: number | null, accepted_usdt: number, tolerance_usdt: number, amount_usdt: number): DriftAcceptance {
  if (drift_usdt === null) return { kind: 'refused', reason: 'no venue balance read yet, so no drift to accept: run `pink restart` (its reconcile reads the balance), then `pink ditav2-status`' };
  if (Math.abs(amount_usdt - drift_usdt) > tolerance_usdt) {
    return { kind: 'refused', reason: `${usdt(amount_usdt)} USDT is not the account drift ${usdt(drift_usdt)} USDT the last reconcile measured (tolerance ${tolerance_usdt} USDT): run \`pink accept-drift ${usdt(drift_usdt)}\` if that is the difference you accounted for (\`pink restart\` first if the balance moved since)` };
  }
  const open = drift_usdt - accepted_usdt;
  if (Math.abs(open) <= tolerance_usdt) {
    return { kind: 'noop', reason: `drift ${usdt(drift_usdt)} USDT is already accounted for (accepted ${usdt(accepted_usdt)}, tolerance ${tolerance_usdt}): nothing changed` };
  }
  return { kind: 'accept' };
}

export function handleDriftAccepted(c: Core, input: Extract<KernelInput, { type: 'DRIFT_ACCEPTED' }>): KernelOutcome[] {
  const a = c.st.account;
  const tolerance = c.st.config.drift_tolerance_usdt;
  const verdict = judgeDriftAcceptance(a.drift_usdt, a.drift_accepted_usdt, tolerance, input.amount_usdt);
  if (verdict.kind === 'refused') {
    return [c.refuse(c.F.DRIFT_ACCEPT_REFUSED, undefined, { reason: verdict.reason, amount_usdt: input.amount_usdt, drift: a.drift_usdt, drift_accepted: a.drift_accepted_usdt })];
  }
  if (verdict.kind === 'noop') {
    return [c.refuse(c.F.OK, undefined, { reason: verdict.reason, changed: false, drift: a.drift_usdt, drift_accepted: a.drift_accepted_usdt })];
  }
  c.begin();
  const before = a.drift_accepted_usdt;
  a.drift_accepted_usdt = input.amount_usdt;
  const drift = a.drift_usdt!;
  const facts = { amount_usdt: input.amount_usdt, drift, drift_accepted_before: before, venue_balance: a.venue_balance_usdt, unaccepted: drift - input.amount_usdt };
  const op = input.operator;
  // The audit trail, as a halt's: an anomalies row of origin `operator` (trading.ts).
  const audit = c.row('anomalies', {
    row_id: c.rowId('anomalies'),
    ts: c.ts,
    origin: 'operator',
    code: c.F.DRIFT_ACCEPTED.code,
    severity: c.F.DRIFT_ACCEPTED.severity,
    slot_id: '',
    symbol: '',
    details: JSON.stringify({ command: op.command, args: op.args, user: op.user, host: op.host, pid: op.pid, ...facts }),
  });
  const reason = `account drift ${usdt(drift)} USDT accepted by ${op.user}@${op.host} (was ${usdt(before)}); capital unchanged; drift is judged net of it from now on`;
  return [c.outcome(c.F.DRIFT_ACCEPTED, undefined, { reason, changed: true, ...facts }, [], [audit])];
}
