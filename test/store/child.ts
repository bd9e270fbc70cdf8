// A child process for the store tests that need a second process: one that spools while ClickHouse
// is unreachable and is then killed with -9, and one that holds the embedded store (as the running
// engine does). It prints one line when it is in the state the test wants, then waits to be killed.
//   node child.js spool <home> <database> <spoolDir> <closedPort>
//   node child.js hold  <home> <database>
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/engine/store/index.js';
import { tradeBatches } from './fixtures.js';

const [mode, home, database, spoolDir, port] = process.argv.slice(2);
const env: Record<string, string> = { PINK_HOME: home!, DOLPHIN_PINK_CH_DATABASE: database!, DOLPHIN_BLUE_CH_DATABASE: `${database}_blue` };

if (mode === 'spool') {
  const config = loadConfig({ ...env, PINK_CLICKHOUSE_URL: `http://127.0.0.1:${port}` });
  const store = await openStore({ config, runId: 'child', spoolDir: spoolDir!, allowUnreachable: true });
  for (const b of tradeBatches(3)) store.write(b);
  await store.flush();
  process.stdout.write(`SPOOLED ${store.stats().spooled_rows} ${store.stats().last_error}\n`);
} else if (mode === 'hold') {
  const config = loadConfig(env);
  const store = await openStore({ config, runId: 'child' });
  for (const b of tradeBatches(2)) store.write(b);
  await store.flush();
  process.stdout.write(`READY ${process.pid}\n`);
} else {
  throw new Error(`child: unknown mode ${mode}`);
}
// Held open until the test kills this process (kill -9 is the point).
setInterval(() => {}, 1_000);
