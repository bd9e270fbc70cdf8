// Every query of `pink timeline` and `pink report`, in one place (SPEC 6; issue 22). Each reads the
// row families of PINK's database (and `funding` when that table exists) through a Queryable: the
// engine's own store when it runs (control socket), the store opened directly when it does not.
//
// Rules every query here follows:
// - a row is read once: ReplacingMergeTree may hold a row twice before a merge, so raw rows go
//   through `LIMIT 1 BY row_id`, and a trade (one row at open, one at close) is its latest version,
//   argMax over (legs, status = 'closed') as in store/audit.ts;
// - windows are half-open, [since, until), on the row's own time (a trade's entry_ts or exit_ts);
// - money is as recorded: realized is the sum of exit legs (SPEC 5: realized accrues per leg),
//   fees the sum of fills' fees, funding the funding table's amounts negated (paid is positive,
//   like fees), net = realized - fees - funding;
// - nothing is interpolated into SQL but identifiers checked by `ident`: values are parameters.
import type { Queryable } from '../store/parity.js';
import { ident } from '../store/schema.js';

/** The tables these queries read: the eight families and SPEC 6's PINK-only `funding`. */
export const READ_TABLES = ['trades', 'trade_exit_legs', 'orders', 'fills', 'positions', 'account', 'anomalies', 'decisions', 'funding'] as const;
export type ReadTable = (typeof READ_TABLES)[number];

/** What one query covers: a window, and optionally one symbol. */
export interface Scope {
  database: string;
  since_ms: number;
  until_ms: number;
  /** '' or undefined: every symbol. */
  symbol?: string | undefined;
}

/** Rows per family a timeline reads at most (the latest ones win; `truncated` says so). */
export const TIMELINE_ROWS_PER_KIND_MAX = 2000;
/** Points of the equity curve at most (consecutive account rows bucketed by ClickHouse). */
export const EQUITY_POINTS_MAX = 400;

function params(s: Scope, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { since: Math.floor(s.since_ms), until: Math.ceil(s.until_ms), symbol: s.symbol ?? '', ...extra };
}

const IN_WINDOW = (col = 'ts') => `${col} >= fromUnixTimestamp64Milli({since:Int64}, 'UTC') AND ${col} < fromUnixTimestamp64Milli({until:Int64}, 'UTC')`;
const FOR_SYMBOL = "({symbol:String} = '' OR symbol = {symbol:String})";
/** Engine-wide rows (no symbol) belong to every symbol's story. */
const FOR_SYMBOL_OR_ALL = "({symbol:String} = '' OR symbol = {symbol:String} OR symbol = '')";
/** A trade's latest row: the highest `legs` (the table's version), a close before an open at equal legs. */
const LATEST = "(legs, status = 'closed')";

/**
 * Each trade opened before the window's end, at its latest version (TradeRow's columns). The inner
 * aliases are x_-prefixed: ClickHouse aliases are query-wide, and `AS status` would turn the
 * `status` inside LATEST into the aggregate itself.
 */
const LATEST_TRADES = (db: string) => `SELECT trade_id, x_symbol AS symbol, x_side AS side, x_status AS status, x_entry_ms AS entry_ms, x_entry_price AS entry_price,
      x_entry_qty AS entry_qty, x_exit_ms AS exit_ms, x_exit_price_avg AS exit_price_avg, x_realized_pnl AS realized_pnl, x_fees AS fees, x_legs AS legs,
      x_exit_reason AS exit_reason
    FROM (
      SELECT trade_id, argMax(symbol, ${LATEST}) AS x_symbol, argMax(side, ${LATEST}) AS x_side, argMax(status, ${LATEST}) AS x_status,
             toUnixTimestamp64Milli(argMax(entry_ts, ${LATEST})) AS x_entry_ms, argMax(entry_price, ${LATEST}) AS x_entry_price,
             argMax(entry_qty, ${LATEST}) AS x_entry_qty, toUnixTimestamp64Milli(argMax(exit_ts, ${LATEST})) AS x_exit_ms,
             argMax(exit_price_avg, ${LATEST}) AS x_exit_price_avg, argMax(realized_pnl, ${LATEST}) AS x_realized_pnl, argMax(fees, ${LATEST}) AS x_fees,
             max(legs) AS x_legs, argMax(exit_reason, ${LATEST}) AS x_exit_reason
      FROM ${ident(db)}.trades
      WHERE entry_ts < fromUnixTimestamp64Milli({until:Int64}, 'UTC') AND ${FOR_SYMBOL}
      GROUP BY trade_id
    )`;

