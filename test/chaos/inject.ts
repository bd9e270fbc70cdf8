// Fault injection into the real binary, from outside the product: tests and the chaos harness load
// this module into `pink` processes with NODE_OPTIONS=--import <its URL> (injectEnv below); the
// product has no test path for these faults. Flag files in $PINK_TEST_FAULTS_DIR drive it:
// - `disk-full`: while it exists, every writeSync to a file under $PINK_HOME (but the embedded
//   ClickHouse and the simulator folders) writes half of its bytes and then fails with ENOSPC: a
//   disk filling up in the middle of a record. module.syncBuiltinESMExports() carries the
//   replacement into every `import { writeSync } from 'node:fs'` loaded after it.
// - `kernel-assert`: the engine's next Kernel.apply throws a KernelAssertionError before applying
//   anything. The flag is taken by a rename (one process takes it); `kernel-assert.taken` holds the
//   pid that took it. Only a foreground engine (`pink run` without --detach) takes it.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The environment that loads this module into a pink process, with its flag folder. */
export function injectEnv(faultsDir: string): Record<string, string> {
  return { NODE_OPTIONS: `--import=${new URL(import.meta.url).href}`, PINK_TEST_FAULTS_DIR: faultsDir };
}

/** The flag files, by name. */
export const FLAG = { diskFull: 'disk-full', kernelAssert: 'kernel-assert' } as const;

const dir = process.env['PINK_TEST_FAULTS_DIR'];
const home = process.env['PINK_HOME'];
// Loaded by a test runner to import injectEnv: inert. Loaded into pink by NODE_OPTIONS: armed.
const armed = dir !== undefined && home !== undefined && process.argv[1] !== undefined && /pink(\.js)?$/.test(process.argv[1]);

if (armed) {
  const root = `${resolve(home)}/`;
  const spared = [join(root, 'clickhouse'), join(root, 'sim')];
  const target = (fd: number): boolean => {
    try {
      const path = fs.readlinkSync(`/proc/self/fd/${fd}`);
      return path.startsWith(root) && !spared.some((s) => path.startsWith(`${s}/`));
    } catch {
      return false;
    }
  };
  const original = fs.writeSync;
  const writeSync = function (this: unknown, fd: number, buffer: string | NodeJS.ArrayBufferView, ...rest: unknown[]): number {
    const call = original as (...a: unknown[]) => number;
    if (!fs.existsSync(join(dir, FLAG.diskFull)) || !target(fd)) return call.call(fs, fd, buffer, ...rest);
    const bytes = typeof buffer === 'string' ? Buffer.from(buffer) : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const offset = typeof rest[0] === 'number' ? rest[0] : 0;
    const length = typeof rest[1] === 'number' ? rest[1] : bytes.length - offset;
    const half = Math.floor(length / 2);
    if (half > 0) call.call(fs, fd, bytes, offset, half);
    throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  };
  (fs as { writeSync: unknown }).writeSync = writeSync;
  syncBuiltinESMExports();

  const engine = process.argv.includes('run') && !process.argv.includes('--detach');
  if (engine) {
    const kernelUrl = new URL('../../src/engine/kernel/index.js', import.meta.url).href;
    const { Kernel, KernelAssertionError } = (await import(kernelUrl)) as typeof import('../../src/engine/kernel/index.js');
    const apply = Kernel.prototype.apply;
    Kernel.prototype.apply = function (this: InstanceType<typeof Kernel>, input) {
      const flag = join(dir, FLAG.kernelAssert);
      if (fs.existsSync(flag)) {
        try {
          fs.renameSync(flag, `${flag}.taken`);
          fs.appendFileSync(`${flag}.taken`, `${process.pid}\n`);
        } catch {
          return apply.call(this, input); // another process took it
        }
        throw new KernelAssertionError(`injected by the test harness (${FLAG.kernelAssert}) on a ${input.type} input`);
      }
      return apply.call(this, input);
    };
  }
}

/** This module's compiled path (for a test that wants to show it). */
export const INJECT_PATH = fileURLToPath(import.meta.url);
