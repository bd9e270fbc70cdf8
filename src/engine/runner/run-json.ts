// $PINK_HOME/run.json: the run configuration the engine records at start, which `pink restart`
// starts again and `pink flatten` (engine down) reuses. Read back, it is input like the
// environment: every field is validated the same way (venue, symbols, strategy, signals file,
// seed, --live), and a file that does not pass is exit 2 naming it and the fix, before anything
// is stopped, started or sent.
import { closeSync, readFileSync } from 'node:fs';
import { parseSymbols, parseVenue, type VenueName } from '../../config.js';
import { ExitError, usageError } from '../../errors.js';
import { openReadNoFollow } from './private-fs.js';

export interface RunJson {
  venue: VenueName;
  symbols: string[];
  strategy: 'demo' | 'signals';
  signals: string | null;
  seed: number;
  live: boolean;
}

/** Bound on run.json's size: a few hundred bytes when PINK writes it. */
const RUN_JSON_BYTES_MAX = 64 * 1024;

/** The validated run.json at `path`, or undefined when there is none. */
export function readRunJson(path: string): RunJson | undefined {
  const fix = `Move ${path} aside (\`pink restart\` then starts the engine from the current settings), or restore the one PINK wrote.`;
  const refuse = (why: string): never => {
    throw usageError(`${path} is refused: ${why}.`, fix);
  };
  let fd: number | undefined;
  try {
    fd = openReadNoFollow(path);
  } catch (err) {
    refuse(`it cannot be read (${(err as NodeJS.ErrnoException).code === 'ELOOP' ? 'a symlink' : String((err as Error).message)})`);
  }
  if (fd === undefined) return undefined;
  let raw: unknown;
  try {
    const text = readFileSync(fd, 'utf8');
    if (Buffer.byteLength(text) > RUN_JSON_BYTES_MAX) refuse(`it is over ${RUN_JSON_BYTES_MAX} bytes`);
    raw = JSON.parse(text);
  } catch (err) {
    if (err instanceof ExitError) throw err;
    refuse('it is not readable JSON');
  } finally {
    closeSync(fd);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) refuse('it is not a JSON object');
  const o = raw as Record<string, unknown>;
  const source = (field: string): string => `${path}: ${field}`;
  const venue = typeof o['venue'] === 'string' ? parseVenue(o['venue'], source('venue')) : refuse('venue is missing');
  const symbols = Array.isArray(o['symbols']) && o['symbols'].every((x) => typeof x === 'string') ? parseSymbols((o['symbols'] as string[]).join(','), source('symbols')) : refuse('symbols is not a list of symbols');
  const strategy = o['strategy'] === 'demo' || o['strategy'] === 'signals' ? o['strategy'] : refuse(`strategy ${JSON.stringify(o['strategy'])} is not demo or signals`);
  const signals = o['signals'] === null || o['signals'] === undefined ? null : typeof o['signals'] === 'string' && o['signals'].startsWith('/') ? o['signals'] : refuse('signals is not an absolute path');
  if (strategy === 'signals' && signals === null) refuse('strategy signals with no signals file');
  const seed = typeof o['seed'] === 'number' && Number.isSafeInteger(o['seed']) && o['seed'] > 0 ? o['seed'] : refuse('seed is not a positive whole number');
  const live = typeof o['live'] === 'boolean' ? o['live'] : refuse('live is not true or false');
  if (live && venue !== 'bingx-live') refuse(`live is true for venue ${venue}`);
  return { venue, symbols, strategy, signals, seed, live };
}
