// The gate every venue connection passes first, and the redaction every venue text passes
// last. Pure: no ccxt, no network, no environment (it reads the typed Config), so that a
// refusal provably happens before any connection exists.
import type { Config } from '../../config.js';
import { usageError } from '../../errors.js';

/**
 * SPEC 1 `pink run`: bingx-vst needs the API key, the secret and
 * DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-vst; bingx-live needs DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-live
 * and `--live` (and, to trade at all, the key and secret). Throws ExitError(2) naming every
 * missing piece and how to supply it; returns when the venue may be contacted.
 */
export function checkVenueAuthorization(config: Config, live: boolean): void {
  const venue = config.venue;
  if (venue === 'sim') return;
  const missing: string[] = [];
  if (config.authorize_venue !== venue) {
    missing.push(
      config.authorize_venue === undefined
        ? `DOLPHIN_PINK_AUTHORIZE_VENUE=${venue} (unset)`
        : `DOLPHIN_PINK_AUTHORIZE_VENUE=${venue} (it is "${config.authorize_venue}")`,
    );
  }
  if (venue === 'bingx-live' && !live) missing.push('the --live flag');
  if (config.api_key === undefined) missing.push('DOLPHIN_PINK_BINGX_API_KEY');
  if (config.api_secret === undefined) missing.push('DOLPHIN_PINK_BINGX_API_SECRET');
  if (missing.length === 0) return;
  const how =
    venue === 'bingx-live'
      ? 'Real money: set DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-live, the PINK API key and secret, and pass --live; or use --venue bingx-vst / sim.'
      : 'Set DOLPHIN_PINK_AUTHORIZE_VENUE=bingx-vst and the VST API key and secret (DOLPHIN_PINK_BINGX_API_KEY, DOLPHIN_PINK_BINGX_API_SECRET); or use --venue sim.';
  throw usageError(`venue ${venue} refused: missing ${missing.join(', ')}. Nothing was sent.`, how);
}

/** Longest text a reason carries into the kernel, rows and logs. */
export const REASON_CHARS_MAX = 400;

/** Secrets shorter than this are not searched for (they would match ordinary text). */
const SECRET_CHARS_MIN = 4;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Strips credentials from a text about to leave the adapter (error messages, reasons, log
 * lines). ccxt's network and HTTP errors echo the request URL, whose query string carries the
 * signature and every order parameter, and debug texts can carry the X-BX-APIKEY header; the
 * secrets themselves are removed too, raw and URL-encoded, wherever they appear.
 */
export function redact(text: string, secrets: ReadonlyArray<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret === undefined || secret.length < SECRET_CHARS_MIN) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      out = out.replace(new RegExp(escapeRegExp(form), 'g'), '<redacted>');
    }
  }
  out = out
    // A URL's query string: signature, timestamp and the request's parameters.
    .replace(/(https?:\/\/[^\s?"'<>]+)\?[^\s"'<>]*/g, '$1?<redacted>')
    .replace(/(signature\s*["']?\s*[=:]\s*["']?)[^&\s"',}]+/gi, '$1<redacted>')
    .replace(/(x-bx-apikey\s*["']?\s*[=:]\s*["']?)[^&\s"',}]+/gi, '$1<redacted>');
  return out;
}

/** redact, then one line of at most REASON_CHARS_MAX characters. */
export function redactReason(text: string, secrets: ReadonlyArray<string | undefined>): string {
  const line = redact(text, secrets).replace(/\s+/g, ' ').trim();
  return line.length > REASON_CHARS_MAX ? `${line.slice(0, REASON_CHARS_MAX - 1)}…` : line;
}
