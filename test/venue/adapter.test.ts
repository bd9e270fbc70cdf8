// The adapter against the simulator over real HTTP with real ccxt: trading flows, poll's
// constant call count, snapshot, lookup, startup errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitError } from '../../src/errors.js';
import { openVenue } from '../../src/engine/venue/index.js';
import { events, fillsOf, place, pollUntil, rig, TEST_KEY } from './harness.js';

const SYMBOLS = ['BTC-USDT', 'ETH-USDT'];

test('entry, partial exit and final exit (reduce-only); an oversell is REJECTED with the venue reason', async () => {
  const r = await rig();
  try {
    const entry = place('BTC-USDT', 'buy', 0.01);
    const sent = await r.venue.send([entry], Date.now());
    assert.equal(sent.length, 1);
    const acc = events(sent)[0]!;
    assert.equal(acc.kind, 'ACCEPTED');
    assert.equal(acc.event_id, `accepted:${entry.client_order_id}`);
    assert.ok(acc.venue_order_id);
    assert.equal(acc.qty, 0.01);
    assert.equal(fillsOf(sent, entry.client_order_id).length, 0, 'fills come from poll only');

    const polled = await pollUntil(r.venue, SYMBOLS, (all) => fillsOf(all, entry.client_order_id).length > 0);
    assert.equal(polled[0]!.type, 'TICK');
    assert.deepEqual(Object.keys((polled[0] as { marks: Record<string, number> }).marks).sort(), SYMBOLS);
    assert.ok(polled.some((i) => i.type === 'VENUE_OK'));
    const entryFills = fillsOf(polled, entry.client_order_id);
    assert.equal(entryFills.reduce((s, f) => s + (f.qty ?? 0), 0), 0.01);
    for (const f of entryFills) {
      assert.equal(f.event_id, `fill:${f.fill_id}`);
      assert.ok((f.price ?? 0) > 0 && (f.fee ?? 0) > 0, 'taker fee paid is positive');
    }

    const partial = place('BTC-USDT', 'sell', 0.004, { reduce_only: true });
    const final = place('BTC-USDT', 'sell', 0.006, { reduce_only: true });
    const exits = await r.venue.send([partial, final], Date.now());
    assert.deepEqual(events(exits).map((e) => e.kind), ['ACCEPTED', 'ACCEPTED']);
    const exitPolls = await pollUntil(r.venue, SYMBOLS, (all) => fillsOf(all, final.client_order_id).length > 0);
    assert.equal(fillsOf(exitPolls, partial.client_order_id).reduce((s, f) => s + (f.qty ?? 0), 0), 0.004);
    assert.equal(fillsOf(exitPolls, entry.client_order_id).length, 0, 'no fill reported twice');

    const truth = r.state();
    assert.equal(truth.positions.length, 0, 'flat at the venue');
    const byCoid = new Map([...truth.closed_orders, ...truth.open_orders].map((o) => [o.client_order_id, o]));
    assert.equal(byCoid.get(partial.client_order_id)?.reduce_only, true);
    assert.equal(byCoid.get(final.client_order_id)?.reduce_only, true);
    assert.equal(byCoid.get(entry.client_order_id)?.reduce_only, false);

    // A size finer than the lot step: ccxt truncates it, ACCEPTED says what the venue holds;
    // a size that truncates to nothing is refused before sending.
    const odd = place('BTC-USDT', 'buy', 0.012345);
    assert.equal(events(await r.venue.send([odd], Date.now()))[0]?.qty, 0.0123);
    const close = place('BTC-USDT', 'sell', 0.0123, { reduce_only: true });
    await r.venue.send([close], Date.now());
    const dust = place('BTC-USDT', 'buy', 0.00001);
    assert.equal(events(await r.venue.send([dust], Date.now()))[0]?.kind, 'REJECTED');
    assert.equal(r.state().client_order_ids[dust.client_order_id], undefined, 'never sent');

    const oversell = place('BTC-USDT', 'sell', 0.01, { reduce_only: true });
    const refused = events(await r.venue.send([oversell], Date.now()));
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.kind, 'REJECTED');
    assert.equal(refused[0]!.event_id, `rejected:${oversell.client_order_id}`);
    assert.match(refused[0]!.reason ?? '', /Reduce Only/);
    assert.equal(r.state().positions.length, 0, 'still flat: nothing opened short');
  } finally {
    await r.close();
  }
});

