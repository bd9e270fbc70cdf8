// The engine process: the step loop around the pure kernel. Every input is journaled before it
// is applied; the kernel's commands go to the venue; its rows go to the store off the critical
// path. Startup is always checkpoint + journal replay + a full reconcile against the venue.
import { mkdirSync } from 'node:fs';
import { homePaths } from '../../config.js';
import { usageError } from '../../errors.js';
import { Kernel, RECONCILE_LOOKBACK_MS } from '../kernel/index.js';
import type { KernelInput, KernelOutcome, KernelSettings, RowOut, SettingChange, VenueCommand } from '../kernel/types.js';
import type { Store } from '../store/index.js';
import { VenueReadError } from '../venue/errors.js';
import type { Venue } from '../venue/types.js';
import { CHECKPOINT_EVERY_STEPS, writeCheckpoint, type RunnerState } from './checkpoint.js';
import { FaultWindow } from './faults-window.js';
import { checkDivergence, VenueCheck } from './venue-check.js';
import { locateHistory, type History } from './history.js';
import { Journal, JournalWriteError, outcomeDigest, type JournalRecord, type JournalScan } from './journal.js';
import { batchToken, kernelConfig, kernelSettings, newHistoryId, settingLine } from './kernel-glue.js';
import type { SignalsCursor } from './strategies.js';
import { FundingReader, fundingInputs, readFunding, type FundingCursor } from './funding.js';
import { PendingLiquidations } from './liquidations.js';
import { Decider } from './engine-decide.js';
import { SerialQueue } from './serial.js';
import { reconcileReport, ReconcileReadError, ReplayFailedError, type EngineOptions, type ReconcileReport } from './engine-types.js';
import { Lifecycle, type EngineFailure, type EngineLifecycle } from './lifecycle.js';

/** Bound on send → answer → send rounds in one step (an answer can yield a follow-up command). */
const SEND_ROUNDS_MAX = 4;
/**
 * A stale slot whose reconcile did not converge (the venue's position is not PINK's) stays stale
 * until one does or the operator acts; the step loop asks again at most this often, not every
 * step (each reconcile is a full venue snapshot, journaled).
 */
export const STALE_RECONCILE_RETRY_MS = 5_000;

export class Engine {
  readonly opts: EngineOptions;
  readonly kernel: Kernel;
  readonly journal: Journal;
  readonly faults = new FaultWindow();
  /** Venue contact, failed steps in a row, slot-vs-venue divergences (venue-check.ts). */
  readonly venueCheck = new VenueCheck(Date.now());
  private seq: number;
  /**
   * The runner's state; `signals` (the signals file's cursor, see strategies.ts) rides in the
   * checkpoint with it. fills_read_ts: the ts of the last input made of a complete fills read (a
   * poll's TICK, a full RECONCILE), kept by checkpoints and rebuilt by replay. The reconcile reads
   * fills from there, not from the kernel's last_ts: inputs that read nothing (a refused
   * snapshot's VENUE_UNAVAILABLE, a start's SETTINGS or FUNDING, `pink halt` or `accept-drift`
   * with the engine down) move last_ts to now, and a fill made early in a long downtime fell out
   * of the window. The kernel's fill memory still reckons from last_ts (memory.ts): README's
   * known gap (1).
   */
  private runner: RunnerState & { signals?: SignalsCursor; funding?: FundingCursor; fills_read_ts?: number };
  /** Issue 20: when the venue's funding income is read, and from where (funding.ts). */
  readonly funding: FundingReader;
  private readonly decider: Decider;
  private rows: RowOut[] = [];
  private rowsFirstSeq = 0;
  private pendingCommands: VenueCommand[] = [];
  private replaying = false;
  private readonly queue = new SerialQueue();
  private lastCheckpointTs = 0;
  /** Issue 20: liquidated symbols whose reconcile has not gone through yet. */
  private readonly liquidations: PendingLiquidations;
  /** Per stale symbol: no reconcile of it before this time (after one that did not converge). */
  private staleRetryTs = new Map<string, number>();
  /** The settings this start changed (reported by the next reconcile: the startup one). */
  private settingsChanged: SettingChange[] = [];
  lastReport: ReconcileReport | undefined;
  /** STARTING .. STOPPED or FAILED (lifecycle.ts): what the loop, a control action and a signal may do. */
  private readonly life = new Lifecycle();
  /** The lifecycle for the loop and the process (main.ts, loop.ts); a failure goes through markFailed. */
  readonly lifecycle: EngineLifecycle = this.life;
  /** What restore found worth saying at start (a torn journal tail cut, a kept checkpoint used). */
  readonly startup_notes: { code: 'JOURNAL_TORN_TAIL' | 'CHECKPOINT_FALLBACK'; text: string }[] = [];
  readonly started_ts = Date.now();
  private heartbeatTs = Date.now();
  last_step_ms = 0;
  step_ms: number[] = [];

