// Audit queries: the read-back half of "check rows before they are written and after they are read
// back" (STYLE 6), and SPEC 5's invariants anyone can query. Used by tests, `pink ditav2-status` and
// `pink mode-verify`. Every sum counts a row once: raw duplicates (a batch that landed twice under
// different tokens, not yet merged away) are collapsed by row_id first, and found by their own check.
// No FINAL: it costs ~6x a plain read; argMax over a version picks each trade's latest row.
import type { RowFamily } from '../kernel/types.js';
import type { Queryable } from './parity.js';
import { FAMILIES, PINK_FAMILIES, ident } from './schema.js';

/** Two money or quantity figures agree when they differ by at most this, relative (floor 1). */
export const AUDIT_TOLERANCE_REL = 1e-9;
/** Offending ids shown per check. */
export const AUDIT_SAMPLE_MAX = 5;

export interface AuditCheck {
  id: 'trade_legs' | 'account_identity' | 'row_id_unique' | 'blue_clean';
  ok: boolean;
  detail: string;
}

export interface AuditReport {
  ok: boolean;
  checks: AuditCheck[];
}

export interface AuditOptions {
  database: string;
  blue_database: string;
  namespace: string;
  initial_capital_usdt: number;
  /** Funding paid since the initial capital (positive = paid, like fees; the negated sum of the
   * FUNDING inputs' amount_usdt), when the caller knows it: then also checked against the
   * `funding` table's sum. The identity itself takes funding from that table (issue 20). */
  funding_paid_usdt?: number;
  tolerance_rel?: number;
}

function close(a: number, b: number, tol: number): boolean {
  return Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b), 1);
}

/** The families that have a table in `database`, with their column names. */
async function tables(q: Queryable, database: string): Promise<Map<RowFamily, Set<string>>> {
  const rows = await q.query<{ table: string; name: string }>(
    'SELECT table, name FROM system.columns WHERE database = {db:String} AND table IN {families:Array(String)}',
    { db: database, families: [...PINK_FAMILIES] },
  );
  const out = new Map<RowFamily, Set<string>>();
  for (const r of rows) {
    const f = r.table as RowFamily;
    if (!out.has(f)) out.set(f, new Set());
    out.get(f)!.add(r.name);
  }
  return out;
}

// The latest row of a trade: highest `legs` (the table's version), a close before an open at equal legs.
const LATEST = "(legs, status = 'closed')";

async function tradeLegs(q: Queryable, db: string, have: Map<RowFamily, Set<string>>, tol: number): Promise<AuditCheck> {
  const id = 'trade_legs';
  if (!have.has('trades')) return { id, ok: true, detail: 'no trades table yet' };
  const legs = have.has('trade_exit_legs')
    ? `SELECT trade_id, sum(p) AS leg_pnl, sum(q) AS leg_qty FROM (
         SELECT trade_id, row_id, any(leg_realized_pnl) AS p, any(leg_qty) AS q FROM ${db}.trade_exit_legs GROUP BY trade_id, row_id
       ) GROUP BY trade_id`
    : "SELECT '' AS trade_id, 0. AS leg_pnl, 0. AS leg_qty WHERE 0";
  const [r] = await q.query<{ closed: number; bad_count: number; sample: [string, number, number, number, number][] }>(
    `SELECT count() AS closed, countIf(bad) AS bad_count, groupArrayIf(${AUDIT_SAMPLE_MAX})((tid, pnl, leg_pnl, qty, leg_qty), bad) AS sample
     FROM (
       SELECT t.tid AS tid, t.pnl AS pnl, t.qty AS qty, l.leg_pnl AS leg_pnl, l.leg_qty AS leg_qty,
              abs(l.leg_pnl - t.pnl) > {tol:Float64} * greatest(abs(l.leg_pnl), abs(t.pnl), 1)
              OR abs(l.leg_qty - t.qty) > {tol:Float64} * greatest(abs(l.leg_qty), abs(t.qty), 1) AS bad
       FROM (
         SELECT trade_id AS tid, argMax(status, ${LATEST}) AS st, argMax(realized_pnl, ${LATEST}) AS pnl,
                argMax(entry_qty, ${LATEST}) AS qty
         FROM ${db}.trades GROUP BY trade_id
       ) AS t
       LEFT JOIN (${legs}) AS l ON l.trade_id = t.tid
       WHERE t.st = 'closed'
     )`,
    { tol },
  );
  if (r === undefined || r.bad_count === 0) return { id, ok: true, detail: `${r?.closed ?? 0} closed trades: legs sum to realized_pnl and entry_qty` };
  const sample = r.sample
    .map(([t, pnl, lp, qty, lq]) => `${t} realized_pnl ${pnl} vs legs ${lp}, entry_qty ${qty} vs legs ${lq}`)
    .join('; ');
  return { id, ok: false, detail: `${r.bad_count} of ${r.closed} closed trades do not match their exit legs: ${sample}` };
}