test('limit order: cancel → CANCELED; cancel again (80018) → the same CANCELED, read back; canceled elsewhere → poll reports CANCELED', async () => {
  const r = await rig();
  try {
    const a = place('ETH-USDT', 'buy', 0.1, { order_type: 'limit', price: 2000 });
    const b = place('ETH-USDT', 'buy', 0.1, { order_type: 'limit', price: 1900 });
    assert.deepEqual(events(await r.venue.send([a, b], Date.now())).map((e) => e.kind), ['ACCEPTED', 'ACCEPTED']);
    const snap = await r.venue.snapshot(SYMBOLS, Date.now() - 60_000, Date.now());
    const open = snap.open_orders.find((o) => o.client_order_id === a.client_order_id);
    assert.deepEqual([open?.order_type, open?.price, open?.qty, open?.reduce_only], ['limit', 2000, 0.1, false]);

    const canceled = events(await r.venue.send([{ kind: 'CANCEL', client_order_id: a.client_order_id, symbol: 'ETH-USDT' }], Date.now()));
    assert.deepEqual(canceled.map((e) => [e.kind, e.event_id]), [['CANCELED', `canceled:${a.client_order_id}`]]);
    // BingX answers 80018 "already filled or cancelled": the adapter reads the order back and
    // reports what is true, with the same event id (the kernel drops it as a duplicate).
    const again = events(await r.venue.send([{ kind: 'CANCEL', client_order_id: a.client_order_id, symbol: 'ETH-USDT' }], Date.now()));
    assert.deepEqual(again.map((e) => [e.kind, e.event_id]), [['CANCELED', `canceled:${a.client_order_id}`]]);

    // Another process (or the web UI) cancels b: this adapter notices it left the book unfilled.
    await r.venue.poll(SYMBOLS, Date.now());
    const other = await r.another();
    await other.send([{ kind: 'CANCEL', client_order_id: b.client_order_id, symbol: 'ETH-USDT' }], Date.now());
    const seen = events(await r.venue.poll(SYMBOLS, Date.now()));
    assert.deepEqual(seen.map((e) => [e.kind, e.event_id]), [['CANCELED', `canceled:${b.client_order_id}`]]);
    assert.deepEqual(events(await r.venue.poll(SYMBOLS, Date.now())), [], 'reported once');
  } finally {
    await r.close();
  }
});

test('poll costs the same constant number of REST calls (<= 3) for 2 and for 20 symbols', async () => {
  const twenty = Array.from({ length: 20 }, (_, i) => (i < 7 ? ['BTC', 'ETH', 'SOL', 'LTC', 'BNB', 'XRP', 'DOGE'][i]! : `C${i}`) + '-USDT');
  const counts: number[] = [];
  for (const symbols of [twenty.slice(0, 2), twenty]) {
    const r = await rig({ symbols });
    try {
      // An order on the book and a fill in the window: a realistic step, not an empty one.
      await r.venue.send([place(symbols[0]!, 'buy', 0.01), place(symbols[1]!, 'buy', 1, { order_type: 'limit', price: 1 })], Date.now());
      await r.venue.poll(symbols, Date.now());
      const before = [r.venue.restCalls, r.sim.requestCount()];
      const inputs = await r.venue.poll(symbols, Date.now());
      const calls = r.venue.restCalls - before[0]!;
      assert.equal(r.sim.requestCount() - before[1]!, calls, 'adapter count = requests the venue saw');
      assert.equal(Object.keys((inputs[0] as { marks: Record<string, number> }).marks).length, symbols.length);
      counts.push(calls);
    } finally {
      await r.close();
    }
  }
  assert.equal(counts[0], counts[1]);
  assert.ok(counts[0]! <= 3, `calls per poll: ${counts[0]}`);
});

