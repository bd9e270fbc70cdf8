// The kernel's working parts shared by every input handler: the state, the one place a slot
// changes state (`move`), outcome and row construction, and the per-input bookkeeping that makes
// row ids deterministic and writes `positions` / `account` rows only when something changed.
//
// Row ids (docs/ids.md). An input that changes state advances `seq`; its rows are
// `${family}:${history}:${seq}:${i}` (i counts the input's rows). A refused or no-op input changes
// nothing, not even `seq` (so a checkpoint before and after it is identical); its rows (decisions,
// anomalies) are `${family}:${history}:${seq}~${digest}:${i}` with digest = FNV-1a of the input's
// JSON. Both are functions of the history and its input sequence only: replay yields the same ids,
// no two different rows of a history share one, and two histories never do.
import { FAULT, ANOMALY_ORIGIN, type FaultClass } from '../faults/taxonomy.js';
import { assert } from './assert.js';
import { fnv1a64 } from './ids.js';
import { anomalyRow } from './anomaly-row.js';
import { capitalOf, isLive, QTY_DUST_RATIO, type SlotRec, type State } from './state.js';
import { holdsOf, transition, waitsForReconcile, type SlotEvent } from './transitions.js';
import type { KernelOutcome, OutcomeDetails, RowFamily, RowOut, VenueCommand } from './types.js';

type RowValue = string | number | boolean | null;

export class Core {
  st: State;
  /** Time of the input being applied (validated finite). */
  ts = 0;
  /** The kernel's last input time before this input (memory horizons are judged against it). */
  prev_last_ts: number | null = null;
  private input: unknown = null;
  private prefix: string | null = null;
  private began = false;
  private rowIndex = 0;
  private touched: SlotRec[] = [];
  private touchedKeys: string[] = [];
  private accountChanged = false;
  private forceAccountRow = false;
  /** Trades begun by late fills in this input (their ids' suffix: fills.ts applyLateFill). */
  lateTrades = 0;

  constructor(st: State) {
    this.st = st;
  }

  /** Resets the per-input scratch. Every apply() starts here. */
  start(input: unknown, ts: number): void {
    this.input = input;
    this.ts = ts;
    this.prev_last_ts = this.st.last_ts;
    this.prefix = null;
    this.began = false;
    this.rowIndex = 0;
    if (this.touched.length > 0) {
      this.touched.length = 0;
      this.touchedKeys.length = 0;
    }
    this.accountChanged = false;
    this.forceAccountRow = false;
    this.lateTrades = 0;
  }

  /** The input will change state: called once, before the first mutation and the first row. */
  begin(): void {
    assert(!this.began, 'begin() twice for one input');
    assert(this.prefix === null, 'rows were built before begin(): their ids would be refused-style');
    this.began = true;
    this.st.seq += 1;
    this.prefix = `${this.st.history_id}:${this.st.seq}`;
    if (this.st.last_ts === null || this.ts > this.st.last_ts) this.st.last_ts = this.ts;
  }

  get mutating(): boolean {
    return this.began;
  }

  rowId(family: RowFamily): string {
    if (this.prefix === null) this.prefix = `${this.st.history_id}:${this.st.seq}~${fnv1a64(safeJson(this.input))}`;
    const id = `${family}:${this.prefix}:${this.rowIndex}`;
    this.rowIndex += 1;
    return id;
  }

  /** `fields` starts with `row_id: this.rowId(family)`, so ids follow the order rows are built. */
  row(family: RowFamily, fields: Record<string, RowValue> & { row_id: string }): RowOut {
    return { family, row: fields };
  }

  /** An outcome of a taxonomy class; above INFO it carries its anomalies row. */
  outcome(fault: FaultClass, symbol: string | undefined, details: OutcomeDetails, commands: VenueCommand[] = [], rows: RowOut[] = []): KernelOutcome {
    if (fault.severity !== 'INFO') {
      const slot = symbol === undefined ? undefined : this.st.slots.get(symbol);
      rows.push(
        anomalyRow({
          row_id: this.rowId('anomalies'),
          ts: this.ts,
          origin: ANOMALY_ORIGIN,
          code: fault.code,
          severity: fault.severity,
          slot_id: slot?.slot_id ?? '',
          symbol: symbol ?? '',
          details: safeJson(details),
        }),
      );
    }
    const out: KernelOutcome = { diagnostic_code: fault.code, severity: fault.severity, details, commands, rows };
    if (symbol !== undefined) out.symbol = symbol;
    return out;
  }

  /** A refusal: asserts nothing was mutated for this input. */
  refuse(fault: FaultClass, symbol: string | undefined, details: OutcomeDetails, rows: RowOut[] = []): KernelOutcome {
    assert(!this.began, `refusing (${fault.code}) after the input began mutating state`);
    return this.outcome(fault, symbol, details, [], rows);
  }

  /** Whether the transition table allows `event` for this slot now. */
  can(slot: SlotRec, event: SlotEvent): boolean {
    return transition(slot.state, event) !== undefined;
  }

