// Alerts (SPEC 6: DOLPHIN_PINK_ALERT_WEBHOOK_URL, DOLPHIN_PINK_ALERT_MIN_SEVERITY): one JSON POST
// per event worth waking someone for, Slack-compatible (`text`) with structured fields (`event`,
// `severity`, `code`, `symbol`, `ts`, ...). Delivery is off the step loop: push() files the event
// and returns; one sender drains a bounded queue, retrying each event with backoff. A receiver
// that is down or slow costs the engine nothing but the queue's memory, which is bounded; what
// cannot be kept is dropped and counted. Bodies pass through the redactor: no secret leaves.
//
// The sender's states (one event in flight at most):
//   IDLE --push--> SENDING --2xx--> (next event or IDLE)
//   SENDING --failure, attempts < max--> WAITING (backoff) --timer--> SENDING
//   SENDING --failure, attempts = max--> dropped (counted), next event
//   any --close(deadline)--> DRAINING: sends without waiting past the deadline, then CLOSED.
import { hostname } from 'node:os';
import { ALERT_SEVERITIES, webhookOrigin, type AlertSeverity } from './settings.js';

export type AlertEventName =
  | 'engine_started'
  | 'engine_stopped'
  | 'engine_failed'
  | 'fault'
  | 'liquidation'
  | 'trading_state'
  | 'health_degraded'
  | 'health_recovered';

export interface AlertEvent {
  event: AlertEventName;
  severity: AlertSeverity;
  /** A taxonomy code (`pink fault CODE`), or the event's own name in capitals. */
  code: string;
  symbol: string | null;
  ts_ms: number;
  /** One line, what happened and what to run. */
  text: string;
  details?: Record<string, unknown>;
}

/** Events queued at most; the least severe, oldest goes first when it is full. */
export const ALERT_QUEUE_MAX = 256;
/** A fault (code, symbol) alerts once per window; the repeats are counted into the next one. */
export const ALERT_DEDUP_MS = 5 * 60_000;
/** Attempts per event before it is dropped (counted), and the backoff between them: doubling
 * from 0.25 s to 30 s, about a minute of trying (a webhook service restarting) before a drop. */
export const ALERT_ATTEMPTS_MAX = 9;
export const ALERT_BACKOFF_MS_MIN = 250;
export const ALERT_BACKOFF_MS_MAX = 30_000;
/** One POST waits this long for the receiver's answer. */
export const ALERT_TIMEOUT_MS = 5_000;
/** Fault keys remembered for de-duplication at most (older ones are forgotten first). */
const DEDUP_KEYS_MAX = 1024;

export interface AlertStats {
  queued: number;
  sent: number;
  /** Attempts that failed (each retried or, at the last, dropped). */
  failures: number;
  dropped_queue_full: number;
  dropped_attempts: number;
  /** Repeats of a fault within ALERT_DEDUP_MS, not sent on their own. */
  suppressed: number;
  below_min_severity: number;
}

export interface AlertSinkOptions {
  url: string;
  min_severity: AlertSeverity;
  /** Removed from every body (API key and secret, ClickHouse password, the webhook URL itself). */
  secrets: readonly (string | undefined)[];
  context: { namespace: string; run_id: string; venue: string };
  log?: (line: string) => void;
  queue_max?: number;
  dedup_ms?: number;
  attempts_max?: number;
  backoff_ms_min?: number;
  backoff_ms_max?: number;
  timeout_ms?: number;
}

interface Queued {
  ev: AlertEvent;
  attempts: number;
}

const rank = (s: AlertSeverity): number => ALERT_SEVERITIES.indexOf(s);

