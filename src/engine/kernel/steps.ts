// Lot steps: order sizes rounded down to the market's quantity step (ccxt's precision.amount,
// given by the runner through the settings), so that the venue fills exactly what the kernel
// ordered. Exact for any decimal step, including those JavaScript prints in exponent form.

/** Decimals of a step's shortest decimal form: 0.001 → 3, 2.5e-8 → 9, 1e-7 → 7, 5 → 0. */
export function stepDecimals(step: number): number {
  const text = String(step);
  const e = text.indexOf('e');
  const mantissa = e < 0 ? text : text.slice(0, e);
  const exponent = e < 0 ? 0 : Number(text.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const mantissa_decimals = dot < 0 ? 0 : mantissa.length - dot - 1;
  return Math.max(0, mantissa_decimals - exponent);
}

/**
 * The largest multiple of `step` at or below `qty` (the lot count nudged by 1e-9 of a lot first,
 * so that 0.3 / 0.1 = 2.9999999999999996 counts as its 3 lots), printed at the
 * step's decimals so the result is the exact decimal multiple, not a float product near it.
 * No step: qty unchanged.
 */
export function roundDownToStep(qty: number, step: number | undefined): number {
  if (step === undefined) return qty;
  const n = Math.floor(qty / step + 1e-9);
  // toFixed takes at most 100 digits; steps are ≥ QTY_STEP_MIN (1e-12) so this never binds.
  return Number((n * step).toFixed(Math.min(100, stepDecimals(step))));
}

/** A copy of a symbol → step map without its undefined entries (JSON drops those too). */
export function copySteps(steps: Record<string, number | undefined>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [sym, step] of Object.entries(steps)) if (step !== undefined) out[sym] = step;
  return out;
}
