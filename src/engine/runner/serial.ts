// The engine's one queue: steps, reconciles and control actions run one after another, never
// interleaved (each reads and feeds the kernel between awaits). Urgent operator actions are
// counted while they wait, so a step starting meanwhile can skip its optional work (issue 21).
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #urgentWaiting = 0;

  /** Urgent operator actions queued behind the current step (runUrgent). */
  get urgentWaiting(): number {
    return this.#urgentWaiting;
  }

  /** Runs `fn` after everything queued before it, whether that succeeded or failed. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(fn, fn);
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** As run, counted as urgent until it starts (or fails to). */
  runUrgent<T>(fn: () => Promise<T>): Promise<T> {
    this.#urgentWaiting += 1;
    let started = false;
    const begin = (): void => {
      if (!started) this.#urgentWaiting -= 1;
      started = true;
    };
    return this.run(async () => {
      begin();
      return fn();
    }).finally(begin);
  }
}
