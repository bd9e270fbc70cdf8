// The two commands at the edge: bad input is exit 2 with one line naming the fix and nothing
// opened; no store is exit 3; `pink fault` and `pink --help` load nothing of what issue 22 added.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runPink, tempDir } from '../support/cli.js';
import { loadedModules } from '../support/loads.js';

// settings.js is config.ts's (every command reads the environment once); it imports nothing.
const OBSERVE_MODULES = /(engine\/observe\/(?!settings\.js)|commands\/(timeline|report)\.js|prom-client|uplot|asciichart|parse5)/;

test('bad --since / --until / --symbol / --html: exit 2, one line naming the fix, nothing opened', async () => {
  const dir = tempDir('pink-observe-cli-');
  try {
    const env = { PINK_HOME: join(dir.path, 'home') };
    for (const [args, re] of [
      [['timeline', '--since', 'yesterday'], /--since "yesterday" is not a duration or a time/],
      [['timeline', '--since', '03:20', '--until', '2026-01-01'], /--until .* is not after --since/],
      [['timeline', '--symbol', 'BTC_USD'], /--symbol "BTC_USD" is not a USDT perpetual symbol/],
      [['report', '--since', '99999d'], /longer than 400 days/],
      [['report', '--html', ' '], /--html needs a file name/],
    ] as const) {
      const r = await runPink([...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.match(r.stderr, /fix: /);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      assert.equal(r.stdout, '');
      const j = await runPink([...args, '--json'], env);
      assert.equal(j.code, 2);
      assert.equal((JSON.parse(j.stdout) as { error: { code: number } }).error.code, 2);
    }
    assert.equal(existsSync(join(dir.path, 'home')), false, 'nothing created under the home');
    const none = await runPink(['timeline'], env);
    assert.equal(none.code, 3, none.stderr);
    assert.match(none.stderr, /no embedded store under .*: no engine has run with this home/);
    assert.equal(existsSync(join(dir.path, 'home', 'clickhouse')), false, 'a read-only command does not create the store');
  } finally {
    dir.remove();
  }
});

test('pink fault and pink --help load nothing of the observe commands; help lists them with examples', async () => {
  for (const args of [['fault', 'RATE_LIMITED'], ['--help']]) {
    const r = await loadedModules(args);
    assert.equal(r.code, 0);
    assert.ok(r.loaded.some((l) => l.includes('/cli.js')), 'the hook saw the CLI load');
    assert.deepEqual(r.loaded.filter((l) => OBSERVE_MODULES.test(l)), [], args.join(' '));
  }
  const help = await runPink(['--help']);
  assert.match(help.stdout, /timeline\s+What happened, in order/);
  assert.match(help.stdout, /report\s+What it cost/);
  const one = await runPink(['timeline', '--help']);
  assert.match(one.stdout, /pink timeline --since 03:10 --until 03:20 --symbol ETH-USDT/);
});
