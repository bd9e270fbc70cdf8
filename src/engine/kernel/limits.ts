// Every bound of the kernel, in one place (TigerBeetle: a limit on everything, units last in
// names). Inputs outside a value bound are refused with INVALID_INPUT / INVALID_INTENT before
// anything changes; the memory bounds say how long the kernel remembers what it has applied, and
// what happens when a count bound is reached (it fails closed: it stops taking what would need
// more memory, it never forgets early).
//
// Why the value bounds keep every number finite: a quantity is at most QTY_MAX and a price at
// most PRICE_USDT_MAX, so one fill's notional, PnL or fee is at most 1e21 USDT; capital, realized
// PnL and fees are sums of such terms, finite for any count of inputs below 1e287. A position is
// the sum of one order's fills, capped at that order's quantity (≤ QTY_MAX), or an adopted size
// (≤ QTY_MAX). Averages divide by a positive position. So no input the kernel accepts can make a
// number of its state Infinity or NaN.

/** Base-asset units. BingX's largest contract sizes (meme coins) are in the billions. */
export const QTY_MAX = 1e12;
/** Below any venue's lot step: a smaller quantity is noise, not an order or a fill. */
export const QTY_MIN = 1e-12;
/** USDT per base unit. Nothing trades above a billion USDT a unit, or below 1e-12. */
export const PRICE_USDT_MAX = 1e9;
export const PRICE_USDT_MIN = 1e-12;
/** An ENTER's notional (qty is notional / mark, then checked against QTY_MAX as well). */
export const NOTIONAL_USDT_MAX = 1e12;
/** One fill's fee, paid or rebated. */
export const FEE_USDT_ABS_MAX = 1e12;
/** One funding payment, paid or received. */
export const FUNDING_USDT_ABS_MAX = 1e12;
/** A funding rate per interval (BingX clamps at a few tenths of a percent). */
export const FUNDING_RATE_ABS_MAX = 1;
/** The venue's wallet balance as reported at reconcile (drift only). */
export const BALANCE_USDT_ABS_MAX = 1e15;
/** A kernel's initial capital. */
export const CAPITAL_USDT_MAX = 1e15;
/** |venue balance − capital| above this is ACCOUNT_DRIFT; the tolerance itself is bounded. */
export const DRIFT_TOLERANCE_USDT_MAX = 1e12;
/**
 * The drift tolerance (USDT) every history has: no caller sets another (kernel-glue.ts passes this
 * one), and status judges drift by it. It stays a setting because checkpoints and SETTINGS inputs
 * carry it.
 */
export const DRIFT_TOLERANCE_USDT_DEFAULT = 1;
/**
 * A drift the operator accepts (DRIFT_ACCEPTED): within the venue balance's own bound. A larger
 * difference is not an accounting difference to record but a broken history (or a bad input).
 */
export const DRIFT_ACCEPTED_USDT_ABS_MAX = BALANCE_USDT_ABS_MAX;
/** Every time is epoch ms in [0, 2100-01-01). */
export const TS_MS_MAX = 4_102_444_800_000;
/** A venue's retry-after, and the configured cooldown (SPEC 6: cooldown 0–3600 s). */
export const RETRY_AFTER_MS_MAX = 3_600_000;
export const COOLDOWN_MS_MAX = 3_600_000;
/** The persistent rate-limit window. */
export const RATE_LIMIT_PERSISTENT_MS_MAX = 24 * 3_600_000;
/** SPEC 6: max hold 1–100000 bars. */
export const HOLD_BARS_MAX = 100_000;
/** A market's lot step (ccxt precision.amount): BingX's are 1e-8 … 1000. */
export const QTY_STEP_MIN = 1e-12;
export const QTY_STEP_MAX = 1e6;
/** Slots one kernel trades (each one is walked on every TICK). */
export const SYMBOLS_MAX = 1_000;
/** A symbol is BingX's `BASE-USDT` form; ids in rows are bounded too (validate.ts ID_CHARS_MAX). */
export const SYMBOL_CHARS_MAX = 40;

// ---- Memory: how long the kernel remembers what it applied ----------------------------------

/**
 * The runner asks the venue for fills this far before the kernel's last input time (reconcile's
 * lookback). One definition: the runner imports it, and every memory bound below is built on it.
 */
export const RECONCILE_LOOKBACK_MS = 10 * 60 * 1000;
/**
 * A fill can come back (a poll overlap, a reconcile inferring it) only while its venue time is
 * within the lookback of the kernel's last input time. Applied fill ids are kept three lookbacks
 * (30 min) past their venue time: the margin covers the venue's clock against the runner's and the
 * time between a snapshot's read and its RECONCILE input. A fill older than that is never
 * applied: it is DUPLICATE_EVENT (it can only be a re-delivery; a real one that old would mean
 * the runner read outside its own lookback).
 */
export const FILL_MEMORY_MS = 3 * RECONCILE_LOOKBACK_MS;
/**
 * An order that left the book (filled, canceled, rejected, never placed) is kept this long after
 * its last change, so that its intent id is refused as a duplicate while any fill of it can still
 * arrive, and a late event of it is recognised. Its fills have venue times before its last change,
 * so once it is forgotten they are outside every later lookback.
 */
export const ORDER_MEMORY_MS = FILL_MEMORY_MS;
/**
 * Count bounds of the two memories. PINK's own order budget is 8 orders/s (venue/throttle.ts):
 * 30 min of it is 14,400 orders, under ORDERS_REMEMBERED_MAX; fills are a few per order. When a
 * bound is reached the kernel fails closed: new ENTER/EXIT intents are refused (BOOK_MEMORY_FULL)
 * from FILL_IDS_INTENTS_MAX on, so the orders already working have the rest for their fills; a
 * fill that would need a slot beyond FILL_IDS_MAX is refused too (never applied unremembered).
 * Memory frees itself as kernel time passes the horizons above.
 */
export const ORDERS_REMEMBERED_MAX = 20_000;
/** The memories are pruned at a TICK at most this often (kernel time): an entry is kept up to a
 * minute past its horizon (longer is safe), and the hot path pays for pruning once a minute. */
export const MEMORY_PRUNE_EVERY_MS = 60_000;
export const FILL_IDS_MAX = 60_000;
export const FILL_IDS_INTENTS_MAX = 50_000;

/** The history id: minted by the runner at a kernel's first start (runner/kernel-glue.ts). */
export const HISTORY_ID_CHARS = 10;
export const HISTORY_ID_PATTERN = /^[a-z0-9]{10}$/;

/** Issue 19 breakers: DOLPHIN_PINK_MAX_REJECTS in [0, 1000] (0 = off); DOLPHIN_PINK_MAX_DRAWDOWN_USDT in [0, 1e12] (0 = none). */
export const MAX_REJECTS_MAX = 1_000;
export const MAX_DRAWDOWN_USDT_MAX = 1e12;
