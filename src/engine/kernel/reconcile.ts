// SPEC 3.6, reconcile as data: pure functions from the kernel's book and the venue's snapshot to
// corrections. The kernel applies them (reconcile-apply.ts) like any other facts. Two phases,
// because what the positions mean depends on the fills: phase 1 finds the venue's fills PINK has
// not applied (idempotent by fill id); the kernel applies them; phase 2 then compares positions
// and open orders and finds what else differs. Neither reads a clock or mutates anything.
import { afterTradePlan, fillRefusal } from './fills.js';
import { isPinkClientOrderId, ownClientOrderId } from './ids.js';
import { isLive, QTY_DUST_RATIO, type OrderRec, type SlotRec } from './state.js';
import type { Correction, PositionSide, Symbol, VenueFill, VenueOrder, VenueSnapshot } from './types.js';

export interface ReconcileBook {
  readonly history_id: string;
  readonly slots: ReadonlyMap<Symbol, SlotRec>;
  readonly orders: ReadonlyMap<string, OrderRec>;
}

/** Whether a venue fill was applied already (or is older than the memory can vouch for). */
export type FillSeen = (fill: VenueFill) => boolean;

/** Reason recorded on the synthetic leg of a slot the venue shows flat with no fill to explain it. */
export const RECONCILE_FLAT_REASON = 'reconcile_flat';
/** Reason of the exit leg and trade closed by the venue's liquidation (issue 20; SPEC 5's exit_reason). */
export const LIQUIDATION_REASON = 'liquidation';

const inScope = (scope: ReadonlySet<Symbol> | null, symbol: Symbol): boolean => scope === null || scope.has(symbol);

/** Phase 1: the snapshot's fills of remembered PINK orders not applied yet, oldest first. */
export function planInferredFills(book: ReconcileBook, snapshot: VenueSnapshot, scope: ReadonlySet<Symbol> | null, seen: FillSeen): Correction[] {
  const out: Correction[] = [];
  const planned = new Set<string>();
  for (const fill of snapshot.fills) {
    if (!inScope(scope, fill.symbol) || planned.has(fill.fill_id)) continue;
    const order = book.orders.get(fill.client_order_id);
    if (order === undefined || seen(fill)) continue;
    const slot = book.slots.get(order.symbol);
    // A fill after its trade (fills.ts) is planned too, unless it cannot be netted as the venue would.
    if (slot === undefined || (fillRefusal(slot, order) !== null && afterTradePlan(slot, order) === null)) continue;
    planned.add(fill.fill_id);
    out.push({ kind: 'inferred_fill', symbol: order.symbol, detail: `fill ${fill.fill_id} of ${fill.client_order_id}: ${fill.side} ${fill.qty} @ ${fill.price} (missed, applied now)`, fill });
  }
  return out;
}

function sameQty(a: number, b: number): boolean {
  return Math.abs(a - b) <= Math.max(a, b) * QTY_DUST_RATIO;
}

