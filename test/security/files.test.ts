// Issue 17, case 3 (and case 7's PINK_HOME cases): PINK's files are its own. A home or log dir
// that another user owns or can write is refused (exit 2, the fix); no file is written through a
// symlink; what PINK creates is 0700 / 0600; mode-verify's files check reports all of it. Through
// the real binary against one simulator. Run as root, "another user" is uid 65534 (chown).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from '../support/cli.js';
import { makeWorld, type World } from '../support/e2e.js';
import { victim } from './support.js';

const OTHER_UID = 65534;
const canChown = process.getuid?.() === 0;

let w: World;
before(async () => {
  w = await makeWorld({ symbols: ['BTC-USDT'] });
});
after(async () => {
  await w.close();
});

/** A folder that another user could have made: theirs (as root), or ours but writable by everyone. */
function foreignDir(path: string): void {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o777);
  if (canChown) chownSync(path, OTHER_UID, OTHER_UID);
}

test('a log dir another user made, with dolphin_live_pink.log pointing at a victim file: exit 2, the victim untouched', async () => {
  const dir = tempDir('pink-files-');
  try {
    const target = victim(dir.path);
    const logs = join(dir.path, 'shared-logs');
    foreignDir(logs);
    symlinkSync(target.path, join(logs, 'dolphin_live_pink.log'));
    const r = await w.pink(['run', '--steps', '1'], { DOLPHIN_LOG_DIR: logs, PINK_HOME: join(dir.path, 'home') });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /DOLPHIN_LOG_DIR .* is refused: (it belongs to uid 65534|other users can write it)/);
    assert.match(r.stderr, /fix: .*DOLPHIN_LOG_DIR/);
    assert.ok(target.untouched(), 'nothing appended to the victim');

    // Our own private log dir, but the log file a symlink: refused too (O_NOFOLLOW), victim untouched.
    const own = join(dir.path, 'own-logs');
    mkdirSync(own, { mode: 0o700 });
    symlinkSync(target.path, join(own, 'dolphin_live_pink-error.log'));
    const r2 = await w.pink(['run', '--steps', '1'], { DOLPHIN_LOG_DIR: own, PINK_HOME: join(dir.path, 'home') });
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(r2.stderr, /dolphin_live_pink-error\.log is a symlink/);
    assert.ok(target.untouched(), 'nothing appended to the victim');
  } finally {
    dir.remove();
  }
});

test('a home another user made (0777) with engine.out and the journal pointing elsewhere: exit 2, nothing written through them', async () => {
  const dir = tempDir('pink-files-');
  try {
    const target = victim(dir.path);
    const home = join(dir.path, 'home');
    foreignDir(home);
    symlinkSync(target.path, join(home, 'engine.out'));
    symlinkSync(dir.path, join(home, 'journal'));
    for (const args of [['run', '--detach'], ['run', '--steps', '1']]) {
      const r = await w.pink(args, { PINK_HOME: home });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /PINK_HOME .* is refused: (it belongs to uid 65534|other users can write it)/);
    }
    assert.ok(target.untouched(), 'nothing written to the victim');
    assert.deepEqual(readdirSync(dir.path).sort(), ['home', 'victim.txt'], 'nothing written through the journal link');
    assert.equal(existsSync(join(home, 'pink.pid')), false);
  } finally {
    dir.remove();
  }
});

test('a home and a log dir that PINK creates are 0700 under umask 022; one under a folder others can write or own is refused, nothing written', async () => {
  const dir = tempDir('pink-files-');
  const umask = process.umask(0o022); // the child inherits it: PINK must not rely on the caller's
  try {
    const home = join(dir.path, 'made', 'home');
    const logs = join(dir.path, 'made-logs', 'pink');
    const r = await w.pink(['run', '--steps', '1'], { PINK_HOME: home, DOLPHIN_LOG_DIR: logs });
    assert.equal(r.code, 0, r.stderr);
    for (const p of [home, dirname(home), logs, dirname(logs)]) assert.equal((statSync(p).mode & 0o777).toString(8), '700', p);

    // A folder above the home or the log dir that others can write (not sticky, unlike /tmp), or that
    // another user owns: they could rename PINK's folder away and put theirs in its place.
    const open = join(dir.path, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    const theirs = join(dir.path, 'theirs');
    mkdirSync(theirs, { mode: 0o755 });
    if (canChown) chownSync(theirs, OTHER_UID, OTHER_UID);
    const ownHome = join(dir.path, 'own-home');
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ PINK_HOME: join(open, 'home') }, /^pink: PINK_HOME .*\/open\/home is refused: .*\/open is writable by other users \(mode 0777\)\.$/m],
      [{ PINK_HOME: ownHome, DOLPHIN_LOG_DIR: join(open, 'logs') }, /^pink: DOLPHIN_LOG_DIR .*\/open\/logs is refused: .*\/open is writable by other users \(mode 0777\)\.$/m],
      ...(canChown ? [[{ PINK_HOME: join(theirs, 'home') }, /^pink: PINK_HOME .*\/theirs\/home is refused: .*\/theirs belongs to uid 65534\.$/m] as [Record<string, string>, RegExp]] : []),
    ];
    for (const [env, why] of cases) {
      const refused = await w.pink(['run', '--steps', '1'], env);
      const what = JSON.stringify(env);
      assert.equal(refused.code, 2, `${what}: ${refused.stderr}`);
      assert.match(refused.stderr, why, what);
      const lines = refused.stderr.trim().split('\n');
      assert.equal(lines.length, 2, `${what}: the reason and one line with the fix: ${refused.stderr}`);
      assert.match(lines[1]!, /^ {2}fix: .*(PINK_HOME|DOLPHIN_LOG_DIR).*0700/, what);
    }
    assert.deepEqual(readdirSync(open), [], 'nothing created in the open folder');
    assert.deepEqual(readdirSync(theirs), [], "nothing created in the other user's folder");
    assert.deepEqual(existsSync(ownHome) ? readdirSync(ownHome) : [], [], 'nothing left in the home of the run whose log dir was refused');
  } finally {
    process.umask(umask);
    dir.remove();
  }
});

