// Test hooks that make ClickHouse "fail" for real requests (tests, and the chaos harness through
// PINK_CHAOS_STORE_FAIL). They wrap the backend's insert, and openStore wraps it only when it is
// given faults: the writer's own insert path never looks at them, so production runs the insert
// the backend gave it and nothing else.
import type { Backend } from './backend.js';

/** The counters decrement as they fire; the caller's object is the one decremented (tests read it). */
export interface StoreFaults {
  /** The next N family inserts fail before they are sent. */
  failNextInserts?: number;
  /** The next N family inserts land, then fail as if the answer had been lost. */
  loseNextAcks?: number;
}

/** `insert`, failing as `faults` say. */
export function faultyInsert(insert: Backend['insert'], faults: StoreFaults): Backend['insert'] {
  return async (database, family, columns, token, format, bytes) => {
    if ((faults.failNextInserts ?? 0) > 0) {
      faults.failNextInserts!--;
      throw new Error(`injected failure: insert into ${family} refused`);
    }
    await insert(database, family, columns, token, format, bytes);
    if ((faults.loseNextAcks ?? 0) > 0) {
      faults.loseNextAcks!--;
      // It landed, but the answer is "lost": the writer must believe it did not.
      throw new Error(`injected failure: answer to insert into ${family} lost`);
    }
  };
}
