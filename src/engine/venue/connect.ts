// Builds the ccxt bingx client for a venue and checks, once, that it answers and accepts the
// key. Loaded by openVenue only after the authorization gate has passed.
import type { bingx as BingxExchange } from 'ccxt';
import { checkSimUrl, type Config } from '../../config.js';
import { ExitError, EXIT, usageError } from '../../errors.js';
import { redactReason } from './authorize.js';
import { CcxtVenue } from './ccxt.js';
import { classify } from './errors.js';
import { Throttle } from './throttle.js';
import { toCcxtSymbol } from './translate.js';
import type { OpenVenueOptions } from './types.js';

/** The credentials the simulator accepts by default (SPEC 1 `pink sim`). */
export const SIM_API_KEY = 'pink-sim-key';
export const SIM_API_SECRET = 'pink-sim-secret';
export const REQUEST_TIMEOUT_MS_DEFAULT = 10_000;

/**
 * ccxt's bingx class alone. The package entry (`import('ccxt')`) evaluates every exchange
 * (~680 ms on this machine); bingx.js with the base it needs costs ~210 ms. Its path is not in
 * ccxt's `exports` map, so it is reached by file URL next to the resolved entry (js/ccxt.js).
 */
export async function loadBingxClass(): Promise<typeof BingxExchange> {
  const entry = import.meta.resolve('ccxt');
  const mod = (await import(new URL('./src/bingx.js', entry).href)) as { default: typeof BingxExchange };
  return mod.default;
}

/**
 * The key and secret requests are signed with. Venue `sim` signs with the simulator's own
 * credentials only (PINK_SIM_API_KEY / PINK_SIM_API_SECRET, default the simulator's defaults),
 * never with DOLPHIN_PINK_BINGX_*: a real key must not leave for a simulator URL, whatever it is.
 */
export function credentials(config: Config): { apiKey: string; secret: string } {
  if (config.venue === 'sim') return { apiKey: config.sim_api_key ?? SIM_API_KEY, secret: config.sim_api_secret ?? SIM_API_SECRET };
  // checkVenueAuthorization has ensured both are set for bingx-vst / bingx-live.
  return { apiKey: config.api_key ?? '', secret: config.api_secret ?? '' };
}

/**
 * The configured ccxt client, not yet connected (no request is made here): swap defaults,
 * ccxt's limiter off, markets limited to USDT-M swaps, sandbox URLs for bingx-vst, every API
 * URL at the simulator for sim.
 */
export async function buildExchange(config: Config, opts: Pick<OpenVenueOptions, 'simUrl' | 'timeoutMs'> = {}): Promise<{ ex: BingxExchange; secrets: string[]; simUrl?: string }> {
  const { apiKey, secret } = credentials(config);
  let simUrl: string | undefined;
  if (config.venue === 'sim') {
    simUrl = (opts.simUrl ?? config.sim_url)?.replace(/\/+$/, '');
    if (simUrl === undefined) throw usageError('venue sim needs a simulator URL.', 'Set PINK_SIM_URL, or let `pink run` start the simulator.');
    // Whatever gave the URL (PINK_SIM_URL, $PINK_HOME/sim/sim.json, a caller): loopback only.
    checkSimUrl(simUrl, opts.simUrl !== undefined ? 'simulator URL' : 'PINK_SIM_URL');
  }
  const Bingx = await loadBingxClass();
  const ex = new Bingx({
    apiKey,
    secret,
    timeout: opts.timeoutMs ?? REQUEST_TIMEOUT_MS_DEFAULT,
    // One limiter, ours (throttle.ts); ccxt's would add a second, differently shaped delay.
    enableRateLimit: false,
    options: { defaultType: 'swap', defaultSubType: 'linear' },
  });
  // loadMarkets would first call the wallet endpoint for currencies (one private call, needing
  // wallet permission) and then fetch spot and coin-M markets too (two calls). PINK trades
  // USDT-M swaps only: one call, /openApi/swap/v2/quote/contracts.
  ex.has['fetchCurrencies'] = false;
  ex.fetchMarkets = (params = {}) => ex.fetchSwapMarkets(params);
  if (config.venue === 'bingx-vst') ex.setSandboxMode(true);
  if (simUrl !== undefined) {
    const api = ex.urls['api'] as Record<string, string>;
    for (const key of Object.keys(api)) api[key] = `${simUrl}/openApi`;
  }
  return simUrl === undefined ? { ex, secrets: [apiKey, secret] } : { ex, secrets: [apiKey, secret], simUrl };
}

/** A venue that refuses the first reads for rate is asked again, this many times and this long at most
 * (so that `pink restart`'s default 30 s wait still covers connect + the startup reconcile's retries). */
export const CONNECT_RATE_LIMITED_RETRIES_MAX = 8;
export const CONNECT_RATE_LIMITED_MS_MAX = 10_000;
/** Wait before asking again, when the venue gives no retry-after (and at most this much when it does). */
const CONNECT_RETRY_MS = 500;
const CONNECT_RETRY_MS_MAX = 5_000;
/** A read that timed out is asked again this many times (after CONNECT_RETRY_MS): a venue slow for a
 * moment (chaos: a latency spike past the timeout during `pink restart`) is not a down venue. A venue
 * that refuses the connection is down, and says so at once. */
