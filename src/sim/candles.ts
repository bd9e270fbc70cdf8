// Klines for /openApi/swap/v3/quote/klines. One-minute candles per symbol, built from the
// prices the simulator walks through, after a synthetic, seeded history so that a strategy
// asking for the last few hours gets an answer on a fresh simulator. Candles are cosmetic:
// they are not persisted (a restart rebuilds the history from the seed).

import { roundPrice, roundTo, type MarketSpec } from './markets.js';
import { nextNormal, nextUniform, seedRng } from './rng.js';

export interface Candle {
  open_ms: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

const MINUTE_MS = 60_000;
/** One day of one-minute candles per symbol. */
export const CANDLES_MAX = 1440;
const HISTORY_MINUTES = 240;
const HISTORY_STEP_BPS = 8;

export const INTERVAL_MS: Record<string, number> = {
  '1m': MINUTE_MS,
  '3m': 3 * MINUTE_MS,
  '5m': 5 * MINUTE_MS,
  '15m': 15 * MINUTE_MS,
  '30m': 30 * MINUTE_MS,
  '1h': 60 * MINUTE_MS,
  '2h': 120 * MINUTE_MS,
  '4h': 240 * MINUTE_MS,
  '6h': 360 * MINUTE_MS,
  '12h': 720 * MINUTE_MS,
  '1d': 1440 * MINUTE_MS,
  '3d': 3 * 1440 * MINUTE_MS,
  '1w': 7 * 1440 * MINUTE_MS,
  '1M': 30 * 1440 * MINUTE_MS,
};

export class CandleBook {
  private readonly bySymbol = new Map<string, Candle[]>();

  constructor(seed: number, markets: Map<string, MarketSpec>, prices: Record<string, number>, now_ms: number) {
    const current = Math.floor(now_ms / MINUTE_MS) * MINUTE_MS;
    for (const m of markets.values()) {
      const rng = seedRng(seed, `history:${m.symbol}`);
      const list: Candle[] = [];
      let close = prices[m.symbol] ?? m.initial_price;
      // Walk backwards from today's price so the history ends where the live walk starts.
      for (let i = 1; i <= HISTORY_MINUTES; i++) {
        const open = roundPrice(close * Math.exp((HISTORY_STEP_BPS / 10_000) * nextNormal(rng)), m);
        const wiggle = close * (HISTORY_STEP_BPS / 10_000) * nextUniform(rng);
        list.push({
          open_ms: current - i * MINUTE_MS,
          open,
          close,
          high: roundPrice(Math.max(open, close) + wiggle, m, 'up'),
          low: roundPrice(Math.min(open, close) - wiggle, m, 'down'),
          volume: roundTo(nextUniform(rng) * 1000 / Math.max(close, 1e-9), m.quantity_precision),
        });
        close = open;
      }
      list.reverse();
      this.bySymbol.set(m.symbol, list);
    }
  }

  observe(symbol: string, price: number, volume: number, now_ms: number): void {
    const list = this.bySymbol.get(symbol);
    if (!list) return;
    const open_ms = Math.floor(now_ms / MINUTE_MS) * MINUTE_MS;
    const last = list[list.length - 1];
    if (last && last.open_ms === open_ms) {
      last.high = Math.max(last.high, price);
      last.low = Math.min(last.low, price);
      last.close = price;
      last.volume += volume;
      return;
    }
    const open = last ? last.close : price;
    list.push({ open_ms, open, high: Math.max(open, price), low: Math.min(open, price), close: price, volume });
    if (list.length > CANDLES_MAX) list.splice(0, list.length - CANDLES_MAX);
  }

  /** Candles of `interval_ms`, oldest first, the newest `limit` within [start, end]. */
  query(symbol: string, interval_ms: number, opts: { start_ms?: number; end_ms?: number; limit: number }): Candle[] {
    const out: Candle[] = [];
    for (const c of this.bySymbol.get(symbol) ?? []) {
      const open_ms = Math.floor(c.open_ms / interval_ms) * interval_ms;
      const last = out[out.length - 1];
      if (last && last.open_ms === open_ms) {
        last.high = Math.max(last.high, c.high);
        last.low = Math.min(last.low, c.low);
        last.close = c.close;
        last.volume += c.volume;
      } else {
        out.push({ ...c, open_ms });
      }
    }
    const inRange = out.filter(
      (c) => (opts.start_ms === undefined || c.open_ms >= opts.start_ms) && (opts.end_ms === undefined || c.open_ms <= opts.end_ms),
    );
    return inRange.slice(Math.max(0, inRange.length - opts.limit));
  }
}
