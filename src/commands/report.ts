// `pink report [--since 24h|TIME] [--until TIME] [--symbol S] [--json] [--html FILE]`: what the
// window cost and earned (SPEC 6). Every figure is a ClickHouse query (src/engine/observe/sql.ts).
import { resolve } from 'node:path';
import { EXIT, ExitError, usageError } from '../errors.js';
import type { ReportDoc } from '../engine/observe/report.js';
import { observe } from '../engine/observe/source.js';
import { parseWindow } from '../engine/observe/when.js';
import { symbolOption } from './timeline.js';
import type { CommandRun } from './types.js';

export const REPORT_SINCE_DEFAULT = '24h';

export const run: CommandRun = async (ctx, _args, opts) => {
  const w = parseWindow(opts, REPORT_SINCE_DEFAULT, Date.now());
  const symbol = symbolOption(opts['symbol']);
  if (opts['html'] !== undefined && (typeof opts['html'] !== 'string' || opts['html'].trim() === '')) throw usageError('--html needs a file name.', 'Use --html report.html.');
  const { data, via } = await observe<ReportDoc>(ctx.config, { op: 'pnl_report', ...w, ...(symbol ? { symbol } : {}) }, async (store, scope) => (await import('../engine/observe/report.js')).report(store, scope));
  ctx.io.stderr(via === 'engine' ? 'pink: asked the running engine.' : 'pink: engine down: read from the store.');
  if (typeof opts['html'] === 'string') {
    const file = resolve(opts['html']);
    const [{ renderHtml }, { writeFileAtomic }] = await Promise.all([import('../engine/observe/html.js'), import('../engine/fsutil.js')]);
    try {
      writeFileAtomic(file, renderHtml(data, new Date().toISOString()));
    } catch (err) {
      throw new ExitError(EXIT.USAGE, `--html ${file} cannot be written: ${err instanceof Error ? err.message : String(err)}`, 'Give a path in a folder that exists and is writable.');
    }
    ctx.io.stderr(`pink: wrote ${file} (one self-contained page; open it in a browser, no network needed).`);
  }
  if (ctx.json) return { exit: EXIT.OK, data, text: '' };
  const { renderReport } = await import('../engine/observe/report.js');
  return { exit: EXIT.OK, data, text: await renderReport(data) };
};
