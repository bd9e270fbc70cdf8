// Issue 18, continued: the taxonomy codes health-taxonomy.test.ts does not walk, each followed by
// the commands of its own response (`pink fault CODE --json`) on the simulator until
// `pink ditav2-status` exits 0 again. One engine world for all of them, in sequence (real binary,
// simulator over HTTP through ccxt, chDB). docs/health.md lists which codes are covered where.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ccxtClient, ETH } from '../sim/support.js';
import { makeWorld } from '../support/e2e.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { follow, operatorRows, reasonFor, response, status, statusUntil, venueQty, type Seen } from '../support/health.js';

const faultOf = (s: Seen, code: string) => s.doc.faults.find((f) => f.code === code);
const slotOf = (s: Seen, symbol: string) => s.doc.slots.find((x) => x.symbol === symbol);
const accountOf = (s: Seen) => (s.doc as unknown as { account: { drift: number | null; drift_accepted: number; capital: number } }).account;
const pick = (o: Record<string, unknown>, keys: string[]) => Object.fromEntries(keys.map((k) => [k, o[k]]));
/** Every journal segment's text: a kernel input recorded there is journaled. */
const journalText = (w: { home: string }) => readdirSync(join(w.home, 'journal')).map((f) => readFileSync(join(w.home, 'journal', f), 'utf8')).join('\n');

