// PINK's store: the eight row families in PINK's own ClickHouse database (SPEC 5), embedded (chDB
// under $PINK_HOME/clickhouse) or on a server (PINK_CLICKHOUSE_URL). Importing this module is cheap:
// nothing here imports @clickhouse/client or chDB except as types; backend.ts loads them inside
// openStore, so `pink fault` and `pink --help` never pay for them.
//
// The runner's contract: openStore once; write({token, rows}) once per step with a deterministic
// token (e.g. `step:<first_seq>-<last_seq>`) — it returns at once; flush() before a checkpoint that
// must not lose rows, and close() at shutdown (it flushes). What ClickHouse does not take is in
// $PINK_HOME/spool and is sent again, in order, on the next successful flush and on the next open.
import { homePaths, type Config } from '../../config.js';
import { EXIT, ExitError } from '../../errors.js';
import type { RowOut } from '../kernel/types.js';
import { runAudit, type AuditOptions, type AuditReport } from './audit.js';
import type { Queryable } from './parity.js';
import { assertServerVersion, isUnreachable, oneLine, openBackend, type Backend, type BackendKind } from './backend.js';
import { Ledger } from './ledger.js';
import { embeddedSettingsDdl, ident, schemaDdl } from './schema.js';
import { Spool } from './spool.js';
import { faultyInsert, type StoreFaults } from './faults.js';
import { Writer } from './writer.js';

export type { AuditCheck, AuditReport, AuditOptions } from './audit.js';
export type { StoreFaults } from './faults.js';
export { runAudit, AUDIT_TOLERANCE_REL } from './audit.js';
export { schemaParity, blueReference, describeParity, readSchema, type ParityReport, type FamilyParity, type Queryable } from './parity.js';
export { FAMILIES, PINK_FAMILIES, PINK_ONLY_FAMILIES, FAMILY_COLUMNS, LEGACY_BLUE_SCHEMA, TABLE_LAYOUT, schemaDdl, columnType, type ReferenceSchema } from './schema.js';
export { RowAssertionError } from './encode.js';

export interface StoreBatch {
  /** Deterministic id of the batch (the same step replayed gives the same token). */
  token: string;
  rows: readonly RowOut[];
}

export interface StoreStats {
  backend: BackendKind;
  database: string;
  pending_rows: number;
  spooled_rows: number;
  spooled_batches: number;
  last_flush_ts: number | null;
  last_error: string | null;
}

export interface Store {
  readonly backend: BackendKind;
  readonly database: string;
  /** CREATE DATABASE / TABLE IF NOT EXISTS for the eight families; safe to run any number of times. */
  ensureSchema(): Promise<void>;
  /** Checks the rows (a bad row is an assertion, thrown here), queues them and returns at once. */
  write(batch: StoreBatch): void;
  /** Resolves when everything written so far is in ClickHouse or durably spooled. */
  flush(): Promise<void>;
  stats(): StoreStats;
  /** A SELECT, answered as JSONEachRow objects (64-bit integers as numbers). */
  query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]>;
  /** The same, through a session under ClickHouse's `readonly = 1` (the control socket's named queries). */
  readonly readOnly: Queryable;
  /** SPEC 5's invariants over PINK's database, and no PINK row in BLUE's. */
  audit(opts?: Partial<Pick<AuditOptions, 'initial_capital_usdt' | 'funding_paid_usdt' | 'tolerance_rel'>>): Promise<AuditReport>;
  /** Flushes and releases the connection (and, for chDB, the folder once no store in the process uses it). */
  close(): Promise<void>;
}

export interface OpenStoreOptions {
  config: Config;
  runId: string;
  /** Where unsent batches go (default $PINK_HOME/spool). Given: opened and drained at once. Not
   * given: opened at the first write(), so a store that only reads never touches the engine's spool. */
  spoolDir?: string;
  logger?: (line: string) => void;
  /** Issue 18: a write ClickHouse did not take, with the fix for this store (embedded or server): the engine's error log. */
  onFault?: (code: 'STORE_SPOOLING', reason: string) => void;
  /** Server only: open even when the server does not answer (the engine keeps running and spools);
   * default false: an unreachable server is ExitError(3) here. */
  allowUnreachable?: boolean;
  /** Tests: make inserts fail for real (see StoreFaults). */
  faults?: StoreFaults;
  /** Tests and bench: the writer's bounds. */
  bounds?: { queue_rows_max?: number; unit_rows_max?: number; unit_interval_ms?: number };
}

