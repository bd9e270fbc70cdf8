// How the ccxt client is configured per venue, checked without any network: buildExchange
// makes no request, and every ccxt request passes through `fetch`, which is trapped here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config.js';
import { buildExchange, SIM_API_KEY, SIM_API_SECRET } from '../../src/engine/venue/connect.js';

const HOME = { PINK_HOME: '/tmp/pink-venue-client-test' };

test('bingx-vst: sandbox URLs (open-api-vst), swap only, ccxt limiter off, no currencies call; no request made', async () => {
  const config = loadConfig({ ...HOME, DOLPHIN_PINK_VENUE: 'bingx-vst', DOLPHIN_PINK_AUTHORIZE_VENUE: 'bingx-vst', DOLPHIN_PINK_BINGX_API_KEY: 'k1234', DOLPHIN_PINK_BINGX_API_SECRET: 's1234' });
  const { ex, secrets } = await buildExchange(config, { timeoutMs: 1234 });
  let requests = 0;
  ex.fetch = async () => {
    requests += 1;
    throw new Error('no network in this test');
  };
  const api = ex.urls['api'] as Record<string, string>;
  for (const url of Object.values(api)) assert.match(url.replace('{hostname}', String(ex.hostname)), /^https:\/\/open-api-vst\.bingx\.com\/openApi$/);
  assert.equal(ex.options['defaultType'], 'swap');
  assert.equal(ex.enableRateLimit, false);
  assert.equal(ex.timeout, 1234);
  assert.equal(ex.has['fetchCurrencies'], false);
  assert.deepEqual(secrets, ['k1234', 's1234']);
  assert.equal(requests, 0);
  // loadMarkets asks for the USDT-M contracts only: exactly one request.
  await assert.rejects(ex.loadMarkets());
  assert.equal(requests, 1);
});

test('bingx-live: production URLs; sim: every API URL at the simulator, default sim credentials', async () => {
  const live = loadConfig({ ...HOME, DOLPHIN_PINK_VENUE: 'bingx-live', DOLPHIN_PINK_BINGX_API_KEY: 'k1234', DOLPHIN_PINK_BINGX_API_SECRET: 's1234' });
  const { ex } = await buildExchange(live);
  for (const url of Object.values(ex.urls['api'] as Record<string, string>)) assert.match(url.replace('{hostname}', String(ex.hostname)), /^https:\/\/open-api\.bingx\.com\/openApi$/);
  const sim = await buildExchange(loadConfig({ ...HOME, PINK_SIM_URL: 'http://127.0.0.1:9/' }));
  for (const url of Object.values(sim.ex.urls['api'] as Record<string, string>)) assert.equal(url, 'http://127.0.0.1:9/openApi');
  assert.deepEqual([sim.ex.apiKey, sim.ex.secret], [SIM_API_KEY, SIM_API_SECRET]);
  await assert.rejects(buildExchange(loadConfig(HOME)), /simulator URL/);
});
