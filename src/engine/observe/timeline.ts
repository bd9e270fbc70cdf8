// `pink timeline`: one chronological view of what PINK recorded (SPEC 6: JSON `events[]` with
// `ts, kind, symbol, code, detail`). The rows come from sql.ts; this module turns them into events
// and is pure (no I/O, no clock), so the engine and the CLI build the same document.
import { ANOMALY_ORIGIN, findFault } from '../faults/taxonomy.js';
import { timelineRows, presentTables, reportRows, type Scope, type TimelineRows } from './sql.js';
import type { Queryable } from '../store/parity.js';
import { iso } from './when.js';
import { tidyNumbers } from '../runner/health.js';

/** Anomalies rows of these origins are not faults: the engine process and operator actions. */
export const ENGINE_ORIGIN = 'engine';
export const OPERATOR_ORIGIN = 'operator';

/** Codes a reconcile reports (its corrections): shown as `reconcile` events. */
const RECONCILE_CODES = new Set(['POSITION_ADOPTED', 'ORPHAN_POSITION', 'POSITION_MISMATCH', 'FOREIGN_ORDER', 'ORDER_GONE', 'ACCOUNT_DRIFT', 'STALE_STATE_RECONCILING']);

export type EventKind =
  | 'engine'
  | 'operator'
  | 'fault'
  | 'reconcile'
  | 'decision'
  | 'order'
  | 'fill'
  | 'exit_leg'
  | 'liquidation'
  | 'trade'
  | 'slot'
  | 'funding';

/** Within one millisecond, cause before effect. */
const KIND_ORDER: Record<EventKind, number> = {
  engine: 0, operator: 1, decision: 2, order: 3, fill: 4, exit_leg: 5, liquidation: 5, trade: 6, funding: 7, slot: 8, reconcile: 9, fault: 10,
};

export interface TimelineEvent {
  /** ISO 8601, UTC. */
  ts: string;
  ts_ms: number;
  kind: EventKind;
  symbol: string | null;
  /** A taxonomy code where the event is one (`pink fault CODE` explains it), else null. */
  code: string | null;
  severity: string | null;
  detail: string;
  /** `pink fault CODE` for codes in the taxonomy above INFO. */
  hint: string | null;
}

export interface CostFacts {
  realized: number;
  fees: number;
  funding: number;
  net: number;
  trades: number;
}

export interface TimelineDoc {
  since: string;
  until: string;
  symbol: string | null;
  events: TimelineEvent[];
  /** What the window cost (the report's query over the same scope). */
  cost: CostFacts;
  /** Kinds with more rows than the timeline reads: their oldest rows in the window are not shown. */
  truncated: string[];
}

const n2 = (v: number): string => (Math.abs(v) < 0.005 ? 0 : v).toFixed(2);
const qty = (v: number): string => String(Number(v.toPrecision(10)));
const sym = (s: string): string | null => (s === '' ? null : s);

function reasonOf(details: string): string {
  try {
    const d = JSON.parse(details) as Record<string, unknown>;
    const parts: string[] = [];
    if (typeof d['reason'] === 'string' && d['reason'] !== '') parts.push(d['reason']);
    for (const k of ['command', 'args', 'user', 'stopped_by', 'steps', 'exit', 'venue']) if (d[k] !== undefined && d[k] !== '') parts.push(`${k} ${typeof d[k] === 'string' ? d[k] : JSON.stringify(d[k])}`);
    return parts.join('; ');
  } catch {
    return details;
  }
}

function hintFor(code: string | null, severity: string | null): string | null {
  if (code === null || severity === 'INFO' || severity === null) return null;
  return findFault(code) ? `pink fault ${code}` : null;
}

function event(ts_ms: number, kind: EventKind, symbol: string | null, detail: string, code: string | null = null, severity: string | null = null): TimelineEvent {
  return { ts: iso(ts_ms), ts_ms, kind, symbol, code, severity, detail, hint: hintFor(code, severity) };
}

