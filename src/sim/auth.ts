// BingX request signing, checked as the venue checks it.
//
// ccxt's bingx.sign() (4.5.84) for a private swap call: params + `timestamp`, keys sorted,
// HMAC-SHA256(secret, "k1=v1&k2=v2…" with RAW values, i.e. not URL-encoded), hex; sent as
// `?<urlencoded params>&signature=<hex>` with the key in header `X-BX-APIKEY`; no body, for
// GET, POST and DELETE alike. The server takes the query as sent, drops `signature`, decodes
// each value and signs "k=v&…" in the order received, so any client that signs what it sends
// (sorted or not) verifies.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { VENUE_ERRORS, VenueError } from './errors.js';

export interface AuthConfig {
  api_key: string;
  api_secret: string;
  /** Used when the request carries no recvWindow. */
  recv_window_ms: number;
  /** How a timestamp outside the window is refused: 109400 (the default) or 100421. */
  timestamp_code?: 109400 | 100421;
}

/** How far ahead of the server clock a timestamp may be (clock skew the venue forgives). */
export const FUTURE_TOLERANCE_MS = 1000;

export interface ParsedQuery {
  /** Decoded parameters, `signature` excluded. */
  params: Record<string, string>;
  /** The string the client should have signed. */
  payload: string;
  signature: string | undefined;
}

export function parseQuery(rawQuery: string): ParsedQuery {
  const params: Record<string, string> = {};
  const parts: string[] = [];
  let signature: string | undefined;
  for (const pair of rawQuery.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const key = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
    const value = safeDecode(eq < 0 ? '' : pair.slice(eq + 1));
    if (key === 'signature') {
      signature = value;
      continue;
    }
    params[key] = value;
    parts.push(`${key}=${value}`);
  }
  return { params, payload: parts.join('&'), signature };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function sign(payload: string, secret: string): string {
  return createHmac('sha256', secret).update(payload).digest('hex');
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Throws the venue's refusal; returns when the request is properly signed and on time. */
export function checkSigned(apiKeyHeader: string | undefined, query: ParsedQuery, cfg: AuthConfig, now_ms: number): void {
  if (query.signature === undefined || query.signature === '') throw new VenueError(VENUE_ERRORS.nullSignature);
  // A wrong key answers like a wrong secret: SPEC says "anything else gets the signature error".
  if (apiKeyHeader === undefined || !sameText(apiKeyHeader, cfg.api_key)) throw new VenueError(VENUE_ERRORS.badSignature);
  if (!sameText(query.signature.toLowerCase(), sign(query.payload, cfg.api_secret))) throw new VenueError(VENUE_ERRORS.badSignature);
  checkTimestamp(query.params, cfg, now_ms);
}

export function checkTimestamp(params: Record<string, string>, cfg: AuthConfig, now_ms: number): void {
  const refusal = cfg.timestamp_code === 100421 ? VENUE_ERRORS.timestampMismatch : VENUE_ERRORS.badTimestamp;
  const ts = Number(params['timestamp']);
  if (!/^\d{1,16}$/.test(params['timestamp'] ?? '')) throw new VenueError(refusal);
  const rw = Number(params['recvWindow']);
  const window_ms = Number.isFinite(rw) && rw > 0 ? rw : cfg.recv_window_ms;
  if (ts > now_ms + FUTURE_TOLERANCE_MS || now_ms - ts > window_ms) throw new VenueError(refusal);
}
