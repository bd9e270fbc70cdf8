// The journal's format 2 (checksummed, chained, continuous seqs), its torn-tail and failed-append
// rules, checkpoints with their checksum, and where a history is found (history.ts). The defects
// of issue 16 that these rules close are pinned in journal-defects.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Journal, JournalDamageError, JournalWriteError, listSegments, readJournal, scanJournal, type InputRecord } from '../../src/engine/runner/journal.js';
import { checkpointText, listCheckpoints, readCheckpoint, writeCheckpoint, CHECKPOINTS_KEPT, type Checkpoint } from '../../src/engine/runner/checkpoint.js';
import { archiveHistory, locateHistory } from '../../src/engine/runner/history.js';
import { writeFileAtomic } from '../../src/engine/fsutil.js';
import { homePaths } from '../../src/config.js';
import { tempDir } from '../support/cli.js';
import { ExitError } from '../../src/errors.js';
import { Kernel, KernelAssertionError } from '../../src/engine/kernel/index.js';
import { replay } from '../../src/engine/runner/replay.js';
import { failingWrites } from './inject-fs.js';

/** A real kernel state: readCheckpoint checks that the state it reads restores. */
const KERNEL_STATE = new Kernel({ history_id: 'journal001', namespace: 'pink', initial_capital_usdt: 10_000, rate_limit_cooldown_ms: 5_000, rate_limit_persistent_ms: 600_000, max_hold_bars: 250, symbols: ['BTC-USDT'] }).checkpoint();

const tick = (seq: number): InputRecord => ({ t: 'in', seq, input: { type: 'TICK', ts: 1_700_000_000_000 + seq, marks: { 'BTC-USDT': 100 + seq } } });
const cp = (seq: number): Checkpoint => ({ version: 2, seq, ts: seq, run_id: 'r', kernel: KERNEL_STATE, runner: { steps: seq, signals_offset: 0, started_ts: 0 } });

/** A journal of inputs 1..n in segments starting at each of `starts` (a rotation per checkpoint). */
function journalOf(dir: string, n: number, starts: number[] = [1]): string {
  const jdir = join(dir, 'journal');
  const j = new Journal(jdir);
  for (let seq = 1; seq <= n; seq += 1) {
    if (starts.includes(seq)) j.rotate(seq);
    j.appendInputs([tick(seq)]);
    j.appendOutput({ t: 'out', seq, digest: `d${seq}` });
  }
  j.close();
  return jdir;
}

const damaged = (e: unknown): e is JournalDamageError => e instanceof JournalDamageError && e.code === 2;

test('journal: inputs are read back in order after a given seq, with output digests and batch marks', () => {
  const dir = tempDir();
  try {
    const j = new Journal(join(dir.path, 'journal'));
    j.appendInputs([tick(1), tick(2)]);
    j.appendOutput({ t: 'out', seq: 2, digest: 'abc' });
    j.appendOutput({ t: 'batch', first: 1, seq: 2 });
    j.appendInputs([tick(3)]);
    j.close();
    const all = readJournal(join(dir.path, 'journal'));
    assert.deepEqual(all.map((r) => `${r.t}:${r.seq}`), ['in:1', 'in:2', 'out:2', 'batch:2', 'in:3']);
    const after2 = readJournal(join(dir.path, 'journal'), 2).filter((r) => r.t === 'in');
    assert.deepEqual(after2.map((r) => r.seq), [3]);
  } finally {
    dir.remove();
  }
});

test('journal format 2: a header naming the first seq, then "<crc32> <record>" lines whose checksums chain', () => {
  const dir = tempDir();
  try {
    const jdir = journalOf(dir.path, 3);
    const lines = readFileSync(listSegments(jdir)[0]!.path, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 1 + 3 + 3, 'a header, three inputs, three digests');
    let crc = 0;
    for (const [i, line] of lines.entries()) {
      const m = /^([0-9a-f]{8}) (.*)$/.exec(line)!;
      assert.ok(m, line);
      crc = i === 0 ? crc32(m[2]!) : crc32(m[2]!, crc);
      assert.equal(m[1], crc.toString(16).padStart(8, '0'), `line ${i + 1} carries the chained crc32`);
    }
    assert.deepEqual(JSON.parse(lines[0]!.slice(9)), { t: 'seg', v: 2, first: 1 });
  } finally {
    dir.remove();
  }
});

