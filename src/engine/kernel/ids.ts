// Deterministic identifiers (docs/ids.md). Every id PINK writes carries the kernel's history id,
// minted at the kernel's first start and kept in its state: two histories never share an id,
// while a replay of one history (same checkpoint, same inputs) gives the same ids byte for byte.
// Client order ids derive from the history and the intent id (NautilusTrader style): a resend of
// the same intent carries the same id, so the venue (which refuses a second order with the same
// clientOrderID) and the reconcile both recognise it.

const PREFIX = 'pink-';
/** BingX's limit on clientOrderID. */
export const CLIENT_ORDER_ID_CHARS_MAX = 40;
/** Each 32-bit half in base 36 is at most 7 digits; padded so every id has the same length. */
const HALF_DIGITS = 7;

function utf8(text: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < text.length; i += 1) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        i += 1;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 0x3f));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
  }
  return out;
}

/**
 * FNV-1a 64-bit over the UTF-8 bytes of `text`, written as its two 32-bit halves in base 36
 * (7 digits each, 14 in all). Pure JS on four 16-bit limbs, no BigInt: it runs once per intent
 * and per refused row, on the hot path.
 */
export function fnv1a64(text: string): string {
  // eslint-disable-next-line no-control-regex
  const bytes = /^[\x00-\x7f]*$/.test(text) ? null : utf8(text);
  const n = bytes === null ? text.length : bytes.length;
  // Offset basis 0xcbf29ce484222325, little-endian 16-bit limbs.
  let h0 = 0x2325;
  let h1 = 0x8422;
  let h2 = 0x9ce4;
  let h3 = 0xcbf2;
  for (let i = 0; i < n; i += 1) {
    h0 ^= bytes === null ? text.charCodeAt(i) : bytes[i]!;
    // Multiply by the prime 0x100000001b3 = 2^40 + 0x1b3, modulo 2^64.
    const t0 = h0 * 0x1b3;
    let t1 = h1 * 0x1b3;
    let t2 = h2 * 0x1b3 + (h0 << 8);
    const t3 = h3 * 0x1b3 + (h1 << 8);
    t1 += t0 >>> 16;
    h0 = t0 & 0xffff;
    t2 += t1 >>> 16;
    h1 = t1 & 0xffff;
    h3 = (t3 + (t2 >>> 16)) & 0xffff;
    h2 = t2 & 0xffff;
  }
  const hi = ((h3 << 16) | h2) >>> 0;
  const lo = ((h1 << 16) | h0) >>> 0;
  return base36(hi) + base36(lo);
}

const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A uint32 as exactly HALF_DIGITS base-36 digits (Number#toString(36) costs ~10x more). */
function base36(n: number): string {
  let out = '';
  for (let i = 0; i < HALF_DIGITS; i += 1) {
    const q = Math.floor(n / 36);
    out = DIGITS[n - q * 36]! + out;
    n = q;
  }
  return out;
}

/**
 * `pink-` + the history id (10) + 14 base-36 digits of the intent id's hash: 29 chars of
 * [a-z0-9-], within BingX's 40. Fixed lengths, so an id tells its history (ownClientOrderId).
 */
export function clientOrderId(history_id: string, intent_id: string): string {
  return PREFIX + history_id + fnv1a64(intent_id);
}

/** Whether `id` is a client order id this history minted (another history's, or a foreign one, is not). */
export function ownClientOrderId(history_id: string, id: string): boolean {
  return id.length === PREFIX.length + history_id.length + 2 * HALF_DIGITS && id.startsWith(PREFIX + history_id);
}

/** A trade's id: its symbol, the history, and the kernel sequence number of the input that began it. */
export function tradeId(history_id: string, symbol: string, seq: number): string {
  return `${symbol}-${history_id}-${seq}`;
}

/** True for ids PINK creates; everything else on the account is a foreign order. */
export function isPinkClientOrderId(id: string): boolean {
  return typeof id === 'string' && id.startsWith(PREFIX);
}
