// `pink ditav2-status` health: a pure function of the status facts, so the engine-up and the
// engine-down (checkpoint) paths judge alike. SPEC: exit 0 healthy, 1 degraded, 3 down.
import { RATE_LIMIT_PERSISTENT_MS_DEFAULT } from '../../config.js';
// The kernel's bounds alone (a file with no imports): status does not load the kernel.
import { DRIFT_TOLERANCE_USDT_DEFAULT } from '../kernel/limits.js';

export const STALE_SLOT_MAX_MS = 30_000;
export const HEARTBEAT_MAX_POLLS = 5;
/**
 * Before a step has finished there is no median: a step paced by the venue's request budget takes
 * ~250 ms, and the first one after a start (connect's reads spent the budget) is paced too.
 */
export const UNMEASURED_STEP_MS = 250;

export interface HealthFacts {
  up: boolean;
  now_ts: number;
  poll_interval_ms: number;
  heartbeat_ts: number | null;
  /** The median step (ms): a step longer than the poll interval sets the loop's period instead. */
  step_ms_p50: number | null;
  slots: { symbol: string; state: string; stale_since_ts?: number | null }[];
  spooled_rows: number;
  rate_limit_first_ts: number | null;
  rate_limit_persistent: boolean;
  /** The history's DOLPHIN_PINK_RATE_LIMIT_PERSISTENT_SEC (ms); RATE_LIMIT_PERSISTENT_MS_DEFAULT if not known. */
  rate_limit_persistent_ms?: number;
  overdue: { symbol: string; hold_bars: number }[];
  drift: number | null;
  /** The drift an operator accepted (`pink accept-drift`; 0 or absent: none): drift is judged net of it. */
  drift_accepted?: number;
  /** Engine up: the last successful venue read (null: not known, engine down). */
  venue_contact_ts?: number | null;
  failed_steps_in_row?: number;
  divergences?: { symbol: string; pink_qty: number; venue_qty: number }[];
  /** The last reconcile's verdict when it did not converge (null: it did, or none ran). */
  unconverged?: string | null;
  /** Issue 20: open positions' distance to their liquidation price, and the % under which it is a reason (0: off). */
  liquidation?: { symbol: string; liquidation_price: number; distance_pct: number }[];
  liquidation_warn_pct?: number;
}

/** Venue contact older than this many step periods (and VENUE_CONTACT_MIN_MS) is a reason. */
export const VENUE_CONTACT_MAX_POLLS = 5;
export const VENUE_CONTACT_MIN_MS = 3000;
/** ... and older than this many periods (and VENUE_DOWN_MIN_MS): the venue is unreachable, exit 3. */
export const VENUE_DOWN_POLLS = 30;
export const VENUE_DOWN_MIN_MS = 30_000;
/** Steps failed in a row before it is a reason. */
export const FAILED_STEPS_MAX = 3;

/**
 * The fix for an unconverged reconcile, from its correction kinds (status-data.ts lists them):
 * a mismatch is closed with --venue-position; an orphan after one of PINK's orders left the book
 * is most often a fill PINK missed, which a restart's full reconcile reads again (issue 18).
 */
export function unconvergedFix(text: string): string {
  if (/position_mismatch|POSITION_MISMATCH/.test(text)) return 'pink fault POSITION_MISMATCH';
  if (/orphan_flagged/.test(text) && /order_gone/.test(text)) return 'an order of PINK\'s left the book and the venue holds a position: a fill PINK missed? `pink restart` reads the fills again; if it stays, pink fault ORPHAN_POSITION';
  if (/orphan_flagged/.test(text)) return 'pink fault ORPHAN_POSITION';
  return 'pink fault POSITION_MISMATCH';
}

/** A quantity as text without float noise (0.019999999999999997 → 0.02): 8 decimals at most. */
/**
 * Issue 18: a kernel text printed for an operator without float noise ("EXIT asked for
 * 0.0012000000000000001" reads "0.0012"). Only numbers written with 15 or more significant digits
 * are touched (binary noise; a venue's prices and sizes have far fewer), rounded to 12. The kernel's
 * own texts stay as they are: they are part of each journal record's outcome digest (replay).
 */
export function tidyNumbers(text: string): string {
  return text.replace(/-?\d+\.\d+/g, (m) => (m.replace(/^-?0*\.?0*/, '').replace('.', '').length >= 15 ? String(Number(Number(m).toPrecision(12))) : m));
}

export function qtyText(q: number): string {
  const v = Number(q.toFixed(8));
  return String(Object.is(v, -0) ? 0 : v);
}