test('what PINK creates is its own: home narrowed to 0700, folders 0700, files 0600; mode-verify says so, and FAILs what is not', async () => {
  const dir = tempDir('pink-files-');
  try {
    const home = join(dir.path, 'home');
    mkdirSync(home, { mode: 0o755 });
    chmodSync(home, 0o755); // as an operator's mkdir leaves it
    // A supervisor's log dir may stay readable (0755); a log an older PINK left 0644 is narrowed.
    const logs = join(dir.path, 'logs');
    mkdirSync(logs, { mode: 0o755 });
    chmodSync(logs, 0o755);
    writeFileSync(join(logs, 'dolphin_live_pink.log'), 'an older line\n', { mode: 0o644 });
    chmodSync(join(logs, 'dolphin_live_pink.log'), 0o644);
    const env = { PINK_HOME: home, DOLPHIN_LOG_DIR: logs };
    const r = await w.pink(['run', '--steps', '2'], env);
    assert.equal(r.code, 0, r.stderr);
    const open: string[] = [];
    const walk = (p: string): void => {
      const st = lstatSync(p);
      if (st.isSymbolicLink()) return; // ClickHouse's own table links (a link's mode means nothing)
      if ((st.mode & 0o077) !== 0) open.push(`${p} ${(st.mode & 0o777).toString(8)}`);
      if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    };
    walk(home);
    for (const e of readdirSync(logs)) walk(join(logs, e));
    assert.deepEqual(open, [], 'nothing under the home or in the log dir is open to group or others');
    assert.equal(lstatSync(logs).mode & 0o777, 0o755, 'the log dir itself is left as it was');
    const mv = await w.json<{ checks: { id: string; status: string; detail: string }[] }>(['mode-verify'], env);
    const files = mv.doc.checks.find((c) => c.id === 'files')!;
    assert.equal(files.status, 'PASS', files.detail);
    assert.match(files.detail, /home .* 0700/);
    assert.match(files.detail, /dolphin_live_pink\.log 0600/);

    // What mode-verify must catch: a log dir others can write, a log file that is a symlink.
    chmodSync(logs, 0o777);
    const loose = await w.json<{ checks: { id: string; status: string; detail: string }[] }>(['mode-verify'], env);
    assert.equal(loose.code, 1);
    assert.match(loose.doc.checks.find((c) => c.id === 'files')!.detail, /writable by other users \(mode 0777\)/);
    chmodSync(logs, 0o700);
    const runtime = join(logs, 'dolphin_live_pink.log');
    writeFileSync(join(dir.path, 'elsewhere.log'), '');
    const { rmSync } = await import('node:fs');
    rmSync(runtime);
    symlinkSync(join(dir.path, 'elsewhere.log'), runtime);
    const linked = await w.json<{ checks: { id: string; status: string; detail: string }[] }>(['mode-verify'], env);
    assert.equal(linked.code, 1);
    assert.match(linked.doc.checks.find((c) => c.id === 'files')!.detail, /dolphin_live_pink\.log is a symlink/);
  } finally {
    dir.remove();
  }
});

test('PINK_HOME too long for its socket, or not writable: exit 2 naming PINK_HOME and the fix, nothing left behind', async () => {
  const dir = tempDir('pink-files-');
  try {
    const parent = join(dir.path, 'p');
    mkdirSync(parent);
    const long = join(parent, 'h'.repeat(Math.max(1, 110 - parent.length)));
    const r = await w.pink(['run', '--steps', '1'], { PINK_HOME: long });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /PINK_HOME .* is too long: its control socket .* over the Unix limit of 107/);
    assert.match(r.stderr, /fix: Use a shorter folder: --home DIR or PINK_HOME/);
    assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
    assert.deepEqual(readdirSync(parent), [], 'nothing created, no truncated socket left');

    // Not writable: under a regular file (as root, modes do not stop a write; this does).
    const file = join(dir.path, 'a-file');
    writeFileSync(file, '');
    const r2 = await w.pink(['run', '--steps', '1'], { PINK_HOME: join(file, 'home') });
    assert.equal(r2.code, 2, r2.stderr);
    assert.match(r2.stderr, /PINK_HOME .* cannot be created \(ENOTDIR\)/);
    assert.match(r2.stderr, /fix: .*PINK_HOME/);
    assert.doesNotMatch(r2.stderr, /internal error/);
  } finally {
    dir.remove();
  }
});
