// The kernel's state in the operator's words, for `pink ditav2-status` and the runner. A fresh
// copy every call: nothing a caller does to it reaches the kernel.
import { equityOf, unrealizedOf } from './core.js';
import { capitalOf, isLive, settingsOf, type SlotRec, type State } from './state.js';
import { effectiveTrading } from './trading.js';
import type { KernelView, SlotView, WorkingOrderView } from './types.js';

function workingView(st: State, slot: SlotRec): WorkingOrderView | null {
  const o = slot.working === null ? undefined : st.orders.get(slot.working);
  if (o === undefined || !isLive(o)) return null;
  return {
    client_order_id: o.client_order_id,
    venue_order_id: o.venue_order_id === '' ? null : o.venue_order_id,
    side: o.side,
    qty: o.qty,
    filled_qty: o.filled_qty,
    reduce_only: o.reduce_only,
    purpose: o.purpose,
    cancel_requested: o.cancel_requested,
  };
}

function slotView(st: State, slot: SlotRec): SlotView {
  const t = slot.trade;
  const tr = effectiveTrading(st, slot.symbol);
  return {
    symbol: slot.symbol,
    slot_id: slot.slot_id,
    state: slot.state,
    prev_state: slot.prev_state,
    // While the entry works with nothing filled yet, the side is the trade's.
    side: slot.side ?? (t !== null && t.status === 'pending' && slot.working !== null ? t.side : null),
    qty: slot.qty,
    avg_entry_price: slot.avg_entry_price,
    mark_price: slot.mark_price,
    unrealized_pnl: unrealizedOf(slot),
    realized_pnl: t?.realized_pnl_usdt ?? 0,
    legs: t?.legs ?? 0,
    hold_bars: slot.hold_bars,
    trade_id: t?.trade_id ?? null,
    working_order: workingView(st, slot),
    stale_since_ts: slot.stale_since_ts,
    trading_state: tr.state,
    trading_state_reason: tr.reason,
    trading_state_since: tr.since_ts,
  };
}

export function viewOf(st: State): KernelView {
  const a = st.account;
  const rl = st.rate_limit;
  return {
    history_id: st.history_id,
    settings: settingsOf(st.config),
    memory: { orders: st.orders.size, orders_max: st.config.orders_remembered_max, fill_ids: st.fill_ids.size, fill_ids_max: st.config.fill_ids_max },
    slots: [...st.slots.values()].map((s) => slotView(st, s)),
    account: {
      initial_capital: a.initial_capital_usdt,
      capital: capitalOf(a),
      realized_pnl: a.realized_pnl_usdt,
      fees: a.fees_usdt,
      funding: a.funding_usdt,
      equity: equityOf(st),
      venue_balance: a.venue_balance_usdt,
      drift: a.drift_usdt,
      drift_accepted: a.drift_accepted_usdt,
    },
    rateLimit: { cooling_until_ts: rl.cooling_until_ts, consecutive: rl.consecutive, first_ts: rl.first_ts, persistent: rl.persistent },
    trading_state: st.trading.engine.state,
    trading_state_reason: st.trading.engine.reason,
    trading_state_since: st.trading.engine.since_ts,
    equity_peak: st.trading.equity_peak,
    seq: st.seq,
    last_ts: st.last_ts,
  };
}
