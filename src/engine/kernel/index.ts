// The DITAv2 kernel (SPEC section 3): a pure, deterministic state machine. It imports nothing from
// node:*, never reads a clock or Math.random: time arrives in each input's `ts`. The same
// checkpoint and the same inputs give the same outcomes and rows, byte for byte, and
// checkpoint → restore → continue is indistinguishable from never stopping.
//
// How the runner feeds it: journal each input, then `apply` it; send the outcomes' commands in
// order and feed the venue's answers back as inputs; hand the rows to the store. `apply` never
// throws for a bad input (it refuses it with an outcome and changes nothing); it throws
// KernelAssertionError only on an impossible state, which is a bug (stop, keep the journal).
import { canonicalJson } from './canonical.js';
import { checkSlotInvariants, Core } from './core.js';
import { handleEvent } from './events.js';
import { handleFunding, handleRateLimited, handleSendUnknown, handleTick, handleVenueOk, handleVenueUnavailable } from './inputs.js';
import { handleIntent } from './intents.js';
import { handleReconcile } from './reconcile-apply.js';
import { fromPlain, newState, toPlain } from './state.js';
import { checkOther, isObj, validTs } from './validate.js';
import { viewOf } from './view.js';
import type { KernelConfig, KernelInput, KernelOutcome, KernelView } from './types.js';

export { clientOrderId, isPinkClientOrderId, fnv1a64 } from './ids.js';
export { KernelAssertionError } from './assert.js';
export { planInferredFills, planReconcile, type Correction, type ReconcileBook } from './reconcile.js';
export { transition, transitionPairs, type SlotEvent } from './transitions.js';
export { TRADES_REMEMBERED_MAX, FUNDING_IDS_MAX } from './state.js';
export { FLATTEN_REASON } from './intents.js';

export class Kernel {
  private readonly core: Core;

  constructor(config: KernelConfig) {
    this.core = new Core(newState(config));
  }

  /** Applies one input; returns its outcomes (at least one). Never throws for bad input. */
  apply(input: KernelInput): KernelOutcome[] {
    const c = this.core;
    const raw = input as unknown;
    if (!isObj(raw) || !validTs(raw['ts'])) {
      c.start(input, 0);
      return [c.refuse(c.F.INVALID_INPUT, undefined, { reason: 'input must be an object with a finite ts >= 0 (epoch ms)' })];
    }
    c.start(input, input.ts);
    const bad = checkOther(input);
    if (bad !== null) return [c.refuse(c.F.INVALID_INPUT, undefined, { reason: `${String(input.type)}: ${bad}` })];
    const outcomes = this.dispatch(input);
    // finish() also asserts the invariants of every slot the input touched.
    return c.finish(outcomes);
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
      default:
        return [c.refuse(c.F.INVALID_INPUT, undefined, { reason: `unknown input type ${JSON.stringify((input as { type?: unknown }).type) ?? 'undefined'}` })];
    }
  }

  /** The whole state as canonical JSON (sorted keys): equal states give equal bytes. */
  checkpoint(): string {
    return canonicalJson(toPlain(this.core.st));
  }

  /** The kernel a checkpoint describes. Throws (plain Error) on text that is not one. */
  static restore(text: string): Kernel {
    const k = Object.create(Kernel.prototype) as Kernel;
    const st = fromPlain(JSON.parse(text));
    for (const slot of st.slots.values()) checkSlotInvariants(st, slot);
    (k as unknown as { core: Core }).core = new Core(st);
    return k;
  }

  view(): KernelView {
    return viewOf(this.core.st);
  }
}