/** Which of READ_TABLES exist in `database` (a fresh store has none; `funding` comes with issue 20). */
export async function presentTables(q: Queryable, database: string): Promise<Set<ReadTable>> {
  const rows = await q.query<{ name: string }>('SELECT name FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}', {
    db: database,
    names: [...READ_TABLES],
  });
  return new Set(rows.map((r) => r.name as ReadTable));
}

// ---------------------------------------------------------------- timeline

export interface AnomalyRow { ts_ms: number; origin: string; code: string; severity: string; symbol: string; details: string }
export interface DecisionRow { ts_ms: number; intent_id: string; symbol: string; action: string; side: string; qty: number; reason: string; outcome_code: string }
export interface OrderRow { ts_ms: number; client_order_id: string; venue_order_id: string; symbol: string; side: string; order_type: string; qty: number; price: number; reduce_only: number; status: string; reason: string }
export interface FillRow { ts_ms: number; fill_id: string; client_order_id: string; symbol: string; side: string; qty: number; price: number; fee: number; inferred: number }
export interface LegRow { ts_ms: number; trade_id: string; leg_index: number; symbol: string; side: string; leg_qty: number; leg_price: number; leg_realized_pnl: number; leg_fee: number; remaining_qty: number; is_final: number; exit_reason: string; client_order_id: string }
export interface TradeRow { trade_id: string; symbol: string; side: string; status: string; entry_ms: number; entry_price: number; entry_qty: number; exit_ms: number; exit_price_avg: number; realized_pnl: number; fees: number; legs: number; exit_reason: string }
export interface SlotChangeRow { ts_ms: number; symbol: string; state: string; prev_state: string; side: string; qty: number }
export interface FundingRow { ts_ms: number; funding_id: string; symbol: string; amount_usdt: number; rate: number; position_qty: number; mark_price: number }

export interface TimelineRows {
  anomalies: AnomalyRow[];
  decisions: DecisionRow[];
  orders: OrderRow[];
  fills: FillRow[];
  legs: LegRow[];
  trades: TradeRow[];
  slots: SlotChangeRow[];
  funding: FundingRow[];
  /** Kinds that hit TIMELINE_ROWS_PER_KIND_MAX: older rows of them were left out. */
  truncated: string[];
}

/** The latest `limit` raw rows of `table` in the window, each row_id once, as `columns`. */
function windowRows(db: string, table: ReadTable, columns: string, symbolFilter: string): string {
  return `SELECT toUnixTimestamp64Milli(ts) AS ts_ms, ${columns}
    FROM ${ident(db)}.${ident(table)}
    WHERE ${IN_WINDOW()} AND ${symbolFilter}
    ORDER BY ts DESC, row_id DESC LIMIT 1 BY row_id LIMIT {limit:UInt32}`;
}

