// Maintenance margin and liquidation prices, as BingX defines them for USDT-M perpetuals:
//   maintenance margin = position notional × maintenance margin rate − maintenance amount
// with the rate taken from the position's notional tier, and forced liquidation "when the
// remaining margin is less than or equal to the maintenance margin plus the fee to close"
// (BingX support: "USDT-M Perpetual Futures maintenance margin rate rules", "Account
// Structure (Perpetual Swap)"). Pure functions over SimStateData; see docs/simulator.md for
// the sources and for what is modelled rather than captured.

import { leverageOf } from './account.js';
import type { SimPosition, SimStateData } from './types.js';

export interface MarginTier {
  tier: number;
  min_notional_usdt: number;
  /** Infinity for the last tier. */
  max_notional_usdt: number;
  maint_margin_rate: number;
  /** BingX's "maintenance amount" (quick-calculation amount): keeps the margin continuous across tiers. */
  maint_amount_usdt: number;
}

/** [lower bound of the tier in USDT notional, maintenance margin rate]. */
type TierSpec = Array<[number, number]>;

/**
 * ETH-USDT's first tier (0 to 900 000 USDT at 0.33 %, amount 0) is BingX's own answer to
 * /openApi/swap/v1/maintMarginRatio as quoted in ccxt's bingx.fetchMarketLeverageTiers; the
 * tiers above it, and the other symbols' tables, are modelled on that shape (no capture of
 * them exists here, and there is no network to BingX): majors start lower than alts.
 */
const TIER_SPECS: Record<string, TierSpec> = {
  'BTC-USDT': [[0, 0.003], [1_000_000, 0.005], [5_000_000, 0.01], [20_000_000, 0.025]],
  'ETH-USDT': [[0, 0.0033], [900_000, 0.005], [5_000_000, 0.01], [20_000_000, 0.025]],
};
const ALT_TIERS: TierSpec = [[0, 0.005], [200_000, 0.01], [1_000_000, 0.025], [5_000_000, 0.05]];

/** The tier table of a symbol, with each maintenance amount derived so the margin is continuous. */
export function marginTiers(symbol: string): MarginTier[] {
  const spec = TIER_SPECS[symbol] ?? ALT_TIERS;
  const tiers: MarginTier[] = [];
  let amount = 0;
  spec.forEach(([floor, rate], i) => {
    const prev = tiers[i - 1];
    if (prev) amount += floor * (rate - prev.maint_margin_rate);
    tiers.push({
      tier: i + 1,
      min_notional_usdt: floor,
      max_notional_usdt: spec[i + 1]?.[0] ?? Infinity,
      maint_margin_rate: rate,
      maint_amount_usdt: amount,
    });
  });
  return tiers;
}

export function tierFor(symbol: string, notional_usdt: number): MarginTier {
  const tiers = marginTiers(symbol);
  return tiers.find((t) => notional_usdt < t.max_notional_usdt) ?? (tiers[tiers.length - 1] as MarginTier);
}

export function maintenanceMargin(symbol: string, notional_usdt: number): number {
  const t = tierFor(symbol, notional_usdt);
  return Math.max(0, notional_usdt * t.maint_margin_rate - t.maint_amount_usdt);
}

const markOf = (state: SimStateData, p: SimPosition): number => state.prices[p.symbol] ?? p.entry_price;

/**
 * The margin that stands behind a position. Isolated: its initial margin plus the funding it
 * received (BingX takes isolated funding from the position's margin). Cross: the wallet, plus
 * the other positions' unrealized PnL, less their maintenance margin.
 */
export function positionMargin(state: SimStateData, p: SimPosition): number {
  if (state.margin_type[p.symbol] === 'ISOLATED') {
    return (Math.abs(p.qty) * p.entry_price) / leverageOf(state, p.symbol) + (p.funding_usdt ?? 0);
  }
  let margin = state.wallet_usdt;
  for (const other of Object.values(state.positions)) {
    if (other === p) continue;
    const mark = markOf(state, other);
    margin += (mark - other.entry_price) * other.qty - maintenanceMargin(other.symbol, Math.abs(other.qty) * mark);
  }
  return margin;
}

/**
 * The mark at which the position's margin plus its unrealized PnL falls to its maintenance
 * margin plus the taker fee to close it (tier taken at the current mark). Long:
 *   P = (q·E − M − A) / (q·(1 − r − f));  short (s = |q|):  P = (s·E + M + A) / (s·(1 + r + f)).
 * 0 when the position cannot be liquidated (a long backed by more than its value).
 */
export function liquidationPrice(state: SimStateData, p: SimPosition, taker_fee_rate: number): number {
  const s = Math.abs(p.qty);
  if (s === 0) return 0;
  const t = tierFor(p.symbol, s * markOf(state, p));
  const r = t.maint_margin_rate;
  const a = t.maint_amount_usdt;
  const m = positionMargin(state, p);
  const price = p.qty > 0 ? (s * p.entry_price - m - a) / (s * (1 - r - taker_fee_rate)) : (s * p.entry_price + m + a) / (s * (1 + r + taker_fee_rate));
  return Number.isFinite(price) && price > 0 ? price : 0;
}

/** Whether the mark has reached the liquidation price (a long at or below it, a short at or above). */
export function crossedLiquidation(state: SimStateData, p: SimPosition, taker_fee_rate: number): boolean {
  const liq = liquidationPrice(state, p, taker_fee_rate);
  if (liq <= 0) return false;
  const mark = markOf(state, p);
  return p.qty > 0 ? mark <= liq : mark >= liq;
}

/** BingX's riskRate: maintenance margin over the margin balance (≥ 1 is liquidation). */
export function riskRate(state: SimStateData, p: SimPosition): number {
  const mark = markOf(state, p);
  const balance = positionMargin(state, p) + (mark - p.entry_price) * p.qty;
  const mm = maintenanceMargin(p.symbol, Math.abs(p.qty) * mark);
  return balance > 0 ? mm / balance : 1;
}