/** The POST body: Slack's `text`, and the same facts as fields for anything else. */
export function alertBody(ev: AlertEvent, ctx: AlertSinkOptions['context'], host: string): Record<string, unknown> {
  return {
    text: `[PINK ${ev.severity}] ${ev.text}`,
    event: ev.event,
    severity: ev.severity,
    code: ev.code,
    symbol: ev.symbol,
    ts: new Date(ev.ts_ms).toISOString(),
    ts_ms: ev.ts_ms,
    namespace: ctx.namespace,
    venue: ctx.venue,
    run_id: ctx.run_id,
    host,
    details: ev.details ?? {},
  };
}

export class AlertSink {
  readonly stats: AlertStats = { queued: 0, sent: 0, failures: 0, dropped_queue_full: 0, dropped_attempts: 0, suppressed: 0, below_min_severity: 0 };
  readonly #o: Required<Omit<AlertSinkOptions, 'log'>> & Pick<AlertSinkOptions, 'log'>;
  readonly #secrets: string[];
  readonly #host = hostname();
  #queue: Queued[] = [];
  #lastByKey = new Map<string, { ts_ms: number; repeats: number }>();
  #sending = false;
  #timer: NodeJS.Timeout | null = null;
  #wake: (() => void) | null = null;
  #deadline_ms = Infinity;
  #closed = false;
  #failing = false;

