// SPEC section 2: the one place the environment is read and validated. Everything else gets the
// typed Config. A malformed value is exit 2 naming the variable, before anything starts.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { usageError } from './errors.js';
import { loadObserveSettings, OBSERVE_ENV_VARS, type ObserveSettings } from './engine/observe/settings.js';

export type VenueName = 'sim' | 'bingx-vst' | 'bingx-live';
export const VENUES: readonly VenueName[] = ['sim', 'bingx-vst', 'bingx-live'];

export interface Config extends ObserveSettings {
  home: string;
  namespace: 'pink';
  poll_interval_ms: number;
  max_hold_bars: number;
  rate_limit_cooldown_ms: number;
  venue: VenueName;
  symbols: string[];
  authorize_venue: string | undefined;
  /** Never printed, never logged; compare with `sameSecret`. */
  api_key: string | undefined;
  api_secret: string | undefined;
  trade_notional_usdt: number;
  initial_capital_usdt: number;
  clickhouse_url: string | undefined;
  clickhouse_user: string | undefined;
  clickhouse_password: string | undefined;
  clickhouse_cluster: string | undefined;
  database: string;
  blue_database: string;
  log_dir: string;
  sim_url: string | undefined;
  supervisor_cmd: string | undefined;
  debug: boolean;
  /**
   * TEST HOOK, never for production: `PINK_CHAOS_STORE_FAIL=failNextInserts=N,loseNextAcks=M`
   * makes the engine's first N ClickHouse family inserts fail before they are sent, and the next
   * M land but lose their answer (the store's StoreFaults), so the chaos harness can drive the
   * spool path inside a real engine process. Unset (the default): no fault.
   */
  chaos_store_faults: { failNextInserts: number; loseNextAcks: number } | undefined;
  /** BLUE's settings, read only so that mode-verify can prove PINK does not share them. */
  blue: {
    api_key: string | undefined;
    log_dir: string | undefined;
    home: string | undefined;
  };
}

export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_SYMBOLS = ['BTC-USDT', 'ETH-USDT'];
export const DEFAULT_LOG_DIR = '/tmp/dolphin_logs/supervisor';

/** The environment variables PINK reads (SPEC section 2), for --help and mode-verify. */
export const ENV_VARS = [
  'PINK_HOME',
  'DOLPHIN_PINK_POLL_INTERVAL_SEC',
  'DOLPHIN_MAX_HOLD_BARS',
  'DITA_V2_RATE_LIMIT_COOLDOWN_SEC',
  'DOLPHIN_PINK_VENUE',
  'DOLPHIN_PINK_SYMBOLS',
  'DOLPHIN_PINK_AUTHORIZE_VENUE',
  'DOLPHIN_PINK_BINGX_API_KEY',
  'DOLPHIN_PINK_BINGX_API_SECRET',
  'DOLPHIN_PINK_TRADE_NOTIONAL',
  'DOLPHIN_PINK_INITIAL_CAPITAL',
  'PINK_CLICKHOUSE_URL',
  'PINK_CLICKHOUSE_USER',
  'PINK_CLICKHOUSE_PASSWORD',
  'PINK_CLICKHOUSE_CLUSTER',
  'DOLPHIN_PINK_CH_DATABASE',
  'DOLPHIN_BLUE_CH_DATABASE',
  'DOLPHIN_LOG_DIR',
  'PINK_SIM_URL',
  'DOLPHIN_PINK_SUPERVISOR_CMD',
  'PINK_DEBUG',
  'PINK_CHAOS_STORE_FAIL',
  ...OBSERVE_ENV_VARS,
] as const;

