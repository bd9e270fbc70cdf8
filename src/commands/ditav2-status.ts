// `pink ditav2-status`: asked over the control socket when the engine is up; read from the last
// checkpoint (and said so) when it is down. Loads neither ccxt nor chDB.
import { qtyText, tidyNumbers } from '../engine/runner/health.js';
import { fitTable, termWidth, wrap } from './text-fit.js';
import { homePaths, type Config } from '../config.js';
import { EXIT } from '../errors.js';
import { askEngine } from '../engine/runner/socket.js';
import type { StatusDoc } from '../engine/runner/status-data.js';
// Types only: the engine-down path alone loads the kernel (below).
import type { Kernel } from '../engine/kernel/index.js';
import type { CommandResult, CommandRun, Context } from './types.js';

/** The status document, from the engine or from the checkpoint. */
export async function collectStatus(config: Config): Promise<StatusDoc | undefined> {
  const paths = homePaths(config.home);
  const answer = await askEngine(paths.socket, { op: 'status' }, 3000);
  if (answer?.ok) return answer.data as StatusDoc;
  // Engine down. Only this path loads the kernel (about 30 ms of module loading): an operator
  // asking a running engine waits for nothing but the socket.
  const [{ locateHistory, stoppedPath }, { readFailStop, failStopReason }, { readPid }, { buildStatus }, { spooledOnDisk }] = await Promise.all([
    import('../engine/runner/history.js'),
    import('../engine/runner/failstop.js'),
    import('../engine/runner/lock.js'),
    import('../engine/runner/status-data.js'),
    import('../engine/store/spool.js'),
  ]);
  // The checkpoint (a kept one if checkpoint.json is lost), then the journal after it, verified:
  // the last state the kernel reached before the engine stopped, offline, without sending anything.
  // A damaged record or a missing history is exit 2 here (history.ts), never read past.
  const history = locateHistory(paths);
  const cp = history.checkpoint;
  const stopped = readFailStop(stoppedPath(paths));
  if (!cp) return stopped ? failStopOnly(config, failStopReason(stopped), stopped) : undefined;
  const { Kernel } = await import('../engine/kernel/index.js');
  const first: string[] = stopped ? [`${failStopReason(stopped)}; next: ${stopped.next.join('; ')}`] : [];
  const { kernel, seq } = replayAfter(Kernel, cp, history.records, first);
  const view = kernel.view();
  const spool = spooledOnDisk(paths.spool);
  return buildStatus(
    view,
    {
      up: false,
      pid: readPid(paths.pid) ?? null,
      uptime_s: null,
      venue: config.venue,
      namespace: config.namespace,
      history_id: view.history_id,
      run_id: cp.run_id,
      heartbeat_ts: null,
      heartbeat_age_ms: null,
      steps: cp.runner.steps,
      last_step_ms: null,
      step_ms_p50: null,
      step_ms_p99: null,
      rest_calls: null,
      rss_mb: null,
      heap_used_mb: null,
      heap_total_mb: null,
      seq,
      source: 'checkpoint',
      ...(history.note ? { note: history.note } : {}),
      fail_stop: stopped ?? null,
    },
    {
      backend: config.clickhouse_url ? 'server' : 'chdb',
      database: config.database,
      pending_rows: 0,
      spooled_rows: spool.files,
      last_flush_age_ms: null,
      last_error: spool.files > 0 ? `${spool.files} spooled batch file(s) waiting in ${paths.spool} (rows counted when the engine runs)` : null,
    },
    [],
    config.poll_interval_ms,
    config.max_hold_bars,
    Date.now(),
    first,
  );
}

type History = ReturnType<typeof import('../engine/runner/history.js').locateHistory>;

/**
 * The checkpoint's kernel with the journal's inputs after it applied: the last state the kernel
 * reached. The input a fail-stop failed on is journaled; if one throws, the state is the one
 * before it, and `first` says so.
 */