export const CONNECT_TIMEOUT_RETRIES_MAX = 1;

/**
 * Markets, then a private read (so a refused key is a startup error, not a mid-run surprise). A
 * rate limit clears by itself: it is waited out a bounded number of times; a read that timed out is
 * asked again once; anything else is thrown.
 */
async function connectReads(ex: BingxExchange, log: (line: string) => void): Promise<Awaited<ReturnType<BingxExchange['loadMarkets']>>> {
  let markets: Awaited<ReturnType<BingxExchange['loadMarkets']>> | undefined;
  let keyAccepted = false;
  const deadline = Date.now() + CONNECT_RATE_LIMITED_MS_MAX;
  let timeouts = 0;
  for (let attempt = 1; ; attempt += 1) {
    try {
      // ccxt keeps a failed loadMarkets() promise and hands it back to every later call: asking
      // again needs reload=true (chaos seed 7: every retry "failed" at once with the first 429).
      // Side by side (issue 21: one round trip, not two): the markets (public) and the wallet
      // read that proves the key, through the raw endpoint ccxt's fetchBalance calls (fetchBalance
      // itself would wait for the markets first).
      // Each kept once it has answered: a retry asks only for what failed.
      await Promise.all([
        markets ?? ex.loadMarkets(attempt > 1).then((m) => (markets = m)),
        keyAccepted || ex.swapV3PrivateGetUserBalance().then(() => (keyAccepted = true)),
      ]);
      return markets!;
    } catch (err) {
      if ((err as { name?: unknown } | null)?.name === 'RequestTimeout' && timeouts < CONNECT_TIMEOUT_RETRIES_MAX) {
        timeouts += 1;
        log(`venue: no answer in time while connecting (${timeouts} of ${CONNECT_TIMEOUT_RETRIES_MAX}); asking again in ${CONNECT_RETRY_MS} ms`);
        await new Promise((r) => setTimeout(r, CONNECT_RETRY_MS));
        continue;
      }
      const k = classify(err, Date.now());
      const wait_ms = k.cls.kind === 'rate_limited' ? Math.min(CONNECT_RETRY_MS_MAX, Math.max(CONNECT_RETRY_MS, k.cls.retry_after_ms ?? CONNECT_RETRY_MS)) : 0;
      if (k.cls.kind !== 'rate_limited' || attempt > CONNECT_RATE_LIMITED_RETRIES_MAX || Date.now() + wait_ms > deadline) throw err;
      log(`venue: rate limited while connecting (attempt ${attempt}); asking again in ${wait_ms} ms`);
      await new Promise((r) => setTimeout(r, wait_ms));
    }
  }
}

export async function connectCcxtVenue(config: Config, opts: OpenVenueOptions): Promise<CcxtVenue> {
  const log = opts.logger ?? (() => {});
  const { ex, secrets, simUrl } = await buildExchange(config, opts);
  const venue = new CcxtVenue(ex, config, secrets, new Throttle(opts.rates), log);
  const where = simUrl !== undefined ? `sim at ${simUrl}` : config.venue;
  try {
    // ccxt's time-difference sync before the first signed read (a skewed clock is refused with
    // 109400 / 100421); a failed sync is retried by the first request refused for its timestamp.
    // The sync beside the markets and the key check (one round trip in all); a key check refused
    // for its timestamp (the clock was off before the sync) is asked again once the sync is in.
    const synced = venue.syncClock().then((skew_ms) => Math.abs(skew_ms) >= 1000 && log(`venue: clock skew ${skew_ms} ms (venue − local), corrected`), (err: Error) => log(`venue: clock sync failed (${redactReason(err.message, secrets)}); continuing`));
    const markets = await connectReads(ex, log).catch(async (err: unknown) => {
      await synced;
      if (classify(err, Date.now()).cls.kind !== 'clock') throw err;
      return connectReads(ex, log);
    });
    await synced;
    const missing = config.symbols.filter((s) => !(toCcxtSymbol(s) in markets));
    if (missing.length > 0) {
      throw usageError(`venue ${config.venue} does not list ${missing.join(', ')}.`, 'Check DOLPHIN_PINK_SYMBOLS / --symbols against the venue\'s USDT-M perpetuals.');
    }
    log(`venue: ${where}: ${Object.keys(markets).length} markets, key accepted`);
    return venue;
  } catch (err) {
    await ex.close().catch(() => {});
    if (err instanceof ExitError) throw err;
    const k = classify(err, Date.now());
    const reason = redactReason(k.message, secrets);
    if (k.cls.kind === 'auth') {
      throw usageError(`venue ${config.venue} refused the API key (${reason}); fix the key.`, 'Check DOLPHIN_PINK_BINGX_API_KEY / DOLPHIN_PINK_BINGX_API_SECRET and the key\'s permissions (perpetual futures trading, IP whitelist).');
    }
    throw new ExitError(EXIT.UNREACHABLE, `venue ${where} is unreachable: ${reason}`, 'Check the network (or PINK_SIM_URL) and retry.');
  }
}
