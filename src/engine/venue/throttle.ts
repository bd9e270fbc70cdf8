// Self-imposed request pacing, so that BingX never has to rate-limit us. ccxt's own limiter is
// turned off (one limiter, with BingX's documented limits named here, is easier to reason
// about than two). The same limits apply to the simulator, so tests exercise them.
import type { BucketName, BucketRate, VenueRates } from './types.js';

/**
 * 80% of BingX's published limits (USDT-M perpetual REST):
 * - orders: 10 per second per account (create, cancel) → 8/s;
 * - account_reads: 5 per second for positions and open orders (and order queries) → 4/s;
 * - ip: 2000 per 10 s per IP, every request → a bucket with burst B and rate r admits at most
 *   B + 10·r in any 10 s; B = 100, r = 150/s gives 1600 = 80%.
 */
export const BINGX_RATES: VenueRates = {
  orders: { rate_per_s: 8, burst: 8 },
  account_reads: { rate_per_s: 4, burst: 4 },
  ip: { rate_per_s: 150, burst: 100 },
};

/** A bucket waits at most this long for a token; beyond, the call is refused as rate-limited. */
export const THROTTLE_WAIT_MS_MAX = 2_000;

/** Thrown inside the adapter when our own throttle would wait longer than its bound: nothing was sent. */
export class ThrottledError extends Error {
  constructor(readonly retry_after_ms: number) {
    super(`pink throttle: request budget exhausted, retry after ${retry_after_ms} ms`);
    this.name = 'ThrottledError';
  }
}

export class TokenBucket {
  readonly name: string;
  readonly rate_per_s: number;
  readonly burst: number;
  private tokens: number;
  private last_ms: number;

  constructor(name: string, rate: BucketRate, private readonly now_ms: () => number = Date.now) {
    if (!(rate.rate_per_s > 0) || !(rate.burst >= 1)) {
      throw new Error(`TokenBucket ${name}: rate_per_s must be > 0 and burst >= 1 (got ${rate.rate_per_s}, ${rate.burst})`);
    }
    this.name = name;
    this.rate_per_s = rate.rate_per_s;
    this.burst = rate.burst;
    this.tokens = rate.burst;
    this.last_ms = now_ms();
  }

  private refill(): void {
    const now = this.now_ms();
    const elapsed_ms = Math.max(0, now - this.last_ms);
    this.tokens = Math.min(this.burst, this.tokens + (elapsed_ms * this.rate_per_s) / 1000);
    this.last_ms = now;
  }

  /** Milliseconds until one token is available (0: now). */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.rate_per_s);
  }

  /** Takes one token; the caller has checked waitMs() === 0. */
  take(): void {
    this.refill();
    this.tokens -= 1;
  }
}

export class Throttle {
  private readonly buckets: Record<BucketName, TokenBucket>;

  constructor(rates: Partial<VenueRates> = {}, now_ms: () => number = Date.now) {
    const r = { ...BINGX_RATES, ...rates };
    this.buckets = {
      orders: new TokenBucket('orders', r.orders, now_ms),
      account_reads: new TokenBucket('account_reads', r.account_reads, now_ms),
      ip: new TokenBucket('ip', r.ip, now_ms),
    };
  }

  /**
   * Waits until every named bucket (and always `ip`) has a token, then takes one from each.
   * Returns 0 when acquired, else the milliseconds to wait, when that exceeds wait_ms_max
   * (nothing taken: the caller reports RATE_LIMITED with that retry_after_ms).
   */
  async acquire(names: BucketName[], wait_ms_max = THROTTLE_WAIT_MS_MAX): Promise<number> {
    const all = [...new Set<BucketName>([...names, 'ip'])].map((n) => this.buckets[n]);
    let waited_ms = 0;
    // Bounded: each pass either acquires or sleeps; total sleep is capped by wait_ms_max.
    for (;;) {
      const wait_ms = Math.max(...all.map((b) => b.waitMs()));
      if (wait_ms === 0) {
        for (const b of all) b.take();
        return 0;
      }
      if (waited_ms + wait_ms > wait_ms_max) return wait_ms;
      await new Promise((r) => setTimeout(r, wait_ms));
      waited_ms += wait_ms;
    }
  }
}
