// Bad input fuzzing, venue payloads: the real adapter (openVenue: real ccxt, real HTTP) pointed at
// a tiny loopback server that answers with the captured BingX payloads of ../shared/fixtures/bingx,
// mutated: truncated, a field of the wrong type, a key gone, an unknown enum, an error code, a
// wrong HTTP status, not JSON at all. Whatever it reads, poll and send return kernel inputs
// (never throw), snapshot and lookupOrder return or throw only VenueReadError, and the kernel fed
// those inputs never throws.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { loadConfig } from '../../src/config.js';
import { ExitError } from '../../src/errors.js';
import { clientOrderId } from '../../src/engine/kernel/index.js';
import type { KernelInput, VenueCommand } from '../../src/engine/kernel/types.js';
import { openVenue, VenueReadError, type Venue } from '../../src/engine/venue/index.js';
import { startSim } from '../../src/sim/index.js';
import { ROOT } from '../support/cli.js';
import { Harness } from '../kernel/harness.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
interface Example {
  httpResponse: Json;
}

const FIXTURES = JSON.parse(readFileSync(resolve(ROOT, '..', 'shared', 'fixtures', 'bingx', 'response-swap.json'), 'utf8')) as { methods: Record<string, Example[]> };
const bodies = (method: string): Json[] => FIXTURES.methods[method]!.map((e) => e.httpResponse);
const SYMBOLS = ['BTC-USDT', 'LTC-USDT'];
const HISTORY = 'fuzzhist01';
const COID = clientOrderId(HISTORY, 'fuzz-entry');

/** What each path answers, from the captures (GET /trade/order and DELETE share fetchOrder's shape). */
function capturesFor(method: string, path: string, query: URLSearchParams): Json[] {
  if (path.endsWith('/quote/ticker')) return bodies('fetchTicker').map((b) => (query.has('symbol') ? b : { ...(b as Record<string, Json>), data: [(b as Record<string, Json>)['data']!] }));
  if (path.endsWith('/user/balance')) return bodies('fetchBalance');
  if (path.endsWith('/user/positions')) return bodies('fetchPositions');
  if (path.endsWith('/trade/order') && method === 'POST') return bodies('createOrder');
  if (path.endsWith('/trade/order')) return bodies('fetchOrder');
  if (path.endsWith('/trade/openOrders') || path.endsWith('/trade/allOrders')) return bodies('fetchClosedOrders');
  if (path.endsWith('/trade/allFillOrders')) return bodies('fetchMyTrades');
  return [{ code: 100400, msg: 'this api is not exist', data: {} }];
}

// ---- mutations ------------------------------------------------------------------------------

interface Mutation {
  /** Which capture of the path, when it has several. */
  pick: number;
  /** Make the orders and fills PINK's (so poll reports them as FILL events). */
  pink: boolean;
  edits: { at: number; op: 'type' | 'drop' | 'enum' | 'null' | 'huge'; value: Json }[];
  envelope: 'ok' | 'code' | 'data-null' | 'data-list' | 'data-scalar';
  code: number | string;
  body: 'json' | 'truncate' | 'html' | 'empty';
  cut: number;
  status: number;
}

const weird: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, '', 'NaN', '-1', '1e309', 'abc', 0, -1, 1e308, true, [], {}, 'UNKNOWN_SIDE', '2024-13-45T99:99:99Z'),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);
const mutation: fc.Arbitrary<Mutation> = fc.record({
  pick: fc.nat({ max: 3 }),
  pink: fc.boolean(),
  edits: fc.array(fc.record({ at: fc.nat({ max: 400 }), op: fc.constantFrom('type', 'drop', 'enum', 'null', 'huge'), value: weird }), { maxLength: 4 }),
  envelope: fc.constantFrom('ok', 'ok', 'ok', 'code', 'data-null', 'data-list', 'data-scalar'),
  code: fc.constantFrom<number | string>(100410, 100500, 80016, 101204, 110425, 100001, 80014, '109400', -1, 'x'),
  body: fc.constantFrom('json', 'json', 'json', 'truncate', 'html', 'empty'),
  cut: fc.nat({ max: 2000 }),
  status: fc.constantFrom(200, 200, 200, 200, 400, 403, 404, 418, 429, 500, 502, 504),
});