export const TIMELINE_SQL = {
  anomalies: (db: string) => windowRows(db, 'anomalies', 'origin, code, severity, symbol, details', FOR_SYMBOL_OR_ALL),
  decisions: (db: string) => windowRows(db, 'decisions', 'intent_id, symbol, action, side, qty, reason, outcome_code', FOR_SYMBOL),
  orders: (db: string) => windowRows(db, 'orders', 'client_order_id, venue_order_id, symbol, side, order_type, qty, price, reduce_only, status, reason', FOR_SYMBOL),
  fills: (db: string) => windowRows(db, 'fills', 'fill_id, client_order_id, symbol, side, qty, price, fee, inferred', FOR_SYMBOL),
  legs: (db: string) =>
    windowRows(db, 'trade_exit_legs', 'trade_id, leg_index, symbol, side, leg_qty, leg_price, leg_realized_pnl, leg_fee, remaining_qty, is_final, exit_reason, client_order_id', FOR_SYMBOL),
  funding: (db: string) => windowRows(db, 'funding', 'funding_id, symbol, amount_usdt, rate, position_qty, mark_price', FOR_SYMBOL),
  /** Trades opened or closed in the window, each at its latest version. */
  trades: (db: string) => `SELECT * FROM (${LATEST_TRADES(db)})
    WHERE (entry_ms >= {since:Int64} AND entry_ms < {until:Int64}) OR (status = 'closed' AND exit_ms >= {since:Int64} AND exit_ms < {until:Int64})
    ORDER BY greatest(entry_ms, exit_ms) DESC LIMIT {limit:UInt32}`,
  /** Slot state changes: a positions row whose state differs from the symbol's row before it. */
  slots: (db: string) => `SELECT ts_ms, symbol, state, prev_state, side, qty FROM (
      SELECT toUnixTimestamp64Milli(ts) AS ts_ms, ts, row_id, symbol, state, side, qty,
             lagInFrame(state, 1, '') OVER (PARTITION BY symbol ORDER BY ts, row_id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS prev_state
      FROM (SELECT ts, row_id, symbol, state, side, qty FROM ${ident(db)}.positions
            WHERE ts < fromUnixTimestamp64Milli({until:Int64}, 'UTC') AND ${FOR_SYMBOL} LIMIT 1 BY row_id)
    )
    WHERE ${IN_WINDOW()} AND state != prev_state
    ORDER BY ts DESC, row_id DESC LIMIT {limit:UInt32}`,
} as const;

/** Every timeline row family in the window (tables that do not exist read as empty). */
export async function timelineRows(q: Queryable, scope: Scope, have: Set<ReadTable>, limit = TIMELINE_ROWS_PER_KIND_MAX): Promise<TimelineRows> {
  const p = params(scope, { limit });
  const db = scope.database;
  const read = async <T>(table: ReadTable, sql: string): Promise<T[]> => (have.has(table) ? q.query<T>(sql, p) : []);
  // One after another: chDB runs one query per connection at a time anyway, and a server is
  // spared a burst from an incident tool.
  const out: TimelineRows = {
    anomalies: await read<AnomalyRow>('anomalies', TIMELINE_SQL.anomalies(db)),
    decisions: await read<DecisionRow>('decisions', TIMELINE_SQL.decisions(db)),
    orders: await read<OrderRow>('orders', TIMELINE_SQL.orders(db)),
    fills: await read<FillRow>('fills', TIMELINE_SQL.fills(db)),
    legs: await read<LegRow>('trade_exit_legs', TIMELINE_SQL.legs(db)),
    trades: await read<TradeRow>('trades', TIMELINE_SQL.trades(db)),
    slots: await read<SlotChangeRow>('positions', TIMELINE_SQL.slots(db)),
    funding: await read<FundingRow>('funding', TIMELINE_SQL.funding(db)),
    truncated: [],
  };
  for (const [kind, rows] of Object.entries(out)) if (Array.isArray(rows) && rows.length >= limit && kind !== 'truncated') out.truncated.push(kind);
  return out;
}

// ---------------------------------------------------------------- report

/** One symbol's figures over the window; the row with symbol '' is the total (ROLLUP). */
export interface PnlRow {
  symbol: string;
  realized: number;
  fees: number;
  funding: number;
  net: number;
  trades: number;
  wins: number;
  /** null when no trade closed in the window. */
  win_rate: number | null;
  avg_hold_s: number | null;
  legs: number;
  liquidations: number;
}

