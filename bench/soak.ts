// Soak: the demo strategy against the simulator at a fast poll interval for M minutes (default 30),
// the real engine binary detached, as an operator runs it. Samples RSS (/proc/<pid>/status VmRSS)
// and step time (`pink ditav2-status --json`: step_ms_p50 / step_ms_p99 over the engine's recent
// steps) as it goes; at the end stops the engine gracefully and counts the rows written (ClickHouse,
// once per row_id), the faults seen (anomalies by code) and the audits. Prints figures and whether
// memory grew (RSS at 5 min against the end). Never asserts: figures for docs/chaos.md.
// Standalone: `node dist/bench/soak.js --minutes 30`.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { homePaths, loadConfig } from '../src/config.js';
import { FAMILIES, openStore } from '../src/engine/store/index.js';
import { startSim } from '../src/sim/index.js';
import { askEngine } from '../src/engine/runner/socket.js';
import { runPink } from '../test/support/cli.js';
import { cpuSeconds, jemallocMb, median, memMb } from './measure.js';
import type { StoreMetrics } from '../src/engine/runner/queries.js';

export const SOAK_MINUTES_DEFAULT = 30;
/** The reference point for "did memory grow": after warm-up (chDB caches, ccxt, the first trades). */
const RSS_REFERENCE_MIN = 5;
/** Memory counts as grown when RSS at the end exceeds the reference by more than this... */
const RSS_GROWTH_RATIO_MAX = 0.1;
/** ...and as still growing (a leak) when it grows by more than this over the second half of the run. */
const RSS_LATE_GROWTH_RATIO_MAX = 0.03;
const SAMPLE_EVERY_MS = 10_000;

interface Sample {
  t_min: number;
  rss_mb: number;
  anon_mb: number;
  steps: number;
  p50_ms: number | null;
  p99_ms: number | null;
  heap_mb: number | null;
  /** The heap V8 has committed (young generation included): what the JS heap adds to RSS. */
  heap_total_mb: number | null;
  /** chDB's memory tracker (system.metrics MemoryTracking): it drifts in chDB, so je_mb is its heap. */
  ch_mb: number | null;
  /** chDB's heap as jemalloc counts it: allocated, and resident (allocated plus pages kept for reuse). */
  je_mb: number | null;
  je_resident_mb: number | null;
  /** The engine's CPU time so far (s). */
  cpu_s: number;
  /** chDB's parts: "N active, M inactive". */
  parts: string;
  pending_rows: number;
  spooled_rows: number;
}

function dirMb(dir: string): number {
  if (!existsSync(dir)) return 0;
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    bytes += e.isDirectory() ? dirMb(p) * 1024 * 1024 : statSync(p).size;
  }
  return bytes / 1024 / 1024;
}

const fmt = (n: number | null, d = 1): string => (n === null || !Number.isFinite(n) ? '-' : n.toFixed(d));

interface Window {
  /** "5.0-8.0": the minutes the window spans. */
  label: string;
  rss_mb: number;
  anon_mb: number;
  ch_mb: number | null;
  heap_total_mb: number | null;
  je_mb: number | null;
  je_resident_mb: number | null;
  /** Its first sample (for the figures sampled once). */
  sample: Sample;
}

/**
 * Did memory grow? One RSS sample swings by ±15 MB as V8's young generation fills and empties, so
 * each point is the median of a window of samples (3 minutes, less on a short run), and the trend
 * is a least-squares line through the second half's samples.
 */
