// Issue 16, defects 1 and 2, each pinned by the smallest test that fails on the code before the fix
// (b2c3d3b: these tests use only what existed there, so they run against it unchanged).
// 1. A damaged journal record was silently dropped: one flipped byte in a FILL record, or a record
//    edited into other valid JSON (seq 170 → 107, qty 0.01 → 0.09), was skipped or believed.
// 2. On a full disk the partial write of an append stayed in the middle of the file, and
//    writeFileAtomic left its `*.tmp-PID` behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Journal, listSegments, readJournal, type InputRecord } from '../../src/engine/runner/journal.js';
import { writeFileAtomic } from '../../src/engine/fsutil.js';
import { ExitError } from '../../src/errors.js';
import { tempDir } from '../support/cli.js';
import { failingWrites } from './inject-fs.js';

const T0 = 1_700_000_000_000;
const tick = (seq: number): InputRecord => ({ t: 'in', seq, input: { type: 'TICK', ts: T0 + seq, marks: { 'BTC-USDT': 60_000 + seq } } });
const fill = (seq: number): InputRecord => ({
  t: 'in',
  seq,
  input: { type: 'EVENT', ts: T0 + seq, event: { event_id: `fill:${seq}`, kind: 'FILL', client_order_id: 'pink-abc', venue_order_id: '42', qty: 0.01, price: 60_000, fee: 0.24, fill_id: `f${seq}`, ts: T0 + seq } },
});

/** A journal of `n` inputs, a FILL at `fillSeq`, ticks elsewhere; returns the segment's path. */
function journal(dir: string, n: number, fillSeq: number): { jdir: string; seg: string } {
  const jdir = join(dir, 'journal');
  const j = new Journal(jdir);
  for (let seq = 1; seq <= n; seq += 1) j.appendInputs([seq === fillSeq ? fill(seq) : tick(seq)]);
  j.close();
  return { jdir, seg: listSegments(jdir)[0]!.path };
}

/** Replaces, in the one line holding `marker`, `from` with `to`. */
function editLine(seg: string, marker: string, from: string, to: string): void {
  const lines = readFileSync(seg, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(marker));
  assert.ok(i >= 0 && lines[i]!.includes(from), `no line with ${marker} and ${from}`);
  lines[i] = lines[i]!.replace(from, to);
  writeFileSync(seg, lines.join('\n'));
}

const refusedNaming = (seg: string, seq: number) => (e: unknown) =>
  e instanceof ExitError && e.code === 2 && e.message.includes(seg) && new RegExp(`seq ${seq}\\b`).test(e.message) && /line \d+/.test(e.message);

test('defect 1: one flipped byte in a FILL record is refused (exit 2, the file, line and seq), never skipped', () => {
  const dir = tempDir();
  try {
    const { jdir, seg } = journal(dir.path, 8, 5);
    editLine(seg, '"kind":"FILL"', '"client_order_id"', '"client_order_id\x01');
    assert.throws(() => [...readJournal(jdir)], refusedNaming(seg, 5));
  } finally {
    dir.remove();
  }
});

test('defect 1: a record edited into other valid JSON (qty 0.01 → 0.09; seq 170 → 107) is refused, never believed', () => {
  const dir = tempDir();
  try {
    const { jdir, seg } = journal(dir.path, 180, 170);
    editLine(seg, '"kind":"FILL"', '"qty":0.01', '"qty":0.09');
    assert.throws(() => [...readJournal(jdir)], refusedNaming(seg, 170));
    editLine(seg, '"kind":"FILL"', '"qty":0.09', '"qty":0.01');
    assert.equal([...readJournal(jdir)].filter((r) => r.t === 'in').length, 180, 'undone: the journal reads whole again');
    editLine(seg, '"kind":"FILL"', '"seq":170', '"seq":107');
    assert.throws(() => [...readJournal(jdir)], (e: unknown) => e instanceof ExitError && e.code === 2 && e.message.includes(seg) && /seq 107/.test(e.message));
  } finally {
    dir.remove();
  }
});

test('defect 2: an append that hits a full disk leaves no partial record; the journal reads whole once space is back', () => {
  const dir = tempDir();
  try {
    const { jdir, seg } = journal(dir.path, 2, 0);
    const size = statSync(seg).size;
    const j = new Journal(jdir);
    j.rotate(1);
    assert.throws(() => failingWrites('ENOSPC', seg, () => j.appendInputs([tick(3)])), (e: unknown) => /ENOSPC/.test(String(e)));
    assert.equal(statSync(seg).size, size, 'the half-written record was cut back before the error went up');
    // Space is back: the same input is journaled again, and every input reads back.
    j.appendInputs([tick(3)]);
    j.appendInputs([tick(4)]);
    j.close();
    assert.deepEqual([...readJournal(jdir)].filter((r) => r.t === 'in').map((r) => r.seq), [1, 2, 3, 4]);
  } finally {
    dir.remove();
  }
});

test('defect 2: writeFileAtomic on a full disk removes its temporary file and leaves the old file whole', () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'checkpoint.json');
    writeFileAtomic(path, '{"old":true}\n');
    assert.throws(() => failingWrites('ENOSPC', path, () => writeFileAtomic(path, `{"new":"${'x'.repeat(4096)}"}\n`)), (e: unknown) => /ENOSPC/.test(String(e)));
    assert.deepEqual(readdirSync(dir.path).filter((f) => f.includes('.tmp')), [], 'no *.tmp-PID left behind');
    assert.equal(readFileSync(path, 'utf8'), '{"old":true}\n');
  } finally {
    dir.remove();
  }
});
