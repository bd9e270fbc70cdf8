// The engine's lifecycle as ONE transition table (STYLE "State machines in the open"; the kernel's
// slot table, kernel/transitions.ts, is the model). Before it, the order of three mutable fields
// (`stopping`, `failure`, `must_reconcile`) decided what the step loop, a control action and a
// signal handler were allowed to do; now each of them fires an event and the table says where
// that leads. A pair the table lacks is a bug: LifecycleAssertionError names both, and the loop
// classifies it as an internal error (fail closed).
//
//   state     | event         | next      | does
//   STARTING  | LOOP_START    | RUNNING   | restore, replay and the startup reconcile are done; the loop begins
//   STARTING  | DISK_FULL     | STARTING  | the start's own reconcile throws the append's error: the start fails
//   STARTING  | CLOSE         | STOPPED   | an offline reconcile or flatten (restart --no-start) is done
//   RUNNING   | STEP          | RUNNING   | the loop admits one step (poll, feed, decide, send)
//   RUNNING   | DISK_FULL     | HOLDING   | a journal append failed for a full disk: no intent until a reconcile
//   RUNNING   | STOP          | STOPPING  | SIGINT/SIGTERM, --steps, --duration, `pink stop`
//   RUNNING   | CLOSE         | STOPPED   | the loop threw an operating error (a refused key): exit 2
//   HOLDING   | RECONCILE_HOLD| HOLDING   | the loop admits one full reconcile (at most every HOLD_RETRY_MS)
//   HOLDING   | DISK_FULL     | HOLDING   | the disk is still full
//   HOLDING   | RECONCILED    | RUNNING   | the venue's truth settled what the failed append lost: trading resumes
//   HOLDING   | STOP          | STOPPING  | as from RUNNING
//   HOLDING   | CLOSE         | STOPPED   | as from RUNNING
//   STOPPING  | STOP          | STOPPING  | a second stop: the first reason stands
//   STOPPING  | DISK_FULL     | STOPPING  | a step or an action admitted before the stop failed to append
//   STOPPING  | RECONCILED    | STOPPING  | a hold's reconcile admitted before the stop went through
//   STOPPING  | CLOSE         | STOPPED   | drained, checkpointed, closed: exit 0
//   any       | FAIL          | FAILED    | an internal error: no input, no send from here on (the first failure stands)
//   FAILED    | LOOP_START, STOP, DISK_FULL, RECONCILED, CLOSE | FAILED | the failure stands; the loop records it (exit 4)
//
// A step admitted while RUNNING may find the engine HOLDING or STOPPING by the time its turn
// comes (it waits behind control actions, engine.serialize): it then runs without deciding, as a
// step in flight finishes. STEP itself is never admitted in any state but RUNNING.

/** Why a graceful stop was asked for (RunSummary.stopped_by). */
export type StopReason = 'signal' | 'steps' | 'duration' | 'control';

export type LifecycleState = 'STARTING' | 'RUNNING' | 'HOLDING' | 'STOPPING' | 'STOPPED' | 'FAILED';

export type LifecycleEvent = 'LOOP_START' | 'STEP' | 'RECONCILE_HOLD' | 'DISK_FULL' | 'RECONCILED' | 'STOP' | 'FAIL' | 'CLOSE';

type Table = { readonly [S in LifecycleState]: Readonly<Partial<Record<LifecycleEvent, LifecycleState>>> };

const TABLE: Table = {
  STARTING: { LOOP_START: 'RUNNING', DISK_FULL: 'STARTING', CLOSE: 'STOPPED', FAIL: 'FAILED' },
  RUNNING: { STEP: 'RUNNING', DISK_FULL: 'HOLDING', STOP: 'STOPPING', CLOSE: 'STOPPED', FAIL: 'FAILED' },
  HOLDING: { RECONCILE_HOLD: 'HOLDING', DISK_FULL: 'HOLDING', RECONCILED: 'RUNNING', STOP: 'STOPPING', CLOSE: 'STOPPED', FAIL: 'FAILED' },
  STOPPING: { STOP: 'STOPPING', DISK_FULL: 'STOPPING', RECONCILED: 'STOPPING', CLOSE: 'STOPPED', FAIL: 'FAILED' },
  // An error that reaches the process's handlers after the close is still recorded (never thrown
  // from a handler); nothing runs after it either way.
  STOPPED: { FAIL: 'FAILED' },
  FAILED: { LOOP_START: 'FAILED', STOP: 'FAILED', DISK_FULL: 'FAILED', RECONCILED: 'FAILED', CLOSE: 'FAILED', FAIL: 'FAILED' },
};

/** What each state allows the engine, besides its moves: a new state is a compile error until it has a row here. */
export interface LifecycleRule {
  /** Inputs may be journaled and applied (a step, a reconcile, a control action). */
  readonly takes_input: boolean;
  /** The kernel's commands may be sent to the venue. */
  readonly sends: boolean;
  /** The step loop goes on (a step or a hold's reconcile per period). */
  readonly loops: boolean;
  /** A step may turn the strategy's signals into intents. */
  readonly decides: boolean;
}