function memoryTrend(samples: readonly Sample[], duration_min: number) {
  const window_min = Math.max(0.5, Math.min(3, duration_min / 10));
  const windowAt = (from: number): Window => {
    const inside = samples.filter((s) => s.t_min >= from && s.t_min < from + window_min);
    const picked = inside.length > 0 ? inside : [samples.reduce((a, b) => (Math.abs(b.t_min - from) < Math.abs(a.t_min - from) ? b : a))];
    const med = (xs: (number | null)[]): number | null => {
      const known = xs.filter((x): x is number => x !== null);
      return known.length > 0 ? median(known) : null;
    };
    return {
      label: `${fmt(from)}-${fmt(from + window_min)}`,
      rss_mb: median(picked.map((s) => s.rss_mb)),
      anon_mb: median(picked.map((s) => s.anon_mb)),
      ch_mb: med(picked.map((s) => s.ch_mb)),
      heap_total_mb: med(picked.map((s) => s.heap_total_mb)),
      je_mb: med(picked.map((s) => s.je_mb)),
      je_resident_mb: med(picked.map((s) => s.je_resident_mb)),
      sample: picked[0]!,
    };
  };
  const ref = windowAt(Math.min(RSS_REFERENCE_MIN, duration_min / 3));
  const half = windowAt(duration_min / 2 - window_min / 2);
  const end = windowAt(duration_min - window_min);
  const growth = (end.rss_mb - ref.rss_mb) / ref.rss_mb;
  const late_growth = (end.rss_mb - half.rss_mb) / half.rss_mb;
  const late = samples.filter((s) => s.t_min >= duration_min / 2);
  const mt = late.reduce((a, s) => a + s.t_min, 0) / late.length;
  const mr = late.reduce((a, s) => a + s.rss_mb, 0) / late.length;
  const cov = late.reduce((a, s) => a + (s.t_min - mt) * (s.rss_mb - mr), 0);
  const vt = late.reduce((a, s) => a + (s.t_min - mt) ** 2, 0);
  const slope_mb_per_h = vt > 0 ? (cov / vt) * 60 : 0;
  // A plateau test besides: warm-up growth (chDB caches, V8 heap sizing) flattens; a leak does not.
  const verdict = late_growth > RSS_LATE_GROWTH_RATIO_MAX ? 'GREW' : growth > RSS_GROWTH_RATIO_MAX ? 'grew while warming up, then flat' : 'flat';
  return { window_min, ref, half, end, growth, late_growth, slope_mb_per_h, verdict };
}