export function judgeHealth(f: HealthFacts): { healthy: boolean; reasons: string[]; venue_down: boolean } {
  const reasons: string[] = [];
  if (!f.up) reasons.push('engine down: no engine answers on the control socket (`pink restart` starts it)');
  for (const s of f.slots) {
    if (s.state === 'STALE_STATE_RECONCILING' && s.stale_since_ts != null && f.now_ts - s.stale_since_ts > STALE_SLOT_MAX_MS) {
      reasons.push(`${s.symbol} in STALE_STATE_RECONCILING for ${Math.round((f.now_ts - s.stale_since_ts) / 1000)} s (pink fault STALE_STATE_RECONCILING)`);
    }
  }
  // The loop starts a step every poll interval, or as soon as the last one ends when steps take
  // longer (a step paced by the venue's request budget takes ~250 ms): that period is the interval.
  const period_ms = Math.max(f.poll_interval_ms, f.step_ms_p50 ?? UNMEASURED_STEP_MS);
  if (f.up && f.heartbeat_ts !== null && f.now_ts - f.heartbeat_ts > HEARTBEAT_MAX_POLLS * period_ms) {
    reasons.push(`heartbeat ${((f.now_ts - f.heartbeat_ts) / 1000).toFixed(1)} s old (over ${HEARTBEAT_MAX_POLLS} poll intervals of ${Math.round(period_ms)} ms)`);
  }
  let venue_down = false;
  // The venue answers, but refuses for rate: the fault to read is RATE_LIMITED, not VENUE_UNAVAILABLE.
  const venueCode = f.rate_limit_first_ts !== null ? 'RATE_LIMITED' : 'VENUE_UNAVAILABLE';
  if (f.up && f.venue_contact_ts != null) {
    const age = f.now_ts - f.venue_contact_ts;
    // Judged by the poll interval (at least a paced step), never by the step median: steps that
    // wait out a hung venue's timeouts raise the median, and a young engine's then called 22 s
    // without contact HEALTHY and never reached exit 3 (issue 18's first situation).
    const contact_period_ms = Math.max(f.poll_interval_ms, UNMEASURED_STEP_MS);
    venue_down = age > Math.max(VENUE_DOWN_POLLS * contact_period_ms, VENUE_DOWN_MIN_MS);
    if (age > Math.max(VENUE_CONTACT_MAX_POLLS * contact_period_ms, VENUE_CONTACT_MIN_MS)) {
      reasons.push(`no successful venue contact for ${(age / 1000).toFixed(1)} s${venue_down ? ': venue unreachable' : ''} (pink fault ${venueCode})`);
    }
  }
  if (f.up && (f.failed_steps_in_row ?? 0) >= FAILED_STEPS_MAX) reasons.push(`${f.failed_steps_in_row} steps failed in a row (pink fault ${venueCode}; the error log names each)`);
  for (const d of f.divergences ?? []) reasons.push(`${d.symbol}: slot holds ${qtyText(d.pink_qty)}, the venue ${qtyText(d.venue_qty)} (pink fault SLOT_DIVERGED)`);
  if (f.unconverged) reasons.push(`${f.unconverged} (${unconvergedFix(f.unconverged)})`);
  if (f.spooled_rows > 0) reasons.push(`${f.spooled_rows} rows spooled, ClickHouse not taking them (pink fault STORE_SPOOLING)`);
  // The kernel marks it persistent on its next input past the window; status also sees the window
  // pass between inputs (a stalled loop), judged by the same setting.
  const persistent_ms = f.rate_limit_persistent_ms ?? RATE_LIMIT_PERSISTENT_MS_DEFAULT;
  if (f.rate_limit_persistent || (f.rate_limit_first_ts !== null && f.now_ts - f.rate_limit_first_ts > persistent_ms)) {
    const window = persistent_ms % 60_000 === 0 ? `${persistent_ms / 60_000} min` : `${Math.round(persistent_ms / 1000)} s`;
    reasons.push(`RATE_LIMITED persistent for over ${window} (pink fault RATE_LIMITED_PERSISTENT)`);
  }
  for (const o of f.overdue) reasons.push(`${o.symbol} held ${o.hold_bars} bars, past DOLPHIN_MAX_HOLD_BARS (pink flatten ${o.symbol})`);
  const warn = f.liquidation_warn_pct ?? 0;
  for (const l of f.liquidation ?? []) {
    if (warn > 0 && l.distance_pct < warn) reasons.push(`${l.symbol} ${l.distance_pct.toFixed(2)} % from its liquidation price ${l.liquidation_price} (under ${warn} %): pink flatten ${l.symbol}`);
  }
  // Judged on the part no operator accepted; the text names the whole drift, which is what
  // `pink accept-drift` takes (ACCOUNT_DRIFT's response).
  const accepted = f.drift_accepted ?? 0;
  if (f.drift !== null && Math.abs(f.drift - accepted) > DRIFT_TOLERANCE_USDT_DEFAULT) {
    reasons.push(`account drift ${f.drift.toFixed(2)} USDT vs the venue balance${accepted !== 0 ? `, ${accepted.toFixed(2)} of it accepted` : ''} (pink fault ACCOUNT_DRIFT)`);
  }
  return { healthy: reasons.length === 0, reasons, venue_down };
}
