// The invariants anyone can check from the kernel's outcomes and rows (SPEC 3.5 and 5), kept as
// running sums so that a long run is checked after every input in linear time.
import assert from 'node:assert/strict';
import { FAULT, findFault } from '../../src/engine/faults/taxonomy.js';
import type { Kernel } from '../../src/engine/kernel/index.js';
import type { KernelInput, KernelOutcome } from '../../src/engine/kernel/types.js';
import { DRIVER_CONFIG as CONFIG } from './driver.js';

type Row = Record<string, string | number | boolean | null>;

interface TradeSums {
  legs: number;
  leg_qty: number;
  leg_pnl: number;
  leg_abs: number;
  closed_rows: number;
}

export class InvariantChecker {
  /** row_id → the row's JSON: an id never names two different rows. */
  private readonly rowIds = new Map<string, string>();
  private readonly trades = new Map<string, TradeSums>();
  /** Every venue fill id a fills row applied: at most once per history. */
  readonly fillIds = new Set<string>();
  /** Every row id and trade id this history wrote (two histories must not share one). */
  readonly tradeIds = new Set<string>();
  private realized = 0;
  private fees = 0;
  private funding = 0;
  private scale = 1;
  readonly codes = new Set<string>();

  /** Row ids seen so far (each names one row). */
  get rowIdSet(): ReadonlySet<string> {
    return new Set(this.rowIds.keys());
  }

  observe(input: KernelInput, outcomes: KernelOutcome[], kernel: Kernel): void {
    assert.ok(outcomes.length > 0, 'every input has an outcome');
    for (const o of outcomes) this.outcome(o);
    const view = kernel.view();
    for (const s of view.slots) {
      assert.ok(s.qty >= 0, `${s.symbol}: negative position ${s.qty}`);
      if (s.qty > 0) assert.ok(s.side !== null, `${s.symbol}: a position without a side`);
    }
    const expected = CONFIG.initial_capital_usdt + this.realized - this.fees - this.funding;
    assert.ok(Math.abs(view.account.capital - expected) <= 1e-9 * this.scale, `capital ${view.account.capital} != initial + realized - fees - funding = ${expected} after ${JSON.stringify(input).slice(0, 200)}`);
  }

  private outcome(o: KernelOutcome): void {
    const f = findFault(o.diagnostic_code);
    assert.ok(f !== undefined && f.code === o.diagnostic_code, `code ${o.diagnostic_code} is not in the taxonomy`);
    assert.equal(o.severity, f.severity, `${o.diagnostic_code} severity`);
    assert.equal(typeof o.details.reason, 'string');
    this.codes.add(o.diagnostic_code);
    const anomalies = o.rows.filter((r) => r.family === 'anomalies');
    assert.equal(anomalies.length, o.severity === 'INFO' ? 0 : 1, `${o.diagnostic_code}: one anomalies row iff above INFO`);
    if (anomalies[0]) assert.equal(anomalies[0].row['origin'], 'ditav2_kernel');
    for (const c of o.commands) {
      if (c.kind !== 'PLACE') continue;
      assert.ok(c.qty > 0 && Number.isFinite(c.qty), `PLACE qty ${c.qty}`);
      assert.match(c.client_order_id, /^pink-[a-z0-9]+$/);
      const remaining = o.details['remaining_qty'];
      if (typeof remaining === 'number') {
        assert.equal(c.reduce_only, true, 'exits are reduce-only');
        assert.ok(c.qty <= remaining * (1 + 1e-12), `exit ${c.qty} oversells ${remaining}`);
      } else {
        assert.equal(c.reduce_only, false, 'entries are not reduce-only');
      }
    }
    for (const r of o.rows) {
      const json = JSON.stringify(r);
      const prior = this.rowIds.get(r.row.row_id);
      if (prior !== undefined) {
        // Only a refused input repeated verbatim at the same point may repeat its rows: the same
        // id for the same content (the store keeps one), never for a different row.
        assert.equal(json, prior, `row_id ${r.row.row_id} names two different rows`);
        assert.ok(r.row.row_id.includes('~'), `a state-changing input repeated row_id ${r.row.row_id}`);
        continue;
      }
      this.rowIds.set(r.row.row_id, json);
      this.row(r.family, r.row as Row);
    }
    if (o.diagnostic_code === FAULT.FUNDING_APPLIED.code) this.funding -= o.details['amount_usdt'] as number;
  }

  private trade(id: string): TradeSums {
    let t = this.trades.get(id);
    if (!t) {
      t = { legs: 0, leg_qty: 0, leg_pnl: 0, leg_abs: 0, closed_rows: 0 };
      this.trades.set(id, t);
    }
    return t;
  }

  private row(family: string, row: Row): void {
    if (family === 'fills') {
      const id = row['fill_id'] as string;
      assert.ok(!this.fillIds.has(id), `fill ${id} applied twice`);
      this.fillIds.add(id);
      this.fees += row['fee'] as number;
      this.scale += Math.abs(row['fee'] as number);
    } else if (family === 'trade_exit_legs') {
      const t = this.trade(row['trade_id'] as string);
      t.legs += 1;
      assert.equal(row['leg_index'], t.legs, 'leg_index increments per trade');
      assert.ok((row['leg_qty'] as number) > 0 && (row['remaining_qty'] as number) >= 0, 'a leg never crosses zero');
      t.leg_qty += row['leg_qty'] as number;
      t.leg_pnl += row['leg_realized_pnl'] as number;
      t.leg_abs += Math.abs(row['leg_realized_pnl'] as number);
      this.realized += row['leg_realized_pnl'] as number;
      this.scale += Math.abs(row['leg_realized_pnl'] as number);
      assert.ok(Math.abs((row['cum_realized_pnl'] as number) - t.leg_pnl) <= 1e-9 * (1 + t.leg_abs), 'cum_realized_pnl is the running sum of the deltas');
      assert.equal(row['is_final'], row['remaining_qty'] === 0);
    } else if (family === 'trades') {
      this.tradeIds.add(row['trade_id'] as string);
      const t = this.trade(row['trade_id'] as string);
      assert.equal(row['legs'], t.legs, 'trades.legs = its leg rows');
      assert.ok(Math.abs((row['realized_pnl'] as number) - t.leg_pnl) <= 1e-9 * (1 + t.leg_abs), `sum(leg_realized_pnl) ${t.leg_pnl} != trades.realized_pnl ${row['realized_pnl']}`);
      if (row['status'] === 'closed') {
        t.closed_rows += 1;
        assert.equal(t.closed_rows, 1, `trade ${row['trade_id']} closed twice`);
        const entry = row['entry_qty'] as number;
        assert.ok(Math.abs(t.leg_qty - entry) <= 1e-9 * entry, `sum(leg_qty) ${t.leg_qty} != entry_qty ${entry}`);
      }
    }
  }
}