function replayAfter(K: typeof Kernel, cp: NonNullable<History['checkpoint']>, records: History['records'], first: string[]): { kernel: Kernel; seq: number } {
  const inputs = records.filter((r) => r.t === 'in');
  let kernel = K.restore(cp.kernel);
  let seq = cp.seq;
  for (const [i, rec] of inputs.entries()) {
    try {
      kernel.apply(rec.input);
    } catch (err) {
      first.push(`the journaled input at seq ${rec.seq} fails in the kernel (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): the state shown is the one before it; run pink replay`);
      kernel = K.restore(cp.kernel);
      for (const before of inputs.slice(0, i)) kernel.apply(before.input);
      break;
    }
    seq = rec.seq;
  }
  return { kernel, seq };
}

/** A fail-stop before the first checkpoint (at start): no state to show, only the stop. */
function failStopOnly(config: Config, reason: string, stopped: unknown): StatusDoc {
  return { engine: { up: false, source: 'none', home: config.home, fail_stop: stopped }, healthy: false, reasons: [reason] } as unknown as StatusDoc;
}

const num = (v: unknown, digits = 2): string => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '-';
  // No "-0.00": a value that rounds to zero prints as zero.
  return (Math.abs(v) < 0.5 * 10 ** -digits ? 0 : v).toFixed(digits);
};

/** The slot's trading state, and when not ACTIVE why and since when (a line under the table). */
function tradingLine(s: Record<string, unknown>): string | undefined {
  const st = String(s['trading_state'] ?? '-');
  if (st === 'ACTIVE' || st === '-') return undefined;
  const since = typeof s['trading_state_since'] === 'number' ? new Date(s['trading_state_since']).toISOString().slice(11, 19) : '-';
  return tidyNumbers(`${String(s['symbol'])} ${st} since ${since}: ${String(s['trading_state_reason'] ?? '')}`);
}


