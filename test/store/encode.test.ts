// The wire formats without a database: RowBinary decoded back by an independent reader here must
// give every value of every family and column type exactly (and TabSeparated, field for field), for
// the awkward values: text with tabs, newlines, backslashes, NULs and non-ASCII (a lone surrogate
// becomes U+FFFD, as UTF-8 has no other spelling for it), lengths past one LEB128 byte, -0 and the
// extreme doubles, times at ms precision to DateTime64(3)'s last day, UInt32's maximum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { RowFamily, RowOut } from '../../src/engine/kernel/types.js';
import { encodeBatch, encodeRow, familyStructure, formatTimeMs, RowAssertionError, RowBinaryBuffer, TIME_MS_MAX, type EncodedBatch, type RowBinaryBuffers } from '../../src/engine/store/encode.js';
import { joined } from '../../src/engine/store/units.js';
import { FAMILIES, FAMILY_COLUMNS, type ColumnKind } from '../../src/engine/store/schema.js';
import { insertFromFileSql } from '../../src/engine/store/backend.js';
import { specialRows } from './fixtures.js';

const CTX = { namespace: 'pink', run_id: 'run-1' };

/** Reads RowBinary the way ClickHouse documents it (not the way encode.ts writes it). */
function decodeRowBinary(family: RowFamily, bytes: Buffer): Record<string, string | number>[] {
  const rows: Record<string, string | number>[] = [];
  let o = 0;
  while (o < bytes.length) {
    const row: Record<string, string | number> = {};
    for (const col of FAMILY_COLUMNS[family]) {
      switch (col.kind) {
        case 'string':
        case 'lc': {
          let len = 0;
          for (let shift = 0; ; shift += 7) {
            const b = bytes[o++]!;
            len += (b & 0x7f) * 2 ** shift;
            if (b < 0x80) break;
          }
          row[col.name] = bytes.toString('utf8', o, o + len);
          o += len;
          break;
        }
        case 'time':
          row[col.name] = Number(bytes.readBigInt64LE(o));
          o += 8;
          break;
        case 'float':
          row[col.name] = bytes.readDoubleLE(o);
          o += 8;
          break;
        case 'uint32':
          row[col.name] = bytes.readUInt32LE(o);
          o += 4;
          break;
        case 'flag':
          row[col.name] = bytes.readUInt8(o);
          o += 1;
          break;
      }
    }
    rows.push(row);
  }
  assert.equal(o, bytes.length, `${family}: no trailing bytes`);
  return rows;
}

/** What a value must read back as: null text as '', flags as 0/1, text as its UTF-8 spelling. */
function expectedValue(kind: ColumnKind, v: unknown): string | number {
  if (kind === 'flag') return v === true || v === 1 ? 1 : 0;
  if (kind === 'string' || kind === 'lc') return Buffer.from(v === null ? '' : (v as string)).toString();
  return v as number;
}

function expectedRow(out: RowOut): Record<string, string | number> {
  const r: Record<string, string | number> = {};
  for (const c of FAMILY_COLUMNS[out.family]) r[c.name] = c.name === 'namespace' || c.name === 'run_id' ? CTX[c.name] : expectedValue(c.kind, out.row[c.name]);
  return r;
}

test('RowBinary: every family and column type reads back exactly, awkward values included', () => {
  const rows = specialRows();
  const { batch, rows: n } = encodeBatch(rows, CTX, 'RowBinary');
  assert.equal(n, rows.length);
  for (const f of FAMILIES) {
    const mine = rows.filter((r) => r.family === f);
    assert.ok(mine.length > 0, f);
    assert.equal(batch[f]!.rows, mine.length);
    const back = decodeRowBinary(f, batch[f]!.bytes);
    assert.deepEqual(back, mine.map(expectedRow), f);
  }
  // Every kind was exercised, and the awkward values are really in there.
  const all = rows.flatMap((r) => Object.values(r.row));
  for (const v of [-0, 5e-324, -1.7976931348623157e308, TIME_MS_MAX, 4_294_967_295]) assert.ok(all.some((x) => Object.is(x, v)), String(v));
  assert.ok(all.some((x) => typeof x === 'string' && Buffer.byteLength(x) >= 16_384), 'a string past two LEB128 bytes');
});

test('TabSeparated: the same rows give one line per row and one field per column, -0 aside exact', () => {
  const rows = specialRows();
  const { batch } = encodeBatch(rows, CTX, 'TabSeparated');
  const unescape = (t: string) => t.replace(/\\(.)/g, (_m, ch: string) => ({ t: '\t', n: '\n', r: '\r', '0': '\0', '\\': '\\' })[ch] ?? ch);
  for (const f of FAMILIES) {
    const lines = batch[f]!.bytes.toString().split('\n');
    assert.equal(lines.pop(), '');
    const mine = rows.filter((r) => r.family === f);
    assert.equal(lines.length, mine.length, f);
    lines.forEach((line, i) => {
      const fields = line.split('\t');
      const cols = FAMILY_COLUMNS[f];
      assert.equal(fields.length, cols.length);
      const want = expectedRow(mine[i]!);
      cols.forEach((c, j) => {
        const text = fields[j]!;
        const got = c.kind === 'string' || c.kind === 'lc' ? unescape(text) : c.kind === 'time' ? Date.parse(`${text.replace(' ', 'T')}Z`) : Number(text);
        // TabSeparated prints -0 as 0 (JavaScript's String(-0)): RowBinary keeps the sign.
        assert.equal(got, Object.is(want[c.name], -0) ? 0 : want[c.name], `${f}.${c.name}`);
      });
    });
  }
});

