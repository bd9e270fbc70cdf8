// The one schema source: SPEC section 5's eight row families, their columns and ClickHouse types,
// written down once. Everything else is derived from FAMILY_COLUMNS: PINK's DDL (embedded and
// ON CLUSTER), the legacy BLUE reference that `mode-verify` compares PINK's live tables with, and
// the row encoder (encode.ts). Types only and pure functions: importing this costs nothing.
//
// Choices where SPEC 5 is silent (BLUE is a legacy system, so the conservative type wins):
// - flags (`is_final`, `reduce_only`, `inferred`) are UInt8, not Bool: BLUE predates Bool;
// - counters (`legs`, `leg_index`, `hold_bars`) are UInt32;
// - enumerations and reasons are LowCardinality(String); ids and free JSON text are String;
// - nothing is Nullable (BLUE's convention, and the kernel's): a value not known yet is 0 or ''
//   (an open trade's exit_ts is 1970-01-01 00:00:00.000, a market order's price 0).
import type { BlueFamily, RowFamily } from '../kernel/types.js';

export type ColumnKind = 'string' | 'lc' | 'time' | 'float' | 'uint32' | 'flag';

export interface ColumnSpec {
  name: string;
  kind: ColumnKind;
}

/** A column as ClickHouse's system.columns spells it. */
export interface ColumnType {
  name: string;
  type: string;
}

export type ReferenceSchema = Record<BlueFamily, ColumnType[]>;

/** SPEC 5's eight families: BLUE's, compared by mode-verify's schema parity. */
export const FAMILIES: readonly BlueFamily[] = [
  'trades',
  'trade_exit_legs',
  'orders',
  'fills',
  'positions',
  'account',
  'anomalies',
  'decisions',
];

/** PINK's tables: the eight, then SPEC 6's PINK-only `funding` (issue 20; not BLUE's, not compared). */
export const PINK_ONLY_FAMILIES: readonly RowFamily[] = ['funding'];
export const PINK_FAMILIES: readonly RowFamily[] = [...FAMILIES, ...PINK_ONLY_FAMILIES];

/** The columns every family starts with; `namespace` and `run_id` are added by the store. */
export const COMMON_COLUMNS = 'namespace:lc run_id:string row_id:string';

// `name:kind`, kept as text so a reader can hold a family in one line.
const FAMILY_SPECS: Record<RowFamily, string> = {
  trades:
    'trade_id:string slot_id:string symbol:lc side:lc status:lc entry_ts:time entry_price:float entry_qty:float ' +
    'exit_ts:time exit_price_avg:float exit_qty:float realized_pnl:float fees:float legs:uint32 exit_reason:lc hold_bars:uint32',
  trade_exit_legs:
    'ts:time trade_id:string leg_index:uint32 symbol:lc side:lc leg_qty:float leg_price:float leg_realized_pnl:float ' +
    'leg_fee:float remaining_qty:float cum_realized_pnl:float is_final:flag exit_reason:lc client_order_id:string',
  orders:
    'ts:time client_order_id:string venue_order_id:string trade_id:string symbol:lc side:lc order_type:lc qty:float ' +
    'price:float reduce_only:flag status:lc reason:lc',
  fills:
    'ts:time fill_id:string client_order_id:string venue_order_id:string trade_id:string symbol:lc side:lc qty:float ' +
    'price:float fee:float fee_asset:lc inferred:flag',
  positions:
    'ts:time slot_id:string symbol:lc state:lc side:lc qty:float avg_entry_price:float mark_price:float ' +
    'unrealized_pnl:float hold_bars:uint32',
  account: 'ts:time capital:float realized_pnl:float fees:float equity:float venue_balance:float drift:float',
  anomalies: 'ts:time origin:lc code:lc severity:lc slot_id:string symbol:lc details:string',
  decisions: 'ts:time intent_id:string symbol:lc action:lc side:lc qty:float reason:lc outcome_code:lc',
  // SPEC 6; amount_usdt + received, − paid; rate, position_qty (signed) and mark_price 0 when unknown.
  funding: 'ts:time funding_id:string symbol:lc amount_usdt:float rate:float position_qty:float mark_price:float',
};

const KINDS: readonly ColumnKind[] = ['string', 'lc', 'time', 'float', 'uint32', 'flag'];

