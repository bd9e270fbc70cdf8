// PLACEHOLDER: replaced by the real command; must not land as is.
import type { CommandRun } from './types.js';
import { ExitError, EXIT } from '../errors.js';

export const run: CommandRun = async () => {
  throw new ExitError(EXIT.USAGE, 'pink sim is not built yet.', 'Placeholder.');
};
