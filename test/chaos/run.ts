// `npm run chaos -- --seeds N --seconds S [--seed K] [--first K] [--symbols A,B] [--jobs N] [--keep] [--verbose]`
// Runs seeds (each its own simulator, engine, home and ports; `--jobs N` runs N of them at a time,
// default 1), one line per seed as it ends and a closing `N passed, M failed`; a failing seed prints
// its failed checks and the command that re-runs exactly that seed. Exit 0 iff every seed passed.
// Importable: runChaos() for tests.
import { tmpdir } from 'node:os';
import { pathToFileURL } from 'node:url';
import { DEFAULT_CHAOS_SYMBOLS, runSeed, seedLine, type SeedResult } from './harness.js';
import { killAllEnginesSync } from './world.js';

export interface ChaosOptions {
  seeds: number[];
  seconds: number;
  symbols: string[];
  keep: boolean;
  verbose: boolean;
  /** Seeds run at a time (their engines, simulators and homes are separate; only the store checks take turns). */
  jobs: number;
}

export interface ChaosSummary {
  passed: number;
  failed: number;
  results: SeedResult[];
}

/** Bounds on what one invocation may ask for. */
const SEEDS_MAX = 10_000;
const SECONDS_MAX = 3600;
const JOBS_MAX = 32;

export class ChaosUsageError extends Error {}

function whole(raw: string | undefined, flag: string, min: number, max: number): number {
  const n = Number(raw);
  if (raw === undefined || !/^\d+(\.\d+)?$/.test(raw) || !(n >= min && n <= max)) throw new ChaosUsageError(`${flag} needs a number from ${min} to ${max}, got ${raw ?? 'nothing'}`);
  return n;
}

export function parseChaosArgs(argv: string[]): ChaosOptions {
  let count = 10;
  let first = 1;
  let only: number | undefined;
  let seconds = 15;
  let symbols = DEFAULT_CHAOS_SYMBOLS;
  let keep = false;
  let verbose = false;
  let jobs = 1;
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    if (flag === '--seeds') count = Math.floor(whole(value(), '--seeds', 1, SEEDS_MAX));
    else if (flag === '--seed') only = Math.floor(whole(value(), '--seed', 1, 2 ** 31));
    else if (flag === '--first') first = Math.floor(whole(value(), '--first', 1, 2 ** 31));
    else if (flag === '--seconds') seconds = whole(value(), '--seconds', 3, SECONDS_MAX);
    else if (flag === '--symbols') symbols = (value() ?? '').split(',').map((s) => s.trim().toUpperCase()).filter((s) => s !== '');
    else if (flag === '--jobs') jobs = Math.floor(whole(value(), '--jobs', 1, JOBS_MAX));
    else if (flag === '--keep') keep = true;
    else if (flag === '--verbose') verbose = true;
    else throw new ChaosUsageError(`unknown option ${a}`);
  }
  if (symbols.length === 0 || symbols.some((s) => !/^[A-Z0-9]{1,20}-USDT$/.test(s))) throw new ChaosUsageError('--symbols needs BASE-USDT symbols, comma-separated');
  const seeds = only !== undefined ? [only] : Array.from({ length: count }, (_, i) => first + i);
  return { seeds, seconds, symbols, keep, verbose, jobs };
}

/** The command that re-runs exactly one seed. */
export function rerunCommand(seed: number, o: Pick<ChaosOptions, 'seconds' | 'symbols'>): string {
  const symbols = o.symbols.join(',') === DEFAULT_CHAOS_SYMBOLS.join(',') ? '' : ` --symbols ${o.symbols.join(',')}`;
  return `npm run chaos -- --seed ${seed} --seconds ${o.seconds}${symbols}`;
}

export async function runChaos(o: ChaosOptions, print: (line: string) => void = (l) => console.log(l)): Promise<ChaosSummary> {
  const results: SeedResult[] = [];
  const queue = [...o.seeds];
  // `jobs` workers take the next seed as each finishes; a seed's lines are printed together when it ends.
  const worker = async (): Promise<void> => {
    for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
      const r = await runSeed({ seed, seconds: o.seconds, symbols: o.symbols, keep: o.keep, ...(o.verbose ? { trace: (l: string) => print(`  [seed ${seed}] ${l}`) } : {}) });
      results.push(r);
      const lines = [seedLine(r)];
      if (!r.ok) {
        for (const c of r.checks.filter((x) => !x.ok)) lines.push(`  FAILED ${c.name}: ${c.detail}`);
        if (r.folder) lines.push(`  kept: ${r.folder}`);
        lines.push(`  re-run: ${rerunCommand(r.seed, o)}`);
      } else if (o.verbose) {
        for (const c of r.checks) lines.push(`  ok ${c.name}: ${c.detail}`);
      }
      for (const l of lines) print(l);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.jobs, o.seeds.length)) }, worker));
  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  print(`${passed} passed, ${failed} failed`);
  return { passed, failed, results };
}

async function main(): Promise<number> {
  let o: ChaosOptions;
  try {
    o = parseChaosArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof ChaosUsageError)) throw err;
    console.error(`chaos: ${err.message}`);
    console.error('usage: npm run chaos -- --seeds N --seconds S [--seed K] [--first K] [--symbols A,B] [--jobs N] [--keep] [--verbose]');
    return 2;
  }
  const summary = await runChaos(o);
  return summary.failed === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // Interrupted: never leave an engine behind (they run detached, in their own process groups).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      const n = killAllEnginesSync();
      console.error(`chaos: interrupted (${signal}); killed ${n} engine(s); temporary folders under ${tmpdir()}/pink-chaos-* may remain`);
      process.exit(130);
    });
  }
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
