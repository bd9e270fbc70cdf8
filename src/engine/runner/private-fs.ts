// PINK's files are PINK's own (the ssh StrictModes idea). Its home and log dir are created 0700
// and refused (exit 2, with the fix) when another user owns them or can write them, or owns or can
// write a folder above them (such a user can rename the folder away and put their own in its
// place); files are created 0600 and opened without following a symlink. The one exception is a
// sticky folder such as /tmp: there nobody but an entry's owner can rename or remove it.
// mode-verify's files check reads the same rules through `inspectDir` and `inspectFile`.
import { accessSync, chmodSync, closeSync, constants, fchmodSync, fstatSync, lstatSync, mkdirSync, openSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname, join, parse, resolve, sep } from 'node:path';
import { usageError } from '../../errors.js';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;
/** A Unix socket path longer than this (sun_path: 108 bytes with its NUL on Linux) cannot be bound:
 * the kernel cuts it, or node refuses it. */
export const SOCKET_PATH_BYTES_MAX = 107;

const GROUP_OTHER_WRITE = 0o022;
const GROUP_OTHER_ANY = 0o077;
const STICKY = 0o1000;

/** Which folder, for messages: the variable that names it (the operator's word for it). */
export interface DirRule {
  variable: 'PINK_HOME' | 'DOLPHIN_LOG_DIR';
  /** The home: no access at all for group or others (an existing one is narrowed to 0700). The log
   * dir: no write for them (a supervisor's log folder may stay readable; the files are 0600). */
  private: boolean;
}

function euid(): number {
  return process.geteuid?.() ?? -1;
}

function mode(st: Stats): string {
  return `0${(st.mode & 0o7777).toString(8).padStart(3, '0')}`;
}

function owner(uid: number): string {
  return uid === 0 ? 'root' : `uid ${uid}`;
}

function trusted(uid: number): boolean {
  return uid === euid() || uid === 0;
}

/** Every folder above `path`, outermost first: `/`, `/a`, `/a/b` for `/a/b/c`. */
function above(path: string): string[] {
  const out: string[] = [];
  for (let p = dirname(path); ; p = dirname(p)) {
    out.unshift(p);
    if (p === parse(p).root) return out;
  }
}

/** Why `dir` (a folder above PINK's) lets another user swap what is below it; undefined when it does not. */
function unsafeAncestor(dir: string, st: Stats): string | undefined {
  if (!trusted(st.uid)) return `${dir} belongs to ${owner(st.uid)}`;
  if (st.isSymbolicLink()) return undefined; // a link cannot be changed, only replaced in its (checked) folder
  if ((st.mode & GROUP_OTHER_WRITE) !== 0 && (st.mode & STICKY) === 0) return `${dir} is writable by other users (mode ${mode(st)})`;
  return undefined;
}

/** The folders above `path` as written and as resolved (a symlink may point elsewhere): the first unsafe one. */
function ancestorsProblem(path: string): string | undefined {
  const seen = new Set<string>();
  let deepest: string | undefined;
  for (const dir of above(path)) {
    let st: Stats;
    try {
      st = lstatSync(dir);
    } catch {
      break; // from here down, PINK creates the folders itself (0700)
    }
    deepest = dir;
    seen.add(dir);
    const why = unsafeAncestor(dir, st);
    if (why) return why;
  }
  if (deepest === undefined) return undefined;
  const real = realpathSync(deepest);
  for (const dir of [...above(real), real]) {
    if (seen.has(dir)) continue;
    const why = unsafeAncestor(dir, statSync(dir));
    if (why) return why;
  }
  return undefined;
}

function fixFor(rule: DirRule, path: string): string {
  return rule.variable === 'PINK_HOME'
    ? `Use a folder of your own that only you can write: --home DIR or PINK_HOME (PINK creates it 0700), or fix this one (chown to you, chmod 700 ${path}).`
    : `Set DOLPHIN_LOG_DIR to a folder of your own that only you can write (PINK creates it 0700), or fix this one (chown to you, chmod go-w ${path}).`;
}

/**
 * Creates `path` (0700, with any missing folder above it) or checks the one that is there: a folder,
 * ours, not writable by group or others (the home: not accessible to them at all; narrowed to 0700
 * when it is only readable), under folders only we or root can change. ExitError(2) naming the
 * variable and the fix otherwise, before anything is written in it.
 */
export function ensurePrivateDir(path: string, rule: DirRule): void {
  const abs = resolve(path);
  const refuse = (why: string): never => {
    throw usageError(`${rule.variable} ${abs} is refused: ${why}.`, fixFor(rule, abs));
  };
  const ancestors = ancestorsProblem(abs);
  if (ancestors) refuse(ancestors);
  let st: Stats | undefined;
  try {
    st = lstatSync(abs);
  } catch {
    try {
      mkdirSync(abs, { recursive: true, mode: PRIVATE_DIR_MODE });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw usageError(`${rule.variable} ${abs} cannot be created (${code}).`, `Use a folder you can write: ${rule.variable === 'PINK_HOME' ? '--home DIR or PINK_HOME' : 'DOLPHIN_LOG_DIR'}.`);
    }
    st = lstatSync(abs);
  }
  if (st.isSymbolicLink()) {
    if (!trusted(st.uid)) refuse(`it is a symlink that belongs to ${owner(st.uid)}`);
    const target = ancestorsProblem(realpathSync(abs));
    if (target) refuse(target);
    st = statSync(abs);
  }
  if (!st.isDirectory()) refuse('it is not a folder');
  if (st.uid !== euid()) refuse(`it belongs to ${owner(st.uid)}, not to this user (uid ${euid()})`);
  if ((st.mode & GROUP_OTHER_WRITE) !== 0) refuse(`other users can write it (mode ${mode(st)})`);
  if (rule.private && (st.mode & GROUP_OTHER_ANY) !== 0) chmodSync(abs, PRIVATE_DIR_MODE);
  try {
    accessSync(abs, constants.W_OK | constants.X_OK);
  } catch {
    refuse('this user cannot write it');
  }
}

