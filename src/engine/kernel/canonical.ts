// Canonical JSON: object keys sorted, no whitespace, so that the same state always serializes to
// the same bytes (checkpoints are compared byte for byte). Arrays keep their order: the kernel
// keeps every collection in a deterministic (insertion) order.
import { assert } from './assert.js';

export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'number':
      assert(Number.isFinite(value), `non-finite number in kernel state: ${value}`);
      // -0 and 0 are the same number to the kernel; one spelling for both.
      return Object.is(value, -0) ? '0' : JSON.stringify(value);
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const obj = value as Record<string, unknown>;
      const keys = Object.keys(obj)
        .filter((k) => obj[k] !== undefined)
        .sort();
      return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(obj[k])}`).join(',')}}`;
    }
    default:
      assert(false, `unserializable ${typeof value} in kernel state`);
  }
}
