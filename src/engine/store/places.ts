// The writer's ordering as a table (STYLE "State machines in the open"): where a unit's rows are,
// and the events that move them. Rows land in ClickHouse in the order they were written because
// the pump always takes the OLDEST waiting unit, and where a unit waits says how old it is:
// - STRANDED: a unit from the queue (or stranded before) that ClickHouse refused and the spool
//   could not take. It was taken when nothing older waited and everything written since is behind
//   it, so it goes first. At most one: nothing else is taken while it waits.
// - SPOOLED: on disk, in sequence order (spool.ts). A queued unit is only taken when the spool is
//   empty, and the queue spills behind whatever it refused, so the spool is older than the queue.
// - QUEUED: in memory, newest.
// When the spool itself fails, a unit from the spool is still whole in its file (a put replaces a
// file atomically) and stays SPOOLED; any other unit is kept in memory, STRANDED. The writer moves
// a unit only through `move`; a pair the table lacks is a bug in the writer (an assertion).

/** Where the pump takes units from: SOURCE_ORDER is its order (oldest first). */
export type Source = 'stranded' | 'spool' | 'queue';
export const SOURCE_ORDER = ['stranded', 'spool', 'queue'] as const satisfies readonly Source[];

export type UnitPlace = 'QUEUED' | 'SPOOLED' | 'STRANDED' | 'SENDING_QUEUED' | 'SENDING_SPOOLED' | 'SENDING_STRANDED' | 'LANDED';

export type UnitEvent =
  /** The pump took it as the next unit. */
  | 'TAKEN'
  /** The queue went to the spool (too many rows waiting, a back-off, a flush that could not catch up). */
  | 'SPILLED'
  /** Every family of it is in ClickHouse. */
  | 'LANDED'
  /** The ledger could not record a merged unit: its batches go back to the head of the queue (writer #record). */
  | 'UNRECORDED'
  /** ClickHouse did not take it all, and what is left is in the spool. */
  | 'REFUSED_SPOOLED'
  /** ClickHouse did not take it all, and the spool could not be written either. */
  | 'REFUSED_UNSPOOLED';

/** What the rest of the writer reads about a place. */
export interface PlaceRule {
  /** Where its units are taken from (null: nowhere, they are done). */
  readonly source: Source | null;
  /** Taken by the pump and not yet settled. */
  readonly sending: boolean;
  /** Which count of WriterStats holds its rows: in memory (pending_rows), on disk (spooled_rows), or none. */
  readonly counted: 'pending_rows' | 'spooled_rows' | null;
}

export const PLACE_RULES = {
  QUEUED: { source: 'queue', sending: false, counted: 'pending_rows' },
  SPOOLED: { source: 'spool', sending: false, counted: 'spooled_rows' },
  STRANDED: { source: 'stranded', sending: false, counted: 'pending_rows' },
  SENDING_QUEUED: { source: 'queue', sending: true, counted: 'pending_rows' },
  // Its file stays until it lands: the spool still counts it.
  SENDING_SPOOLED: { source: 'spool', sending: true, counted: 'spooled_rows' },
  SENDING_STRANDED: { source: 'stranded', sending: true, counted: 'pending_rows' },
  LANDED: { source: null, sending: false, counted: null },
} as const satisfies { readonly [P in UnitPlace]: PlaceRule };

type Table = { readonly [P in UnitPlace]: Readonly<Partial<Record<UnitEvent, UnitPlace>>> };

const TABLE: Table = {
  QUEUED: { TAKEN: 'SENDING_QUEUED', SPILLED: 'SPOOLED' },
  SPOOLED: { TAKEN: 'SENDING_SPOOLED' },
  STRANDED: { TAKEN: 'SENDING_STRANDED' },
  SENDING_QUEUED: { LANDED: 'LANDED', UNRECORDED: 'QUEUED', REFUSED_SPOOLED: 'SPOOLED', REFUSED_UNSPOOLED: 'STRANDED' },
  // Recorded in the ledger when it was spooled, so never UNRECORDED; its file is untouched by a failed put.
  SENDING_SPOOLED: { LANDED: 'LANDED', REFUSED_SPOOLED: 'SPOOLED', REFUSED_UNSPOOLED: 'SPOOLED' },
  // Recorded (or sent unrecorded, one batch) before it was first sent: never UNRECORDED.
  SENDING_STRANDED: { LANDED: 'LANDED', REFUSED_SPOOLED: 'SPOOLED', REFUSED_UNSPOOLED: 'STRANDED' },
  LANDED: {},
};

/** A move the table does not allow: the writer lost track of a unit. */
export class StoreAssertionError extends Error {
  constructor(message: string) {
    super(`store assertion failed: ${message}`);
    this.name = 'StoreAssertionError';
  }
}

/** The next place, or undefined when the table does not allow `event` in `place`. */
export function transition(place: UnitPlace, event: UnitEvent): UnitPlace | undefined {
  return TABLE[place][event];
}

/** The next place; throws StoreAssertionError when the table does not allow the move. */
export function move(place: UnitPlace, event: UnitEvent): UnitPlace {
  const next = TABLE[place][event];
  if (next === undefined) throw new StoreAssertionError(`a unit ${place} cannot be ${event}`);
  return next;
}

/** Where units of `source` wait. */
export function waitingPlace(source: Source): UnitPlace {
  return (Object.keys(PLACE_RULES) as UnitPlace[]).find((p) => PLACE_RULES[p].source === source && !PLACE_RULES[p].sending)!;
}

/** The source the next unit comes from: the first in SOURCE_ORDER with a unit waiting; null: none. */
export function nextSource(waiting: (source: Source) => boolean): Source | null {
  return SOURCE_ORDER.find(waiting) ?? null;
}

/** Whether units older than the queue's wait (so the queue's must not be gathered or held back). */
export function olderThanQueueWait(waiting: (source: Source) => boolean): boolean {
  return SOURCE_ORDER.slice(0, SOURCE_ORDER.indexOf('queue')).some(waiting);
}

/** Every (place, event, next) triple of the table, for tests and documentation. */
export function transitionTriples(): Array<[UnitPlace, UnitEvent, UnitPlace]> {
  const out: Array<[UnitPlace, UnitEvent, UnitPlace]> = [];
  for (const place of Object.keys(TABLE) as UnitPlace[]) {
    for (const [event, next] of Object.entries(TABLE[place]) as Array<[UnitEvent, UnitPlace]>) out.push([place, event, next]);
  }
  return out;
}