async function accountIdentity(q: Queryable, db: string, have: Map<RowFamily, Set<string>>, o: AuditOptions, tol: number): Promise<AuditCheck> {
  const id = 'account_identity';
  if (!have.has('account')) return { id, ok: true, detail: 'no account table yet' };
  const [a] = await q.query<{ n: number; capital: number; realized: number; fees: number; last_id: string; last_ts: string }>(
    `SELECT count() AS n, argMax(capital, (ts, row_id)) AS capital, argMax(realized_pnl, (ts, row_id)) AS realized,
            argMax(fees, (ts, row_id)) AS fees, argMax(row_id, (ts, row_id)) AS last_id, toString(max(ts)) AS last_ts FROM ${db}.account`,
  );
  if (a === undefined || a.n === 0) return { id, ok: true, detail: 'no account rows yet' };
  // The latest row's kernel history (row ids are family:history:seq:i, docs/ids.md): each history
  // has its own capital, so the identity is checked within it (a database may hold several).
  const parts = a.last_id.split(':');
  const history = parts.length === 4 ? parts[1]! : null;
  // Legs up to the latest account row: a leg written with a later step's account row is not in it yet.
  let legsRealized = 0;
  if (have.has('trade_exit_legs')) {
    const [l] = await q.query<{ realized: number }>(
      `SELECT sum(p) AS realized FROM (
         SELECT row_id, any(leg_realized_pnl) AS p FROM ${db}.trade_exit_legs
         WHERE ts <= toDateTime64({last_ts:String}, 3, 'UTC') ${history === null ? '' : 'AND splitByChar(\':\', row_id)[2] = {history:String}'} GROUP BY row_id
       )`,
      { last_ts: a.last_ts, ...(history === null ? {} : { history }) },
    );
    legsRealized = l?.realized ?? 0;
  }
  // Funding paid (positive, like fees) from SPEC 6's `funding` table: the rows of this history up
  // to the latest account row's input (row ids carry the input's seq; a FUNDING input writes its
  // funding row and an account row together), each row once. No table: no funding was ever applied.
  let funding = 0;
  let fundingRows = 0;
  const seq = parts.length === 4 && /^\d+$/.test(parts[2]!) ? parts[2]! : null;
  if (have.has('funding')) {
    const [f] = await q.query<{ paid: number; n: number }>(
      `SELECT -sum(amount) AS paid, count() AS n FROM (
         SELECT row_id, any(amount_usdt) AS amount FROM ${db}.funding
         ${history === null || seq === null ? '' : "WHERE splitByChar(':', row_id)[2] = {history:String} AND toUInt64OrZero(splitByChar(':', row_id)[3]) <= {seq:UInt64}"} GROUP BY row_id
       )`,
      history === null || seq === null ? {} : { history, seq },
    );
    funding = (f?.paid ?? 0) + 0;
    fundingRows = Number(f?.n ?? 0);
  }
  const expected = o.initial_capital_usdt + a.realized - a.fees - funding;
  const identity = `${history === null ? '' : `history ${history}: `}capital ${a.capital} = initial ${o.initial_capital_usdt} + realized ${a.realized} - fees ${a.fees} - funding ${funding} (${fundingRows} funding row(s))`;
  const problems: string[] = [];
  if (!close(a.capital, expected, tol)) problems.push(`capital ${a.capital} but initial + realized - fees - funding = ${expected}`);
  if (!close(a.realized, legsRealized, tol)) problems.push(`realized_pnl ${a.realized} but exit legs realized ${legsRealized}`);
  if (o.funding_paid_usdt !== undefined && !close(funding, o.funding_paid_usdt, tol)) {
    problems.push(`funding table ${funding} but ${o.funding_paid_usdt} applied`);
  }
  if (problems.length > 0) return { id, ok: false, detail: `latest account row: ${problems.join('; ')} (${identity})` };
  return { id, ok: true, detail: `latest account row: ${identity}; realized matches the exit legs` };
}

