// One chaos seed, end to end: simulator + the real engine (`pink run --detach`, demo strategy),
// the seeded fault schedule applied on two lanes (venue faults on time; kills and restarts one
// after the other), a quiet end, a graceful stop, then the proof (verify.ts). Bounded: a seed that
// overruns its deadline fails, and its processes and folder are cleaned up whatever happened.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FLAG } from './inject.js';
import { isolate, liquidationEvent, liquidationFills } from './liquidation.js';
import { adminCalls, CLEAR_ALL_FAULTS, planChaos, storeFailEnv, type ChaosPlan, type ProcessFault, type StoreFail } from './schedule.js';
import { checkErrorLog, checkKernelState, checkNoCrossing, checkNoOrderTwice, checkSpoolEmpty, checkStore, checkTruthComplete, type Check } from './verify.js';
import { ChaosWorld, pidAlive, waitGone } from './world.js';
import { FUNDING_READ_GRACE_MS } from '../../src/engine/runner/funding.js';

export const DEFAULT_CHAOS_SYMBOLS = ['BTC-USDT', 'ETH-USDT', 'SOL-USDT'];
/** The quiet end: faults off, the engine keeps trading this long before it is stopped. */
const QUIET_MS = 1500;
/** A graceful stop must finish within this. */
const STOP_MS_MAX = 30_000;
/** What a seed may take beyond its chaos seconds (starts, restarts, the final checks). */
const SEED_OVERHEAD_MS_MAX = 150_000;
const INITIAL_CAPITAL_USDT = 10_000;

export interface SeedOptions {
  seed: number;
  seconds: number;
  symbols?: string[];
  /** Keep the folder (home, logs) of a seed that fails, to inspect it. */
  keep?: boolean;
  /** Progress lines (what is being injected); default: none. */
  trace?: (line: string) => void;
}

export interface SeedResult {
  seed: number;
  ok: boolean;
  fills: number;
  trades: number;
  kills: number;
  restarts: number;
  faults: number;
  resends: number;
  /** Positions the venue liquidated (issue 20's liquidation lane; a price jump may add one). */
  liquidations: number;
  elapsed_s: number;
  checks: Check[];
  /** The folder kept for inspection (keep: true). */
  folder?: string;
}

interface Tally {
  /** The running engine was started with PINK_CHAOS_STORE_FAIL (its spool may still wait for ClickHouse). */
  store_faulted: boolean;
  kills: number;
  restarts: number;
  faults: number;
  /** Kernel assertions injected: each must be exactly one fail-stop in the error log and the anomalies. */
  asserts: number;
  checks: Check[];
}

/** A crash signal or an injected internal error must end the engine within this. */
const GONE_MS_MAX = 30_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

function fail(t: Tally, name: string, detail: string): void {
  t.checks.push({ name, ok: false, detail });
}

