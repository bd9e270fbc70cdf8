// The health watch's transitions, pure: given what `ditav2-status` would judge now and the trading
// states, the alerts a change deserves. observer.ts runs it every HEALTH_CHECK_MS off the step loop.
//   health:  unknown/healthy --degraded--> DEGRADED (alert)   DEGRADED --healthy--> healthy (alert)
//   trading: per scope, any change of state alerts, except a first sight of ACTIVE.
import type { AlertEvent } from './alerts.js';

/** Both directions of a health change alert at this severity: whoever was told "degraded" hears "healthy". */
export const HEALTH_ALERT_SEVERITY = 'ERROR';

export interface WatchState {
  healthy: boolean | undefined;
  degraded_since_ms: number;
  trading: Map<string, string>;
}

export interface WatchFacts {
  healthy: boolean;
  reasons: string[];
  /** `scope` is `engine` or a symbol (issue 19's trading states; empty until the kernel has them). */
  trading: { scope: string; state: string }[];
}

export function newWatchState(): WatchState {
  return { healthy: undefined, degraded_since_ms: 0, trading: new Map() };
}

/** The alerts for the change from `s` to `f` at `now_ms`; `s` moves to `f`. */
export function watchStep(s: WatchState, f: WatchFacts, now_ms: number): AlertEvent[] {
  const out: AlertEvent[] = [];
  if (s.healthy !== false && !f.healthy) {
    s.degraded_since_ms = now_ms;
    out.push({ event: 'health_degraded', severity: HEALTH_ALERT_SEVERITY, code: 'HEALTH_DEGRADED', symbol: null, ts_ms: now_ms, details: { reasons: f.reasons }, text: `status DEGRADED: ${f.reasons.join('; ')} (pink ditav2-status)` });
  } else if (s.healthy === false && f.healthy) {
    const degraded_s = Math.round((now_ms - s.degraded_since_ms) / 1000);
    out.push({ event: 'health_recovered', severity: HEALTH_ALERT_SEVERITY, code: 'HEALTH_RECOVERED', symbol: null, ts_ms: now_ms, details: { degraded_s }, text: `status HEALTHY again after ${degraded_s} s degraded` });
  }
  s.healthy = f.healthy;
  for (const t of f.trading) {
    const before = s.trading.get(t.scope);
    s.trading.set(t.scope, t.state);
    if (before === undefined ? t.state === 'ACTIVE' : before === t.state) continue;
    const who = t.scope === 'engine' ? 'the engine' : t.scope;
    out.push({
      event: 'trading_state', severity: 'ERROR', code: `TRADING_${t.state}`, symbol: t.scope === 'engine' ? null : t.scope, ts_ms: now_ms, details: { from: before ?? null, to: t.state },
      text: t.state === 'ACTIVE' ? `${who} trading ACTIVE again (was ${before})` : `${who} now ${t.state}${before ? ` (was ${before})` : ''}: a circuit breaker or a halt (pink ditav2-status; pink resume)`,
    });
  }
  return out;
}
