// Every simulator fault, and what the adapter turns it into; and no secret in any of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KernelInput } from '../../src/engine/kernel/types.js';
import { events, fillsOf, place, pollUntil, rig, sleep, TEST_KEY, TEST_SECRET, type Rig } from './harness.js';

const SYMBOLS = ['BTC-USDT', 'ETH-USDT'];

/** Nothing the adapter emitted (inputs, errors, log lines) may carry a credential or a signature. */
function assertClean(r: Rig, outputs: unknown[]): void {
  const text = JSON.stringify(outputs) + '\n' + r.logs.join('\n');
  for (const secret of [TEST_KEY, TEST_SECRET, encodeURIComponent(TEST_SECRET)]) assert.ok(!text.includes(secret), `leaked ${secret}`);
  assert.doesNotMatch(text, /signature=(?!<redacted>)/);
  assert.doesNotMatch(text, /timestamp=\d/);
}

for (const style of ['http', 'body'] as const) {
  test(`rate limit (${style === 'http' ? 'HTTP 429' : 'BingX 100410'}) → RATE_LIMITED with retry_after_ms; the rest of the batch is not sent`, async () => {
    const r = await rig();
    try {
      await r.admin('/__sim/faults', { rateLimitEvery: 1, rateLimitStyle: style, rateLimitCooldownMs: 3000 });
      const a = place('BTC-USDT', 'buy', 0.01);
      const b = place('ETH-USDT', 'buy', 0.1);
      const out = await r.venue.send([a, b], Date.now());
      assert.deepEqual(out.map((i) => [i.type, 'client_order_id' in i ? i.client_order_id : undefined]), [['RATE_LIMITED', a.client_order_id], ['RATE_LIMITED', b.client_order_id]]);
      for (const i of out) {
        assert.ok(i.type === 'RATE_LIMITED' && i.retry_after_ms !== undefined && i.retry_after_ms > 1000 && i.retry_after_ms <= 3000, JSON.stringify(i));
      }
      assert.equal(r.state().client_order_ids[b.client_order_id], undefined, 'b never reached the venue');
      const polled = await r.venue.poll(SYMBOLS, Date.now());
      assert.equal(polled.length, 1);
      assert.equal(polled[0]!.type, 'RATE_LIMITED');
      await assert.rejects(r.venue.snapshot(SYMBOLS, 0, 1), (e: unknown) => (e as { input?: KernelInput }).input?.type === 'RATE_LIMITED');
      await r.admin('/__sim/faults', { rateLimitEvery: null });
      assert.ok((await r.venue.poll(SYMBOLS, Date.now())).some((i) => i.type === 'VENUE_OK'), 'recovers');
      assertClean(r, out.concat(polled));
    } finally {
      await r.close();
    }
  });
}

test('rejectNext → REJECTED carrying the venue reason text', async () => {
  const r = await rig();
  try {
    await r.admin('/__sim/faults', { rejectNext: 'price deviates from the index by more than 5%' });
    const a = place('BTC-USDT', 'buy', 0.01);
    const out = events(await r.venue.send([a], Date.now()));
    assert.deepEqual(out.map((e) => e.kind), ['REJECTED']);
    assert.match(out[0]!.reason ?? '', /price deviates from the index by more than 5%/);
    await r.admin('/__sim/faults', { rejectNextCancel: 'cancel refused for the test' });
    const lim = place('BTC-USDT', 'buy', 0.01, { order_type: 'limit', price: 40000 });
    await r.venue.send([lim], Date.now());
    const c = events(await r.venue.send([{ kind: 'CANCEL', client_order_id: lim.client_order_id, symbol: 'BTC-USDT' }], Date.now()));
    assert.deepEqual(c.map((e) => e.kind), ['CANCEL_REJECTED']);
    assert.match(c[0]!.reason ?? '', /cancel refused for the test/);
  } finally {
    await r.close();
  }
});

test('dropResponseNext → SEND_UNKNOWN; lookup and snapshot find the order; a resend never makes a second order', async () => {
  const r = await rig();
  try {
    await r.admin('/__sim/faults', { dropResponseNext: true });
    const a = place('BTC-USDT', 'buy', 0.01);
    const first = await r.venue.send([a], Date.now());
    assert.deepEqual(first.map((i) => i.type), ['SEND_UNKNOWN']);
    assert.equal((first[0] as { client_order_id: string }).client_order_id, a.client_order_id);
    const found = await r.venue.lookupOrder(a.client_order_id, 'BTC-USDT');
    assert.equal(found?.client_order_id, a.client_order_id);
    const snap = await r.venue.snapshot(SYMBOLS, Date.now() - 60_000, Date.now());
    assert.ok(snap.fills.some((f) => f.client_order_id === a.client_order_id));
    assert.equal(snap.positions[0]?.qty, 0.01);

    // The same adapter resends: it looks first and reports the existing order, sending nothing.
    const resend = events(await r.venue.send([a], Date.now()));
    assert.deepEqual(resend.map((e) => [e.kind, e.venue_order_id]), [['ACCEPTED', found?.venue_order_id]]);
    assert.deepEqual(r.state().client_order_ids[a.client_order_id], { created: 1, attempts: 1 });
    // A restarted adapter (no memory) resends: the venue refuses the duplicate id, the adapter
    // recognises its own order.
    const fresh = await r.another();
    const again = events(await fresh.send([a], Date.now()));
    assert.deepEqual(again.map((e) => [e.kind, e.venue_order_id]), [['ACCEPTED', found?.venue_order_id]]);
    assert.deepEqual(r.state().client_order_ids[a.client_order_id], { created: 1, attempts: 2 });
    assert.equal(r.state().positions[0]?.qty, 0.01, 'one order, one position');
    assertClean(r, [first, resend, again]);
  } finally {
    await r.close();
  }
});

