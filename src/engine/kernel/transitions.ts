// The ONE transition table of a slot (NautilusTrader style): every slot state change in the
// kernel is Core.move, which asks `transition`; only a new slot (IDLE) and a restored checkpoint
// get a state otherwise. An intent whose (state, event) pair is not in the table is refused with
// INVALID_TRANSITION before any mutation (intents.ts); venue facts and reconcile corrections are
// checked before they begin, so a pair the table lacks reaching Core.move is a bug (an assertion).
// Beside the moves, STATE_RULES says what each state means to the rest of the kernel (what it
// holds, how a reconcile settles on it, whether it waits for one): a new state is a compile
// error until it has a row in both.
import type { SlotState } from './types.js';

export type SlotEvent =
  // intents
  | 'ENTER'
  | 'EXIT'
  /** EXIT in EXIT_WORKING with no live order: the retry after a reject or a rate limit. */
  | 'EXIT_RETRY'
  | 'CANCEL_REQUEST'
  // venue answers about the working order
  | 'ENTRY_ACCEPTED'
  | 'ENTRY_FILL'
  | 'ENTRY_FILLED'
  | 'ENTRY_REJECTED'
  /** The venue rejected an entry order that had already filled in part: OPEN with what filled. */
  | 'ENTRY_REJECTED_PARTIAL'
  | 'ENTRY_CANCELED_EMPTY'
  | 'ENTRY_CANCELED_PARTIAL'
  | 'ENTRY_NOT_PLACED'
  /** The entry never reached the book, but a fill of an earlier trade's entry grew its trade (fills.ts). */
  | 'ENTRY_NOT_PLACED_PARTIAL'
  | 'EXIT_ACCEPTED'
  | 'EXIT_FILL'
  | 'EXIT_FILLED'
  | 'EXIT_REJECTED'
  | 'EXIT_CANCELED'
  | 'EXIT_NOT_PLACED'
  | 'CANCEL_REJECTED'
  // fills on orders that had already left the book (a fill that raced a cancel)
  | 'LATE_ENTRY_FILL'
  | 'LATE_EXIT_FILL'
  /** A fill or a reconcile brought the position to zero: the trade closes, once. */
  | 'POSITION_FLAT'
  | 'SEND_UNKNOWN'
  // reconcile: the venue's truth settles a slot, whatever it believed
  | 'ADOPT'
  | 'RECONCILED_IDLE'
  | 'RECONCILED_OPEN'
  | 'RECONCILED_CLOSED'
  | 'RECONCILED_ENTRY_WORKING'
  | 'RECONCILED_EXIT_WORKING';

type Table = { readonly [S in SlotState]: Readonly<Partial<Record<SlotEvent, SlotState>>> };

const STALE: SlotState = 'STALE_STATE_RECONCILING';

/**
 * What a reconcile may learn about a stale slot before it settles it: inferred fills, its order
 * gone, the venue flat. The slot stays STALE_STATE_RECONCILING (only a converged reconcile
 * releases it, through RECONCILED_*); Core.move advances the state it left (prev_state) through
 * this same table, so the settle starts from what the slot would be.
 */
const STALE_FACTS: Partial<Record<SlotEvent, SlotState>> = {
  ENTRY_FILL: STALE,
  ENTRY_FILLED: STALE,
  ENTRY_CANCELED_EMPTY: STALE,
  ENTRY_CANCELED_PARTIAL: STALE,
  EXIT_FILL: STALE,
  EXIT_FILLED: STALE,
  EXIT_CANCELED: STALE,
  LATE_ENTRY_FILL: STALE,
  LATE_EXIT_FILL: STALE,
  POSITION_FLAT: STALE,
};

/** The events by which a reconcile settles a slot on a state. */
export type ReconciledEvent = Extract<SlotEvent, `RECONCILED_${string}`>;

/** What the rest of the kernel reads about a state, besides its moves. */
export interface StateRule {
  /** The event by which a reconcile settles a slot on this state; null: it never settles on it. */
  readonly settled_by: ReconciledEvent | null;
  /**
   * What a slot in this state holds: 'position' (qty > 0), 'nothing' (flat, no working order) or
   * 'either'. checkSlotInvariants asserts it; a reconcile keeps a slot in a 'position' or
   * 'nothing' state while the venue agrees with it, instead of settling it on OPEN, IDLE or CLOSED.
   */
  readonly holds: 'position' | 'nothing' | 'either';
  /**
   * Venue events and intents on the slot are refused (STALE_STATE_RECONCILING) until a reconcile
   * settles it; Core.move remembers the state it left (prev_state), which the settle starts from.
   */
  readonly waits_for_reconcile: boolean;
}

export const STATE_RULES = {
  IDLE: { settled_by: 'RECONCILED_IDLE', holds: 'nothing', waits_for_reconcile: false },
  ENTRY_WORKING: { settled_by: 'RECONCILED_ENTRY_WORKING', holds: 'either', waits_for_reconcile: false },
  OPEN: { settled_by: 'RECONCILED_OPEN', holds: 'position', waits_for_reconcile: false },
  EXIT_WORKING: { settled_by: 'RECONCILED_EXIT_WORKING', holds: 'position', waits_for_reconcile: false },
  CLOSED: { settled_by: 'RECONCILED_CLOSED', holds: 'nothing', waits_for_reconcile: false },
  STALE_STATE_RECONCILING: { settled_by: null, holds: 'either', waits_for_reconcile: true },
} as const satisfies { readonly [S in SlotState]: StateRule };

