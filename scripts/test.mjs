// `npm test`: builds first (dist/ removed, then tsc: a test never runs stale or deleted code),
// then node's own test runner over every compiled *.test.js under dist/test (node 20's --test
// does not expand globs itself, and a bare directory would also run support modules).
// `npm test -- kernel store` runs only the test files whose path contains one of the words.
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
rmSync('dist', { recursive: true, force: true });
const built = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { stdio: 'inherit' });
if (built.status !== 0) {
  console.error('npm test: the build (tsc) failed; nothing was tested');
  process.exit(built.status ?? 1);
}

function collect(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...collect(path));
    else if (entry.name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const only = process.argv.slice(2);
const files = collect('dist/test').filter((f) => only.length === 0 || only.some((o) => f.includes(o))).sort();
if (files.length === 0) {
  console.error(`no test files under dist/test match ${only.length > 0 ? only.join(', ') : 'anything'}`);
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