export interface DayRow extends Omit<PnlRow, 'symbol'> {
  day: string;
  equity_end: number | null;
}

export interface EquityPoint {
  ts_ms: number;
  equity: number;
  /** Below the running peak (USDT, >= 0), the largest in the bucket. */
  drawdown: number;
}

export interface ExposureRow {
  symbol: string;
  state: string;
  side: string;
  qty: number;
  entry_price: number;
  mark_price: number;
  unrealized_pnl: number;
  notional_usdt: number;
  ts_ms: number;
}

/**
 * The money facts of the window, one row per (key, source); `key` is the symbol or the UTC day.
 * realized from exit legs, fees from fills, funding from `funding`, trades from trades closed in
 * the window (a win: realized above the trade's fees), liquidations from legs of that reason.
 */
function factsSql(db: string, key: 'symbol' | 'day', have: Set<ReadTable>): string {
  const k = (col: string) => (key === 'symbol' ? 'symbol' : `toString(toDate(${col}, 'UTC'))`);
  const parts: string[] = [];
  if (have.has('trade_exit_legs')) {
    parts.push(`SELECT ${k('ts')} AS key, leg_realized_pnl AS f_realized, 0. AS f_fees, 0. AS f_funding, 0 AS f_trades, 0 AS f_wins, 0. AS f_hold_s, 1 AS f_legs, exit_reason = 'liquidation' AS f_liquidations
      FROM (SELECT ts, symbol, leg_realized_pnl, exit_reason FROM ${ident(db)}.trade_exit_legs WHERE ${IN_WINDOW()} AND ${FOR_SYMBOL} LIMIT 1 BY row_id)`);
  }
  if (have.has('fills')) {
    parts.push(`SELECT ${k('ts')} AS key, 0., fee, 0., 0, 0, 0., 0, 0
      FROM (SELECT ts, symbol, fee FROM ${ident(db)}.fills WHERE ${IN_WINDOW()} AND ${FOR_SYMBOL} LIMIT 1 BY row_id)`);
  }
  if (have.has('funding')) {
    parts.push(`SELECT ${k('ts')} AS key, 0., 0., -amount_usdt, 0, 0, 0., 0, 0
      FROM (SELECT ts, symbol, amount_usdt FROM ${ident(db)}.funding WHERE ${IN_WINDOW()} AND ${FOR_SYMBOL} LIMIT 1 BY row_id)`);
  }
  if (have.has('trades')) {
    const exitKey = key === 'symbol' ? 'symbol' : "toString(toDate(fromUnixTimestamp64Milli(exit_ms, 'UTC')))";
    parts.push(`SELECT ${exitKey} AS key, 0., 0., 0., 1, realized_pnl > fees, (exit_ms - entry_ms) / 1000., 0, 0
      FROM (${LATEST_TRADES(db)})
      WHERE status = 'closed' AND exit_ms >= {since:Int64} AND exit_ms < {until:Int64}`);
  }
  if (parts.length === 0) parts.push("SELECT '' AS key, 0. AS f_realized, 0. AS f_fees, 0. AS f_funding, 0 AS f_trades, 0 AS f_wins, 0. AS f_hold_s, 0 AS f_legs, 0 AS f_liquidations WHERE 0");
  return parts.join('\nUNION ALL\n');
}

// The facts' columns are f_-prefixed: an alias `realized` would make `sum(realized)` below its own input.
const FIGURES = `sum(f_realized) AS realized, sum(f_fees) AS fees, sum(f_funding) AS funding, sum(f_realized) - sum(f_fees) - sum(f_funding) AS net,
  toUInt32(sum(f_trades)) AS trades, toUInt32(sum(f_wins)) AS wins, if(sum(f_trades) = 0, NULL, sum(f_wins) / sum(f_trades)) AS win_rate,
  if(sum(f_trades) = 0, NULL, sum(f_hold_s) / sum(f_trades)) AS avg_hold_s, toUInt32(sum(f_legs)) AS legs, toUInt32(sum(f_liquidations)) AS liquidations`;

