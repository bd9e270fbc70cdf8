// The simulator against the ground truth: ../shared/fixtures/bingx (real BingX payloads and
// the requests ccxt sends, copied from ccxt's static tests). Two checks:
//  1. requests: every captured request whose endpoint the simulator serves is replayed through
//     the real ccxt client; ccxt must send the same path and parameters, and the simulator
//     must answer it (code 0).
//  2. responses: for each captured response the simulator can produce, the simulator's body
//     has the captured envelope, keys and value types, and ccxt parses both into the same
//     unified fields with the same types (the captured body is served to a second ccxt client
//     by a stub server, so both go through the same HTTP path of the same ccxt version).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { ROOT } from '../support/cli.js';
import { findRoute } from '../../src/sim/routes.js';
import { BTC, ETH, LTC, ccxtClient, simWithClient, type Bingx, type SimWithClient } from './support.js';

/** ../shared beside the checkout, found upward (a git worktree sits deeper than the main checkout). */
function fixturesDir(): string {
  for (let dir = resolve(ROOT, '..'), i = 0; i < 4; dir = resolve(dir, '..'), i++) {
    const candidate = join(dir, 'shared', 'fixtures', 'bingx');
    if (existsSync(candidate)) return candidate;
  }
  return join(resolve(ROOT, '..', 'shared'), 'fixtures', 'bingx');
}
const FIXTURES = fixturesDir();
interface Example { description: string; method: string; input: unknown[]; url?: string; httpResponse?: unknown; parsedResponse?: unknown }
const load = (name: string) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')).methods as Record<string, Example[]>;
const REQUESTS = load('request-swap.json');
const RESPONSES = load('response-swap.json');

/** Captured requests the simulator does not serve, and why (TWAP orders are not simulated). */
const NOT_SERVED = new Set(['/openApi/swap/v1/twap/cancelOrder', '/openApi/swap/v1/twap/openOrders']);
/** Query values that legitimately differ on replay: the clock, the signature, venue ids, "now". */
const VOLATILE = new Set(['timestamp', 'signature', 'orderId', 'endTs']);
const VERB: Record<string, 'GET' | 'POST' | 'DELETE'> = { createOrder: 'POST', cancelOrder: 'DELETE', cancelAllOrders: 'DELETE', setLeverage: 'POST', setMarginMode: 'POST' };

// ---- shapes --------------------------------------------------------------------------------
type Shape = string | Shape[] | { [key: string]: Shape };
function shapeOf(v: unknown): Shape {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return v.length === 0 ? [] : [shapeOf(v[0])];
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, shapeOf(x)]));
  return typeof v;
}
function diff(actual: Shape, expected: Shape, path: string, out: string[]): string[] {
  if (typeof expected === 'string' || typeof actual === 'string') {
    if (JSON.stringify(actual) !== JSON.stringify(expected) && !(typeof actual !== 'string' && typeof expected !== 'string')) {
      out.push(`${path || '.'}: ${JSON.stringify(actual)} where the capture has ${JSON.stringify(expected)}`);
    }
    return out;
  }
  if (Array.isArray(expected) || Array.isArray(actual)) {
    if (!Array.isArray(expected) || !Array.isArray(actual)) out.push(`${path}: array vs object`);
    else if (expected.length > 0 && actual.length > 0) diff(actual[0] as Shape, expected[0] as Shape, `${path}[0]`, out);
    else if (expected.length > 0) out.push(`${path}: empty where the capture has items`);
    return out;
  }
  for (const key of Object.keys(expected)) {
    if (!(key in actual)) out.push(`${path}.${key}: missing`);
    else diff(actual[key] as Shape, expected[key] as Shape, `${path}.${key}`, out);
  }
  for (const key of Object.keys(actual)) if (!(key in expected)) out.push(`${path}.${key}: not in the capture`);
  return out;
}
/** ccxt results hold `undefined`, which a capture (JSON) cannot: compare JSON round trips. */
const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

// ---- the stub that serves a captured body to a second ccxt client -------------------------------
let stub: Server;
let stubBody = '{}';
let world: SimWithClient;
let ref: Bingx;

before(async () => {
  world = await simWithClient();
  stub = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(stubBody));
  await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
  ref = ccxtClient(`http://127.0.0.1:${(stub.address() as AddressInfo).port}`);
  ref.setMarkets(world.ex.markets);
});
after(async () => {
  await world.close();
  await new Promise((r) => stub.close(r));
});

