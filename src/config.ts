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
  /** Issue 19 breakers: DOLPHIN_PINK_MAX_REJECTS (0 = off), DOLPHIN_PINK_MAX_DRAWDOWN_USDT (0 = none). */
  max_rejects: number;
  max_drawdown_usdt: number;
  /** RATE_LIMITED with no successful call for this long is persistent (and trips the breaker): DOLPHIN_PINK_RATE_LIMIT_PERSISTENT_SEC. */
  rate_limit_persistent_ms: number;
  /** Issue 20: a position whose mark is within this % of its liquidation price makes status degraded (0 = off): DOLPHIN_PINK_LIQUIDATION_WARN_PCT. */
  liquidation_warn_pct: number;
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
  /** Loopback only (127.0.0.0/8, ::1, localhost): checked here, before any lookup or connect. */
  sim_url: string | undefined;
  /** The credentials the simulator at sim_url accepts (default the simulator's own, pink-sim-key /
   * pink-sim-secret). Venue `sim` signs with these only, never with DOLPHIN_PINK_BINGX_*. */
  sim_api_key: string | undefined;
  sim_api_secret: string | undefined;
  supervisor_cmd: string | undefined;
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
/** The taxonomy's LOG_PATHS.default_dir says the same (test/faults/taxonomy.test.ts); not imported
 * from there, because config is loaded by every command, and status over the socket loads nothing of faults/. */
export const DEFAULT_LOG_DIR = '/tmp/dolphin_logs/supervisor';
/**
 * RATE_LIMITED with no successful venue call for this long is the persistent anomaly (seed: > 10
 * min): the default of DOLPHIN_PINK_RATE_LIMIT_PERSISTENT_SEC, and status's own reading of it.
 */
export const RATE_LIMIT_PERSISTENT_MS_DEFAULT = 10 * 60 * 1000;

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
  'PINK_SIM_API_KEY',
  'PINK_SIM_API_SECRET',
  'DOLPHIN_PINK_SUPERVISOR_CMD',
  'PINK_DEBUG',
  'PINK_CHAOS_STORE_FAIL',
  'DOLPHIN_PINK_MAX_REJECTS',
  'DOLPHIN_PINK_MAX_DRAWDOWN_USDT',
  'DOLPHIN_PINK_RATE_LIMIT_PERSISTENT_SEC',
  'DOLPHIN_PINK_LIQUIDATION_WARN_PCT',
  ...OBSERVE_ENV_VARS,
] as const;

function text(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === '' ? undefined : trimmed;
}

/**
 * SPEC 6 "Settings ranges": every numeric setting, its default and its inclusive range, in one
 * table (README's configuration table states the same). A value outside its range is exit 2
 * naming the variable and the range: `DOLPHIN_PINK_POLL_INTERVAL_SEC=1e9` once overflowed Node's
 * timer (2^31 ms), which then fired every millisecond.
 */
export const NUMERIC_SETTINGS = {
  DOLPHIN_PINK_POLL_INTERVAL_SEC: { fallback: 1.0, min: 0.05, max: 60, unit: 's' },
  DITA_V2_RATE_LIMIT_COOLDOWN_SEC: { fallback: 5, min: 0, max: 3600, unit: 's' },
  DOLPHIN_MAX_HOLD_BARS: { fallback: 250, min: 1, max: 100_000, unit: 'bars', integer: true },
  DOLPHIN_PINK_TRADE_NOTIONAL: { fallback: 100, min: 1, max: 1_000_000, unit: 'USDT' },
  DOLPHIN_PINK_INITIAL_CAPITAL: { fallback: 10_000, min: 1, max: 1_000_000_000, unit: 'USDT' },
  DOLPHIN_PINK_MAX_REJECTS: { fallback: 5, min: 0, max: 1_000, unit: 'rejects', integer: true },
  DOLPHIN_PINK_MAX_DRAWDOWN_USDT: { fallback: 0, min: 0, max: 1_000_000_000, unit: 'USDT' },
  DOLPHIN_PINK_RATE_LIMIT_PERSISTENT_SEC: { fallback: RATE_LIMIT_PERSISTENT_MS_DEFAULT / 1000, min: 1, max: 86_400, unit: 's' },
  DOLPHIN_PINK_LIQUIDATION_WARN_PCT: { fallback: 3, min: 0, max: 50, unit: '%' },
} as const satisfies Record<string, { fallback: number; min: number; max: number; unit: string; integer?: boolean }>;

