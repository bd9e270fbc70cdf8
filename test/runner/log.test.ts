// The logger writes under PINK's own names, the ones `pink fault` sends the operator to: a log
// folder may be shared with BLUE's supervisor (the default is), so a name that is not PINK's
// would mix PINK's lines into BLUE's file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LOG_PATHS } from '../../src/engine/faults/taxonomy.js';
import { createLogger } from '../../src/engine/runner/log.js';
import { tempDir } from '../support/cli.js';

test("the logger writes only the files the taxonomy names, each PINK's by name", () => {
  const dir = tempDir('pink-log-');
  try {
    const logger = createLogger(join(dir.path, 'logs'), []);
    logger.info('started');
    logger.fault('RATE_LIMITED', 'WARNING', 'BTC-USDT', '429');
    const names = readdirSync(join(dir.path, 'logs')).sort();
    assert.deepEqual(names, [LOG_PATHS.runtime, LOG_PATHS.errors].sort());
    for (const name of names) assert.match(name, /pink/, `${name} is not PINK's`);
    assert.match(readFileSync(join(dir.path, 'logs', LOG_PATHS.errors), 'utf8'), /WARNING RATE_LIMITED BTC-USDT 429/);
    assert.doesNotMatch(readFileSync(join(dir.path, 'logs', LOG_PATHS.errors), 'utf8'), /started/, 'INFO stays out of the error log');
  } finally {
    dir.remove();
  }
});