test('journal: a torn last line left by a crash is cut on open, reported, and never read as an input', () => {
  const dir = tempDir();
  try {
    const jdir = journalOf(dir.path, 2);
    const seg = listSegments(jdir)[0]!.path;
    const size = statSync(seg).size;
    const torn = '0badc0de {"t":"in","seq":3,"input":{"type":"TI';
    appendFileSync(seg, torn);
    // Readers stop before it and say so; they never cut.
    const scan = scanJournal(jdir);
    assert.deepEqual(scan.torn, { path: seg, offset: size, bytes: torn.length });
    assert.deepEqual(readJournal(jdir).filter((r) => r.t === 'in').map((r) => r.seq), [1, 2]);
    assert.ok(statSync(seg).size > size, 'a reader leaves the file as it is');
    const again = new Journal(jdir);
    assert.deepEqual(again.torn, { path: seg, offset: size, bytes: torn.length }, 'the engine learns what it cut');
    assert.equal(statSync(seg).size, size);
    again.appendInputs([tick(3)]);
    again.close();
    assert.deepEqual(readJournal(jdir).filter((r) => r.t === 'in').map((r) => r.seq), [1, 2, 3]);
  } finally {
    dir.remove();
  }
});

test('journal: damage anywhere but the torn tail is refused with the file, line, offset and seq', () => {
  const dir = tempDir();
  try {
    const jdir = journalOf(dir.path, 4);
    const seg = listSegments(jdir)[0]!.path;
    const text = readFileSync(seg, 'utf8');
    const lines = text.split('\n');
    // The last complete line (a digest) damaged: it has its newline, so it is not a torn tail.
    const lastStart = text.length - 1 - lines[lines.length - 2]!.length;
    writeFileSync(seg, `${text.slice(0, lastStart + 20)}X${text.slice(lastStart + 21)}`);
    assert.throws(() => scanJournal(jdir), (e: unknown) => damaged(e) && e.damage.line === 9 && e.damage.offset === lastStart && e.damage.file === seg);
    assert.throws(() => new Journal(jdir), damaged, 'the engine refuses it too');
    // A line dropped whole: the chain breaks at the next one.
    writeFileSync(seg, lines.filter((_, i) => i !== 3).join('\n'));
    assert.throws(() => scanJournal(jdir), (e: unknown) => damaged(e) && e.damage.line === 4 && /a record before it is missing/.test(e.message));
    // A line that is not "<crc> <json>".
    writeFileSync(seg, `${lines.slice(0, 2).join('\n')}\nnot a record\n${lines.slice(2).join('\n')}`);
    assert.throws(() => scanJournal(jdir), (e: unknown) => damaged(e) && e.damage.line === 3 && /not "<checksum> <record>"/.test(e.message));
  } finally {
    dir.remove();
  }
});

test('journal: segments must run on: a missing segment, a wrong header, an old-format segment are refused', () => {
  const dir = tempDir();
  try {
    const jdir = journalOf(dir.path, 6, [1, 3, 5]);
    assert.deepEqual(listSegments(jdir).map((s) => s.first_seq), [1, 3, 5]);
    assert.deepEqual(readJournal(jdir).filter((r) => r.t === 'in').map((r) => r.seq), [1, 2, 3, 4, 5, 6]);
    const middle = listSegments(jdir)[1]!.path;
    renameSync(middle, `${middle}.aside`);
    assert.throws(() => scanJournal(jdir), (e: unknown) => damaged(e) && /starts at seq 5, but the one before it ends at seq 2: inputs are missing/.test(e.message));
    renameSync(`${middle}.aside`, join(jdir, 'seg-000000000004.ndjson'));
    assert.throws(() => scanJournal(jdir), (e: unknown) => damaged(e) && /starts at seq 4, but the one before it ends at seq 2/.test(e.message));
    rmSync(join(jdir, 'seg-000000000004.ndjson'));
    writeFileSync(join(jdir, 'seg-000000000003.ndjson'), '{"t":"in","seq":3,"input":{"type":"TICK","ts":1,"marks":{}}}\n');
    assert.throws(() => scanJournal(jdir), (e: unknown) => damaged(e) && /older pink, without checksums \(journal format 1\)/.test(e.message));
  } finally {
    dir.remove();
  }
});