/** Phase 2: orders, positions. `adopt`: orphan positions become slots rather than flags. */
export function planReconcile(book: ReconcileBook, snapshot: VenueSnapshot, scope: ReadonlySet<Symbol> | null, adopt: boolean, seen: FillSeen = () => false): Correction[] {
  const out: Correction[] = [];
  const venueOrders = new Map<string, VenueOrder>();
  for (const o of snapshot.open_orders) if (o.client_order_id !== '') venueOrders.set(o.client_order_id, o);
  const symbols: Symbol[] = [];
  const add = (s: Symbol): void => {
    if (inScope(scope, s) && !symbols.includes(s)) symbols.push(s);
  };
  for (const s of book.slots.keys()) add(s);
  for (const p of snapshot.positions) add(p.symbol);
  for (const o of snapshot.open_orders) add(o.symbol);

  for (const symbol of symbols) {
    const slot = book.slots.get(symbol);
    // Our live order: still on the venue, or gone.
    let liveEntryStays = false;
    const working = slot === undefined || slot.working === null ? undefined : book.orders.get(slot.working);
    if (working !== undefined && isLive(working)) {
      const v = venueOrders.get(working.client_order_id);
      if (v !== undefined) {
        if (working.purpose === 'entry') liveEntryStays = true;
        out.push({ kind: 'still_working', symbol, detail: `${working.client_order_id} (${working.purpose} ${working.side} ${working.qty}) still working on the venue, ${v.filled_qty} filled`, client_order_id: working.client_order_id });
      } else {
        out.push({ kind: 'order_gone', symbol, detail: `${working.client_order_id} (${working.purpose} ${working.side} ${working.qty}, ${working.filled_qty} filled) is not on the venue: marked canceled`, client_order_id: working.client_order_id });
      }
    }
    for (const v of snapshot.open_orders) {
      if (v.symbol !== symbol || (working !== undefined && v.client_order_id === working.client_order_id && isLive(working))) continue;
      const whose = ownClientOrderId(book.history_id, v.client_order_id)
        ? 'an order of this PINK history it no longer tracks'
        : isPinkClientOrderId(v.client_order_id)
          ? 'a pink- order of another PINK history'
          : 'not PINK\'s';
      out.push({ kind: 'foreign_order', symbol, detail: `${v.client_order_id || v.venue_order_id} ${v.side} ${v.qty}${v.price ? ` @ ${v.price}` : ''}: ${whose}, left alone`, client_order_id: v.client_order_id });
    }
    out.push(...planPosition(symbol, slot, snapshot, liveEntryStays, adopt, seen));
  }
  return out;
}

/** A liquidation the venue made, as one exit: its closing order's fills summed (it may fill in chunks). */
interface LiquidationFacts {
  /** The latest fill's id, time and liquidation price. */
  fill_id: string;
  ts: number;
  liquidation_price: number;
  /** Every fill of the liquidation order not applied before, once each (a fill row reported twice counts once). */
  fill_ids: string[];
  /** Their average price and total fee. */
  price: number;
  fee: number;
}

/**
 * The venue's liquidation that closed the slot's position: the latest fill on the symbol the
 * venue marks with a liquidation price, on the closing side, not before the trade's entry and not
 * applied before, with every other such fill of the same venue order (a liquidation filled in
 * chunks is one exit: its fees all paid). undefined: the venue shows none.
 */
function liquidationFill(symbol: Symbol, slot: SlotRec, snapshot: VenueSnapshot, seen: FillSeen): LiquidationFacts | undefined {
  const closing = slot.side === 'short' ? 'buy' : 'sell';
  const entry_ts = slot.trade?.entry_ts ?? 0;
  const ofTrade = (f: VenueFill): boolean => f.symbol === symbol && f.liquidation_price !== undefined && f.side === closing && f.ts >= entry_ts && !seen(f);
  let found: VenueFill | undefined;
  for (const f of snapshot.fills) {
    if (ofTrade(f) && (found === undefined || f.ts > found.ts)) found = f;
  }
  if (found === undefined) return undefined;
  const chunks = new Map<string, VenueFill>();
  for (const f of snapshot.fills) if (ofTrade(f) && f.venue_order_id === found.venue_order_id) chunks.set(f.fill_id, f);
  chunks.set(found.fill_id, found);
  let qty = 0;
  let notional = 0;
  let fee = 0;
  for (const f of chunks.values()) {
    qty += f.qty;
    notional += f.qty * f.price;
    fee += f.fee;
  }
  const price = chunks.size === 1 || qty <= 0 ? found.price : notional / qty;
  return { fill_id: found.fill_id, ts: found.ts, liquidation_price: found.liquidation_price!, fill_ids: [...chunks.keys()], price, fee };
}