  constructor(o: AlertSinkOptions) {
    this.#o = {
      queue_max: ALERT_QUEUE_MAX,
      dedup_ms: ALERT_DEDUP_MS,
      attempts_max: ALERT_ATTEMPTS_MAX,
      backoff_ms_min: ALERT_BACKOFF_MS_MIN,
      backoff_ms_max: ALERT_BACKOFF_MS_MAX,
      timeout_ms: ALERT_TIMEOUT_MS,
      ...o,
    };
    // The webhook's path and query are its credential (Slack: /services/T…/B…/token): never sent back out.
    let where: string[] = [];
    try {
      const u = new URL(o.url);
      where = [u.pathname, u.search].filter((p) => p.length > 1);
    } catch {
      // config.ts validated the URL
    }
    this.#secrets = [...o.secrets, o.url, ...where].filter((s): s is string => typeof s === 'string' && s.length >= 4).sort((a, b) => b.length - a.length);
  }

  /** Files the event (or counts why not) and returns at once; never throws, never waits. */
  push(ev: AlertEvent): void {
    if (this.#closed) return;
    if (rank(ev.severity) < rank(this.#o.min_severity)) {
      this.stats.below_min_severity += 1;
      return;
    }
    if (ev.event === 'fault' || ev.event === 'liquidation') {
      const key = `${ev.event}|${ev.code}|${ev.symbol ?? ''}`;
      const last = this.#lastByKey.get(key);
      if (last && ev.ts_ms - last.ts_ms < this.#o.dedup_ms) {
        last.repeats += 1;
        this.stats.suppressed += 1;
        return;
      }
      if (last && last.repeats > 0) ev = { ...ev, text: `${ev.text} (${last.repeats} more since the last alert)`, details: { ...ev.details, repeats_since_last_alert: last.repeats } };
      this.#lastByKey.delete(key);
      this.#lastByKey.set(key, { ts_ms: ev.ts_ms, repeats: 0 });
      if (this.#lastByKey.size > DEDUP_KEYS_MAX) this.#lastByKey.delete(this.#lastByKey.keys().next().value!);
    }
    if (this.#queue.length >= this.#o.queue_max && !this.#evictFor(ev)) {
      this.stats.dropped_queue_full += 1;
      return;
    }
    this.#queue.push({ ev, attempts: 0 });
    this.stats.queued = this.#queue.length;
    void this.#pump();
  }

  /** Room for `ev` in a full queue: the oldest of the least severe events goes, if not above `ev`. */
  #evictFor(ev: AlertEvent): boolean {
    // The head may be in flight: never evict it.
    let victim = -1;
    for (let i = 1; i < this.#queue.length; i += 1) {
      if (victim < 0 || rank(this.#queue[i]!.ev.severity) < rank(this.#queue[victim]!.ev.severity)) victim = i;
    }
    if (victim < 0 || rank(this.#queue[victim]!.ev.severity) > rank(ev.severity)) return false;
    this.#queue.splice(victim, 1);
    this.stats.dropped_queue_full += 1;
    return true;
  }

  get pending(): number {
    return this.#queue.length;
  }

  async #pump(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      while (this.#queue.length > 0) {
        const item = this.#queue[0]!;
        if (await this.#post(item.ev)) {
          this.stats.sent += 1;
          if (this.#failing) this.#o.log?.(`alerts: ${webhookOrigin(this.#o.url)} takes alerts again`);
          this.#failing = false;
          this.#queue.shift();
        } else {
          item.attempts += 1;
          this.stats.failures += 1;
          if (item.attempts >= this.#o.attempts_max) {
            this.stats.dropped_attempts += 1;
            this.#queue.shift();
            this.#o.log?.(`alerts: dropped ${item.ev.event} ${item.ev.code} after ${item.attempts} failed attempts`);
          } else if (!(await this.#sleep(Math.min(this.#o.backoff_ms_max, this.#o.backoff_ms_min * 2 ** (item.attempts - 1))))) {
            break; // closing, past the deadline
          }
        }
        this.stats.queued = this.#queue.length;
        if (this.#closed && Date.now() >= this.#deadline_ms) break;
      }
    } finally {
      this.#sending = false;
      this.stats.queued = this.#queue.length;
    }
  }

  /** Waits `ms` unless closing cuts it short; false when the close deadline leaves no time. */
  #sleep(ms: number): Promise<boolean> {
    const left = this.#deadline_ms - Date.now();
    if (left <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#wake = () => resolve(Date.now() < this.#deadline_ms);
      this.#timer = setTimeout(() => {
        this.#wake = null;
        resolve(true);
      }, Math.min(ms, left));
      // A waiting alert never keeps the process alive: stopping is close()'s decision.
      this.#timer.unref();
    });
  }

  async #post(ev: AlertEvent): Promise<boolean> {
    const body = this.#redact(JSON.stringify(alertBody(ev, this.#o.context, this.#host)));
    const timeout_ms = Math.max(1, Math.min(this.#o.timeout_ms, this.#deadline_ms - Date.now()));
    try {
      const res = await fetch(this.#o.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(timeout_ms) });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return true;
      this.#fail(`HTTP ${res.status}`);
      return false;
    } catch (err) {
      const e = err as { name?: string; cause?: { code?: string } };
      this.#fail(e.name === 'TimeoutError' ? `no answer within ${timeout_ms} ms` : (e.cause?.code ?? e.name ?? 'error'));
      return false;
    }
  }

  /** Logs the first failure of a streak (the URL is a credential: its origin only). */
  #fail(why: string): void {
    if (!this.#failing) this.#o.log?.(`alerts: ${webhookOrigin(this.#o.url)} did not take an alert (${why}); retrying with backoff, queue bounded at ${this.#o.queue_max}`);
    this.#failing = true;
  }

  #redact(text: string): string {
    return this.#secrets.reduce((t, s) => t.split(s).join('***'), text);
  }

  /** Sends what is queued until `deadline_ms` from now at most, then stops (the rest is counted dropped). */
  async close(deadline_ms: number): Promise<void> {
    this.#closed = true;
    this.#deadline_ms = Date.now() + deadline_ms;
    if (this.#timer) clearTimeout(this.#timer);
    this.#wake?.();
    await this.#pump();
    // #pump may be running from before: wait for it, bounded by the deadline.
    while (this.#sending && Date.now() < this.#deadline_ms) await new Promise((r) => setTimeout(r, 20));
    this.stats.dropped_attempts += this.#queue.length;
    if (this.#queue.length > 0) this.#o.log?.(`alerts: ${this.#queue.length} alert(s) not delivered before the engine stopped`);
    this.#queue = [];
    this.stats.queued = 0;
  }
}
