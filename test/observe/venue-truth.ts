// The figures a report must show, computed here from the simulator's own fills (its ground truth),
// independently of PINK's kernel and SQL: realized per exit against the running average entry,
// fees, trades closed, wins (realized above the trade's fees), holds, UTC days.
import assert from 'node:assert/strict';
import type { SimFill } from '../../src/sim/types.js';

export interface Expected {
  realized: number;
  fees: number;
  trades: number;
  wins: number;
  avg_hold_s: number;
  bySymbol: Record<string, { realized: number; fees: number }>;
  days: string[];
  fills: number;
}

/** From the venue's own fills and prices: realized per exit against the average entry, fees, holds. */
export function expectedFromVenue(all: readonly SimFill[]): Expected {
  const fills = all.filter((f) => f.client_order_id.startsWith('pink-')).sort((a, b) => a.ts_ms - b.ts_ms);
  const out: Expected = { realized: 0, fees: 0, trades: 0, wins: 0, avg_hold_s: 0, bySymbol: {}, days: [], fills: fills.length };
  const pos = new Map<string, { qty: number; avg: number; side: string; open_ms: number; realized: number; fees: number }>();
  const holds: number[] = [];
  for (const f of fills) {
    const by = (out.bySymbol[f.symbol] ??= { realized: 0, fees: 0 });
    by.fees += f.fee_usdt;
    out.fees += f.fee_usdt;
    const day = new Date(f.ts_ms).toISOString().slice(0, 10);
    if (!out.days.includes(day)) out.days.push(day);
    const p = pos.get(f.symbol);
    const signed = f.side.toLowerCase() === 'buy' ? f.qty : -f.qty;
    if (!p || p.qty === 0) {
      pos.set(f.symbol, { qty: signed, avg: f.price, side: signed > 0 ? 'long' : 'short', open_ms: f.ts_ms, realized: 0, fees: f.fee_usdt });
      continue;
    }
    if (Math.sign(signed) === Math.sign(p.qty)) {
      p.avg = (p.avg * Math.abs(p.qty) + f.price * f.qty) / (Math.abs(p.qty) + f.qty);
      p.qty += signed;
      p.fees += f.fee_usdt;
      continue;
    }
    const pnl = (f.price - p.avg) * f.qty * (p.qty > 0 ? 1 : -1);
    p.realized += pnl;
    p.fees += f.fee_usdt;
    by.realized += pnl;
    out.realized += pnl;
    p.qty += signed;
    if (Math.abs(p.qty) < 1e-12) {
      p.qty = 0;
      out.trades += 1;
      if (p.realized > p.fees) out.wins += 1;
      holds.push((f.ts_ms - p.open_ms) / 1000);
    }
  }
  out.avg_hold_s = holds.reduce((a, b) => a + b, 0) / holds.length;
  return out;
}

export const near = (a: number | null | undefined, b: number, what: string, tol = 1e-9): void => {
  assert.ok(typeof a === 'number' && Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what}: ${a} vs ${b}`);
};
