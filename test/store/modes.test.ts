// Issue 17: what the embedded store creates is PINK's own whatever the umask. The engine runs
// under umask 0077, but the store must not rely on it (a library caller, a test, a future entry
// point may not set it): its folder and its insert staging folder are 0700, staging files 0600
// and never written through a symlink. Its own file, so its process's umask is its own.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { homePaths } from '../../src/config.js';
import { openStore } from '../../src/engine/store/index.js';
import { backendCases, configFor, dropDatabases, tmpHome, tradeBatches } from './fixtures.js';

const HOME = tmpHome('modes');
after(() => rmSync(HOME, { recursive: true, force: true }));

test('the embedded store\'s folders are 0700 under a umask that allows 0755', async () => {
  const umask = process.umask(0o022);
  const backend = backendCases().find((b) => b.name === 'chdb')!;
  const config = configFor(HOME, backend);
  try {
    const store = await openStore({ config, runId: 'modes' });
    try {
      await store.ensureSchema();
      for (const b of tradeBatches(2)) store.write(b);
      await store.flush();
    } finally {
      await store.close();
    }
    const folder = homePaths(HOME).clickhouse;
    assert.equal(statSync(folder).mode & 0o777, 0o700, folder);
    assert.equal(statSync(join(folder, 'pink_insert')).mode & 0o777, 0o700, 'the insert staging folder');
    assert.deepEqual(readdirSync(join(folder, 'pink_insert')), [], 'each staging file removed after its insert');
  } finally {
    process.umask(umask);
    await dropDatabases(config).catch(() => undefined);
  }
});
