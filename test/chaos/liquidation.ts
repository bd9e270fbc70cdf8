// The liquidation lane of a chaos seed (issue 20). Before the engine starts, one symbol's margin is
// set isolated at high leverage through the venue's own API (as an operator's account could be);
// at the drawn time, on the process lane (so no kill or restart is under way), the mark is moved
// past the liquidation price of the position PINK holds there, and the venue liquidates it. Then
// what an operator does per `pink fault POSITION_LIQUIDATED`: the margin put back (cross, the
// default leverage: later trades of the seed are not liquidated by the price jumps), and, once
// status shows the symbol REDUCING by the liquidation, `pink resume SYMBOL`.
import { DEFAULT_LEVERAGE } from '../../src/sim/account.js';
import type { SimGroundTruth } from '../../src/sim/index.js';
import type { LiquidationEvent } from './schedule.js';
import type { Check } from './verify.js';
import type { ChaosWorld } from './world.js';

/** How long the event waits for PINK to hold a position on the symbol (a demo trade opens every ~2 s). */
const POSITION_WAIT_MS_MAX = 4000;
/** The mark is moved past the liquidation price at most this often (each move is a price jump). */
const PRICE_MOVES_MAX = 3;
/** The mark is set this far past the liquidation price (a share of it). */
const PAST_LIQUIDATION = 0.002;
/** The engine must show the symbol REDUCING by POSITION_LIQUIDATED within this (venue faults may delay its reads). */
const SEEN_MS_MAX = 30_000;
/** Status is asked this often while waiting (each ask is a pink process). */
const SEEN_POLL_MS = 500;
/** A margin change goes through the venue faults (rate limits, lost answers, latency): tried again for this long. */
const MARGIN_MS_MAX = 20_000;