export const LIFECYCLE_RULES: { readonly [S in LifecycleState]: LifecycleRule } = {
  STARTING: { takes_input: true, sends: true, loops: false, decides: false },
  RUNNING: { takes_input: true, sends: true, loops: true, decides: true },
  HOLDING: { takes_input: true, sends: true, loops: true, decides: false },
  // Control actions and a step queued before the stop finish (main.ts drains them).
  STOPPING: { takes_input: true, sends: true, loops: false, decides: false },
  STOPPED: { takes_input: false, sends: false, loops: false, decides: false },
  FAILED: { takes_input: false, sends: false, loops: false, decides: false },
};

export const LIFECYCLE_STATES = Object.keys(TABLE) as LifecycleState[];
export const LIFECYCLE_EVENTS: readonly LifecycleEvent[] = ['LOOP_START', 'STEP', 'RECONCILE_HOLD', 'DISK_FULL', 'RECONCILED', 'STOP', 'FAIL', 'CLOSE'];

/** A lifecycle move the table does not have: a bug in the runner, never an operating error. */
export class LifecycleAssertionError extends Error {
  constructor(from: LifecycleState, event: LifecycleEvent | 'input' | 'send') {
    super(`engine lifecycle: ${event} is not allowed in ${from}`);
    this.name = 'LifecycleAssertionError';
  }
}

/** The engine stopped fail-closed: it takes no input and sends nothing more (main.ts exits 4). */
export class EngineStoppedError extends Error {
  constructor(seq: number) {
    super(`the engine stopped on an internal error at seq ${seq}: it takes no more input and sends nothing`);
    this.name = 'EngineStoppedError';
  }
}

/** The state `event` leads to from `from`; throws LifecycleAssertionError when the table lacks the pair. */
export function lifecycleTransition(from: LifecycleState, event: LifecycleEvent): LifecycleState {
  const to = TABLE[from][event];
  if (to === undefined) throw new LifecycleAssertionError(from, event);
  return to;
}

/** Why the engine stopped fail-closed; `in_apply`: the kernel threw mid-input (its state is not to be checkpointed). */
export interface EngineFailure {
  error: unknown;
  seq: number;
  in_apply: boolean;
}

/** One engine's lifecycle: its state, and what the first STOP and the first FAIL carried. */
export class Lifecycle {
  #state: LifecycleState = 'STARTING';
  #stopReason: StopReason | undefined;
  #failure: EngineFailure | undefined;

  get state(): LifecycleState {
    return this.#state;
  }

  get rule(): LifecycleRule {
    return LIFECYCLE_RULES[this.#state];
  }

  /** The first failure, once FAILED (later ones do not replace it). */
  get failure(): EngineFailure | undefined {
    return this.#failure;
  }

  /** The first stop's reason (later stops and a failure do not replace it). */
  get stopReason(): StopReason | undefined {
    return this.#stopReason;
  }

  /** Moves by the table; throws LifecycleAssertionError for a pair it lacks. */
  fire(event: Exclude<LifecycleEvent, 'STOP' | 'FAIL'>): LifecycleState {
    this.#state = lifecycleTransition(this.#state, event);
    return this.#state;
  }

  /** The loop's next round: a step while RUNNING, a full reconcile while HOLDING; an assertion in any other state. */
  admitRound(): 'step' | 'reconcile' {
    return this.fire(this.#state === 'HOLDING' ? 'RECONCILE_HOLD' : 'STEP') === 'HOLDING' ? 'reconcile' : 'step';
  }

  /**
   * A stop request; true when it is the first (its reason is the one reported). A stop that
   * comes after a failure is still remembered as asked for; the failure decides the exit.
   */
  stop(why: StopReason): boolean {
    this.#state = lifecycleTransition(this.#state, 'STOP');
    if (this.#stopReason !== undefined) return false;
    this.#stopReason = why;
    return true;
  }

  /** An internal error: FAILED from any state; the first failure stands. */
  fail(failure: EngineFailure): void {
    this.#state = lifecycleTransition(this.#state, 'FAIL');
    this.#failure ??= failure;
  }

  /** Before an input is journaled: refused once FAILED (EngineStoppedError) or closed (an assertion). */
  assertTakesInput(): void {
    if (this.rule.takes_input) return;
    throw this.#refusal('input');
  }

  /** Before a command is sent: as assertTakesInput. */
  assertSends(): void {
    if (this.rule.sends) return;
    throw this.#refusal('send');
  }

  #refusal(what: 'input' | 'send'): Error {
    if (this.#failure) return new EngineStoppedError(this.#failure.seq);
    return new LifecycleAssertionError(this.#state, what);
  }
}

/** The lifecycle as the engine shows it: every move but FAIL, which goes through Engine.markFailed (it also drops what was to be sent). */
export type EngineLifecycle = Omit<Lifecycle, 'fail'>;
