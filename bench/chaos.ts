// Seeds per minute of the chaos harness (test/chaos): a few short seeds end to end (simulator,
// the real engine binary, every fault kind, the final proof), timed. Printed, never asserted.
// Standalone: `node dist/bench/chaos.js [--seeds N] [--seconds S]`.
import { pathToFileURL } from 'node:url';
import { runSeed } from '../test/chaos/harness.js';

const SEEDS_DEFAULT = 3;
const SECONDS_DEFAULT = 10;

export async function bench(seeds = SEEDS_DEFAULT, seconds = SECONDS_DEFAULT): Promise<void> {
  const t0 = performance.now();
  let passed = 0;
  let chaos_s = 0;
  for (let seed = 1; seed <= seeds; seed += 1) {
    const r = await runSeed({ seed, seconds });
    if (r.ok) passed += 1;
    chaos_s += r.elapsed_s;
    console.log(`chaos: seed ${seed}: ${r.ok ? 'PASS' : 'FAIL'} in ${r.elapsed_s.toFixed(1)} s (${seconds} s of faults, ${r.faults} faults, ${r.kills} kills, ${r.restarts} restarts)`);
  }
  const minutes = (performance.now() - t0) / 60_000;
  console.log(`chaos: ${(seeds / minutes).toFixed(2)} seeds/min at --seconds ${seconds} (${seeds} seeds, ${passed} passed, ${(chaos_s / seeds).toFixed(1)} s per seed: ${(((chaos_s / seeds) - seconds) / (chaos_s / seeds) * 100).toFixed(0)} % of it starts, restarts and the final proof)`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (flag: string, fallback: number): number => {
    const i = process.argv.indexOf(flag);
    const n = i >= 0 ? Number(process.argv[i + 1]) : fallback;
    if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive number`);
    return n;
  };
  await bench(arg('--seeds', SEEDS_DEFAULT), arg('--seconds', SECONDS_DEFAULT));
}
