// Fault counts by code over the last 15 minutes, for `pink ditav2-status`. Bounded: at most
// TIMES_PER_CODE_MAX timestamps are kept per code (older ones only ever leave the window).
export const FAULT_WINDOW_MS = 15 * 60 * 1000;
const TIMES_PER_CODE_MAX = 4096;

export interface FaultSummary {
  code: string;
  severity: string;
  count: number;
  last_ts: number;
  last_symbol: string | null;
  last_details: unknown;
  hint: string;
}

interface Entry {
  severity: string;
  times: number[];
  last_ts: number;
  last_symbol: string | null;
  last_details: unknown;
}

export class FaultWindow {
  private readonly byCode = new Map<string, Entry>();

  record(code: string, severity: string, ts: number, symbol: string | undefined, details: unknown): void {
    let e = this.byCode.get(code);
    if (!e) {
      e = { severity, times: [], last_ts: ts, last_symbol: null, last_details: null };
      this.byCode.set(code, e);
    }
    e.times.push(ts);
    if (e.times.length > TIMES_PER_CODE_MAX) e.times.splice(0, e.times.length - TIMES_PER_CODE_MAX);
    e.severity = severity;
    e.last_ts = ts;
    e.last_symbol = symbol ?? null;
    e.last_details = details;
  }

  summary(now_ts: number): FaultSummary[] {
    const out: FaultSummary[] = [];
    for (const [code, e] of this.byCode) {
      const from = now_ts - FAULT_WINDOW_MS;
      while (e.times.length > 0 && e.times[0]! < from) e.times.shift();
      if (e.times.length === 0) continue;
      out.push({ code, severity: e.severity, count: e.times.length, last_ts: e.last_ts, last_symbol: e.last_symbol, last_details: e.last_details, hint: `pink fault ${code}` });
    }
    return out.sort((a, b) => b.last_ts - a.last_ts);
  }
}