/** The rows of every family as events, oldest first. */
export function buildEvents(rows: TimelineRows): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  for (const a of rows.anomalies) {
    const kind: EventKind = a.origin === ENGINE_ORIGIN ? 'engine' : a.origin === OPERATOR_ORIGIN ? 'operator' : RECONCILE_CODES.has(a.code) ? 'reconcile' : 'fault';
    const origin = kind === 'fault' && a.origin !== ANOMALY_ORIGIN ? ` (from ${a.origin})` : '';
    out.push(event(a.ts_ms, kind, sym(a.symbol), `${a.severity} ${a.code}: ${reasonOf(a.details)}${origin}`, a.code, a.severity));
  }
  for (const d of rows.decisions) {
    const size = d.qty > 0 ? ` ${qty(d.qty)}` : '';
    out.push(event(d.ts_ms, 'decision', sym(d.symbol), `${d.action}${d.side ? ` ${d.side}` : ''}${size} (${d.reason || 'no reason'}) -> ${d.outcome_code}; intent ${d.intent_id}`));
  }
  for (const o of rows.orders) {
    const price = o.order_type === 'limit' && o.price > 0 ? ` @ ${o.price}` : '';
    const why = o.reason ? ` (${o.reason})` : '';
    out.push(event(o.ts_ms, 'order', sym(o.symbol), `${o.status} ${o.side} ${qty(o.qty)} ${o.order_type}${price}${o.reduce_only ? ' reduce-only' : ''}${why}; ${o.client_order_id}`));
  }
  for (const f of rows.fills) {
    out.push(event(f.ts_ms, 'fill', sym(f.symbol), `${f.side} ${qty(f.qty)} @ ${f.price} fee ${f.fee.toFixed(4)}${f.inferred ? ' (inferred at reconcile)' : ''}; ${f.client_order_id}`));
  }
  for (const l of rows.legs) {
    const kind: EventKind = l.exit_reason === 'liquidation' ? 'liquidation' : 'exit_leg';
    out.push(event(l.ts_ms, kind, sym(l.symbol), `leg ${l.leg_index} ${l.side} ${qty(l.leg_qty)} @ ${l.leg_price} realized ${n2(l.leg_realized_pnl)} fee ${l.leg_fee.toFixed(4)} (${l.exit_reason || 'exit'})${l.is_final ? ' final' : `, ${qty(l.remaining_qty)} left`}; trade ${l.trade_id}`));
  }
  for (const t of rows.trades) {
    out.push(event(t.entry_ms, 'trade', sym(t.symbol), `opened ${t.side} ${qty(t.entry_qty)} @ ${t.entry_price}; trade ${t.trade_id}`));
    if (t.status === 'closed') {
      out.push(event(t.exit_ms, 'trade', sym(t.symbol), `closed ${t.side} ${qty(t.entry_qty)} after ${t.legs} leg(s) @ ${Number(t.exit_price_avg.toPrecision(10))} (${t.exit_reason || 'exit'}) realized ${n2(t.realized_pnl)} fees ${n2(t.fees)} net ${n2(t.realized_pnl - t.fees)}; trade ${t.trade_id}`));
    }
  }
  for (const s of rows.slots) {
    out.push(event(s.ts_ms, 'slot', sym(s.symbol), `${s.prev_state || '(first row)'} -> ${s.state}${s.qty > 0 ? ` (${s.side} ${qty(s.qty)})` : ''}`, s.state === 'STALE_STATE_RECONCILING' ? 'STALE_STATE_RECONCILING' : null, s.state === 'STALE_STATE_RECONCILING' ? 'WARNING' : null));
  }
  for (const f of rows.funding) {
    out.push(event(f.ts_ms, 'funding', sym(f.symbol), `${f.amount_usdt < 0 ? 'paid' : 'received'} ${Math.abs(f.amount_usdt).toFixed(4)} USDT (rate ${f.rate}, position ${qty(f.position_qty)} @ ${f.mark_price}); ${f.funding_id}`));
  }
  return out.sort((a, b) => a.ts_ms - b.ts_ms || KIND_ORDER[a.kind] - KIND_ORDER[b.kind]);
}

