// The observe SQL (src/engine/observe/sql.ts) against known rows in a real chDB store: every figure
// of the report and every event of the timeline compared with values worked out by hand
// (test/observe/rows.ts), rows written twice (a ReplacingMergeTree before its merge), the
// window's edges, a symbol filter, and the funding table absent then present.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { openStore, type Store } from '../../src/engine/store/index.js';
import { presentTables, timelineRows } from '../../src/engine/observe/sql.js';
import { report } from '../../src/engine/observe/report.js';
import { buildEvents, timeline } from '../../src/engine/observe/timeline.js';
import { backendCases, configFor, rawClient, tmpHome } from '../store/fixtures.js';
import { FUNDING_DDL, FUNDING_ROWS, KNOWN, knownRows, MIN, SINCE, T, UNTIL } from './rows.js';

const close = (a: number | null | undefined, b: number, what: string): void => {
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) < 1e-9, `${what}: ${a} vs ${b}`);
};

const home = tmpHome('observe-sql');
const config = configFor(home, backendCases()[0]!);
let store: Store;
const scope = { database: config.database, since_ms: SINCE, until_ms: UNTIL };

before(async () => {
  store = await openStore({ config, runId: 'observe-sql', spoolDir: `${home}/spool` });
  await store.ensureSchema();
  // No merge may fold the duplicates away while the tests run: they must meet them.
  const families = ['trades', 'trade_exit_legs', 'orders', 'fills', 'positions', 'account', 'anomalies', 'decisions'];
  const raw = await rawClient(config);
  try {
    for (const t of families) await raw.command({ query: `SYSTEM STOP MERGES ${config.database}.${t}` });
    store.write({ token: 'known:1', rows: knownRows() });
    await store.flush();
    // Every row a second time, as a batch that landed twice would: the same row_id, another part.
    for (const t of families) await raw.command({ query: `INSERT INTO ${config.database}.${t} SELECT * FROM ${config.database}.${t}` });
  } finally {
    await raw.close();
  }
});

after(async () => {
  await store.close();
  rmSync(home, { recursive: true, force: true });
});

test('the rows really are there twice: the queries below must count each once', async () => {
  const [r] = await store.query<{ n: number; ids: number }>(`SELECT count() AS n, uniqExact(row_id) AS ids FROM ${config.database}.fills`);
  assert.equal(r!.ids, 8, 'eight distinct fills: D 2, A 2, B 3, C 1');
  assert.equal(r!.n, 16, 'each stored twice');
});

test('report without a funding table: every figure, funding 0', async () => {
  const doc = await report(store, scope);
  const s = doc.summary;
  close(s.realized, KNOWN.realized, 'realized');
  close(s.fees, KNOWN.fees, 'fees');
  close(s.funding, 0, 'funding');
  close(s.net, KNOWN.realized - KNOWN.fees, 'net');
  assert.equal(s.trades, KNOWN.trades);
  assert.equal(s.wins, KNOWN.wins);
  close(s.win_rate, KNOWN.win_rate, 'win rate');
  close(s.avg_hold_s, KNOWN.avg_hold_s, 'average hold');
  assert.equal(s.liquidations, KNOWN.liquidations);
  close(s.max_drawdown, KNOWN.max_drawdown, 'max drawdown');
  close(s.equity_start, KNOWN.equity_start, 'equity at the start (the row before the window)');
  close(s.equity_end, KNOWN.equity_end, 'equity at the end');
  close(s.exposure_usdt, KNOWN.exposure_usdt, 'exposure');
  assert.deepEqual(doc.exposure.map((e) => [e.symbol, e.side, e.qty]), [['BTC-USDT', 'long', 2]]);
  assert.equal(s.best_symbol?.symbol, 'BTC-USDT');
  assert.equal(s.worst_symbol?.symbol, 'ETH-USDT');
});

