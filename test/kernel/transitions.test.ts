// The one transition table: what it allows, and that the kernel refuses the rest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transition, transitionPairs } from '../../src/engine/kernel/index.js';
import type { SlotState } from '../../src/engine/kernel/types.js';

const STATES: SlotState[] = ['IDLE', 'ENTRY_WORKING', 'OPEN', 'EXIT_WORKING', 'CLOSED', 'STALE_STATE_RECONCILING'];

test('ENTER only from IDLE and CLOSED; exit reject stays EXIT_WORKING; entry reject goes to IDLE', () => {
  for (const s of STATES) assert.equal(transition(s, 'ENTER') !== undefined, s === 'IDLE' || s === 'CLOSED', s);
  assert.equal(transition('ENTRY_WORKING', 'ENTRY_REJECTED'), 'IDLE');
  assert.equal(transition('EXIT_WORKING', 'EXIT_REJECTED'), 'EXIT_WORKING');
  assert.equal(transition('CLOSED', 'EXIT'), undefined, 'a closed slot refuses EXIT');
  assert.equal(transition('OPEN', 'POSITION_FLAT'), 'CLOSED');
  assert.equal(transition('CLOSED', 'POSITION_FLAT'), undefined, 'closes once');
});

test('a stale slot leaves only through a reconcile', () => {
  const out = transitionPairs().filter(([from, , to]) => from === 'STALE_STATE_RECONCILING' && to !== from);
  assert.ok(out.length > 0);
  for (const [, event] of out) assert.ok(event.startsWith('RECONCILED_') || event === 'ADOPT', event);
  for (const s of STATES) assert.equal(transition(s, 'SEND_UNKNOWN'), 'STALE_STATE_RECONCILING');
});

test('every pair of the table goes between slot states', () => {
  for (const [from, , to] of transitionPairs()) {
    assert.ok(STATES.includes(from) && STATES.includes(to), `${from} -> ${to}`);
  }
});
