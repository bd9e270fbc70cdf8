// The SETTINGS input: what a start changed (symbols, cooldowns, max hold bars, drift tolerance, the
// venue's lot steps) takes effect from this input on. Journaled like every input, so a replay
// takes the same settings at the same point. A history's id, namespace and initial capital never
// change. Pure helpers (the diff, the refusal) are shared with the runner, which reports the
// changes at startup and refuses to start (exit 2) rather than feed a refused SETTINGS.
import type { Core } from './core.js';
import { MAX_REJECTS_DEFAULT, newSlot, type NormConfig, type State } from './state.js';
import { copySteps } from './steps.js';
import { waitsForReconcile } from './transitions.js';
import type { KernelInput, KernelOutcome, KernelSettings, SettingChange } from './types.js';

const SCALARS = ['rate_limit_cooldown_ms', 'rate_limit_persistent_ms', 'max_hold_bars', 'drift_tolerance_usdt'] as const;
/** Issue 19's breaker settings: absent in a SETTINGS input means their default. */
const BREAKERS = { max_rejects: MAX_REJECTS_DEFAULT, max_drawdown_usdt: 0 } as const;

/** What `next` changes against the kernel's settings, in a fixed order (symbols, scalars, steps). */
export function settingsDiff(cur: NormConfig, next: KernelSettings): SettingChange[] {
  const out: SettingChange[] = [];
  for (const s of next.symbols) if (!cur.symbols.includes(s)) out.push({ setting: 'symbols', from: null, to: s });
  for (const s of cur.symbols) if (!next.symbols.includes(s)) out.push({ setting: 'symbols', from: s, to: null });
  for (const k of SCALARS) if (cur[k] !== next[k]) out.push({ setting: k, from: cur[k], to: next[k] });
  for (const k of ['max_rejects', 'max_drawdown_usdt'] as const) {
    const to = next[k] ?? BREAKERS[k];
    if (cur[k] !== to) out.push({ setting: k, from: cur[k], to });
  }
  const steps = [...new Set([...Object.keys(cur.qty_step_by_symbol), ...Object.keys(next.qty_step_by_symbol)])].sort();
  for (const sym of steps) {
    const from = cur.qty_step_by_symbol[sym] ?? null;
    const to = next.qty_step_by_symbol[sym] ?? null;
    if (from !== to) out.push({ setting: `qty_step_by_symbol.${sym}`, from, to });
  }
  return out;
}

/**
 * Why `next` cannot be taken (null: it can): the symbols it drops on which PINK holds a position
 * or an order, or whose slot waits for a reconcile, each with what is held. Such a slot is never
 * dropped: its position and orders would leave PINK's books while they live on at the venue.
 */
export function settingsRefusal(st: State, next: KernelSettings): string | null {
  const held: string[] = [];
  for (const sym of st.config.symbols) {
    if (next.symbols.includes(sym)) continue;
    const slot = st.slots.get(sym);
    if (slot === undefined) continue;
    if (slot.qty > 0) held.push(`${sym} (PINK holds ${slot.side} ${slot.qty})`);
    else if (slot.working !== null) held.push(`${sym} (PINK's order ${slot.working} is working)`);
    else if (waitsForReconcile(slot.state)) held.push(`${sym} (it waits for a reconcile)`);
  }
  return held.length === 0 ? null : held.join(', ');
}

export function handleSettings(c: Core, input: Extract<KernelInput, { type: 'SETTINGS' }>): KernelOutcome[] {
  const next = input.settings;
  const changes = settingsDiff(c.st.config, next);
  if (changes.length === 0) return [c.refuse(c.F.OK, undefined, { reason: 'settings unchanged' })];
  const refusal = settingsRefusal(c.st, next);
  if (refusal !== null) return [c.refuse(c.F.INVALID_INPUT, undefined, { reason: `SETTINGS refused: it drops ${refusal}; get flat on them first`, changes })];

  c.begin();
  const st = c.st;
  for (const sym of st.config.symbols) {
    if (next.symbols.includes(sym)) continue;
    // Dropped (flat, nothing working): its slot and the orders it remembers go; an event of one
    // of them later is an order of this history no longer remembered (memory.ts).
    st.slots.delete(sym);
    for (const [coid, o] of st.orders) if (o.symbol === sym) st.orders.delete(coid);
  }
  for (const sym of next.symbols) if (!st.slots.has(sym)) st.slots.set(sym, newSlot(sym));
  st.config = {
    ...st.config,
    symbols: [...next.symbols],
    rate_limit_cooldown_ms: next.rate_limit_cooldown_ms,
    rate_limit_persistent_ms: next.rate_limit_persistent_ms,
    max_hold_bars: next.max_hold_bars,
    drift_tolerance_usdt: next.drift_tolerance_usdt,
    qty_step_by_symbol: copySteps(next.qty_step_by_symbol),
    max_rejects: next.max_rejects ?? BREAKERS.max_rejects,
    max_drawdown_usdt: next.max_drawdown_usdt ?? BREAKERS.max_drawdown_usdt,
  };
  const text = changes.map((ch) => `${ch.setting} ${ch.from ?? '-'} → ${ch.to ?? '-'}`).join(', ');
  return [c.outcome(c.F.SETTINGS_CHANGED, undefined, { reason: `settings changed: ${text}`, changes })];
}
