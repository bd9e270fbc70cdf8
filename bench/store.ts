// Store bench: how fast rows get into chDB, how long a step waits in write(), how fast a spool
// drains, and what opening the embedded store costs. Run: `node dist/bench/store.js` (or through
// `npm run bench`). Speed is measured here, never asserted in tests (STYLE).
import { rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadConfig, type Config } from '../src/config.js';
import type { RowFamily } from '../src/engine/kernel/types.js';
import type { RowOut } from '../src/engine/kernel/types.js';
import { encodeBatch, familyColumnNames, type WireFormat } from '../src/engine/store/encode.js';
import { FAMILIES, openStore, schemaDdl, type Store } from '../src/engine/store/index.js';
import { openBackend } from '../src/engine/store/backend.js';
import { UNIT_ROWS_MAX } from '../src/engine/store/writer.js';
import { tmpHome, tradeRows } from '../test/store/fixtures.js';

/** Throughput run: rows in total, rows per write() (mixed families, as a busy step would give). */
const THROUGHPUT_ROWS = 100_000;
const THROUGHPUT_BATCH_ROWS = 1_000;
/** Step-latency run: steps of one trade's rows (~15, all eight families). */
const STEP_COUNT = 2_000;
const DRAIN_ROWS = 100_000;

function config(home: string, env: Record<string, string> = {}): Config {
  return loadConfig({ PINK_HOME: home, DOLPHIN_PINK_CH_DATABASE: 'pink_bench', ...env });
}