async function startEngine(w: ChaosWorld, plan: ChaosPlan, t: Tally): Promise<void> {
  const r = await w.pink(['run', '--detach', '--json', '--strategy', 'demo', '--seed', String(plan.seed)], storeFailEnv(plan.start_store));
  if (plan.start_store) t.faults += 1;
  t.store_faulted = plan.start_store !== null;
  if (r.code !== 0) throw new Error(`pink run --detach exited ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
  w.enginePid();
}

/** `pink restart` and what it says; the engine must come back. */
async function restart(w: ChaosWorld, store: StoreFail | null, t: Tally, why: string): Promise<void> {
  const r = await w.pink(['restart', '--json', '--timeout', '40'], storeFailEnv(store));
  w.enginePid();
  t.store_faulted = store !== null;
  if (r.code === 0 || r.code === 1) {
    // Mid-chaos a startup reconcile may find what the faults left (a position the venue
    // holds for an order whose answer was lost): the last reconcile is what must converge.
    return;
  }
  fail(t, `engine back after ${why}`, `pink restart exited ${r.code}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
  throw new Error(`the engine did not come back after ${why}`);
}

/** pink exits 2 naming `segment`: the damaged journal is refused, never read past. */
async function refusesDamage(w: ChaosWorld, t: Tally, argv: string[], segment: string): Promise<void> {
  const r = await w.pink(argv);
  if (r.code === 2 && r.stderr.includes(segment) && /the journal is damaged/.test(r.stderr)) return;
  fail(t, `pink ${argv[0]} refuses a damaged journal`, `exit ${r.code}, expected 2 naming ${segment}: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
  w.enginePid();
  throw new Error(`pink ${argv.join(' ')} did not refuse a damaged journal`);
}

/** One byte of a complete journal line (never its newline: a cut last newline is a torn tail) changed; returns how to undo it. */
function flipJournalByte(home: string, pick: number, xor: number): { segment: string; undo: () => void } {
  const dir = join(home, 'journal');
  const lines: { path: string; start: number; length: number }[] = [];
  for (const name of readdirSync(dir).filter((n) => n.startsWith('seg-')).sort()) {
    const path = join(dir, name);
    const data = readFileSync(path);
    for (let start = 0, end = data.indexOf(0x0a); end >= 0; start = end + 1, end = data.indexOf(0x0a, start)) {
      if (end > start) lines.push({ path, start, length: end - start });
    }
  }
  if (lines.length === 0) throw new Error('no journal line to damage');
  const line = lines[Math.min(lines.length - 1, Math.floor(pick * lines.length))]!;
  const at = line.start + Math.min(line.length - 1, Math.floor(((pick * lines.length) % 1) * line.length));
  const data = readFileSync(line.path);
  const original = data[at]!;
  data[at] = original ^ xor;
  writeFileSync(line.path, data);
  return {
    segment: line.path,
    undo: () => {
      const now = readFileSync(line.path);
      now[at] = original;
      writeFileSync(line.path, now);
    },
  };
}

/** The fault kinds of issue 16: a crash signal, a full disk, a damaged journal, an internal error. */
async function durableFault(w: ChaosWorld, pid: number, f: ProcessFault, t: Tally, trace: (l: string) => void): Promise<void> {
  if (f.kind === 'sigabrt') {
    process.kill(pid, 'SIGABRT');
    if (!(await waitGone(pid, GONE_MS_MAX))) {
      fail(t, 'SIGABRT ends the engine', `pid ${pid} still running ${GONE_MS_MAX / 1000} s after SIGABRT`);
      throw new Error('engine survived SIGABRT');
    }
    t.kills += 1;
    await restart(w, f.store, t, 'SIGABRT');
  } else if (f.kind === 'disk_full') {
    writeFileSync(join(w.faultsDir, FLAG.diskFull), '');
    await sleep(f.duration_ms);
    rmSync(join(w.faultsDir, FLAG.diskFull), { force: true });
    if (!pidAlive(pid)) {
      fail(t, 'a full disk holds the engine', `the engine (pid ${pid}) exited while the disk was full`);
      throw new Error('engine died on a full disk');
    }
  } else if (f.kind === 'journal_flip') {
    process.kill(pid, 'SIGTERM');
    if (!(await waitGone(pid, STOP_MS_MAX))) throw new Error('engine did not stop on SIGTERM');
    const flip = flipJournalByte(w.home, f.pick, f.xor);
    trace(`journal byte changed in ${flip.segment}`);
    await refusesDamage(w, t, ['restart', '--json', '--timeout', '40'], flip.segment);
    await refusesDamage(w, t, ['ditav2-status', '--json'], flip.segment);
    await refusesDamage(w, t, ['replay', '--json'], flip.segment);
    flip.undo(); // the operator puts the copy back
    t.restarts += 1;
    await restart(w, f.store, t, 'a damaged journal was restored');
  } else if (f.kind === 'kernel_assert') {
    writeFileSync(join(w.faultsDir, FLAG.kernelAssert), '');
    t.asserts += 1;
    if (!(await waitGone(pid, GONE_MS_MAX))) {
      fail(t, 'an internal error stops the engine (exit 4)', `pid ${pid} still running ${GONE_MS_MAX / 1000} s after an injected kernel assertion`);
      throw new Error('engine kept running after an internal error');
    }
    const taken = join(w.faultsDir, `${FLAG.kernelAssert}.taken`);
    const failed_ms = existsSync(taken) ? statSync(taken).mtimeMs : Number.NaN;
    rmSync(taken, { force: true });
    const truth = w.sim.state();
    // "Sent" is when the request reached the venue, not when the venue acted on it: under a latency
    // fault a request waits before it is acted on, so an order sent before the assertion can be
    // created after it (seed 225). The simulator's request log has each request's arrival (t0_ms);
    // an order with no logged request (the log is bounded) counts by its creation time (fail closed).
    const sends = w.sim.requests().filter((r) => r.method === 'POST' && /\/trade\/(order|batchOrders)$/.test(r.path));
    const arrived = (id: string): number | undefined => {
      const t = sends.filter((r) => JSON.stringify(r.query).includes(id)).map((r) => r.t0_ms ?? Number.POSITIVE_INFINITY);
      return t.length > 0 ? Math.min(...t) : undefined;
    };
    const late = [...truth.open_orders, ...truth.closed_orders].filter((o) => o.client_order_id.startsWith('pink-') && (arrived(o.client_order_id) ?? o.created_ms) > failed_ms);
    const status = await w.pink(['ditav2-status', '--json']);
    const ok = Number.isFinite(failed_ms) && late.length === 0 && status.code === 3 && /stopped on an internal error at seq \d+/.test(status.stdout);
    t.checks.push({
      name: 'fail-stop: nothing sent after an internal error, status says where',
      ok,
      detail: `${late.length} order(s) sent after the assertion (by the venue's arrival time)${late.length ? ` (${late.map((o) => o.client_order_id).join(', ')})` : ''}; status exit ${status.code}${ok ? '' : `: ${status.stdout.slice(0, 300)}`}`,
    });
    t.restarts += 1;
    await restart(w, f.store, t, 'a fail-stop');
  }
}

