// `pink replay`: the kernel re-run offline over a checkpoint and the journal. Each input's
// outcomes are compared with the digest the engine journaled when it applied that input, and the
// state is compared byte for byte with every later checkpoint kept. No venue, no store. The
// journal is verified first (checksums, seq continuity, that it continues from the start
// checkpoint): a damaged record is exit 2 naming it, never replayed past (journal-read.ts).
import { Kernel } from '../kernel/index.js';
import type { KernelInput } from '../kernel/types.js';
import { listCheckpoints, readCheckpoint, type Checkpoint } from './checkpoint.js';
import { outcomeDigest, readJournal, scanJournal, type TornTail } from './journal.js';

export interface Divergence {
  seq: number;
  input: KernelInput | null;
  /** outcome: a digest differs; state: a kept checkpoint differs; assertion: the kernel threw (the fail-stop reproduced). */
  kind: 'outcome' | 'state' | 'assertion';
  expected: string;
  actual: string;
  before: unknown;
  after: unknown;
}

export interface ReplayReport {
  from_checkpoint: string;
  from_seq: number;
  inputs: number;
  last_seq: number;
  outcomes_compared: number;
  checkpoints_compared: number;
  identical: boolean;
  divergence: Divergence | null;
  /** A torn last record (a write a crash cut short, never applied): not replayed; the engine cuts it at its next start. */
  torn: TornTail | null;
}

export interface ReplayOptions {
  journalDir: string;
  checkpointsDir: string;
  latestCheckpoint: string;
  from?: string;
  until_seq?: number;
  until_ts?: number;
}

/** Picks the start: --from, else the oldest kept checkpoint (the longest stretch to prove). */
function startCheckpoint(o: ReplayOptions): { path: string; cp: Checkpoint } | undefined {
  if (o.from) {
    const cp = readCheckpoint(o.from);
    return cp ? { path: o.from, cp } : undefined;
  }
  const oldest = listCheckpoints(o.checkpointsDir)[0];
  if (oldest) {
    const cp = readCheckpoint(oldest.path);
    if (cp) return { path: oldest.path, cp };
  }
  const cp = readCheckpoint(o.latestCheckpoint);
  return cp ? { path: o.latestCheckpoint, cp } : undefined;
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i += 1;
  return `at char ${i}: expected …${a.slice(Math.max(0, i - 40), i + 60)}… got …${b.slice(Math.max(0, i - 40), i + 60)}…`;
}

export function replay(o: ReplayOptions): ReplayReport | undefined {
  const start = startCheckpoint(o);
  if (!start) return undefined;
  const kernel = Kernel.restore(start.cp.kernel);
  const laterCheckpoints = new Map<number, string>();
  for (const c of listCheckpoints(o.checkpointsDir)) {
    if (c.seq > start.cp.seq) laterCheckpoints.set(c.seq, c.path);
  }
  const report: ReplayReport = {
    from_checkpoint: start.path,
    from_seq: start.cp.seq,
    inputs: 0,
    last_seq: start.cp.seq,
    outcomes_compared: 0,
    checkpoints_compared: 0,
    identical: true,
    divergence: null,
    torn: null,
  };
  const scan = scanJournal(o.journalDir);
  report.torn = scan.torn ?? null;
  const pending = new Map<number, { digest: string; input: KernelInput; before: string }>();
  for (const rec of readJournal(o.journalDir, start.cp.seq, scan)) {
    if (rec.t === 'batch') continue;
    if (rec.t === 'out') {
      const mine = pending.get(rec.seq);
      if (!mine) continue;
      pending.delete(rec.seq);
      report.outcomes_compared += 1;
      if (mine.digest !== rec.digest) {
        report.identical = false;
        report.divergence = { seq: rec.seq, input: mine.input, kind: 'outcome', expected: rec.digest, actual: mine.digest, before: JSON.parse(mine.before), after: JSON.parse(kernel.checkpoint()) };
        return report;
      }
      continue;
    }
    if (o.until_seq !== undefined && rec.seq > o.until_seq) break;
    if (o.until_ts !== undefined && rec.input.ts > o.until_ts) break;
    const before = kernel.checkpoint();
    let outcomes: ReturnType<Kernel['apply']>;
    try {
      outcomes = kernel.apply(rec.input);
    } catch (err) {
      report.inputs += 1;
      report.last_seq = rec.seq;
      report.identical = false;
      const message = err instanceof Error ? `${err.name}: ${err.message.split('\n')[0]}` : String(err);
      report.divergence = { seq: rec.seq, input: rec.input, kind: 'assertion', expected: 'the input applied', actual: message, before: JSON.parse(before), after: null };
      return report;
    }
    pending.set(rec.seq, { digest: outcomeDigest(outcomes), input: rec.input, before });
    // Keep only the newest few pending digests: an input whose digest never came was the last
    // one before a crash, so nothing is lost by forgetting old ones.
    if (pending.size > 64) pending.delete(pending.keys().next().value as number);
    report.inputs += 1;
    report.last_seq = rec.seq;
    const cpPath = laterCheckpoints.get(rec.seq);
    if (cpPath) {
      const expected = readCheckpoint(cpPath)?.kernel ?? '';
      const actual = kernel.checkpoint();
      report.checkpoints_compared += 1;
      if (expected !== actual) {
        report.identical = false;
        report.divergence = { seq: rec.seq, input: rec.input, kind: 'state', expected: cpPath, actual: firstDifference(expected, actual), before: JSON.parse(before), after: JSON.parse(actual) };
        return report;
      }
    }
  }
  return report;
}
