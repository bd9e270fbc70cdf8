// The authorization gate (refuses before any connection) and redaction (no secret leaves).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { loadConfig, type Config } from '../../src/config.js';
import { ExitError } from '../../src/errors.js';
import { checkVenueAuthorization, openVenue, redact, redactReason } from '../../src/engine/venue/index.js';

const KEY = 'AKIAfakeKey0123456789';
const SECRET = 'sEcReT/with+chars=and&more';

function config(env: Record<string, string>): Config {
  return loadConfig({ PINK_HOME: '/tmp/pink-venue-test-home', ...env });
}

function refusal(fn: () => unknown): ExitError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ExitError, `expected ExitError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a refusal');
}

test('sim needs no authorization', () => {
  checkVenueAuthorization(config({}), false);
});

test('bingx-vst without key, secret or authorization: exit 2 naming each missing piece', () => {
  const cases: Array<[Record<string, string>, RegExp[]]> = [
    [{}, [/DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-vst \(unset\)/, /DOLPHIN_PINK_BINGX_API_KEY/, /DOLPHIN_PINK_BINGX_API_SECRET/]],
    [{ DOLPHIN_PINK_BINGX_API_KEY: KEY, DOLPHIN_PINK_BINGX_API_SECRET: SECRET }, [/DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-vst/]],
    [{ DOLPHIN_PINK_AUTHORIZE_VENUE: 'bingx-vst', DOLPHIN_PINK_BINGX_API_KEY: KEY }, [/DOLPHIN_PINK_BINGX_API_SECRET/]],
    [{ DOLPHIN_PINK_AUTHORIZE_VENUE: 'bingx-live', DOLPHIN_PINK_BINGX_API_KEY: KEY, DOLPHIN_PINK_BINGX_API_SECRET: SECRET }, [/it is "bingx-live"/]],
  ];
  for (const [env, patterns] of cases) {
    const e = refusal(() => checkVenueAuthorization(config({ DOLPHIN_PINK_VENUE: 'bingx-vst', ...env }), false));
    assert.equal(e.code, 2);
    for (const p of patterns) assert.match(e.message, p);
    assert.match(e.message, /Nothing was sent/);
    assert.ok(e.hint && /DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-vst/.test(e.hint));
    assert.ok(!e.message.includes(KEY) && !e.message.includes(SECRET) && !(e.hint ?? '').includes(SECRET));
  }
  checkVenueAuthorization(config({ DOLPHIN_PINK_VENUE: 'bingx-vst', DOLPHIN_PINK_AUTHORIZE_VENUE: 'bingx-vst', DOLPHIN_PINK_BINGX_API_KEY: KEY, DOLPHIN_PINK_BINGX_API_SECRET: SECRET }), false);
});

test('bingx-live needs DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-live AND --live', () => {
  const creds = { DOLPHIN_PINK_VENUE: 'bingx-live', DOLPHIN_PINK_BINGX_API_KEY: KEY, DOLPHIN_PINK_BINGX_API_SECRET: SECRET };
  let e = refusal(() => checkVenueAuthorization(config({ ...creds, DOLPHIN_PINK_AUTHORIZE_VENUE: 'bingx-live' }), false));
  assert.equal(e.code, 2);
  assert.match(e.message, /--live/);
  assert.doesNotMatch(e.message, /AUTHORIZE_VENUE/);
  e = refusal(() => checkVenueAuthorization(config(creds), true));
  assert.match(e.message, /DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-live/);
  assert.doesNotMatch(e.message, /--live/);
  e = refusal(() => checkVenueAuthorization(config({ ...creds, DOLPHIN_PINK_AUTHORIZE_VENUE: 'bingx-vst' }), true));
  assert.match(e.message, /it is "bingx-vst"/);
  checkVenueAuthorization(config({ ...creds, DOLPHIN_PINK_AUTHORIZE_VENUE: 'bingx-live' }), true);
});

test('openVenue refuses before opening any socket (bingx-vst, bingx-live)', async () => {
  // Every TCP connection in this process goes through net.Socket.prototype.connect.
  const original = net.Socket.prototype.connect;
  let connects = 0;
  net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
    connects += 1;
    return (original as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof original;
  try {
    const envs: Array<Record<string, string>> = [{ DOLPHIN_PINK_VENUE: 'bingx-vst' }, { DOLPHIN_PINK_VENUE: 'bingx-live', DOLPHIN_PINK_AUTHORIZE_VENUE: 'bingx-live' }];
    for (const env of envs) {
      await assert.rejects(openVenue(config(env), { live: false }), (err: unknown) => err instanceof ExitError && err.code === 2);
    }
  } finally {
    net.Socket.prototype.connect = original;
  }
  assert.equal(connects, 0);
});

test('redact strips key, secret (raw and URL-encoded), signature, X-BX-APIKEY and query strings', () => {
  const url = `https://open-api.bingx.com/openApi/swap/v2/trade/order?clientOrderID=pink-1&quantity=0.01&timestamp=1&signature=abcdef0123456789`;
  const texts = [
    `bingx POST ${url} request timed out (10000 ms)`,
    `headers {"X-BX-APIKEY":"${KEY}","X-SOURCE-KEY":"CCXT"} body secret=${encodeURIComponent(SECRET)}`,
    `X-BX-APIKEY: ${KEY}; key ${KEY} and secret ${SECRET}`,
    `signature=deadbeefcafe&x=1`,
  ];
  for (const t of texts) {
    const r = redact(t, [KEY, SECRET]);
    assert.ok(!r.includes(KEY), r);
    assert.ok(!r.includes(SECRET) && !r.includes(encodeURIComponent(SECRET)), r);
    assert.ok(!/abcdef0123456789|deadbeefcafe/.test(r), r);
  }
  assert.equal(redact(`bingx POST ${url} 504`, []), 'bingx POST https://open-api.bingx.com/openApi/swap/v2/trade/order?<redacted> 504');
  // Text without secrets is left alone; undefined and too-short secrets are ignored.
  assert.equal(redact('Insufficient margin', [undefined, 'ab']), 'Insufficient margin');
  const long = redactReason(`x\n${'y'.repeat(1000)}`, []);
  assert.ok(long.length <= 400 && !long.includes('\n'));
});

test('the real binary: `pink run --venue bingx-vst|bingx-live` without authorization exits 2, names the fix, prints no key', async () => {
  const { runPink, tempDir } = await import('../support/cli.js');
  const home = tempDir();
  try {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [['run', '--venue', 'bingx-vst', '--steps', '1'], { DOLPHIN_PINK_BINGX_API_KEY: KEY, DOLPHIN_PINK_BINGX_API_SECRET: SECRET }, /DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-vst/],
      [['run', '--venue', 'bingx-vst', '--steps', '1'], { DOLPHIN_PINK_AUTHORIZE_VENUE: 'bingx-vst' }, /DOLPHIN_PINK_BINGX_API_KEY/],
      [['run', '--venue', 'bingx-live', '--steps', '1'], { DOLPHIN_PINK_AUTHORIZE_VENUE: 'bingx-live', DOLPHIN_PINK_BINGX_API_KEY: KEY, DOLPHIN_PINK_BINGX_API_SECRET: SECRET }, /--live/],
    ];
    for (const [args, env, pattern] of cases) {
      const r = await runPink(args, { PINK_HOME: home.path, ...env });
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern);
      assert.ok(!(r.stdout + r.stderr).includes(KEY) && !(r.stdout + r.stderr).includes(SECRET));
    }
  } finally {
    home.remove();
  }
});