test('snapshot: positions (adopted ones too), foreign orders, balance, marks, fills since', async () => {
  const r = await rig();
  try {
    const since = Date.now() - 1000;
    await r.admin('/__sim/position', { symbol: 'ETH-USDT', qty: -0.5, entryPrice: 3100 });
    await r.admin('/__sim/order', { symbol: 'BTC-USDT', side: 'buy', qty: 0.01, price: 50000, clientOrderId: 'web-123' });
    const buy = place('BTC-USDT', 'buy', 0.02);
    await r.venue.send([buy], Date.now());
    const snap = await r.venue.snapshot(['BTC-USDT'], since, 42);
    assert.equal(snap.ts, 42);
    const eth = snap.positions.find((p) => p.symbol === 'ETH-USDT');
    assert.deepEqual([eth?.side, eth?.qty, eth?.entry_price], ['short', 0.5, 3100]);
    assert.deepEqual(snap.positions.find((p) => p.symbol === 'BTC-USDT')?.qty, 0.02);
    assert.deepEqual(Object.keys(snap.marks).sort(), SYMBOLS, 'marks for the symbols asked and every position');
    assert.deepEqual(snap.open_orders.map((o) => o.client_order_id), ['web-123']);
    assert.equal(snap.fills.length, 1);
    assert.deepEqual([snap.fills[0]!.client_order_id, snap.fills[0]!.side, snap.fills[0]!.qty], [buy.client_order_id, 'buy', 0.02]);
    assert.ok(snap.balance_usdt !== null && Math.abs(snap.balance_usdt - r.state().balance.wallet_usdt) < 1e-3);
    // Primed: poll does not report the snapshot's fills again, nor the foreign order.
    assert.deepEqual(events(await r.venue.poll(['BTC-USDT'], Date.now())), []);
  } finally {
    await r.close();
  }
});

test('lookupOrder finds an order by client order id, whatever its state; null when the venue has none', async () => {
  const r = await rig();
  try {
    const buy = place('BTC-USDT', 'buy', 0.01);
    await r.venue.send([buy], Date.now());
    const found = await r.venue.lookupOrder(buy.client_order_id, 'BTC-USDT');
    assert.deepEqual([found?.client_order_id, found?.status, found?.qty, found?.filled_qty, found?.side], [buy.client_order_id, 'filled', 0.01, 0.01, 'buy']);
    assert.ok((found?.avg_price ?? 0) > 0);
    assert.equal(await r.venue.lookupOrder('pink-never-sent', 'BTC-USDT'), null);
  } finally {
    await r.close();
  }
});

test('startup: a refused key is exit 2, an unreachable simulator exit 3, an unlisted symbol exit 2', async () => {
  const r = await rig();
  try {
    const wrong = { ...r.config, sim_api_secret: 'not-the-secret' };
    await assert.rejects(openVenue(wrong, {}), (e: unknown) => e instanceof ExitError && e.code === 2 && /refused the API key/.test(e.message) && !e.message.includes('not-the-secret'));
    await assert.rejects(openVenue({ ...r.config, symbols: ['BTC-USDT', 'NOPE-USDT'] }, {}), (e: unknown) => e instanceof ExitError && e.code === 2 && /NOPE-USDT/.test(e.message));
    const url = r.sim.url;
    await r.sim.close();
    await assert.rejects(openVenue({ ...r.config, sim_api_key: TEST_KEY }, { simUrl: url, timeoutMs: 1000 }), (e: unknown) => e instanceof ExitError && e.code === 3 && /unreachable/.test(e.message));
  } finally {
    await r.close();
  }
});
