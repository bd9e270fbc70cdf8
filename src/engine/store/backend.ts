// The two backends behind one client: @clickhouse/client talks to a ClickHouse server over HTTP, or,
// with no PINK_CLICKHOUSE_URL, to chDB (ClickHouse in-process) under $PINK_HOME/clickhouse through
// chdb/connection (the same SQL either way). Both libraries are imported here, lazily, because each costs 0.3-0.9 s to load and
// commands that do not touch the store must not pay for it.
//
// chDB facts this file is built on (chdb 3.4.0, ClickHouse 26.7, measured):
// - one data folder per process: a second folder while one is open is refused; several connections
//   on the same folder share one engine, each with its own session settings;
// - one process per folder: the engine flocks <folder>/status, which records the holder's PID; a
//   second process fails to open (and the engine prints "Cannot lock file" on fd 2), so the holder is
//   detected from that file first; a holder killed with -9 releases the lock with its process;
// - a `clickhouse_settings` entry is a session `SET` on chDB: it outlives the query (a later insert
//   would be de-duplicated under an old token) and a `SET …; INSERT … <data>` makes the engine lex
//   the payload as SQL (4-5x slower): inserts carry their token in the statement instead;
// - data inline after an INSERT statement (client.exec/insert, and the connection's raw insert) is
//   handed to an embedded client that reads it 3-4x slower than ClickHouse reads the same bytes from
//   a file (6-7 µs a 15-column row against 1.5-2 on a Null table), and is not binary-safe (a "\n\n"
//   inside RowBinary cuts the data; chdb's raw insert accepts text formats only). Inserts therefore
//   write the encoded rows to a file in <folder>/pink_insert and run
//   `INSERT INTO db.t (cols) SETTINGS insert_deduplication_token = '…' SELECT * FROM file(…)`,
//   which de-duplicates on the token like any INSERT. Queries and DDL go through the client;
// - one connection runs its queries one after another: each family inserts through a connection of
//   its own, so the eight INSERTs of a unit run side by side (1.7 cores instead of 1 here);
// - the insert file is written synchronously (~1-2 ms a MB): written through the libuv pool it would
//   wait behind the running INSERTs, which hold the pool's four threads.
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import { writeFileNoFollow } from '../fsutil.js';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import { homePaths, type Config } from '../../config.js';
import { EXIT, ExitError } from '../../errors.js';
import type { RowFamily } from '../kernel/types.js';
import { familyStructure, type WireFormat } from './encode.js';
import { ident } from './schema.js';

export type BackendKind = 'chdb' | 'server';

/** A server that does not answer within this is unreachable (one step must not hang on it). */
export const REQUEST_TIMEOUT_MS = 10_000;

export interface Backend {
  kind: BackendKind;
  client: ClickHouseClient;
  /** For messages: where the store is, with no secret in it. */
  where: string;
  /** Removes the password from any text about to be shown or logged. */
  redact: (text: string) => string;
  /** The format write() encodes rows in for this backend (either is accepted by insert). */
  format: WireFormat;
  /** One INSERT of encoded rows into `database.family`, with its de-duplication token. */
  insert: (database: string, family: RowFamily, columns: readonly string[], token: string, format: WireFormat, bytes: Buffer) => Promise<void>;
  /** A read under ClickHouse's own `readonly = 1` (see READ_ONLY_SQL): what the control socket's
   * named queries run through. Answered as JSONEachRow objects. */
  readQuery: <T>(sql: string, params?: Record<string, unknown>) => Promise<T[]>;
  close(): Promise<void>;
}

/**
 * The read-only session of the embedded store: set once on a connection of its own (chDB keeps
 * settings per connection), 64-bit integers as JSON numbers first, then `readonly = 1`, after which
 * the session refuses every write, DDL, table function (file, url, executable...) and any further
 * setting, `readonly` included. Measured on chDB 3.4: `readonly = 2` still reads file('/etc/shadow')
 * and fetches url(...); `readonly = 1` refuses both. It does not stop `INTO OUTFILE`, which chDB
 * writes on the client side: hence no free SQL through the socket at all, only named queries.
 */
export const READ_ONLY_SQL = ['SET output_format_json_quote_64bit_integers = 0', 'SET readonly = 1'] as const;

