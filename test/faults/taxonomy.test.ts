// The taxonomy table: the seed's classes with their operator responses, every kernel code, the
// lookups, and the renderers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderMarkdown, renderDetail, PLAIN } from '../../src/engine/faults/render.js';
import { closestFaults, FAULT, FAULTS, findFault, ANOMALY_ORIGIN, LOG_PATHS } from '../../src/engine/faults/taxonomy.js';
import { DEFAULT_LOG_DIR } from '../../src/config.js';
import { ROOT } from '../support/cli.js';

const SEED_CLASSES = ['RATE_LIMITED', 'ORDER_REJECTED', 'EXIT_ORDER_REJECTED', 'CANCEL_REJECTED', 'NO_ACTIVE_EXIT_ORDER', 'STALE_STATE_RECONCILING', 'DUPLICATE_EVENT', 'RATE_LIMITED_PERSISTENT'];
const KERNEL_CODES = ['INVALID_TRANSITION', 'INVALID_INTENT', 'UNKNOWN_ORDER', 'EXIT_CLAMPED', 'OVERFILL', 'ACCOUNT_DRIFT', 'ORPHAN_POSITION', 'FOREIGN_ORDER', 'ORDER_GONE', 'POSITION_MISMATCH', 'VENUE_UNAVAILABLE', 'STORE_SPOOLING', 'OK', 'INTENT_ACCEPTED', 'ORDER_ACCEPTED', 'FILL_APPLIED', 'TRADE_CLOSED', 'RECONCILED'];

test('every class of the seed and every kernel code is in the one table, complete', () => {
  const codes = FAULTS.map((f) => f.code);
  assert.equal(new Set(codes).size, codes.length, 'codes are unique');
  for (const code of [...SEED_CLASSES, ...KERNEL_CODES]) assert.ok(codes.includes(code), code);
  for (const f of FAULTS) {
    for (const field of ['title', 'slot_effect', 'recovery', 'cause', 'response'] as const) assert.ok(f[field].length > 0, `${f.code}.${field}`);
    assert.match(f.code, /^[A-Z_]+$/);
    assert.ok(['INFO', 'WARNING', 'ERROR', 'CRITICAL'].includes(f.severity));
    for (const text of [f.response, f.cause, f.slot_effect]) assert.doesNotMatch(text, /pink_ctl\.py/, `${f.code} still says pink_ctl.py`);
  }
  const names = FAULTS.flatMap((f) => [f.code, ...f.aliases].map((n) => n.toUpperCase()));
  assert.equal(new Set(names).size, names.length, 'no alias names two classes');
});

test("the seed's operator responses, adapted to pink", () => {
  assert.equal(FAULT.RATE_LIMITED.severity, 'WARNING');
  assert.match(FAULT.RATE_LIMITED.response, /DOLPHIN_PINK_POLL_INTERVAL_SEC/);
  assert.match(FAULT.RATE_LIMITED.response, /\/openApi\/swap\/v2\/user\/balance/);
  assert.equal(FAULT.DUPLICATE_EVENT.severity, 'INFO');
  assert.match(FAULT.EXIT_ORDER_REJECTED.response, /pink flatten SYMBOL/);
  assert.match(FAULT.EXIT_ORDER_REJECTED.response, /DOLPHIN_MAX_HOLD_BARS/);
  assert.match(FAULT.STALE_STATE_RECONCILING.response, /30 s[\s\S]*pink restart/);
  assert.ok(FAULT.STALE_STATE_RECONCILING.aliases.includes('STALE_STATE_RECONCILE'));
  assert.equal(FAULT.RATE_LIMITED_PERSISTENT.anomaly_origin, ANOMALY_ORIGIN);
  assert.match(FAULT.RATE_LIMITED_PERSISTENT.response, /DITA_V2_RATE_LIMIT_COOLDOWN_SEC/);
  assert.match(FAULT.ORDER_REJECTED.slot_effect, /IDLE/);
  assert.match(FAULT.EXIT_ORDER_REJECTED.slot_effect, /EXIT_WORKING/);
});

test("the anomaly origin the operator's documents name is the one the kernel writes", () => {
  // Operators filter the anomalies table by this origin, as these documents tell them to.
  for (const doc of ['README.md', 'docs/control.md', 'docs/observability.md']) {
    assert.ok(readFileSync(join(ROOT, doc), 'utf8').includes(`\`${ANOMALY_ORIGIN}\``), `${doc} names the origin ${ANOMALY_ORIGIN}`);
  }
  assert.ok(renderMarkdown('/var/log/pink').includes(`origin \`${ANOMALY_ORIGIN}\``), 'pink fault --markdown names it');
});

test('the log folder pink fault names by default is the one config falls back to', () => {
  // Two definitions on purpose: config must not load faults/ (status over the socket loads none of it).
  assert.equal(LOG_PATHS.default_dir, DEFAULT_LOG_DIR);
});

test('findFault: case-insensitive, by code or heading alias', () => {
  assert.equal(findFault('rate_limited')?.code, 'RATE_LIMITED');
  assert.equal(findFault('  Duplicate_Event ')?.code, 'DUPLICATE_EVENT');
  assert.equal(findFault('stale_state_reconcile')?.code, 'STALE_STATE_RECONCILING');
  assert.equal(findFault('RATE_LIMITED (persistent cycle)')?.code, 'RATE_LIMITED_PERSISTENT');
  assert.equal(findFault('rate-limited-persistent')?.code, 'RATE_LIMITED_PERSISTENT');
  assert.equal(findFault('NOPE'), undefined);
});

test('closestFaults: nearest names first', async () => {
  assert.equal((await closestFaults('RATE_LIMTED', 3))[0], 'RATE_LIMITED');
  assert.equal((await closestFaults('stale', 3))[0], 'STALE_STATE_RECONCILING');
  assert.equal((await closestFaults('ORDER_REJECT', 2))[0], 'ORDER_REJECTED');
  assert.equal((await closestFaults('xyz', 3)).length, 3);
});

test('renderers: the Markdown document and one class carry the operator response', () => {
  const doc = renderMarkdown('/var/log/pink');
  assert.match(doc, /^# /);
  for (const f of FAULTS) assert.ok(doc.includes(`### ${f.code}\n`), f.code);
  assert.match(doc, /\/var\/log\/pink\/dolphin_live_pink-error\.log/);
  const one = renderDetail(FAULT.EXIT_ORDER_REJECTED, '/tmp/dolphin_logs/supervisor', PLAIN);
  assert.match(one, /^EXIT_ORDER_REJECTED/);
  assert.match(one, /pink flatten SYMBOL/);
  assert.match(one, /\/tmp\/dolphin_logs\/supervisor\/dolphin_live_pink\.log/);
});

test('the taxonomy module stays light: no import at load time (fastest-levenshtein on demand)', () => {
  const compiled = readFileSync(join(ROOT, 'dist', 'src', 'engine', 'faults', 'taxonomy.js'), 'utf8');
  const imports = [...compiled.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
  assert.deepEqual(imports, []);
  assert.match(compiled, /await import\('fastest-levenshtein'\)/);
});