async function processFault(w: ChaosWorld, f: ProcessFault, t: Tally, trace: (l: string) => void): Promise<void> {
  const pid = w.enginePid();
  if (pid === undefined || !pidAlive(pid)) {
    fail(t, 'engine alive', `the engine (pid ${pid ?? '?'}) was gone before ${f.kind}: it exited on its own`);
    throw new Error('engine died on its own');
  }
  if (f.store) t.faults += 1;
  trace(`${f.kind} pid ${pid}${f.store ? ` (next start: store ${JSON.stringify(f.store)})` : ''}`);
  if (f.kind === 'sigabrt' || f.kind === 'disk_full' || f.kind === 'journal_flip' || f.kind === 'kernel_assert') {
    await durableFault(w, pid, f, t, trace);
  } else if (f.kind === 'kill9') {
    process.kill(pid, 'SIGKILL');
    await waitGone(pid, 10_000);
    t.kills += 1;
    await restart(w, f.store, t, 'kill -9');
  } else if (f.kind === 'sigterm') {
    process.kill(pid, 'SIGTERM');
    if (!(await waitGone(pid, STOP_MS_MAX))) {
      fail(t, 'graceful stop on SIGTERM', `pid ${pid} still running ${STOP_MS_MAX / 1000} s after SIGTERM`);
      throw new Error('engine did not stop on SIGTERM');
    }
    t.restarts += 1;
    await restart(w, f.store, t, 'SIGTERM');
  } else {
    t.restarts += 1;
    await restart(w, f.store, t, 'a restart of the running engine');
  }
  t.faults += 1;
}

async function venueLane(w: ChaosWorld, plan: ChaosPlan, t0: number, t: Tally, trace: (l: string) => void): Promise<void> {
  const actions: { at_ms: number; run: () => Promise<unknown> }[] = [];
  for (const { at_ms, fault } of plan.venue) {
    const calls = adminCalls(fault);
    actions.push({
      at_ms,
      run: async () => {
        t.faults += 1;
        trace(`${fault.kind} ${JSON.stringify(fault)}`);
        if (fault.kind === 'price_jump') {
          const price = w.sim.state().prices[fault.symbol]!;
          return w.admin('/__sim/price', { symbol: fault.symbol, price: price * (1 + fault.ratio) });
        }
        return w.admin(calls.set.path, calls.set.body);
      },
    });
    if (calls.clear) {
      const body = calls.clear.body;
      actions.push({ at_ms: at_ms + calls.clear.after_ms, run: () => w.admin('/__sim/faults', body) });
    }
  }
  actions.sort((a, b) => a.at_ms - b.at_ms);
  for (const a of actions) {
    await sleep(t0 + a.at_ms - Date.now());
    await a.run();
  }
}