/** Batches of about `batchRows` rows, made of whole trades; row ids unique across the run. */
function batches(totalRows: number, batchRows: number, firstTrade = 0): { token: string; rows: RowOut[] }[] {
  const out: { token: string; rows: RowOut[] }[] = [];
  let k = firstTrade;
  let made = 0;
  while (made < totalRows) {
    const rows: RowOut[] = [];
    while (rows.length < batchRows && made + rows.length < totalRows) rows.push(...tradeRows(k++).rows);
    made += rows.length;
    out.push({ token: `bench:${k}`, rows });
  }
  return out;
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

// A full collection before each timed run: the rows the bench made just before are young, and
// promoting them would otherwise be charged to whatever runs next (the engine makes its rows one
// step at a time). --expose-gc, set at run time so `node dist/bench/store.js` needs no flag.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/**
 * Writes the batches as steps would (one write, then the loop turns) and returns write() times.
 * Consumes the list: a runner does not keep its rows after writing them, and 100,000 retained row
 * objects would make every major GC of the run trace them.
 */
async function writeAll(store: Store, list: { token: string; rows: RowOut[] }[]): Promise<number[]> {
  const waits: number[] = [];
  for (let b = list.shift(); b !== undefined; b = list.shift()) {
    const t0 = performance.now();
    store.write(b);
    waits.push(performance.now() - t0);
    await tick();
  }
  return waits.sort((a, b) => a - b);
}

async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/**
 * The ceiling: the same rows, already encoded in `format`, sent through the same backend insert into
 * the same tables the way the writer sends a unit (one INSERT per family, all at once), no store.
 */
async function rawChdbRowsPerSec(home: string, list: { token: string; rows: RowOut[] }[], format: WireFormat): Promise<number> {
  const backend = await openBackend(config(home), true);
  const database = `pink_raw_${format}`;
  try {
    for (const sql of schemaDdl(database, { embedded: backend.kind === 'chdb' })) await backend.client.command({ query: sql });
    const units: Partial<Record<RowFamily, Buffer>>[] = [];
    let unit: Partial<Record<RowFamily, Buffer[]>> = {};
    let unitRows = 0;
    const close = () => {
      units.push(Object.fromEntries(Object.entries(unit).map(([f, parts]) => [f, Buffer.concat(parts)])));
      unit = {};
      unitRows = 0;
    };
    for (const b of list) {
      const { batch } = encodeBatch(b.rows, { namespace: 'pink', run_id: 'raw' }, format);
      for (const f of FAMILIES) if (batch[f]) (unit[f] ??= []).push(batch[f]!.bytes);
      unitRows += b.rows.length;
      if (unitRows >= UNIT_ROWS_MAX) close();
    }
    if (unitRows > 0) close();
    const rows = list.reduce((n, b) => n + b.rows.length, 0);
    // Warm-up (not timed): the first INSERT into a new table costs more than the ones after it.
    const warm = encodeBatch(tradeRows(9_000_000).rows, { namespace: 'pink', run_id: 'warm' }, format).batch;
    await Promise.all((Object.entries(warm) as [RowFamily, { bytes: Buffer }][]).map(([f, e]) => backend.insert(database, f, familyColumnNames(f), `warm:${f}`, format, e.bytes)));
    collectGarbage();
    const t0 = performance.now();
    for (const [i, u] of units.entries()) {
      await Promise.all((Object.entries(u) as [RowFamily, Buffer][]).map(([f, bytes]) => backend.insert(database, f, familyColumnNames(f), `raw${i}:${f}`, format, bytes)));
    }
    return Math.round((rows / (performance.now() - t0)) * 1000);
  } finally {
    await backend.close();
  }
}

export async function bench(): Promise<void> {
  const home = tmpHome('bench');
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    // 1. Open + DDL (the first open in a process also loads @clickhouse/client and chDB).
    let t0 = performance.now();
    const store = await openStore({ config: config(home), runId: 'bench', spoolDir: join(home, 'spool') });
    const openMs = performance.now() - t0;
    t0 = performance.now();
    await store.ensureSchema();
    out(`store open (embedded, incl. imports) ${openMs.toFixed(0)} ms; DDL ${(performance.now() - t0).toFixed(0)} ms`);

    // 2. Throughput into chDB: first the ceiling (same engine, warm for both), then the store.
    for (const format of ['RowBinary', 'TabSeparated'] as const) {
      const rate = await rawChdbRowsPerSec(home, batches(THROUGHPUT_ROWS, THROUGHPUT_BATCH_ROWS, 3_000_000), format);
      out(`chDB alone, same rows pre-encoded (${format}), same INSERTs, no store: ${rate} rows/s${format === 'RowBinary' ? ' (the ceiling on this machine)' : ''}`);
    }

    const list = batches(THROUGHPUT_ROWS, THROUGHPUT_BATCH_ROWS);
    const writes = list.length;
    collectGarbage();
    t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const waits = await writeAll(store, list);
    await store.flush();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    out(`throughput: ${THROUGHPUT_ROWS} rows in ${writes} writes of ~${THROUGHPUT_BATCH_ROWS}: ${ms.toFixed(0)} ms = ${Math.round((THROUGHPUT_ROWS / ms) * 1000)} rows/s (goal >= 200000); process CPU ${cpuMs.toFixed(0)} ms = ${(cpuMs / ms).toFixed(1)} cores, ${((cpuMs * 1000) / THROUGHPUT_ROWS).toFixed(1)} µs a row`);
    out(`write() of ~${THROUGHPUT_BATCH_ROWS} rows: p50 ${pct(waits, 50).toFixed(2)} ms, p99 ${pct(waits, 99).toFixed(2)} ms`);

    // 3. What a step waits for: write() of one trade's rows, the step rate unthrottled.
    const steps = batches(STEP_COUNT * 15, 15, 1_000_000);
    const stepCount = steps.length;
    const stepWaits = await writeAll(store, steps);
    await store.flush();
    out(`step wait, write() of ~15 rows x ${stepCount}: p50 ${pct(stepWaits, 50).toFixed(3)} ms, p99 ${pct(stepWaits, 99).toFixed(3)} ms (goal <= 2)`);
    await store.close();

    // 4. Spool drain: rows spooled while a server is unreachable, then drained into chDB on open.
    const spoolDir = join(home, 'spool-drain');
    const down = await openStore({
      config: config(home, { PINK_CLICKHOUSE_URL: `http://127.0.0.1:${await closedPort()}` }),
      runId: 'bench',
      spoolDir,
      allowUnreachable: true,
    });
    for (const b of batches(DRAIN_ROWS, THROUGHPUT_BATCH_ROWS, 2_000_000)) down.write(b);
    await down.flush();
    const spooled = down.stats().spooled_rows;
    await down.close();
    const up = await openStore({ config: config(home), runId: 'bench' });
    await up.ensureSchema();
    t0 = performance.now();
    // Opening with the spool folder starts the drain; flush() waits for it.
    const upSpool = await openStore({ config: config(home), runId: 'bench', spoolDir });
    await upSpool.flush();
    const drainMs = performance.now() - t0;
    const left = upSpool.stats().spooled_rows;
    await upSpool.close();
    await up.close();
    out(`spool drain: ${spooled} rows in ${drainMs.toFixed(0)} ms = ${Math.round((spooled / drainMs) * 1000)} rows/s (left ${left})`);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await bench();
}
