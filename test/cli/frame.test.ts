import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runPink } from '../support/cli.js';

test('--help lists every command with an example and exits 0', async () => {
  const r = await runPink(['--help']);
  assert.equal(r.code, 0);
  for (const name of ['run', 'ditav2-status', 'restart', 'mode-verify', 'flatten', 'fault', 'replay', 'sim']) {
    assert.match(r.stdout, new RegExp(`\\$ pink ${name}`), `example for ${name}`);
  }
});

test('unknown command and unknown option exit 2 with a one-line error and no stack', async () => {
  for (const args of [['nope'], ['fault', '--bogus']]) {
    const r = await runPink(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^pink: unknown/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('a malformed environment value exits 2 naming the variable', async () => {
  for (const [name, value] of [
    ['DOLPHIN_PINK_POLL_INTERVAL_SEC', 'abc'],
    ['DOLPHIN_MAX_HOLD_BARS', '-3'],
    ['DOLPHIN_PINK_VENUE', 'binance'],
    ['DOLPHIN_PINK_SYMBOLS', 'BTC_USD'],
    ['PINK_CLICKHOUSE_URL', 'not a url'],
  ] as const) {
    const r = await runPink(['fault'], { [name]: value });
    assert.equal(r.code, 2, name);
    assert.match(r.stderr, new RegExp(name));
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

test('--version prints the version and exits 0', async () => {
  const r = await runPink(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+$/);
});