test('taxonomy walk on the simulator: INVALID_INTENT, UNKNOWN_SYMBOL, HOLD_BARS_EXCEEDED, FOREIGN_ORDER to HEALTHY; ACCOUNT_DRIFT to HEALTHY through `pink accept-drift`, engine up and down', async () => {
  // 40 bars: one per step (0.05 s polls), so a position is overdue a few seconds after it opens.
  const w = await makeWorld({ symbols: ['BTC-USDT', 'ETH-USDT'], env: { DOLPHIN_MAX_HOLD_BARS: '40' } });
  // UNKNOWN_SYMBOL's response adds a symbol: every later command names the engine's symbols.
  const withSol = { DOLPHIN_PINK_SYMBOLS: 'BTC-USDT,ETH-USDT,SOL-USDT' };
  try {
    const run = await w.json<{ pid: number }>(['run', '--detach', '--strategy', 'signals', '--signals', w.signalsPath]);
    assert.equal(run.code, 0, run.stderr);
    await statusUntil(w, 'HEALTHY at start', (s) => s.code === 0);

    // INVALID_INTENT: a line that is not an intent (qty a string), and an intent the kernel refuses
    // (a negative qty). Recorded, nothing sent, trading goes on: status stays HEALTHY and names the
    // field in the fault's details, as the response says ("the outcome details name the field").
    w.signals([
      { intent_id: 'more-bad-shape', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: 'lots', order_type: 'market' },
      { intent_id: 'more-bad-qty', symbol: 'BTC-USDT', action: 'ENTER', side: 'long', qty: -1, order_type: 'market' },
    ]);
    const invalid = await statusUntil(w, 'INVALID_INTENT twice in status', (s) => (faultOf(s, 'INVALID_INTENT')?.count ?? 0) >= 2);
    assert.equal(invalid.code, 0, `a refused intent is reported, not a degradation: ${invalid.doc.reasons.join('; ')}`);
    const invalidText = await response(w, 'INVALID_INTENT');
    assert.ok(invalidText.commands.includes('pink ditav2-status'), invalidText.text);
    assert.match(JSON.stringify(faultOf(invalid, 'INVALID_INTENT')!.last_details), /qty/);
    assert.equal(slotOf(invalid, 'BTC-USDT')?.state, 'IDLE');
    const invalidLog = await w.pink(['timeline', '--since', '30m']);
    assert.equal(invalidLog.code, 0, invalidLog.stderr);
    assert.match(invalidLog.stdout, /INVALID_INTENT: malformed signals line: qty must be a number/);

    // UNKNOWN_SYMBOL: an intent for SOL-USDT, which PINK has no slot for. Refused, HEALTHY; the
    // response: add the symbol to DOLPHIN_PINK_SYMBOLS and `pink restart`; the producer sends again.
    w.signals([{ intent_id: 'more-sol-1', symbol: 'SOL-USDT', action: 'ENTER', side: 'long', qty: 1, order_type: 'market', reason: 'e2e' }]);
    const unknown = await statusUntil(w, 'UNKNOWN_SYMBOL in status', (s) => faultOf(s, 'UNKNOWN_SYMBOL') !== undefined);
    assert.equal(unknown.code, 0, unknown.doc.reasons.join('; '));
    assert.match(JSON.stringify(faultOf(unknown, 'UNKNOWN_SYMBOL')!.last_details), /no slot for SOL-USDT/);
    assert.equal(venueQty(w, 'SOL-USDT'), 0, 'nothing sent');
    const added = await follow(w, 'UNKNOWN_SYMBOL', ['restart', '--json'], 'pink restart', withSol);
    assert.equal(added.code, 0, `${added.stdout} ${added.stderr}`);
    assert.match(added.stdout, /SOL-USDT/, 'the restart reports the symbol added');
    const withSlot = await statusUntil(w, 'HEALTHY with a SOL-USDT slot', (s) => s.code === 0 && slotOf(s, 'SOL-USDT') !== undefined);
    assert.equal(slotOf(withSlot, 'SOL-USDT')!.state, 'IDLE');
    w.signals([{ intent_id: 'more-sol-2', symbol: 'SOL-USDT', action: 'ENTER', side: 'long', qty: 1, order_type: 'market', reason: 'e2e' }]);
    await statusUntil(w, 'SOL-USDT OPEN, HEALTHY: trading goes on', (s) => s.code === 0 && slotOf(s, 'SOL-USDT')?.state === 'OPEN');
    assert.equal(venueQty(w, 'SOL-USDT'), 1);

    // HOLD_BARS_EXCEEDED: the signals producer sends no exit; past DOLPHIN_MAX_HOLD_BARS=40 the
    // position is overdue (a status reason) and the fault is raised once. Response: flatten.
    const overdue = await statusUntil(w, 'degraded: SOL-USDT past max hold', (s) => reasonFor(s, /SOL-USDT held \d+ bars, past DOLPHIN_MAX_HOLD_BARS \(pink flatten SOL-USDT\)/));
    assert.deepEqual(overdue.doc.overdue.map((o) => o.symbol), ['SOL-USDT']);
    assert.equal(faultOf(overdue, 'HOLD_BARS_EXCEEDED')?.last_symbol, 'SOL-USDT');
    assert.ok((await response(w, 'HOLD_BARS_EXCEEDED')).commands.includes('pink ditav2-status'));
    const flat = await follow(w, 'HOLD_BARS_EXCEEDED', ['flatten', 'SOL-USDT', '--yes'], 'pink flatten SYMBOL', withSol);
    assert.equal(flat.code, 0, `${flat.stdout} ${flat.stderr}`);
    assert.equal(venueQty(w, 'SOL-USDT'), 0);
    const afterHold = await statusUntil(w, 'HEALTHY after HOLD_BARS_EXCEEDED', (s) => s.code === 0, 60_000, withSol);
    assert.deepEqual(afterHold.doc.overdue, []);
    // HEALTHY, but the flatten left SOL-USDT REDUCING (entries refused); it says how to trade again.
    assert.equal(slotOf(afterHold, 'SOL-USDT')?.trading_state, 'REDUCING');
    assert.match(flat.stdout, /stays REDUCING: no new entries\. To trade again: pink resume SOL-USDT/);
    const resumed = await w.pink(['resume', 'SOL-USDT'], withSol);
    assert.equal(resumed.code, 0, resumed.stderr);
    await statusUntil(w, 'HEALTHY, SOL-USDT ACTIVE', (s) => s.code === 0 && slotOf(s, 'SOL-USDT')?.trading_state === 'ACTIVE', 60_000, withSol);

    // FOREIGN_ORDER: another system's resting order on PINK's account (no pink- prefix). Status
    // stays HEALTHY by design (a foreign order is left alone and reported); a reconcile reports it.
    await w.admin('/__sim/order', { symbol: 'ETH-USDT', side: 'buy', qty: 0.01, price: 2000, clientOrderId: 'other-system-1' });
    const seenAfterOrder = await status(w, withSol);
    assert.equal(seenAfterOrder.code, 0, seenAfterOrder.doc.reasons.join('; '));
    const reconciled = await w.json<{ corrections: { kind: string; detail: string }[]; converged: boolean }>(['restart'], withSol);
    assert.equal(reconciled.code, 0, reconciled.stderr);
    assert.ok(reconciled.doc.corrections.some((c) => c.kind === 'foreign_order' && /other-system-1.*left alone/.test(c.detail)), JSON.stringify(reconciled.doc.corrections));
    const foreign = await statusUntil(w, 'FOREIGN_ORDER in status', (s) => faultOf(s, 'FOREIGN_ORDER') !== undefined, 60_000, withSol);
    assert.equal(foreign.code, 0, `a foreign order is reported, not a degradation: ${foreign.doc.reasons.join('; ')}`);
    const verify = await follow(w, 'FOREIGN_ORDER', ['mode-verify', '--json'], 'pink mode-verify', withSol);
    assert.equal(verify.code, 0, verify.stderr);
    const ordersCheck = (JSON.parse(verify.stdout) as { checks: { id: string; status: string; detail: string }[] }).checks.find((c) => c.id === 'orders');
    assert.equal(ordersCheck?.status, 'WARN');
    assert.match(ordersCheck!.detail, /another system trades this account: ETH-USDT .*other-system-1/);
    // "Cancel it on BingX if it is not meant to be there": the operator's own client, not PINK.
    assert.match((await response(w, 'FOREIGN_ORDER')).text, /Cancel it on BingX/);
    const ex = ccxtClient(w.sim.url);
    const open = await ex.fetchOpenOrders(ETH);
    const theirs = open.find((o) => o.clientOrderId === 'other-system-1');
    assert.ok(theirs, 'the foreign order is on the book');
    await ex.cancelOrder(String(theirs.id), ETH);
    const verified = await w.json<{ checks: { id: string; status: string }[] }>(['mode-verify'], withSol);
    assert.equal(verified.code, 0, verified.stderr);
    assert.equal(verified.doc.checks.find((c) => c.id === 'orders')?.status, 'PASS');
    await statusUntil(w, 'HEALTHY after FOREIGN_ORDER', (s) => s.code === 0, 60_000, withSol);

    // ACCOUNT_DRIFT: another system trades a round trip on ETH behind PINK's back (2 ETH bought
    // and sold at once: its fees and spread leave the wallet, over the 1 USDT tolerance). A running
    // engine reads the balance only in a reconcile: the response's `pink restart` shows the drift.
    const wallet_usdt = w.sim.state().balance.wallet_usdt;
    await w.admin('/__sim/order', { symbol: 'ETH-USDT', side: 'buy', qty: 2, price: 3100, clientOrderId: 'other-system-2' });
    await w.admin('/__sim/order', { symbol: 'ETH-USDT', side: 'sell', qty: 2, price: 2900, clientOrderId: 'other-system-3' });
    assert.equal(venueQty(w, 'ETH-USDT'), 0);
    assert.ok(wallet_usdt - w.sim.state().balance.wallet_usdt > 1, 'the venue wallet moved by more than the tolerance');
    const driftRestart = await follow(w, 'ACCOUNT_DRIFT', ['restart', '--json'], 'pink restart', withSol);
    assert.equal(driftRestart.code, 0, driftRestart.stderr);
    assert.ok((JSON.parse(driftRestart.stdout) as { corrections: { kind: string }[] }).corrections.some((c) => c.kind === 'drift'), driftRestart.stdout);
    const drifted = await statusUntil(w, 'degraded naming ACCOUNT_DRIFT', (s) => reasonFor(s, /^account drift -\d+\.\d+ USDT vs the venue balance \(pink fault ACCOUNT_DRIFT\)$/), 60_000, withSol);
    assert.equal(drifted.doc.reasons.length, 1, drifted.doc.reasons.join('; '));
    // "run `pink mode-verify` (another system?)": a system that traded and left has no open order.
    const driftVerify = await follow(w, 'ACCOUNT_DRIFT', ['mode-verify', '--json'], 'pink mode-verify', withSol);
    assert.equal(driftVerify.code, 0, driftVerify.stderr);
    assert.equal((JSON.parse(driftVerify.stdout) as { checks: { id: string; status: string }[] }).checks.find((c) => c.id === 'orders')?.status, 'PASS');
    // "and `pink restart` (missed fills are inferred)": there were none; the drift is not PINK's.
    const again = await follow(w, 'ACCOUNT_DRIFT', ['restart', '--json'], 'pink restart', withSol);
    assert.equal(again.code, 0, again.stderr);
    assert.ok((JSON.parse(again.stdout) as { corrections: { kind: string }[] }).corrections.some((c) => c.kind === 'drift'), 'the drift stays: it is not PINK\'s');
    const still = await statusUntil(w, 'still degraded naming ACCOUNT_DRIFT after mode-verify and restart', (s) => reasonFor(s, /pink fault ACCOUNT_DRIFT/), 60_000, withSol);
    assert.equal(still.code, 1);
    // "If the drift stays, it is not PINK's ... `pink accept-drift AMOUNT`, AMOUNT being the whole
    // drift `pink ditav2-status` shows". First a wrong amount: refused, exit 2, one line naming the
    // fix, nothing journaled or accepted.
    const shown = /^account drift (-?\d+\.\d{2}) USDT/.exec(still.doc.reasons[0]!)![1]!;
    const wrong = await w.pink(['accept-drift', (Number(shown) + 5).toFixed(2)], withSol);
    assert.equal(wrong.code, 2, `${wrong.stdout} ${wrong.stderr}`);
    assert.equal(wrong.stderr.trim().split('\n').length, 1, wrong.stderr);
    assert.match(wrong.stderr, new RegExp(`accept-drift refused, nothing recorded: .*run \`pink accept-drift ${shown}\``));
    assert.ok(!journalText(w).includes('DRIFT_ACCEPTED'), 'a refused accept journals nothing');
    assert.equal(accountOf(await status(w, withSol)).drift_accepted, 0);
    // The response's command with the drift shown: status is HEALTHY again, capital untouched.
    const capital = accountOf(still).capital;
    const accepted = await follow(w, 'ACCOUNT_DRIFT', ['accept-drift', shown, '--json'], 'pink accept-drift AMOUNT', withSol);
    assert.equal(accepted.code, 0, `${accepted.stdout} ${accepted.stderr}`);
    assert.deepEqual(pick(JSON.parse(accepted.stdout) as Record<string, unknown>, ['changed', 'drift_accepted', 'engine_up']), { changed: true, drift_accepted: Number(shown), engine_up: true });
    assert.ok(journalText(w).includes('DRIFT_ACCEPTED'), 'the accept is a journaled kernel input');
    const healthy = await statusUntil(w, 'HEALTHY after pink accept-drift', (s) => s.code === 0, 60_000, withSol);
    assert.equal(accountOf(healthy).drift_accepted, Number(shown));
    assert.equal(accountOf(healthy).drift!.toFixed(2), shown, 'account.drift keeps its meaning: venue balance - capital');
    assert.equal(accountOf(healthy).capital, capital, 'capital is never copied from the venue');
    // Idempotent: again is a no-op, exit 0; and a restart's reconcile judges drift net of it.
    const repeat = await w.json<{ changed: boolean }>(['accept-drift', shown], withSol);
    assert.equal(repeat.code, 0, repeat.stderr);
    assert.equal(repeat.doc.changed, false);
    const restarted = await w.json<{ corrections: { kind: string }[]; drift_accepted: number }>(['restart'], withSol);
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.ok(!restarted.doc.corrections.some((c) => c.kind === 'drift'), JSON.stringify(restarted.doc.corrections));
    assert.equal(restarted.doc.drift_accepted, Number(shown));
    await statusUntil(w, 'HEALTHY after a restart: the accept is in the history', (s) => s.code === 0, 60_000, withSol);

    // Engine down: another round trip behind PINK's back, an offline reconcile measures it, and the
    // accept goes into the checkpoint (a one-off engine, as an engine-down halt).
    const stopped = await w.pink(['stop'], withSol);
    assert.equal(stopped.code, 0, stopped.stderr);
    await w.admin('/__sim/order', { symbol: 'ETH-USDT', side: 'buy', qty: 2, price: 3100, clientOrderId: 'other-system-4' });
    await w.admin('/__sim/order', { symbol: 'ETH-USDT', side: 'sell', qty: 2, price: 2900, clientOrderId: 'other-system-5' });
    const offline = await w.pink(['restart', '--no-start'], withSol);
    assert.equal(offline.code, 0, offline.stderr);
    const down = await status(w, withSol);
    assert.equal(down.code, 3);
    const downReason = down.doc.reasons.find((r) => /pink fault ACCOUNT_DRIFT/.test(r));
    assert.match(downReason ?? '', new RegExp(`^account drift -\\d+\\.\\d{2} USDT vs the venue balance, ${shown} of it accepted \\(pink fault ACCOUNT_DRIFT\\)$`));
    const shownDown = /^account drift (-?\d+\.\d{2}) USDT/.exec(downReason!)![1]!;
    const acceptedDown = await w.json<{ changed: boolean; engine_up: boolean; drift_accepted: number }>(['accept-drift', shownDown], withSol);
    assert.equal(acceptedDown.code, 0, acceptedDown.stderr);
    assert.deepEqual(pick(acceptedDown.doc, ['changed', 'engine_up', 'drift_accepted']), { changed: true, engine_up: false, drift_accepted: Number(shownDown) });
    const downAfter = await status(w, withSol);
    assert.equal(downAfter.code, 3, 'down is down');
    assert.ok(!downAfter.doc.reasons.some((r) => /ACCOUNT_DRIFT/.test(r)), downAfter.doc.reasons.join('; '));
    assert.equal(accountOf(downAfter).drift_accepted, Number(shownDown));
    // Replay across both accepts is identical; the audit has both, of origin operator.
    const replayed = await w.json<{ identical: boolean }>(['replay'], withSol);
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.equal(replayed.doc.identical, true);
    const audit = (await operatorRows(w)).filter((r) => r.code === 'DRIFT_ACCEPTED');
    assert.deepEqual(audit.map((r) => (JSON.parse(r.details) as { amount_usdt: number }).amount_usdt), [Number(shown), Number(shownDown)]);
  } finally {
    await w.close();
  }
});
