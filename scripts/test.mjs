// `npm test`: node's own test runner over every compiled *.test.js under dist/test (node 20's
// --test does not expand globs itself, and a bare directory would also run support modules).
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

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
  console.error('no test files under dist/test: run `npm install` (or `npm run build`) first');
  process.exit(1);
}
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
