// `pink restart`: full restart reconcile. Stop the engine gracefully (SIGTERM, wait), start it
// detached from run.json (or through a supervisor), wait for its startup reconcile, report it.
import { homePaths } from '../config.js';
import { EXIT, ExitError, unreachableError, usageError } from '../errors.js';
import type { ReconcileReport } from '../engine/runner/engine-types.js';
import { qtyText, tidyNumbers } from '../engine/runner/health.js';
import { settingLine } from '../engine/runner/kernel-glue.js';
import { processAlive, readPid, runningEnginePid } from '../engine/runner/lock.js';
import { askEngine } from '../engine/runner/socket.js';
import { readRunJson } from '../engine/runner/run-json.js';
import { checkVenueAuthorization } from '../engine/venue/authorize.js';
import { checkSignalsFile, runArgv, startDetached } from './run.js';
import type { CommandRun, Context } from './types.js';

async function waitGone(pid: number, timeout_ms: number): Promise<boolean> {
  const deadline = Date.now() + timeout_ms;
  while (Date.now() < deadline) {
    if (!processAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return !processAlive(pid);
}

/** Waits for an engine other than `oldPid` to answer, then returns its startup reconcile report. */
async function waitForReport(socket: string, oldPid: number | undefined, timeout_ms: number): Promise<ReconcileReport> {
  const deadline = Date.now() + timeout_ms;
  while (Date.now() < deadline) {
    const status = await askEngine(socket, { op: 'status' }, 1000);
    const pid = status?.ok ? (status.data as { engine: { pid: number } }).engine.pid : undefined;
    if (pid !== undefined && pid !== oldPid) {
      const report = await askEngine(socket, { op: 'report' }, 2000);
      if (report?.ok && report.data) return report.data as ReconcileReport;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw unreachableError(`the engine did not come back within ${Math.round(timeout_ms / 1000)} s.`, 'See the engine log (DOLPHIN_LOG_DIR/dolphin_live_pink.log) and `pink ditav2-status`.');
}

function slotLine(s: Record<string, unknown> | undefined): string {
  if (!s) return '(none)';
  return `${String(s['state'])}${Number(s['qty'] ?? 0) > 0 ? ` ${String(s['side'])} ${qtyText(Number(s['qty']))}` : ''}`;
}

export function renderReport(r: ReconcileReport): string {
  const lines: string[] = ['restart reconcile report'];
  const before = r.before as Record<string, unknown>[];
  const after = r.after as Record<string, unknown>[];
  for (const a of after) {
    const b = before.find((x) => x['symbol'] === a['symbol']);
    lines.push(`  ${String(a['symbol']).padEnd(12)} ${slotLine(b)} -> ${slotLine(a)}`);
  }
  for (const ch of r.settings_changed ?? []) lines.push(`  setting     ${settingLine(ch)}`);
  if (r.corrections.length === 0) lines.push('  corrections: none (PINK and the venue already agreed)');
  for (const c of r.corrections) lines.push(`  correction  ${c.kind.padEnd(14)} ${c.symbol.padEnd(12)} ${tidyNumbers(c.detail)}`);
  for (const c of r.corrections) {
    if (c.kind === 'orphan_flagged') lines.push(`  action: ${c.symbol} is held at the venue but not by PINK: close it with \`pink flatten ${c.symbol}\` (it adopts, then exits), then \`pink ditav2-status\`.`);
    if (c.kind === 'position_mismatch') lines.push(`  action: ${c.symbol}: the venue's position is not PINK's (another system traded it): close it with \`pink flatten ${c.symbol} --venue-position\` (it shows both sizes before sending), then \`pink ditav2-status\`.`);
  }
  const accepted = r.drift_accepted ?? 0;
  lines.push(`  drift: ${r.drift === null ? '-' : `${(Math.abs(r.drift) < 5e-5 ? 0 : r.drift).toFixed(4)} USDT`}${accepted !== 0 ? ` (${accepted.toFixed(2)} accepted by an operator)` : ''}`);
  lines.push(r.converged ? '  CONVERGED' : '  NOT CONVERGED: divergences remain that need an operator (see above)');
  return lines.join('\n');
}

/** Issue 19: the restart's audit row (origin operator), written by the engine that came back. */
async function audited(socket: string, report: ReconcileReport): Promise<ReconcileReport> {
  const { operatorAudit } = await import('../engine/runner/control.js');
  await askEngine(socket, { op: 'audit', operator: operatorAudit('restart', []) }, 5_000);
  return report;
}

function result(report: ReconcileReport, extra: Record<string, unknown>) {
  return {
    exit: report.converged ? EXIT.OK : EXIT.BAD,
    data: { before: report.before, after: report.after, corrections: report.corrections, drift: report.drift, drift_accepted: report.drift_accepted ?? 0, converged: report.converged, settings_changed: report.settings_changed ?? [], ...extra },
    text: renderReport(report),
  };
}

/** What every path of a restart shares: the home, the bound, the recorded run and the symbols. */
interface RestartPlan {
  ctx: Context;
  paths: ReturnType<typeof homePaths>;
  timeout_s: number;
  timeout_ms: number;
  say: (line: string) => void;
  recorded: ReturnType<typeof readRunJson> | undefined;
  oldPid: number | undefined;
  symbols: string[];
}

export const run: CommandRun = async (ctx: Context, _args, opts) => {
  const paths = homePaths(ctx.config.home);
  const timeoutRaw = String(opts['timeout'] ?? '30');
  const timeout_s = Number(timeoutRaw);
  if (!Number.isFinite(timeout_s) || timeout_s <= 0) throw usageError(`--timeout "${timeoutRaw}" is not a number of seconds.`, 'Use --timeout 30.');
  const supervisor = typeof opts['supervisor'] === 'string' ? opts['supervisor'] : ctx.config.supervisor_cmd;
  // run.json is reused unless a supervisor starts the engine its own way: then it passes the same
  // checks and gate as the environment, before anything is stopped.
  const ours = !supervisor || opts['start'] === false;
  const recorded = ours ? readRunJson(paths.runJson) : undefined;
  if (ours) {
    checkVenueAuthorization({ ...ctx.config, ...(recorded ? { venue: recorded.venue, symbols: recorded.symbols } : {}) }, recorded?.live ?? false);
    if (recorded?.signals && opts['start'] !== false) checkSignalsFile(recorded.signals, `${paths.runJson}: signals`);
  }
  const plan: RestartPlan = {
    ctx,
    paths,
    timeout_s,
    timeout_ms: timeout_s * 1000,
    say: (line) => ctx.io.stderr(line),
    recorded,
    oldPid: runningEnginePid(paths.pid),
    // The recorded symbols, unless DOLPHIN_PINK_SYMBOLS is set here: "add the symbol and restart"
    // (UNKNOWN_SYMBOL's response) must take effect; the kernel reports it as a changed setting.
    symbols: ctx.env['DOLPHIN_PINK_SYMBOLS'] !== undefined ? ctx.config.symbols : (recorded?.symbols ?? ctx.config.symbols),
  };
  if (opts['start'] === false) return reconcileOffline(plan);
  if (supervisor) return restartBySupervisor(plan, supervisor);
  return restartOurs(plan);
};

/** --no-start: the engine is down; one reconcile offline, under the pid lock. */
async function reconcileOffline(p: RestartPlan) {
  const { ctx, paths, recorded } = p;
  if (p.oldPid !== undefined) throw usageError(`--no-start reconciles offline, but the engine is running (pid ${p.oldPid}).`, 'Run `pink restart` without --no-start, or stop the engine first.');
  p.say('pink: engine down; reconciling once offline (--no-start)...');
  const { openEngine } = await import('../engine/runner/main.js');
  const { acquirePidLock } = await import('../engine/runner/lock.js');
  const lock = acquirePidLock(paths.pid);
  try {
    const opened = await openEngine({
      config: { ...ctx.config, symbols: p.symbols, ...(recorded ? { venue: recorded.venue } : {}) },
      env: ctx.env,
      bin: ctx.bin,
      strategy: recorded?.strategy ?? 'demo',
      seed: recorded?.seed ?? 1,
      live: recorded?.live ?? false,
    });
    try {
      const report = await opened.engine.reconcile(undefined, true);
      return result(report, { started: false });
    } finally {
      await opened.close();
    }
  } finally {
    lock.release();
  }
}

/** The supervisor restarts the engine its own way; we wait for the new one's startup reconcile. */
async function restartBySupervisor(p: RestartPlan, supervisor: string) {
  p.say(`pink: restarting through the supervisor: ${supervisor}`);
  const { execaCommand } = await import('execa');
  const r = await execaCommand(supervisor, { shell: true, reject: false, timeout: p.timeout_ms, env: p.ctx.env as NodeJS.ProcessEnv });
  if (r.exitCode !== 0) throw new ExitError(EXIT.BAD, `the supervisor command exited ${String(r.exitCode)}: ${String(r.stderr || r.stdout).split('\n')[0]}`, 'Check the supervisor program name and its logs.');
  p.say('pink: waiting for the engine to come back and reconcile...');
  return result(await audited(p.paths.socket, await waitForReport(p.paths.socket, p.oldPid, p.timeout_ms)), { started: true, via: 'supervisor' });
}

/** We start the new engine detached from run.json (stopping the old one, if any, meanwhile). */
async function restartOurs(p: RestartPlan) {
  const { ctx, paths, recorded, oldPid } = p;
  let newPid: number | undefined;
  const { sayOnCtrlC } = await import('./interrupt.js');
  sayOnCtrlC(ctx, () =>
    newPid === undefined
      ? `${oldPid !== undefined ? `The engine (pid ${oldPid}) may have been asked to stop; it stops by itself (store flushed, checkpoint written). ` : ''}A new engine was being started (detached): if it comes up, it finishes its startup reconcile by itself. Check: pink ditav2-status (run \`pink restart\` again if no engine answers).`
      : `The new engine (pid ${newPid}) is up and finishes its startup reconcile by itself; read the result with \`pink ditav2-status\`.`,
  );
  if (oldPid === undefined) {
    const stale = readPid(paths.pid);
    p.say(stale !== undefined ? `pink: engine down (stale pid file ${stale}); starting it...` : 'pink: engine down; starting it...');
    // The history the engine would start from, verified here first: a damaged journal or a missing
    // history is exit 2 naming the file and the fix, before anything starts (the engine checks again).
    const { locateHistory } = await import('../engine/runner/history.js');
    locateHistory(paths);
  }
  const argv = runArgv({
    home: ctx.config.home,
    venue: recorded?.venue ?? ctx.config.venue,
    symbols: p.symbols,
    strategy: recorded?.strategy ?? 'demo',
    ...(recorded?.signals ? { signals_path: recorded.signals } : {}),
    seed: recorded?.seed ?? 1,
    live: recorded?.live ?? false,
  });
  const started = oldPid === undefined ? await startDetached(ctx, argv, ctx.config.home, p.timeout_ms) : await replaceRunning(p, oldPid, argv);
  newPid = started.pid;
  p.say(`pink: engine up again (pid ${started.pid}); startup reconcile report follows.`);
  return result(await audited(paths.socket, await waitForReport(paths.socket, oldPid, p.timeout_ms)), { started: true, pid: started.pid });
}

/**
 * Issue 21: the new engine process starts first and loads its code (most of a start's CPU) while
 * the old one stops gracefully; it touches nothing (journal, store, pid file) until the old pid
 * is gone, and checks the history then, as any start does.
 */
async function replaceRunning(p: RestartPlan, oldPid: number, argv: string[]): Promise<Awaited<ReturnType<typeof startDetached>>> {
  p.say(`pink: stopping the engine (pid ${oldPid}) gracefully; the new one loads meanwhile...`);
  let stopSent = false;
  const stop = (): void => {
    stopSent = true;
    try {
      process.kill(oldPid, 'SIGTERM');
    } catch {
      // Gone already (it stopped or crashed meanwhile): the new engine starts all the same.
    }
  };
  try {
    return await startDetached(p.ctx, argv, p.ctx.config.home, p.timeout_ms, { pid: oldPid, stop });
  } catch (err) {
    if (stopSent && processAlive(oldPid) && !(await waitGone(oldPid, 1_000))) {
      throw new ExitError(EXIT.BAD, `the engine (pid ${oldPid}) did not stop within ${p.timeout_s} s.`, `Look at it (pink ditav2-status); if it is hung, kill -9 ${oldPid} and run pink restart again.`);
    }
    throw err;
  }
}
