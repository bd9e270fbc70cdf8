// The end-of-seed proof: the simulator's ground truth against PINK's records (ClickHouse, read
// after the engine released it), its checkpoint and its journal. Each check says what it compared
// and can fail; a check that cannot be sound (the simulator's bounded history overflowed) fails
// rather than pass on a partial truth.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { homePaths, loadConfig } from '../../src/config.js';
import { Kernel } from '../../src/engine/kernel/index.js';
import { openStore } from '../../src/engine/store/index.js';
import { CLOSED_ORDERS_MAX, FILLS_MAX } from '../../src/sim/engine.js';
import type { SimGroundTruth, SimOrder } from '../../src/sim/index.js';
import { liquidationFills } from './liquidation.js';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface RecordFacts {
  fills: number;
  trades: number;
  /** Orders whose create the venue saw more than once (all refused as duplicates). */
  resends: number;
}

/** Two quantities are the same lot when they differ by less than this (venue decimals). */
const QTY_EPS = 1e-9;
/** The venue writes each fill's commission with 6 decimals: the kernel's fees can differ by half of that per fill. */
const FEE_ROUNDING_USDT = 5e-7;

const pink = (coid: string): boolean => coid.startsWith('pink-');

/** One liquidation the venue made: its own closing order, which may fill in several chunks. */
export interface VenueLiquidation {
  order_id: string;
  symbol: string;
  qty: number;
  /** Average over its fills (all at one mark, in the simulator). */
  price: number;
  fee_usdt: number;
  /** Its last fill's time: the one the kernel's exit leg carries. */
  ts_ms: number;
  fills: number;
}

/** An exit leg PINK recorded with reason `liquidation` (issue 20). */
export interface LiquidationLeg {
  symbol: string;
  ts_ms: number;
  leg_qty: number;
  leg_price: number;
  leg_fee: number;
}

/** The venue's liquidations on `symbols`, one per liquidation order. */
export function venueLiquidations(truth: SimGroundTruth, symbols: string[]): VenueLiquidation[] {
  const by = new Map<string, VenueLiquidation>();
  for (const f of liquidationFills(truth, symbols)) {
    const l = by.get(f.order_id) ?? { order_id: f.order_id, symbol: f.symbol, qty: 0, price: 0, fee_usdt: 0, ts_ms: 0, fills: 0 };
    l.price = (l.price * l.qty + f.price * f.qty) / (l.qty + f.qty);
    l.qty += f.qty;
    l.fee_usdt += f.fee_usdt;
    l.ts_ms = Math.max(l.ts_ms, f.ts_ms);
    l.fills += 1;
    by.set(f.order_id, l);
  }
  return [...by.values()];
}

/** The exit legs of a venue liquidation: on its symbol, at its last fill's time. */
const legsOf = (l: VenueLiquidation, legs: LiquidationLeg[]): LiquidationLeg[] => legs.filter((g) => g.symbol === l.symbol && g.ts_ms === l.ts_ms);

/**
 * Every venue fill of a pink- order is one row in `fills` (after row_id de-duplication), with its
 * quantity; no other fill row. Every fill of a venue liquidation (no client order id) is recorded
 * too: the kernel records a liquidation as the exit leg `liquidation` at its fill (issue 20), so
 * such a fill counts as recorded when that leg exists.
 */