test('report with the funding table: funding summed (paid positive), per symbol and per UTC day', async () => {
  const raw = await rawClient(config);
  try {
    await raw.command({ query: FUNDING_DDL(config.database) });
    await raw.insert({ table: `${config.database}.funding`, values: FUNDING_ROWS.map((f) => ({ ...f, namespace: 'pink', run_id: 'known', ts: f.ts })), format: 'JSONEachRow', clickhouse_settings: { date_time_input_format: 'best_effort' } });
  } finally {
    await raw.close();
  }
  assert.ok((await presentTables(store, config.database)).has('funding'));
  const doc = await report(store, scope);
  close(doc.summary.funding, KNOWN.funding, 'funding');
  close(doc.summary.net, KNOWN.realized - KNOWN.fees - KNOWN.funding, 'net');
  const by = Object.fromEntries(doc.symbols.map((r) => [r.symbol, r]));
  for (const [sym, k] of [['BTC-USDT', KNOWN.btc], ['ETH-USDT', KNOWN.eth]] as const) {
    close(by[sym]!.realized, k.realized, `${sym} realized`);
    close(by[sym]!.fees, k.fees, `${sym} fees`);
    close(by[sym]!.funding, k.funding, `${sym} funding`);
    close(by[sym]!.net, k.realized - k.fees - k.funding, `${sym} net`);
    assert.equal(by[sym]!.trades, 1);
  }
  assert.equal(by['BTC-USDT']!.win_rate, 1);
  assert.equal(by['ETH-USDT']!.win_rate, 0);
  assert.equal(by['ETH-USDT']!.liquidations, 1);
  assert.deepEqual(doc.days.map((d) => d.day), [KNOWN.day1.day, KNOWN.day2.day]);
  for (const [d, k] of [[doc.days[0]!, KNOWN.day1], [doc.days[1]!, KNOWN.day2]] as const) {
    close(d.realized, k.realized, `${k.day} realized`);
    close(d.fees, k.fees, `${k.day} fees`);
    close(d.funding, k.funding, `${k.day} funding`);
    assert.equal(d.trades, k.trades, `${k.day} trades`);
    close(d.equity_end, k.equity_end, `${k.day} equity at end`);
  }
  // The curve: every account row of the window after the one before it, the drawdown below the peak.
  assert.deepEqual(doc.equity.map((p) => p.equity), [10000, 9999.9, 10009.69, 10009.59, 10007.55, 10001.48, 10001.27]);
  close(Math.max(...doc.equity.map((p) => p.drawdown)), KNOWN.max_drawdown, 'deepest point of the curve');
  assert.equal(doc.equity[0]!.ts_ms, SINCE, 'the curve starts where the account stood at --since');
});

test('a symbol: its money only; equity stays the account\'s', async () => {
  const doc = await report(store, { ...scope, symbol: 'BTC-USDT' });
  close(doc.summary.realized, KNOWN.btc.realized, 'BTC realized');
  close(doc.summary.fees, KNOWN.btc.fees, 'BTC fees');
  assert.equal(doc.summary.trades, 1);
  assert.deepEqual(doc.symbols.map((s) => s.symbol), ['BTC-USDT']);
  close(doc.summary.max_drawdown, KNOWN.max_drawdown, 'the account\'s drawdown');
});

test('an empty window answers zeros, not errors', async () => {
  const doc = await report(store, { ...scope, since_ms: T + 100 * MIN, until_ms: T + 200 * MIN });
  assert.equal(doc.summary.trades, 0);
  assert.equal(doc.summary.win_rate, null);
  assert.equal(doc.summary.realized, 0);
  assert.deepEqual(doc.days, []);
  // The account stood at its last row: one point, no fall.
  assert.equal(doc.summary.max_drawdown, 0);
  assert.equal(doc.summary.equity_end, 10001.27);
});

