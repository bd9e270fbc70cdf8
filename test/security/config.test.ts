// Issue 17, cases 4 and 7 (settings): BLUE's and ClickHouse's databases are never PINK's, and
// every numeric setting has a documented range; outside it, exit 2 naming the variable and the
// range, before anything starts. Through the real binary (`pink fault` reads the whole
// configuration too, and needs no engine, store or network).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { startSim } from '../../src/sim/index.js';
import { runPink, tempDir } from '../support/cli.js';

test('PINK refuses dolphin, system, default, information_schema, INFORMATION_SCHEMA as its database, whatever BLUE is said to be', async () => {
  const dir = tempDir('pink-db-');
  // A simulator that answers, so that only the database name can stop the run.
  const sim = await startSim({ seed: 1, priceWalk: false });
  try {
    for (const db of ['dolphin', 'system', 'default', 'information_schema', 'INFORMATION_SCHEMA', 'System']) {
      const home = join(dir.path, `home-${db}`);
      const r = await runPink(['run', '--steps', '1'], { PINK_HOME: home, DOLPHIN_LOG_DIR: join(dir.path, 'logs'), DOLPHIN_PINK_CH_DATABASE: db, DOLPHIN_BLUE_CH_DATABASE: 'blue_elsewhere', PINK_SIM_URL: sim.url });
      assert.equal(r.code, 2, `${db}: exit ${r.code}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`^pink: DOLPHIN_PINK_CH_DATABASE="${db}" is refused`));
      assert.match(r.stderr, /fix: Set DOLPHIN_PINK_CH_DATABASE to PINK's own database/);
      assert.equal(existsSync(home), false, `${db}: nothing created`);
    }
    const own = await runPink(['fault', 'OK'], { PINK_HOME: join(dir.path, 'h'), DOLPHIN_PINK_CH_DATABASE: 'dolphin_pink_2', DOLPHIN_BLUE_CH_DATABASE: 'dolphin' });
    assert.equal(own.code, 0, own.stderr);
  } finally {
    await sim.close();
    dir.remove();
  }
});

test('numeric settings: out of range is exit 2 naming the variable and the range; the bounds themselves are accepted', async () => {
  const out: Array<[string, string, RegExp]> = [
    ['DOLPHIN_PINK_POLL_INTERVAL_SEC', '1e9', /0\.05-60 s/],
    ['DOLPHIN_PINK_POLL_INTERVAL_SEC', '1e300', /0\.05-60 s/],
    ['DOLPHIN_PINK_POLL_INTERVAL_SEC', '0.01', /0\.05-60 s/],
    ['DOLPHIN_PINK_POLL_INTERVAL_SEC', '61', /0\.05-60 s/],
    ['DITA_V2_RATE_LIMIT_COOLDOWN_SEC', '3601', /0-3600 s/],
    ['DITA_V2_RATE_LIMIT_COOLDOWN_SEC', '-1', /0-3600 s/],
    ['DOLPHIN_MAX_HOLD_BARS', '0', /1-100000 bars/],
    ['DOLPHIN_MAX_HOLD_BARS', '100001', /1-100000 bars/],
    ['DOLPHIN_MAX_HOLD_BARS', '1e9', /1-100000 bars/],
    ['DOLPHIN_PINK_TRADE_NOTIONAL', '1e300', /1-1000000 USDT/],
    ['DOLPHIN_PINK_INITIAL_CAPITAL', '1e300', /1-1000000000 USDT/],
  ];
  for (const [name, value, range] of out) {
    const r = await runPink(['fault', 'OK'], { PINK_HOME: '/tmp/pink-range-home', [name]: value });
    assert.equal(r.code, 2, `${name}=${value}: exit ${r.code}`);
    assert.match(r.stderr, new RegExp(`^pink: ${name}="${value.replace(/[.+]/g, '\\$&')}" is not valid: expected .* from `));
    assert.match(r.stderr, range, `${name}=${value}: names the range`);
  }
  const bounds: Array<[string, string]> = [
    ['DOLPHIN_PINK_POLL_INTERVAL_SEC', '0.05'],
    ['DOLPHIN_PINK_POLL_INTERVAL_SEC', '60'],
    ['DITA_V2_RATE_LIMIT_COOLDOWN_SEC', '0'],
    ['DITA_V2_RATE_LIMIT_COOLDOWN_SEC', '3600'],
    ['DOLPHIN_MAX_HOLD_BARS', '1'],
    ['DOLPHIN_MAX_HOLD_BARS', '100000'],
  ];
  for (const [name, value] of bounds) {
    const r = await runPink(['fault', 'OK'], { PINK_HOME: '/tmp/pink-range-home', [name]: value });
    assert.equal(r.code, 0, `${name}=${value} is in range: ${r.stderr}`);
  }
});

test("PINK takes none of its own settings from BLUE's variables: they land only where mode-verify compares them", () => {
  // Each BLUE variable PINK knows of, with a value found nowhere else; none of PINK's own set.
  const blue = {
    DOLPHIN_BINGX_API_KEY_BLUE: 'blue-key-7f3a',
    DOLPHIN_BINGX_API_SECRET_BLUE: 'blue-secret-7f3a',
    DOLPHIN_LOG_DIR_BLUE: '/srv/blue-logs-7f3a',
    DOLPHIN_HOME_BLUE: '/srv/blue-home-7f3a',
    DOLPHIN_BLUE_CH_DATABASE: 'blue_db_7f3a',
  };
  const config = loadConfig({ HOME: '/home/pink-test', ...blue });
  const { blue: compared, blue_database, ...own } = config;
  const text = JSON.stringify(own);
  for (const [name, value] of Object.entries(blue)) assert.ok(!text.includes(value), `PINK's own settings carry ${name}: ${text}`);
  // Read for the comparison only, and there.
  assert.deepEqual(compared, { api_key: blue.DOLPHIN_BINGX_API_KEY_BLUE, log_dir: blue.DOLPHIN_LOG_DIR_BLUE, home: blue.DOLPHIN_HOME_BLUE });
  assert.equal(blue_database, blue.DOLPHIN_BLUE_CH_DATABASE);
});
