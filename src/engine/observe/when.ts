// `--since 30m|TIME` and `--until TIME` for `pink timeline` and `pink report`: a duration back
// from now, or a time. Times without a zone are UTC, as the store's are (DateTime64(3, 'UTC')), and
// everything is printed in UTC, so what an operator types and what is printed read the same.
// Pure: `now_ms` is an argument.
import { usageError } from '../../errors.js';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const DAY_MS = 86_400_000;
/** A window longer than this is refused (a typo such as 30000d), not scanned. */
export const WINDOW_MS_MAX = 400 * DAY_MS;

export interface Window {
  since_ms: number;
  until_ms: number;
}

/**
 * `30m`, `24h`, `7d` (back from now); `03:10` or `03:10:30` (the latest such UTC time not after
 * now, or with `after_ms`, the first one after it: `--since 23:50 --until 00:10` spans midnight);
 * `2026-11-26` (midnight UTC); `2026-11-26T03:10`, `2026-11-26 03:10:00`, with an optional `Z` or
 * `+02:00`; a 13-digit epoch in ms. Throws ExitError(2) naming `source`.
 */
export function parseWhen(raw: string, now_ms: number, source: string, after_ms?: number): number {
  const s = raw.trim();
  const bad = () =>
    usageError(
      `${source} "${raw}" is not a duration or a time.`,
      'Use a duration back from now (30m, 24h, 7d), a UTC time of day (03:10), a date (2026-11-26) or a date and time (2026-11-26T03:10Z).',
    );
  const d = DURATION.exec(s);
  if (d) return now_ms - Number(d[1]) * UNIT_MS[d[2]!]!;
  if (/^\d{13}$/.test(s)) return Number(s);
  const tod = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(s);
  if (tod) {
    const [h, m, sec] = [Number(tod[1]), Number(tod[2]), Number(tod[3] ?? 0)];
    if (h > 23 || m > 59 || sec > 59) throw bad();
    const of_day_ms = ((h * 60 + m) * 60 + sec) * 1000;
    if (after_ms !== undefined) {
      const same = Math.floor(after_ms / DAY_MS) * DAY_MS + of_day_ms;
      return same > after_ms ? same : same + DAY_MS;
    }
    const today = Math.floor(now_ms / DAY_MS) * DAY_MS + of_day_ms;
    return today > now_ms ? today - DAY_MS : today;
  }
  const full = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,3})?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(s);
  if (!full) throw bad();
  const [y, mo, da, h, mi, se] = [1, 2, 3, 4, 5, 6].map((i) => Number(full[i] ?? 0)) as [number, number, number, number, number, number];
  const ms = full[7] ? Math.round(Number(full[7]) * 1000) : 0;
  const local = Date.UTC(y, mo - 1, da, h, mi, se, ms);
  const check = new Date(local);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== da || h > 23 || mi > 59 || se > 59) throw bad();
  const zone = full[8];
  if (zone === undefined || zone.toUpperCase() === 'Z') return local;
  const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!;
  const offset_ms = (Number(z[2]) * 60 + Number(z[3])) * 60_000 * (z[1] === '+' ? 1 : -1);
  return local - offset_ms;
}

/** The window of `--since` (default `since_default`) and `--until` (default now), checked. */
export function parseWindow(opts: { since?: unknown; until?: unknown }, since_default: string, now_ms: number): Window {
  const since_ms = parseWhen(typeof opts.since === 'string' ? opts.since : since_default, now_ms, '--since');
  const until_ms = typeof opts.until === 'string' ? parseWhen(opts.until, now_ms, '--until', since_ms) : now_ms;
  if (until_ms <= since_ms) {
    throw usageError(`--until (${iso(until_ms)}) is not after --since (${iso(since_ms)}).`, 'Give a --since earlier than --until.');
  }
  if (until_ms - since_ms > WINDOW_MS_MAX) {
    throw usageError(`the window ${iso(since_ms)} .. ${iso(until_ms)} is longer than ${WINDOW_MS_MAX / DAY_MS} days.`, 'Give a shorter --since (e.g. 7d) or a later one.');
  }
  return { since_ms, until_ms };
}

/** `2026-11-26T03:10:00.000Z`: the one way times are printed. */
export function iso(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}
