// The writer's ordering table (places.ts): every place has its rule and a way to LANDED, a move the
// table lacks is an assertion, and, driven by nothing but the table, a tiny model of the writer
// (a queue, a spool that may refuse writes, a stranded slot) lands every unit once, in the order
// written, whatever ClickHouse and the spool do. Also the test faults' wrapper (faults.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { faultyInsert, type StoreFaults } from '../../src/engine/store/faults.js';
import type { Backend } from '../../src/engine/store/backend.js';
import {
  move, nextSource, olderThanQueueWait, PLACE_RULES, SOURCE_ORDER, StoreAssertionError, transition, transitionTriples, waitingPlace,
  type Source, type UnitEvent, type UnitPlace,
} from '../../src/engine/store/places.js';

const PLACES = Object.keys(PLACE_RULES) as UnitPlace[];
const EVENTS: UnitEvent[] = ['TAKEN', 'SPILLED', 'LANDED', 'UNRECORDED', 'REFUSED_SPOOLED', 'REFUSED_UNSPOOLED'];

test('places: every place has a rule, is reached from QUEUED, and reaches LANDED', () => {
  const triples = transitionTriples();
  for (const [from, , to] of triples) {
    assert.ok(PLACES.includes(from) && PLACES.includes(to), `${from} -> ${to}`);
  }
  const reach = (start: UnitPlace): Set<UnitPlace> => {
    const seen = new Set<UnitPlace>([start]);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [from, , to] of triples) if (seen.has(from) && !seen.has(to)) {
        seen.add(to);
        grew = true;
      }
    }
    return seen;
  };
  assert.deepEqual([...reach('QUEUED')].sort(), [...PLACES].sort());
  for (const p of PLACES) assert.ok(reach(p).has('LANDED'), `${p} never lands`);
  assert.deepEqual(triples.filter(([from]) => from === 'LANDED'), []);
});

test('places: each source waits in one place, and TAKEN sends from that source', () => {
  for (const source of SOURCE_ORDER) {
    const waiting = waitingPlace(source);
    assert.equal(PLACE_RULES[waiting].sending, false);
    const sending = move(waiting, 'TAKEN');
    assert.equal(PLACE_RULES[sending].sending, true);
    assert.equal(PLACE_RULES[sending].source, source);
    // While it is sent its rows are counted where they were counted while they waited.
    assert.equal(PLACE_RULES[sending].counted, PLACE_RULES[waiting].counted);
  }
});

test('places: a move the table lacks is an assertion error', () => {
  let illegal = 0;
  for (const p of PLACES) {
    for (const e of EVENTS) {
      if (transition(p, e) !== undefined) continue;
      illegal++;
      assert.throws(() => move(p, e), StoreAssertionError, `${p} ${e}`);
    }
  }
  assert.ok(illegal > 0);
  // Units from the spool and stranded ones were recorded before: the ledger cannot send them back to the queue.
  assert.throws(() => move('SENDING_SPOOLED', 'UNRECORDED'), StoreAssertionError);
  assert.throws(() => move('SENDING_STRANDED', 'UNRECORDED'), StoreAssertionError);
  assert.throws(() => move('LANDED', 'TAKEN'), StoreAssertionError);
  // A merged unit the ledger could not record goes back to the head of the queue as its batches.
  assert.equal(move('SENDING_QUEUED', 'UNRECORDED'), 'QUEUED');
});

test('places: oldest first, stranded then spool then queue; a failed spool keeps a spooled unit spooled', () => {
  assert.deepEqual([...SOURCE_ORDER], ['stranded', 'spool', 'queue']);
  const all = (s: Source): boolean => s !== undefined;
  assert.equal(nextSource(all), 'stranded');
  assert.equal(nextSource((s) => s !== 'stranded'), 'spool');
  assert.equal(nextSource((s) => s === 'queue'), 'queue');
  assert.equal(nextSource(() => false), null);
  assert.equal(olderThanQueueWait((s) => s === 'queue'), false);
  assert.equal(olderThanQueueWait((s) => s === 'spool'), true);
  assert.equal(olderThanQueueWait((s) => s === 'stranded'), true);
  assert.equal(move('SENDING_SPOOLED', 'REFUSED_UNSPOOLED'), 'SPOOLED');
  assert.equal(move('SENDING_QUEUED', 'REFUSED_UNSPOOLED'), 'STRANDED');
  assert.equal(move('SENDING_STRANDED', 'REFUSED_UNSPOOLED'), 'STRANDED');
});