  private constructor(opts: EngineOptions, kernel: Kernel, seq: number, runner: RunnerState, scan: JournalScan) {
    this.opts = opts;
    this.kernel = kernel;
    this.seq = seq;
    this.runner = runner;
    this.journal = new Journal(homePaths(opts.config.home).journal, scan);
    this.funding = new FundingReader(opts.venue, opts.config.symbols, (this.runner.funding ??= { since_ms: runner.started_ts }));
    this.liquidations = new PendingLiquidations(opts.config.symbols);
    this.decider = new Decider({ opts, runner: this.runner, faults: this.faults, historyId: () => this.kernel.history_id, feed: (inputs, meta) => this.feed(inputs, meta) });
    if (this.journal.torn) this.startup_notes.push({ code: 'JOURNAL_TORN_TAIL', text: `journal: a torn last record (${this.journal.torn.bytes} bytes at byte ${this.journal.torn.offset} of ${this.journal.torn.path}, a write a crash cut short, never applied) was cut` });
  }

  /**
   * The history found in the home (checkpoint, or the newest kept one the journal continues from;
   * refused when a history is there but cannot be continued), its journal replayed (no sends:
   * what was sent is settled by the reconcile), then this start's settings. With no checkpoint, a
   * new kernel history: its id is minted here and made durable (a first checkpoint) before any
   * input, so every row it ever writes carries it. Throws ExitError(2), before anything is sent,
   * when the settings drop a symbol PINK holds.
   */
  static restore(opts: EngineOptions, history?: History): Engine {
    const paths = homePaths(opts.config.home);
    mkdirSync(paths.home, { recursive: true, mode: 0o700 });
    const found = history ?? locateHistory(paths);
    const cp = found.checkpoint;
    const settings = kernelSettings(opts.config, opts.venue.qtySteps(opts.config.symbols));
    const kernel = cp ? Kernel.restore(cp.kernel) : new Kernel(kernelConfig(opts.config, newHistoryId(), settings));
    const runner: RunnerState = cp?.runner ?? { steps: 0, signals_offset: found.signals_from ?? 0, started_ts: Date.now() };
    const engine = new Engine(opts, kernel, cp?.seq ?? 0, runner, found.scan);
    if (found.note) engine.startup_notes.push({ code: 'CHECKPOINT_FALLBACK', text: found.note });
    if (!cp) {
      writeCheckpoint(paths.checkpoint, paths.checkpoints, { version: 2, seq: 0, ts: Date.now(), run_id: opts.run_id, kernel: kernel.checkpoint(), runner });
      opts.logger.info(`a new kernel history ${kernel.history_id} begins (no checkpoint in ${paths.home})`);
    }
    try {
      engine.replayJournal(found.records);
    } catch (err) {
      throw new ReplayFailedError(err, engine.life.failure?.seq ?? engine.seq + 1);
    }
    engine.takeSettings(settings);
    return engine;
  }

  /** This start's settings, as a journaled SETTINGS input when they differ from the kernel's. */
  private takeSettings(settings: KernelSettings): void {
    const check = this.kernel.checkSettings(settings);
    if (check.invalid !== null) throw usageError(`the settings are out of range: ${check.invalid}.`, 'Fix the variable named (see `pink --help` for each range).');
    if (check.refusal !== null) {
      throw usageError(
        `refused to start: the symbols (DOLPHIN_PINK_SYMBOLS or --symbols) drop ${check.refusal}; PINK never drops a symbol it holds. Nothing was sent.`,
        'Put the symbol back in DOLPHIN_PINK_SYMBOLS (or --symbols), get flat on it (pink flatten SYMBOL), then remove it and start again.',
      );
    }
    if (check.changes.length === 0) return;
    this.feed([{ type: 'SETTINGS', ts: Date.now(), settings }]);
    this.recordRows();
    this.settingsChanged = check.changes;
    for (const ch of check.changes) this.opts.logger.info(`setting changed: ${settingLine(ch)}`);
  }

