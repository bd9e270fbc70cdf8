// Known rows for the observe tests: a small history whose every figure is worked out by hand
// below (KNOWN), written through the real store into chDB. Two UTC days, three trades in the
// window (one closed by a liquidation leg, one still open), one before it, funding both ways,
// an equity series with a known drawdown, and anomalies on the window's edges.
import type { RowOut } from '../../src/engine/kernel/types.js';

export const T = Date.UTC(2026, 0, 10, 23, 50, 0, 0);
export const MIN = 60_000;
export const SINCE = T - 30 * MIN;
export const UNTIL = T + 30 * MIN;

type Row = Record<string, string | number | boolean | null>;
let n = 0;
const r = (family: RowOut['family'], row: Row): RowOut => ({ family, row: { row_id: `${family}:known:${++n}`, ...row } });

function trade(id: string, symbol: string, side: 'long' | 'short', entry: { ts: number; price: number; qty: number; fee: number }, legs: { ts: number; price: number; qty: number; fee: number; reason: string }[], marks: number): RowOut[] {
  const out: RowOut[] = [];
  const dir = side === 'long' ? 1 : -1;
  const buy = side === 'long' ? 'buy' : 'sell';
  const sell = side === 'long' ? 'sell' : 'buy';
  out.push(r('decisions', { ts: entry.ts, intent_id: `${id}-in`, symbol, action: 'ENTER', side, qty: entry.qty, reason: 'known', outcome_code: 'INTENT_ACCEPTED' }));
  out.push(r('orders', { ts: entry.ts, client_order_id: `pink-${id}-e`, venue_order_id: '', trade_id: id, symbol, side: buy, order_type: 'market', qty: entry.qty, price: 0, reduce_only: false, status: 'new', reason: 'known' }));
  out.push(r('fills', { ts: entry.ts, fill_id: `f-${id}-e`, client_order_id: `pink-${id}-e`, venue_order_id: `v-${id}-e`, trade_id: id, symbol, side: buy, qty: entry.qty, price: entry.price, fee: entry.fee, fee_asset: 'USDT', inferred: false }));
  out.push(r('positions', { ts: entry.ts, slot_id: symbol, symbol, state: 'OPEN', side, qty: entry.qty, avg_entry_price: entry.price, mark_price: marks, unrealized_pnl: (marks - entry.price) * entry.qty * dir, hold_bars: 0 }));
  const open = { trade_id: id, slot_id: symbol, symbol, side, status: 'open', entry_ts: entry.ts, entry_price: entry.price, entry_qty: entry.qty, exit_ts: 0, exit_price_avg: 0, exit_qty: 0, realized_pnl: 0, fees: entry.fee, legs: 0, exit_reason: '', hold_bars: 0 };
  out.push(r('trades', open));
  let left = entry.qty;
  let cum = 0;
  let fees = entry.fee;
  let notional = 0;
  legs.forEach((l, i) => {
    left -= l.qty;
    const pnl = (l.price - entry.price) * l.qty * dir;
    cum += pnl;
    fees += l.fee;
    notional += l.price * l.qty;
    out.push(r('fills', { ts: l.ts, fill_id: `f-${id}-x${i}`, client_order_id: `pink-${id}-x${i}`, venue_order_id: `v-${id}-x${i}`, trade_id: id, symbol, side: sell, qty: l.qty, price: l.price, fee: l.fee, fee_asset: 'USDT', inferred: false }));
    out.push(r('trade_exit_legs', { ts: l.ts, trade_id: id, leg_index: i + 1, symbol, side, leg_qty: l.qty, leg_price: l.price, leg_realized_pnl: pnl, leg_fee: l.fee, remaining_qty: left, cum_realized_pnl: cum, is_final: i === legs.length - 1, exit_reason: l.reason, client_order_id: `pink-${id}-x${i}` }));
    out.push(r('positions', { ts: l.ts, slot_id: symbol, symbol, state: i === legs.length - 1 ? 'CLOSED' : 'OPEN', side: i === legs.length - 1 ? '' : side, qty: left, avg_entry_price: entry.price, mark_price: l.price, unrealized_pnl: 0, hold_bars: 3 }));
  });
  if (legs.length > 0) {
    const last = legs[legs.length - 1]!;
    out.push(r('trades', { ...open, status: 'closed', exit_ts: last.ts, exit_price_avg: notional / entry.qty, exit_qty: entry.qty, realized_pnl: cum, fees, legs: legs.length, exit_reason: last.reason, hold_bars: 3 }));
  }
  return out;
}

