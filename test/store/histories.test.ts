// Issue 15, defect 2, in the store: two kernel histories (a fresh PINK_HOME, a lost checkpoint)
// writing one database keep every trade, fill and row. Real rows from two real kernels, written
// through the real store (chDB; the server too when PINK_CLICKHOUSE_URL is set) in the batches and
// under the tokens the engine uses.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Kernel } from '../../src/engine/kernel/index.js';
import type { RowOut } from '../../src/engine/kernel/types.js';
import { batchToken } from '../../src/engine/runner/kernel-glue.js';
import { openStore } from '../../src/engine/store/index.js';
import { CONFIG, Harness } from '../kernel/harness.js';
import { backendCases, configFor, dropDatabases, INITIAL_CAPITAL_USDT, tmpHome } from './fixtures.js';

const HOME = tmpHome('histories');
after(() => rmSync(HOME, { recursive: true, force: true }));

/** One history's run: a trade opened and closed on BTC, one on ETH; its batches as the engine cuts them. */
function history(history_id: string, price: number): { batches: { token: string; rows: RowOut[] }[]; kernel: Kernel } {
  const h = new Harness({ ...CONFIG, history_id, initial_capital_usdt: INITIAL_CAPITAL_USDT });
  const steps: Array<() => void> = [
    () => h.tick({ 'BTC-USDT': price, 'ETH-USDT': price / 20 }),
    () => h.open('e1', 'BTC-USDT', 'long', 1, price, 0.1),
    () => h.open('e2', 'ETH-USDT', 'short', 2, price / 20, 0.1),
    () => {
      h.exit('x1', 'BTC-USDT', { final: true });
      h.fill(h.coidOf('x1'), 1, price + 5, 0.1);
    },
    () => {
      h.exit('x2', 'ETH-USDT', { final: true });
      h.fill(h.coidOf('x2'), 2, price / 20 - 1, 0.1);
    },
  ];
  // One batch per step, token `history:seq:first-last`, as Engine.recordRows writes them.
  const batches: { token: string; rows: RowOut[] }[] = [];
  for (const step of steps) {
    const first = h.k.view().seq + 1;
    const from = h.log.length;
    step();
    const rows = h.log.slice(from).flatMap((o) => o.rows);
    batches.push({ token: batchToken(history_id, first, h.k.view().seq), rows });
  }
  return { batches, kernel: h.k };
}

for (const backend of backendCases()) {
  test(`${backend.name}: two kernel histories in one database keep every trade, fill and row (no id shared, no batch dropped)`, async () => {
    const config = configFor(HOME, backend);
    const store = await openStore({ config, runId: 'run-histories', spoolDir: `${HOME}/spool-${config.database}` });
    try {
      await store.ensureSchema();
      // The same script twice, as a fresh PINK_HOME (or a lost checkpoint) would run it.
      const a = history('historyaa1', 100);
      const b = history('historybb2', 100);
      for (const batch of [...a.batches, ...b.batches]) store.write(batch);
      await store.flush();
      const db = `\`${store.database}\``;
      const trades = await store.query<{ trade_id: string; status: string }>(`SELECT trade_id, argMax(status, (legs, status = 'closed')) AS status FROM ${db}.trades GROUP BY trade_id ORDER BY trade_id`);
      assert.equal(trades.length, 4, `every trade of both histories: ${JSON.stringify(trades)}`);
      assert.ok(trades.every((t) => t.status === 'closed'));
      const sent = (family: string): number => [...a.batches, ...b.batches].flatMap((x) => x.rows).filter((r) => r.family === family).length;
      for (const family of ['fills', 'trade_exit_legs', 'orders', 'decisions', 'account', 'positions']) {
        const [n] = await store.query<{ n: number }>(`SELECT count() AS n FROM (SELECT DISTINCT row_id FROM ${db}.${family})`);
        assert.equal(Number(n!.n), sent(family), `${family}: every row of both histories`);
      }
      const [legs] = await store.query<{ n: number }>(`SELECT count() AS n FROM ${db}.fills`);
      assert.equal(Number(legs!.n), 8, 'four fills a history, none dropped as a duplicate batch');
      // SPEC 5's audits hold with both histories in the database.
      const report = await store.audit({ funding_paid_usdt: 0 });
      assert.equal(report.ok, true, JSON.stringify(report.checks.filter((c) => !c.ok)));
    } finally {
      await store.close();
      await dropDatabases(config);
    }
  });
}