export async function bench(opts: { minutes?: number; log?: (line: string) => void } = {}): Promise<void> {
  const minutes = opts.minutes ?? SOAK_MINUTES_DEFAULT;
  const log = opts.log ?? ((l: string) => console.log(l));
  const dir = mkdtempSync(join(tmpdir(), 'pink-soak-'));
  const sim = await startSim({ seed: 1 });
  const env: Record<string, string> = {
    PINK_HOME: join(dir, 'home'),
    DOLPHIN_LOG_DIR: join(dir, 'logs'),
    PINK_SIM_URL: sim.url,
    DOLPHIN_PINK_POLL_INTERVAL_SEC: '0.05',
    DOLPHIN_MAX_HOLD_BARS: '20',
    DOLPHIN_PINK_SYMBOLS: 'BTC-USDT,ETH-USDT,SOL-USDT',
  };
  let pid: number | undefined;
  try {
    const started = await runPink(['run', '--detach', '--json', '--strategy', 'demo', '--seed', '1'], env);
    if (started.code !== 0) throw new Error(`pink run --detach exited ${started.code}: ${started.stderr.trim()}`);
    pid = (JSON.parse(started.stdout) as { pid: number }).pid;
    log(`soak: engine pid ${pid}, ${minutes} min, poll 0.05 s, demo on BTC/ETH/SOL, home ${env['PINK_HOME']}`);
    const config = loadConfig(env);
    // The engine's store figures: the control socket's named query (it takes no SQL).
    const storeMetrics = async (): Promise<StoreMetrics | null> => {
      const a = await askEngine(homePaths(config.home).socket, { op: 'query', name: 'store_metrics' }, 5000);
      return a?.ok ? (a.data as StoreMetrics) : null;
    };
    const t0 = Date.now();
    const samples: Sample[] = [];
    const end = t0 + minutes * 60_000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, Math.min(SAMPLE_EVERY_MS, Math.max(0, end - Date.now()))));
      const s = await runPink(['ditav2-status', '--json'], env, { timeoutMs: 20_000 });
      let doc: { engine?: { steps: number; step_ms_p50: number | null; step_ms_p99: number | null; heap_used_mb?: number | null; heap_total_mb?: number | null }; store?: { pending_rows: number; spooled_rows: number } } = {};
      try {
        doc = JSON.parse(s.stdout) as typeof doc;
      } catch {
        /* a sample missed */
      }
      const metrics = await storeMetrics();
      const parts = metrics?.parts ?? null;
      const heap = metrics?.jemalloc_stats ? jemallocMb(metrics.jemalloc_stats) : null;
      const mem = memMb(pid);
      const sample: Sample = {
        t_min: (Date.now() - t0) / 60_000,
        rss_mb: mem.rss,
        anon_mb: mem.anon,
        steps: doc.engine?.steps ?? NaN,
        p50_ms: doc.engine?.step_ms_p50 ?? null,
        p99_ms: doc.engine?.step_ms_p99 ?? null,
        heap_mb: doc.engine?.heap_used_mb ?? null,
        heap_total_mb: doc.engine?.heap_total_mb ?? null,
        ch_mb: metrics?.memory_tracking_bytes != null ? metrics.memory_tracking_bytes / 1048576 : null,
        je_mb: heap?.allocated ?? null,
        je_resident_mb: heap?.resident ?? null,
        cpu_s: cpuSeconds(pid),
        parts: parts === null ? '-' : `${parts.find((p) => Number(p.active) === 1)?.n ?? 0} active, ${parts.find((p) => Number(p.active) === 0)?.n ?? 0} inactive`,
        pending_rows: doc.store?.pending_rows ?? NaN,
        spooled_rows: doc.store?.spooled_rows ?? NaN,
      };
      samples.push(sample);
      if (samples.length % 6 === 0) log(`soak: ${fmt(sample.t_min)} min: RSS ${fmt(sample.rss_mb)} MB (JS heap ${fmt(sample.heap_mb)} MB in use of ${fmt(sample.heap_total_mb)}, chDB allocated ${fmt(sample.je_mb)} MB (tracked ${fmt(sample.ch_mb)}), parts ${sample.parts}), ${sample.steps} steps, step p50 ${fmt(sample.p50_ms)} ms p99 ${fmt(sample.p99_ms)} ms, store pending ${sample.pending_rows} spooled ${sample.spooled_rows}`);
    }
    const first = samples.find((s) => Number.isFinite(s.steps))!;
    const last = samples[samples.length - 1]!;
    process.kill(pid, 'SIGTERM');
    const stopDeadline = Date.now() + 60_000;
    while (Date.now() < stopDeadline && existsSync(`/proc/${pid}`) && !/State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'))) await new Promise((r) => setTimeout(r, 100));
    const store = await openStore({ config, runId: 'soak' });
    let rows: Record<string, number> = {};
    let faults: { code: string; n: number }[] = [];
    let audit = '';
    try {
      const counts = await store.query<{ family: string; n: number }>(FAMILIES.map((f) => `SELECT '${f}' AS family, uniqExact(row_id) AS n FROM ${config.database}.${f}`).join(' UNION ALL '));
      rows = Object.fromEntries(counts.map((c) => [c.family, Number(c.n)]));
      faults = await store.query<{ code: string; n: number }>(`SELECT code, uniqExact(row_id) AS n FROM ${config.database}.anomalies GROUP BY code ORDER BY n DESC`);
      const a = await store.audit();
      audit = a.checks.map((c) => `${c.id} ${c.ok ? 'ok' : 'FAILED'}`).join(', ');
    } finally {
      await store.close();
    }
    const total = Object.values(rows).reduce((a, b) => a + b, 0);
    const duration_min = last.t_min;
    const m = memoryTrend(samples, duration_min);
    log(`soak: ${fmt(duration_min)} min, ${last.steps} steps (${fmt(last.steps / (duration_min * 60), 2)} steps/s)`);
    const pct = (x: number): string => `${x >= 0 ? '+' : ''}${fmt(x * 100)} %`;
    log(`soak: RSS ${fmt(first.rss_mb)} MB at ${fmt(first.t_min, 2)} min; medians over ${fmt(m.window_min)} min windows: ${fmt(m.ref.rss_mb)} MB at ${m.ref.label} min, ${fmt(m.half.rss_mb)} MB at ${m.half.label} min, ${fmt(m.end.rss_mb)} MB at ${m.end.label} min (max sample ${fmt(Math.max(...samples.map((s) => s.rss_mb)))} MB)`);
    log(`soak: memory ${m.verdict}: ${pct(m.growth)} from ${m.ref.label} min to the end, ${pct(m.late_growth)} over the second half; trend over the second half ${m.slope_mb_per_h >= 0 ? '+' : ''}${fmt(m.slope_mb_per_h)} MB/h`);
    log(`soak: anonymous memory (RSS less file-backed code) ${fmt(m.ref.anon_mb)} MB at ${m.ref.label} min, ${fmt(m.half.anon_mb)} MB at ${m.half.label} min, ${fmt(m.end.anon_mb)} MB at ${m.end.label} min (medians)`);
    const ref = m.ref.sample;
    const heaps = samples.filter((x) => x.heap_mb !== null && x.t_min >= ref.t_min).map((x) => x.heap_mb!);
    log(`soak: JS heap in use ${fmt(ref.heap_mb)} MB at ${fmt(ref.t_min)} min, ${fmt(last.heap_mb)} MB at the end (range ${fmt(Math.min(...heaps))}-${fmt(Math.max(...heaps))} MB after ${fmt(ref.t_min)} min); committed by V8 ${fmt(m.ref.heap_total_mb)} MB at ${m.ref.label} min, ${fmt(m.half.heap_total_mb)} MB at ${m.half.label} min, ${fmt(m.end.heap_total_mb)} MB at ${m.end.label} min (medians)`);
    const at = (f: (w: Window) => number | null): string => `${fmt(f(m.ref))} MB at ${m.ref.label} min, ${fmt(f(m.half))} MB at ${m.half.label} min, ${fmt(f(m.end))} MB at ${m.end.label} min`;
    log(`soak: chDB allocated (jemalloc) ${at((w) => w.je_mb)}, resident ${at((w) => w.je_resident_mb)} (medians); parts ${last.parts} at the end`);
    log(`soak: chDB tracked (MemoryTracking, drifts: no asynchronous metrics correct it in chDB) ${at((w) => w.ch_mb)} (medians)`);
    log(`soak: step p50/p99 ${fmt(first.p50_ms)}/${fmt(first.p99_ms)} ms at the start, ${fmt(last.p50_ms)}/${fmt(last.p99_ms)} ms at the end; engine CPU ${fmt(((last.cpu_s - ref.cpu_s) * 1000) / (last.steps - ref.steps))} ms a step after ${fmt(ref.t_min)} min`);
    log(`soak: rows written ${total} (${FAMILIES.map((f) => `${f} ${rows[f] ?? 0}`).join(', ')}); audits: ${audit}`);
    log(`soak: faults seen ${faults.reduce((a, f) => a + Number(f.n), 0)} (${faults.map((f) => `${f.code} ${f.n}`).join(', ') || 'none'}); store pending ${last.pending_rows}, spooled ${last.spooled_rows} at the end`);
    log(`soak: disk: ClickHouse ${fmt(dirMb(join(env['PINK_HOME']!, 'clickhouse')))} MB, journal ${fmt(dirMb(join(env['PINK_HOME']!, 'journal')), 2)} MB, ${sim.state().fills.length} venue fills kept by the simulator`);
  } finally {
    if (pid !== undefined && existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('pink.js')) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--minutes');
  const minutes = i >= 0 ? Number(process.argv[i + 1]) : SOAK_MINUTES_DEFAULT;
  if (!(minutes > 0)) {
    console.error('soak: --minutes needs a positive number');
    process.exit(2);
  }
  await bench({ minutes });
}
