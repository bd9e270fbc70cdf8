// The one transition table: what it allows, and that the kernel refuses the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transition, transitionPairs } from '../../src/engine/kernel/index.js';
import { settleTarget } from '../../src/engine/kernel/reconcile-apply.js';
import { holdsOf, isSettledState, settledBy, waitsForReconcile, type ReconciledEvent, type SettledState, type SlotEvent } from '../../src/engine/kernel/transitions.js';
import type { OrderPurpose, SlotState } from '../../src/engine/kernel/types.js';

const STATES: SlotState[] = ['IDLE', 'ENTRY_WORKING', 'OPEN', 'EXIT_WORKING', 'CLOSED', 'STALE_STATE_RECONCILING'];

test('ENTER only from IDLE and CLOSED; exit reject stays EXIT_WORKING; entry reject goes to IDLE', () => {
  for (const s of STATES) assert.equal(transition(s, 'ENTER') !== undefined, s === 'IDLE' || s === 'CLOSED', s);
  assert.equal(transition('ENTRY_WORKING', 'ENTRY_REJECTED'), 'IDLE');
  assert.equal(transition('EXIT_WORKING', 'EXIT_REJECTED'), 'EXIT_WORKING');
  assert.equal(transition('CLOSED', 'EXIT'), undefined, 'a closed slot refuses EXIT');
  assert.equal(transition('OPEN', 'POSITION_FLAT'), 'CLOSED');
  assert.equal(transition('CLOSED', 'POSITION_FLAT'), undefined, 'closes once');
});

test('a slot that waits for a reconcile leaves only through one', () => {
  const waiting = STATES.filter(waitsForReconcile);
  assert.deepEqual(waiting, ['STALE_STATE_RECONCILING']);
  const out = transitionPairs().filter(([from, , to]) => waitsForReconcile(from) && to !== from);
  assert.ok(out.length > 0);
  for (const [, event] of out) assert.ok(event.startsWith('RECONCILED_') || event === 'ADOPT', event);
  for (const s of STATES) assert.equal(transition(s, 'SEND_UNKNOWN'), 'STALE_STATE_RECONCILING');
});

/** Every SlotEvent, once: the compiler refuses this object if the union gains or loses one. */
const EVENTS = {
  ENTER: true, EXIT: true, EXIT_RETRY: true, CANCEL_REQUEST: true, ENTRY_ACCEPTED: true, ENTRY_FILL: true, ENTRY_FILLED: true,
  ENTRY_REJECTED: true, ENTRY_REJECTED_PARTIAL: true, ENTRY_CANCELED_EMPTY: true, ENTRY_CANCELED_PARTIAL: true, ENTRY_NOT_PLACED: true,
  ENTRY_NOT_PLACED_PARTIAL: true, EXIT_ACCEPTED: true, EXIT_FILL: true, EXIT_FILLED: true, EXIT_REJECTED: true, EXIT_CANCELED: true,
  EXIT_NOT_PLACED: true, CANCEL_REJECTED: true, LATE_ENTRY_FILL: true, LATE_EXIT_FILL: true, POSITION_FLAT: true, SEND_UNKNOWN: true,
  ADOPT: true, RECONCILED_IDLE: true, RECONCILED_OPEN: true, RECONCILED_CLOSED: true, RECONCILED_ENTRY_WORKING: true, RECONCILED_EXIT_WORKING: true,
} satisfies Record<SlotEvent, true>;

test('every event of SlotEvent moves some state: none is declared and never allowed', () => {
  const used = new Set(transitionPairs().map(([, event]) => event));
  for (const event of Object.keys(EVENTS) as SlotEvent[]) assert.ok(used.has(event), `${event} is in no row of the table`);
});

test('trading alone reaches every state from IDLE: no state is reachable only by a reconcile', () => {
  const reached = new Set<SlotState>(['IDLE']);
  const trading = transitionPairs().filter(([, event]) => !event.startsWith('RECONCILED_') && event !== 'ADOPT');
  for (let grew = true; grew; ) {
    grew = false;
    for (const [from, , to] of trading) if (reached.has(from) && !reached.has(to)) (reached.add(to), (grew = true));
  }
  assert.deepEqual([...reached].sort(), [...STATES].sort());
});

test('the settle map agrees with the table: from every state, each settled_by event leads to its state', () => {
  const settled = STATES.filter(isSettledState);
  assert.deepEqual(settled, ['IDLE', 'ENTRY_WORKING', 'OPEN', 'EXIT_WORKING', 'CLOSED']);
  for (const from of STATES) for (const target of settled) assert.equal(transition(from, settledBy(target)), target, `${from} --${settledBy(target)}-->`);
  // and the table has no reconcile event the map does not name
  const named = new Set(settled.map(settledBy));
  for (const [from, event, to] of transitionPairs()) {
    if (event.startsWith('RECONCILED_')) assert.ok(named.has(event as ReconciledEvent) && settledBy(to as SettledState) === event, `${from} --${event}--> ${to}`);
  }
});

test('a waiting state settles on no state of its own and holds either', () => {
  for (const s of STATES.filter(waitsForReconcile)) {
    assert.equal(isSettledState(s), false, s);
    assert.equal(holdsOf(s), 'either', s);
  }
});

/** The settle as it was written before STATE_RULES (its KEEP lists), as an oracle. */
function settleOracle(qty: number, working: OrderPurpose | null, base: SlotState, closed: boolean): SlotState {
  if (working !== null) return working === 'entry' ? 'ENTRY_WORKING' : 'EXIT_WORKING';
  if (qty > 0) return base === 'OPEN' || base === 'EXIT_WORKING' ? base : 'OPEN';
  if (base === 'IDLE' || base === 'CLOSED') return base;
  return closed ? 'CLOSED' : 'IDLE';
}

test('settleTarget: every combination of facts settles as the KEEP lists did, on a state the table can reach', () => {
  const bases = STATES.filter((s) => !waitsForReconcile(s));
  for (const qty of [0, 1]) {
    for (const working of [null, 'entry', 'exit', 'flatten'] as const) {
      for (const base of bases) {
        for (const closed of [false, true]) {
          const target = settleTarget(qty, working, base, closed);
          const facts = `qty ${qty}, working ${working}, base ${base}, closed ${closed}`;
          assert.equal(target, settleOracle(qty, working, base, closed), facts);
          if (working === null) assert.notEqual(holdsOf(target), qty > 0 ? 'nothing' : 'position', facts);
          for (const from of STATES) assert.equal(transition(from, settledBy(target)), target, `${facts}, from ${from}`);
        }
      }
    }
  }
});

test('settleTarget keeps a state the venue agrees with and moves one it does not', () => {
  assert.equal(settleTarget(2, null, 'EXIT_WORKING', false), 'EXIT_WORKING', 'an exit that was rejected keeps retrying');
  assert.equal(settleTarget(2, null, 'ENTRY_WORKING', false), 'OPEN', 'an entry gone with a position opens');
  assert.equal(settleTarget(0, null, 'OPEN', true), 'CLOSED', 'the venue flat under an open slot whose trade closed');
  assert.equal(settleTarget(0, null, 'ENTRY_WORKING', false), 'IDLE', 'an entry gone without a fill');
  assert.equal(settleTarget(0, null, 'CLOSED', false), 'CLOSED');
  assert.equal(settleTarget(0, 'flatten', 'OPEN', false), 'EXIT_WORKING', 'a flatten order works as an exit');
});
