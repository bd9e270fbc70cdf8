// `pink flatten SYMBOL | --all`: through the engine when it is up (so the step loop cannot race
// it), directly from the checkpoint when it is down. Confirmation on a terminal unless --yes.
import { createInterface } from 'node:readline/promises';
import { homePaths, normalizeSymbol, type Config } from '../config.js';
import { EXIT, ExitError, usageError } from '../errors.js';
import type { FlattenControl } from '../engine/runner/flatten.js';
import type { FlattenResult } from '../engine/runner/flatten-steps.js';
import { operatorAudit } from '../engine/runner/control.js';
import { tidyNumbers } from '../engine/runner/health.js';
import { runningEnginePid } from '../engine/runner/lock.js';
import { askEngine } from '../engine/runner/socket.js';
import { readRunJson } from '../engine/runner/run-json.js';
import type { CommandRun, Context } from './types.js';

/** The engine's symbols and venue: run.json's (validated like the environment), else the settings. */
function engineRun(ctx: Context): { symbols: string[]; venue: Config['venue'] } {
  const r = readRunJson(homePaths(ctx.config.home).runJson);
  return r ? { symbols: r.symbols, venue: r.venue } : { symbols: ctx.config.symbols, venue: ctx.config.venue };
}

async function confirm(ctx: Context, what: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${what}\nType "yes" to send it: `);
    return answer.trim().toLowerCase() === 'yes';
  } finally {
    rl.close();
  }
}

function render(r: FlattenResult): string {
  const lines = [`flatten ${r.symbol}${r.dry_run ? ' (dry run: nothing sent)' : ''}`];
  if (r.already_flat) {
    lines.push('  already flat: nothing to do.');
    return lines.concat(tradingLine(r)).join('\n');
  }
  if (r.blocked) {
    lines.push(`  NOT FLAT, nothing sent: ${tidyNumbers(r.blocked)}`);
    // Issue 18: the runbook ends in a command that works (older engines' text named none).
    if (!r.blocked.includes('--venue-position')) lines.push(`  the way out: \`pink flatten ${r.symbol} --venue-position\` closes the venue's whole position (it shows both sizes before sending), then \`pink ditav2-status\`.`);
    return lines.concat(tradingLine(r)).join('\n');
  }
  for (const p of r.plan) lines.push(`  plan: ${p.detail}`);
  for (const o of r.orders) lines.push(`  order ${o.client_order_id}: ${o.action} (${o.status})`);
  if (!r.dry_run) {
    lines.push(r.flat ? `  FLAT at the venue; realized ${r.realized.toFixed(4)} USDT (leg recorded as manual_flatten)` : '  NOT FLAT in time: check `pink ditav2-status` and the venue');
  }
  return lines.concat(tradingLine(r)).join('\n');
}

/** Issue 19: the trading state the flatten left, with the command that ends it. */
function tradingLine(r: FlattenResult): string[] {
  if (r.trading_state === undefined) return [];
  const scope = r.trading_scope === 'engine' ? 'the engine' : r.symbol;
  if (r.trading_state === 'ACTIVE') return [`  ${scope} is ACTIVE: the strategy may enter again.`];
  return [`  ${scope} stays ${r.trading_state}: no new entries. To trade again: pink resume ${r.trading_scope === 'engine' ? '--all' : r.symbol}`];
}

async function flattenDown(ctx: Context, symbols: string[], timeout_ms: number, dry_run: boolean, control: FlattenControl, live: boolean): Promise<FlattenResult[]> {
  const paths = homePaths(ctx.config.home);
  if (dry_run) {
    // A plan needs no connection: PINK's books from the last checkpoint and the journal after it
    // (verified; a kept checkpoint if checkpoint.json is lost: history.ts).
    const [{ Kernel }, { locateHistory }, { planFlatten, planResult }] = await Promise.all([import('../engine/kernel/index.js'), import('../engine/runner/history.js'), import('../engine/runner/flatten-steps.js')]);
    const history = locateHistory(paths);
    const kernel = history.checkpoint ? Kernel.restore(history.checkpoint.kernel) : undefined;
    for (const r of history.records) if (r.t === 'in') kernel?.apply(r.input);
    // The same plan the engine prints and executes (flatten-steps.ts), with the venue not read.
    return planFlatten(kernel?.view(), symbols, 'not_read').map((p) => planResult(p, true));
  }
  const { openEngine } = await import('../engine/runner/main.js');
  const { acquirePidLock } = await import('../engine/runner/lock.js');
  const { flattenSymbols } = await import('../engine/runner/flatten.js');
  const lock = acquirePidLock(paths.pid);
  try {
    // The venue run.json names, behind its own gate: bingx-live needs --live, as `pink run --live`.
    const opened = await openEngine({ config: { ...ctx.config, ...engineRun(ctx) }, env: ctx.env, bin: ctx.bin, strategy: 'demo', seed: 1, live });
    try {
      return await flattenSymbols(opened.engine, symbols, timeout_ms, false, control);
    } finally {
      await opened.close();
    }
  } finally {
    lock.release();
  }
}