export type NumericSetting = keyof typeof NUMERIC_SETTINGS;

/** `min-max unit` as README and the error messages say it. */
export function settingRange(name: NumericSetting): string {
  const s = NUMERIC_SETTINGS[name];
  return `${s.min}-${s.max} ${s.unit}`;
}

function numeric(env: Env, name: NumericSetting): number {
  const s: { fallback: number; min: number; max: number; unit: string; integer?: boolean } = NUMERIC_SETTINGS[name];
  const raw = text(env, name);
  if (raw === undefined) return s.fallback;
  const value = Number(raw);
  const kind = s.integer ? 'a whole number' : 'a number';
  if (!Number.isFinite(value) || (s.integer && !Number.isInteger(value)) || value < s.min || value > s.max) {
    throw usageError(
      `${name}=${JSON.stringify(raw)} is not valid: expected ${kind} from ${settingRange(name)}.`,
      `Set ${name} to ${kind} from ${s.min} to ${s.max} (default ${s.fallback}), or unset it.`,
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

/**
 * Databases PINK never takes as its own, whatever DOLPHIN_BLUE_CH_DATABASE says (SPEC 6): BLUE's
 * (the seed's BLUE is `dolphin.*`) and ClickHouse's own. Compared case-insensitively: a name that
 * differs from one of these only by case is refused too (never a near-miss of a system database).
 */
export const RESERVED_DATABASES = ['dolphin', 'system', 'default', 'information_schema', 'INFORMATION_SCHEMA'] as const;

function databaseName(env: Env, name: string, fallback: string): string {
  const raw = text(env, name) ?? fallback;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(raw)) {
    throw usageError(`${name}="${raw}" is not a ClickHouse database name.`, 'Use letters, digits and underscores, starting with a letter.');
  }
  return raw;
}

/** PINK's own database: a valid name that is not BLUE's nor one of ClickHouse's (RESERVED_DATABASES). */
function pinkDatabase(env: Env): string {
  const name = 'DOLPHIN_PINK_CH_DATABASE';
  const db = databaseName(env, name, 'dolphin_pink');
  if (RESERVED_DATABASES.some((r) => r.toLowerCase() === db.toLowerCase())) {
    throw usageError(
      `${name}="${db}" is refused: ${db.toLowerCase() === 'dolphin' ? "it is BLUE's database" : "it is one of ClickHouse's own databases"}; PINK never writes there.`,
      `Set ${name} to PINK's own database (default dolphin_pink), not one of: ${RESERVED_DATABASES.join(', ')}.`,
    );
  }
  return db;
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

/** True for a URL host that is this machine's loopback: 127.0.0.0/8, ::1, or `localhost`. */
export function isLoopbackHost(hostname: string): boolean {
  // WHATWG URL has already canonicalised the host: IPv4 in any notation (0x7f.1, 2130706433) is
  // dotted decimal, IPv6 is bracketed and compressed, names are lower case.
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostname);
  return m !== null && m[1] === '127';
}

/**
 * PINK_SIM_URL: the simulator is always on this machine. Anything else would receive PINK's signed
 * requests, or trade at a real venue without its authorization (BingX's own host behind
 * venue `sim`). Checked here, from the text alone, before any name lookup or connection.
 */
function simUrl(env: Env): string | undefined {
  const raw = url(env, 'PINK_SIM_URL');
  return raw === undefined ? undefined : checkSimUrl(raw, 'PINK_SIM_URL');
}

/** The one rule for a simulator URL (PINK_SIM_URL, or the URL of the simulator PINK started):
 * http(s) on loopback, no credentials in it. Returns it, or throws ExitError(2) naming `source`. */
export function checkSimUrl(raw: string, source: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw usageError(`${source} is not a URL.`, `Set ${source} to a URL such as http://127.0.0.1:PORT, or unset it.`);
  }
  if ((parsed.protocol !== 'http:' && parsed.protocol !== 'https:') || !isLoopbackHost(parsed.hostname)) {
    throw usageError(
      `${source}=${JSON.stringify(displayHost(parsed))} is refused: the simulator must be on this machine (http on 127.0.0.0/8, ::1 or localhost). Nothing was sent.`,
      `Point ${source} at a simulator on loopback (e.g. http://127.0.0.1:PORT from \`pink sim\`), or unset it to let \`pink run\` start one.`,
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw usageError(`${source} must not carry a user or password.`, `Set ${source} to http://127.0.0.1:PORT; the simulator's credentials are PINK_SIM_API_KEY / PINK_SIM_API_SECRET.`);
  }
  return raw;
}

/** A URL as shown in an error: scheme, host and port only (never a user or password). */
function displayHost(u: URL): string {
  return `${u.protocol}//${u.host}`;
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
  const poll_sec = numeric(env, 'DOLPHIN_PINK_POLL_INTERVAL_SEC');
  const cooldown_sec = numeric(env, 'DITA_V2_RATE_LIMIT_COOLDOWN_SEC');
  const venueRaw = text(env, 'DOLPHIN_PINK_VENUE');
  const symbolsRaw = text(env, 'DOLPHIN_PINK_SYMBOLS');
  return {
    home,
    namespace: 'pink',
    poll_interval_ms: Math.round(poll_sec * 1000),
    max_hold_bars: numeric(env, 'DOLPHIN_MAX_HOLD_BARS'),
    rate_limit_cooldown_ms: Math.round(cooldown_sec * 1000),
    max_rejects: numeric(env, 'DOLPHIN_PINK_MAX_REJECTS'),
    max_drawdown_usdt: numeric(env, 'DOLPHIN_PINK_MAX_DRAWDOWN_USDT'),
    rate_limit_persistent_ms: Math.round(numeric(env, 'DOLPHIN_PINK_RATE_LIMIT_PERSISTENT_SEC') * 1000),
    liquidation_warn_pct: numeric(env, 'DOLPHIN_PINK_LIQUIDATION_WARN_PCT'),
    venue: venueRaw === undefined ? 'sim' : parseVenue(venueRaw, 'DOLPHIN_PINK_VENUE'),
    symbols: symbolsRaw === undefined ? [...DEFAULT_SYMBOLS] : parseSymbols(symbolsRaw, 'DOLPHIN_PINK_SYMBOLS'),
    authorize_venue: text(env, 'DOLPHIN_PINK_AUTHORIZE_VENUE'),
    api_key: text(env, 'DOLPHIN_PINK_BINGX_API_KEY'),
    api_secret: text(env, 'DOLPHIN_PINK_BINGX_API_SECRET'),
    trade_notional_usdt: numeric(env, 'DOLPHIN_PINK_TRADE_NOTIONAL'),
    initial_capital_usdt: numeric(env, 'DOLPHIN_PINK_INITIAL_CAPITAL'),
    clickhouse_url: url(env, 'PINK_CLICKHOUSE_URL'),
    clickhouse_user: text(env, 'PINK_CLICKHOUSE_USER'),
    clickhouse_password: env['PINK_CLICKHOUSE_PASSWORD'],
    clickhouse_cluster: text(env, 'PINK_CLICKHOUSE_CLUSTER'),
    database: pinkDatabase(env),
    blue_database: databaseName(env, 'DOLPHIN_BLUE_CH_DATABASE', 'dolphin'),
    log_dir: resolve(text(env, 'DOLPHIN_LOG_DIR') ?? DEFAULT_LOG_DIR),
    sim_url: simUrl(env),
    sim_api_key: text(env, 'PINK_SIM_API_KEY'),
    sim_api_secret: text(env, 'PINK_SIM_API_SECRET'),
    supervisor_cmd: text(env, 'DOLPHIN_PINK_SUPERVISOR_CMD'),
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
    runJson: join(home, 'run.json'),
    journal: join(home, 'journal'),
    checkpoint: join(home, 'checkpoint.json'),
    checkpoints: join(home, 'checkpoints'),
    spool: join(home, 'spool'),
    clickhouse: join(home, 'clickhouse'),
    sim: join(home, 'sim'),
  };
}
