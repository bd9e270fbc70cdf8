import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Journal, listSegments, readJournal, type InputRecord } from '../../src/engine/runner/journal.js';
import { listCheckpoints, readCheckpoint, writeCheckpoint, CHECKPOINTS_KEPT } from '../../src/engine/runner/checkpoint.js';
import { tempDir } from '../support/cli.js';
import { ExitError } from '../../src/errors.js';
import { Kernel } from '../../src/engine/kernel/index.js';

/** A real kernel state: readCheckpoint checks that the state it reads restores. */
const KERNEL_STATE = new Kernel({ history_id: 'journal001', namespace: 'pink', initial_capital_usdt: 10_000, rate_limit_cooldown_ms: 5_000, rate_limit_persistent_ms: 600_000, max_hold_bars: 250, symbols: ['BTC-USDT'] }).checkpoint();

const tick = (seq: number): InputRecord => ({ t: 'in', seq, input: { type: 'TICK', ts: 1_700_000_000_000 + seq, marks: { 'BTC-USDT': 100 + seq } } });

test('journal: inputs are read back in order after a given seq, with output digests and batch marks', () => {
  const dir = tempDir();
  try {
    const j = new Journal(join(dir.path, 'journal'));
    j.appendInputs([tick(1), tick(2)]);
    j.appendOutput({ t: 'out', seq: 2, digest: 'abc' });
    j.appendOutput({ t: 'batch', first: 1, seq: 2 });
    j.appendInputs([tick(3)]);
    j.close();
    const all = [...readJournal(join(dir.path, 'journal'))];
    assert.deepEqual(all.map((r) => `${r.t}:${r.seq}`), ['in:1', 'in:2', 'out:2', 'batch:2', 'in:3']);
    const after2 = [...readJournal(join(dir.path, 'journal'), 2)].filter((r) => r.t === 'in');
    assert.deepEqual(after2.map((r) => r.seq), [3]);
  } finally {
    dir.remove();
  }
});

test('journal: a torn last line left by a crash is cut on open and never read as an input', () => {
  const dir = tempDir();
  try {
    const jdir = join(dir.path, 'journal');
    const j = new Journal(jdir);
    j.appendInputs([tick(1), tick(2)]);
    j.close();
    const seg = listSegments(jdir)[0]!.path;
    appendFileSync(seg, '{"t":"in","seq":3,"input":{"type":"TI');
    assert.deepEqual([...readJournal(jdir)].map((r) => r.seq), [1, 2]);
    const again = new Journal(jdir);
    again.appendInputs([tick(3)]);
    again.close();
    assert.deepEqual([...readJournal(jdir)].map((r) => r.seq), [1, 2, 3]);
  } finally {
    dir.remove();
  }
});

test('journal: rotation at a checkpoint and pruning drop only segments wholly before it', () => {
  const dir = tempDir();
  try {
    const jdir = join(dir.path, 'journal');
    const j = new Journal(jdir);
    j.appendInputs([tick(1), tick(2)]);
    j.rotate(3);
    j.appendInputs([tick(3), tick(4)]);
    j.rotate(5);
    j.appendInputs([tick(5)]);
    assert.equal(listSegments(jdir).length, 3);
    assert.equal(j.prune(2), 1);
    assert.deepEqual([...readJournal(jdir)].map((r) => r.seq), [3, 4, 5]);
    assert.equal(j.prune(3), 0, 'seq 4 is still needed after a checkpoint at 3');
    j.close();
  } finally {
    dir.remove();
  }
});

test('checkpoint: written atomically, read back equal, and only the newest are kept', () => {
  const dir = tempDir();
  try {
    const latest = join(dir.path, 'checkpoint.json');
    const kept = join(dir.path, 'checkpoints');
    let oldest = 0;
    for (let seq = 1; seq <= CHECKPOINTS_KEPT + 3; seq += 1) {
      oldest = writeCheckpoint(latest, kept, { version: 1, seq, ts: seq, run_id: 'r', kernel: KERNEL_STATE, runner: { steps: seq, signals_offset: 0, started_ts: 0 } });
    }
    assert.equal(readCheckpoint(latest)?.seq, CHECKPOINTS_KEPT + 3);
    assert.equal(listCheckpoints(kept).length, CHECKPOINTS_KEPT);
    assert.equal(oldest, 4);
    assert.deepEqual(readdirSync(dir.path).filter((f) => f.includes('.tmp')), []);
    writeFileSync(join(dir.path, 'bad.json'), '{"version":9}');
    assert.throws(() => readCheckpoint(join(dir.path, 'bad.json')), /not a pink checkpoint/);
    // A checkpoint whose kernel state does not restore is refused too (exit 2), not an internal error.
    writeFileSync(join(dir.path, 'bad-kernel.json'), JSON.stringify({ version: 1, seq: 1, ts: 1, run_id: 'r', kernel: '{"k":1}', runner: {} }));
    assert.throws(() => readCheckpoint(join(dir.path, 'bad-kernel.json')), (e: unknown) => e instanceof ExitError && e.code === 2 && /not a pink checkpoint/.test(e.message));
  } finally {
    dir.remove();
  }
});