/** PINK_HOME made safe to write: its socket path fits a Unix socket, then ensurePrivateDir. Nothing
 * is created when the path is refused. */
export function ensureHome(home: string): void {
  const socket = join(resolve(home), 'pink.sock');
  const bytes = Buffer.byteLength(socket);
  if (bytes > SOCKET_PATH_BYTES_MAX) {
    throw usageError(
      `PINK_HOME ${resolve(home)} is too long: its control socket ${socket} would be ${bytes} bytes, over the Unix limit of ${SOCKET_PATH_BYTES_MAX}.`,
      `Use a shorter folder: --home DIR or PINK_HOME (at most ${SOCKET_PATH_BYTES_MAX - '/pink.sock'.length} bytes).`,
    );
  }
  ensurePrivateDir(home, { variable: 'PINK_HOME', private: true });
}

/** Flags for a file PINK appends to: created 0600, never through a symlink. */
const APPEND_FLAGS = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW;

/** Why the open file `fd` (at `path`) is not PINK's own to write; undefined when it is. */
function fileProblem(path: string, st: Stats): string | undefined {
  if (!st.isFile()) return `${path} is not a regular file`;
  if (st.uid !== euid()) return `${path} belongs to ${owner(st.uid)}`;
  if (st.nlink !== 1) return `${path} has ${st.nlink} names (hard links)`;
  return undefined;
}

/**
 * Opens `path` for appending: created 0600 if missing (an older one of ours narrowed to 0600),
 * never through a symlink (ELOOP), refused unless it is a regular file of ours with one name.
 * Returns the fd; throws ExitError(2) naming the file otherwise.
 */
export function openAppendPrivate(path: string): number {
  let fd: number;
  try {
    fd = openSync(path, APPEND_FLAGS, PRIVATE_FILE_MODE);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ELOOP' ? `${path} is a symlink` : `${path} cannot be opened (${code ?? String(err)})`;
    throw usageError(`refused to write ${why}.`, `Remove or move ${path} aside; PINK creates its own files (0600).`);
  }
  const st = fstatSync(fd);
  const why = fileProblem(path, st);
  if (why) {
    closeSync(fd);
    throw usageError(`refused to write ${why}.`, `Remove or move ${path} aside; PINK creates its own files (0600).`);
  }
  // Ours, but made before PINK made its files 0600 (an older version, another umask): narrowed.
  if ((st.mode & GROUP_OTHER_ANY) !== 0) fchmodSync(fd, PRIVATE_FILE_MODE);
  return fd;
}

/** Opens `path` for reading without following a symlink; undefined when it does not exist. */
export function openReadNoFollow(path: string): number | undefined {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** mode-verify: what is wrong with PINK's folder `path` under `rule`, or its owner and mode when nothing is. */
export function inspectDir(path: string, rule: DirRule): { ok: boolean; detail: string } {
  const abs = resolve(path);
  let st: Stats;
  try {
    st = statSync(abs);
  } catch {
    return { ok: true, detail: `${abs} (not created yet; PINK creates it 0700)` };
  }
  const lst = lstatSync(abs);
  const problems: string[] = [];
  const ancestors = ancestorsProblem(abs) ?? (lst.isSymbolicLink() ? ancestorsProblem(realpathSync(abs)) : undefined);
  if (ancestors) problems.push(ancestors);
  if (lst.isSymbolicLink() && !trusted(lst.uid)) problems.push(`${abs} is a symlink that belongs to ${owner(lst.uid)}`);
  if (!st.isDirectory()) problems.push(`${abs} is not a folder`);
  if (st.uid !== euid()) problems.push(`${abs} belongs to ${owner(st.uid)}`);
  if ((st.mode & GROUP_OTHER_WRITE) !== 0) problems.push(`${abs} is writable by other users (mode ${mode(st)})`);
  else if (rule.private && (st.mode & GROUP_OTHER_ANY) !== 0) problems.push(`${abs} is readable by other users (mode ${mode(st)}; the next \`pink run\` narrows it to 0700)`);
  return problems.length > 0 ? { ok: false, detail: problems.join('; ') } : { ok: true, detail: `${abs} ${mode(st)}` };
}

/** mode-verify: what is wrong with one of PINK's files (a symlink, not ours, open to others), or its mode. */
export function inspectFile(path: string): { ok: boolean; detail: string } | undefined {
  let lst: Stats;
  try {
    lst = lstatSync(path);
  } catch {
    return undefined;
  }
  if (lst.isSymbolicLink()) return { ok: false, detail: `${path} is a symlink` };
  const why = lst.isSocket() ? (lst.uid !== euid() ? `${path} belongs to ${owner(lst.uid)}` : undefined) : fileProblem(path, lst);
  if (why) return { ok: false, detail: why };
  if ((lst.mode & GROUP_OTHER_ANY) !== 0) return { ok: false, detail: `${path} is open to other users (mode ${mode(lst)})` };
  return { ok: true, detail: `${path.split(sep).pop()} ${mode(lst)}` };
}
