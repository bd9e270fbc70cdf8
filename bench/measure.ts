// Helpers the benches share: a median, and a process's memory from /proc.
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
