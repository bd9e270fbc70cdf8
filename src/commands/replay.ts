// `pink replay`: re-run the kernel offline over the checkpoint and journal; exit 0 identical,
// 1 diverged (the first input where it did, with the state before and after).
import { resolve } from 'node:path';
import { homePaths } from '../config.js';
import { EXIT, usageError } from '../errors.js';
import { replay } from '../engine/runner/replay.js';
import type { CommandRun } from './types.js';

export const run: CommandRun = async (ctx, _args, opts) => {
  const paths = homePaths(ctx.config.home);
  let until_seq: number | undefined;
  let until_ts: number | undefined;
  if (opts['until'] !== undefined) {
    const raw = String(opts['until']);
    if (/^\d+$/.test(raw)) until_seq = Number(raw);
    else if (!Number.isNaN(Date.parse(raw))) until_ts = Date.parse(raw);
    else throw usageError(`--until "${raw}" is neither a step (journal seq) nor a time.`, 'Use --until 120 or --until 2026-11-26T10:00:00Z.');
  }
  const report = replay({
    journalDir: paths.journal,
    checkpointsDir: paths.checkpoints,
    latestCheckpoint: paths.checkpoint,
    ...(typeof opts['from'] === 'string' ? { from: resolve(opts['from']) } : {}),
    ...(until_seq !== undefined ? { until_seq } : {}),
    ...(until_ts !== undefined ? { until_ts } : {}),
  });
  if (!report) {
    throw usageError(`no checkpoint to replay from under ${ctx.config.home}${typeof opts['from'] === 'string' ? ` (--from ${opts['from']})` : ''}.`, 'Run the engine first (pink run), or point --home / --from at an engine home.');
  }
  const lines = [
    `replayed ${report.inputs} journaled inputs (seq ${report.from_seq} → ${report.last_seq}); every record's checksum verified`,
    `  from ${report.from_checkpoint}`,
    `  outcomes compared with the journal: ${report.outcomes_compared}; states compared with checkpoints: ${report.checkpoints_compared}`,
  ];
  if (report.torn) lines.push(`  note: a torn last record (${report.torn.bytes} bytes at byte ${report.torn.offset} of ${report.torn.path}) was a write a crash cut short, never applied: not replayed (the engine cuts it at its next start)`);
  if (report.identical) lines.push('  IDENTICAL: the same state and the same outcomes as journaled, byte for byte.');
  else {
    const d = report.divergence!;
    lines.push(`  DIVERGED at seq ${d.seq} (${d.kind}): ${d.input ? `${d.input.type} at ${new Date(d.input.ts).toISOString()}` : ''}`);
    lines.push(`  expected ${d.expected}`);
    lines.push(`  actual   ${d.actual}`);
  }
  return {
    exit: report.identical ? EXIT.OK : EXIT.BAD,
    data: { inputs: report.inputs, identical: report.identical, divergence: report.divergence, from_seq: report.from_seq, last_seq: report.last_seq, outcomes_compared: report.outcomes_compared, checkpoints_compared: report.checkpoints_compared, torn: report.torn },
    text: lines.join('\n'),
  };
};