async function checkFills(truth: SimGroundTruth, rows: { fill_id: string; venue_order_id: string; ts_ms: number; qty: number; n: number }[], symbols: string[], legs: LiquidationLeg[]): Promise<Check[]> {
  const out: Check[] = [];
  const venue = truth.fills.filter((f) => pink(f.client_order_id));
  const liquidations = venueLiquidations(truth, symbols);
  const liqFills = liquidationFills(truth, symbols);
  // Fill times strictly increase at the simulator, so (order id, time) names a fill.
  const key = (order_id: string, ts_ms: number): string => `${order_id}@${ts_ms}`;
  const recorded = new Map<string, (typeof rows)[number]>();
  const twice = rows.filter((r) => r.n !== 1);
  for (const r of rows) recorded.set(key(r.venue_order_id, r.ts_ms), r);
  const missing: string[] = [];
  const wrongQty: string[] = [];
  const known = new Set<string>();
  for (const f of venue) {
    const k = key(f.order_id, f.ts_ms);
    known.add(k);
    const r = recorded.get(k);
    if (r === undefined) missing.push(`${f.client_order_id} fill ${f.fill_id} ${f.side} ${f.qty} @ ${f.price}`);
    else if (Math.abs(r.qty - f.qty) > QTY_EPS) wrongQty.push(`${r.fill_id}: recorded ${r.qty}, venue ${f.qty}`);
  }
  for (const f of liqFills) {
    const l = liquidations.find((x) => x.order_id === f.order_id)!;
    if (legsOf(l, legs).length === 0) missing.push(`liquidation fill ${f.fill_id} ${f.symbol} ${f.side} ${f.qty} @ ${f.price}: no exit leg \`liquidation\` at its time`);
  }
  const phantom = rows.filter((r) => !known.has(key(r.venue_order_id, r.ts_ms))).map((r) => r.fill_id);
  out.push({
    name: 'every venue fill recorded',
    ok: missing.length === 0 && wrongQty.length === 0,
    detail: `${venue.length} venue fills of pink- orders, ${rows.length} fill ids recorded; ${liqFills.length} liquidation fill(s), ${legs.length} \`liquidation\` leg(s)${missing.length ? `; missing: ${missing.slice(0, 5).join('; ')}` : ''}${wrongQty.length ? `; quantity differs: ${wrongQty.slice(0, 5).join('; ')}` : ''}`,
  });
  out.push({
    name: 'no fill recorded twice',
    ok: twice.length === 0,
    detail: twice.length === 0 ? 'one row per fill_id' : `fill ids with more than one row: ${twice.slice(0, 5).map((r) => `${r.fill_id} x${r.n}`).join(', ')}`,
  });
  out.push({ name: 'no fill the venue did not make', ok: phantom.length === 0, detail: phantom.length === 0 ? 'every recorded fill is a venue fill' : `recorded but not at the venue: ${phantom.slice(0, 5).join(', ')}` });
  return out;
}

/**
 * Each venue liquidation is one exit leg `liquidation` with the venue's quantity, price and fee
 * (to its 6-decimal fee rounding per fill); no such leg without a venue liquidation.
 */
export function checkLiquidationLegs(liquidations: VenueLiquidation[], legs: LiquidationLeg[]): Check {
  const bad: string[] = [];
  for (const l of liquidations) {
    const mine = legsOf(l, legs);
    const what = `${l.symbol} liquidation ${l.qty} @ ${l.price} (fee ${l.fee_usdt}, ${l.fills} fill(s))`;
    if (mine.length !== 1) {
      bad.push(`${what}: ${mine.length} legs`);
      continue;
    }
    const g = mine[0]!;
    if (Math.abs(g.leg_qty - l.qty) > QTY_EPS) bad.push(`${what}: leg qty ${g.leg_qty}`);
    if (Math.abs(g.leg_price - l.price) > 1e-9 * l.price) bad.push(`${what}: leg price ${g.leg_price}`);
    if (Math.abs(g.leg_fee - l.fee_usdt) > l.fills * FEE_ROUNDING_USDT + 1e-12) bad.push(`${what}: leg fee ${g.leg_fee}`);
  }
  const phantom = legs.filter((g) => !liquidations.some((l) => l.symbol === g.symbol && l.ts_ms === g.ts_ms));
  for (const g of phantom) bad.push(`a \`liquidation\` leg the venue did not make: ${g.symbol} ${g.leg_qty} @ ${g.leg_price} at ${g.ts_ms}`);
  return {
    name: 'liquidations recorded as the venue made them',
    ok: bad.length === 0,
    detail: bad.length === 0 ? `${liquidations.length} venue liquidation(s), each one exit leg \`liquidation\` with its quantity, price and fee` : bad.slice(0, 5).join('; '),
  };
}

