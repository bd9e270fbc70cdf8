// `pink fault` through the real binary, as an operator runs it in an incident.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FAULTS } from '../../src/engine/faults/taxonomy.js';
import { loadedModules, HEAVY_MODULE } from '../support/loads.js';
import { runPink } from '../support/cli.js';

test('pink fault: a table of every class', async () => {
  const r = await runPink(['fault']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /code\s*│\s*severity\s*│\s*slot effect\s*│\s*recovery/);
  for (const f of FAULTS) assert.match(r.stdout, new RegExp(`│ ${f.code}\\s`), f.code);
  assert.doesNotMatch(r.stdout, /\x1b\[/, 'no colour with NO_COLOR');
});

test('pink fault CODE: the whole operator response, with the log paths', async () => {
  const r = await runPink(['fault', 'RATE_LIMITED'], { DOLPHIN_LOG_DIR: '/var/log/pinktest' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^RATE_LIMITED\s+WARNING/);
  assert.match(r.stdout, /Operator response:/);
  assert.match(r.stdout, /DOLPHIN_PINK_POLL_INTERVAL_SEC/);
  assert.match(r.stdout, /\/var\/log\/pinktest\/dolphin_live_pink-error\.log/);
  assert.equal(r.stderr, '');
});

test('pink fault: case-insensitive, and section headings resolve to their kernel codes', async () => {
  const alias = await runPink(['fault', 'stale_state_reconcile']);
  assert.equal(alias.code, 0);
  assert.match(alias.stdout, /^STALE_STATE_RECONCILING\s/);
  assert.match(alias.stdout, /pink restart/);
  const lower = await runPink(['fault', 'exit_order_rejected']);
  assert.equal(lower.code, 0);
  assert.match(lower.stdout, /^EXIT_ORDER_REJECTED\s/);
  assert.match(lower.stdout, /pink flatten SYMBOL/);
  const heading = await runPink(['fault', 'RATE_LIMITED (persistent cycle)']);
  assert.match(heading.stdout, /^RATE_LIMITED_PERSISTENT\s/);
  assert.match(heading.stdout, /ditav2_kernel/);
});

test('pink fault UNKNOWN: exit 2, the closest names on stderr, nothing on stdout', async () => {
  const r = await runPink(['fault', 'RATE_LIMTED']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^pink: unknown fault code RATE_LIMTED; closest: RATE_LIMITED, [A-Z_]+, [A-Z_]+\n/);
  assert.match(r.stderr, /\n {2}fix: .*pink fault/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
});

test('pink fault --json: one parseable document', async () => {
  const all = await runPink(['fault', '--json']);
  assert.equal(all.code, 0);
  const doc = JSON.parse(all.stdout) as { faults: Array<{ code: string }>; log_paths: { errors: string } };
  assert.deepEqual(doc.faults.map((f) => f.code), FAULTS.map((f) => f.code));
  assert.match(doc.log_paths.errors, /dolphin_live_pink-error\.log$/);
  const one = await runPink(['fault', 'duplicate_event', '--json']);
  const entry = JSON.parse(one.stdout) as { code: string; severity: string; response: string };
  assert.equal(entry.code, 'DUPLICATE_EVENT');
  assert.equal(entry.severity, 'INFO');
  const bad = await runPink(['fault', 'nope', '--json']);
  assert.equal(bad.code, 2);
  const error = JSON.parse(bad.stdout) as { error: { code: number; message: string } };
  assert.match(error.error.message, /unknown fault code nope/);
});

test('pink fault --markdown: the whole taxonomy as one Markdown document', async () => {
  const r = await runPink(['fault', '--markdown']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^# PINK-on-DITAv2 Fault Taxonomy/);
  for (const f of FAULTS) assert.ok(r.stdout.includes(`### ${f.code}\n`), f.code);
  assert.match(r.stdout, /## Log Paths/);
  assert.match(r.stdout, /\| `RATE_LIMITED` \| WARNING \|/);
});

test('pink fault and pink --help load none of ccxt, chdb, @clickhouse/client', async () => {
  for (const args of [['fault'], ['fault', 'RATE_LIMITED'], ['fault', '--markdown'], ['--help']]) {
    const { code, loaded } = await loadedModules(args);
    assert.equal(code, 0, args.join(' '));
    // The hook works: it saw the entry point (and, for fault, the taxonomy and a package).
    assert.ok(loaded.some((l) => l.includes('dist/src/cli.js')), `hook saw nothing for ${args.join(' ')}`);
    if (args[0] === 'fault') assert.ok(loaded.some((l) => l.includes('faults/taxonomy.js')));
    if (args.join(' ') === 'fault') assert.ok(loaded.some((l) => /node_modules\/cli-table3\//.test(l)), 'packages are recorded too');
    const heavy = loaded.filter((l) => HEAVY_MODULE.test(l));
    assert.deepEqual(heavy, [], `pink ${args.join(' ')} loaded ${heavy.join(', ')}`);
  }
});
