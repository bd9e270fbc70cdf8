// The DITAv2 kernel (SPEC section 3): a pure, deterministic state machine. It imports nothing from
// node:*, never reads a clock or Math.random: time arrives in each input's `ts`. The same
// checkpoint and the same inputs give the same outcomes and rows, byte for byte, and
// checkpoint → restore → continue is indistinguishable from never stopping.
//
// How the runner feeds it: journal each input, then `apply` it; send the outcomes' commands in
// order and feed the venue's answers back as inputs; hand the rows to the store. `apply` never
// throws for a bad input (it refuses it with an outcome and changes nothing); it throws only on a
// bug (stop, keep the journal): KernelAssertionError on an impossible state it detects, after
// rolling the state back (below); any other error is a bug it did not detect, and is thrown as it
// is, without the rollback.
//
// All or nothing. Every input is checked against its bounds (limits.ts) before anything changes,
// so no accepted input can overflow the state. If an assertion still fails half way through an
// input (a bug), `apply` puts the state back as it was before that input, then throws: the
// kernel never holds, nor checkpoints, a half-applied input. How, cheaply: the kernel keeps its
// last checkpoint text (`base`) and the state-changing inputs applied since (at most
// ROLLBACK_INPUTS_MAX; a new base is taken at that bound and at every checkpoint()); a rollback
// restores the base and re-applies those inputs, which is exact because the kernel is
// deterministic. The cost on the hot path is one array push per input and a checkpoint per
// ROLLBACK_INPUTS_MAX inputs (bench/kernel.ts measures it).
import { KernelAssertionError } from './assert.js';
import { canonicalJson } from './canonical.js';
import { checkSlotInvariants, Core } from './core.js';
import { handleDriftAccepted } from './drift.js';
import { handleEvent } from './events.js';
import { handleFunding, handleRateLimited, handleSendUnknown, handleTick, handleVenueOk, handleVenueUnavailable } from './inputs.js';
import { handleIntent } from './intents.js';
import { TS_MS_MAX } from './limits.js';
import { handleReconcile } from './reconcile-apply.js';
import { handleSettings, settingsDiff, settingsRefusal } from './settings.js';
import { fromPlain, newState, toPlain, type State } from './state.js';
import { checkOther, checkSettings, isObj, validTs } from './validate.js';
import { afterInput, handleTradingState } from './trading.js';
import { viewOf } from './view.js';
import type { KernelConfig, KernelInput, KernelOutcome, KernelSettings, KernelView, SettingChange } from './types.js';

// What the rest of PINK uses; everything else is imported from its own module.
export { clientOrderId, isPinkClientOrderId } from './ids.js';
export { KernelAssertionError } from './assert.js';
export { anomalyRow, type AnomalyFacts } from './anomaly-row.js';
export { transition, transitionPairs } from './transitions.js';
export { FUNDING_IDS_MAX } from './state.js';
/** The one drift tolerance: |venue balance − capital| above it is ACCOUNT_DRIFT; the runner's health should read it. */
export { DRIFT_TOLERANCE_USDT_DEFAULT } from './limits.js';
export { RECONCILE_LOOKBACK_MS } from './limits.js';
/** Not used outside yet: the runner's flatten should write it instead of its 'manual_flatten' literal (issue 23). */
export { FLATTEN_REASON } from './intents.js';
export { reducingInput } from './trading.js';
export { judgeDriftAcceptance, type DriftAcceptance } from './drift.js';

/**
 * State-changing inputs kept since the last base (see "All or nothing"), at most. The engine
 * checkpoints every few steps, so there it never binds; a caller that never checkpoints (bench,
 * replay of a long journal) pays one JSON text of the state per 65,536 inputs.
 */
export const ROLLBACK_INPUTS_MAX = 65_536;
const ROLLBACK_CHUNK_INPUTS = 1_024;

/** What a SETTINGS input would do now: its changes, or why the kernel would refuse it. */
export interface SettingsCheck {
  changes: SettingChange[];
  /** Bad values (out of range): the SETTINGS input would be INVALID_INPUT. */
  invalid: string | null;
  /** The symbols dropped on which PINK holds a position or an order, or that wait for a reconcile (each with what is held); null if none. */
  refusal: string | null;
}

export class Kernel {
  private core: Core;
  /** The state as of `since`'s start, as checkpoint text (see "All or nothing"). */
  private base: string;
  /**
   * The state-changing inputs since `base` (at most ROLLBACK_INPUTS_MAX), in chunks of
   * ROLLBACK_CHUNK_INPUTS: appending never copies a long array (a long young array would be
   * copied by every scavenge until promoted).
   */
  private since: KernelInput[][] = [];
  private sinceCount = 0;

