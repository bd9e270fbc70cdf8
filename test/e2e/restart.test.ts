// Issue 21: `pink restart` starts the new engine process first (it loads its code while the old
// engine stops) and that process touches nothing until the old one is gone. An old engine that
// cannot stop leaves no second engine behind: restart says so (exit 1) and the waiting process is
// ended; once the old one stops, a restart starts a single engine again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { processAlive, readPid } from '../../src/engine/runner/lock.js';
import { spawn } from 'node:child_process';
import { BIN } from '../support/cli.js';
import { makeWorld, stopPid, waitFor } from '../support/e2e.js';

test('restart: one engine at a time; an old engine that cannot stop leaves no new one behind; Ctrl-C says what the new one still does', async () => {
  const w = await makeWorld({ symbols: ['BTC-USDT'] });
  const pidFile = join(w.home, 'pink.pid');
  try {
    const run = await w.json<{ pid: number }>(['run', '--detach']);
    assert.equal(run.code, 0, run.stderr);
    const first = run.doc.pid;

    const again = await w.json<{ converged: boolean; pid: number }>(['restart']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.doc.converged, true);
    assert.notEqual(again.doc.pid, first);
    assert.equal(processAlive(first), false, 'the old engine still runs');
    assert.equal(readPid(pidFile), again.doc.pid);

    // The engine frozen (SIGSTOP): it cannot act on the SIGTERM restart sends.
    const frozen = again.doc.pid;
    process.kill(frozen, 'SIGSTOP');
    let thawed = false;
    try {
      const stuck = await w.pink(['restart', '--timeout', '3']);
      assert.equal(stuck.code, 1, stuck.stderr);
      assert.match(stuck.stderr, new RegExp(`the engine \\(pid ${frozen}\\) did not stop within 3 s`));
      process.kill(frozen, 'SIGCONT');
      thawed = true;
    } finally {
      if (!thawed) process.kill(frozen, 'SIGCONT');
    }
    // Thawed, the old engine acts on the pending SIGTERM and stops; nothing takes its place.
    await waitFor('the old engine stopped', async () => !processAlive(frozen), 20_000);
    await new Promise((r) => setTimeout(r, 1500));
    const pid = readPid(pidFile);
    assert.ok(pid === undefined || !processAlive(pid), `an engine (pid ${pid}) started after the failed restart`);

    const back = await w.json<{ converged: boolean; pid: number }>(['restart']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.doc.converged, true);
    assert.equal(readPid(pidFile), back.doc.pid);

    // Ctrl-C once the old engine is gone, before the new one has reported: restart says what the
    // engine still does by itself (exit 1), and the new engine does come up on its own.
    const old = back.doc.pid;
    const child = spawn(process.execPath, [BIN, 'restart'], { env: { ...process.env, ...w.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await waitFor('the old engine stopped', async () => !processAlive(old), 20_000, 5);
    child.kill('SIGINT');
    assert.equal(await exited, 1, stderr);
    assert.match(stderr, /interrupted \(Ctrl-C\)\. .*finishes its startup reconcile by itself/s);
    const up = await waitFor('the new engine up after the Ctrl-C', async () => {
      const s = await w.json<{ engine: { up: boolean; pid: number } }>(['ditav2-status']);
      return s.code === 0 && s.doc.engine.up && s.doc.engine.pid !== old ? s.doc.engine.pid : false;
    }, 30_000);
    assert.equal(readPid(pidFile), up);
  } finally {
    await stopPid(pidFile);
    await w.close();
  }
});