test('latency: under the timeout it still works; over it the send is SEND_UNKNOWN and the order is found later', async () => {
  const r = await rig({ venue: { timeoutMs: 600 } });
  try {
    await r.admin('/__sim/faults', { latencyMs: 200 });
    const a = place('BTC-USDT', 'buy', 0.01);
    assert.deepEqual(events(await r.venue.send([a], Date.now())).map((e) => e.kind), ['ACCEPTED']);
    assert.ok((await r.venue.poll(SYMBOLS, Date.now())).some((i) => i.type === 'VENUE_OK'));

    await r.admin('/__sim/faults', { latencyMs: 1000 });
    const b = place('BTC-USDT', 'buy', 0.01);
    const out = await r.venue.send([b], Date.now());
    assert.deepEqual(out.map((i) => i.type), ['SEND_UNKNOWN']);
    assert.match((out[0] as { reason: string }).reason, /timed out/);
    const slowPoll = await r.venue.poll(SYMBOLS, Date.now());
    assert.deepEqual(slowPoll.map((i) => i.type), ['VENUE_UNAVAILABLE']);
    await r.admin('/__sim/faults', { latencyMs: 0 });
    await sleep(600); // the venue acts once its latency has passed
    const found = await r.venue.lookupOrder(b.client_order_id, 'BTC-USDT');
    assert.equal(found?.client_order_id, b.client_order_id);
    assert.deepEqual(r.state().client_order_ids[b.client_order_id], { created: 1, attempts: 1 });
    assertClean(r, [out, slowPoll]);
  } finally {
    await r.close();
  }
});

test('duplicate fill rows → FILL inputs keyed by one fill_id, each fill reported once', async () => {
  const r = await rig();
  try {
    await r.admin('/__sim/faults', { duplicateFills: true, partialFillRatio: 0.5 });
    const lim = place('BTC-USDT', 'buy', 0.02, { order_type: 'limit', price: 59000 });
    await r.venue.send([lim], Date.now());
    await r.admin('/__sim/price', { symbol: 'BTC-USDT', price: 58900 }); // crosses: fills in steps of half
    await r.admin('/__sim/tick', { n: 3 });
    const polled = await pollUntil(r.venue, SYMBOLS, (all) => fillsOf(all, lim.client_order_id).reduce((s, f) => s + (f.qty ?? 0), 0) >= 0.02);
    const venueFills = r.state().fills.filter((f) => f.client_order_id === lim.client_order_id);
    const ours = fillsOf(polled, lim.client_order_id);
    assert.ok(venueFills.length >= 2, 'partial fills happened');
    assert.equal(ours.length, venueFills.length, 'one FILL per venue fill, duplicates dropped');
    assert.equal(new Set(ours.map((f) => f.fill_id)).size, ours.length);
    assert.ok(Math.abs(ours.reduce((s, f) => s + (f.qty ?? 0), 0) - 0.02) < 1e-12);
    // The same fills read again (snapshot, or a fresh adapter) carry the same fill ids.
    const snap = await (await r.another()).snapshot(SYMBOLS, Date.now() - 60_000, Date.now());
    const again = snap.fills.filter((f) => f.client_order_id === lim.client_order_id).map((f) => f.fill_id);
    assert.deepEqual(again.sort(), ours.map((f) => f.fill_id!).sort());
  } finally {
    await r.close();
  }
});

test('a ccxt error echoing the signed URL leaves the adapter without key, secret or signature', async () => {
  const r = await rig({ venue: { timeoutMs: 300 } });
  try {
    // ccxt's RequestTimeout message is "bingx POST <url with query and signature> request timed out".
    await r.admin('/__sim/faults', { latencyMs: 800 });
    const out = await r.venue.send([place('BTC-USDT', 'buy', 0.01)], Date.now());
    const reason = (out[0] as { reason: string }).reason;
    assert.match(reason, /openApi\/swap\/v2\/trade\/order\?<redacted>/);
    // HTTP 429 texts echo the URL too, on reads.
    await r.admin('/__sim/faults', { latencyMs: 0, rateLimitEvery: 1, rateLimitStyle: 'http' });
    await sleep(900);
    const polled = await r.venue.poll(SYMBOLS, Date.now());
    let snapErr: unknown;
    await r.venue.snapshot(SYMBOLS, 0, 1).catch((e: unknown) => (snapErr = e));
    assert.ok(snapErr instanceof Error);
    assertClean(r, [out, polled, (snapErr as Error).message, (snapErr as unknown as { input: unknown }).input]);
    assert.match(JSON.stringify(polled), /<redacted>/);
  } finally {
    await r.close();
  }
});
