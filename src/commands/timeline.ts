// `pink timeline [--since 30m|TIME] [--until TIME] [--symbol S] [--json]`: what happened, in order
// (SPEC 6). Engine up: the engine answers (its store is its own); engine down: the store directly.
import { normalizeSymbol } from '../config.js';
import { EXIT, usageError } from '../errors.js';
import { observe } from '../engine/observe/source.js';
import type { TimelineDoc } from '../engine/observe/timeline.js';
import { parseWindow } from '../engine/observe/when.js';
import type { CommandRun } from './types.js';

export const TIMELINE_SINCE_DEFAULT = '30m';

/** `--symbol`, normalized (`eth-usdt`, `ETH/USDT:USDT` → ETH-USDT), or a usage error. */
export function symbolOption(raw: unknown): string | undefined {
  if (raw === undefined) return undefined;
  const s = typeof raw === 'string' ? normalizeSymbol(raw) : undefined;
  if (s === undefined) throw usageError(`--symbol "${String(raw)}" is not a USDT perpetual symbol.`, 'Use the form BTC-USDT (also accepted: btc-usdt, BTC/USDT:USDT).');
  return s;
}

export const run: CommandRun = async (ctx, _args, opts) => {
  const w = parseWindow(opts, TIMELINE_SINCE_DEFAULT, Date.now());
  const symbol = symbolOption(opts['symbol']);
  const { data, via } = await observe<TimelineDoc>(ctx.config, { op: 'timeline', ...w, ...(symbol ? { symbol } : {}) }, async (store, scope) => (await import('../engine/observe/timeline.js')).timeline(store, scope));
  ctx.io.stderr(via === 'engine' ? 'pink: asked the running engine.' : 'pink: engine down: read from the store.');
  if (ctx.json) return { exit: EXIT.OK, data, text: '' };
  const { renderTimeline } = await import('../engine/observe/timeline.js');
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: ctx.color ? 1 : 0 });
  return { exit: EXIT.OK, data, text: renderTimeline(data, { warn: c.yellow, bad: c.red, dim: c.dim }) };
};