/** PINK never writes into BLUE's database: ExitError(2) if PINK's database is BLUE's. */
export function assertNotBlue(config: Pick<Config, 'database' | 'blue_database'>, database: string = config.database): void {
  if (database === config.blue_database) {
    throw new ExitError(
      EXIT.USAGE,
      `refused: PINK's database is BLUE's (${config.blue_database}); PINK never writes into BLUE's database`,
      "Set DOLPHIN_PINK_CH_DATABASE to PINK's own database (default dolphin_pink), different from DOLPHIN_BLUE_CH_DATABASE.",
    );
  }
}

/** Opens the store (no DDL yet: ensureSchema, or the first write, creates the tables). */
export async function openStore(opts: OpenStoreOptions): Promise<Store> {
  const { config } = opts;
  assertNotBlue(config);
  if (config.clickhouse_cluster !== undefined && config.clickhouse_url === undefined) {
    throw new ExitError(
      EXIT.USAGE,
      'PINK_CLICKHOUSE_CLUSTER is set but PINK_CLICKHOUSE_URL is not: the embedded store has no cluster',
      'Set PINK_CLICKHOUSE_URL to a server of that cluster, or unset PINK_CLICKHOUSE_CLUSTER.',
    );
  }
  const backend = await openBackend(config, opts.allowUnreachable !== true);
  const store = new StoreImpl(opts, backend);
  try {
    if (opts.spoolDir !== undefined) store.openSpool();
  } catch (err) {
    await backend.close(); // chDB would otherwise keep the folder bound for this process
    throw err;
  }
  return store;
}

class StoreImpl implements Store {
  readonly backend: BackendKind;
  readonly database: string;
  readonly #opts: OpenStoreOptions;
  readonly #b: Backend;
  readonly #log: (line: string) => void;
  #writer: Writer | null = null;
  #schema: Promise<void> | null = null;
  #closed = false;

  constructor(opts: OpenStoreOptions, backend: Backend) {
    this.#opts = opts;
    this.#b = backend;
    this.backend = backend.kind;
    this.database = opts.config.database;
    this.#log = opts.logger ?? (() => {});
  }

