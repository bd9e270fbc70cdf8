// Shared by the store tests: temp homes, configs, the backends to run against, a raw client (to
// play BLUE or a broken writer), and rows for every family that satisfy SPEC 5's invariants.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import { homePaths, loadConfig, type Config } from '../../src/config.js';
import type { RowOut } from '../../src/engine/kernel/types.js';
import { TIME_MS_MAX } from '../../src/engine/store/encode.js';
import { FAMILY_COLUMNS, PINK_FAMILIES } from '../../src/engine/store/schema.js';

export const INITIAL_CAPITAL_USDT = 10_000;

export function tmpHome(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `pink-store-${prefix}-`));
}

export interface BackendCase {
  name: 'chdb' | 'server';
  /** Extra environment for loadConfig (the server's URL and credentials). */
  env: Record<string, string>;
}

/** chDB always; the server too when PINK_CLICKHOUSE_URL is set for the test run. */
export function backendCases(): BackendCase[] {
  const cases: BackendCase[] = [{ name: 'chdb', env: {} }];
  const url = process.env['PINK_CLICKHOUSE_URL'];
  if (url !== undefined && url !== '') {
    const env: Record<string, string> = { PINK_CLICKHOUSE_URL: url };
    for (const k of ['PINK_CLICKHOUSE_USER', 'PINK_CLICKHOUSE_PASSWORD']) {
      const v = process.env[k];
      if (v !== undefined) env[k] = v;
    }
    cases.push({ name: 'server', env });
  }
  return cases;
}

let dbCounter = 0;

/** A config with its own PINK and BLUE databases (unique per call, so tests on one server do not meet). */
export function configFor(home: string, backend: BackendCase, env: Record<string, string> = {}): Config {
  const tag = `${process.pid}_${++dbCounter}_${Date.now() % 1_000_000}`;
  return loadConfig({
    PINK_HOME: home,
    DOLPHIN_PINK_INITIAL_CAPITAL: String(INITIAL_CAPITAL_USDT),
    DOLPHIN_PINK_CH_DATABASE: `pink_t_${tag}`,
    DOLPHIN_BLUE_CH_DATABASE: `blue_t_${tag}`,
    ...backend.env,
    ...env,
  });
}

/** A client of its own on the same ClickHouse (for chDB: another connection on the same folder). */
export async function rawClient(config: Config): Promise<ClickHouseClient> {
  const { createClient } = await import('@clickhouse/client');
  if (config.clickhouse_url !== undefined) {
    return createClient({ url: config.clickhouse_url, username: config.clickhouse_user, password: config.clickhouse_password });
  }
  const { createChdbConnection } = await import('chdb/connection');
  type ClientConnection = NonNullable<Parameters<typeof createClient>[0]>['connection'];
  return createClient({ connection: createChdbConnection({ path: homePaths(config.home).clickhouse }) as unknown as ClientConnection });
}

export const T0_MS = Date.UTC(2025, 0, 2, 3, 4, 5, 678);

/**
 * One whole trade in every family: entry, two exit legs (isolated deltas), open and closed trade
 * rows, positions, the account after it, an anomaly and a decision. Realized PnL and fees carry
 * binary-unfriendly decimals on purpose. `k` makes the ids unique; `capitalBefore` chains trades.
 */
