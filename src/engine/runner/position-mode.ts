// Issue 20: PINK trades one-way (BingX positionSide BOTH). An account in hedge (dual-side) mode
// answers every order with a positionSide error, or worse, opens a second position beside PINK's:
// the start is refused before anything is sent (hummingbot-api#210: a mode silently never applied).
import { EXIT, ExitError, usageError } from '../../errors.js';
import { VenueReadError } from '../venue/errors.js';
import type { Venue } from '../venue/types.js';

/** Reads the account's position mode (one private call); throws ExitError(2) in hedge mode, ExitError(3) when unreadable. */
export async function assertOneWay(venue: Venue): Promise<void> {
  let mode: Awaited<ReturnType<Venue['positionMode']>>;
  try {
    mode = await venue.positionMode();
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
