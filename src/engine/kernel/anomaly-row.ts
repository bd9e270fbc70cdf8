// The anomalies row (SPEC section 5), built in one place for the kernel's outcomes (Core.outcome)
// and the runner's own anomalies (fail-stop, operator actions, signals). A leaf: it imports only
// types, so the runner can use it without the kernel's machinery.
import type { RowOut, Severity } from './types.js';

/** An anomalies row's columns; `details` is the JSON text of the outcome's details. */
export interface AnomalyFacts {
  row_id: string;
  ts: number;
  /** Who wrote it: the kernel's ANOMALY_ORIGIN, or the runner's ('engine', 'operator', 'signals'). */
  origin: string;
  code: string;
  severity: Severity;
  slot_id: string;
  symbol: string;
  details: string;
}

/** The one builder of an anomalies row, for the kernel (Core.outcome) and the runner alike. Pure. */
export function anomalyRow(f: AnomalyFacts): RowOut {
  return {
    family: 'anomalies',
    row: { row_id: f.row_id, ts: f.ts, origin: f.origin, code: f.code, severity: f.severity, slot_id: f.slot_id, symbol: f.symbol, details: f.details },
  };
}