/** Every (parent, key) of a JSON tree, in a stable order. */
function slots(root: Json): { parent: Record<string, Json> | Json[]; key: string | number }[] {
  const out: { parent: Record<string, Json> | Json[]; key: string | number }[] = [];
  const walk = (v: Json): void => {
    if (Array.isArray(v)) v.forEach((x, i) => (out.push({ parent: v, key: i }), walk(x)));
    else if (v !== null && typeof v === 'object') for (const k of Object.keys(v)) (out.push({ parent: v, key: k }), walk(v[k]!));
  };
  walk(root);
  return out;
}

const ENUM_KEYS = /side|status|type|positionSide|currency|asset|symbol/i;

function mutate(capture: Json, m: Mutation): { status: number; text: string } {
  const body = structuredClone(capture) as Record<string, Json>;
  if (m.pink) {
    for (const s of slots(body)) {
      if (typeof s.key === 'string' && /^clientOrderI[dD]$/.test(s.key)) (s.parent as Record<string, Json>)[s.key] = COID;
    }
  }
  const all = slots(body);
  for (const e of m.edits) {
    if (all.length === 0) break;
    const s = all[e.at % all.length]!;
    const p = s.parent as Record<string | number, Json>;
    if (e.op === 'drop' && !Array.isArray(s.parent)) delete p[s.key];
    else if (e.op === 'null') p[s.key] = null;
    else if (e.op === 'huge') p[s.key] = typeof p[s.key] === 'string' ? '9'.repeat(400) : 1e308;
    else if (e.op === 'enum') p[s.key] = typeof s.key === 'string' && ENUM_KEYS.test(s.key) ? 'SIDEWAYS' : e.value;
    else p[s.key] = e.value;
  }
  if (m.envelope === 'code') Object.assign(body, { code: m.code, msg: 'fuzzed error' });
  else if (m.envelope === 'data-null') body['data'] = null;
  else if (m.envelope === 'data-list') body['data'] = [body['data'] ?? null];
  else if (m.envelope === 'data-scalar') body['data'] = 'x';
  const text = JSON.stringify(body);
  if (m.body === 'truncate') return { status: m.status, text: text.slice(0, m.cut % Math.max(1, text.length)) };
  if (m.body === 'html') return { status: m.status, text: '<html><body>502 Bad Gateway</body></html>' };
  if (m.body === 'empty') return { status: m.status, text: '' };
  return { status: m.status, text };
}

// ---- the loopback venue ---------------------------------------------------------------------

let contracts = '';
let current: Mutation | null = null;
let server: Server;
let url = '';
let venue: Venue;
const HOME = mkdtempSync(join(tmpdir(), 'pink-fuzz-venue-'));

function answer(req: IncomingMessage, res: ServerResponse): void {
  const u = new URL(req.url ?? '/', 'http://fuzz.invalid');
  let status = 200;
  let text: string;
  if (u.pathname.endsWith('/quote/contracts')) text = contracts;
  else if (u.pathname.endsWith('/server/time')) text = JSON.stringify({ code: 0, msg: '', data: { serverTime: Date.now() } });
  else {
    const captures = capturesFor(req.method ?? 'GET', u.pathname, u.searchParams);
    const m = current;
    const capture = captures[(m?.pick ?? 0) % captures.length]!;
    ({ status, text } = m === null ? { status: 200, text: JSON.stringify(capture) } : mutate(capture, m));
  }
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
  res.end(text);
}

