// The venue entry point. Importing this module costs nothing: ccxt is loaded inside openVenue,
// after the authorization gate has passed, so a refused start never opens a connection.
import type { Config } from '../../config.js';
import { checkVenueAuthorization } from './authorize.js';
import type { OpenVenueOptions, Venue } from './types.js';

export type { LookedUpOrder, OpenVenueOptions, Venue, VenueOrderStatus, VenueRates } from './types.js';
export { checkVenueAuthorization, redact, redactReason } from './authorize.js';
export { VenueReadError } from './errors.js';
export { toCcxtSymbol, fromCcxtSymbol, isPinkOrder } from './translate.js';

/**
 * Opens the configured venue: gate (ExitError 2, nothing sent), then ccxt's bingx client
 * (sandbox for bingx-vst, every API URL pointed at the simulator for sim), then markets and a
 * private read. Throws ExitError(2) when the venue refuses the key or lacks a symbol,
 * ExitError(3) when it cannot be reached.
 */
export async function openVenue(config: Config, opts: OpenVenueOptions = {}): Promise<Venue> {
  checkVenueAuthorization(config, opts.live === true);
  const { connectCcxtVenue } = await import('./connect.js');
  return connectCcxtVenue(config, opts);
}
