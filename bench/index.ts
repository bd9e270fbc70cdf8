// `npm run bench`: every area's figures, one after the other, in one process run on this machine.
// Figures are printed, never asserted: speed is measured here, not in tests.
// `npm run bench -- store runner` runs the named areas only; `--quick` shortens the long ones
// (runner RSS 10 -> 1 min, soak 30 -> 3 min), for a look, not for a closing note.
import { SOAK_MINUTES_DEFAULT } from './soak.js';

const AREAS = ['kernel', 'store', 'sim', 'venue', 'runner', 'incident', 'observe', 'chaos', 'soak'] as const;

const quick = process.argv.includes('--quick');
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const unknown = only.filter((a) => !(AREAS as readonly string[]).includes(a));
if (unknown.length > 0) {
  console.error(`bench: unknown area ${unknown.join(', ')}; areas are ${AREAS.join(', ')}`);
  process.exit(2);
}

for (const area of AREAS) {
  if (only.length > 0 && !only.includes(area)) continue;
  const mod = (await import(`./${area}.js`)) as { bench: (opts?: { minutes: number }) => Promise<void> };
  console.log(`## ${area}`);
  try {
    await (area === 'soak' ? mod.bench({ minutes: quick ? 3 : SOAK_MINUTES_DEFAULT }) : mod.bench());
  } catch (err) {
    console.log(`${area}: bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
