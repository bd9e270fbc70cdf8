// `pink fault [CODE]` (SPEC 1 and 4): the fault taxonomy, offline. Loads only the taxonomy table
// and its renderers; chalk only when colour is on, cli-table3 only for the table view,
// fastest-levenshtein only for an unknown code; never the venue or the store, so it answers in an
// incident with no engine, store or network, and starts fast.
import { EXIT, usageError } from '../errors.js';
import { PLAIN, logPaths, renderDetail, renderMarkdown, renderTable, type Paint } from '../engine/faults/render.js';
import { closestFaults, FAULTS, findFault } from '../engine/faults/taxonomy.js';
import type { CommandRun, Context } from './types.js';
import { termWidth } from './text-fit.js';

async function paintFor(ctx: Context): Promise<Paint> {
  if (!ctx.color) return PLAIN;
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: 1 });
  const bySeverity: Record<string, (s: string) => string> = { INFO: c.green, WARNING: c.yellow, ERROR: c.red, CRITICAL: c.bgRed.white };
  return {
    code: (s) => c.bold(s),
    severity: (s) => (bySeverity[s] ?? ((x: string) => x))(s),
    heading: (s) => c.cyan(s),
    dim: (s) => c.dim(s),
  };
}

export const run: CommandRun = async (ctx, args, opts) => {
  const query = args[0];
  const logs = logPaths(ctx.config.log_dir);
  if (query === undefined) {
    const data = { faults: FAULTS, log_paths: logs };
    if (ctx.json) return { exit: EXIT.OK, data, text: '' };
    if (opts['markdown'] === true) return { exit: EXIT.OK, data, text: renderMarkdown(ctx.config.log_dir) };
    const { default: Table } = await import('cli-table3');
    return { exit: EXIT.OK, data, text: renderTable(Table, await paintFor(ctx), termWidth()) };
  }
  const fault = findFault(query);
  if (fault === undefined) {
    throw usageError(
      `unknown fault code ${query}; closest: ${(await closestFaults(query, 3)).join(', ')}`,
      'Run `pink fault` for every code (case-insensitive; section names such as STALE_STATE_RECONCILE work too).',
    );
  }
  const data = { ...fault, log_paths: logs };
  if (opts['markdown'] === true && !ctx.json) {
    // One class as Markdown: the same document, filtered to it.
    return { exit: EXIT.OK, data, text: renderMarkdown(ctx.config.log_dir, [fault]) };
  }
  return { exit: EXIT.OK, data, text: renderDetail(fault, ctx.config.log_dir, await paintFor(ctx)) };
};