  constructor(config: KernelConfig) {
    this.core = new Core(newState(config));
    this.base = this.checkpointText();
  }

  /**
   * Applies one input; returns its outcomes (at least one). Never throws for bad input; on a
   * failed assertion (a bug) it restores the state as it was before the input, then throws.
   */
  apply(input: KernelInput): KernelOutcome[] {
    let outcomes: KernelOutcome[];
    try {
      outcomes = this.applyNow(input);
    } catch (err) {
      if (err instanceof KernelAssertionError) this.rollback();
      throw err;
    }
    if (this.core.mutating) {
      const chunk = this.since[this.since.length - 1];
      if (chunk === undefined || chunk.length === ROLLBACK_CHUNK_INPUTS) this.since.push([input]);
      else chunk.push(input);
      this.sinceCount += 1;
      // Not canonical (no key sorting): the base is only ever read back by restoreState.
      if (this.sinceCount >= ROLLBACK_INPUTS_MAX) this.rebase(JSON.stringify(toPlain(this.core.st)));
    }
    return outcomes;
  }

  private applyNow(input: KernelInput): KernelOutcome[] {
    const c = this.core;
    const raw = input as unknown;
    if (!isObj(raw) || !validTs(raw['ts'])) {
      c.start(input, 0);
      return [c.refuse(c.F.INVALID_INPUT, undefined, { reason: `input must be an object with an integer ts in [0, ${TS_MS_MAX}] (epoch ms)` })];
    }
    c.start(input, input.ts);
    const bad = checkOther(input);
    if (bad !== null) return [c.refuse(c.F.INVALID_INPUT, undefined, { reason: `${String(input.type)}: ${bad}` })];
    const outcomes = this.dispatch(input);
    afterInput(c, input, outcomes);
    // finish() also asserts the invariants of every slot the input touched.
    return c.finish(outcomes);
  }

  /** The state before the input that failed: the base, and the inputs applied since, again. */
  private rollback(): void {
    this.core = new Core(restoreState(this.base));
    for (const chunk of this.since) for (const input of chunk) this.applyNow(input);
  }

  private rebase(text: string): void {
    this.base = text;
    this.since = [];
    this.sinceCount = 0;
  }

  private dispatch(input: KernelInput): KernelOutcome[] {
    const c = this.core;
    switch (input.type) {
      case 'TICK':
        return handleTick(c, input);
      case 'INTENT':
        return handleIntent(c, input.intent);
      case 'EVENT':
        return handleEvent(c, input.event);
      case 'RATE_LIMITED':
        return handleRateLimited(c, input);
      case 'VENUE_OK':
        return handleVenueOk(c);
      case 'SEND_UNKNOWN':
        return handleSendUnknown(c, input);
      case 'VENUE_UNAVAILABLE':
        return handleVenueUnavailable(c, input);
      case 'RECONCILE':
        return handleReconcile(c, input);
      case 'FUNDING':
        return handleFunding(c, input);
      case 'SETTINGS':
        return handleSettings(c, input);
      case 'TRADING_STATE':
        return handleTradingState(c, input);
      case 'DRIFT_ACCEPTED':
        return handleDriftAccepted(c, input);
      default:
        return [c.refuse(c.F.INVALID_INPUT, undefined, { reason: `unknown input type ${JSON.stringify((input as { type?: unknown }).type) ?? 'undefined'}` })];
    }
  }

  private checkpointText(): string {
    return canonicalJson(toPlain(this.core.st));
  }

  /** The whole state as canonical JSON (sorted keys): equal states give equal bytes. */
  checkpoint(): string {
    const text = this.checkpointText();
    this.rebase(text);
    return text;
  }

  /** The kernel a checkpoint describes. Throws (plain Error) on text that is not one. */
  static restore(text: string): Kernel {
    const k = Object.create(Kernel.prototype) as Kernel;
    k.core = new Core(restoreState(text));
    k.base = text;
    k.since = [];
    k.sinceCount = 0;
    return k;
  }

  view(): KernelView {
    return viewOf(this.core.st);
  }

  /** The history every id of this kernel carries. */
  get history_id(): string {
    return this.core.st.history_id;
  }

  /** The changes a SETTINGS input with `settings` would make now, and whether it would be refused. */
  checkSettings(settings: KernelSettings): SettingsCheck {
    const invalid = checkSettings(settings);
    if (invalid !== null) return { changes: [], invalid, refusal: null };
    return { changes: settingsDiff(this.core.st.config, settings), invalid: null, refusal: settingsRefusal(this.core.st, settings) };
  }
}

function restoreState(text: string): State {
  const st = fromPlain(JSON.parse(text));
  for (const slot of st.slots.values()) checkSlotInvariants(st, slot);
  return st;
}
