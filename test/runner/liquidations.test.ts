// Chaos seed 45 (--seconds 15): the venue liquidated SOL-USDT while it rate-limited every 6th
// request. The step took the liquidation from the adapter, its reconcile's snapshot was refused,
// and the liquidation was gone: the slot stayed open against a flat venue, its exits refused as
// reduce-only until the rejects breaker set the symbol REDUCING, for as long as the engine ran.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PendingLiquidations } from '../../src/engine/runner/liquidations.js';
import type { VenueLiquidation } from '../../src/engine/venue/types.js';

const liq = (symbol: string): VenueLiquidation => ({ fill_id: `L-${symbol}`, venue_order_id: 'v', symbol, side: 'sell', qty: 1, price: 95, fee: 0.05, ts: 1, liquidation_price: 95.2 });

test('a liquidation stays pending through a reconcile that fails, and is reconciled at the next step', async () => {
  const p = new PendingLiquidations(['BTC-USDT', 'SOL-USDT']);
  const asked: string[][] = [];
  const refused = async (symbols: string[]): Promise<never> => {
    asked.push(symbols);
    throw new Error('rate limited');
  };
  await assert.rejects(p.settle([liq('SOL-USDT'), liq('SOL-USDT'), liq('XRP-USDT')], refused), /rate limited/);
  assert.deepEqual(p.pending(), ['SOL-USDT'], 'kept, once; a symbol PINK does not trade is not');
  // The next step: the adapter has nothing new, the pending symbol is reconciled again, with a new one.
  await p.settle([liq('BTC-USDT')], async (symbols) => asked.push(symbols));
  assert.deepEqual(asked, [['SOL-USDT'], ['SOL-USDT', 'BTC-USDT']]);
  assert.deepEqual(p.pending(), []);
  await p.settle([], async (symbols) => asked.push(symbols));
  assert.equal(asked.length, 2, 'nothing pending: no reconcile');
});
