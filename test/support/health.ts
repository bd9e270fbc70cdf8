// Issue 18 e2e helpers: ditav2-status as the operator reads it, polled until a condition holds
// (a situation is seen within a few poll intervals; no timed assertion), and the audit rows.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/engine/store/index.js';
import { waitFor, type World } from './e2e.js';

export type Slot = { symbol: string; state: string; qty: number; side: string | null; trading_state?: string; working_order?: unknown };
export type Status = {
  engine: { up: boolean };
  slots: Slot[];
  healthy: boolean;
  reasons: string[];
  venue_contact_age_s: number | null;
  venue_balance_age_s: number | null;
  failed_steps_in_row: number | null;
  divergences: { symbol: string; pink_qty: number; venue_qty: number }[];
  rateLimit?: { consecutive: number; cooling_ms: number };
  faults: { code: string; count: number; last_symbol: string | null; last_details: Record<string, unknown> | null; hint: string }[];
  overdue: { symbol: string; hold_bars: number; max_hold_bars: number; hint: string }[];
};
export type Seen = { code: number | null; doc: Status };

export const status = (w: World, env: Record<string, string> = {}): Promise<Seen> => w.json<Status>(['ditav2-status'], env);

export async function statusUntil(w: World, what: string, ok: (s: Seen) => boolean, timeout_ms = 60_000, env: Record<string, string> = {}): Promise<Seen> {
  return waitFor(what, async () => {
    const s = await status(w, env);
    return ok(s) ? s : false;
  }, timeout_ms, 200);
}

/** The commands a taxonomy code's response names (the table's `commands`, and the text). */
export async function response(w: World, code: string): Promise<{ commands: string[]; text: string }> {
  const r = await w.json<{ commands: string[]; response: string }>(['fault', code]);
  assert.equal(r.code, 0, r.stderr);
  return { commands: r.doc.commands, text: r.doc.response };
}

/** Runs `args` after checking the code's response names that command (SYMBOL as a placeholder). */
export async function follow(w: World, code: string, args: string[], named: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { commands, text } = await response(w, code);
  assert.ok(commands.includes(named) || text.includes(named), `${code}'s response does not name \`${named}\`: ${text}`);
  return w.pink(args, env);
}

/** Degraded, with a reason matching `re`. */
export const reasonFor = (s: Seen, re: RegExp): boolean => s.code !== 0 && s.doc.reasons.some((r) => re.test(r));

/** The simulator's own position on a symbol (signed qty): the venue's truth, not PINK's books. */
export function venueQty(w: World, symbol: string): number {
  return w.sim.state().positions.filter((x) => x.symbol === symbol).reduce((a, p) => a + p.qty, 0);
}

/** Anomalies rows of origin `operator` (read once the engine is stopped: the embedded store is single-writer). */
export async function operatorRows(w: World): Promise<Array<{ code: string; symbol: string; details: string }>> {
  const store = await openStore({ config: loadConfig(w.env), runId: 'e2e-check' });
  try {
    return await store.query<{ code: string; symbol: string; details: string }>(`SELECT code, symbol, details FROM ${store.database}.anomalies WHERE origin = 'operator' ORDER BY ts`);
  } finally {
    await store.close();
  }
}

/** Resumes a symbol a breaker set REDUCING (the mismatch breaker trips on a reconcile's mismatch). */
export async function resumeIfReducing(w: World, symbol: string): Promise<void> {
  const s = (await status(w)).doc.slots.find((x) => x.symbol === symbol);
  if (s?.trading_state !== undefined && s.trading_state !== 'ACTIVE') {
    const r = await w.pink(['resume', symbol]);
    if (r.code !== 0) throw new Error(`pink resume ${symbol}: exit ${r.code}: ${r.stderr}`);
  }
}

/** Live processes whose command line is a `sim` on `statePath` (Linux /proc). */
export function simProcesses(statePath: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const at = argv.indexOf('--state');
    if (argv.includes('sim') && at >= 0 && argv[at + 1] === statePath) out.push(Number(name));
  }
  return out.sort((a, b) => a - b);
}
