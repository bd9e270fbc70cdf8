// The contracts the simulator lists, and the number rules that come with them: prices on the
// tick, quantities on the step, both rendered as BingX renders them (decimal strings).

export interface MarketSpec {
  symbol: string;
  asset: string;
  contract_id: string;
  price_precision: number;
  quantity_precision: number;
  min_qty: number;
  min_notional_usdt: number;
  initial_price: number;
  max_leverage: number;
}

/** What `pink sim` lists without --symbols: the engine's defaults and the fixtures' LTC. */
export const DEFAULT_SIM_SYMBOLS = ['BTC-USDT', 'ETH-USDT', 'SOL-USDT', 'LTC-USDT', 'BNB-USDT', 'XRP-USDT', 'DOGE-USDT'];

/** Plausible specs (BingX's precisions for these contracts, round starting prices). */
const KNOWN: Record<string, Omit<MarketSpec, 'symbol' | 'asset' | 'contract_id'>> = {
  'BTC-USDT': { price_precision: 1, quantity_precision: 4, min_qty: 0.0001, min_notional_usdt: 2, initial_price: 60000, max_leverage: 125 },
  'ETH-USDT': { price_precision: 2, quantity_precision: 2, min_qty: 0.01, min_notional_usdt: 2, initial_price: 3000, max_leverage: 125 },
  'SOL-USDT': { price_precision: 3, quantity_precision: 2, min_qty: 0.01, min_notional_usdt: 2, initial_price: 150, max_leverage: 75 },
  'LTC-USDT': { price_precision: 2, quantity_precision: 2, min_qty: 0.01, min_notional_usdt: 2, initial_price: 80, max_leverage: 75 },
  'BNB-USDT': { price_precision: 2, quantity_precision: 2, min_qty: 0.01, min_notional_usdt: 2, initial_price: 600, max_leverage: 75 },
  'XRP-USDT': { price_precision: 4, quantity_precision: 0, min_qty: 1, min_notional_usdt: 2, initial_price: 0.6, max_leverage: 75 },
  'DOGE-USDT': { price_precision: 5, quantity_precision: 0, min_qty: 1, min_notional_usdt: 2, initial_price: 0.15, max_leverage: 75 },
};

const GENERIC: Omit<MarketSpec, 'symbol' | 'asset' | 'contract_id'> = {
  price_precision: 4,
  quantity_precision: 2,
  min_qty: 0.01,
  min_notional_usdt: 2,
  initial_price: 10,
  max_leverage: 50,
};

export const SYMBOL_PATTERN = /^[A-Z0-9]{1,20}-USDT$/;

export function buildMarkets(symbols: string[]): Map<string, MarketSpec> {
  const markets = new Map<string, MarketSpec>();
  symbols.forEach((symbol, i) => {
    if (!SYMBOL_PATTERN.test(symbol)) throw new Error(`simulator symbol ${symbol} is not of the form BASE-USDT`);
    const spec = KNOWN[symbol] ?? GENERIC;
    markets.set(symbol, { ...spec, symbol, asset: symbol.split('-')[0] ?? symbol, contract_id: String(100 + i) });
  });
  return markets;
}

export const tickSize = (m: MarketSpec): number => 10 ** -m.price_precision;
export const stepSize = (m: MarketSpec): number => 10 ** -m.quantity_precision;

/** Rounds to `decimals` places, killing binary noise (0.1 + 0.2) and negative zero. */
export function roundTo(value: number, decimals: number): number {
  const r = Number(value.toFixed(decimals));
  return r === 0 ? 0 : r;
}

export function floorToStep(qty: number, m: MarketSpec): number {
  const step = stepSize(m);
  // The epsilon keeps 0.3 / 0.1 = 2.9999999999999996 from flooring to 2 steps.
  return roundTo(Math.floor(qty / step + 1e-9) * step, m.quantity_precision);
}

export function roundPrice(price: number, m: MarketSpec, mode: 'up' | 'down' | 'near' = 'near'): number {
  const tick = tickSize(m);
  const units = price / tick;
  const rounded = mode === 'up' ? Math.ceil(units - 1e-9) : mode === 'down' ? Math.floor(units + 1e-9) : Math.round(units);
  return roundTo(Math.max(1, rounded) * tick, m.price_precision);
}

/** BingX's decimal strings: fixed places, never "-0.00". */
export function fmt(value: number, decimals: number): string {
  const text = value.toFixed(decimals);
  return /^-0(\.0*)?$/.test(text) ? text.slice(1) : text;
}

export const fmtPrice = (value: number, m: MarketSpec): string => fmt(value, m.price_precision);
export const fmtQty = (value: number, m: MarketSpec): string => fmt(value, m.quantity_precision);
/** Money: four places, as BingX's balance and PnL fields show. */
export const fmtUsdt = (value: number): string => fmt(value, 4);
