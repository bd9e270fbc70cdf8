// What the strategy asks for at a step (engine.ts calls it only while the lifecycle decides):
// the demo strategy's intents, or the signals file's new lines. Malformed or changed signals are
// anomalies, never fatal. Holds the signals file's tail, opened at the first decision.
import type { KernelInput, KernelOutcome, KernelView } from '../kernel/types.js';
import { anomalyRow } from '../kernel/anomaly-row.js';
import type { RunnerState } from './checkpoint.js';
import type { EngineOptions } from './engine-types.js';
import type { FaultWindow } from './faults-window.js';
import { slotFacts } from './kernel-glue.js';
import { demoIntents, SignalsTail, type SignalsCursor, type SignalsNotice } from './strategies.js';

export interface DeciderDeps {
  opts: EngineOptions;
  /** The checkpoint's runner state: the signals offset and cursor are kept current in it. */
  runner: RunnerState & { signals?: SignalsCursor };
  faults: FaultWindow;
  historyId: () => string;
  feed: (inputs: KernelInput[], meta?: { signals_offset?: number }) => KernelOutcome[];
}

export class Decider {
  readonly #d: DeciderDeps;
  #signalsTail: SignalsTail | undefined;
  /** Intent ids the journal replay fed (the signals strategy's), taken before the file is read again. */
  #replayedIntentIds: string[] = [];

  constructor(d: DeciderDeps) {
    this.#d = d;
  }

  /** A replayed INTENT of the signals strategy: its line is not taken again. */
  replayed(intent_id: string): void {
    this.#replayedIntentIds.push(intent_id);
  }

  decide(view: KernelView, seq: number, ts: number): void {
    const { opts, runner, feed } = this.#d;
    if (opts.strategy === 'demo') {
      const intents = demoIntents(slotFacts(view), seq, {
        seed: opts.seed,
        notional_usdt: opts.config.trade_notional_usdt,
        max_hold_bars: opts.config.max_hold_bars,
      });
      feed(intents.map((intent) => ({ type: 'INTENT' as const, ts, intent })));
      return;
    }
    if (!opts.signals_path) return;
    if (this.#signalsTail === undefined) {
      this.#signalsTail = new SignalsTail(opts.signals_path, runner.signals_offset, (runner.signals ??= {}));
      this.#signalsTail.take(this.#replayedIntentIds);
      this.#replayedIntentIds = [];
    }
    const read = this.#signalsTail.read();
    for (const notice of read.notices) this.#anomaly(ts, notice.code, notice.key, notice.reason, notice.details);
    for (const bad of read.malformed) {
      this.#anomaly(ts, 'INVALID_INTENT', `${read.file}:${bad.offset}`, `malformed signals line: ${bad.error}`, { offset: bad.offset, line: bad.line });
    }
    if (read.intents.length > 0) {
      feed(read.intents.map(({ intent }) => ({ type: 'INTENT' as const, ts, intent })), { signals_offset: read.offset });
      this.#signalsTail.take(read.intents.map(({ intent }) => intent.intent_id));
    }
    runner.signals_offset = read.offset;
  }

  /** A malformed signals line, a changed signals file, lines skipped: an anomaly row and a log line, never fatal. */
  #anomaly(ts: number, code: 'INVALID_INTENT' | SignalsNotice['code'], key: string, reason: string, extra: Record<string, unknown>): void {
    const { opts, faults } = this.#d;
    const details = JSON.stringify({ reason, ...extra });
    faults.record(code, 'WARNING', ts, undefined, { reason, ...extra });
    opts.logger.fault(code, 'WARNING', undefined, `signals file: ${reason}`);
    const history = this.#d.historyId();
    opts.store.write({
      token: `${history}:signals:${code}:${key}`,
      rows: [anomalyRow({ row_id: `anomalies:${history}:signals:${code}:${key}`, ts, origin: 'signals', code, severity: 'WARNING', slot_id: '', symbol: '', details })],
    });
  }
}