  /** THE place a slot changes state. Callers check `can` first; reaching here refused is a bug. */
  move(slot: SlotRec, event: SlotEvent): void {
    const next = transition(slot.state, event);
    assert(next !== undefined, `transition ${slot.state} --${event}--> (none) on ${slot.symbol}`);
    assert(this.began, 'state change outside a mutating input');
    this.touch(slot);
    const waits = waitsForReconcile(slot.state);
    if (waitsForReconcile(next) && !waits) {
      slot.prev_state = slot.state;
      slot.stale_since_ts = this.ts;
    } else if (waits && !waitsForReconcile(next)) {
      slot.prev_state = null;
      slot.stale_since_ts = null;
    } else if (waits && event !== 'SEND_UNKNOWN') {
      // A fact learned while stale: the state the slot left follows it through the same table.
      slot.prev_state = transition(slot.prev_state!, event) ?? slot.prev_state;
    }
    slot.state = next;
  }

  /** Marks a slot whose state, side or qty may change; `finish` writes a positions row if so. */
  touch(slot: SlotRec): void {
    if (this.touched.includes(slot)) return;
    this.touched.push(slot);
    this.touchedKeys.push(positionKey(slot));
  }

  accountMoved(): void {
    this.accountChanged = true;
  }

  /** Reconcile always writes an account row (SPEC 5: "and each reconcile"). */
  accountRowAlways(): void {
    this.forceAccountRow = true;
  }

  /** Appends the positions rows of changed slots and the account row to the first outcome. */
  finish(outcomes: KernelOutcome[]): KernelOutcome[] {
    assert(outcomes.length > 0, 'an input produced no outcome');
    if (!this.began) return outcomes;
    const rows = outcomes[0]!.rows;
    for (let i = 0; i < this.touched.length; i += 1) {
      const slot = this.touched[i]!;
      checkSlotInvariants(this.st, slot);
      if (positionKey(slot) !== this.touchedKeys[i]) rows.push(this.positionRow(slot));
    }
    if (this.accountChanged || this.forceAccountRow) rows.push(this.accountRow());
    return outcomes;
  }

  positionRow(slot: SlotRec): RowOut {
    return this.row('positions', {
      row_id: this.rowId('positions'),
      ts: this.ts,
      slot_id: slot.slot_id,
      symbol: slot.symbol,
      state: slot.state,
      side: slot.side ?? '',
      qty: slot.qty,
      avg_entry_price: slot.avg_entry_price,
      mark_price: slot.mark_price ?? 0,
      unrealized_pnl: unrealizedOf(slot),
      hold_bars: slot.hold_bars,
    });
  }

  accountRow(): RowOut {
    const a = this.st.account;
    return this.row('account', {
      row_id: this.rowId('account'),
      ts: this.ts,
      capital: capitalOf(a),
      realized_pnl: a.realized_pnl_usdt,
      fees: a.fees_usdt,
      equity: equityOf(this.st),
      venue_balance: a.venue_balance_usdt ?? 0,
      drift: a.drift_usdt ?? 0,
    });
  }

  /** Convenience: the taxonomy by code. */
  get F(): typeof FAULT {
    return FAULT;
  }
}

/**
 * The slot invariants, checked for every slot an input touched (a bug if one fails): a position
 * always has a side and an open trade; OPEN/EXIT_WORKING hold one; IDLE/CLOSED hold nothing.
 */
export function checkSlotInvariants(st: State, slot: SlotRec): void {
  const s = slot.symbol;
  assert(slot.qty >= 0 && Number.isFinite(slot.qty), `${s}: qty ${slot.qty}`);
  if (slot.qty > 0) {
    assert(slot.side !== null && slot.trade !== null && slot.trade.status === 'open', `${s}: position ${slot.qty} without an open trade`);
    assert(slot.side === slot.trade.side, `${s}: position side ${slot.side} vs trade side ${slot.trade.side}`);
  }
  const holds = holdsOf(slot.state);
  if (holds === 'position') assert(slot.qty > 0, `${s}: ${slot.state} with qty 0`);
  if (holds === 'nothing') assert(slot.qty === 0 && slot.working === null, `${s}: ${slot.state} with qty ${slot.qty} / working ${slot.working}`);
  if (slot.state === 'CLOSED') assert(slot.trade !== null && slot.trade.status === 'closed', `${s}: CLOSED without a closed trade`);
  if (slot.state === 'ENTRY_WORKING') assert(slot.working !== null, `${s}: ENTRY_WORKING without a working order`);
  if (waitsForReconcile(slot.state)) assert(slot.prev_state !== null && slot.stale_since_ts !== null, `${s}: stale without prev_state`);
  if (slot.working !== null) {
    const o = st.orders.get(slot.working);
    assert(o !== undefined && isLive(o) && o.symbol === s, `${s}: working order ${slot.working} is ${o?.status ?? 'unknown'}`);
  }
}

function positionKey(slot: SlotRec): string {
  return `${slot.state}|${slot.side ?? ''}|${slot.qty}`;
}

export function unrealizedOf(slot: SlotRec): number {
  if (slot.qty <= 0 || slot.mark_price === null || slot.side === null) return 0;
  const dir = slot.side === 'long' ? 1 : -1;
  return (slot.mark_price - slot.avg_entry_price) * slot.qty * dir;
}

export function equityOf(st: State): number {
  let unrealized = 0;
  for (const slot of st.slots.values()) unrealized += unrealizedOf(slot);
  return capitalOf(st.account) + unrealized;
}

/** Quantity at or below dust relative to `reference_qty` counts as zero. */
export function isDust(qty: number, reference_qty: number): boolean {
  return qty <= reference_qty * QTY_DUST_RATIO;
}

/** JSON that never throws (a refused input may be anything, even cyclic). */
export function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'undefined';
  } catch {
    return '"[unserializable]"';
  }
}
