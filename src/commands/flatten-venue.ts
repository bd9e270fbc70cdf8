// `pink flatten SYMBOL --venue-position`: the plan (PINK's size and the venue's) is computed once
// and shown; the real run sends it only if the venue still holds the size confirmed. Engine up:
// through the control socket; engine down: a one-off engine from the checkpoint, like flatten.
import { homePaths } from '../config.js';
import { EXIT, ExitError, usageError } from '../errors.js';
import type { VenueFlattenResult } from '../engine/runner/flatten-plan.js';
import type { VenueFlattenControl } from '../engine/runner/flatten-plan.js';
import { operatorAudit } from '../engine/runner/control.js';
import { runningEnginePid } from '../engine/runner/lock.js';
import { askEngine } from '../engine/runner/socket.js';
import type { CommandResult, Context } from './types.js';

type Ask = (dry_run: boolean, expect?: number) => Promise<VenueFlattenResult>;

function viaEngine(ctx: Context, symbol: string, timeout_ms: number, control: VenueFlattenControl): Ask {
  return async (dry_run, expect) => {
    const answer = await askEngine(homePaths(ctx.config.home).socket, { op: 'flatten_venue', symbol, timeout_ms, dry_run, ...(expect !== undefined ? { expect_venue_qty: expect } : {}), resume: control.resume, operator: control.operator }, timeout_ms + 60_000);
    if (!answer) throw new ExitError(EXIT.UNREACHABLE, 'the engine did not answer the flatten request.', 'Check `pink ditav2-status`; retry (nothing is sent unless the venue holds the size confirmed).');
    if (!answer.ok) throw new ExitError(answer.exit === EXIT.USAGE ? EXIT.USAGE : answer.exit === EXIT.UNREACHABLE ? EXIT.UNREACHABLE : EXIT.BAD, answer.error, answer.hint);
    return answer.data as VenueFlattenResult;
  };
}

export async function venuePositionCommand(ctx: Context, symbol: string, timeout_ms: number, dry_run: boolean, yes: boolean, confirm: (ctx: Context, what: string) => Promise<boolean>, opts: { resume: boolean; live: boolean }): Promise<CommandResult> {
  const paths = homePaths(ctx.config.home);
  const control: VenueFlattenControl = { resume: opts.resume, operator: operatorAudit('flatten', [symbol, '--venue-position', ...(opts.resume ? ['--resume'] : []), ...(opts.live ? ['--live'] : [])]) };
  const up = runningEnginePid(paths.pid) !== undefined;
  ctx.io.stderr(up ? 'pink: engine up: flattening the venue position through the engine.' : 'pink: engine down: flattening the venue position directly (checkpoint + venue).');
  const { renderVenueFlatten } = await import('../engine/runner/flatten-plan.js');
  const go = async (ask: Ask): Promise<CommandResult> => {
    const plan = await ask(true);
    if (dry_run) return { exit: EXIT.OK, text: renderVenueFlatten(plan), data: plan };
    if (!yes) {
      if (!ctx.io.interactive) throw usageError(`refusing to close the venue position without confirmation: no terminal and no --yes. Nothing was sent. ${plan.plan.text}`, `Add --yes to confirm, or --dry-run to see the plan.`);
      if (!(await confirm(ctx, `${plan.plan.text}.\nThis closes the VENUE's whole position on ${symbol}, whoever opened it.`))) throw usageError('not confirmed; nothing was sent.', 'Answer "yes", or pass --yes.');
    }
    const r = await ask(false, plan.plan.venue_qty);
    return { exit: r.venue_flat && r.converged ? EXIT.OK : EXIT.BAD, text: renderVenueFlatten(r), data: r };
  };
  if (up) return go(viaEngine(ctx, symbol, timeout_ms, control));
  const [{ openEngine }, { acquirePidLock }, { flattenVenuePosition }, { readRunJson }] = await Promise.all([
    import('../engine/runner/main.js'),
    import('../engine/runner/lock.js'),
    import('../engine/runner/flatten-plan.js'),
    import('../engine/runner/run-json.js'),
  ]);
  const lock = acquirePidLock(paths.pid);
  try {
    const r = readRunJson(paths.runJson);
    const opened = await openEngine({ config: { ...ctx.config, ...(r ? { symbols: r.symbols, venue: r.venue } : {}) }, env: ctx.env, bin: ctx.bin, strategy: 'demo', seed: 1, live: opts.live });
    try {
      return await go((d, expect) => flattenVenuePosition(opened.engine, symbol, timeout_ms, d, expect, control));
    } finally {
      await opened.close();
    }
  } finally {
    lock.release();
  }
}
