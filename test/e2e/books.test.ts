// Issue 15 end to end (the real binary, simulator, chDB): the history id minted at the first start
// and shown by ditav2-status, kept across restarts and new for a new home; the venue's lot steps
// in the kernel's settings; a changed setting taking effect at `pink restart` and listed in its
// report; a start that drops a held symbol refused (exit 2) before anything is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeWorld, stopPid, waitFor } from '../support/e2e.js';
import { tempDir } from '../support/cli.js';

type Status = { engine: { history_id: string | null; up: boolean }; slots: { symbol: string; state: string; qty: number }[] };
type Report = { converged: boolean; settings_changed: { setting: string; from: unknown; to: unknown }[]; after: { symbol: string }[] };

function kernelOf(home: string): { history_id: string; config: { qty_step_by_symbol: Record<string, number>; rate_limit_cooldown_ms: number; symbols: string[] } } {
  const cp = JSON.parse(readFileSync(join(home, 'checkpoint.json'), 'utf8')) as { kernel: string };
  return JSON.parse(cp.kernel) as never;
}

test('history id, lot steps and settings across restarts; dropping a held symbol is refused, nothing sent', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT'] });
  try {
    const started = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
    assert.equal(started.code, 0, started.stderr);
    const up = await w.json<Status>(['ditav2-status']);
    const history = up.doc.engine.history_id;
    assert.match(String(history), /^[a-z0-9]{10}$/, 'engine.history_id');
    const human = await w.pink(['ditav2-status', '--no-color']);
    assert.ok(human.stdout.includes(`history ${history}`), human.stdout.split('\n')[0]);
    // The entry is sized on the market's lot (BTC-USDT 0.0001) by the kernel itself.
    w.signals([{ intent_id: 'books-e1', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 0.00123456, order_type: 'market', reason: 'e2e' }]);
    await waitFor('BTC OPEN', async () => (await w.json<Status>(['ditav2-status'])).doc.slots.find((s) => s.symbol === 'BTC-USDT')?.state === 'OPEN');
    assert.equal((await w.json<Status>(['ditav2-status'])).doc.slots.find((s) => s.symbol === 'BTC-USDT')?.qty, 0.0012);

    // A restart with ETH added and a new cooldown: both take effect, the report lists them.
    const env = { DOLPHIN_PINK_SYMBOLS: 'BTC-USDT,ETH-USDT', DITA_V2_RATE_LIMIT_COOLDOWN_SEC: '30' };
    const restart = await w.json<Report>(['restart'], env);
    assert.equal(restart.code, 0, restart.stderr);
    const changed = restart.doc.settings_changed.map((c) => `${c.setting}:${String(c.from)}:${String(c.to)}`);
    assert.ok(changed.includes('symbols:null:ETH-USDT'), changed.join(' '));
    assert.ok(changed.includes('rate_limit_cooldown_ms:5000:30000'), changed.join(' '));
    assert.ok(changed.includes('qty_step_by_symbol.ETH-USDT:null:0.01'), changed.join(' '));
    const after = await w.json<Status>(['ditav2-status'], env);
    assert.equal(after.doc.engine.history_id, history, 'the same history across a restart');
    assert.ok(after.doc.slots.some((s) => s.symbol === 'ETH-USDT'), 'the added symbol has a slot');
    await stopPid(join(w.home, 'pink.pid'));
    const k = kernelOf(w.home);
    assert.equal(k.history_id, history);
    assert.deepEqual(k.config.qty_step_by_symbol, { 'BTC-USDT': 0.0001, 'ETH-USDT': 0.01 });
    assert.equal(k.config.rate_limit_cooldown_ms, 30_000);

    // Dropping BTC while PINK holds it: exit 2, the symbol and the fix named, nothing sent.
    const orders = w.sim.state().orders_created;
    const refused = await w.pink(['run', '--steps', '1', '--strategy', 'signals', '--signals', w.signalsPath], { DOLPHIN_PINK_SYMBOLS: 'ETH-USDT' });
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /BTC-USDT \(PINK holds long 0\.0012\)/);
    assert.match(refused.stderr, /pink flatten SYMBOL/);
    assert.doesNotMatch(refused.stderr, /^\s+at /m, 'no stack trace');
    assert.equal(w.sim.state().orders_created, orders, 'nothing sent');
    assert.deepEqual(kernelOf(w.home).config.symbols, ['BTC-USDT', 'ETH-USDT'], 'nothing changed');

    // A new home is a new history.
    const other = tempDir('pink-e2e-books-');
    try {
      const fresh = await w.pink(['run', '--steps', '1', '--strategy', 'signals', '--signals', w.signalsPath], { PINK_HOME: join(other.path, 'home') });
      assert.equal(fresh.code, 0, fresh.stderr);
      const id = kernelOf(join(other.path, 'home')).history_id;
      assert.match(id, /^[a-z0-9]{10}$/);
      assert.notEqual(id, history);
    } finally {
      await stopPid(join(other.path, 'home', 'sim', 'sim.json'));
      other.remove();
    }
  } finally {
    await w.close();
  }
});