export interface LiquidationTally {
  faults: number;
  checks: Check[];
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** BTC-USDT → BTC/USDT:USDT (ccxt's linear swap symbol). */
const ccxtSymbol = (symbol: string): string => `${symbol.replace('-', '/')}:USDT`;

/** The venue's liquidation fills: its own closing orders, no client order id, marked with the liquidation price. */
export function liquidationFills(truth: SimGroundTruth, symbols: string[]): SimGroundTruth['fills'] {
  return truth.fills.filter((f) => f.liquidated_price !== undefined && symbols.includes(f.symbol));
}

/**
 * Sets the symbol's margin mode and leverage through the venue's API (ccxt, as an operator's
 * script would), trying again through the venue's faults until MARGIN_MS_MAX. Returns the last
 * error, or null when both calls were answered. Both are idempotent, so an answer lost after
 * the venue acted is simply asked again.
 */
export async function setMargin(w: ChaosWorld, symbol: string, mode: 'isolated' | 'cross', leverage: number): Promise<string | null> {
  const { ccxtClient } = await import('../sim/support.js');
  const ex = ccxtClient(w.sim.url);
  const deadline = Date.now() + MARGIN_MS_MAX;
  let last = 'not tried';
  let loaded = false;
  while (Date.now() < deadline) {
    try {
      // ccxt hands a failed loadMarkets() promise back to every later call: asked again with reload.
      if (!loaded) await ex.loadMarkets(last !== 'not tried');
      loaded = true;
      await ex.setMarginMode(mode, ccxtSymbol(symbol));
      await ex.setLeverage(leverage, ccxtSymbol(symbol), { side: 'BOTH' });
      return null;
    } catch (err) {
      last = err instanceof Error ? `${err.constructor.name}: ${err.message.slice(0, 200)}` : String(err);
      await sleep(250);
    }
  }
  return last;
}

/** Before the engine starts: the event's symbol isolated at its leverage. */
export async function isolate(w: ChaosWorld, ev: LiquidationEvent, trace: (l: string) => void): Promise<void> {
  const err = await setMargin(w, ev.symbol, 'isolated', ev.leverage);
  if (err !== null) throw new Error(`could not set ${ev.symbol} isolated at ${ev.leverage}x: ${err}`);
  trace(`liquidation lane: ${ev.symbol} isolated at ${ev.leverage}x`);
}

type StatusSlot = { symbol: string; state?: string; qty?: number; trading_state?: string; trading_state_reason?: string };

async function slotStatus(w: ChaosWorld, symbol: string): Promise<StatusSlot | undefined> {
  const r = await w.pink(['ditav2-status', '--json']);
  try {
    return (JSON.parse(r.stdout) as { slots?: StatusSlot[] }).slots?.find((s) => s.symbol === symbol);
  } catch {
    return undefined;
  }
}

/**
 * The engine has settled the liquidation when its slot is flat and the symbol REDUCING. The reason
 * is POSITION_LIQUIDATED, or the breaker that got there first: exits sent between the liquidation
 * and the engine seeing it are refused (reduce-only, nothing to reduce), and DOLPHIN_PINK_MAX_REJECTS
 * of them set the symbol REDUCING by BREAKER_REJECTS; the liquidation then leaves that reason.
 */
const settled = (s: StatusSlot | undefined): boolean => s?.trading_state === 'REDUCING' && s.qty === 0 && (s.state === 'CLOSED' || s.state === 'IDLE');

/** The operator's answer to POSITION_LIQUIDATED: once status shows it, `pink resume SYMBOL`. */
async function resumeAfter(w: ChaosWorld, symbol: string, t: LiquidationTally, trace: (l: string) => void): Promise<void> {
  const deadline = Date.now() + SEEN_MS_MAX;
  let slot = await slotStatus(w, symbol);
  while (!settled(slot)) {
    if (Date.now() >= deadline) {
      t.checks.push({ name: 'the engine settled the liquidation (slot flat, symbol REDUCING)', ok: false, detail: `${symbol} ${slot?.state ?? '?'} ${slot?.qty ?? '?'}, ${slot?.trading_state ?? '?'} (${slot?.trading_state_reason ?? 'no status'}) ${SEEN_MS_MAX / 1000} s after the venue liquidated it` });
      throw new Error(`the engine did not show ${symbol} REDUCING by its liquidation`);
    }
    await sleep(SEEN_POLL_MS);
    slot = await slotStatus(w, symbol);
  }
  const r = await w.pink(['resume', symbol, '--json']);
  let after: StatusSlot | undefined;
  try {
    after = (JSON.parse(r.stdout) as { slots?: StatusSlot[] }).slots?.find((s) => s.symbol === symbol);
  } catch {
    /* judged below */
  }
  const ok = r.code === 0 && after?.trading_state === 'ACTIVE';
  trace(`liquidation lane: ${symbol} ${slot?.state} REDUCING (${slot?.trading_state_reason}); pink resume ${symbol}: exit ${r.code}, ${after?.trading_state ?? '?'}`);
  t.checks.push({
    name: 'pink resume after a liquidation',
    ok,
    detail: `${symbol} was REDUCING (${slot?.trading_state_reason}); pink resume exited ${r.code}, ${symbol} ${after?.trading_state ?? '?'}${ok ? '' : `: ${r.stderr.trim().split('\n').slice(-2).join(' ')}`}`,
  });
  if (!ok) throw new Error(`pink resume ${symbol} failed after a liquidation`);
}

/**
 * At the drawn time: waits (bounded) for a position on the symbol, moves the mark past its
 * liquidation price (read from the venue's ground truth), puts the margin back, and resumes every
 * symbol the venue has liquidated so far (a price jump may have liquidated the isolated position
 * before the event). No position in time: the event found nothing to liquidate, not a failure.
 */
export async function liquidationEvent(w: ChaosWorld, ev: LiquidationEvent, symbols: string[], t: LiquidationTally, trace: (l: string) => void): Promise<void> {
  t.faults += 1;
  const before = liquidationFills(w.sim.state(), symbols).length;
  const held = (): SimGroundTruth['positions'][number] | undefined => w.sim.state().positions.find((p) => p.symbol === ev.symbol && p.liquidation_price > 0);
  const deadline = Date.now() + POSITION_WAIT_MS_MAX;
  let what = `nothing to liquidate: PINK held no position on ${ev.symbol} for ${POSITION_WAIT_MS_MAX / 1000} s`;
  // The position is read, then the mark set over HTTP: PINK's requests served between the two, or
  // its working order matching at the new mark before the venue checks liquidations (an entry
  // filling in parts grows the position at a worse price, so its liquidation price moves past the
  // mark), may change it. Nothing liquidated: read and set again.
  for (let moves = 0; moves < PRICE_MOVES_MAX && Date.now() < deadline; ) {
    const pos = held();
    if (pos === undefined) {
      await sleep(50);
      continue;
    }
    moves += 1;
    const price = pos.liquidation_price * (pos.qty > 0 ? 1 - PAST_LIQUIDATION : 1 + PAST_LIQUIDATION);
    await w.admin('/__sim/price', { symbol: ev.symbol, price });
    const made = liquidationFills(w.sim.state(), symbols).slice(before);
    if (made.length > 0) {
      what = `${ev.symbol} ${pos.qty} (${ev.leverage}x isolated, entry ${pos.entry_price}, liquidation price ${pos.liquidation_price}) liquidated${moves > 1 ? ` at the mark's move ${moves}` : ''}: ${made.map((f) => `${f.side} ${f.qty} @ ${f.price}`).join(', ')}`;
      break;
    }
    what = `${ev.symbol}: the mark moved past the liquidation price ${moves} time(s), and the position changed each time before the venue liquidated it`;
  }
  trace(`liquidation lane: ${what}`);
  t.checks.push({ name: 'liquidation event', ok: true, detail: what });
  const err = await setMargin(w, ev.symbol, 'cross', DEFAULT_LEVERAGE);
  if (err !== null) {
    t.checks.push({ name: 'margin back to cross after the liquidation', ok: false, detail: `${ev.symbol}: ${err}` });
    throw new Error(`could not put ${ev.symbol}'s margin back`);
  }
  for (const symbol of new Set(liquidationFills(w.sim.state(), symbols).map((f) => f.symbol))) await resumeAfter(w, symbol, t, trace);
}