/** The timeline document over `scope`: events, the window's cost, and what was left out. */
export async function timeline(q: Queryable, scope: Scope): Promise<TimelineDoc> {
  const have = await presentTables(q, scope.database);
  const rows = await timelineRows(q, scope, have);
  const { total } = await reportRows(q, scope, have, { totalsOnly: true });
  return {
    since: iso(scope.since_ms),
    until: iso(scope.until_ms),
    symbol: scope.symbol ? scope.symbol : null,
    events: buildEvents(rows),
    cost: { realized: total.realized, fees: total.fees, funding: total.funding, net: total.net, trades: total.trades },
    truncated: rows.truncated,
  };
}

/** A line of the human timeline is cut here (the JSON keeps the whole detail). */
const LINE_DETAIL_CHARS_MAX = 160;
/** This many or more consecutive faults of one code and symbol print as one line with a count. */
const FAULT_RUN_MIN = 3;

/** Runs of the same fault (code, symbol), uninterrupted by any other event: [start index, count]. */
function faultRuns(events: TimelineEvent[]): [number, number][] {
  const out: [number, number][] = [];
  events.forEach((e, i) => {
    const run = out[out.length - 1];
    const head = run ? events[run[0]]! : undefined;
    if (run && head && e.kind === 'fault' && head.kind === 'fault' && head.code === e.code && head.symbol === e.symbol) run[1] += 1;
    else out.push([i, 1]);
  });
  return out;
}

/** Plain text, one event a line: time, kind, symbol, detail, hint; a burst of one fault is one line. */
export function renderTimeline(doc: TimelineDoc, paint: { warn: (s: string) => string; bad: (s: string) => string; dim: (s: string) => string } = { warn: (s) => s, bad: (s) => s, dim: (s) => s }): string {
  const lines = [`timeline ${doc.since} .. ${doc.until}${doc.symbol ? `  symbol ${doc.symbol} (and engine-wide events)` : ''}  (times UTC)`];
  if (doc.events.length === 0) lines.push('  no events in this window');
  const time = (e: TimelineEvent): string => e.ts.replace('T', ' ').replace('Z', '');
  const cut = (d: string): string => (d.length > LINE_DETAIL_CHARS_MAX ? `${d.slice(0, LINE_DETAIL_CHARS_MAX - 3)}...` : d);
  const print = (e: TimelineEvent, detail: string): void => {
    const line = `${time(e)}  ${e.kind.padEnd(11)} ${(e.symbol ?? '-').padEnd(10)} ${cut(tidyNumbers(detail))}${e.hint ? `  (${e.hint})` : ''}`;
    lines.push(e.severity === 'CRITICAL' || e.severity === 'ERROR' || e.kind === 'liquidation' ? paint.bad(line) : e.severity === 'WARNING' ? paint.warn(line) : e.kind === 'slot' || e.kind === 'decision' ? paint.dim(line) : line);
  };
  for (const [start, count] of faultRuns(doc.events)) {
    const e = doc.events[start]!;
    if (count >= FAULT_RUN_MIN) {
      print(e, `${e.severity} ${e.code} x${count} until ${time(doc.events[start + count - 1]!).slice(11)}, the first: ${e.detail.replace(/^\S+ \S+: /, '')}`);
    } else {
      for (let i = start; i < start + count; i += 1) print(doc.events[i]!, doc.events[i]!.detail);
    }
  }
  for (const k of doc.truncated) lines.push(paint.warn(`(only the latest rows of ${k} are shown: narrow --since/--until or add --symbol)`));
  const c = doc.cost;
  lines.push(`cost of the window: realized ${n2(c.realized)}  fees ${n2(c.fees)}  funding ${n2(c.funding)}  net ${n2(c.net)} USDT  (${c.trades} trade(s) closed)`);
  return lines.join('\n');
}
