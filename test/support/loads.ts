// Which modules a real `pink` invocation loads (ESM and CommonJS), through a loader hook.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runPink, tempDir } from './cli.js';

/** The imports that cost 0.3-0.9 s each: light commands must not load them. */
export const HEAVY_MODULE = /(^|[/ ])(ccxt|chdb|@clickhouse[/]client)([/.]|$)/;

/** Runs pink under a loader hook that records every module it loads (ESM and CommonJS). */
export async function loadedModules(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; loaded: string[] }> {
  const dir = tempDir('pink-loads-');
  try {
    const log = join(dir.path, 'loaded.txt');
    writeFileSync(log, '');
    const hooks = join(dir.path, 'hooks.mjs');
    writeFileSync(hooks, `import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) { appendFileSync(${JSON.stringify(log)}, 'esm ' + url + '\\n'); return next(url, context); }\n`);
    const register = join(dir.path, 'register.mjs');
    writeFileSync(
      register,
      [
        "import { register, createRequire } from 'node:module';",
        "import { appendFileSync } from 'node:fs';",
        `register(${JSON.stringify(pathToFileURL(hooks).href)});`,
        'const Module = createRequire(import.meta.url)("node:module");',
        'const original = Module._load;',
        `Module._load = function (request, ...rest) { appendFileSync(${JSON.stringify(log)}, 'cjs ' + request + '\\n'); return original.call(this, request, ...rest); };`,
      ].join('\n'),
    );
    const r = await runPink(args, { ...env, NODE_OPTIONS: `--import=${pathToFileURL(register).href}` });
    return { code: r.code, loaded: readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') };
  } finally {
    dir.remove();
  }
}