test('property: RowBinary keeps any text, any finite double, any ms and any UInt32 exactly', () => {
  fc.assert(
    fc.property(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.integer({ min: 0, max: TIME_MS_MAX }),
      fc.integer({ min: 0, max: 4_294_967_295 }),
      fc.boolean(),
      (s, x, ms, legs, flag) => {
        const rows: RowOut[] = [
          { family: 'decisions', row: { row_id: s || 'r', ts: ms, intent_id: s, symbol: 'BTC-USDT', action: s, side: 'long', qty: x, reason: s, outcome_code: 'OK' } },
          { family: 'trade_exit_legs', row: { row_id: 'l', ts: ms, trade_id: s, leg_index: legs, symbol: s, side: 'long', leg_qty: x, leg_price: -x, leg_realized_pnl: x, leg_fee: 0, remaining_qty: x, cum_realized_pnl: x, is_final: flag, exit_reason: s, client_order_id: s } },
        ];
        const { batch } = encodeBatch(rows, CTX, 'RowBinary');
        assert.deepEqual(decodeRowBinary('decisions', batch.decisions!.bytes), [expectedRow(rows[0]!)]);
        assert.deepEqual(decodeRowBinary('trade_exit_legs', batch.trade_exit_legs!.bytes), [expectedRow(rows[1]!)]);
      },
    ),
    { numRuns: 500 },
  );
});

test('both formats run the same checks: a bad row is the same assertion, and nothing is returned', () => {
  const bad: RowOut = { family: 'account', row: { row_id: 'a1', ts: 1, capital: Number.POSITIVE_INFINITY, realized_pnl: 0, fees: 0, equity: 0, venue_balance: 0, drift: 0 } };
  for (const format of ['RowBinary', 'TabSeparated'] as const) {
    assert.throws(() => encodeBatch([bad], CTX, format), (e: unknown) => e instanceof RowAssertionError && /account\.capital: expected a finite number, got number Infinity \(row_id a1\)/.test(e.message));
  }
  assert.equal(encodeRow(specialRows()[0]!, CTX).endsWith('\n'), true);
  assert.equal(formatTimeMs(TIME_MS_MAX), '2299-12-31 00:00:00.000');
});

test("chDB's insert reads the file with the family's exact column types, every literal quoted", () => {
  assert.equal(
    familyStructure('trade_exit_legs', ['namespace', 'ts', 'leg_index', 'is_final', 'leg_qty', 'row_id']),
    "namespace LowCardinality(String), ts DateTime64(3, 'UTC'), leg_index UInt32, is_final UInt8, leg_qty Float64, row_id String",
  );
  assert.throws(() => familyStructure('fills', ['no_such']), RowAssertionError);
  assert.equal(
    insertFromFileSql('dolphin_pink', 'account', ['ts', 'capital'], "t'1", 'RowBinary', "/h/it's/1.bin"),
    "INSERT INTO `dolphin_pink`.`account` (ts, capital) SETTINGS insert_deduplication_token = 't\\'1' " +
      "SELECT * FROM file('/h/it\\'s/1.bin', 'RowBinary', 'ts DateTime64(3, \\'UTC\\'), capital Float64')",
  );
});

test("the writer's buffers: batches cut end to end join without a copy, and a bad row leaves nothing behind", () => {
  const bins: RowBinaryBuffers = {};
  // A small chunk, so the batches below also cross chunk boundaries (a copy, the same bytes).
  bins.decisions = new RowBinaryBuffer(300);
  const rows = specialRows();
  const good = (k: number): RowOut[] => rows.map((r) => ({ family: r.family, row: { ...r.row, row_id: `${String(r.row['row_id'])}-${k}` } }));
  const bad: RowOut = { family: 'account', row: { row_id: 'a1', ts: 1, capital: Number.NaN, realized_pnl: 0, fees: 0, equity: 0, venue_balance: 0, drift: 0 } };
  const batches: EncodedBatch[] = [];
  for (let k = 0; k < 6; k++) {
    // A failing batch between the good ones: its rows (before and after the bad one) are dropped.
    assert.throws(() => encodeBatch([...good(100 + k), bad, ...good(200 + k)], CTX, 'RowBinary', bins), RowAssertionError);
    batches.push(encodeBatch(good(k), CTX, 'RowBinary', bins).batch);
  }
  for (const f of FAMILIES) {
    const parts = batches.map((b) => b[f]!.bytes);
    const whole = joined(parts);
    assert.deepEqual(whole, Buffer.concat(parts), f);
    assert.deepEqual(decodeRowBinary(f, whole), [0, 1, 2, 3, 4, 5].flatMap((k) => good(k).filter((r) => r.family === f).map(expectedRow)), f);
  }
  // Account rows are short: all six batches sit end to end in one chunk, and the unit is a view of it.
  const account = batches.map((b) => b.account!.bytes);
  assert.equal(joined(account).buffer, account[0]!.buffer);
});
