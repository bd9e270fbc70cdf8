// Funding: every interval (BingX: 8 h, at 00:00, 08:00 and 16:00 UTC+8, i.e. multiples of 8 h
// since the epoch) each open position pays or receives position value × rate: a long pays a
// positive rate, a short receives it (BingX support, "Perpetual Futures | Fee Schedule").
// The rate follows the price walk: BingX's formula is clamp(premium of the contract over its
// index − interest, −0.3 %, +0.3 %) with interest 0; the simulator's index is a slow average of
// its own mark, and its resting rate is RESTING_RATE (a simulator choice, so that funding moves
// money even on a flat price). /__sim/funding sets a symbol's rate instead.
// Settlement happens inside the step that first sees the clock at or past the funding time;
// the payment is stamped with the funding time itself, so a slow or idle venue pays late but
// never twice and never at a wrong time.

import { venueId } from './account.js';
import { roundTo, type MarketSpec } from './markets.js';
import type { SimFundingState, SimIncome, SimStateData } from './types.js';

export const FUNDING_INTERVAL_MS_DEFAULT = 8 * 3600_000;
/** BingX's clamp on the funding rate. */
export const FUNDING_RATE_MAX = 0.003;
/** The rate on a flat market (the usual 0.01 % per 8 h); see the header. */
export const RESTING_RATE = 0.0001;
/** How much of the gap between mark and index the index closes per step (its averaging). */
const INDEX_SMOOTHING = 0.05;
/** A venue idle for many intervals settles at most this many at once; older ones are skipped. */
export const FUNDING_CATCHUP_MAX = 1000;
export const FUNDING_HISTORY_MAX = 5000;
export const INCOME_MAX = 5000;

export const nextFundingAfter = (now_ms: number, interval_ms: number): number => (Math.floor(now_ms / interval_ms) + 1) * interval_ms;

export function freshFunding(interval_ms: number, now_ms: number, prices: Record<string, number>): SimFundingState {
  return { interval_ms, next_ms: nextFundingAfter(now_ms, interval_ms), overrides: {}, index: { ...prices }, history: [], updated_ms: now_ms };
}

/** The funding state of a state file, brought to this run's interval (a changed interval restarts the schedule). */
export function adoptFunding(state: SimStateData, interval_ms: number, now_ms: number): SimFundingState {
  const f = state.funding ?? freshFunding(interval_ms, now_ms, state.prices);
  if (f.interval_ms !== interval_ms) {
    f.interval_ms = interval_ms;
    f.next_ms = nextFundingAfter(now_ms, interval_ms);
  }
  state.funding = f;
  return f;
}

/** The rate the next settlement will charge for `symbol`. */
export function currentRate(f: SimFundingState, symbol: string, mark: number): number {
  const set = f.overrides[symbol];
  if (set !== undefined) return set;
  const index = f.index[symbol] ?? mark;
  const premium = index > 0 ? (mark - index) / index : 0;
  return roundTo(Math.min(FUNDING_RATE_MAX, Math.max(-FUNDING_RATE_MAX, RESTING_RATE + premium)), 8);
}

/** One step of the index average (called once per engine step, after the walk). */
export function observeIndex(f: SimFundingState, prices: Record<string, number>, now_ms: number): void {
  for (const [symbol, mark] of Object.entries(prices)) {
    const index = f.index[symbol] ?? mark;
    f.index[symbol] = index + (mark - index) * INDEX_SMOOTHING;
  }
  f.updated_ms = now_ms;
}

export function pushIncome(state: SimStateData, row: Omit<SimIncome, 'tran_id' | 'trade_id'> & { trade_id?: string }): SimIncome {
  state.seq.income = (state.seq.income ?? 0) + 1;
  const tran_id = `${venueId(state.seq.income)}`;
  const full: SimIncome = { ...row, tran_id, trade_id: row.trade_id ?? tran_id };
  const list = (state.income ??= []);
  list.push(full);
  if (list.length > INCOME_MAX) list.splice(0, list.length - INCOME_MAX);
  return full;
}

/**
 * Settles every funding time up to now (at most FUNDING_CATCHUP_MAX of them): a rate row per
 * listed symbol, and a FUNDING_FEE income row per open position. Returns how many settled.
 */
export function settleFunding(state: SimStateData, markets: Map<string, MarketSpec>, now_ms: number): number {
  const f = state.funding;
  if (f === undefined || now_ms < f.next_ms) return 0;
  const due = Math.floor((now_ms - f.next_ms) / f.interval_ms) + 1;
  if (due > FUNDING_CATCHUP_MAX) f.next_ms += (due - FUNDING_CATCHUP_MAX) * f.interval_ms;
  let settled = 0;
  while (f.next_ms <= now_ms) {
    settleOnce(state, markets, f, f.next_ms);
    f.next_ms += f.interval_ms;
    settled += 1;
  }
  return settled;
}

function settleOnce(state: SimStateData, markets: Map<string, MarketSpec>, f: SimFundingState, ts_ms: number): void {
  for (const m of markets.values()) {
    const mark = state.prices[m.symbol] ?? m.initial_price;
    const rate = currentRate(f, m.symbol, mark);
    f.history.push({ symbol: m.symbol, rate, ts_ms });
    const pos = state.positions[m.symbol];
    if (pos === undefined || pos.qty === 0 || rate === 0) continue;
    // A long pays a positive rate; a short receives it.
    const amount = roundTo(-pos.qty * mark * rate, 8);
    state.wallet_usdt += amount;
    pos.funding_usdt = (pos.funding_usdt ?? 0) + amount;
    pos.realized_pnl_usdt += amount;
    pushIncome(state, { symbol: m.symbol, type: 'FUNDING_FEE', amount_usdt: amount, ts_ms, rate, position_qty: pos.qty, mark_price: mark });
  }
  if (f.history.length > FUNDING_HISTORY_MAX) f.history.splice(0, f.history.length - FUNDING_HISTORY_MAX);
}