/** The states a reconcile may settle a slot on. */
export type SettledState = { [S in SlotState]: (typeof STATE_RULES)[S]['settled_by'] extends null ? never : S }[SlotState];

/** Whether a slot in `state` refuses venue events and intents until a reconcile settles it. */
export function waitsForReconcile(state: SlotState): boolean {
  return STATE_RULES[state].waits_for_reconcile;
}

/** What a slot in `state` holds (StateRule.holds). */
export function holdsOf(state: SlotState): StateRule['holds'] {
  return STATE_RULES[state].holds;
}

/** Whether a reconcile may settle a slot on `state`. */
export function isSettledState(state: SlotState): state is SettledState {
  return STATE_RULES[state].settled_by !== null;
}

/** The event that settles a slot on `state`. */
export function settledBy(state: SettledState): ReconciledEvent {
  return STATE_RULES[state].settled_by;
}

/** Reconcile may settle any slot on what the venue shows: STATE_RULES' settled_by, as moves. */
const RECONCILED: Partial<Record<SlotEvent, SlotState>> = {};
for (const state of Object.keys(STATE_RULES) as SlotState[]) {
  if (isSettledState(state)) RECONCILED[settledBy(state)] = state;
}

const TABLE: Table = {
  IDLE: {
    ENTER: 'ENTRY_WORKING',
    LATE_ENTRY_FILL: 'OPEN',
    CANCEL_REJECTED: 'IDLE',
    SEND_UNKNOWN: STALE,
    ADOPT: 'OPEN',
    ...RECONCILED,
  },
  ENTRY_WORKING: {
    ENTRY_ACCEPTED: 'ENTRY_WORKING',
    ENTRY_FILL: 'ENTRY_WORKING',
    ENTRY_FILLED: 'OPEN',
    ENTRY_REJECTED: 'IDLE',
    ENTRY_REJECTED_PARTIAL: 'OPEN',
    ENTRY_CANCELED_EMPTY: 'IDLE',
    ENTRY_CANCELED_PARTIAL: 'OPEN',
    ENTRY_NOT_PLACED: 'IDLE',
    ENTRY_NOT_PLACED_PARTIAL: 'OPEN',
    CANCEL_REQUEST: 'ENTRY_WORKING',
    CANCEL_REJECTED: 'ENTRY_WORKING',
    /** A fill of an earlier trade's order, netted into this one's position (fills.ts). */
    LATE_ENTRY_FILL: 'ENTRY_WORKING',
    LATE_EXIT_FILL: 'ENTRY_WORKING',
    /** A reconcile found the venue flat under a partly filled entry: its order is canceled too. */
    POSITION_FLAT: 'CLOSED',
    SEND_UNKNOWN: STALE,
    ...RECONCILED,
  },
  OPEN: {
    EXIT: 'EXIT_WORKING',
    LATE_ENTRY_FILL: 'OPEN',
    LATE_EXIT_FILL: 'OPEN',
    POSITION_FLAT: 'CLOSED',
    CANCEL_REJECTED: 'OPEN',
    SEND_UNKNOWN: STALE,
    ...RECONCILED,
  },
  EXIT_WORKING: {
    EXIT_RETRY: 'EXIT_WORKING',
    EXIT_ACCEPTED: 'EXIT_WORKING',
    EXIT_FILL: 'EXIT_WORKING',
    EXIT_FILLED: 'OPEN',
    EXIT_REJECTED: 'EXIT_WORKING',
    EXIT_CANCELED: 'OPEN',
    EXIT_NOT_PLACED: 'EXIT_WORKING',
    CANCEL_REQUEST: 'EXIT_WORKING',
    CANCEL_REJECTED: 'EXIT_WORKING',
    LATE_ENTRY_FILL: 'EXIT_WORKING',
    LATE_EXIT_FILL: 'EXIT_WORKING',
    POSITION_FLAT: 'CLOSED',
    SEND_UNKNOWN: STALE,
    ...RECONCILED,
  },
  CLOSED: {
    ENTER: 'ENTRY_WORKING',
    /** A fill of the closed trade's entry (it raced the cancel) opens a new trade (fills.ts). */
    LATE_ENTRY_FILL: 'OPEN',
    CANCEL_REJECTED: 'CLOSED',
    SEND_UNKNOWN: STALE,
    ADOPT: 'OPEN',
    ...RECONCILED,
  },
  STALE_STATE_RECONCILING: {
    ...STALE_FACTS,
    SEND_UNKNOWN: STALE,
    ADOPT: 'OPEN',
    ...RECONCILED,
  },
};

/** The next state, or undefined when the table does not allow `event` in `state`. */
export function transition(state: SlotState, event: SlotEvent): SlotState | undefined {
  return TABLE[state][event];
}

/** Every (state, event) pair of the table, for tests and documentation. */
export function transitionPairs(): Array<[SlotState, SlotEvent, SlotState]> {
  const out: Array<[SlotState, SlotEvent, SlotState]> = [];
  for (const state of Object.keys(TABLE) as SlotState[]) {
    for (const [event, next] of Object.entries(TABLE[state]) as Array<[SlotEvent, SlotState]>) out.push([state, event, next]);
  }
  return out;
}
