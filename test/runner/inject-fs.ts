// A full (or failing) disk for code that writes with node:fs's writeSync, without a real full file
// system: the builtin's export is replaced for the length of `fn`, and module.syncBuiltinESMExports()
// carries the replacement into every ESM `import { writeSync } from 'node:fs'` (the product's own
// imports included). A write to `path` writes half of what it was given (a short write, as a disk
// filling up does) and then fails with `code` (ENOSPC, EIO): the torn record a real disk leaves.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

export function failingWrites(code: string, path: string, fn: () => void): void {
  const original = fs.writeSync;
  const target = (fd: number): boolean => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === path || fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${path}.tmp-`);
    } catch {
      return false;
    }
  };
  const failing = function (this: unknown, fd: number, buffer: string | NodeJS.ArrayBufferView, ...rest: unknown[]): number {
    if (!target(fd)) return (original as (...a: unknown[]) => number).call(fs, fd, buffer, ...rest);
    const bytes = typeof buffer === 'string' ? Buffer.from(buffer) : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const offset = typeof rest[0] === 'number' ? rest[0] : 0;
    const length = typeof rest[1] === 'number' ? rest[1] : bytes.length - offset;
    const half = Math.floor(length / 2);
    if (half > 0) (original as (...a: unknown[]) => number).call(fs, fd, bytes, offset, half);
    throw Object.assign(new Error(`${code}: injected ${code === 'ENOSPC' ? 'no space left on device' : 'i/o error'}, write`), { code, errno: code === 'ENOSPC' ? -28 : -5, syscall: 'write' });
  };
  (fs as { writeSync: unknown }).writeSync = failing;
  syncBuiltinESMExports();
  try {
    fn();
  } finally {
    (fs as { writeSync: unknown }).writeSync = original;
    syncBuiltinESMExports();
  }
}