/**
 * No position crossed zero through an exit, and nothing PINK meant as an entry reduced a
 * position: the venue's fills of pink- orders, in time order per symbol, replayed onto a signed
 * position. A reduce-only fill must shrink it without passing zero; any other fill must not
 * shrink it (an entry sent while the venue still held the opposite side would).
 */
export function checkNoCrossing(truth: SimGroundTruth): Check {
  const orders = new Map<string, SimOrder>();
  for (const o of [...truth.closed_orders, ...truth.open_orders]) orders.set(o.order_id, o);
  const pos = new Map<string, number>();
  const bad: string[] = [];
  const sign = (side: string): number => (side === 'BUY' ? 1 : -1);
  for (const f of [...truth.fills].sort((a, b) => a.ts_ms - b.ts_ms)) {
    const before = pos.get(f.symbol) ?? 0;
    const after = before + sign(f.side) * f.qty;
    pos.set(f.symbol, Math.abs(after) < QTY_EPS ? 0 : after);
    if (!pink(f.client_order_id)) continue;
    const o = orders.get(f.order_id);
    if (o === undefined) {
      bad.push(`${f.client_order_id}: order ${f.order_id} not in the venue's history`);
      continue;
    }
    const crossed = before * after < 0 && Math.abs(after) > QTY_EPS;
    if (o.reduce_only && (crossed || Math.abs(after) > Math.abs(before) + QTY_EPS)) bad.push(`${f.symbol} reduce-only ${f.client_order_id} took ${before} to ${after}`);
    if (!o.reduce_only && Math.abs(after) < Math.abs(before) - QTY_EPS) bad.push(`${f.symbol} entry ${f.client_order_id} reduced ${before} to ${after}`);
  }
  return {
    name: 'no position crossed zero through an exit',
    ok: bad.length === 0,
    detail: bad.length === 0 ? `${truth.fills.length} venue fills replayed per symbol: exits only reduced, entries never reduced` : bad.slice(0, 5).join('; '),
  };
}

export function checkNoOrderTwice(truth: SimGroundTruth): { check: Check; resends: number } {
  const ids = Object.entries(truth.client_order_ids).filter(([id]) => pink(id));
  const twice = ids.filter(([, c]) => c.created > 1);
  const resends = ids.filter(([, c]) => c.attempts > c.created).length;
  return {
    check: {
      name: 'no order sent twice for one intent',
      ok: twice.length === 0,
      detail: twice.length === 0 ? `${ids.length} pink- client order ids, each created at most once (${resends} resent and refused as duplicates)` : twice.slice(0, 5).map(([id, c]) => `${id} created ${c.created}x`).join(', '),
    },
    resends,
  };
}

/** The ground truth is bounded (the simulator keeps the latest FILLS_MAX fills...): refuse to judge past it. */
export function checkTruthComplete(truth: SimGroundTruth): Check {
  const full = truth.fills.length >= FILLS_MAX || truth.closed_orders.length >= CLOSED_ORDERS_MAX;
  return { name: 'ground truth complete', ok: !full, detail: `${truth.fills.length} fills (max ${FILLS_MAX}), ${truth.closed_orders.length} closed orders (max ${CLOSED_ORDERS_MAX})` };
}

export function checkSpoolEmpty(home: string): Check {
  const dir = homePaths(home).spool;
  const files = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.spool.json')) : [];
  return { name: 'spool empty', ok: files.length === 0, detail: files.length === 0 ? `${dir} holds no unit` : `${files.length} unit(s) left: ${files.slice(0, 3).join(', ')}` };
}