export const REPORT_SQL = {
  /** Per symbol, and the total as the ROLLUP row (symbol ''). */
  bySymbol: (db: string, have: Set<ReadTable>) => `SELECT key AS symbol, ${FIGURES}
    FROM (${factsSql(db, 'symbol', have)})
    GROUP BY key WITH ROLLUP ORDER BY key = '' DESC, net DESC, key`,
  /** Per UTC day, with the account's last equity of that day (account-wide, whatever the symbol). */
  // No SETTINGS join_use_nulls: a read-only session (readonly = 1: the engine's control socket)
  // refuses any setting, so a day without account rows is told apart by e.seen instead.
  byDay: (db: string, have: Set<ReadTable>) => `SELECT f.day AS day, f.realized AS realized, f.fees AS fees, f.funding AS funding, f.net AS net, f.trades AS trades,
      f.wins AS wins, f.win_rate AS win_rate, f.avg_hold_s AS avg_hold_s, f.legs AS legs, f.liquidations AS liquidations, if(e.seen = 1, toNullable(e.equity_end), NULL) AS equity_end
    FROM (SELECT key AS day, ${FIGURES} FROM (${factsSql(db, 'day', have)}) GROUP BY key) AS f
    LEFT JOIN (${
      have.has('account')
        ? `SELECT toString(toDate(ts, 'UTC')) AS day, argMax(equity, (ts, row_id)) AS equity_end, toUInt8(1) AS seen FROM ${ident(db)}.account WHERE ${IN_WINDOW()} GROUP BY day`
        : "SELECT '' AS day, 0. AS equity_end, toUInt8(1) AS seen WHERE 0"
    }) AS e ON e.day = f.day
    ORDER BY day`,
  /**
   * The account's equity over the window, from the last row before it, in at most `points_max`
   * buckets of consecutive rows: each bucket's last equity, and the deepest drawdown below the
   * running peak in it (so the curve's worst point is never averaged away).
   */
  equityCurve: (db: string) => `SELECT intDiv(n, toUInt64(ceil(total / {points_max:UInt32}))) AS b, max(t) AS ts_ms, argMax(equity, (t, n)) AS equity, max(dd) AS drawdown
    FROM (SELECT t, n, equity, dd, count() OVER () AS total FROM (${EQUITY_SERIES(db)}))
    GROUP BY b ORDER BY b`,
  /** The largest fall of equity below its running peak in the window, with its peak and trough. */
  maxDrawdown: (db: string) => `SELECT max(dd) AS max_drawdown, argMax(peak, dd) AS peak, argMax(equity, dd) AS trough, argMax(t, dd) AS trough_ms,
      count() AS points, argMax(equity, (t, n)) AS equity_end, argMin(equity, (t, n)) AS equity_start
    FROM (${EQUITY_SERIES(db)})`,
  /** Open positions as of the window's end: each symbol's last slot row with a quantity. */
  exposure: (db: string) => `SELECT symbol, x_state AS state, x_side AS side, x_qty AS qty, x_entry AS entry_price, x_mark AS mark_price,
      x_unrealized AS unrealized_pnl, x_qty * if(x_mark > 0, x_mark, x_entry) AS notional_usdt, x_ts_ms AS ts_ms
    FROM (
      SELECT symbol, argMax(state, (ts, row_id)) AS x_state, argMax(side, (ts, row_id)) AS x_side, argMax(qty, (ts, row_id)) AS x_qty,
             argMax(avg_entry_price, (ts, row_id)) AS x_entry, argMax(mark_price, (ts, row_id)) AS x_mark,
             argMax(unrealized_pnl, (ts, row_id)) AS x_unrealized, toUnixTimestamp64Milli(max(ts)) AS x_ts_ms
      FROM ${ident(db)}.positions
      WHERE ts < fromUnixTimestamp64Milli({until:Int64}, 'UTC') AND ${FOR_SYMBOL}
      GROUP BY symbol
    )
    WHERE x_qty > 0 ORDER BY notional_usdt DESC, symbol`,
} as const;

