// Simulator throughput through the real ccxt client: market orders created and filled, one
// client, one request at a time (ccxt's own throttle off, as the tests run it). Measures the
// whole path PINK uses: signing, HTTP on loopback, auth check, matching, the BingX answer,
// ccxt's parsing.
import { pathToFileURL } from 'node:url';
import { pointCcxtAtSim, startSim } from '../src/sim/index.js';

/** Wall time spent measuring (after a warm-up), so `npm run bench` stays short. */
const MEASURE_MS = 2000;
const WARMUP_ORDERS = 50;

export async function bench(): Promise<void> {
  const { default: ccxt } = await import('ccxt');
  const sim = await startSim({ seed: 1, priceWalk: true, initialBalanceUsdt: 1e9 });
  try {
    const ex = new ccxt.bingx({ apiKey: 'pink-sim-key', secret: 'pink-sim-secret', enableRateLimit: false, options: { defaultType: 'swap' } });
    pointCcxtAtSim(ex, sim.url);
    await ex.loadMarkets();
    let side: 'buy' | 'sell' = 'buy';
    const once = async () => {
      // Alternate sides so the position (and the margin it needs) stays small.
      await ex.createOrder('BTC/USDT:USDT', 'market', side, 0.001);
      side = side === 'buy' ? 'sell' : 'buy';
    };
    for (let i = 0; i < WARMUP_ORDERS; i++) await once();
    let orders = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < MEASURE_MS) {
      await once();
      orders += 1;
    }
    const seconds = (performance.now() - t0) / 1000;
    const truth = sim.state();
    if (truth.orders_created !== orders + WARMUP_ORDERS || truth.open_orders.length !== 0) {
      throw new Error(`bench: ${orders + WARMUP_ORDERS} orders sent, ${truth.orders_created} created, ${truth.open_orders.length} not filled`);
    }
    console.log(`sim: ${Math.round(orders / seconds)} orders/s through ccxt (market create+fill, one client)`);
  } finally {
    await sim.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await bench();
