// Funding income as PINK records it, from what BingX gives: its income ledger (incomeType
// FUNDING_FEE: symbol, income, time, tranId: no rate, no size, no mark), completed from two
// public reads per symbol: the funding-rate history (the rate settled at that time) and the
// 1-minute mark-price candles (the mark then). The size follows: |income| = size × mark × |rate|.
import type { bingx as BingxExchange } from 'ccxt';
import type { Symbol } from '../kernel/types.js';
import { fromCcxtSymbol, toCcxtSymbol } from './translate.js';
import type { BucketName, FundingPayment } from './types.js';

/** Rows asked per income page (BingX's maximum), and pages per read at most. */
export const FUNDING_PAGE_ROWS = 1000;
export const FUNDING_PAGES_MAX = 5;
/** Symbols completed with rate and mark per read at most (two public calls each); the rest keep nulls. */
export const FUNDING_SYMBOLS_PER_READ_MAX = 10;
const MINUTE_MS = 60_000;
/** BingX's candle and rate pages. */
const CANDLES_PER_READ_MAX = 1440;
const RATES_PER_READ_MAX = 1000;

type Paced = <T>(buckets: BucketName[], fn: () => Promise<T>) => Promise<T>;

interface Income {
  id?: string;
  symbol?: string;
  amount?: number;
  timestamp?: number;
}

/** The income ledger's FUNDING_FEE rows since `since_ms`, each once, oldest first. */
async function readLedger(ex: BingxExchange, paced: Paced, since_ms: number): Promise<Array<{ id: string; symbol: Symbol; amount: number; ts: number }>> {
  const byId = new Map<string, { id: string; symbol: Symbol; amount: number; ts: number }>();
  let from = Math.floor(since_ms);
  for (let page = 0; page < FUNDING_PAGES_MAX; page++) {
    const rows = (await paced(['account_reads'], () => ex.fetchFundingHistory(undefined, from, FUNDING_PAGE_ROWS))) as Income[];
    let last = from;
    for (const r of rows) {
      const symbol = fromCcxtSymbol(r.symbol);
      if (r.id === undefined || symbol === undefined || typeof r.amount !== 'number' || typeof r.timestamp !== 'number') continue;
      byId.set(r.id, { id: r.id, symbol, amount: r.amount, ts: r.timestamp });
      last = Math.max(last, r.timestamp);
    }
    // A full page: the next starts at its last time (rows of that millisecond come again, once by id).
    if (rows.length < FUNDING_PAGE_ROWS || last === from) break;
    from = last;
  }
  return [...byId.values()].sort((a, b) => a.ts - b.ts || (a.id < b.id ? -1 : 1));
}

/** Rates by funding time, and 1-minute mark closes by minute, over [first, last] of one symbol. */
async function ratesAndMarks(ex: BingxExchange, paced: Paced, symbol: Symbol, first_ms: number, last_ms: number) {
  const ccxtSymbol = toCcxtSymbol(symbol);
  const rates = new Map<number, number>();
  const history = await paced(['ip'], () => ex.fetchFundingRateHistory(ccxtSymbol, first_ms, RATES_PER_READ_MAX, { until: last_ms }));
  for (const h of history) if (typeof h.timestamp === 'number' && typeof h.fundingRate === 'number') rates.set(h.timestamp, h.fundingRate);
  const marks = new Map<number, number>();
  const from = Math.floor(first_ms / MINUTE_MS) * MINUTE_MS;
  const candles = await paced(['ip'], () => ex.fetchOHLCV(ccxtSymbol, '1m', from, CANDLES_PER_READ_MAX, { price: 'mark', until: last_ms + MINUTE_MS }));
  for (const c of candles) if (typeof c[0] === 'number' && typeof c[4] === 'number') marks.set(c[0], c[4]);
  return { rates, marks };
}

/** |amount| / (|rate| × mark) on the lot step, signed: a long pays a positive rate. */
function positionQty(ex: BingxExchange, symbol: Symbol, amount: number, rate: number, mark: number): number | null {
  if (rate === 0 || mark <= 0 || amount === 0) return null;
  const step = Number(ex.market(toCcxtSymbol(symbol))?.precision?.amount ?? 0);
  const size = Math.abs(amount) / (Math.abs(rate) * mark);
  const onStep = step > 0 ? Math.round(size / step) * step : size;
  const decimals = step > 0 ? Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)) : 8;
  const qty = Number(onStep.toFixed(decimals));
  // Paid on a positive rate, or received on a negative one: a long.
  const long = (amount < 0) === (rate > 0);
  return qty === 0 ? null : long ? qty : -qty;
}

export async function readFundingPayments(ex: BingxExchange, paced: Paced, since_ms: number): Promise<FundingPayment[]> {
  const ledger = await readLedger(ex, paced, since_ms);
  const bySymbol = new Map<Symbol, number[]>();
  for (const r of ledger) bySymbol.set(r.symbol, [...(bySymbol.get(r.symbol) ?? []), r.ts]);
  const known = new Map<Symbol, Awaited<ReturnType<typeof ratesAndMarks>>>();
  for (const [symbol, times] of [...bySymbol].slice(0, FUNDING_SYMBOLS_PER_READ_MAX)) {
    known.set(symbol, await ratesAndMarks(ex, paced, symbol, Math.min(...times), Math.max(...times)));
  }
  return ledger.map((r) => {
    const k = known.get(r.symbol);
    const rate = k?.rates.get(r.ts) ?? null;
    const mark = k?.marks.get(Math.floor(r.ts / MINUTE_MS) * MINUTE_MS) ?? null;
    const position_qty = rate !== null && mark !== null ? positionQty(ex, r.symbol, r.amount, rate, mark) : null;
    return { funding_id: r.id, symbol: r.symbol, amount_usdt: r.amount, ts: r.ts, rate, mark_price: mark, position_qty };
  });
}