  /** Opens the spool and starts sending what an earlier run left in it. */
  openSpool(): Writer {
    if (this.#writer !== null) return this.#writer;
    const spool = new Spool(this.#opts.spoolDir ?? homePaths(this.#opts.config.home).spool, this.#log);
    const ledger = new Ledger(spool.dir);
    try {
      spool.open();
      ledger.open((token) => spool.hasToken(token));
    } catch (err) {
      throw new ExitError(EXIT.UNREACHABLE, `the spool folder ${spool.dir} cannot be used: ${oneLine(err, (t) => t)}`, 'Check that the folder is writable and the disk has room.');
    }
    this.#writer = new Writer({
      // Test hooks only when given: the production insert is the backend's own.
      insert: this.#opts.faults === undefined ? this.#b.insert : faultyInsert(this.#b.insert, this.#opts.faults),
      format: this.#b.format,
      countRows: async (family, rowIds) => {
        const sql = `SELECT count() AS n FROM ${ident(this.database)}.${ident(family)} WHERE row_id IN {ids:Array(String)}`;
        const [row] = await this.query<{ n: number }>(sql, { ids: rowIds });
        return Number(row?.n ?? 0);
      },
      ledger,
      database: this.database,
      ctx: { namespace: this.#opts.config.namespace, run_id: this.#opts.runId },
      spool,
      ensureSchema: () => this.ensureSchema(),
      log: this.#log,
      fault: (reason) => this.#opts.onFault?.('STORE_SPOOLING', `${reason}. ${storeFix(this.#b.kind, this.#b.where, spool.dir)}`),
      describeError: (err) => oneLine(err, this.#b.redact),
      ...this.#opts.bounds,
    });
    if (spool.entries().length > 0) {
      this.#log(`store: ${spool.rows} rows from an earlier run in ${spool.dir}; sending them to ${this.#b.where}`);
      this.#writer.drainSpool();
    }
    return this.#writer;
  }

  ensureSchema(): Promise<void> {
    assertNotBlue(this.#opts.config, this.database);
    this.#schema ??= (async () => {
      const cluster = this.#b.kind === 'server' ? this.#opts.config.clickhouse_cluster : undefined;
      // A server first reached here (it was down when the store opened) is checked here.
      if (this.#b.kind === 'server') await assertServerVersion(this.#b.client, this.#b.where);
      const [database, ...tables] = schemaDdl(this.database, { cluster, embedded: this.#b.kind === 'chdb' });
      await this.#b.client.command({ query: database! });
      // The eight tables are independent: created side by side (opening the store waits for this).
      await Promise.all(tables.map((sql) => this.#b.client.command({ query: sql })));
      // Tables an earlier version created: their settings follow from the next load on.
      if (this.#b.kind === 'chdb') await Promise.all(embeddedSettingsDdl(this.database).map((sql) => this.#b.client.command({ query: sql })));
    })().catch((err: unknown) => {
      this.#schema = null; // try again next time: the server may be back
      throw this.#wrap(err);
    });
    return this.#schema;
  }

  write(batch: StoreBatch): void {
    (this.#writer ?? this.openSpool()).write(batch);
  }

  async flush(): Promise<void> {
    if (this.#writer !== null) await this.#writer.flush();
  }

  stats(): StoreStats {
    const w = this.#writer?.stats() ?? { pending_rows: 0, spooled_rows: 0, spooled_batches: 0, last_flush_ts: null, last_error: null };
    return { backend: this.backend, database: this.database, ...w };
  }

  async query<T>(sql: string, params?: Record<string, unknown>): Promise<T[]> {
    try {
      const rs = await this.#b.client.query({
        query: sql,
        format: 'JSONEachRow',
        query_params: params,
        clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
      });
      return await rs.json<T>();
    } catch (err) {
      throw this.#wrap(err);
    }
  }

  get readOnly(): Queryable {
    return {
      query: async <T>(sql: string, params?: Record<string, unknown>): Promise<T[]> => {
        try {
          return await this.#b.readQuery<T>(sql, params);
        } catch (err) {
          throw this.#wrap(err);
        }
      },
    };
  }

  audit(opts: Partial<Pick<AuditOptions, 'initial_capital_usdt' | 'funding_paid_usdt' | 'tolerance_rel'>> = {}): Promise<AuditReport> {
    const c = this.#opts.config;
    return runAudit(this, {
      database: this.database,
      blue_database: c.blue_database,
      namespace: c.namespace,
      initial_capital_usdt: c.initial_capital_usdt,
      ...opts,
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      if (this.#writer !== null) await this.#writer.close();
    } finally {
      await this.#b.close();
    }
  }

  /** Unreachable → ExitError(3); a refused query stays an Error (a bug in the SQL), secrets removed. */
  #wrap(err: unknown): Error {
    if (err instanceof ExitError) return err;
    const why = oneLine(err, this.#b.redact);
    if (isUnreachable(err)) {
      return new ExitError(EXIT.UNREACHABLE, `${this.#b.where} is unreachable: ${why}`, 'Start ClickHouse or fix PINK_CLICKHOUSE_URL; unset it to use the embedded store.');
    }
    const out = new Error(`${this.#b.where}: ${why}`);
    out.name = 'StoreQueryError';
    return out;
  }
}

/** What to do when ClickHouse does not take PINK's rows, for the store PINK has. */
export function storeFix(kind: string, where: string, spoolDir: string): string {
  const waiting = `Nothing is lost: the rows wait in ${spoolDir} and are sent again by themselves`;
  return kind === 'server'
    ? `${waiting}. Check the ClickHouse server (PINK_CLICKHOUSE_URL: reachable, disk, user's insert grant); pink ditav2-status shows the spooled rows`
    : `${waiting}. Fix: free disk space under ${where.replace(/^the embedded store at /, '')} (df -h), and check that no other process has that folder open (pink mode-verify); if it lasts, pink restart`;
}