function parseSpec(spec: string): ColumnSpec[] {
  return spec.split(' ').map((item) => {
    const [name, kind] = item.split(':') as [string, ColumnKind];
    if (!KINDS.includes(kind)) throw new Error(`schema: column ${name} has unknown kind ${kind}`);
    return { name, kind };
  });
}

/** Every family's columns, in table order (the three common columns first). */
export const FAMILY_COLUMNS: Readonly<Record<RowFamily, readonly ColumnSpec[]>> = Object.fromEntries(
  PINK_FAMILIES.map((f) => [f, [...parseSpec(COMMON_COLUMNS), ...parseSpec(FAMILY_SPECS[f])]]),
) as Record<RowFamily, ColumnSpec[]>;

const BASE_TYPE: Record<ColumnKind, string> = {
  string: 'String',
  lc: 'LowCardinality(String)',
  time: "DateTime64(3, 'UTC')",
  float: 'Float64',
  uint32: 'UInt32',
  flag: 'UInt8',
};

/** The type as system.columns prints it (so parity compares strings, not parses). */
export function columnType(col: ColumnSpec): string {
  return BASE_TYPE[col.kind];
}

/**
 * BLUE's legacy schema as built into pink: what `mode-verify` compares PINK's tables with when BLUE's
 * own tables are not reachable. It IS PINK's schema (one source); a live BLUE table, when present,
 * is the stronger reference and is read by parity.ts.
 */
export const LEGACY_BLUE_SCHEMA: ReferenceSchema = Object.fromEntries(
  FAMILIES.map((f) => [f, FAMILY_COLUMNS[f].map((c) => ({ name: c.name, type: columnType(c) }))]),
) as ReferenceSchema;

/**
 * Table engines. Every family is a ReplacingMergeTree whose sorting key ends in `row_id`: insert
 * de-duplication (token per batch and family) is the first defense against a batch landing twice,
 * the merge on the key is the second. Columns in a key besides row_id are fixed by the row_id
 * (same row_id → same row), so duplicates always share the key. `trades` is keyed by trade_id with
 * `legs` as the version: the closing row (legs ≥ the open row's) replaces the open one, latest wins,
 * and a late open row can never replace a close.
 */
export interface TableLayout {
  version: string | null;
  order_by: readonly string[];
}

export const TABLE_LAYOUT: Readonly<Record<RowFamily, TableLayout>> = {
  trades: { version: 'legs', order_by: ['trade_id'] },
  trade_exit_legs: { version: null, order_by: ['trade_id', 'row_id'] },
  orders: { version: null, order_by: ['symbol', 'ts', 'row_id'] },
  fills: { version: null, order_by: ['symbol', 'ts', 'row_id'] },
  positions: { version: null, order_by: ['symbol', 'ts', 'row_id'] },
  account: { version: null, order_by: ['ts', 'row_id'] },
  anomalies: { version: null, order_by: ['ts', 'row_id'] },
  decisions: { version: null, order_by: ['symbol', 'ts', 'row_id'] },
  funding: { version: null, order_by: ['symbol', 'ts', 'row_id'] },
};

/**
 * How many recent insert blocks per table ClickHouse remembers to drop a re-sent one. MergeTree's
 * default is 0 (no de-duplication at all without replication); a re-sent batch arrives within a few
 * hundred inserts of its first attempt, so 1000 covers a long outage at one insert per family per step.
 */
export const DEDUP_WINDOW_BLOCKS = 1000;

/** ZooKeeper/Keeper path of a replicated table; the macros are expanded by each server. */
export const REPLICATED_PATH = "'/clickhouse/tables/{shard}/{database}/{table}', '{replica}'";

const IDENT = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

/** Backtick-quotes a database, table or cluster name; anything unusual is a programmer error. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`assertion: ${JSON.stringify(name)} is not a plain ClickHouse identifier`);
  return `\`${name}\``;
}

export interface DdlOptions {
  /** PINK_CLICKHOUSE_CLUSTER: ON CLUSTER and Replicated* engines (server mode only). */
  cluster?: string | undefined;
  /** The embedded store (chDB): its tables are created with EMBEDDED_PART_SETTINGS. */
  embedded?: boolean;
}

