// Issue 18 operator polish: unknown commands and options name the closest; each command's --help
// lists the global options; `ditav2-status --watch` writes no screen codes into a pipe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fitTable, wrap } from '../../src/commands/text-fit.js';
import { closest } from '../../src/suggest.js';
import { BIN, runPink, tempDir } from '../support/cli.js';

test('unknown command or option: exit 2, one line, the closest named', async () => {
  const dir = tempDir();
  try {
    const env = { PINK_HOME: join(dir.path, 'home') };
    const cmd = await runPink(['statu'], env);
    assert.equal(cmd.code, 2);
    assert.match(cmd.stderr, /unknown command 'statu'/);
    assert.match(cmd.stderr, /Did you mean `pink ditav2-status`\?/);
    const typo = await runPink(['flaten', 'BTC-USDT'], env);
    assert.match(typo.stderr, /Did you mean `pink flatten`\?/);
    const opt = await runPink(['flatten', 'BTC-USDT', '--dry-rn'], env);
    assert.equal(opt.code, 2);
    assert.match(opt.stderr, /Did you mean --dry-run\? See `pink flatten --help`\./);
    const far = await runPink(['xyzzy'], env);
    assert.equal(far.code, 2);
    assert.doesNotMatch(far.stderr, /Did you mean/, 'nothing close: no guess');
    assert.equal(cmd.stdout + opt.stdout + far.stdout, '', 'nothing on stdout');
  } finally {
    dir.remove();
  }
});

test('closest: a containing name, else a small edit distance, else nothing', async () => {
  assert.equal(await closest('statu', ['run', 'ditav2-status', 'stop']), 'ditav2-status');
  assert.equal(await closest('--jsn', ['--json', '--home']), '--json');
  assert.equal(await closest('qqqq', ['run', 'stop']), undefined);
});

test('each command --help lists the global options', async () => {
  for (const c of ['flatten', 'restart', 'run', 'timeline']) {
    const r = await runPink([c, '--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Global options \(any command\):[\s\S]*--json[\s\S]*--home <dir>[\s\S]*--no-color/, c);
  }
});

test('ditav2-status --watch into a pipe: plain blocks, no screen codes', async () => {
  const dir = tempDir();
  try {
    const child = spawn(process.execPath, [BIN, 'ditav2-status', '--watch', '1'], { env: { ...process.env, PINK_HOME: join(dir.path, 'home') }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if ((out.match(/engine DOWN/g) ?? []).length >= 2) resolve();
      });
      child.on('exit', () => resolve());
    });
    child.kill('SIGINT');
    await new Promise((r) => child.once('exit', r));
    assert.ok((out.match(/engine DOWN/g) ?? []).length >= 2, out);
    assert.doesNotMatch(out, /\x1b\[/, 'no escape sequences');
  } finally {
    dir.remove();
  }
});

test('status tables fit 80 columns: optional columns dropped from the end, details wrapped', () => {
  const head = ['symbol', 'state', 'qty', 'working order'];
  const rows = [['BTC-USDT', 'STALE_STATE_RECONCILING', '0.0016', 'pink-BTC-USDT-abcdefghijkl-123456 buy 0.0016 RO']];
  const wide = fitTable(head, rows, 200, ['working order']);
  assert.match(wide, /working order/);
  const narrow = fitTable(head, rows, 80, ['working order']);
  assert.doesNotMatch(narrow, /working order/);
  for (const l of narrow.split('\n')) assert.ok(l.length <= 80, l);
  assert.match(narrow, /^symbol {4}state {20}qty$/m);
  const lines = wrap(`EXIT_CLAMPED: ${'word '.repeat(40)}`, 40, '  ', 3);
  assert.equal(lines.length, 3);
  for (const l of lines) assert.ok(l.length <= 40, l);
  assert.ok(lines[2]!.endsWith('…'));
});

test('pink fault (the list and every code), status with the engine down and mode-verify fit 80 columns on a pipe', async () => {
  const dir = tempDir();
  try {
    const env = { PINK_HOME: join(dir.path, 'home'), DOLPHIN_LOG_DIR: join(dir.path, 'logs') };
    const wide = (text: string): string[] => text.split('\n').filter((l) => [...l].length > 80);
    const list = await runPink(['fault'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(wide(list.stdout), []);
    const codes = (JSON.parse((await runPink(['fault', '--json'], env)).stdout) as { faults: { code: string }[] }).faults.map((f) => f.code);
    assert.ok(codes.length > 20, `the taxonomy: ${codes.length} codes`);
    for (const code of codes) {
      const one = await runPink(['fault', code], env);
      assert.equal(one.code, 0, one.stderr);
      assert.deepEqual(wide(one.stdout), [], code);
    }
    const down = await runPink(['ditav2-status'], env);
    assert.equal(down.code, 3, down.stderr);
    assert.match(down.stdout + down.stderr, /engine DOWN/);
    assert.deepEqual(wide(down.stdout + down.stderr), []);
    const verify = await runPink(['mode-verify'], env);
    assert.ok(verify.code === 0 || verify.code === 1, verify.stderr);
    assert.match(verify.stdout, /files/);
    assert.deepEqual(wide(verify.stdout), []);
  } finally {
    dir.remove();
  }
});
