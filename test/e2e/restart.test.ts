// Issue 21: `pink restart` starts the new engine process first (it loads its code while the old
// engine stops) and that process touches nothing until the old one is gone. An old engine that
// cannot stop leaves no second engine behind: restart says so (exit 1) and the waiting process is
// ended; once the old one stops, a restart starts a single engine again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { processAlive, readPid } from '../../src/engine/runner/lock.js';
import { makeWorld, stopPid, waitFor } from '../support/e2e.js';

test('restart: one engine at a time; an old engine that cannot stop leaves no new one behind', async () => {
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
  } finally {
    await stopPid(pidFile);
    await w.close();
  }
});