  private replayJournal(records: JournalRecord[]): void {
    this.replaying = true;
    let replayed = 0;
    for (const rec of records) {
      if (rec.t === 'batch') {
        this.recordRows(rec.first);
        continue;
      }
      if (rec.t !== 'in') continue;
      this.applyOne(rec.input, rec.seq);
      if (rec.meta?.signals_offset !== undefined) this.runner.signals_offset = Math.max(this.runner.signals_offset, rec.meta.signals_offset);
      if (rec.input.type === 'INTENT' && this.opts.strategy === 'signals') this.decider.replayed(rec.input.intent.intent_id);
      replayed += 1;
    }
    // Commands produced while replaying were sent (or not) before the crash: the reconcile decides.
    this.pendingCommands = [];
    this.replaying = false;
    if (replayed > 0) this.opts.logger.info(`replayed ${replayed} journaled inputs after the checkpoint (up to seq ${this.seq})`);
    this.journal.rotate(this.seq + 1);
  }

  get currentSeq(): number {
    return this.seq;
  }

  /** A graceful stop was asked for (the observer's watch ends then). */
  get stopping(): boolean {
    return this.life.stopReason !== undefined;
  }

  /** The first internal error, once FAILED: from then on no input is journaled or applied, nothing is sent. */
  get failure(): EngineFailure | undefined {
    return this.life.failure;
  }

  /** When the last step finished (the engine's start before the first). */
  get heartbeat_ts(): number {
    return this.heartbeatTs;
  }

