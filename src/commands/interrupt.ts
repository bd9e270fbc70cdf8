// Issue 18 polish: Ctrl-C during `flatten` / `restart` says what was done, what was not, and what
// the engine will still finish by itself, then exits 1 (not done, as far as this command knows).
import { EXIT } from '../errors.js';
import type { Context } from './types.js';

/** Until the returned function is called, SIGINT prints `describe()` and exits 1. */
export function sayOnCtrlC(ctx: Context, describe: () => string): () => void {
  const handler = (): void => {
    ctx.io.stderr(`\npink: interrupted (Ctrl-C). ${describe()}`);
    process.exit(EXIT.BAD);
  };
  process.once('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}