/** Process faults one after the other, and the liquidation (issue 20) among them: no kill or restart is under way when it runs. */
async function processLane(w: ChaosWorld, plan: ChaosPlan, t0: number, t: Tally, trace: (l: string) => void): Promise<void> {
  const steps = plan.process.map(({ at_ms, fault }) => ({ at_ms, run: () => processFault(w, fault, t, trace) }));
  const liq = plan.liquidation;
  if (liq !== null) steps.push({ at_ms: liq.at_ms, run: () => liquidationEvent(w, liq, plan.symbols, t, trace) });
  steps.sort((a, b) => a.at_ms - b.at_ms);
  for (const { at_ms, run } of steps) {
    await sleep(t0 + at_ms - Date.now());
    await run();
  }
}

/** chDB opens one folder per process: seeds run side by side (--jobs) read their stores one at a time. */
let storeTurn: Promise<unknown> = Promise.resolve();
function oneStoreAtATime<T>(fn: () => Promise<T>): Promise<T> {
  const mine = storeTurn.then(fn, fn);
  storeTurn = mine.catch(() => undefined);
  return mine;
}

/** The proof, after the engine has stopped gracefully. */
async function prove(w: ChaosWorld, plan: ChaosPlan, t: Tally): Promise<{ fills: number; trades: number; resends: number; liquidations: number }> {
  t.checks.push(checkSpoolEmpty(w.home));
  t.checks.push(checkErrorLog(w.logDir, t.asserts));
  const lastPath = join(w.home, 'last-reconcile.json');
  const last = existsSync(lastPath) ? (JSON.parse(readFileSync(lastPath, 'utf8')) as { converged: boolean; corrections: unknown[] }) : undefined;
  t.checks.push({ name: 'last startup reconcile converged', ok: last?.converged === true, detail: last ? `${last.corrections.length} correction(s)` : 'no last-reconcile.json' });
  // The venue after the engine: an order answered but not yet polled at the stop is settled here.
  const offline = await w.pink(['restart', '--no-start', '--json']);
  let doc: { converged?: boolean; corrections?: { kind: string; symbol: string; detail: string }[] } = {};
  try {
    doc = JSON.parse(offline.stdout) as typeof doc;
  } catch {
    /* judged below */
  }
  const blocking = (doc.corrections ?? []).filter((c) => ['adopted', 'orphan_flagged', 'position_mismatch'].includes(c.kind) || (c.kind === 'closed' && c.detail.includes('reconcile_flat')));
  t.checks.push({
    name: 'final reconcile converged',
    ok: offline.code === 0 && doc.converged === true && blocking.length === 0,
    detail: `pink restart --no-start exited ${offline.code}; corrections: ${(doc.corrections ?? []).map((c) => `${c.kind} ${c.symbol}`).join(', ') || 'none'}${blocking.length ? `; divergences: ${blocking.map((c) => c.detail).join(' | ')}` : ''}${offline.code !== 0 ? `; ${offline.stderr.trim().split('\n').slice(-2).join(' ')}` : ''}`,
  });
  const replay = await w.pink(['replay', '--json']);
  let rdoc: { identical?: boolean; inputs?: number; divergence?: unknown } = {};
  try {
    rdoc = JSON.parse(replay.stdout) as typeof rdoc;
  } catch {
    /* judged below */
  }
  t.checks.push({
    name: 'pink replay identical',
    ok: replay.code === 0 && rdoc.identical === true,
    detail: `exit ${replay.code}, ${rdoc.inputs ?? '?'} inputs${rdoc.divergence ? `; divergence ${JSON.stringify(rdoc.divergence).slice(0, 400)}` : ''}`,
  });
  const truth = w.sim.state();
  t.checks.push(checkTruthComplete(truth));
  const twice = checkNoOrderTwice(truth);
  t.checks.push(twice.check);
  t.checks.push(checkNoCrossing(truth));
  const kernel = checkKernelState(w.home, truth, plan.symbols, INITIAL_CAPITAL_USDT);
  t.checks.push(...kernel.checks);
  const store = await oneStoreAtATime(() => checkStore(w.env, truth, kernel.capital, t.asserts, kernel.funding));
  t.checks.push(...store.checks);
  return { ...store.facts, resends: twice.resends, liquidations: new Set(liquidationFills(truth, plan.symbols).map((f) => f.order_id)).size };
}