  /** Runs `fn` after everything queued before it: steps and control actions never interleave. */
  serialize<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.run(fn);
  }

  /**
   * As serialize, for an operator action that should not wait on a step's optional work: while
   * it waits, a step starting skips its divergence check (the next step does it), and with it any
   * targeted reconcile that check could start (issue 21).
   */
  serializeUrgent<T>(fn: () => Promise<T>): Promise<T> {
    return this.queue.runUrgent(fn);
  }

  private applyOne(input: KernelInput, seq: number): KernelOutcome[] {
    let outcomes: KernelOutcome[];
    try {
      outcomes = this.kernel.apply(input);
    } catch (err) {
      // Mid-input: the kernel's state is not to be trusted, checkpointed or fed again.
      this.markFailed(err, seq, true);
      throw err;
    }
    this.seq = seq;
    this.funding.applied(input);
    if (input.type === 'TICK' || (input.type === 'RECONCILE' && input.symbols === undefined)) {
      this.runner.fills_read_ts = Math.max(this.runner.fills_read_ts ?? 0, input.ts);
    }
    if (!this.replaying) {
      this.journal.appendOutput({ t: 'out', seq, digest: outcomeDigest(outcomes) });
    }
    for (const o of outcomes) {
      if (this.rows.length === 0) this.rowsFirstSeq = seq;
      for (const r of o.rows) this.rows.push(r);
      for (const c of o.commands) this.pendingCommands.push(c);
      if (o.severity !== 'INFO') {
        this.faults.record(o.diagnostic_code, o.severity, input.ts, o.symbol, o.details);
        if (!this.replaying) this.opts.logger.fault(o.diagnostic_code, o.severity, o.symbol, String(o.details.reason ?? ''));
      }
      if (!this.replaying) this.opts.observer?.outcome(o);
    }
    return outcomes;
  }

  /** Stops the engine fail-closed (the first failure wins): nothing is journaled, applied or sent after it. */
  markFailed(error: unknown, seq = this.seq, in_apply = false): void {
    this.life.fail({ error, seq, in_apply });
    this.pendingCommands = [];
  }

  /** A checkpoint now would hold only what the journal proves: not after the kernel failed mid-input. */
  get checkpointSafe(): boolean {
    return this.life.failure?.in_apply !== true;
  }

  /** Journal (fsync) then apply, in order. */
  feed(inputs: KernelInput[], meta?: { signals_offset?: number }): KernelOutcome[] {
    if (inputs.length === 0) return [];
    this.life.assertTakesInput();
    const records = inputs.map((input, i) => ({ t: 'in' as const, seq: this.seq + 1 + i, input, ...(meta && i === inputs.length - 1 ? { meta } : {}) }));
    try {
      this.journal.appendInputs(records);
    } catch (err) {
      // Not journaled, so not applied; what the venue told us meanwhile is read again by a full reconcile.
      if (err instanceof JournalWriteError && err.disk_full) this.life.fire('DISK_FULL');
      throw err;
    }
    const out: KernelOutcome[] = [];
    for (const r of records) out.push(...this.applyOne(r.input, r.seq));
    return out;
  }

  /** Sends what the kernel asked for and feeds the venue's answers back, a bounded number of rounds. */
  async sendPending(): Promise<void> {
    for (let round = 0; round < SEND_ROUNDS_MAX && this.pendingCommands.length > 0; round += 1) {
      this.life.assertSends();
      const commands = this.pendingCommands;
      this.pendingCommands = [];
      const answers = await this.opts.venue.send(commands, Date.now());
      this.feed(answers);
    }
  }

  /**
   * As sendPending, with each symbol's commands sent beside the other symbols' (issue 21: a flatten
   * of N symbols costs the round trips of one). A symbol's own commands keep their order, and every
   * request still goes through the venue's token buckets.
   */
  async sendPendingBySymbol(): Promise<void> {
    for (let round = 0; round < SEND_ROUNDS_MAX && this.pendingCommands.length > 0; round += 1) {
      this.life.assertSends();
      const bySymbol = new Map<string, VenueCommand[]>();
      for (const c of this.pendingCommands) bySymbol.set(c.symbol, [...(bySymbol.get(c.symbol) ?? []), c]);
      this.pendingCommands = [];
      // Each answer is fed as it comes (feeding is synchronous: journal, then kernel).
      await Promise.all([...bySymbol.values()].map(async (commands) => this.feed(await this.opts.venue.send(commands, Date.now()))));
    }
  }

  /**
   * Hands this step's rows to the store (returns at once; the flush is off the critical path).
   * The batch boundary is journaled first, so a replay rebuilds the same batch, same token.
   */
  private recordRows(replayedFirst?: number): void {
    if (this.rows.length === 0) return;
    const first = replayedFirst ?? this.rowsFirstSeq;
    if (!this.replaying) {
      this.journal.appendOutput({ t: 'batch', first, seq: this.seq });
      this.journal.flush();
    }
    this.opts.store.write({ token: batchToken(this.kernel.history_id, first, this.seq), rows: this.rows });
    this.rows = [];
  }

  /** Full (or per-symbol) reconcile: the venue's truth in, corrections out. */
  async reconcile(symbols?: string[], adopt_orphans = false): Promise<ReconcileReport> {
    const ts = Date.now();
    const before = this.kernel.view().slots;
    // A checkpoint from before fills_read_ts was kept, with no read replayed since: last_ts.
    const readTs = this.runner.fills_read_ts ?? this.kernel.view().last_ts ?? 0;
    const since = Math.max(0, Math.min(readTs > 0 ? readTs : ts, ts) - RECONCILE_LOOKBACK_MS);
    // A full reconcile reads funding beside its snapshot and feeds it first: the drift it reports
    // already counts what was paid.
    const funding = symbols === undefined ? fundingInputs(this, ts) : undefined;
    funding?.catch(() => undefined); // awaited below, on both paths
    let snapshot: Awaited<ReturnType<Venue['snapshot']>>;
    try {
      snapshot = await this.opts.venue.snapshot(this.opts.config.symbols, since, ts);
      if (funding) this.feed(await funding);
    } catch (err) {
      // The funding read is not left running behind a failed reconcile; what it read was not fed:
      // the next step reads it again.
      if (funding) {
        await funding.catch(() => undefined);
        this.funding.next_read_ms = 0;
      }
      if (!(err instanceof VenueReadError)) throw err;
      // The kernel learns it like a failed poll (a rate limit starts its cooldown).
      this.feed([err.input]);
      this.recordRows();
      throw new ReconcileReadError(err);
    }
    this.venueCheck.snapshotRead(Date.now());
    const input: KernelInput = { type: 'RECONCILE', ts, snapshot, adopt_orphans, ...(symbols ? { symbols } : {}) };
    const outcomes = this.feed([input]);
    await this.sendPending();
    this.recordRows();
    const report = reconcileReport(ts, before, this.kernel.view().slots, outcomes, this.settingsChanged);
    this.settingsChanged = [];
    this.lastReport = report;
    await this.checkpoint();
    return report;
  }

  /** One step of the loop (SPEC `pink run`). */
  async step(): Promise<void> {
    const t0 = performance.now();
    const ts = Date.now();
    // The divergence check's positions read (at most every POSITION_CHECK_MS) beside the poll, not
    // after it (issue 21): a step is then the poll's two round trips, not three. The check counts
    // a difference only when it lasts several checks, so a fill between the two reads is harmless.
    const positions = this.venueCheck.due(ts) && this.queue.urgentWaiting === 0 ? this.opts.venue.positions() : undefined;
    positions?.catch(() => undefined); // read (or its failure handled) by checkDivergence below
    const polled = await this.opts.venue.poll(this.opts.config.symbols, ts);
    this.venueCheck.polled(polled, Date.now());
    this.feed(polled);
    if (this.funding.due(Date.now())) await readFunding(this, ts);
    // Issue 20: a position the venue liquidated is settled at once by a reconcile of its symbol
    // (the kernel closes it with reason `liquidation`, POSITION_LIQUIDATED, the symbol REDUCING);
    // kept pending through a reconcile that fails (liquidations.ts).
    await this.liquidations.settle(this.opts.venue.takeLiquidations(), (symbols) => this.reconcile(symbols));
    const now = Date.now();
    const stale = this.kernel.view().slots.filter((s) => s.state === 'STALE_STATE_RECONCILING' && now >= (this.staleRetryTs.get(s.symbol) ?? 0)).map((s) => s.symbol);
    if (stale.length > 0) {
      await this.reconcile(stale);
      for (const s of this.kernel.view().slots) {
        if (!stale.includes(s.symbol)) continue;
        if (s.state === 'STALE_STATE_RECONCILING') this.staleRetryTs.set(s.symbol, Date.now() + STALE_RECONCILE_RETRY_MS);
        else this.staleRetryTs.delete(s.symbol);
      }
    }
    if (positions !== undefined && polled.some((i) => i.type === 'VENUE_OK')) await checkDivergence(this, Date.now(), positions);
    else await positions?.catch(() => undefined);
    // A step admitted while RUNNING decides only if it still is: not once a stop or a hold came
    // meanwhile, and never once FAILED (the input is refused, as every input after a failure).
    this.life.assertTakesInput();
    if (this.life.rule.decides) this.decider.decide(this.kernel.view(), this.seq, ts);
    await this.sendPending();
    this.recordRows();
    this.runner.steps += 1;
    this.heartbeatTs = Date.now();
    this.last_step_ms = performance.now() - t0;
    this.opts.observer?.stepDone(this.last_step_ms);
    this.step_ms.push(this.last_step_ms);
    if (this.step_ms.length > 1024) this.step_ms.splice(0, 512);
    const every = this.opts.checkpoint_every_steps ?? CHECKPOINT_EVERY_STEPS;
    if (this.runner.steps % every === 0) await this.checkpoint();
  }

  /** The store takes every row up to here durably (ClickHouse or spool) before the checkpoint
   * moves past their inputs: rows are never only in memory once the journal can forget them. */
  async checkpoint(): Promise<void> {
    if (!this.checkpointSafe) throw new Error('refused: a checkpoint of a kernel state that failed mid-input');
    this.recordRows();
    await this.opts.store.flush();
    const paths = homePaths(this.opts.config.home);
    this.journal.flush();
    const oldest = writeCheckpoint(paths.checkpoint, paths.checkpoints, {
      version: 2,
      seq: this.seq,
      ts: Date.now(),
      run_id: this.opts.run_id,
      kernel: this.kernel.checkpoint(),
      runner: this.runner,
    });
    this.journal.rotate(this.seq + 1);
    this.journal.prune(oldest);
    this.lastCheckpointTs = Date.now();
  }

  get lastCheckpointAgeMs(): number {
    return this.lastCheckpointTs === 0 ? -1 : Date.now() - this.lastCheckpointTs;
  }

  get steps(): number {
    return this.runner.steps;
  }
}
