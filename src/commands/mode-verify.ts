// `pink mode-verify`: proves namespace isolation from BLUE. Seven checks, PASS / WARN / FAIL with
// a reason each; exit 0 iff no FAIL. Secrets are compared, never printed.
import Table from 'cli-table3';
import { join, resolve, sep } from 'node:path';
import { homePaths, type Config } from '../config.js';
import { EXIT, ExitError } from '../errors.js';
import { isPinkClientOrderId } from '../engine/kernel/ids.js';
import { askEngine } from '../engine/runner/socket.js';
import { runningEnginePid } from '../engine/runner/lock.js';
import { readSimInfo } from '../engine/runner/sim-process.js';
import { ERROR_LOG, RUNTIME_LOG } from '../engine/runner/log.js';
import { inspectDir, inspectFile } from '../engine/runner/private-fs.js';
import type { Check } from '../engine/store/isolation.js';
import type { CommandRun, Context } from './types.js';
import { termWidth } from './text-fit.js';

export type { Check, CheckStatus } from '../engine/store/isolation.js';

/**
 * The `schema` and `blue-rows` checks where the store is: asked of the running engine (it holds the
 * embedded store; the socket answers the named query `isolation`, computed with the engine's own
 * databases), else on a store opened here. Either way, the same function (store/isolation.ts).
 */
async function storeChecks(ctx: Context): Promise<Check[]> {
  const { config } = ctx;
  const paths = homePaths(config.home);
  if (runningEnginePid(paths.pid) !== undefined) {
    const a = await askEngine(paths.socket, { op: 'query', name: 'isolation' }, 10_000);
    if (!a) throw new ExitError(EXIT.UNREACHABLE, 'the engine did not answer a store query.', 'Retry, or check `pink ditav2-status`.');
    if (!a.ok) throw new ExitError(EXIT.BAD, a.error);
    return a.data as Check[];
  }
  const [{ openStore }, { storeIsolationChecks }] = await Promise.all([import('../engine/store/index.js'), import('../engine/store/isolation.js')]);
  const store = await openStore({ config, runId: 'mode-verify' });
  try {
    return await storeIsolationChecks(store.readOnly, config, store.backend === 'chdb' ? 'embedded store' : 'ClickHouse server');
  } finally {
    await store.close();
  }
}

function checkStoreNames(config: Config): Check {
  if (config.database === config.blue_database) {
    return { id: 'store', status: 'FAIL', detail: `PINK's database is BLUE's (${config.blue_database}): set DOLPHIN_PINK_CH_DATABASE to PINK's own (default dolphin_pink)` };
  }
  return { id: 'store', status: 'PASS', detail: `PINK writes ${config.database}, BLUE is ${config.blue_database}; the writer refuses ${config.blue_database}` };
}

async function checkStoreContents(ctx: Context): Promise<Check[]> {
  const { config } = ctx;
  if (config.database === config.blue_database) {
    return [
      { id: 'schema', status: 'FAIL', detail: 'not compared: PINK and BLUE share one database' },
      { id: 'blue-rows', status: 'FAIL', detail: 'not checked: PINK and BLUE share one database' },
    ];
  }
  try {
    return await storeChecks(ctx);
  } catch (err) {
    // The store's own message says what went wrong (unreachable, refused password, too old a server).
    const msg = err instanceof Error ? err.message : String(err);
    return [
      { id: 'schema', status: 'FAIL', detail: `not compared: ${msg}` },
      { id: 'blue-rows', status: 'FAIL', detail: `not checked: ${msg}` },
    ];
  }
}

function checkEnv(config: Config): Check {
  // That PINK takes none of its own settings from a DOLPHIN_*_BLUE variable is a property of
  // loadConfig, tested there (test/security/config.test.ts), not something a run can change.
  const problems: string[] = [];
  if (config.api_key !== undefined && config.blue.api_key !== undefined && config.api_key === config.blue.api_key) {
    problems.push('PINK\'s API key (DOLPHIN_PINK_BINGX_API_KEY) is the same as BLUE\'s (DOLPHIN_BINGX_API_KEY_BLUE)');
  }
  if (config.database === config.blue_database) problems.push('DOLPHIN_PINK_CH_DATABASE equals DOLPHIN_BLUE_CH_DATABASE');
  if (config.blue.log_dir !== undefined && resolve(config.blue.log_dir) === config.log_dir) problems.push(`DOLPHIN_LOG_DIR is BLUE's log dir (DOLPHIN_LOG_DIR_BLUE)`);
  if (problems.length > 0) return { id: 'env', status: 'FAIL', detail: problems.join('; ') };
  const compared = [config.blue.api_key !== undefined ? 'API key' : '', 'database', config.blue.log_dir !== undefined ? 'log dir' : ''].filter((x) => x);
  return { id: 'env', status: 'PASS', detail: `PINK reads no DOLPHIN_*_BLUE setting for itself; compared with BLUE's: ${compared.join(', ')} differ` };
}

function checkVenue(config: Config): Check {
  if (config.venue === 'sim' || config.venue === 'bingx-vst') return { id: 'venue', status: 'PASS', detail: `venue ${config.venue}${config.venue === 'bingx-vst' && config.authorize_venue !== 'bingx-vst' ? ' (not authorized: pink run will refuse it)' : ''}` };
  return config.authorize_venue === 'bingx-live'
    ? { id: 'venue', status: 'WARN', detail: 'venue bingx-live, authorized (DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-live): real money' }
    : { id: 'venue', status: 'FAIL', detail: 'venue bingx-live without DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-live' };
}