export function redactor(config: Config): (text: string) => string {
  const secrets: string[] = [];
  if (config.clickhouse_password) secrets.push(config.clickhouse_password);
  if (config.clickhouse_url) {
    try {
      const pw = new URL(config.clickhouse_url).password;
      if (pw) secrets.push(pw, decodeURIComponent(pw));
    } catch {
      // config.ts validated the URL; nothing to add.
    }
  }
  return (text: string) => secrets.reduce((t, s) => (s.length > 0 ? t.split(s).join('***') : t), text);
}

/** The URL as shown to the operator: credentials in it are masked. */
export function displayUrl(raw: string): string {
  try {
    const u = new URL(raw);
    if (u.password) u.password = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(unparseable URL)';
  }
}

/** One line from any thrown value, secrets removed. */
export function oneLine(err: unknown, redact: (t: string) => string): string {
  const raw = err instanceof Error ? err.message : String(err);
  const first = raw.split('\n').map((l) => l.trim()).find((l) => l !== '') ?? 'unknown error';
  const code = (err as { code?: unknown } | null)?.code;
  const withCode = typeof code === 'string' && /^E[A-Z]+$/.test(code) && !first.includes(code) ? `${first} (${code})` : first;
  return redact(withCode.length > 300 ? `${withCode.slice(0, 297)}...` : withCode);
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED']);

/** True for failures that say nothing about the query: the server was not reached or did not answer. */
export function isUnreachable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; cause?: unknown } | null;
  if (e === null || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (typeof e.message === 'string' && /timeout|socket hang up|ECONNREFUSED/i.test(e.message)) return true;
  return e.cause !== undefined && e.cause !== err && isUnreachable(e.cause);
}

/** A string literal in ClickHouse SQL. */
function sqlString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * One family's INSERT over HTTP: its columns named, its de-duplication token in the statement (a
 * setting of the query, not of a session).
 */
export function insertSql(database: string, family: RowFamily, columns: readonly string[], token: string, format: WireFormat = 'TabSeparated'): string {
  return `INSERT INTO ${ident(database)}.${ident(family)} (${columns.join(', ')}) SETTINGS insert_deduplication_token = ${sqlString(token)} FORMAT ${format}`;
}

/** chDB's INSERT of rows encoded in `path` (see the header): the same token, the same columns. */
export function insertFromFileSql(database: string, family: RowFamily, columns: readonly string[], token: string, format: WireFormat, path: string): string {
  return (
    `INSERT INTO ${ident(database)}.${ident(family)} (${columns.join(', ')}) SETTINGS insert_deduplication_token = ${sqlString(token)} ` +
    `SELECT * FROM file(${sqlString(path)}, ${sqlString(format)}, ${sqlString(familyStructure(family, columns))})`
  );
}

// ---------------------------------------------------------------- chDB

/** This process's open chDB folder and how many stores use it (chDB binds one folder per process). */
let chdbFolder: { path: string; users: number } | null = null;
/** Names this process's insert files apart. */
let insertFileSeq = 0;

/** The PID recorded by the process that holds `folder`, if that process is alive and not us. */
export function chdbHolder(folder: string): number | null {
  let text: string;
  try {
    text = readFileSync(join(folder, 'status'), 'utf8');
  } catch {
    return null;
  }
  const m = /^PID:\s*(\d+)/m.exec(text);
  if (!m) return null;
  const pid = Number(m[1]);
  if (pid === process.pid) return null;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as { code?: string }).code !== 'EPERM') return null; // ESRCH: the holder is gone
  }
  // A recycled PID (after a reboot) belongs to something else: only a node process can hold it.
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!/node/.test(cmd)) return null;
  } catch {
    // No /proc (macOS): trust the PID.
  }
  return pid;
}

function heldError(folder: string, pid: number): ExitError {
  return new ExitError(
    EXIT.UNREACHABLE,
    `the embedded store at ${folder} is held by the running engine (pid ${pid}); ask it through \`pink ditav2-status\` (or another \`pink\` command) or stop it`,
    'chDB lets one process open its folder; stop the engine (SIGTERM) to use the store directly.',
  );
}

/** Refuses `folder` when chDB cannot open it here: this process has another open, or another process holds it (named by pid). */
function refuseHeldChdb(folder: string): void {
  if (chdbFolder !== null && chdbFolder.path !== folder) {
    throw new ExitError(
      EXIT.UNREACHABLE,
      `this process already has the embedded store at ${chdbFolder.path} open; chDB opens one folder per process`,
      `Close that store before opening ${folder}.`,
    );
  }
  if (chdbFolder === null) {
    const holder = chdbHolder(folder);
    if (holder !== null) throw heldError(folder, holder);
  }
}