/** The table's ENGINE … SETTINGS clause (shared by PINK's DDL and tests that build a BLUE copy). */
export function engineClause(family: RowFamily, opts: DdlOptions = {}): string {
  const { version, order_by } = TABLE_LAYOUT[family];
  const replicated = opts.cluster !== undefined;
  const args = [replicated ? REPLICATED_PATH : '', version ?? ''].filter((a) => a !== '').join(', ');
  const engine = `${replicated ? 'Replicated' : ''}ReplacingMergeTree(${args})`;
  const window = replicated ? 'replicated_deduplication_window' : 'non_replicated_deduplication_window';
  const embedded = opts.embedded === true && !replicated ? `, ${EMBEDDED_PART_SETTINGS}` : '';
  return `ENGINE = ${engine}\nORDER BY (${order_by.join(', ')})\nSETTINGS ${window} = ${DEDUP_WINDOW_BLOCKS}${embedded}`;
}

/**
 * The embedded store's part housekeeping, merging and durability. Every INSERT makes a part and
 * merges replace them; each part a table still lists, active or merged away, holds ~15 KB of
 * chDB's memory (docs/store.md).
 * - A merged part is fsynced before it replaces its sources (`min_rows_to_fsync_after_merge = 1`),
 *   so its sources need not be kept: `old_parts_lifetime = 0` (chDB's own default; a server keeps
 *   them 480 s in case a merged part was lost to a power cut before it reached the disk).
 * - The cleanup that removes them looks every second, never backing off past 10 s.
 * In each table's CREATE: an ALTER … MODIFY SETTING of the cleanup's period only takes effect when
 * the table is next loaded (measured: merged-away parts still listed after 30 s). The ALTER runs at
 * every open too, for tables an earlier version made. Measured over the 30-minute soak: 29
 * merged-away parts listed at the end instead of 676, chDB tracking 53 MB instead of 62, its data
 * folder 2.3 MB instead of 18.
 * - Merges wait for about 10 similar parts, not 5 (`merge_selector_base = 10`). The merge selector
 *   counts every part as at least 5 MB, so while a table is smaller than that, the default base
 *   merges the whole table again every few inserts: the work per inserted row grows with the table
 *   (store-growth at 40 steps a second: each row merged 500 times over by minute 5, 31 MB a second
 *   of merging, merges holding 14 MB on average and rising). With base 10 the selector stops
 *   taking the big part into small merges: each row merged ~30 times, levelling off; at most ~10
 *   parts a table (docs/store.md). Read at each merge's selection, so the ALTER applies at once.
 * - An inserted part is fsynced, files and folder, before the INSERT returns (`fsync_after_insert`,
 *   `fsync_part_directory`). The engine's checkpoint lets the journal forget a step's inputs once
 *   the store has its rows; without the fsync a power cut (not a kill -9: the kernel still has the
 *   pages) could lose rows the journal no longer holds. Measured: ~12 fdatasyncs a part, 96 a
 *   flush of the demo's families; a flush p50 63 ms instead of 53, the store bench ~6 % slower.
 * Not applied to a server: its operator owns that policy.
 */
export const EMBEDDED_PART_SETTINGS =
  'old_parts_lifetime = 0, min_rows_to_fsync_after_merge = 1, cleanup_delay_period = 1, max_cleanup_delay_period = 10, cleanup_delay_period_random_add = 0, merge_selector_base = 10, fsync_after_insert = 1, fsync_part_directory = 1';

export function embeddedSettingsDdl(database: string): string[] {
  return PINK_FAMILIES.map((family) => `ALTER TABLE ${ident(database)}.${ident(family)} MODIFY SETTING ${EMBEDDED_PART_SETTINGS}`);
}

/**
 * PINK's DDL for `database`: CREATE DATABASE, then one CREATE TABLE per family, all IF NOT EXISTS
 * (running it twice changes nothing). With a cluster every statement is `ON CLUSTER <name>` and the
 * engines are ReplicatedReplacingMergeTree at REPLICATED_PATH, de-duplicating over
 * `replicated_deduplication_window` blocks: one definition serves every replica.
 */
export function schemaDdl(database: string, opts: DdlOptions = {}): string[] {
  const on = opts.cluster !== undefined ? ` ON CLUSTER ${ident(opts.cluster)}` : '';
  const db = ident(database);
  const out = [`CREATE DATABASE IF NOT EXISTS ${db}${on}`];
  for (const family of PINK_FAMILIES) {
    const cols = FAMILY_COLUMNS[family].map((c) => `  ${c.name} ${columnType(c)}`).join(',\n');
    out.push(`CREATE TABLE IF NOT EXISTS ${db}.${ident(family)}${on}\n(\n${cols}\n)\n${engineClause(family, opts)}`);
  }
  return out;
}
