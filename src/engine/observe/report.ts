// `pink report`: what trading cost and earned over a window (SPEC 6: JSON `summary` with
// `realized, fees, funding, net, trades, win_rate, avg_hold_s, max_drawdown`, `symbols[]`,
// `days[]`). Every figure is a ClickHouse query (sql.ts); this module only names and arranges
// them. The terminal rendering loads its libraries on demand (asciichart, cli-table3).
import type { Queryable } from '../store/parity.js';
import { presentTables, reportRows, type DayRow, type ExposureRow, type PnlRow, type Scope } from './sql.js';
import { iso } from './when.js';

/** The total row's figures (funding paid is positive, like fees; trades: closed in the window), and: */
export interface ReportSummary extends Omit<PnlRow, 'symbol' | 'legs' | 'liquidations'> {
  /** USDT below the running peak of the account's equity, at its deepest in the window. */
  max_drawdown: number | null;
  liquidations: number;
  best_symbol: { symbol: string; net: number } | null;
  worst_symbol: { symbol: string; net: number } | null;
  /** Open positions at the window's end: the sum of qty x mark (USDT). */
  exposure_usdt: number;
  equity_start: number | null;
  equity_end: number | null;
}

export interface ReportDoc {
  since: string;
  until: string;
  symbol: string | null;
  summary: ReportSummary;
  symbols: PnlRow[];
  days: DayRow[];
  exposure: ExposureRow[];
  /** The account's equity (downsampled), with the drawdown below the running peak. */
  equity: { ts: string; ts_ms: number; equity: number; drawdown: number }[];
  drawdown: { peak: number | null; trough: number | null; trough_ts: string | null };
}

/** The report over `scope`. */
export async function report(q: Queryable, scope: Scope): Promise<ReportDoc> {
  const have = await presentTables(q, scope.database);
  const r = await reportRows(q, scope, have);
  const active = r.symbols.filter((s) => s.legs > 0 || s.trades > 0 || s.fees !== 0 || s.funding !== 0);
  const byNet = [...active].sort((a, b) => b.net - a.net || (a.symbol < b.symbol ? -1 : 1));
  const best = byNet[0];
  const worst = byNet[byNet.length - 1];
  const t = r.total;
  return {
    since: iso(scope.since_ms),
    until: iso(scope.until_ms),
    symbol: scope.symbol ? scope.symbol : null,
    summary: {
      realized: t.realized,
      fees: t.fees,
      funding: t.funding,
      net: t.net,
      trades: t.trades,
      wins: t.wins,
      win_rate: t.win_rate,
      avg_hold_s: t.avg_hold_s,
      max_drawdown: r.drawdown.max_drawdown,
      liquidations: t.liquidations,
      best_symbol: best ? { symbol: best.symbol, net: best.net } : null,
      worst_symbol: worst ? { symbol: worst.symbol, net: worst.net } : null,
      exposure_usdt: r.exposure.reduce((sum, e) => sum + e.notional_usdt, 0),
      equity_start: r.drawdown.equity_start,
      equity_end: r.drawdown.equity_end,
    },
    symbols: r.symbols,
    days: r.days,
    exposure: r.exposure,
    equity: r.curve.map((p) => ({ ts: iso(p.ts_ms), ...p })),
    drawdown: { peak: r.drawdown.peak, trough: r.drawdown.trough, trough_ts: r.drawdown.trough_ms === null ? null : iso(r.drawdown.trough_ms) },
  };
}

const money = (v: number | null): string => (v === null ? '-' : (Math.abs(v) < 0.005 ? 0 : v).toFixed(2));
const pct = (v: number | null): string => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);