test('every captured request the simulator serves is replayed through ccxt unchanged and answered', async () => {
  const { ex, sim } = world;
  const ids: Record<string, string> = {};
  // Each captured example, adapted only where it names venue state (order ids) the simulator
  // cannot know; the setup gives the simulator that state first.
  const setup: Record<string, () => Promise<unknown[] | undefined>> = {
    'cancelOrder#0': async () => {
      const o = await ex.createOrder(BTC, 'limit', 'buy', 0.001, 50000);
      return [o.id, BTC];
    },
    'cancelOrder#1': async () => {
      await ex.createOrder(LTC, 'limit', 'buy', 0.1, 50, { clientOrderId: 'myorder2' });
      return undefined;
    },
    'fetchOrder#0': async () => [ids['createOrder#0'], LTC],
  };
  let replayed = 0;
  const skipped: string[] = [];
  for (const [method, examples] of Object.entries(REQUESTS)) {
    for (const [i, example] of examples.entries()) {
      const captured = new URL(example.url as string);
      if (NOT_SERVED.has(captured.pathname)) {
        skipped.push(captured.pathname);
        continue;
      }
      assert.ok(findRoute(VERB[method] ?? 'GET', captured.pathname), `${method}: the simulator serves ${captured.pathname}`);
      // JSON has no undefined: a captured null argument stands for an omitted one.
      const input = (await setup[`${method}#${i}`]?.()) ?? example.input.map((a) => (a === null ? undefined : a));
      const result = await (ex as any)[method](...input);
      if (method === 'createOrder') ids[`createOrder#${i}`] = result.id;
      const sent = sim.requests().at(-1)!;
      const label = `${method} #${i} (${example.description})`;
      assert.equal(sent.path, captured.pathname, label);
      const want = Object.fromEntries([...captured.searchParams].filter(([k]) => !VOLATILE.has(k)));
      const got = Object.fromEntries(Object.entries(sent.query).filter(([k]) => !VOLATILE.has(k)));
      assert.deepEqual(got, want, `${label}: parameters`);
      for (const k of ['orderId', 'endTs']) assert.equal(k in sent.query, captured.searchParams.has(k), `${label}: ${k} present`);
      const body = JSON.parse(String(ex.last_http_response));
      assert.equal(String(body.code), '0', `${label}: answered ${JSON.stringify(body).slice(0, 200)}`);
      replayed += 1;
    }
  }
  assert.deepEqual([...new Set(skipped)].sort(), [...NOT_SERVED].sort(), 'only TWAP requests are skipped');
  assert.ok(replayed >= 20, `replayed ${replayed}`);
});

interface ResponseCase {
  method: string;
  example: number;
  /** Prepares the simulator and returns the ccxt arguments for the simulator's call. */
  prepare: (ex: Bingx) => Promise<unknown[]>;
  /** Differences the capture explains (path → why). */
  allowed?: Record<string, string>;
}

const CASES: ResponseCase[] = [
  { method: 'fetchTicker', example: 0, prepare: async () => [BTC] },
  { method: 'fetchBalance', example: 0, prepare: async () => [] },
  {
    method: 'fetchPositions',
    example: 0,
    prepare: async (ex) => {
      await ex.createOrder(LTC, 'market', 'buy', 0.1);
      return [[LTC]];
    },
  },
  {
    method: 'createOrder',
    example: 0,
    prepare: async () => [ETH, 'limit', 'buy', 0.01, 1000],
    allowed: {
      'raw.data.stopLoss': 'the captured order carried an attached stop-loss (not simulated); without one BingX sends ""',
      'parsed.stopLossPrice': 'same: the captured order had a stop-loss at 900',
      'parsed.info.stopLoss': 'same, inside info',
    },
  },
  {
    method: 'fetchOrder',
    example: 0,
    prepare: async (ex) => {
      const o = await ex.createOrder(LTC, 'market', 'sell', 0.1, undefined, { clientOrderId: 'contract-fetch-1', reduceOnly: true });
      return [o.id, LTC];
    },
  },
  {
    method: 'fetchClosedOrders',
    example: 0,
    prepare: async () => [LTC, undefined, 1],
    allowed: Object.fromEntries(
      ['onlyOnePosition', 'reduceOnly', 'stopGuaranteed', 'triggerOrderId'].flatMap((k) => [
        [`raw.data.orders[0].${k}`, 'newer BingX order payloads (the fetchOrder capture) carry it'],
        [`parsed[0].info.${k}`, 'same, inside info'],
      ]).concat([
        ['parsed[0].clientOrderId', "the simulator's newest LTC order carries a clientOrderId; the captured one had none (\"\")"],
        ['parsed[0].reduceOnly', 'the older captured payload has no reduceOnly field'],
      ]),
    ),
  },
  { method: 'fetchMyTrades', example: 0, prepare: async () => [LTC, undefined, 1] },
  { method: 'fetchMyTrades', example: 1, prepare: async () => [LTC, undefined, 1] },
];

for (const c of CASES) {
  const example = () => RESPONSES[c.method]?.[c.example] as Example;
  test(`response ${c.method} #${c.example}: same envelope, keys and types as the capture, parsed alike by ccxt`, async () => {
    const captured = example();
    assert.ok(captured?.httpResponse, 'the capture exists');
    const args = await c.prepare(world.ex);
    const simParsed = await (world.ex as any)[c.method](...args);
    const simRaw = JSON.parse(String(world.ex.last_http_response));
    stubBody = JSON.stringify(captured.httpResponse);
    const refParsed = await (ref as any)[c.method](...captured.input);
    const problems = [
      ...diff(shapeOf(simRaw), shapeOf(captured.httpResponse), 'raw', []),
      ...diff(shapeOf(json(simParsed)), shapeOf(json(refParsed)), 'parsed', []),
    ].filter((p) => !Object.keys(c.allowed ?? {}).some((path) => p.startsWith(`${path}:`)));
    assert.deepEqual(problems, [], `${c.method}: differences from the capture`);
    assert.equal(typeof simRaw.code, typeof (captured.httpResponse as { code: unknown }).code, 'code is 0 or "0" as captured');
  });
}

test('the shape checker itself notices a missing key, an extra key and a type change', () => {
  const problems = diff(shapeOf({ a: '1', b: 2, c: true }), shapeOf({ a: 1, b: 2, d: null }), 'raw', []);
  assert.deepEqual(problems.sort(), ['raw.a: "string" where the capture has "number"', 'raw.c: not in the capture', 'raw.d: missing'].sort());
});
