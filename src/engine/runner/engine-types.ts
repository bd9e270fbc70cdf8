// What the engine (engine.ts) takes and reports, and its two named errors: apart from the class so
// that commands (restart.ts) and the process (main.ts) read them without the engine's reasoning.
import { randomUUID } from 'node:crypto';
import type { Config } from '../../config.js';
import { EXIT, ExitError } from '../../errors.js';
import type { KernelOutcome, ReconcileCorrection, SettingChange } from '../kernel/types.js';
import type { VenueReadError } from '../venue/errors.js';
import type { Store } from '../store/index.js';
import type { Venue } from '../venue/types.js';
import type { Logger } from './log.js';
import type { EngineObserver } from '../observe/observer.js';

export interface EngineOptions {
  config: Config;
  venue: Venue;
  store: Store;
  logger: Logger;
  strategy: 'demo' | 'signals';
  signals_path?: string;
  seed: number;
  run_id: string;
  /** Steps between checkpoints (default CHECKPOINT_EVERY_STEPS). */
  checkpoint_every_steps?: number;
  /** Issue 22: alerts and metrics; sees every live outcome and step (never a replayed one). */
  observer?: EngineObserver;
}

export interface ReconcileReport {
  ts: number;
  before: unknown[];
  after: unknown[];
  /** The kernel's own report lines (its RECONCILED outcome's `details.corrections`). */
  corrections: ReconcileCorrection[];
  drift: number | null;
  /** The drift an operator accepted (`pink accept-drift`; 0: none): the reconcile judged drift net of it. */
  drift_accepted: number;
  converged: boolean;
  /** What changed in the settings at this start (the SETTINGS input), empty otherwise. */
  settings_changed: SettingChange[];
}

/** The taxonomy's code of a liquidation the reconcile applied (kernel/reconcile-apply.ts). */
const POSITION_LIQUIDATED = 'POSITION_LIQUIDATED';

/**
 * The report of one reconcile from its outcomes: every correction the kernel listed, the last
 * drift, and converged unless an outcome says otherwise or a slot is still stale.
 */
export function reconcileReport(ts: number, before: unknown[], after: { state: string }[], outcomes: KernelOutcome[], settings_changed: SettingChange[]): ReconcileReport {
  const corrections: ReconcileCorrection[] = [];
  let drift: number | null = null;
  let drift_accepted = 0;
  let converged = true;
  for (const o of outcomes) {
    const list = (o.details['corrections'] as ReconcileCorrection[] | undefined) ?? [];
    corrections.push(...list);
    if (typeof o.details['drift'] === 'number') drift = o.details['drift'] as number;
    if (typeof o.details['drift_accepted'] === 'number') drift_accepted = o.details['drift_accepted'] as number;
    // A liquidation the reconcile applied is CRITICAL news, not a divergence: the books now hold
    // what the venue did (POSITION_LIQUIDATED, the symbol REDUCING, the alert say the rest).
    // Counting it unconverged made a restart after a liquidation exit 1 with nothing to fix
    // (chaos seed 328).
    if ((o.severity === 'ERROR' || o.severity === 'CRITICAL') && o.diagnostic_code !== POSITION_LIQUIDATED) converged = false;
    if (o.details['converged'] === false) converged = false;
  }
  if (after.some((s) => s.state === 'STALE_STATE_RECONCILING')) converged = false;
  return { ts, before, after, corrections, drift, drift_accepted, converged, settings_changed };
}

/**
 * A reconcile whose venue read failed: an operating error (exit 3; 2 when the key was refused),
 * never an internal one. `input` (RATE_LIMITED / VENUE_UNAVAILABLE) has been fed to the kernel.
 */
export class ReconcileReadError extends ExitError {
  readonly input: VenueReadError['input'];
  readonly auth: boolean;

  constructor(err: VenueReadError) {
    super(
      err.auth ? EXIT.USAGE : EXIT.UNREACHABLE,
      `reconcile could not read the venue: ${err.message}`,
      err.auth ? 'Check DOLPHIN_PINK_BINGX_API_KEY / DOLPHIN_PINK_BINGX_API_SECRET and the key\'s permissions.' : 'The venue refused or did not answer; retry (pink restart), and see `pink fault RATE_LIMITED` / `pink fault VENUE_UNAVAILABLE`.',
    );
    this.name = 'ReconcileReadError';
    this.input = err.input;
    this.auth = err.auth;
  }
}

/** The journal, replayed at start, failed at `seq` (an internal error: the start is a fail-stop). */
export class ReplayFailedError extends Error {
  readonly seq: number;
  readonly error: unknown;

  constructor(error: unknown, seq: number) {
    super(`replaying the journal failed at seq ${seq}: ${error instanceof Error ? error.message : String(error)}`);
    this.name = 'ReplayFailedError';
    this.seq = seq;
    this.error = error;
  }
}

export function newRunId(): string {
  return `run-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}-${randomUUID().slice(0, 8)}`;
}