type ChdbModule = typeof import('chdb/connection');
type CreateClient = (typeof import('@clickhouse/client'))['createClient'];

/**
 * Opens `folder`'s write client for this process and empties the insert files a killed run left
 * (the folder is ours alone once open); returns the client and the folder for insert files.
 */
function attachChdb(folder: string, createClient: CreateClient, chdbConn: ChdbModule): { client: ClickHouseClient; staging: string } {
  let client: ClickHouseClient;
  try {
    const connection = chdbConn.createChdbConnection({ path: folder });
    // chdb types its connection against @clickhouse/client-common, the client against its own copy
    // of the same interface: identical at runtime, different to the compiler.
    type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection'];
    client = createClient({ connection: connection as unknown as ClientConnection });
  } catch (err) {
    const holder = chdbHolder(folder);
    if (holder !== null) throw heldError(folder, holder);
    throw new ExitError(
      EXIT.UNREACHABLE,
      `the embedded store at ${folder} could not be opened: ${oneLine(err, (t) => t)}`,
      existsSync(join(folder, 'status')) ? 'Another process may hold it: stop it, or check the folder permissions.' : 'Check that the folder is writable.',
    );
  }
  chdbFolder = chdbFolder ?? { path: folder, users: 0 };
  // Insert files: ours alone (the folder is locked to this process); what a killed run left is stale.
  const staging = join(folder, 'pink_insert');
  if (chdbFolder.users === 0) rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  chdbFolder.users++;
  return { client, staging };
}

async function openChdb(config: Config): Promise<Backend> {
  const folder = homePaths(config.home).clickhouse;
  refuseHeldChdb(folder);
  // 0700 and 0600 whatever the umask (the engine's is 0077; a library caller's may not be).
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const [{ createClient }, chdbConn] = await Promise.all([import('@clickhouse/client'), import('chdb/connection')]);
  const { client, staging } = attachChdb(folder, createClient, chdbConn);
  let closed = false;
  const inserters = new Map<RowFamily, ReturnType<typeof chdbConn.createChdbConnection>>();
  // The read-only session, opened at its first use (once, however many reads arrive together).
  let reader: Promise<ClickHouseClient> | undefined;
  const readClient = (): Promise<ClickHouseClient> =>
    (reader ??= (async () => {
      const ro = chdbConn.createChdbConnection({ path: folder });
      for (const sql of READ_ONLY_SQL) await ro.chdb.queryAsync(sql);
      type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection'];
      return createClient({ connection: ro as unknown as ClientConnection });
    })());
  return {
    kind: 'chdb',
    client,
    where: `the embedded store at ${folder}`,
    redact: (t) => t,
    format: 'RowBinary',
    insert: async (database, family, columns, token, format, bytes) => {
      if (bytes.length === 0) return;
      if (closed) throw new Error(`${family}: the embedded store is closed`);
      const path = join(staging, `${++insertFileSeq}.${family}.${format === 'RowBinary' ? 'bin' : 'tsv'}`);
      writeFileNoFollow(path, bytes);
      try {
        const inserter = inserters.get(family) ?? inserters.set(family, chdbConn.createChdbConnection({ path: folder })).get(family)!;
        await inserter.chdb.queryAsync(insertFromFileSql(database, family, columns, token, format, path));
      } finally {
        try {
          unlinkSync(path);
        } catch {
          // Already gone; the folder is emptied at the next open anyway.
        }
      }
    },
    readQuery: async <T>(sql: string, params?: Record<string, unknown>): Promise<T[]> => {
      if (closed) throw new Error('the embedded store is closed');
      const rs = await (await readClient()).query({ query: sql, format: 'JSONEachRow', ...(params ? { query_params: params } : {}) });
      return rs.json<T>();
    },
    close: async () => {
      if (closed) return;
      closed = true;
      if (reader !== undefined) await (await reader.catch(() => undefined))?.close();
      for (const inserter of inserters.values()) await inserter.close();
      await client.close();
      if (chdbFolder !== null && --chdbFolder.users <= 0) chdbFolder = null;
    },
  };
}

// ---------------------------------------------------------------- server