/** Human rendering; its table and colour libraries are loaded only here (not for --json). */
export async function renderStatus(doc: StatusDoc, color: boolean): Promise<string> {
  const { Chalk } = await import('chalk');
  const c = new Chalk({ level: color ? 1 : 0 });
  const e = doc.engine;
  const lines: string[] = [];
  const head = e.up
    ? `engine UP  pid ${e.pid}  uptime ${e.uptime_s}s  venue ${e.venue}  namespace ${e.namespace}  history ${e.history_id ?? '-'}\n  heartbeat ${Math.round((e.heartbeat_age_ms ?? 0) / 100) / 10}s ago  steps ${e.steps}  last step ${num(e.last_step_ms, 1)} ms  rss ${num(e.rss_mb, 0)} MB`
    : `engine DOWN (from the last checkpoint and the journal after it, up to seq ${e.seq})\n  history ${e.history_id ?? '-'}  run ${e.run_id ?? '-'}`;
  lines.push(e.up ? c.green(head) : c.red(head));
  if (e.trading_state !== undefined) {
    const t = `trading ${e.trading_state}${e.trading_state !== 'ACTIVE' ? ` since ${e.trading_state_since ? new Date(e.trading_state_since).toISOString() : '-'}: ${e.trading_state_reason || '-'} (pink resume --all)` : ''}`;
    lines.push(e.trading_state === 'ACTIVE' ? t : c.yellow(t));
  }
  if (e.note) lines.push(c.yellow(`note: ${e.note}`));
  if (e.fail_stop) lines.push(c.red(`STOPPED FAIL-CLOSED: ${doc.reasons[0] ?? ''}`));
  const a = doc.account as Record<string, number | null>;
  lines.push(`account  capital ${num(a['capital'])}  realized ${num(a['realized_pnl'])}  fees ${num(a['fees'])}  funding ${num(a['funding'])}\n  equity ${num(a['equity'])}  venue balance ${num(a['venue_balance'])}  drift ${num(a['drift'])} USDT (at last read)`);
  // An accepted drift (`pink accept-drift`) on its own line: the one above stays within 80 columns.
  const accepted = a['drift_accepted'] ?? 0;
  if (accepted !== 0) lines.push(`  drift accepted ${num(accepted)} USDT, unaccepted ${num(a['drift'] === null || a['drift'] === undefined ? null : a['drift'] - accepted)} (pink accept-drift)`);
  const slotRows: string[][] = [];
  const held: string[] = [];
  for (const s of doc.slots as Record<string, unknown>[]) {
    const wo = s['working_order'] as Record<string, unknown> | null | undefined;
    slotRows.push([
      String(s['symbol']),
      String(s['state']),
      String(s['trading_state'] ?? '-'),
      String(s['side'] ?? '-'),
      typeof s['qty'] === 'number' ? qtyText(s['qty']) : '-',
      num(s['avg_entry_price']),
      num(s['unrealized_pnl']),
      String(s['legs'] ?? 0),
      String(s['hold_bars'] ?? 0),
      wo ? `${String(wo['client_order_id'])} ${String(wo['side'] ?? '')} ${typeof wo['qty'] === 'number' ? qtyText(wo['qty']) : '-'}${wo['reduce_only'] ? ' RO' : ''}` : '-',
    ]);
    const t = tradingLine(s);
    if (t) held.push(t);
  }
  lines.push(fitTable(['symbol', 'state', 'trading', 'side', 'qty', 'entry', 'unreal.', 'legs', 'bars', 'working order'], slotRows, termWidth(), ['working order', 'entry', 'bars', 'legs']));
  for (const t of held) lines.push(c.yellow(t));
  // Issue 20: each open position's liquidation price (the venue's) and the mark's distance to it.
  for (const s of doc.slots as Record<string, unknown>[]) {
    if (typeof s['liquidation_price'] !== 'number') continue;
    const d = s['liquidation_distance_pct'];
    const near = doc.reasons.some((r) => r.startsWith(`${String(s['symbol'])} `) && r.includes('liquidation price'));
    const line = `liquidation  ${String(s['symbol'])} at ${String(s['liquidation_price'])}${typeof d === 'number' ? `, the mark ${d.toFixed(2)} % away` : ''}`;
    lines.push(near ? c.red(line) : line);
  }
  if (doc.faults.length > 0) {
    // One line per code, then its last details indented and cut to the width (80 columns).
    const width = termWidth();
    lines.push(fitTable(['fault (15 min)', 'severity', 'count', 'last', 'hint'], doc.faults.map((f) => [f.code, f.severity, String(f.count), `${Math.round((Date.now() - f.last_ts) / 1000)}s ago`, f.hint]), width, ['hint']));
    for (const f of doc.faults) {
      const d = f.last_details as Record<string, unknown> | null;
      const detail = `${f.last_symbol ?? ''} ${String(d?.['reason'] ?? '')}`.trim();
      if (detail) lines.push(...wrap(tidyNumbers(`${f.code}: ${detail}`), Math.max(40, width), '  ', 3));
    }
  } else {
    lines.push('faults (15 min): none');
  }
  const rl = doc.rateLimit as Record<string, unknown>;
  const cooling_s = Math.ceil(Number(rl['cooling_ms'] ?? 0) / 1000);
  // The venue may answer again (the cycle over) while the cooldown after its last refusal still
  // runs: sends (an ENTER among them) are refused for rate until it ends.
  const idle = cooling_s > 0 ? c.yellow(`clear; cooldown ${cooling_s} s more, sends refused until then (pink fault RATE_LIMITED)`) : 'clear';
  lines.push(`rate limit  ${Number(rl['consecutive'] ?? 0) > 0 ? c.yellow(`RATE_LIMITED x${String(rl['consecutive'])}, cooling ${cooling_s} s${rl['persistent'] ? ', PERSISTENT' : ''} (pink fault RATE_LIMITED)`) : idle}`);
  const st = doc.store;
  lines.push(`store  ${st.backend} ${st.database}  pending ${st.pending_rows} rows  spooled ${st.spooled_rows}  last flush ${st.last_flush_age_ms === null ? '-' : `${Math.round(st.last_flush_age_ms / 100) / 10}s ago`}${st.last_error ? `  (${st.last_error})` : ''}`);
  if (doc.venue_contact_age_s != null) lines.push(`venue  last contact ${doc.venue_contact_age_s}s ago  balance read ${doc.venue_balance_age_s == null ? 'never' : `${doc.venue_balance_age_s}s ago`}  failed steps in a row ${doc.failed_steps_in_row ?? 0}`);
  for (const d of doc.divergences ?? []) lines.push(c.red(`diverged  ${d.symbol}: slot ${qtyText(d.pink_qty)}, venue ${qtyText(d.venue_qty)} since ${new Date(d.since_ts).toISOString().slice(11, 19)} (${d.hint})`));
  for (const o of doc.overdue) lines.push(c.yellow(`overdue  ${o.symbol} held ${o.hold_bars} bars > DOLPHIN_MAX_HOLD_BARS ${o.max_hold_bars}: ${o.hint}`));
  // One line when it fits; else each reason on its own lines, wrapped to the width.
  const cols = termWidth();
  const unhealthy = tidyNumbers(`NOT HEALTHY: ${doc.reasons.join('; ')}`);
  const verdict = doc.healthy ? 'HEALTHY' : unhealthy.length <= cols ? unhealthy : ['NOT HEALTHY:', ...doc.reasons.flatMap((r) => wrap(tidyNumbers(r), cols, '  ', 10))].join('\n');
  lines.push(doc.healthy ? c.green(verdict) : c.red(verdict));
  return lines.join('\n');
}

