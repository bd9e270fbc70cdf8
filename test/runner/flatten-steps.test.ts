// Issue 23, place 5: `pink flatten`'s one plan (runner/flatten-steps.ts), a pure function of
// PINK's books and the venue's positions. What --dry-run prints is what the real run executes
// (test/e2e/flatten.test.ts checks that end to end on one case; these check it on every case),
// and the operator's texts stay as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { KernelView, SlotView, VenuePosition } from '../../src/engine/kernel/types.js';
import { agrees, cancelsOf, planFlatten, planResult, settlePlan } from '../../src/engine/runner/flatten-steps.js';

const SYMBOLS = ['BTC-USDT', 'ETH-USDT'];

function slot(symbol: string, side: 'long' | 'short' | null, qty: number, working: string | null): SlotView {
  return {
    symbol, slot_id: `slot-${symbol}`, state: qty > 0 ? 'OPEN' : 'IDLE', prev_state: null, side, qty, avg_entry_price: qty > 0 ? 100 : 0, mark_price: 100,
    unrealized_pnl: 0, realized_pnl: 0, legs: 0, hold_bars: 0, trade_id: null, stale_since_ts: null, trading_state: 'ACTIVE', trading_state_reason: '', trading_state_since: null,
    working_order: working === null ? null : { client_order_id: working, venue_order_id: null, side: side === 'short' ? 'buy' : 'sell', qty, filled_qty: 0, reduce_only: true, purpose: 'exit', cancel_requested: false },
  };
}

/** planFlatten reads only the slots of the view. */
const viewOf = (slots: SlotView[]): KernelView => ({ slots }) as unknown as KernelView;

const position = (s: SlotView): VenuePosition[] => (s.qty > 0 && s.side !== null ? [{ symbol: s.symbol, side: s.side, qty: s.qty, entry_price: s.avg_entry_price }] : []);

const arbSlot = (symbol: string): fc.Arbitrary<SlotView> =>
  fc.record({ side: fc.constantFrom<'long' | 'short'>('long', 'short'), qty: fc.oneof(fc.constant(0), fc.double({ min: 0.001, max: 1000, noNaN: true })), working: fc.option(fc.stringMatching(/^pink-[a-z0-9]{6}$/)) })
    .map(({ side, qty, working }) => slot(symbol, qty > 0 ? side : null, qty, working));
const arbBooks = fc.tuple(arbSlot(SYMBOLS[0]!), arbSlot(SYMBOLS[1]!));

test('the texts the operator reads: cancel, exit, reconcile (engine up) and the checkpoint-only exit (engine down)', () => {
  const view = viewOf([slot('BTC-USDT', 'long', 0.01, 'pink-abc123'), slot('ETH-USDT', 'short', 0.2, null)]);
  const [btc, eth] = planFlatten(view, SYMBOLS, [...position(view.slots[0]!), { symbol: 'ETH-USDT', side: 'short', qty: 0.6, entry_price: 3000 }]);
  assert.deepEqual(btc!.steps, [
    { action: 'cancel', detail: 'cancel pink-abc123' },
    { action: 'exit', detail: 'reduce-only market sell 0.01 (the whole remainder)' },
  ]);
  assert.deepEqual(eth!.steps, [
    { action: 'reconcile', detail: "reconcile ETH-USDT first (the venue holds short 0.6, PINK's books short 0.2); a position that is not PINK's gets no exit (exit 2): `pink flatten ETH-USDT --venue-position` closes it" },
    { action: 'exit', detail: "reduce-only market buy 0.2 (the whole remainder), if the reconcile finds it PINK's" },
  ]);
  const [unread] = planFlatten(view, ['BTC-USDT'], null);
  assert.equal(unread!.steps[1]!.detail, "reconcile BTC-USDT first (the venue's positions could not be read now); a position that is not PINK's gets no exit (exit 2): `pink flatten BTC-USDT --venue-position` closes it");
  const [down] = planFlatten(view, ['ETH-USDT'], 'not_read');
  assert.deepEqual(down!.steps, [{ action: 'exit', detail: 'reduce-only market buy 0.2 (the whole remainder, as of the last checkpoint and the journal after it; the real run reconciles with the venue first)' }]);
  // No books at all (engine down, no checkpoint yet): nothing to do.
  assert.deepEqual(planFlatten(undefined, SYMBOLS, 'not_read').map((p) => [p.steps, p.flat, p.already_flat]), [[[], true, true], [[], true, true]]);
});