async function runWorld(w: ChaosWorld, plan: ChaosPlan, t: Tally, trace: (l: string) => void): Promise<{ fills: number; trades: number; resends: number; liquidations: number }> {
  for (const [symbol, rate] of Object.entries(plan.funding_rates)) await w.admin('/__sim/funding', { symbol, rate });
  if (plan.liquidation !== null) await isolate(w, plan.liquidation, trace);
  await startEngine(w, plan, t);
  const t0 = Date.now();
  await Promise.all([venueLane(w, plan, t0, t, trace), processLane(w, plan, t0, t, trace)]);
  await sleep(t0 + plan.seconds * 1000 - Date.now());
  await w.admin('/__sim/faults', CLEAR_ALL_FAULTS);
  if (t.store_faulted) {
    // ClickHouse recovers: an engine started without the store hook must drain what was spooled.
    trace('store recovers: restart without PINK_CHAOS_STORE_FAIL');
    t.restarts += 1;
    await restart(w, null, t, 'the store recovered');
  }
  // Funding stops being paid (rate 0: no payment), and the quiet end lasts until the engine's read
  // after the next funding time: every payment made is then in its capital.
  await w.admin('/__sim/funding', { rate: 0 });
  await sleep(Math.max(QUIET_MS, plan.funding_interval_ms + FUNDING_READ_GRACE_MS + 1000));
  const pid = w.enginePid();
  if (pid === undefined || !pidAlive(pid)) {
    fail(t, 'engine alive at the end', `the engine (pid ${pid ?? '?'}) exited on its own`);
    throw new Error('engine died on its own');
  }
  process.kill(pid, 'SIGTERM');
  if (!(await waitGone(pid, STOP_MS_MAX))) {
    fail(t, 'graceful stop at the end', `pid ${pid} still running ${STOP_MS_MAX / 1000} s after SIGTERM`);
    throw new Error('engine did not stop');
  }
  return prove(w, plan, t);
}

export async function runSeed(o: SeedOptions): Promise<SeedResult> {
  const started = Date.now();
  const symbols = o.symbols ?? DEFAULT_CHAOS_SYMBOLS;
  const plan = planChaos(o.seed, o.seconds, symbols);
  const traced: string[] = [];
  const trace = (line: string): void => {
    traced.push(`${new Date().toISOString()} ${line}`);
    o.trace?.(line);
  };
  const t: Tally = { store_faulted: false, kills: 0, restarts: 0, faults: 0, asserts: 0, checks: [] };
  let facts = { fills: 0, trades: 0, resends: 0, liquidations: 0 };
  const w = await ChaosWorld.open({ seed: o.seed, symbols, fundingIntervalMs: plan.funding_interval_ms });
  const deadline_ms = o.seconds * 1000 + SEED_OVERHEAD_MS_MAX;
  let timer: NodeJS.Timeout | undefined;
  try {
    const overrun = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`seed overran its deadline of ${Math.round(deadline_ms / 1000)} s`)), deadline_ms);
    });
    facts = await Promise.race([runWorld(w, plan, t, trace), overrun]);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (!t.checks.some((c) => !c.ok)) fail(t, 'harness', message);
  } finally {
    clearTimeout(timer);
  }
  const ok = t.checks.length > 0 && t.checks.every((c) => c.ok);
  const keep = !ok && o.keep === true;
  if (keep) {
    // For the post-mortem: the venue's ground truth and what was injected when.
    writeFileSync(join(w.folder, 'sim-state.json'), `${JSON.stringify(w.sim.state(), null, 1)}\n`);
    writeFileSync(join(w.folder, 'trace.log'), `${traced.join('\n')}\n${t.checks.map((c) => `${c.ok ? 'ok' : 'FAILED'} ${c.name}: ${c.detail}`).join('\n')}\n`);
  }
  await w.close(keep);
  return {
    seed: o.seed,
    ok,
    ...facts,
    kills: t.kills,
    restarts: t.restarts,
    faults: t.faults,
    elapsed_s: (Date.now() - started) / 1000,
    checks: t.checks,
    ...(keep ? { folder: w.folder } : {}),
  };
}

/** `seed 17: PASS 42 fills, 9 trades, 3 kills, 2 restarts, 120 faults, 14.2 s` (`, 1 liquidation` before the time when the venue liquidated). */
export function seedLine(r: SeedResult): string {
  return `seed ${r.seed}: ${r.ok ? 'PASS' : 'FAIL'} ${r.fills} fills, ${r.trades} trades, ${r.kills} kills, ${r.restarts} restarts, ${r.faults} faults${r.liquidations > 0 ? `, ${r.liquidations} liquidation${r.liquidations === 1 ? '' : 's'}` : ''}, ${r.elapsed_s.toFixed(1)} s`;
}