function planPosition(symbol: Symbol, slot: SlotRec | undefined, snapshot: VenueSnapshot, liveEntryStays: boolean, adopt: boolean, seen: FillSeen): Correction[] {
  const venue = snapshot.positions.filter((p) => p.symbol === symbol);
  const kernel_qty = slot?.qty ?? 0;
  const kernel_side = slot?.side ?? null;
  const mark = snapshot.marks[symbol] ?? venue[0]?.mark_price ?? slot?.mark_price ?? null;
  if (venue.length > 1) {
    return [{ kind: 'position_mismatch', symbol, detail: `venue holds ${venue.length} positions on ${symbol} (hedge mode?); PINK holds ${kernel_side ?? 'flat'} ${kernel_qty}`, venue_qty: venue[0]!.qty, venue_side: venue[0]!.side }];
  }
  const v = venue[0];
  if (v === undefined) {
    if (kernel_qty <= 0) return [];
    const liq = liquidationFill(symbol, slot!, snapshot, seen);
    if (liq !== undefined) {
      return [{
        kind: 'closed', symbol, price: liq.price, reason: LIQUIDATION_REASON,
        detail: `the venue liquidated ${kernel_side} ${kernel_qty} at ${liq.price} (liquidation price ${liq.liquidation_price}, fill ${liq.fill_id}${liq.fill_ids.length > 1 ? ` and ${liq.fill_ids.length - 1} more of its order` : ''}, fee ${liq.fee})`,
        liquidation: { fill_id: liq.fill_id, fill_ids: liq.fill_ids, fee: liq.fee, ts: liq.ts, liquidation_price: liq.liquidation_price },
      }];
    }
    const price = mark ?? slot!.avg_entry_price;
    return [{ kind: 'closed', symbol, detail: `venue is flat: closed ${kernel_side} ${kernel_qty} at ${price} (${RECONCILE_FLAT_REASON})`, price, reason: RECONCILE_FLAT_REASON }];
  }
  if (kernel_qty > 0) {
    if (v.side === kernel_side && sameQty(v.qty, kernel_qty)) return [];
    return [{ kind: 'position_mismatch', symbol, detail: `venue holds ${v.side} ${v.qty}, PINK holds ${kernel_side} ${kernel_qty}`, venue_qty: v.qty, venue_side: v.side }];
  }
  if (liveEntryStays) {
    return [{ kind: 'position_mismatch', symbol, detail: `venue holds ${v.side} ${v.qty} while PINK's entry order still works with no fill seen`, venue_qty: v.qty, venue_side: v.side }];
  }
  if (adopt) {
    // An entry price of 0 is the venue not saying: PINK's PnL on the position starts at the mark
    // (booking from 0 would count the whole notional as profit); with no mark either, it is flagged.
    if (v.entry_price > 0) return [{ kind: 'adopted', symbol, detail: `adopted the venue's ${v.side} ${v.qty} @ ${v.entry_price}`, position: v, entry_price: v.entry_price, mark_price: mark }];
    if (mark !== null) return [{ kind: 'adopted', symbol, detail: `adopted the venue's ${v.side} ${v.qty} at the mark ${mark} (the venue gave no entry price)`, position: v, entry_price: mark, mark_price: mark }];
    return [{ kind: 'orphan_flagged', symbol, detail: `venue holds ${v.side} ${v.qty} with no entry price and no mark: not adopted`, position: v }];
  }
  return [{ kind: 'orphan_flagged', symbol, detail: `venue holds ${v.side} ${v.qty} @ ${v.entry_price} that PINK does not know; not adopted`, position: v }];
}

/** The drift line of a reconcile report, when the balance is known and off by more than the tolerance. */
export function driftDetail(balance_usdt: number, capital_usdt: number, tolerance_usdt: number, accepted_usdt = 0): string | null {
  const drift = balance_usdt - capital_usdt;
  if (Math.abs(drift - accepted_usdt) <= tolerance_usdt) return null;
  // Without an accepted drift the text is the one older journals' digests were taken over.
  if (accepted_usdt === 0) return `venue balance ${balance_usdt} vs capital ${capital_usdt}: drift ${drift} USDT (tolerance ${tolerance_usdt}); reported, not applied`;
  return `venue balance ${balance_usdt} vs capital ${capital_usdt}: drift ${drift} USDT, of which ${accepted_usdt} accepted by an operator and ${drift - accepted_usdt} not (tolerance ${tolerance_usdt}); reported, not applied`;
}