test('the venue agreeing: the real run executes exactly the plan the dry run printed (cancel, then the exit of the whole remainder)', () => {
  fc.assert(
    fc.property(arbBooks, (books) => {
      const view = viewOf(books);
      const dry = planFlatten(view, SYMBOLS, books.flatMap(position));
      for (const [i, p] of dry.entries()) {
        const s = books[i]!;
        assert.equal(p.reconcile, null);
        assert.deepEqual(p.steps.map((x) => x.action), [...(s.working_order ? ['cancel'] : []), ...(s.qty > 0 ? ['exit'] : [])]);
        assert.deepEqual(p.exit, s.qty > 0 ? { side: s.side === 'long' ? 'sell' : 'buy', qty: s.qty } : null);
        assert.equal(p.flat, s.qty === 0);
        assert.equal(p.already_flat, p.steps.length === 0);
        // The real run: the cancels go out first (its view then no longer shows the orders), no
        // reconcile is needed, so the books it sizes the exit by are the dry run's.
        const after = books.map((b) => ({ ...b, working_order: null }));
        const real = settlePlan(planFlatten(viewOf(after), SYMBOLS, books.flatMap(position), cancelsOf(view, SYMBOLS))[i]!, after[i], false);
        assert.deepEqual(planResult(real, false).plan, planResult(p, true).plan);
      }
    }),
  );
});

test('the venue disagreeing (or unread): reconcile between the cancel and the exit; a mismatch then sends no exit', () => {
  fc.assert(
    fc.property(arbBooks, fc.double({ min: 0.001, max: 1000, noNaN: true }), fc.boolean(), (books, venue_qty, unread) => {
      const venue: VenuePosition[] | null = unread ? null : [{ symbol: SYMBOLS[0]!, side: 'long', qty: venue_qty, entry_price: 1 }];
      const [p] = planFlatten(viewOf(books), SYMBOLS, venue);
      const s = books[0]!;
      if (venue !== null && agrees(s, venue)) return; // the rare draw where they happen to agree
      assert.deepEqual(p!.steps.map((x) => x.action), [...(s.working_order ? ['cancel'] : []), 'reconcile', ...(s.qty > 0 ? ['exit'] : [])]);
      assert.equal(p!.already_flat, false);
      const refused = settlePlan(p!, s, true);
      assert.equal(refused.exit, null);
      assert.equal(refused.flat, false);
      assert.deepEqual(refused.steps, p!.steps.filter((x) => x.action === 'cancel'));
      // A reconcile that found the position PINK's (here: it applied a missed fill that closed it).
      const closed = settlePlan(p!, { ...s, qty: 0, side: null }, false);
      assert.deepEqual(closed.steps.map((x) => x.action), s.working_order ? ['cancel'] : []);
    }),
  );
});

test('engine down (venue not read): never a reconcile step; flat when the books hold nothing to exit', () => {
  fc.assert(
    fc.property(arbBooks, (books) => {
      for (const p of planFlatten(viewOf(books), SYMBOLS, 'not_read')) {
        assert.equal(p.reconcile, null);
        assert.equal(p.flat, p.exit === null);
        assert.equal(p.already_flat, p.steps.length === 0);
      }
    }),
  );
});

test('`flat` in a plan: no position in PINK\'s books, and none at the venue when it was read; engine up and down agree', () => {
  fc.assert(
    fc.property(arbBooks, fc.boolean(), (books, venueDisagrees) => {
      const view = viewOf(books);
      const venue = books.flatMap(position).concat(venueDisagrees ? [{ symbol: SYMBOLS[0]!, side: 'long', qty: 7, entry_price: 100 }] : []);
      const up = planFlatten(view, SYMBOLS, venue);
      const down = planFlatten(view, SYMBOLS, 'not_read');
      for (const [i, s] of books.entries()) {
        // A working order alone is flat: the cancel is all there is to do (engine down said false).
        assert.equal(down[i]!.flat, s.qty === 0, `engine down, ${s.symbol} qty ${s.qty} working ${s.working_order?.client_order_id ?? 'none'}`);
        const venueHolds = i === 0 && venueDisagrees;
        assert.equal(up[i]!.flat, s.qty === 0 && !venueHolds, `engine up, ${s.symbol} qty ${s.qty}, venue disagrees ${venueHolds}`);
      }
    }),
  );
});
