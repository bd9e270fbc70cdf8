// Issue 19: bad input to halt / resume / stop is one clear line with the SPEC exit code, and
// nothing is started, sent or written (no engine, no checkpoint, no simulator is started).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { runPink, tempDir } from '../support/cli.js';

test('halt / resume / stop refuse bad input with exit 2 (3 for stop with no engine), one line, nothing written', async () => {
  const dir = tempDir('pink-control-cli-');
  try {
    const home = join(dir.path, 'home');
    const env = { PINK_HOME: home, DOLPHIN_LOG_DIR: join(dir.path, 'logs'), DOLPHIN_PINK_SYMBOLS: 'BTC-USDT' };
    const cases: Array<[string[], number, RegExp]> = [
      [['halt', 'XRP-USDT'], 2, /XRP-USDT is not one of PINK's symbols/],
      [['halt', 'BTC-USDT', '--all'], 2, /a SYMBOL or --all, not both/],
      [['halt', 'BTC_USD'], 2, /is not a symbol/],
      [['halt', '--reason', 'x'.repeat(501)], 2, /at most 500 chars/],
      [['resume'], 2, /resume what\?/],
      [['stop', '--timeout', 'soon'], 2, /is not a duration/],
      [['stop'], 3, /no engine is running/],
      [['flatten', 'BTC-USDT', '--resume'], 2, /without confirmation/],
      [['halt', '--bogus'], 2, /unknown/],
    ];
    for (const [args, code, message] of cases) {
      const r = await runPink(args, env);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack');
    }
    assert.equal(existsSync(join(home, 'checkpoint.json')), false, 'nothing written');
    assert.equal(existsSync(join(home, 'sim')), false, 'no simulator started');
  } finally {
    dir.remove();
  }
});