function text(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

function positiveNumber(env: Env, name: string, fallback: number, opts: { integer?: boolean; zero?: boolean } = {}): number {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  const kind = opts.integer ? 'a whole number' : 'a number';
  const bound = opts.zero ? '>= 0' : '> 0';
  if (!Number.isFinite(value) || (opts.integer && !Number.isInteger(value)) || value < 0 || (!opts.zero && value === 0)) {
    throw usageError(
      `${name}=${JSON.stringify(raw)} is not valid: expected ${kind} ${bound}.`,
      `Set ${name} to ${kind} ${bound} (default ${fallback}), or unset it.`,
    );
  }
  return value;
}

/** `BTC-USDT`, `btc-usdt`, `BTC/USDT:USDT`, `BTC/USDT` → `BTC-USDT`; undefined when malformed. */
export function normalizeSymbol(input: string): string | undefined {
  const s = input.trim().toUpperCase();
  let m = /^([A-Z0-9]{1,20})-(USDT)$/.exec(s);
  if (m) return `${m[1]}-${m[2]}`;
  m = /^([A-Z0-9]{1,20})\/(USDT)(?::USDT)?$/.exec(s);
  if (m) return `${m[1]}-${m[2]}`;
  return undefined;
}

export function parseSymbols(raw: string, source: string): string[] {
  const parts = raw.split(',').map((p) => p.trim()).filter((p) => p !== '');
  if (parts.length === 0) {
    throw usageError(`${source} is empty.`, 'Give a comma-separated list such as BTC-USDT,ETH-USDT.');
  }
  const out: string[] = [];
  for (const part of parts) {
    const sym = normalizeSymbol(part);
    if (!sym) {
      throw usageError(
        `${source}: "${part}" is not a USDT perpetual symbol.`,
        'Use the form BTC-USDT (also accepted: btc-usdt, BTC/USDT:USDT).',
      );
    }
    if (!out.includes(sym)) out.push(sym);
  }
  return out;
}

export function parseVenue(raw: string, source: string): VenueName {
  const v = raw.trim().toLowerCase();
  if ((VENUES as readonly string[]).includes(v)) return v as VenueName;
  throw usageError(`${source}="${raw}" is not a venue.`, `Use one of: ${VENUES.join(', ')}.`);
}

function defaultHome(env: Env): string {
  const xdg = text(env, 'XDG_STATE_HOME');
  return xdg ? join(xdg, 'pink') : join(homedir(), '.local', 'state', 'pink');
}

function databaseName(env: Env, name: string, fallback: string): string {
  const raw = text(env, name) ?? fallback;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(raw)) {
    throw usageError(`${name}="${raw}" is not a ClickHouse database name.`, 'Use letters, digits and underscores, starting with a letter.');
  }
  return raw;
}

function url(env: Env, name: string): string | undefined {
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw usageError(`${name} is not a URL.`, `Set ${name} to a URL such as http://127.0.0.1:8123, or unset it.`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw usageError(`${name} must be an http:// or https:// URL.`, `Set ${name} to a URL such as http://127.0.0.1:8123.`);
  }
  return raw;
}

/** Bound on each PINK_CHAOS_STORE_FAIL count: a test hook, not a way to stop the store for good. */
export const CHAOS_STORE_FAIL_COUNT_MAX = 10_000;

/** `failNextInserts=N,loseNextAcks=M` (either part may be left out) → the store's test faults. */
export function parseChaosStoreFail(env: Env): Config['chaos_store_faults'] {
  const name = 'PINK_CHAOS_STORE_FAIL';
  const raw = text(env, name);
  if (raw === undefined) return undefined;
  const out = { failNextInserts: 0, loseNextAcks: 0 };
  const fix = `Set ${name} to failNextInserts=N,loseNextAcks=M (whole numbers 0-${CHAOS_STORE_FAIL_COUNT_MAX}; a test hook), or unset it.`;
  for (const part of raw.split(',')) {
    const m = /^\s*(failNextInserts|loseNextAcks)\s*=\s*(\d{1,6})\s*$/.exec(part);
    if (!m || Number(m[2]) > CHAOS_STORE_FAIL_COUNT_MAX) throw usageError(`${name}=${JSON.stringify(raw)} is not valid: "${part.trim()}" is not key=count.`, fix);
    out[m[1] as keyof typeof out] = Number(m[2]);
  }
  return out;
}