async function checkOrders(ctx: Context): Promise<Check> {
  const { config } = ctx;
  let simUrl = config.sim_url;
  if (config.venue === 'sim' && !simUrl) simUrl = readSimInfo(homePaths(config.home).sim)?.url;
  if (config.venue === 'sim' && !simUrl) return { id: 'orders', status: 'WARN', detail: 'no simulator running for this home (PINK_SIM_URL unset): open orders not checked' };
  const { checkVenueAuthorization } = await import('../engine/venue/authorize.js');
  try {
    checkVenueAuthorization(config, config.venue === 'bingx-live');
  } catch {
    return { id: 'orders', status: 'WARN', detail: `venue ${config.venue} not authorized here: open orders not checked` };
  }
  const { openVenue } = await import('../engine/venue/index.js');
  // The simulator PINK started (sim.json) accepts its default credentials, as in openEngine.
  const venueConfig = config.venue === 'sim' && !config.sim_url ? { ...config, sim_api_key: undefined, sim_api_secret: undefined } : config;
  try {
    const venue = await openVenue(venueConfig, { live: config.venue === 'bingx-live', ...(simUrl ? { simUrl } : {}) });
    try {
      const snap = await venue.snapshot(config.symbols, Date.now(), Date.now());
      const foreign = snap.open_orders.filter((o) => !isPinkClientOrderId(o.client_order_id));
      if (foreign.length === 0) return { id: 'orders', status: 'PASS', detail: `${snap.open_orders.length} open order(s) on PINK's account, all with the pink- prefix` };
      return { id: 'orders', status: 'WARN', detail: `another system trades this account: ${foreign.map((o) => `${o.symbol} ${o.side} ${o.qty} id ${o.client_order_id || o.venue_order_id}`).join('; ')}` };
    } finally {
      await venue.close();
    }
  } catch (err) {
    return { id: 'orders', status: 'WARN', detail: `venue unreachable, open orders not checked: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function inside(child: string, parent: string): boolean {
  const c = resolve(child);
  const p = resolve(parent);
  return c === p || c.startsWith(p + sep);
}

/**
 * PINK's home, socket, pid file and logs: not BLUE's, and PINK's own (SECURITY.md): the home and the
 * log dir ours and writable by nobody else (the home not even readable), under folders only we or
 * root can change; the socket, pid file and logs neither symlinks nor someone else's, and 0600.
 */
function checkFiles(config: Config): Check {
  const paths = homePaths(config.home);
  const problems: string[] = [];
  if (config.blue.home !== undefined && (inside(config.home, config.blue.home) || inside(config.blue.home, config.home))) problems.push(`PINK's home ${config.home} overlaps BLUE's (DOLPHIN_HOME_BLUE)`);
  if (config.blue.log_dir !== undefined && resolve(config.blue.log_dir) === config.log_dir) problems.push(`log dir ${config.log_dir} is BLUE's`);
  // The log names are PINK's by definition (LOG_PATHS), tested with the logger (test/runner/log.test.ts).
  const home = inspectDir(config.home, { variable: 'PINK_HOME', private: true });
  const logs = inspectDir(config.log_dir, { variable: 'DOLPHIN_LOG_DIR', private: false });
  const files = [paths.socket, paths.pid, join(config.home, 'engine.out'), join(config.log_dir, RUNTIME_LOG), join(config.log_dir, ERROR_LOG)]
    .map((p) => inspectFile(p))
    .filter((f): f is { ok: boolean; detail: string } => f !== undefined);
  for (const c of [home, logs, ...files]) if (!c.ok) problems.push(c.detail);
  if (problems.length > 0) return { id: 'files', status: 'FAIL', detail: problems.join('; ') };
  const modes = files.map((f) => f.detail).join(', ');
  return { id: 'files', status: 'PASS', detail: `PINK's own: home ${home.detail}, logs ${logs.detail}${modes ? `; ${modes}` : ''} (no symlink, nobody else's)` };
}

export async function verify(ctx: Context): Promise<Check[]> {
  const { config } = ctx;
  const [contents, orders] = await Promise.all([checkStoreContents(ctx), checkOrders(ctx)]);
  return [checkStoreNames(config), contents[0]!, contents[1]!, checkEnv(config), checkVenue(config), orders, checkFiles(config)];
}

export const run: CommandRun = async (ctx) => {
  const checks = await verify(ctx);
  const ok = checks.every((c) => c.status !== 'FAIL');
  const table = new Table({ head: ['check', 'status', 'detail'], style: { head: [], border: [] }, colWidths: [11, 8, Math.max(30, termWidth() - 11 - 8 - 4)], wordWrap: true });
  for (const c of checks) table.push([c.id, c.status, c.detail]);
  return {
    exit: ok ? EXIT.OK : EXIT.BAD,
    data: { checks, ok },
    text: `${table.toString()}\n${ok ? 'ISOLATED: no check failed' : 'NOT ISOLATED: see the FAIL lines'}`,
  };
};