/** The rows, and the figures a correct report computes from them (worked out by hand). */
export function knownRows(): RowOut[] {
  n = 0;
  const rows: RowOut[] = [
    // Before the window: a whole trade that must count nowhere.
    ...trade('D', 'BTC-USDT', 'long', { ts: T - 120 * MIN, price: 90, qty: 1, fee: 0.09 }, [{ ts: T - 110 * MIN, price: 95, qty: 1, fee: 0.095, reason: 'signal' }], 90),
    // A: BTC long 1 @ 100 -> 110, +10, fees 0.1 + 0.11, held 300 s: a win.
    ...trade('A', 'BTC-USDT', 'long', { ts: T, price: 100, qty: 1, fee: 0.1 }, [{ ts: T + 5 * MIN, price: 110, qty: 1, fee: 0.11, reason: 'signal' }], 100),
    // B: ETH short 0.5 @ 200 (00:00 UTC, the next day): 0.2 @ 210 (-2), 0.3 liquidated @ 220 (-6); fees 0.1 + 0.042 + 0.066; held 600 s.
    ...trade('B', 'ETH-USDT', 'short', { ts: T + 10 * MIN, price: 200, qty: 0.5, fee: 0.1 }, [
      { ts: T + 15 * MIN, price: 210, qty: 0.2, fee: 0.042, reason: 'signal' },
      { ts: T + 20 * MIN, price: 220, qty: 0.3, fee: 0.066, reason: 'liquidation' },
    ], 200),
    // C: BTC long 2 @ 105, still open at the end, marked 106: exposure 212.
    ...trade('C', 'BTC-USDT', 'long', { ts: T + 25 * MIN, price: 105, qty: 2, fee: 0.21 }, [], 106),
  ];
  const equity: [number, number][] = [[T - 60 * MIN, 10000], [T, 9999.9], [T + 5 * MIN, 10009.69], [T + 10 * MIN, 10009.59], [T + 15 * MIN, 10007.55], [T + 20 * MIN, 10001.48], [T + 25 * MIN, 10001.27]];
  for (const [ts, e] of equity) rows.push(r('account', { ts, capital: e, realized_pnl: 0, fees: 0, equity: e, venue_balance: e, drift: 0 }));
  const anomaly = (ts: number, origin: string, code: string, severity: string, symbol: string, reason: string) =>
    r('anomalies', { ts, origin, code, severity, slot_id: symbol, symbol, details: JSON.stringify({ reason }) });
  rows.push(
    anomaly(SINCE, 'ditav2_kernel', 'RATE_LIMITED', 'WARNING', '', 'at since: in'),
    anomaly(UNTIL, 'ditav2_kernel', 'RATE_LIMITED', 'WARNING', '', 'at until: out'),
    anomaly(T - 10 * MIN, 'engine', 'ENGINE_STARTED', 'INFO', '', 'engine started'),
    anomaly(T + 3 * MIN, 'ditav2_kernel', 'EXIT_ORDER_REJECTED', 'ERROR', 'BTC-USDT', 'venue said no'),
    anomaly(T + 21 * MIN, 'operator', 'OPERATOR_HALT', 'INFO', 'ETH-USDT', 'halted by hand'),
    // A reconcile's correction, as the kernel writes it (origin ditav2_kernel): a reconcile event, not a fault.
    anomaly(T + 22 * MIN, 'ditav2_kernel', 'POSITION_ADOPTED', 'WARNING', 'ETH-USDT', "adopted the venue's short 0.2 @ 215"),
  );
  return rows;
}

/** SPEC 6's funding table (issue 20 creates it; the tests make it as specified). */
export const FUNDING_DDL = (db: string) => `CREATE TABLE IF NOT EXISTS \`${db}\`.funding (
  namespace LowCardinality(String), run_id String, row_id String, ts DateTime64(3, 'UTC'), funding_id String, symbol LowCardinality(String),
  amount_usdt Float64, rate Float64, position_qty Float64, mark_price Float64
) ENGINE = ReplacingMergeTree ORDER BY (ts, row_id)`;

/** ETH pays 0.5 at 00:02, BTC receives 0.2 at 00:16 (both the second day); one before the window. */
export const FUNDING_ROWS = [
  { row_id: 'funding:1', ts: T + 12 * MIN, funding_id: 'fu-eth-1', symbol: 'ETH-USDT', amount_usdt: -0.5, rate: 0.0001, position_qty: 0.5, mark_price: 205 },
  { row_id: 'funding:2', ts: T + 26 * MIN, funding_id: 'fu-btc-1', symbol: 'BTC-USDT', amount_usdt: 0.2, rate: -0.0001, position_qty: 2, mark_price: 106 },
  { row_id: 'funding:0', ts: T - 100 * MIN, funding_id: 'fu-btc-0', symbol: 'BTC-USDT', amount_usdt: -9, rate: 0.01, position_qty: 1, mark_price: 92 },
];

export const KNOWN = {
  realized: 10 - 2 - 6,
  fees: 0.1 + 0.11 + 0.1 + 0.042 + 0.066 + 0.21,
  funding_without_table: 0,
  funding: 0.5 - 0.2,
  trades: 2,
  wins: 1,
  win_rate: 0.5,
  avg_hold_s: (300 + 600) / 2,
  liquidations: 1,
  max_drawdown: 10009.69 - 10001.27,
  equity_start: 10000,
  equity_end: 10001.27,
  exposure_usdt: 2 * 106,
  btc: { realized: 10, fees: 0.1 + 0.11 + 0.21, funding: -0.2 },
  eth: { realized: -8, fees: 0.1 + 0.042 + 0.066, funding: 0.5 },
  day1: { day: '2026-01-10', realized: 10, fees: 0.21, funding: 0, trades: 1, equity_end: 10009.69 },
  day2: { day: '2026-01-11', realized: -8, fees: 0.1 + 0.042 + 0.066 + 0.21, funding: 0.3, trades: 1, equity_end: 10001.27 },
};