test('journal: the reader checks that the journal continues from the checkpoint it starts at', () => {
  const dir = tempDir();
  try {
    const jdir = journalOf(dir.path, 6, [1, 3, 5]);
    const j = new Journal(jdir);
    assert.equal(j.prune(2), 1, 'a checkpoint at 2 lets the first segment go');
    j.close();
    assert.deepEqual(readJournal(jdir, 2).map((r) => r.seq).filter((s, i, a) => a.indexOf(s) === i), [3, 4, 5, 6]);
    assert.throws(() => readJournal(jdir, 1), (e: unknown) => damaged(e) && /inputs 2-2 after the checkpoint at seq 1 are missing/.test(e.message));
    assert.throws(() => readJournal(jdir, 9), (e: unknown) => damaged(e) && /ends at seq 6, before the checkpoint at seq 9/.test(e.message));
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
    assert.deepEqual(readJournal(jdir, 2).map((r) => r.seq), [3, 4, 5]);
    assert.equal(j.prune(3), 0, 'seq 4 is still needed after a checkpoint at 3');
    j.close();
  } finally {
    dir.remove();
  }
});

test('journal: a restarted engine continues the last segment when no checkpoint came between', () => {
  const dir = tempDir();
  try {
    const jdir = journalOf(dir.path, 2);
    const j = new Journal(jdir);
    j.rotate(1); // restore at checkpoint 0 after replaying 1..2 would rotate(3); rotate(1) is the same segment
    j.appendInputs([tick(3)]);
    j.close();
    assert.equal(listSegments(jdir).length, 1);
    assert.deepEqual(readJournal(jdir).filter((r) => r.t === 'in').map((r) => r.seq), [1, 2, 3]);
  } finally {
    dir.remove();
  }
});

test('journal: a failed append (ENOSPC, EIO) is cut back; ENOSPC is a full disk, anything else is not', () => {
  const dir = tempDir();
  try {
    const jdir = journalOf(dir.path, 2);
    const seg = listSegments(jdir)[0]!.path;
    const j = new Journal(jdir);
    j.rotate(1);
    const size = statSync(seg).size;
    for (const code of ['ENOSPC', 'EIO']) {
      let thrown: unknown;
      failingWrites(code, seg, () => {
        try {
          j.appendInputs([tick(3)]);
        } catch (err) {
          thrown = err;
        }
      });
      assert.ok(thrown instanceof JournalWriteError, String(thrown));
      assert.equal(thrown.disk_full, code === 'ENOSPC');
      assert.equal(thrown.cut_back, true);
      assert.match(thrown.message, new RegExp(`${code}.*cut back to the last good record`));
      assert.equal(statSync(seg).size, size, `${code}: nothing of the failed append stays`);
    }
    j.appendInputs([tick(3)]);
    j.close();
    assert.deepEqual(readJournal(jdir).filter((r) => r.t === 'in').map((r) => r.seq), [1, 2, 3]);
  } finally {
    dir.remove();
  }
});

