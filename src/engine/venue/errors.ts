// ccxt exceptions → what they mean for PINK. Classified by the names on the error's class
// chain (ccxt sets them), not by instanceof, so this module does not import ccxt at all.
import type { KernelInput } from '../kernel/types.js';

export type ErrorClass =
  /** HTTP 429/418, ccxt RateLimitExceeded/DDoSProtection, BingX 100410. */
  | { kind: 'rate_limited'; retry_after_ms?: number }
  /** The key or its permissions were refused (100001 signature, 100412, 401, 403, IP whitelist). */
  | { kind: 'auth' }
  /** OrderNotFound (80016, 80017). */
  | { kind: 'not_found' }
  /** The request's timestamp was refused (BingX 109400 / 100421 "timestamp …"): nothing was
   * executed; the clock is synced again and the request sent once more. */
  | { kind: 'clock' }
  /** 101400 "clientOrderID unique check failed": the order with this client id EXISTS (an
   * earlier send): resolved by a lookup, never a reject. */
  | { kind: 'duplicate_client_id' }
  /** 80018 "order is already filled or cancelled": a cancel that came too late. */
  | { kind: 'already_closed' }
  /** 101290 "Reduce Only order can only decrease your position": a definite reject. */
  | { kind: 'reduce_only' }
  /** The venue answered and said no (InvalidOrder, InsufficientFunds, BadRequest, other codes). */
  | { kind: 'rejected' }
  /** No definite answer: timeout, connection, 5xx, BingX 504 / 80019 / 100500. After a send the outcome is unknown. */
  | { kind: 'unknown' };

export interface Classified {
  cls: ErrorClass;
  /** ccxt's message, NOT yet redacted. */
  message: string;
  /** BingX's `code` from the error body, when there is one. */
  code?: string;
}

/** Codes that mean "busy / timed out inside BingX": the request may have been executed. */
const OUTCOME_UNKNOWN_CODES = new Set(['504', '80019', '100500', '100503']);
const RATE_LIMIT_CODES = new Set(['100410', '429']);
/** 109400 and 100421 also carry other meanings (one-way positionSide, a restricted pair): the message decides. */
const CLOCK_CODES = new Set(['109400', '100421']);
const CLOCK_TEXT = /timestamp/i;
/** 101400 is also "The minimum order amount is …": only the unique-check wording means a duplicate. */
const DUPLICATE_ID_TEXT = /unique check|duplicat|already exist|already used/i;

function classNames(err: unknown): Set<string> {
  const names = new Set<string>();
  let proto: unknown = err === null || typeof err !== 'object' ? undefined : Object.getPrototypeOf(err);
  // Bounded by the prototype chain's depth (ccxt's deepest is ~6).
  while (proto !== null && proto !== undefined && proto !== Object.prototype) {
    const ctor = (proto as { constructor?: { name?: string } }).constructor;
    if (ctor?.name) names.add(ctor.name);
    proto = Object.getPrototypeOf(proto);
  }
  return names;
}

/** BingX's code in a ccxt message `bingx {"code":100410,"msg":"..."}`. */
export function bingxCode(message: string): string | undefined {
  const m = /"code"\s*:\s*"?(-?\d+)"?/.exec(message);
  return m ? m[1] : undefined;
}

/**
 * Milliseconds until the venue unblocks us: BingX 100410's message carries the unblock time as
 * epoch ms (13 digits); else undefined (the kernel applies DITA_V2_RATE_LIMIT_COOLDOWN_SEC).
 */
export function retryAfterMs(message: string, now_ms: number): number | undefined {
  // ccxt's HTTP errors echo the URL, whose `timestamp=` is also 13 digits: never read the URL.
  const text = message.replace(/https?:\/\/\S+/g, '');
  const m = /unblock[^0-9]{0,30}(1\d{12})\b/i.exec(text) ?? /\b(1\d{12})\b(?!.*\b1\d{12}\b)/.exec(text);
  if (m) return Math.max(0, Number(m[1]) - now_ms);
  const s = /retry[- ]after[^0-9]{0,5}(\d+)/i.exec(message);
  return s ? Number(s[1]) * 1000 : undefined;
}

export function classify(err: unknown, now_ms: number): Classified {
  const names = classNames(err);
  const message = err instanceof Error ? err.message : String(err);
  const code = bingxCode(message);
  const has = (...n: string[]) => n.some((x) => names.has(x));
  const out = (cls: ErrorClass): Classified => (code === undefined ? { cls, message } : { cls, message, code });
  if (has('RateLimitExceeded', 'DDoSProtection') || (code !== undefined && RATE_LIMIT_CODES.has(code))) {
    const retry_after_ms = retryAfterMs(message, now_ms);
    return out(retry_after_ms === undefined ? { kind: 'rate_limited' } : { kind: 'rate_limited', retry_after_ms });
  }
  if (has('AuthenticationError', 'PermissionDenied', 'AccountSuspended')) return out({ kind: 'auth' });
  if (code !== undefined && CLOCK_CODES.has(code) && CLOCK_TEXT.test(message)) return out({ kind: 'clock' });
  if (code !== undefined && OUTCOME_UNKNOWN_CODES.has(code)) return out({ kind: 'unknown' });
  // NetworkError covers RequestTimeout, ExchangeNotAvailable (HTTP 5xx) and connection failures;
  // OperationFailed is BingX "system busy". Neither says whether the request was executed.
  if (has('NetworkError', 'OperationFailed')) return out({ kind: 'unknown' });
  if (has('OrderNotFound')) return out({ kind: 'not_found' });
  if (code === '101400' && DUPLICATE_ID_TEXT.test(message)) return out({ kind: 'duplicate_client_id' });
  if (code === '80018') return out({ kind: 'already_closed' });
  if (code === '101290') return out({ kind: 'reduce_only' });
  if (has('ExchangeError', 'InvalidOrder', 'InsufficientFunds', 'BadRequest', 'BadSymbol', 'ArgumentsRequired', 'NotSupported')) {
    return out({ kind: 'rejected' });
  }
  // Not a ccxt error (a bug, or a parse failure after the venue answered): the venue may have
  // acted, so the only safe reading is "unknown".
  return out({ kind: 'unknown' });
}

/** A failed read (snapshot, lookupOrder), carrying the kernel input that describes it. */
export class VenueReadError extends Error {
  readonly input: Extract<KernelInput, { type: 'RATE_LIMITED' } | { type: 'VENUE_UNAVAILABLE' }>;
  /** The key was refused: at startup this is a configuration problem (exit 2). */
  readonly auth: boolean;

  constructor(input: VenueReadError['input'], auth = false) {
    super(input.reason);
    this.name = 'VenueReadError';
    this.input = input;
    this.auth = auth;
  }
}
