// `npm run bench`: every area's figures, one after the other, in one process run on this machine.
// Figures are printed, never asserted: speed is measured here, not in tests.
const AREAS = ['kernel', 'store', 'sim', 'venue', 'runner'] as const;

const only = process.argv.slice(2);
for (const area of AREAS) {
  if (only.length > 0 && !only.includes(area)) continue;
  const mod = (await import(`./${area}.js`)) as { bench: () => Promise<void> };
  console.log(`## ${area}`);
  try {
    await mod.bench();
  } catch (err) {
    console.log(`${area}: bench failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
