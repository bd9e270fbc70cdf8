// The runner's reading of the kernel's view, in one place.
import type { Config } from '../../config.js';
import type { KernelConfig } from '../kernel/types.js';
import type { Kernel } from '../kernel/index.js';
import type { SlotFacts } from './strategies.js';

export type KernelView = ReturnType<Kernel['view']>;
export type SlotView = KernelView['slots'][number];

/** RATE_LIMITED with no successful venue call for this long is the persistent anomaly (seed: > 10 min). */
export const RATE_LIMIT_PERSISTENT_MS = 10 * 60 * 1000;

export function kernelConfig(config: Config): KernelConfig {
  return {
    namespace: config.namespace,
    initial_capital_usdt: config.initial_capital_usdt,
    rate_limit_cooldown_ms: config.rate_limit_cooldown_ms,
    rate_limit_persistent_ms: RATE_LIMIT_PERSISTENT_MS,
    max_hold_bars: config.max_hold_bars,
    symbols: config.symbols,
  };
}

export function slotOf(view: KernelView, symbol: string): SlotView | undefined {
  return view.slots.find((s) => s.symbol === symbol);
}

export function slotFacts(view: KernelView): SlotFacts[] {
  return view.slots.map((s) => ({
    symbol: s.symbol,
    state: s.state,
    qty: s.qty,
    hold_bars: s.hold_bars,
    legs: s.legs,
    trade_id: s.trade_id ?? null,
    has_working_order: s.working_order != null,
  }));
}