before(async () => {
  // The one payload not captured (linear swap markets) comes from the simulator, unmutated.
  const sim = await startSim({ symbols: ['BTC-USDT', 'ETH-USDT', 'LTC-USDT'] });
  contracts = await (await fetch(`${sim.url}/openApi/swap/v2/quote/contracts`)).text();
  await sim.close();
  server = createServer((req, res) => req.resume().on('end', () => answer(req, res)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const config = loadConfig({ PINK_HOME: HOME, PINK_SIM_URL: url, DOLPHIN_PINK_SYMBOLS: SYMBOLS.join(',') });
  const fast = { rate_per_s: 100_000, burst: 100_000 };
  venue = await openVenue(config, { timeoutMs: 3000, rates: { orders: fast, account_reads: fast, ip: fast } });
});

after(async () => {
  await venue?.close();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  rmSync(HOME, { recursive: true, force: true });
});

/** A kernel that knows the order COID (an ENTER accepted), to feed what the adapter returns. */
function kernelWithOrder(): Harness {
  const h = new Harness({ history_id: HISTORY, namespace: 'pink', initial_capital_usdt: 10_000, rate_limit_cooldown_ms: 1000, rate_limit_persistent_ms: 600_000, max_hold_bars: 250, symbols: SYMBOLS });
  h.tick({ 'BTC-USDT': 60_000, 'LTC-USDT': 80 });
  h.enter('fuzz-entry', 'LTC-USDT', 'long', 0.1);
  return h;
}

function feed(h: Harness, inputs: KernelInput[]): void {
  assert.ok(Array.isArray(inputs));
  for (const input of inputs) {
    assert.ok(['TICK', 'VENUE_OK', 'EVENT', 'RATE_LIMITED', 'VENUE_UNAVAILABLE', 'SEND_UNKNOWN'].includes(input.type), `input type ${input.type}`);
    const out = h.k.apply(input);
    assert.ok(out.length >= 1);
  }
}

function readFailureOnly(err: unknown): void {
  assert.ok(err instanceof VenueReadError || err instanceof ExitError, `threw ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
  if (err instanceof VenueReadError) assert.ok(['RATE_LIMITED', 'VENUE_UNAVAILABLE'].includes(err.input.type));
}

const place: VenueCommand = { kind: 'PLACE', client_order_id: COID, intent_id: 'fuzz-entry', symbol: 'LTC-USDT', side: 'buy', qty: 0.1, order_type: 'market', reduce_only: false };
const cancel: VenueCommand = { kind: 'CANCEL', client_order_id: COID, venue_order_id: '1770683446830788608', symbol: 'LTC-USDT' };

test('fuzz: the unmutated captures read as kernel inputs (the baseline the mutations start from)', async () => {
  current = null;
  const polled = await venue.poll(SYMBOLS, Date.now());
  assert.deepEqual(polled.slice(0, 2).map((i) => i.type), ['TICK', 'VENUE_OK']);
  const snap = await venue.snapshot(SYMBOLS, Date.now() - 3600_000, Date.now());
  assert.ok(snap.positions.some((p) => p.symbol === 'LTC-USDT'), JSON.stringify(snap.positions));
  const sent = await venue.send([place], Date.now());
  assert.equal(sent[0]?.type, 'EVENT');
});

test('fuzz: mutated payloads: poll and send return kernel inputs, snapshot and lookup fail only with VenueReadError, the kernel never throws', async () => {
  const seen = new Set<string>();
  await fc.assert(
    fc.asyncProperty(mutation, fc.constantFrom('poll', 'snapshot', 'place', 'cancel', 'lookup'), async (m, op) => {
      current = m;
      const h = kernelWithOrder();
      try {
        if (op === 'poll') {
          const inputs = await venue.poll(SYMBOLS, h.next());
          feed(h, inputs);
          seen.add(`poll:${inputs[0]?.type}`);
        } else if (op === 'place' || op === 'cancel') {
          const inputs = await venue.send([op === 'place' ? place : cancel], h.next());
          assert.ok(inputs.length >= 1, 'every command gets an answer');
          feed(h, inputs);
          seen.add(`${op}:${inputs[0]!.type === 'EVENT' ? inputs[0]!.event.kind : inputs[0]!.type}`);
        } else if (op === 'snapshot') {
          try {
            const snap = await venue.snapshot(SYMBOLS, Date.now() - 3600_000, Date.now());
            h.k.apply({ type: 'RECONCILE', ts: h.next(), snapshot: snap, adopt_orphans: true });
            seen.add('snapshot:ok');
          } catch (err) {
            readFailureOnly(err);
            seen.add('snapshot:failed');
          }
        } else {
          try {
            const found = await venue.lookupOrder(COID, 'LTC-USDT');
            assert.ok(found === null || typeof found.venue_order_id === 'string');
            seen.add(`lookup:${found === null ? 'none' : found.status}`);
          } catch (err) {
            readFailureOnly(err);
            seen.add('lookup:failed');
          }
        }
      } finally {
        current = null;
      }
    }),
    { seed: 13, numRuns: 1500 },
  );
  // Both sides of each operation were reached: the mutations are neither all harmless nor all fatal.
  for (const want of ['poll:TICK', 'poll:VENUE_UNAVAILABLE', 'poll:RATE_LIMITED', 'snapshot:ok', 'snapshot:failed', 'place:ACCEPTED', 'place:REJECTED', 'place:SEND_UNKNOWN', 'lookup:failed']) {
    assert.ok(seen.has(want), `never reached ${want}: ${[...seen].sort().join(', ')}`);
  }
});
