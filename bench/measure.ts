// Helpers the benches share: a median, a process's memory and CPU time from /proc, and chDB's heap.
import { readFileSync } from 'node:fs';

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * A process's resident set (VmRSS) and its anonymous part (RssAnon: the heaps, V8's, chDB's,
 * malloc's; the rest is mostly libchdb.so's code, file-backed), in MB, from /proc/<pid>/status.
 */
export function memMb(pid: number | 'self'): { rss: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`${key}:\\s+(\\d+)\\s+kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon') };
}

/** A process's CPU time so far (user + system), in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number | 'self'): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The fields after the command name (which may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * chDB's heap (read from the engine by the control socket's named query store_metrics) as its allocator (jemalloc) counts it, in MB, from the `Allocated: …, resident: …`
 * line of system.jemalloc_stats: what chDB holds, where its MemoryTracking metric drifts (chDB runs
 * no asynchronous metrics, which is what corrects a server's tracker against its RSS).
 */
export function jemallocMb(stats: string): { allocated: number; resident: number } | null {
  const m = /Allocated: (\d+), active: \d+, metadata: \d+.*?, resident: (\d+)/.exec(stats);
  return m ? { allocated: Number(m[1]) / 1048576, resident: Number(m[2]) / 1048576 } : null;
}
