// Issue 20: PINK trades one-way (BingX positionSide BOTH). An account in hedge (dual-side) mode
// answers every order with a positionSide error, or worse, opens a second position beside PINK's:
// the start is refused before anything is sent (hummingbot-api#210: a mode silently never applied).
import { EXIT, ExitError, usageError } from '../../errors.js';
import { VenueReadError } from '../venue/errors.js';
import type { Venue } from '../venue/types.js';

/** A venue that refuses the read for rate (or does not answer) is asked again, this long at most
 * (like connect's first reads: a rate limit clears by itself). */
export const POSITION_MODE_READ_MS_MAX = 10_000;
const RETRY_MS = 500;
const RETRY_MS_MAX = 5_000;

/**
 * Asked again after a failure within budget_ms, and always once more after the first failure,
 * however long it took: a read that timed out (a latency spike past the request timeout, 10 s by
 * default) used up the whole budget by itself, and the start gave up though the venue answered
 * again a moment later (chaos seeds 633, 639, 667, 862, 921; connect does the same, seed 2).
 */
async function readMode(venue: Venue, budget_ms: number): Promise<Awaited<ReturnType<Venue['positionMode']>>> {
  const deadline = Date.now() + budget_ms;
  // Bounded: every round waits at least RETRY_MS; a round after the second starts only within the deadline.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await venue.positionMode();
    } catch (err) {
      if (!(err instanceof VenueReadError) || err.auth) throw err;
      const wait_ms = Math.min(RETRY_MS_MAX, Math.max(RETRY_MS, err.input.type === 'RATE_LIMITED' ? (err.input.retry_after_ms ?? RETRY_MS) : RETRY_MS));
      if (attempt > 1 && Date.now() + wait_ms > deadline) throw err;
      await new Promise((r) => setTimeout(r, wait_ms));
    }
  }
}

/** Reads the account's position mode (one private call); throws ExitError(2) in hedge mode, ExitError(3) when unreadable. */
export async function assertOneWay(venue: Venue, budget_ms = POSITION_MODE_READ_MS_MAX): Promise<void> {
  let mode: Awaited<ReturnType<Venue['positionMode']>>;
  try {
    mode = await readMode(venue, budget_ms);
  } catch (err) {
    if (!(err instanceof VenueReadError)) throw err;
    throw new ExitError(
      err.auth ? EXIT.USAGE : EXIT.UNREACHABLE,
      `could not read the account's position mode: ${err.message}. Nothing was sent.`,
      err.auth ? 'Check DOLPHIN_PINK_BINGX_API_KEY / DOLPHIN_PINK_BINGX_API_SECRET and the key\'s permissions.' : 'The venue refused or did not answer; start again (pink restart).',
    );
  }
  if (mode === 'hedge') {
    throw usageError(
      'refused to start: the BingX account is in hedge (dual-side) position mode; PINK trades one-way only. Nothing was sent.',
      'Switch the account to one-way mode at BingX (Perpetual futures → Preferences → Position mode: One-way; allowed only with no position and no open order), then start again (pink run).',
    );
  }
}