export function tradeRows(k: number, prior: { realized: number; fees: number } = { realized: 0, fees: 0 }): { rows: RowOut[]; realized: number; fees: number } {
  const t = T0_MS + k * 60_000;
  const trade_id = `T${k}`;
  const symbol = k % 2 === 0 ? 'BTC-USDT' : 'ETH-USDT';
  const entry = { price: 100.1, qty: 0.3 };
  const legs = [
    { qty: 0.1, price: 110.7, fee: 0.011 },
    { qty: 0.2, price: 95.3, fee: 0.019 },
  ];
  const entryFee = 0.03;
  const pnl = legs.map((l) => (l.price - entry.price) * l.qty);
  const realized = pnl[0]! + pnl[1]!;
  const fees = entryFee + legs[0]!.fee + legs[1]!.fee;
  const rows: RowOut[] = [];
  const add = (family: RowOut['family'], n: number, row: Record<string, string | number | boolean | null>) =>
    rows.push({ family, row: { row_id: `${family}:${trade_id}:${n}`, ...row } });
  add('decisions', 0, { ts: t, intent_id: `i-${k}`, symbol, action: 'ENTER', side: 'long', qty: 0, reason: 'demo', outcome_code: 'OK' });
  add('orders', 0, { ts: t, client_order_id: `pink-${k}-e`, venue_order_id: null, trade_id, symbol, side: 'buy', order_type: 'market', qty: entry.qty, price: 0, reduce_only: false, status: 'NEW', reason: '' });
  add('fills', 0, { ts: t + 1, fill_id: `f-${k}-e`, client_order_id: `pink-${k}-e`, venue_order_id: `v-${k}-e`, trade_id, symbol, side: 'buy', qty: entry.qty, price: entry.price, fee: entryFee, fee_asset: 'USDT', inferred: false });
  add('trades', 0, { trade_id, slot_id: symbol, symbol, side: 'long', status: 'open', entry_ts: t + 1, entry_price: entry.price, entry_qty: entry.qty, exit_ts: 0, exit_price_avg: 0, exit_qty: 0, realized_pnl: 0, fees: entryFee, legs: 0, exit_reason: '', hold_bars: 0 });
  add('positions', 0, { ts: t + 1, slot_id: symbol, symbol, state: 'OPEN', side: 'long', qty: entry.qty, avg_entry_price: entry.price, mark_price: 100.2, unrealized_pnl: 0.03, hold_bars: 0 });
  let remaining = entry.qty;
  let cum = 0;
  legs.forEach((l, i) => {
    remaining -= l.qty;
    cum += pnl[i]!;
    const ts = t + 10 + i;
    add('fills', i + 1, { ts, fill_id: `f-${k}-x${i}`, client_order_id: `pink-${k}-x${i}`, venue_order_id: `v-${k}-x${i}`, trade_id, symbol, side: 'sell', qty: l.qty, price: l.price, fee: l.fee, fee_asset: 'USDT', inferred: i === 1 });
    add('trade_exit_legs', i, { ts, trade_id, leg_index: i, symbol, side: 'long', leg_qty: l.qty, leg_price: l.price, leg_realized_pnl: pnl[i]!, leg_fee: l.fee, remaining_qty: Math.max(remaining, 0), cum_realized_pnl: cum, is_final: i === legs.length - 1, exit_reason: 'take_profit', client_order_id: `pink-${k}-x${i}` });
  });
  add('trades', 1, { trade_id, slot_id: symbol, symbol, side: 'long', status: 'closed', entry_ts: t + 1, entry_price: entry.price, entry_qty: entry.qty, exit_ts: t + 11, exit_price_avg: (legs[0]!.price * 0.1 + legs[1]!.price * 0.2) / 0.3, exit_qty: entry.qty, realized_pnl: realized, fees, legs: 2, exit_reason: 'take_profit', hold_bars: 7 });
  add('positions', 1, { ts: t + 11, slot_id: symbol, symbol, state: 'CLOSED', side: '', qty: 0, avg_entry_price: 0, mark_price: 95.3, unrealized_pnl: 0, hold_bars: 7 });
  const totalRealized = prior.realized + realized;
  const totalFees = prior.fees + fees;
  const capital = INITIAL_CAPITAL_USDT + totalRealized - totalFees;
  add('account', 0, { ts: t + 11, capital, realized_pnl: totalRealized, fees: totalFees, equity: capital, venue_balance: capital + 0.5, drift: 0.5 });
  add('anomalies', 0, { ts: t + 5, origin: 'ditav2_kernel', code: 'EXIT_CLAMPED', severity: 'WARNING', slot_id: symbol, symbol, details: JSON.stringify({ reason: 'final exit clamped', asked: 0.25 }) });
  return { rows, realized: totalRealized, fees: totalFees };
}