test('timeline rows: each once, the window half-open, slot changes only', async () => {
  const have = await presentTables(store, config.database);
  const rows = await timelineRows(store, scope, have);
  assert.deepEqual(rows.truncated, []);
  assert.deepEqual(rows.anomalies.map((a) => a.code).sort(), ['ENGINE_STARTED', 'EXIT_ORDER_REJECTED', 'OPERATOR_HALT', 'POSITION_ADOPTED', 'RATE_LIMITED']);
  assert.equal(rows.anomalies.find((a) => a.code === 'RATE_LIMITED')!.ts_ms, SINCE, 'the row at --since is in, the one at --until is out');
  assert.equal(rows.fills.length, 6, 'A 2, B 3, C 1 in the window, each once (D is before it)');
  assert.equal(rows.legs.length, 3);
  assert.deepEqual(rows.trades.map((t) => `${t.trade_id}:${t.status}`).sort(), ['A:closed', 'B:closed', 'C:open']);
  assert.deepEqual(rows.funding.map((f) => f.funding_id).sort(), ['fu-btc-1', 'fu-eth-1']);
  const slots = rows.slots.map((s) => `${s.symbol} ${s.prev_state || '-'}>${s.state} ${s.ts_ms - T}`).sort();
  assert.deepEqual(slots, [
    `BTC-USDT CLOSED>OPEN ${0}`, `BTC-USDT CLOSED>OPEN ${25 * MIN}`, `BTC-USDT OPEN>CLOSED ${5 * MIN}`,
    `ETH-USDT ->OPEN ${10 * MIN}`, `ETH-USDT OPEN>CLOSED ${20 * MIN}`,
  ].sort());
});

test('timeline events: ordered, kinds, hints, a liquidation apart; a symbol keeps engine-wide events', async () => {
  const doc = await timeline(store, scope);
  const ts = doc.events.map((e) => e.ts_ms);
  assert.deepEqual(ts, [...ts].sort((a, b) => a - b), 'chronological');
  const kinds = new Set(doc.events.map((e) => e.kind));
  for (const k of ['engine', 'operator', 'fault', 'reconcile', 'decision', 'order', 'fill', 'exit_leg', 'liquidation', 'trade', 'slot', 'funding']) assert.ok(kinds.has(k as never), `kind ${k}`);
  const reject = doc.events.find((e) => e.code === 'EXIT_ORDER_REJECTED')!;
  assert.equal(reject.hint, 'pink fault EXIT_ORDER_REJECTED');
  assert.equal(reject.symbol, 'BTC-USDT');
  assert.match(reject.detail, /venue said no/);
  assert.equal(doc.events.find((e) => e.code === 'ENGINE_STARTED')!.hint, null, 'INFO codes carry no hint');
  // A reconcile's correction is its own kind, in its place, with the taxonomy hint; not a fault.
  const rec = doc.events.filter((e) => e.kind === 'reconcile');
  assert.deepEqual(rec.map((e) => [e.code, e.symbol, e.severity, e.hint, e.ts_ms - T]), [['POSITION_ADOPTED', 'ETH-USDT', 'WARNING', 'pink fault POSITION_ADOPTED', 22 * MIN]]);
  assert.match(rec[0]!.detail, /^WARNING POSITION_ADOPTED: adopted the venue's short 0\.2 @ 215$/);
  assert.ok(!doc.events.some((e) => e.kind === 'fault' && e.code === 'POSITION_ADOPTED'));
  const liq = doc.events.filter((e) => e.kind === 'liquidation');
  assert.equal(liq.length, 1);
  assert.equal(liq[0]!.symbol, 'ETH-USDT');
  close(doc.cost.realized, KNOWN.realized, 'cost realized');
  close(doc.cost.net, KNOWN.realized - KNOWN.fees - KNOWN.funding, 'cost net');
  const eth = await timeline(store, { ...scope, symbol: 'ETH-USDT' });
  assert.ok(eth.events.every((e) => e.symbol === 'ETH-USDT' || e.symbol === null), 'ETH and engine-wide only');
  assert.ok(eth.events.some((e) => e.kind === 'engine'), 'the engine start is part of every symbol\'s story');
  assert.ok(!eth.events.some((e) => e.code === 'EXIT_ORDER_REJECTED'), 'BTC\'s fault is not ETH\'s');
  // Same rows → same events (buildEvents is pure).
  assert.deepEqual(buildEvents(await timelineRows(store, scope, await presentTables(store, config.database))), doc.events);
});

test('a fresh database: no tables, empty answers', async () => {
  const fresh = { ...scope, database: 'pink_observe_never_created' };
  const t = await timeline(store, fresh);
  assert.deepEqual(t.events, []);
  const r = await report(store, fresh);
  assert.equal(r.summary.trades, 0);
  assert.equal(r.summary.max_drawdown, null);
});