test('files PINK writes are 0600 and never opened through a symlink', () => {
  const dir = tempDir();
  try {
    const jdir = journalOf(dir.path, 1);
    assert.equal(statSync(listSegments(jdir)[0]!.path).mode & 0o777, 0o600);
    const target = join(dir.path, 'target');
    writeFileSync(target, 'precious\n');
    chmodSync(target, 0o644);
    // A link planted where the next segment will be created: refused, the target untouched.
    const j = new Journal(jdir);
    symlinkSync(target, join(jdir, 'seg-000000000002.ndjson'));
    j.rotate(2);
    assert.throws(() => j.appendInputs([tick(2)]), (e: unknown) => /EEXIST|ELOOP/.test(String((e as NodeJS.ErrnoException).code)));
    assert.equal(readFileSync(target, 'utf8'), 'precious\n');
    j.close();
    // writeFileAtomic: 0600, and a link planted at its temporary name is replaced, not followed.
    const file = join(dir.path, 'run.json');
    symlinkSync(target, `${file}.tmp-${process.pid}`);
    writeFileAtomic(file, '{}\n');
    assert.equal(readFileSync(target, 'utf8'), 'precious\n');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir.path).filter((f) => f.includes('.tmp')), []);
  } finally {
    dir.remove();
  }
});

test('checkpoint: written atomically with a checksum, read back equal, and only the newest are kept', () => {
  const dir = tempDir();
  try {
    const latest = join(dir.path, 'checkpoint.json');
    const kept = join(dir.path, 'checkpoints');
    let oldest = 0;
    for (let seq = 1; seq <= CHECKPOINTS_KEPT + 3; seq += 1) oldest = writeCheckpoint(latest, kept, cp(seq));
    assert.deepEqual(readCheckpoint(latest), cp(CHECKPOINTS_KEPT + 3));
    assert.equal(listCheckpoints(kept).length, CHECKPOINTS_KEPT);
    assert.equal(oldest, 4);
    assert.deepEqual(readdirSync(dir.path).filter((f) => f.includes('.tmp')), []);
    assert.equal(statSync(latest).mode & 0o777, 0o600);
    const refused = (path: string, why: RegExp) =>
      assert.throws(() => readCheckpoint(path), (e: unknown) => e instanceof ExitError && e.code === 2 && /not a pink checkpoint, or it is damaged/.test(e.message) && why.test(e.message));
    writeFileSync(join(dir.path, 'bad.json'), '{"version":9}');
    refused(join(dir.path, 'bad.json'), /not a version 2 checkpoint/);
    writeFileSync(join(dir.path, 'v1.json'), JSON.stringify({ version: 1, seq: 1, ts: 1, run_id: 'r', kernel: KERNEL_STATE, runner: {} }));
    refused(join(dir.path, 'v1.json'), /older pink \(format 1, without a checksum\)/);
    // One digit changed in the kernel state (valid JSON, a restorable state): the checksum says so.
    const text = checkpointText(cp(7)).replace('"initial_capital_usdt\\":10000', '"initial_capital_usdt\\":90000');
    assert.notEqual(text, checkpointText(cp(7)));
    writeFileSync(join(dir.path, 'edited.json'), text);
    refused(join(dir.path, 'edited.json'), /checksum does not match/);
    // A checkpoint whose kernel state does not restore is refused too (exit 2), not an internal error.
    writeFileSync(join(dir.path, 'bad-kernel.json'), checkpointText({ ...cp(1), kernel: '{"k":1}' }));
    refused(join(dir.path, 'bad-kernel.json'), /does not restore/);
  } finally {
    dir.remove();
  }
});

/** A home with inputs 1..n, a checkpoint every `every` inputs (written, rotated, pruned as the engine does). */
function homeOf(root: string, n: number, every: number): ReturnType<typeof homePaths> {
  const paths = homePaths(join(root, 'home'));
  mkdirSync(paths.home, { recursive: true });
  const j = new Journal(paths.journal);
  const kernel = Kernel.restore(KERNEL_STATE);
  for (let seq = 1; seq <= n; seq += 1) {
    j.appendInputs([tick(seq)]);
    kernel.apply(tick(seq).input);
    if (seq % every === 0) {
      j.flush();
      const oldest = writeCheckpoint(paths.checkpoint, paths.checkpoints, { ...cp(seq), kernel: kernel.checkpoint() });
      j.rotate(seq + 1);
      j.prune(oldest);
    }
  }
  j.close();
  return paths;
}