/** What happens next to the model: a write, a unit sent (landing or refused), the queue spilled, the spool breaking or mending. */
type Step = 'write' | 'ok' | 'refused' | 'spill' | 'break' | 'mend';

/** The writer reduced to its containers, every move asked of the table (units are sequence numbers). */
class Model {
  queue: number[] = [];
  spool: number[] = [];
  stranded: number | null = null;
  landed: number[] = [];
  written = 0;
  spoolOk = true;
  /** The last send was refused: the writer waits for its retry, and a write meanwhile is spilled (writer #schedule). */
  backingOff = false;

  readonly waiting = (s: Source): boolean => (s === 'stranded' ? this.stranded !== null : s === 'spool' ? this.spool.length > 0 : this.queue.length > 0);

  spoolPut(seq: number): void {
    if (!this.spool.includes(seq)) this.spool = [...this.spool, seq].sort((a, b) => a - b);
  }

  spill(): void {
    if (!this.spoolOk) return;
    for (const seq of this.queue.splice(0)) {
      assert.equal(move('QUEUED', 'SPILLED'), 'SPOOLED');
      this.spoolPut(seq);
    }
  }

  /** Sends the next unit; false when none waits. */
  send(lands: boolean): boolean {
    const source = nextSource(this.waiting);
    if (source === null) return false;
    // A spooled unit's file stays until it lands; the others leave their container.
    const seq = source === 'stranded' ? this.stranded! : source === 'spool' ? this.spool[0]! : this.queue.shift()!;
    if (source === 'stranded') this.stranded = null;
    const place = move(waitingPlace(source), 'TAKEN');
    if (lands) {
      assert.equal(move(place, 'LANDED'), 'LANDED');
      this.landed.push(seq);
      // Only a unit taken from the spool has its file removed (writer #pump: unit.entry).
      if (source === 'spool') this.spool = this.spool.filter((s) => s !== seq);
      this.backingOff = false;
      return true;
    }
    if (this.spoolOk) this.spoolPut(seq);
    const next = move(place, this.spool.includes(seq) ? 'REFUSED_SPOOLED' : 'REFUSED_UNSPOOLED');
    if (next === 'STRANDED') {
      assert.equal(this.stranded, null, 'a second unit stranded');
      this.stranded = seq;
    } else if (next === 'QUEUED') {
      this.queue.unshift(seq);
    }
    // SPOOLED: where it is if the spool holds it; if not, the table has lost it (the final check says so).
    this.spill();
    this.backingOff = true;
    return true;
  }

  step(s: Step): void {
    if (s === 'write') {
      this.queue.push(++this.written);
      if (this.backingOff) this.spill();
    }
    else if (s === 'ok' || s === 'refused') this.send(s === 'ok');
    else if (s === 'spill') this.spill();
    else this.spoolOk = s === 'mend';
  }
}

test('places: any run of sends, refusals and spool failures lands every unit once, in the order written', () => {
  const step = fc.constantFrom<Step>('write', 'write', 'ok', 'refused', 'refused', 'spill', 'break', 'mend');
  fc.assert(
    fc.property(fc.array(step, { maxLength: 80 }), (steps) => {
      const m = new Model();
      for (const s of steps) m.step(s);
      m.spoolOk = true;
      for (let i = 0; i <= m.written && m.send(true); i++);
      assert.deepEqual(m.landed, Array.from({ length: m.written }, (_, i) => i + 1));
      assert.equal(nextSource(m.waiting), null);
    }),
    { numRuns: 1000 },
  );
});

test('faults: refused before the insert, lost after it; counters count down on the caller\'s object', async () => {
  const calls: string[] = [];
  const insert: Backend['insert'] = async (_db, family) => {
    calls.push(family);
  };
  const faults: StoreFaults = { failNextInserts: 1, loseNextAcks: 1 };
  const faulty = faultyInsert(insert, faults);
  const send = (): Promise<void> => faulty('db', 'trades', [], 't', 'RowBinary', Buffer.from('x'));
  await assert.rejects(send(), /refused/);
  assert.deepEqual(calls, []);
  await assert.rejects(send(), /lost/);
  assert.deepEqual(calls, ['trades']);
  await send();
  assert.deepEqual(calls, ['trades', 'trades']);
  assert.deepEqual(faults, { failNextInserts: 0, loseNextAcks: 0 });
});
