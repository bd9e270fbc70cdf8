// The embedded store's memory as its tables grow, without the engine: one trade's rows a step
// (ROWS_PER_TRADE over six families, test/store/fixtures.ts), a flush every
// CHECKPOINT_EVERY_STEPS as the engine's checkpoint does, at RATE steps a second. At 40 that is
// 520 rows a second, 33 times the soak's engine (16 rows a second over its 4 steps): 15 minutes
// hold about 8 hours of the soak's rows, so whether chDB's memory levels off as the tables grow
// shows in minutes. Samples every 30 s: RSS, its anonymous part, chDB's tracked memory, V8's heap,
// parts, and the merge work since the last sample (rows merged per row inserted: grows with the
// table if merges rewrite it whole; the merges' own memory, sampled at every flush). Never
// asserts: figures for docs/chaos.md. Not in `npm run bench` (its own 15 min).
// Standalone: `node dist/bench/store-growth.js --minutes 15 --rate 40`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config.js';
import { CHECKPOINT_EVERY_STEPS } from '../src/engine/runner/checkpoint.js';
import { openStore } from '../src/engine/store/index.js';
import { ROWS_PER_TRADE, tradeBatches } from '../test/store/fixtures.js';
import { median, memMb } from './measure.js';

const SAMPLE_EVERY_MS = 30_000;

export async function bench(opts: { minutes?: number; rate?: number; log?: (line: string) => void } = {}): Promise<void> {
  const minutes = opts.minutes ?? 15;
  const rate = opts.rate ?? 40;
  const log = opts.log ?? ((l: string) => console.log(l));
  const home = mkdtempSync(join(tmpdir(), 'pink-store-growth-'));
  const config = loadConfig({ PINK_HOME: home });
  const store = await openStore({ config, runId: 'store-growth', spoolDir: join(home, 'spool') });
  const anon: { t_min: number; mb: number }[] = [];
  const events = async (): Promise<Map<string, number>> =>
    new Map(
      (await store.query<{ event: string; value: number }>("SELECT event, value FROM system.events WHERE event IN ('InsertedRows', 'MergedRows')")).map((r) => [
        r.event,
        Number(r.value),
      ]),
    );
  try {
    await store.ensureSchema();
    let before = await events();
    let mergeMem: number[] = [];
    const t0 = Date.now();
    let step = 0;
    let nextSample = t0 + SAMPLE_EVERY_MS;
    while (Date.now() - t0 < minutes * 60_000) {
      store.write(tradeBatches(1, step)[0]!);
      step += 1;
      if (step % CHECKPOINT_EVERY_STEPS === 0) {
        await store.flush();
        const [m] = await store.query<{ mb: number }>('SELECT sum(memory_usage) / 1048576 AS mb FROM system.merges');
        mergeMem.push(Number(m?.mb ?? 0));
      }
      const wait = t0 + (step * 1000) / rate - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (Date.now() < nextSample) continue;
      nextSample += SAMPLE_EVERY_MS;
      const [mt] = await store.query<{ value: number }>("SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'");
      const parts = await store.query<{ active: number; n: number; rows: number }>(
        'SELECT active, count() AS n, sum(rows) AS rows FROM system.parts WHERE database = {db:String} GROUP BY active ORDER BY active DESC',
        { db: config.database },
      );
      const after = await events();
      const delta = (e: string): number => (after.get(e) ?? 0) - (before.get(e) ?? 0);
      const amplification = delta('MergedRows') / Math.max(1, delta('InsertedRows'));
      const mergeMb = mergeMem.reduce((a, b) => a + b, 0) / Math.max(1, mergeMem.length);
      [before, mergeMem] = [after, []];
      const m = memMb('self');
      const v8heap = process.memoryUsage();
      const t_min = (Date.now() - t0) / 60_000;
      anon.push({ t_min, mb: m.anon });
      const active = parts.find((p) => Number(p.active) === 1);
      const inactive = parts.find((p) => Number(p.active) === 0);
      log(
        `store-growth: ${t_min.toFixed(1)} min, ${step} steps: RSS ${m.rss.toFixed(1)} MB, anonymous ${m.anon.toFixed(1)} MB, chDB tracked ${(Number(mt?.value) / 1048576).toFixed(1)} MB, ` +
          `V8 heap ${(v8heap.heapUsed / 1048576).toFixed(1)} used of ${(v8heap.heapTotal / 1048576).toFixed(1)} MB; ` +
          `parts ${active?.n ?? 0} active (${active?.rows ?? 0} rows), ${inactive?.n ?? 0} merged away; ` +
          `merged ${amplification.toFixed(1)} rows per row inserted, merges holding ${mergeMb.toFixed(1)} MB on average`,
      );
    }
    // Anonymous memory by thirds of the run (medians): levelling off shows as a shrinking rise.
    const third = (i: number): number => {
      const xs = anon.filter((a) => a.t_min >= (minutes * i) / 3 && (a.t_min < (minutes * (i + 1)) / 3 || i === 2)).map((a) => a.mb);
      return xs.length === 0 ? NaN : median(xs);
    };
    const [a, b, c] = [third(0), third(1), third(2)];
    if ([a, b, c].some(Number.isNaN)) {
      log(`store-growth: ${step} steps at ${rate}/s; too short for medians by thirds (a sample every ${SAMPLE_EVERY_MS / 1000} s): run longer than --minutes ${(SAMPLE_EVERY_MS * 3) / 60_000}`);
      return;
    }
    log(`store-growth: ${step} steps at ${rate}/s (${step * ROWS_PER_TRADE} rows); anonymous memory, medians by thirds: ${a.toFixed(1)}, ${b.toFixed(1)}, ${c.toFixed(1)} MB (rises ${(b - a).toFixed(1)}, then ${(c - b).toFixed(1)} MB)`);
  } finally {
    await store.close();
    rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string, dflt: number): number => {
    const i = process.argv.indexOf(name);
    return i >= 0 ? Number(process.argv[i + 1]) : dflt;
  };
  const minutes = arg('--minutes', 15);
  const rate = arg('--rate', 40);
  if (!(minutes > 0) || !(rate > 0)) {
    console.error('store-growth: --minutes and --rate need positive numbers');
    process.exit(2);
  }
  await bench({ minutes, rate });
}