/** Text that every format must carry: tabs, newlines, backslashes, NULs, non-ASCII, long (null: absent). */
export const SPECIAL_TEXT: readonly (string | null)[] = [
  '', 'plain', 'tab\there', 'line\nbreak\n', 'back\\slash\\', 'cr\rlf', 'nul\0byte', 'ünïcödé € 日本語 😀', 'lone \ud800 surrogate',
  '\\N', 'x'.repeat(200), 'é'.repeat(9_000), null,
];
/** Doubles at the edges of Float64 (no NaN or infinity: the checks refuse them). */
export const SPECIAL_FLOATS: readonly number[] = [-0, 0, 5e-324, -5e-324, 1.7976931348623157e308, -1.7976931348623157e308, 0.1 + 0.2, 2 ** 53 + 2, 123456789.12345679, -1e-300, 1e21];
/** Times at ms precision, from the epoch to DateTime64(3)'s last day. */
export const SPECIAL_MS: readonly number[] = [0, 1, 999, T0_MS, 1_700_000_000_123, TIME_MS_MAX];
export const SPECIAL_UINT32: readonly number[] = [0, 1, 2 ** 31, 4_294_967_295];
export const SPECIAL_FLAGS: readonly (boolean | number)[] = [true, false, 1, 0];

/**
 * Rows of every family in which every column takes the awkward values above in turn. Ids stay
 * unique (row_id, and the trades key trade_id) so that no table merges two of them away.
 */
export function specialRows(): RowOut[] {
  const out: RowOut[] = [];
  const n = SPECIAL_TEXT.length;
  for (const family of PINK_FAMILIES) {
    for (let i = 0; i < n; i++) {
      const row: RowOut['row'] = { row_id: `special:${family}:${i}` };
      FAMILY_COLUMNS[family].forEach((c, j) => {
        if (c.name === 'namespace' || c.name === 'run_id' || c.name === 'row_id') return;
        const pick = <T>(list: readonly T[]): T => list[(i + j) % list.length]!;
        if (c.kind === 'string' || c.kind === 'lc') {
          const text = pick(SPECIAL_TEXT);
          row[c.name] = c.name === 'details' ? JSON.stringify({ text }) : family === 'trades' && c.name === 'trade_id' ? `${text ?? ''}#${i}` : text;
        } else if (c.kind === 'time') row[c.name] = pick(SPECIAL_MS);
        else if (c.kind === 'float') row[c.name] = pick(SPECIAL_FLOATS);
        else if (c.kind === 'uint32') row[c.name] = pick(SPECIAL_UINT32);
        else row[c.name] = pick(SPECIAL_FLAGS);
      });
      out.push({ family, row });
    }
  }
  return out;
}

/** `n` consecutive trades, each batch its own step. */
export function tradeBatches(n: number, first = 0): { token: string; rows: RowOut[] }[] {
  let prior = { realized: 0, fees: 0 };
  const out: { token: string; rows: RowOut[] }[] = [];
  for (let k = first; k < first + n; k++) {
    const r = tradeRows(k, prior);
    prior = { realized: r.realized, fees: r.fees };
    out.push({ token: `step:${k}`, rows: r.rows });
  }
  return out;
}

export const ROWS_PER_TRADE = tradeRows(0).rows.length;

/** Rows of each family, counted once per row_id (what a reader must see). */
export async function distinctCounts(q: { query<T>(sql: string): Promise<T[]> }, database: string, families: readonly string[]): Promise<Record<string, { raw: number; ids: number }>> {
  const sql = families
    .map((f) => `SELECT '${f}' AS family, count() AS raw, uniqExact(row_id) AS ids FROM \`${database}\`.\`${f}\``)
    .join(' UNION ALL ');
  const rows = await q.query<{ family: string; raw: number; ids: number }>(sql);
  return Object.fromEntries(rows.map((r) => [r.family, { raw: Number(r.raw), ids: Number(r.ids) }]));
}

/** A loopback port nothing listens on (taken from the OS, then released): ClickHouse "down". */
export async function closedPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** Server runs leave nothing behind: drops the test's PINK and BLUE databases (chDB folders are temp). */
export async function dropDatabases(config: Config): Promise<void> {
  if (config.clickhouse_url === undefined) return;
  const raw = await rawClient(config);
  try {
    for (const db of [config.database, config.blue_database]) await raw.command({ query: `DROP DATABASE IF EXISTS \`${db}\`` });
  } finally {
    await raw.close();
  }
}