/** The kernel's final state (checkpoint) against the venue: same position on every symbol, capital identity, drift. */
export function checkKernelState(home: string, truth: SimGroundTruth, symbols: string[], initial_capital: number): { checks: Check[]; capital: number; funding: number } {
  const cp = JSON.parse(readFileSync(homePaths(home).checkpoint, 'utf8')) as { kernel: string };
  const view = Kernel.restore(cp.kernel).view();
  const diffs: string[] = [];
  for (const symbol of new Set([...symbols, ...truth.positions.map((p) => p.symbol)])) {
    const v = truth.positions.find((p) => p.symbol === symbol);
    const venue = v?.qty ?? 0;
    const s = view.slots.find((x) => x.symbol === symbol);
    const mine = s === undefined ? 0 : s.side === 'short' ? -s.qty : s.qty;
    if (Math.abs(venue - mine) > QTY_EPS) diffs.push(`${symbol}: venue ${venue}, PINK ${mine} (${s?.state ?? 'no slot'})`);
  }
  const a = view.account;
  const identity = initial_capital + a.realized_pnl - a.fees - a.funding;
  // Liquidation fills are charged their fee through the same 6-decimal wire as PINK's own.
  const fills = truth.fills.filter((f) => pink(f.client_order_id)).length + liquidationFills(truth, symbols).length;
  const drift = truth.balance.wallet_usdt - a.capital;
  const drift_max = fills * FEE_ROUNDING_USDT + 1e-6;
  // Issue 20: the operator resumed every symbol a liquidation set REDUCING (the harness does, as `pink fault POSITION_LIQUIDATED` says).
  const held = view.slots.filter((s) => s.trading_state !== 'ACTIVE' && s.trading_state_reason.includes('POSITION_LIQUIDATED'));
  // Issue 20: every funding payment of the venue's ledger (on PINK's symbols) is in the capital, once.
  const ledger = venueFunding(truth, symbols);
  const paid = -ledger.reduce((n, r) => n + r.amount_usdt, 0);
  return {
    capital: a.capital,
    funding: a.funding,
    checks: [
      {
        name: 'funding applied once each',
        ok: Math.abs(a.funding - paid) <= 1e-9 * Math.max(1, Math.abs(paid)),
        detail: `kernel's funding paid ${a.funding}, venue ledger ${paid} over ${ledger.length} payment(s)`,
      },
      { name: 'positions agree with the venue', ok: diffs.length === 0, detail: diffs.length === 0 ? `${symbols.length} symbols: PINK's slots hold what the venue holds` : diffs.join('; ') },
      {
        name: 'capital identity (kernel)',
        ok: Math.abs(identity - a.capital) <= 1e-9 * Math.max(1, Math.abs(a.capital)),
        detail: `capital ${a.capital} = ${initial_capital} + realized ${a.realized_pnl} - fees ${a.fees} - funding ${a.funding} (${identity})`,
      },
      {
        name: 'no drift from the venue balance',
        ok: Math.abs(drift) <= drift_max,
        detail: `venue wallet ${truth.balance.wallet_usdt} - capital ${a.capital} = ${drift} (bound ${drift_max.toExponential(2)}: fee rounding of ${fills} fills)`,
      },
      {
        name: 'no symbol left REDUCING by a liquidation',
        ok: held.length === 0,
        detail: held.length === 0 ? `${view.slots.length} slots, none held by POSITION_LIQUIDATED` : held.map((s) => `${s.symbol} ${s.trading_state}: ${s.trading_state_reason}`).join('; '),
      },
    ],
  };
}

/** The venue's FUNDING_FEE rows on `symbols` (its ground truth). */
function venueFunding(truth: SimGroundTruth, symbols: string[]): SimGroundTruth['income'] {
  return truth.income.filter((r) => r.type === 'FUNDING_FEE' && symbols.includes(r.symbol));
}