/** `3m 20s`, `2h 05m`, `1d 03h`. */
export function duration(s: number | null): string {
  if (s === null) return '-';
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(Math.round(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d ${String(h % 24).padStart(2, '0')}h`;
}

/** Width of the terminal equity chart (points; asciichart draws one column each). */
const CHART_COLUMNS_MAX = 72;
const CHART_COLUMNS_MIN = 48;

/** The human report: summary, an equity chart, per-symbol and per-day tables, exposure now. */
export async function renderReport(doc: ReportDoc): Promise<string> {
  const [{ default: Table }, asciichart] = await Promise.all([import('cli-table3'), import('asciichart')]);
  const s = doc.summary;
  const lines: string[] = [];
  lines.push(`report ${doc.since} .. ${doc.until}${doc.symbol ? `  symbol ${doc.symbol}` : ''}  (times UTC, money USDT)`);
  lines.push(`  realized ${money(s.realized)}  fees ${money(s.fees)}  funding ${money(s.funding)}  net ${money(s.net)}`);
  lines.push(`  trades ${s.trades}  wins ${s.wins}  win rate ${pct(s.win_rate)}  average hold ${duration(s.avg_hold_s)}${s.liquidations > 0 ? `  LIQUIDATIONS ${s.liquidations}` : ''}`);
  lines.push(`  best ${s.best_symbol ? `${s.best_symbol.symbol} ${money(s.best_symbol.net)}` : '-'}  worst ${s.worst_symbol ? `${s.worst_symbol.symbol} ${money(s.worst_symbol.net)}` : '-'}`);
  lines.push(`  equity ${money(s.equity_start)} -> ${money(s.equity_end)}  max drawdown ${money(s.max_drawdown)}${doc.drawdown.trough_ts ? ` (to ${money(doc.drawdown.trough)} at ${doc.drawdown.trough_ts}, from a peak of ${money(doc.drawdown.peak)})` : ''}`);
  lines.push(`  exposure now ${money(s.exposure_usdt)}${doc.exposure.length > 0 ? ` in ${doc.exposure.map((e) => `${e.symbol} ${e.side} ${e.qty}`).join(', ')}` : ' (flat)'}`);
  if (doc.equity.length >= 2) {
    const values = stretch(resample(doc.equity.map((p) => p.equity), CHART_COLUMNS_MAX), CHART_COLUMNS_MIN);
    lines.push('', `equity (the account's, ${doc.equity[0]!.ts} .. ${doc.equity[doc.equity.length - 1]!.ts})`);
    lines.push(asciichart.plot(values, { height: 8, format: (x: number) => x.toFixed(2).padStart(10) }));
  } else {
    lines.push('', 'equity: fewer than two account rows in the window, no chart');
  }
  const style = { head: [], border: [] };
  const sym = new Table({ head: ['symbol', 'trades', 'win rate', 'avg hold', 'realized', 'fees', 'funding', 'net'], style });
  for (const r of doc.symbols) sym.push([r.symbol, String(r.trades), pct(r.win_rate), duration(r.avg_hold_s), money(r.realized), money(r.fees), money(r.funding), money(r.net)]);
  lines.push('', doc.symbols.length > 0 ? sym.toString() : 'per symbol: nothing traded in the window');
  const days = new Table({ head: ['day (UTC)', 'trades', 'win rate', 'realized', 'fees', 'funding', 'net', 'equity at end'], style });
  for (const d of doc.days) days.push([d.day, String(d.trades), pct(d.win_rate), money(d.realized), money(d.fees), money(d.funding), money(d.net), money(d.equity_end)]);
  lines.push(doc.days.length > 0 ? days.toString() : 'per day: nothing traded in the window');
  return lines.join('\n');
}

/** At most `n` values, each the last of its slice (equity is a level: the slice's end is what it was). */
export function resample(values: number[], n: number): number[] {
  if (values.length <= n) return values;
  const out: number[] = [];
  for (let i = 1; i <= n; i += 1) out.push(values[Math.ceil((i * values.length) / n) - 1]!);
  return out;
}

/** Each value repeated so that there are at least `n` (equity holds its level until the next row). */
export function stretch(values: number[], n: number): number[] {
  if (values.length === 0 || values.length >= n) return values;
  const each = Math.floor(n / values.length);
  return values.flatMap((v) => Array<number>(each).fill(v));
}