test('history: checkpoint.json and the journal after it; a lost checkpoint.json falls back to the newest kept copy', () => {
  const dir = tempDir();
  try {
    const paths = homeOf(dir.path, 64, 4);
    const h = locateHistory(paths);
    assert.equal(h.checkpoint?.seq, 64);
    assert.equal(h.note, undefined);
    rmSync(paths.checkpoint);
    const fallback = locateHistory(paths);
    assert.equal(fallback.checkpoint?.seq, 64, 'the newest kept copy');
    assert.match(fallback.note ?? '', /checkpoint\.json is missing: restored from the newest kept checkpoint .*cp-000000000064\.json \(seq 64\)/);
    // The newest kept copy damaged: refused, never skipped for an older one.
    const newest = listCheckpoints(paths.checkpoints).pop()!.path;
    writeFileSync(newest, readFileSync(newest, 'utf8').replace('"seq":64', '"seq":46'));
    assert.throws(() => locateHistory(paths), (e: unknown) => e instanceof ExitError && e.code === 2 && /checksum does not match/.test(e.message));
    rmSync(newest);
    assert.equal(locateHistory(paths).checkpoint?.seq, 60, 'the next kept copy, and the journal after it');
    assert.deepEqual(locateHistory(paths).records.filter((r) => r.t === 'in').map((r) => r.seq), [61, 62, 63, 64]);
  } finally {
    dir.remove();
  }
});

test('history: no checkpoint while the journal shows a history is refused; --new-history archives it, deleting nothing', () => {
  const dir = tempDir();
  try {
    const paths = homeOf(dir.path, 40, 4);
    rmSync(paths.checkpoint);
    rmSync(paths.checkpoints, { recursive: true });
    assert.throws(() => locateHistory(paths), (e: unknown) => e instanceof ExitError && e.code === 2 && /refused to start a new history: the journal .* holds inputs 2\d-40/.test(e.message) && /--new-history/.test(e.hint ?? ''));
    const archived = archiveHistory(paths, Date.UTC(2026, 11, 1, 12, 0, 0));
    assert.equal(archived, join(paths.home, 'archive', 'history-20261201T120000000Z'));
    assert.ok(existsSync(join(archived, 'journal')));
    assert.equal(existsSync(paths.journal), false);
    const fresh = locateHistory(paths);
    assert.equal(fresh.checkpoint, undefined);
    assert.equal(fresh.records.length, 0);
    assert.equal(archiveHistory(paths, Date.now()), undefined, 'nothing left to move');
  } finally {
    dir.remove();
  }
});

test('replay: a journaled input the kernel fails on is reported as an assertion divergence at its seq (the fail-stop reproduced)', () => {
  const dir = tempDir();
  const apply = Kernel.prototype.apply;
  try {
    const paths = homeOf(dir.path, 64, 4);
    const clean = replay({ journalDir: paths.journal, checkpointsDir: paths.checkpoints, latestCheckpoint: paths.checkpoint });
    assert.equal(clean?.identical, true, JSON.stringify(clean?.divergence));
    Kernel.prototype.apply = function (this: Kernel, input) {
      if (input.ts === 1_700_000_000_000 + 62) throw new KernelAssertionError('slot state impossible (test)');
      return apply.call(this, input);
    };
    const r = replay({ journalDir: paths.journal, checkpointsDir: paths.checkpoints, latestCheckpoint: paths.checkpoint });
    assert.equal(r?.identical, false);
    assert.equal(r?.divergence?.kind, 'assertion');
    assert.equal(r?.divergence?.seq, 62);
    assert.match(r?.divergence?.actual ?? '', /KernelAssertionError: kernel assertion failed: slot state impossible/);
  } finally {
    Kernel.prototype.apply = apply;
    dir.remove();
  }
});
