// Assertions for programmer errors (TigerBeetle style): an impossible state is a bug, so it
// crashes loudly with both facts in the message; the runner keeps the journal for `pink replay`.
// Bad *inputs* are never asserted on: they are refused with an outcome.

export class KernelAssertionError extends Error {
  constructor(message: string) {
    super(`kernel assertion failed: ${message}`);
    this.name = 'KernelAssertionError';
  }
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new KernelAssertionError(message);
}
