// The runner's reading of the kernel's view, and what the runner hands the kernel, in one place:
// the history id it mints at a kernel's first start, the settings of each start, batch tokens.
import { randomInt } from 'node:crypto';
import { RATE_LIMIT_PERSISTENT_MS_DEFAULT, type Config } from '../../config.js';
import type { KernelConfig, KernelSettings, SettingChange, Symbol } from '../kernel/types.js';
import type { Kernel } from '../kernel/index.js';
import { HISTORY_ID_CHARS, QTY_STEP_MAX, QTY_STEP_MIN } from '../kernel/limits.js';
import { DRIFT_TOLERANCE_USDT_DEFAULT } from '../kernel/limits.js';
import type { SlotFacts } from './strategies.js';

export type KernelView = ReturnType<Kernel['view']>;
export type SlotView = KernelView['slots'][number];

const HISTORY_ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A new kernel history's id: 10 characters of [a-z0-9] from the OS's CSPRNG (51.7 bits). The
 * only randomness of PINK's ids: everything else is a function of the history and its journal
 * (docs/ids.md). Minted once, at a kernel's first start, and kept in its checkpoint.
 */
export function newHistoryId(): string {
  let id = '';
  for (let i = 0; i < HISTORY_ID_CHARS; i += 1) id += HISTORY_ID_ALPHABET[randomInt(HISTORY_ID_ALPHABET.length)];
  return id;
}

/** What a start runs with: the configuration, and the venue's lot step of each symbol. */
export function kernelSettings(config: Config, qty_steps: Record<Symbol, number>): KernelSettings {
  const steps: Record<Symbol, number> = {};
  for (const s of config.symbols) {
    const step = qty_steps[s];
    // A step outside the kernel's bounds is not used (the venue then truncates to its own lot).
    if (step !== undefined && step >= QTY_STEP_MIN && step <= QTY_STEP_MAX) steps[s] = step;
  }
  return {
    symbols: [...config.symbols],
    rate_limit_cooldown_ms: config.rate_limit_cooldown_ms,
    // DOLPHIN_PINK_RATE_LIMIT_PERSISTENT_SEC (issue 19), default RATE_LIMIT_PERSISTENT_MS_DEFAULT.
    rate_limit_persistent_ms: config.rate_limit_persistent_ms ?? RATE_LIMIT_PERSISTENT_MS_DEFAULT,
    max_hold_bars: config.max_hold_bars,
    // No setting for it: the kernel's default.
    drift_tolerance_usdt: DRIFT_TOLERANCE_USDT_DEFAULT,
    qty_step_by_symbol: steps,
    max_rejects: config.max_rejects,
    max_drawdown_usdt: config.max_drawdown_usdt,
  };
}

/** A new history's kernel configuration. */
export function kernelConfig(config: Config, history_id: string, settings: KernelSettings): KernelConfig {
  return { history_id, namespace: config.namespace, initial_capital_usdt: config.initial_capital_usdt, ...settings };
}

/** The store's de-duplication token of the rows of inputs first..last: unique across histories. */
export function batchToken(history_id: string, first_seq: number, last_seq: number): string {
  return `${history_id}:seq:${first_seq}-${last_seq}`;
}

/** How a changed setting reads for an operator: the variable that sets it, and the unit. */
const SETTING_NAMES: Record<string, { name: string; scale?: number; unit?: string }> = {
  symbols: { name: 'DOLPHIN_PINK_SYMBOLS' },
  rate_limit_cooldown_ms: { name: 'DITA_V2_RATE_LIMIT_COOLDOWN_SEC', scale: 1 / 1000, unit: 's' },
  rate_limit_persistent_ms: { name: 'DOLPHIN_PINK_RATE_LIMIT_PERSISTENT_SEC', scale: 1 / 1000, unit: 's' },
  max_hold_bars: { name: 'DOLPHIN_MAX_HOLD_BARS', unit: 'bars' },
  drift_tolerance_usdt: { name: 'drift tolerance', unit: 'USDT' },
  max_rejects: { name: 'DOLPHIN_PINK_MAX_REJECTS', unit: 'rejects' },
  max_drawdown_usdt: { name: 'DOLPHIN_PINK_MAX_DRAWDOWN_USDT', unit: 'USDT' },
};

/** One line per changed setting, e.g. `DITA_V2_RATE_LIMIT_COOLDOWN_SEC 5 s → 30 s`. */
export function settingLine(ch: SettingChange): string {
  if (ch.setting === 'symbols') return ch.to !== null ? `DOLPHIN_PINK_SYMBOLS: ${ch.to} added` : `DOLPHIN_PINK_SYMBOLS: ${ch.from} removed`;
  if (ch.setting.startsWith('qty_step_by_symbol.')) {
    const sym = ch.setting.slice('qty_step_by_symbol.'.length);
    return `lot step of ${sym} (from the venue's markets): ${ch.from ?? 'none'} → ${ch.to ?? 'none'}`;
  }
  const n = SETTING_NAMES[ch.setting] ?? { name: ch.setting };
  const show = (v: number | string | null): string => (typeof v === 'number' ? `${Math.round(v * (n.scale ?? 1) * 1000) / 1000}${n.unit ? ` ${n.unit}` : ''}` : String(v));
  return `${n.name}: ${show(ch.from)} → ${show(ch.to)}`;
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
    trading_state: s.trading_state,
  }));
}