export const run: CommandRun = async (ctx, args, opts) => {
  const all = opts['all'] === true;
  const dry_run = opts['dryRun'] === true;
  const yes = opts['yes'] === true;
  const timeout_s = Number(opts['timeout'] ?? '20');
  if (!Number.isFinite(timeout_s) || timeout_s <= 0) throw usageError(`--timeout "${String(opts['timeout'])}" is not a number of seconds.`, 'Use --timeout 20.');
  const known = engineRun(ctx).symbols;
  let symbols: string[];
  if (all) {
    if (args[0] !== undefined) throw usageError('give a SYMBOL or --all, not both.', 'pink flatten BTC-USDT, or pink flatten --all.');
    symbols = known;
  } else {
    if (args[0] === undefined) throw usageError('which symbol? none given.', 'pink flatten BTC-USDT, or pink flatten --all.');
    const sym = normalizeSymbol(args[0]);
    if (!sym) throw usageError(`"${args[0]}" is not a symbol.`, 'Use BTC-USDT (also accepted: btc-usdt, BTC/USDT:USDT).');
    if (!known.includes(sym)) throw usageError(`${sym} is not one of PINK's symbols (${known.join(', ')}).`, 'Flatten one of those, or check DOLPHIN_PINK_SYMBOLS.');
    symbols = [sym];
  }
  if (opts['venuePosition'] === true) {
    if (all) throw usageError('--venue-position closes one symbol\'s venue position; give a SYMBOL, not --all.', 'pink flatten BTC-USDT --venue-position');
    const { venuePositionCommand } = await import('./flatten-venue.js');
    return venuePositionCommand(ctx, symbols[0]!, timeout_s * 1000, dry_run, yes, confirm, { resume: opts['resume'] === true, live: opts['live'] === true });
  }
  if (!dry_run && !yes) {
    if (!ctx.io.interactive) throw usageError('refusing to flatten without confirmation: no terminal and no --yes. Nothing was sent.', 'Add --yes to confirm, or --dry-run to see the plan.');
    if (!(await confirm(ctx, `This sends reduce-only market orders to close PINK's position on ${symbols.join(', ')}.`))) {
      throw usageError('not confirmed; nothing was sent.', 'Answer "yes", or pass --yes.');
    }
  }
  const resume = opts['resume'] === true;
  const live = opts['live'] === true;
  const argv = [...(all ? ['--all'] : symbols), ...(resume ? ['--resume'] : []), ...(live ? ['--live'] : [])];
  const control: FlattenControl = { hold: all ? 'engine' : 'symbol', resume, operator: operatorAudit('flatten', argv) };
  const paths = homePaths(ctx.config.home);
  const up = runningEnginePid(paths.pid) !== undefined;
  const { sayOnCtrlC } = await import('./interrupt.js');
  const release = sayOnCtrlC(ctx, () => {
    if (dry_run) return 'Dry run: nothing was sent.';
    const list = symbols.join(', ');
    return up
      ? `${list}: the engine received the flatten and finishes it by itself (cancel, reduce-only orders, wait for flat). Check: pink ditav2-status`
      : `${list}: this command was flattening directly; an order already sent stays at the venue (the journal has it). Run \`pink flatten\` again (safe to repeat). Check: pink ditav2-status`;
  });
  ctx.io.stderr(up ? 'pink: engine up: flattening through the engine.' : 'pink: engine down: flattening directly (checkpoint + reconcile + venue).');
  // Every symbol in one request (issue 21): the engine cancels and closes them side by side.
  let results: FlattenResult[];
  if (up) {
    const answer = await askEngine(paths.socket, { op: 'flatten', symbol: symbols[0]!, symbols, timeout_ms: timeout_s * 1000, dry_run, hold: control.hold, resume, operator: control.operator }, timeout_s * 1000 + 60_000);
    if (!answer) throw new ExitError(EXIT.UNREACHABLE, 'the engine did not answer the flatten request.', 'Check `pink ditav2-status`; retry (flatten is safe to repeat).');
    if (!answer.ok) throw new ExitError(answer.exit === 2 ? EXIT.USAGE : EXIT.BAD, answer.error, answer.hint);
    results = answer.data as FlattenResult[];
  } else {
    results = await flattenDown(ctx, symbols, timeout_s * 1000, dry_run, control, live);
  }
  release();
  const flat = results.every((r) => r.flat || r.dry_run);
  // A refusal (PINK's books do not match the venue: nothing sent) is SPEC's safety refusal, exit 2.
  const exit = flat ? EXIT.OK : results.some((r) => r.blocked) ? EXIT.USAGE : EXIT.BAD;
  const text = results.map(render).join('\n');
  if (!all) {
    const r = results[0]!;
    return { exit, text, data: { symbol: r.symbol, before: r.before, after: r.after, orders: r.orders, flat: r.flat, realized: r.realized, already_flat: r.already_flat, dry_run: r.dry_run, plan: r.plan, ...(r.blocked ? { blocked: r.blocked } : {}), ...(r.trading_state ? { trading_state: r.trading_state, trading_scope: r.trading_scope } : {}) } };
  }
  const last = results[results.length - 1];
  return { exit, text, data: { symbols: results.map((r) => ({ symbol: r.symbol, before: r.before, orders: r.orders, flat: r.flat, realized: r.realized, plan: r.plan })), flat, ...(last?.trading_state ? { trading_state: last.trading_state, trading_scope: last.trading_scope } : {}) } };
};