async function rowIdUnique(q: Queryable, db: string, have: Map<RowFamily, Set<string>>): Promise<AuditCheck> {
  const id = 'row_id_unique';
  const present = PINK_FAMILIES.filter((f) => have.has(f));
  if (present.length === 0) return { id, ok: true, detail: 'no tables yet' };
  // Raw rows, no FINAL: a duplicate is a batch that landed twice. A trade's open and close rows are
  // two versions, so for trades a duplicate is the same row_id at the same version.
  const parts = present.map((f) => {
    const key = f === 'trades' ? 'row_id, legs, status' : 'row_id';
    return `SELECT '${f}' AS family, count() AS ids, groupArray(${AUDIT_SAMPLE_MAX})(row_id) AS sample
            FROM (SELECT ${key} FROM ${db}.${ident(f)} GROUP BY ${key} HAVING count() > 1)`;
  });
  const rows = await q.query<{ family: string; ids: number; sample: string[] }>(parts.join('\nUNION ALL\n'));
  const bad = rows.filter((r) => r.ids > 0).sort((a, b) => (a.family < b.family ? -1 : 1));
  if (bad.length === 0) return { id, ok: true, detail: `no row_id twice in ${present.length} tables` };
  return { id, ok: false, detail: bad.map((r) => `${r.family}: ${r.ids} row_id(s) twice (${r.sample.join(', ')})`).join('; ') };
}

async function blueClean(q: Queryable, o: AuditOptions): Promise<AuditCheck> {
  const id = 'blue_clean';
  if (o.blue_database === o.database) return { id, ok: false, detail: `PINK's database is BLUE's (${o.blue_database})` };
  const [exists] = await q.query<{ n: number }>('SELECT count() AS n FROM system.databases WHERE name = {db:String}', { db: o.blue_database });
  if (!exists || exists.n === 0) return { id, ok: true, detail: `BLUE's database ${o.blue_database} does not exist on this ClickHouse` };
  const have = await tables(q, o.blue_database);
  const withNs = FAMILIES.filter((f) => have.get(f)?.has('namespace'));
  if (withNs.length === 0) return { id, ok: true, detail: `BLUE's database ${o.blue_database} has no family table with a namespace column` };
  const blue = ident(o.blue_database);
  const sql = withNs
    .map((f) => `SELECT '${f}' AS family, count() AS n FROM ${blue}.${ident(f)} WHERE namespace = {ns:String}`)
    .join('\nUNION ALL\n');
  const rows = await q.query<{ family: string; n: number }>(sql, { ns: o.namespace });
  const bad = rows.filter((r) => r.n > 0).sort((a, b) => (a.family < b.family ? -1 : 1));
  if (bad.length === 0) return { id, ok: true, detail: `no namespace='${o.namespace}' row in BLUE's ${withNs.length} tables (${o.blue_database})` };
  return { id, ok: false, detail: `namespace='${o.namespace}' rows in BLUE's tables: ${bad.map((r) => `${o.blue_database}.${r.family} ${r.n}`).join(', ')}` };
}

/** Runs every audit over `database` (and BLUE's, read only). ok iff every check is. */
export async function runAudit(q: Queryable, o: AuditOptions): Promise<AuditReport> {
  const tol = o.tolerance_rel ?? AUDIT_TOLERANCE_REL;
  const db = ident(o.database);
  const have = await tables(q, o.database);
  const checks: AuditCheck[] = [
    await tradeLegs(q, db, have, tol),
    await accountIdentity(q, db, have, o, tol),
    await rowIdUnique(q, db, have),
    await blueClean(q, o),
  ];
  return { ok: checks.every((c) => c.ok), checks };
}