/**
 * The oldest ClickHouse server PINK's schema runs on: `insert_deduplication_token` (22.2) is the
 * newest feature it needs, after `non_replicated_deduplication_window` (21.x) and DateTime64 (20.1).
 * Tried on Debian's clickhouse-server 18.16.1: every CREATE TABLE fails there (DateTime64).
 * @clickhouse/client itself supports 24.8 and newer; 22.2-24.7 is untested.
 */
export const SERVER_VERSION_MIN = [22, 2] as const;

/** ExitError(2) when `version` (what `SELECT version()` answered) is older than SERVER_VERSION_MIN. */
export function checkServerVersion(version: string, where: string): void {
  const m = /^(\d+)\.(\d+)/.exec(version.trim());
  const [major, minor] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  const [minMajor, minMinor] = SERVER_VERSION_MIN;
  if (m && (major > minMajor || (major === minMajor && minor >= minMinor))) return;
  throw new ExitError(
    EXIT.USAGE,
    `${where} is version ${version.trim() || '(none given)'}; PINK needs ClickHouse ${minMajor}.${minMinor} or newer (DateTime64, insert_deduplication_token, non_replicated_deduplication_window)`,
    'Upgrade the server (24.8 or newer is what the client supports), or unset PINK_CLICKHOUSE_URL to use the embedded store.',
  );
}

/** Asks the server its version and refuses one that is too old (nothing is created on it). */
export async function assertServerVersion(client: ClickHouseClient, where: string): Promise<void> {
  const rs = await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' });
  const [row] = await rs.json<{ v: string }>();
  checkServerVersion(String(row?.v ?? ''), where);
}

async function openServer(config: Config, url: string, requireReachable: boolean): Promise<Backend> {
  const redact = redactor(config);
  const where = `ClickHouse at ${displayUrl(url)}`;
  const { createClient, ClickHouseLogLevel } = await import('@clickhouse/client');
  const client = createClient({
    url,
    username: config.clickhouse_user,
    password: config.clickhouse_password,
    request_timeout: REQUEST_TIMEOUT_MS,
    // The client would print every failed request to stderr; the store reports failures itself.
    log: { level: ClickHouseLogLevel.OFF },
  });
  const insert = async (database: string, family: RowFamily, columns: readonly string[], token: string, format: WireFormat, bytes: Buffer) => {
    const res = await client.exec({ query: insertSql(database, family, columns, token, format), values: Readable.from([bytes], { objectMode: false }) });
    // Read the (empty) answer to its end: that is when the socket is free again.
    for await (const _chunk of res.stream) {
      // nothing: an INSERT answers with no rows
    }
  };
  // TabSeparated: what the server path has always been tested with; a spooled RowBinary unit (from
  // the embedded store) is sent as RowBinary, which a server reads the same way.
  // Over HTTP a setting is one request's: readonly = 1 on each read (no other setting alongside,
  // which readonly = 1 would refuse; 64-bit integers may then come quoted: callers use Number()).
  const readQuery = async <T>(sql: string, params?: Record<string, unknown>): Promise<T[]> => {
    const rs = await client.query({ query: sql, format: 'JSONEachRow', ...(params ? { query_params: params } : {}), clickhouse_settings: { readonly: '1' } });
    return rs.json<T>();
  };
  const backend: Backend = { kind: 'server', client, where, redact, format: 'TabSeparated', insert, readQuery, close: () => client.close() };
  if (!requireReachable) return backend;
  try {
    // A SELECT, not /ping: /ping answers without checking the user and password.
    await assertServerVersion(client, where);
  } catch (err) {
    await client.close();
    if (err instanceof ExitError) throw err;
    const why = oneLine(err, redact);
    const auth = /authentic|password|user/i.test(why);
    throw new ExitError(
      EXIT.UNREACHABLE,
      auth ? `${where} refused the user or password: ${why}` : `${where} is unreachable: ${why}`,
      auth
        ? 'Check PINK_CLICKHOUSE_USER and PINK_CLICKHOUSE_PASSWORD.'
        : 'Start the server or fix PINK_CLICKHOUSE_URL; unset it to use the embedded store under $PINK_HOME/clickhouse.',
    );
  }
  return backend;
}

/**
 * Opens the configured backend. `requireReachable` (server only): check the server answers a query
 * now, else ExitError(3); without it the store opens anyway and spools until the server answers.
 */
export async function openBackend(config: Config, requireReachable: boolean): Promise<Backend> {
  return config.clickhouse_url === undefined ? openChdb(config) : openServer(config, config.clickhouse_url, requireReachable);
}