export interface ConfigOverrides {
  home?: string;
}

/** Reads and validates the whole of SPEC section 2. Throws ExitError(2) naming the variable. */
export function loadConfig(env: Env, overrides: ConfigOverrides = {}): Config {
  const home = resolve(overrides.home ?? text(env, 'PINK_HOME') ?? defaultHome(env));
  const poll_sec = positiveNumber(env, 'DOLPHIN_PINK_POLL_INTERVAL_SEC', 1.0);
  const cooldown_sec = positiveNumber(env, 'DITA_V2_RATE_LIMIT_COOLDOWN_SEC', 5, { zero: true });
  const venueRaw = text(env, 'DOLPHIN_PINK_VENUE');
  const symbolsRaw = text(env, 'DOLPHIN_PINK_SYMBOLS');
  return {
    home,
    namespace: 'pink',
    poll_interval_ms: Math.round(poll_sec * 1000),
    max_hold_bars: positiveNumber(env, 'DOLPHIN_MAX_HOLD_BARS', 250, { integer: true }),
    rate_limit_cooldown_ms: Math.round(cooldown_sec * 1000),
    venue: venueRaw === undefined ? 'sim' : parseVenue(venueRaw, 'DOLPHIN_PINK_VENUE'),
    symbols: symbolsRaw === undefined ? [...DEFAULT_SYMBOLS] : parseSymbols(symbolsRaw, 'DOLPHIN_PINK_SYMBOLS'),
    authorize_venue: text(env, 'DOLPHIN_PINK_AUTHORIZE_VENUE'),
    api_key: text(env, 'DOLPHIN_PINK_BINGX_API_KEY'),
    api_secret: text(env, 'DOLPHIN_PINK_BINGX_API_SECRET'),
    trade_notional_usdt: positiveNumber(env, 'DOLPHIN_PINK_TRADE_NOTIONAL', 100),
    initial_capital_usdt: positiveNumber(env, 'DOLPHIN_PINK_INITIAL_CAPITAL', 10000),
    clickhouse_url: url(env, 'PINK_CLICKHOUSE_URL'),
    clickhouse_user: text(env, 'PINK_CLICKHOUSE_USER'),
    clickhouse_password: env['PINK_CLICKHOUSE_PASSWORD'],
    clickhouse_cluster: text(env, 'PINK_CLICKHOUSE_CLUSTER'),
    database: databaseName(env, 'DOLPHIN_PINK_CH_DATABASE', 'dolphin_pink'),
    blue_database: databaseName(env, 'DOLPHIN_BLUE_CH_DATABASE', 'dolphin'),
    log_dir: resolve(text(env, 'DOLPHIN_LOG_DIR') ?? DEFAULT_LOG_DIR),
    sim_url: url(env, 'PINK_SIM_URL'),
    supervisor_cmd: text(env, 'DOLPHIN_PINK_SUPERVISOR_CMD'),
    debug: text(env, 'PINK_DEBUG') === '1',
    chaos_store_faults: parseChaosStoreFail(env),
    // SPEC 6 observability: alert webhook, its minimum severity, the metrics address.
    ...loadObserveSettings(env),
    blue: {
      api_key: text(env, 'DOLPHIN_BINGX_API_KEY_BLUE'),
      log_dir: text(env, 'DOLPHIN_LOG_DIR_BLUE'),
      home: text(env, 'DOLPHIN_HOME_BLUE'),
    },
  };
}

/** Paths under $PINK_HOME, named once. */
export function homePaths(home: string) {
  return {
    home,
    socket: join(home, 'pink.sock'),
    pid: join(home, 'pink.pid'),
    lock: join(home, 'pink.lock'),
    runJson: join(home, 'run.json'),
    journal: join(home, 'journal'),
    checkpoint: join(home, 'checkpoint.json'),
    checkpoints: join(home, 'checkpoints'),
    spool: join(home, 'spool'),
    clickhouse: join(home, 'clickhouse'),
    sim: join(home, 'sim'),
  };
}
