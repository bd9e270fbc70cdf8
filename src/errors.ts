// Operating errors: one typed error carrying its SPEC exit code and a one-line fix.
// Commands throw it; only src/cli.ts catches and prints it. Programmer errors (impossible
// states) are plain assertion failures and keep their stack.

export const EXIT = {
  OK: 0,
  /** The command ran but the answer is bad: a check failed, not flat in time, degraded. */
  BAD: 1,
  /** Usage or input error, or refused for safety: nothing was sent anywhere. */
  USAGE: 2,
  /** A dependency is unreachable: engine, venue or store. */
  UNREACHABLE: 3,
  /** The engine stopped itself fail-closed (an internal error, a broken invariant, a damaged
   * journal record at run time): nothing was sent after it (SPEC section 6). */
  FAIL_STOP: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class ExitError extends Error {
  readonly code: ExitCode;
  readonly hint: string | undefined;

  constructor(code: ExitCode, message: string, hint?: string) {
    super(message);
    this.name = 'ExitError';
    this.code = code;
    this.hint = hint;
  }
}

export const usageError = (message: string, hint?: string): ExitError =>
  new ExitError(EXIT.USAGE, message, hint);

export const unreachableError = (message: string, hint?: string): ExitError =>
  new ExitError(EXIT.UNREACHABLE, message, hint);

export const failStopError = (message: string, hint?: string): ExitError =>
  new ExitError(EXIT.FAIL_STOP, message, hint);