/**
 * (t, n, equity, peak, dd): the account rows of the window, each once, after the last one before
 * it (placed at `since`, n = 0, so the curve starts where the account stood); dd = peak - equity.
 */
const EQUITY_SERIES = (db: string) => `SELECT t, n, equity, peak, peak - equity AS dd FROM (
    SELECT t, n, equity, max(equity) OVER (ORDER BY t, n ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS peak FROM (
      SELECT {since:Int64} AS t, 0 AS n, equity FROM (
        SELECT equity FROM ${ident(db)}.account WHERE ts < fromUnixTimestamp64Milli({since:Int64}, 'UTC') ORDER BY ts DESC, row_id DESC LIMIT 1)
      UNION ALL
      SELECT toUnixTimestamp64Milli(ts) AS t, row_number() OVER (ORDER BY ts, row_id) AS n, equity FROM (
        SELECT ts, row_id, equity FROM ${ident(db)}.account WHERE ${IN_WINDOW()} LIMIT 1 BY row_id)
    )
  )`;

export interface ReportRows {
  symbols: PnlRow[];
  total: PnlRow;
  days: DayRow[];
  curve: EquityPoint[];
  drawdown: { max_drawdown: number | null; peak: number | null; trough: number | null; trough_ms: number | null; points: number; equity_start: number | null; equity_end: number | null };
  exposure: ExposureRow[];
}

const NO_REPORT: ReportRows = {
  symbols: [],
  total: { symbol: '', realized: 0, fees: 0, funding: 0, net: 0, trades: 0, wins: 0, win_rate: null, avg_hold_s: null, legs: 0, liquidations: 0 },
  days: [],
  curve: [],
  drawdown: { max_drawdown: null, peak: null, trough: null, trough_ms: null, points: 0, equity_start: null, equity_end: null },
  exposure: [],
};
const EMPTY_TOTAL: PnlRow = NO_REPORT.total;

/** Every figure of the report, each from ClickHouse. */
export async function reportRows(q: Queryable, scope: Scope, have: Set<ReadTable>, opts: { totalsOnly?: boolean } = {}): Promise<ReportRows> {
  const db = scope.database;
  const p = params(scope, { points_max: EQUITY_POINTS_MAX });
  const bySymbol = await q.query<PnlRow>(REPORT_SQL.bySymbol(db, have), p);
  if (opts.totalsOnly) return { ...NO_REPORT, symbols: bySymbol.filter((r) => r.symbol !== ''), total: bySymbol.find((r) => r.symbol === '') ?? EMPTY_TOTAL };
  const days = await q.query<DayRow>(REPORT_SQL.byDay(db, have), p);
  const hasAccount = have.has('account');
  const curve = hasAccount ? (await q.query<EquityPoint & { b: number }>(REPORT_SQL.equityCurve(db), p)).map(({ ts_ms, equity, drawdown }) => ({ ts_ms, equity, drawdown })) : [];
  const [dd] = hasAccount ? await q.query<ReportRows['drawdown']>(REPORT_SQL.maxDrawdown(db), p) : [];
  const exposure = have.has('positions') ? await q.query<ExposureRow>(REPORT_SQL.exposure(db), p) : [];
  const total = bySymbol.find((r) => r.symbol === '') ?? EMPTY_TOTAL;
  const noPoints = NO_REPORT.drawdown;
  return {
    symbols: bySymbol.filter((r) => r.symbol !== ''),
    total,
    days: days.filter((d) => d.day !== ''),
    curve,
    drawdown: dd && dd.points > 0 ? dd : noPoints,
    exposure,
  };
}