/** The store, opened after the engine released it: fills, trades, funding, SPEC 5's audit, the last account row. */
export async function checkStore(env: Record<string, string>, truth: SimGroundTruth, kernel_capital: number, injected_asserts = 0, kernel_funding = 0): Promise<{ checks: Check[]; facts: Pick<RecordFacts, 'fills' | 'trades'> }> {
  const config = loadConfig(env);
  const store = await openStore({ config, runId: 'chaos-verify' });
  try {
    const db = config.database;
    // Queries see each row once: LIMIT 1 BY row_id is how the store guarantees it (audit.ts).
    const fills = await store.query<{ fill_id: string; venue_order_id: string; ts_ms: number; qty: number; n: number }>(
      `SELECT fill_id, any(venue_order_id) AS venue_order_id, any(toUnixTimestamp64Milli(ts)) AS ts_ms, sum(qty) AS qty, count() AS n
       FROM (SELECT * FROM ${db}.fills LIMIT 1 BY row_id) GROUP BY fill_id`,
    );
    const [t] = await store.query<{ closed: number }>(
      `SELECT countIf(st = 'closed') AS closed FROM (SELECT trade_id, argMax(status, (legs, status = 'closed')) AS st FROM ${db}.trades GROUP BY trade_id)`,
    );
    const [legs] = await store.query<{ bad: number; sample: string }>(
      `SELECT countIf(remaining_qty < -1e-12 OR leg_qty <= 0) AS bad, any(trade_id) AS sample FROM (SELECT * FROM ${db}.trade_exit_legs LIMIT 1 BY row_id)`,
    );
    const [over] = await store.query<{ bad: number }>(
      `SELECT countIf(l.q > t.q * (1 + 1e-9) + 1e-12) AS bad FROM
         (SELECT trade_id, sum(leg_qty) AS q FROM (SELECT * FROM ${db}.trade_exit_legs LIMIT 1 BY row_id) GROUP BY trade_id) AS l
         JOIN (SELECT trade_id, argMax(entry_qty, (legs, status = 'closed')) AS q FROM ${db}.trades GROUP BY trade_id) AS t USING trade_id`,
    );
    const [acct] = await store.query<{ capital: number }>(`SELECT argMax(capital, (ts, row_id)) AS capital FROM ${db}.account`);
    const critical = await store.query<{ code: string; symbol: string; details: string }>(`SELECT code, symbol, details FROM (SELECT * FROM ${db}.anomalies LIMIT 1 BY row_id) WHERE severity = 'CRITICAL'`);
    const liqLegs = await store.query<LiquidationLeg>(
      `SELECT symbol, toUnixTimestamp64Milli(ts) AS ts_ms, leg_qty, leg_price, leg_fee FROM (SELECT * FROM ${db}.trade_exit_legs LIMIT 1 BY row_id) WHERE exit_reason = 'liquidation'`,
    );
    const liquidations = venueLiquidations(truth, config.symbols);
    // No funding in a chaos run: the identity is then strict (capital = initial + realized - fees, to 1e-9).
    const audit = await store.audit({ funding_paid_usdt: kernel_funding });
    const checks: Check[] = await checkFills(truth, fills, config.symbols, liqLegs);
    checks.push(checkLiquidationLegs(liquidations, liqLegs));
    const funding = await store.query<{ funding_id: string; amount: number; ids: number }>(
      `SELECT funding_id, any(amount_usdt) AS amount, uniqExact(row_id) AS ids FROM ${db}.funding GROUP BY funding_id`,
    );
    const ledger = venueFunding(truth, config.symbols);
    const byId = new Map(funding.map((r) => [r.funding_id, r]));
    const wrong = ledger.filter((r) => byId.get(r.tran_id)?.amount !== r.amount_usdt || byId.get(r.tran_id)?.ids !== 1).map((r) => r.tran_id);
    const extra = funding.filter((r) => !ledger.some((l) => l.tran_id === r.funding_id)).map((r) => r.funding_id);
    checks.push({
      name: 'funding rows: one per venue payment',
      ok: wrong.length === 0 && extra.length === 0,
      detail: wrong.length === 0 && extra.length === 0 ? `${ledger.length} payment(s), each one funding row with the venue's amount` : `missing or twice: ${wrong.slice(0, 5).join(', ')}; not the venue's: ${extra.slice(0, 5).join(', ')}`,
    });
    checks.push({
      name: 'exit legs never oversell',
      ok: (legs?.bad ?? 0) === 0 && (over?.bad ?? 0) === 0,
      detail: `${legs?.bad ?? 0} leg rows with a negative remainder or an empty leg, ${over?.bad ?? 0} trades whose legs exceed the entry`,
    });
    for (const c of audit.checks) checks.push({ name: `audit ${c.id}`, ok: c.ok, detail: c.detail });
    const injected = critical.filter((r) => r.code === 'KERNEL_ASSERTION' && r.details.includes('injected by the test harness'));
    // Each injected fail-stop also ends the engine with exit 4: its lifecycle row (ENGINE_FAILED,
    // issue 22) names the same injection. Any other CRITICAL row is a failure.
    const lifecycle = critical.filter((r) => r.code === 'ENGINE_FAILED' && r.details.includes('injected by the test harness') && r.details.includes('"exit":4'));
    // Issue 20: each venue liquidation of a PINK position is one POSITION_LIQUIDATED row, on its symbol.
    const liquidated = critical.filter((r) => r.code === 'POSITION_LIQUIDATED');
    const sameSymbols = liquidated.map((r) => r.symbol).sort().join(',') === liquidations.map((l) => l.symbol).sort().join(',');
    const known = [...injected, ...lifecycle, ...liquidated];
    checks.push({
      name: 'CRITICAL anomalies: one per injected fail-stop (and its ENGINE_FAILED), one per venue liquidation, no other',
      ok: injected.length === injected_asserts && lifecycle.length === injected.length && sameSymbols && critical.length === known.length,
      detail: `${injected_asserts} injected, ${injected.length} fail-stop row(s), ${lifecycle.length} ENGINE_FAILED; ${liquidations.length} venue liquidation(s) (${liquidations.map((l) => l.symbol).join(', ') || 'none'}), ${liquidated.length} POSITION_LIQUIDATED (${liquidated.map((r) => r.symbol).join(', ') || 'none'})${critical.length > known.length ? `; others: ${critical.filter((r) => !known.includes(r)).slice(0, 3).map((r) => `${r.code} ${r.details.slice(0, 120)}`).join(' | ')}` : ''}`,
    });
    const capital = acct?.capital ?? NaN;
    checks.push({
      name: 'last account row is the kernel capital',
      ok: Math.abs(capital - kernel_capital) <= 1e-9 * Math.max(1, Math.abs(kernel_capital)),
      detail: `store ${capital}, checkpoint ${kernel_capital}`,
    });
    return { checks, facts: { fills: fills.length, trades: t?.closed ?? 0 } };
  } finally {
    await store.close();
  }
}

/**
 * Internal errors are read where the engine records them, not in engine.out: the error log
 * (DOLPHIN_LOG_DIR/dolphin_live_pink-error.log) holds one CRITICAL fail-stop line per kernel
 * assertion the harness injected, each naming the injection, and no other internal error.
 */
export function checkErrorLog(logDir: string, injected: number): Check {
  const path = join(logDir, 'dolphin_live_pink-error.log');
  const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const internal = text.split('\n').filter((l) => / CRITICAL (KERNEL_ASSERTION|INTERNAL_ERROR) /.test(l));
  const expected = internal.filter((l) => /engine stopped fail-closed at seq \d+: KernelAssertionError: kernel assertion failed: injected by the test harness/.test(l));
  const other = internal.filter((l) => !expected.includes(l));
  return {
    name: 'no internal error in the error log but the injected ones',
    ok: other.length === 0 && expected.length === injected,
    detail: `${injected} kernel assertion(s) injected, ${expected.length} fail-stop line(s) for them${other.length ? `; other internal errors: ${other.slice(0, 3).join(' | ')}` : ''}`,
  };
}