function exitOf(doc: StatusDoc): 0 | 1 | 3 {
  if (!doc.engine.up || doc.venue_down) return EXIT.UNREACHABLE;
  return doc.healthy ? EXIT.OK : EXIT.BAD;
}

async function once(ctx: Context): Promise<CommandResult> {
  const doc = await collectStatus(ctx.config);
  if (!doc) {
    const data = { engine: { up: false, source: 'none', home: ctx.config.home }, healthy: false, reasons: ['engine down and no checkpoint in this home: it never ran here (`pink run` starts it)'] };
    return { exit: EXIT.UNREACHABLE, data, text: `engine DOWN: no engine and no checkpoint under ${ctx.config.home}.\n  next: pink run (or pink run --detach)` };
  }
  if (doc.engine.source === 'none') return { exit: EXIT.UNREACHABLE, data: doc, text: `engine DOWN: ${doc.reasons.join('; ')}` };
  return { exit: exitOf(doc), data: doc, text: ctx.json ? '' : await renderStatus(doc, ctx.color) };
}

export const run: CommandRun = async (ctx, _args, opts) => {
  if (opts['watch'] === undefined) return once(ctx);
  const every_s = opts['watch'] === true ? 2 : Number(opts['watch']);
  if (!Number.isFinite(every_s) || every_s <= 0) {
    const { usageError } = await import('../errors.js');
    throw usageError(`--watch "${String(opts['watch'])}" is not a number of seconds.`, 'Use --watch or --watch 5.');
  }
  let stop = false;
  const onSignal = (): void => {
    stop = true;
  };
  process.once('SIGINT', onSignal);
  let last: CommandResult = await once(ctx);
  while (!stop) {
    if (ctx.json) ctx.io.stdout(JSON.stringify(last.data));
    // Screen codes only on a terminal: into a pipe or a file, each refresh is a block of its own.
    else if (process.stdout.isTTY) ctx.io.stdout(`\x1b[2J\x1b[H${last.text}\n(refreshing every ${every_s}s; Ctrl-C to stop)`);
    else ctx.io.stdout(`${last.text}\n`);
    await new Promise((r) => setTimeout(r, every_s * 1000));
    if (!stop) last = await once(ctx);
  }
  process.off('SIGINT', onSignal);
  // Everything was printed while watching; only the exit code is left to give.
  return { ...last, text: '', data: undefined };
};
