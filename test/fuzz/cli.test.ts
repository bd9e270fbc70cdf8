// Bad input fuzzing, CLI: thousands of generated argument lists and environments through the
// in-process entry point `main(argv, env, io)`. Every answer is an exit code of SPEC 1 (0-3), with
// no stack trace and no "internal error" (a bug), and `--json` means one JSON document on stdout.
// Nothing here can start an engine or a simulator, wait on one, or reach beyond 127.0.0.1: the
// commands that would (run, sim, restart, flatten without --dry-run, ditav2-status --watch) only
// ever get an argument list that commander refuses first, URLs are junk or a closed loopback port,
// and every state folder is a temporary one.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { main, COMMANDS } from '../../src/cli.js';
import { ENV_VARS } from '../../src/config.js';

const ROOT = mkdtempSync(join(tmpdir(), 'pink-fuzz-cli-'));
after(() => rmSync(ROOT, { recursive: true, force: true }));

/** Homes the fuzz may point at: empty, missing, a file, a broken checkpoint, a checkpoint that is a folder. */
const HOMES = (() => {
  const empty = join(ROOT, 'empty');
  mkdirSync(empty);
  const broken = join(ROOT, 'broken');
  mkdirSync(join(broken, 'journal'), { recursive: true });
  writeFileSync(join(broken, 'checkpoint.json'), '{"version": 1, "seq": "x"');
  writeFileSync(join(broken, 'journal', 'seg-000000000001.ndjson'), '{"t":"in","seq":1,"input":{"type":"TICK"}}\nnot json\n');
  const wrongShape = join(ROOT, 'wrong-shape');
  mkdirSync(wrongShape);
  writeFileSync(join(wrongShape, 'checkpoint.json'), '{"version": 1, "seq": 3, "kernel": "{\\"not\\": \\"a kernel\\"}"}');
  const dirCheckpoint = join(ROOT, 'dir-checkpoint');
  mkdirSync(join(dirCheckpoint, 'checkpoint.json'), { recursive: true });
  const file = join(ROOT, 'a-file');
  writeFileSync(file, 'not a folder');
  writeFileSync(join(ROOT, 'run.json'), '{');
  return [empty, join(ROOT, 'missing'), broken, wrongShape, dirCheckpoint, file];
})();

let closedPort = 9;
const portReady = new Promise<void>((resolve) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    closedPort = (s.address() as { port: number }).port;
    s.close(() => resolve());
  });
});

/** Every invocation here answers from local files: a slow one is a hang. */
const CALL_MS_MAX = 10_000;

interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

async function invoke(argv: string[], env: Record<string, string>): Promise<Captured> {
  let stdout = '';
  let stderr = '';
  const io = { stdout: (t: string) => void (stdout += `${t}\n`), stderr: (t: string) => void (stderr += `${t}\n`), interactive: false };
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`pink ${JSON.stringify(argv)} did not answer within ${CALL_MS_MAX} ms`)), CALL_MS_MAX);
  });
  try {
    const code = await Promise.race([main(argv, env, io), hung]);
    return { code, stdout, stderr };
  } finally {
    clearTimeout(timer);
  }
}

const STACK = /^\s+at\s.+(:\d+:\d+\)?|\(native\))$/m;

function judge(argv: string[], env: Record<string, string>, r: Captured): void {
  const what = `pink ${JSON.stringify(argv)} env ${JSON.stringify(env)} → ${r.code}\nstdout: ${r.stdout.slice(0, 400)}\nstderr: ${r.stderr.slice(0, 400)}`;
  assert.ok([0, 1, 2, 3].includes(r.code), `exit code: ${what}`);
  assert.doesNotMatch(r.stdout + r.stderr, STACK, `a stack trace: ${what}`);
  assert.doesNotMatch(r.stderr, /internal error/, `an internal error: ${what}`);
  // A usage error names the problem on stderr (1 and 3 may be answers: degraded, down).
  if (r.code === 2) assert.match(r.stderr, /^pink: \S/m, `a usage error names the problem on stderr: ${what}`);
  const help = argv.some((a) => a === '--help' || a === '-h' || a === '--version') || r.stdout.startsWith('Usage:');
  if (argv.includes('--json') && !help && r.stdout.trim() !== '') {
    assert.doesNotThrow(() => JSON.parse(r.stdout), `--json printed more than one JSON document: ${what}`);
  }
}

const names = COMMANDS.map((c) => c.name);

/** Commands whose real run starts or waits on something: only ever reached with a poisoned argv. */
const DANGEROUS = new Set(['run', 'sim', 'restart']);
const POISON = '--not-an-option-of-pink';

/**
 * The poison goes first and right after every command word, where no option can take it as its
 * value: commander then refuses the whole argument list before any command runs (judged below).
 */
function safe(argv: string[]): { argv: string[]; poisoned: boolean } {
  const words = new Set(argv);
  const danger =
    argv.some((a) => DANGEROUS.has(a)) ||
    (words.has('flatten') && !words.has('--dry-run')) ||
    (words.has('ditav2-status') && argv.some((a) => a.startsWith('--watch'))) ||
    // mode-verify opens the embedded store and the venue: its own, smaller property below.
    words.has('mode-verify');
  if (!danger) return { argv, poisoned: false };
  return { argv: [POISON, ...argv.flatMap((a) => (names.includes(a) ? [a, POISON] : [a]))], poisoned: true };
}

const optionFlags = [...new Set(COMMANDS.flatMap((c) => c.options.map((o) => o.flags.split(/[ ,]/)[0]!)))];
const junk = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.constantFrom('--', '-', '---', '--=', '-x', '--json=1', '--home', '--home=', '--no-color', '--help', '-h', '--version', '--json', '\u0000', ' ', 'BTC-USDT', 'btc/usdt:usdt', 'BTC_USD', 'ÉTH-USDT', '💥', '-1', 'NaN', '1e309', '0x10'),
  fc.constantFrom(...optionFlags),
  fc.constantFrom(...names),
  fc.constantFrom(...HOMES),
);
const argvArb = fc.tuple(fc.constantFrom(...names, 'nope', ''), fc.array(junk, { maxLength: 6 }), fc.array(fc.constantFrom('--json', '--no-color', '--home'), { maxLength: 2 })).map(([cmd, rest, globals]) => {
  const argv = [...globals, ...(cmd === '' ? [] : [cmd]), ...rest];
  // --home always gets one of the temporary homes, never a path that exists elsewhere.
  return argv.map((a, i) => (argv[i - 1] === '--home' && !HOMES.includes(a) ? HOMES[0]! : a));
});

test('fuzz: generated argument lists exit 0-3 with a one-line error, never a stack or an internal error', async () => {
  await portReady;
  const env = { PINK_HOME: HOMES[0]!, DOLPHIN_LOG_DIR: join(ROOT, 'logs'), PINK_SIM_URL: `http://127.0.0.1:${closedPort}` };
  const seen = new Set<number>();
  await fc.assert(
    fc.asyncProperty(argvArb, async (raw) => {
      const { argv, poisoned } = safe(raw);
      const r = await invoke(argv, env);
      seen.add(r.code);
      judge(argv, env, r);
      // Refused before it ran, or only its help was printed.
      const helpOrVersion = r.code === 0 && (/Usage:/.test(r.stdout) || /^\d+\.\d+\.\d+\s*$/.test(r.stdout));
      if (poisoned) assert.ok(r.code === 2 || helpOrVersion, `the poisoned ${JSON.stringify(argv)} ran: ${r.code} ${r.stdout.slice(0, 200)}`);
    }),
    { seed: 8, numRuns: 2500 },
  );
  assert.ok(seen.has(0) && seen.has(2), `exit codes seen: ${[...seen].join(', ')}`);
});

/** Values an environment variable may get: junk, numbers of every shape, URLs that go nowhere. */
const valueArb = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.constantFrom('', ' ', '0', '-1', '1.5', 'abc', 'NaN', 'Infinity', '1e309', '0x1f', '１', 'sim', 'bingx-vst', 'bingx-live', 'BTC-USDT', 'BTC-USDT,,ETH-USDT', 'dolphin', 'dolphin_pink', 'a;DROP DATABASE x', 'failNextInserts=3', 'loseNextAcks=x'),
  fc.double({ noNaN: false }).map(String),
  fc.integer().map(String),
);

function envValue(name: string, v: string): string {
  // Never a URL that resolves off this machine: junk that is not a URL, or a closed loopback port.
  if (/_URL$/.test(name)) {
    let url: URL | undefined;
    try {
      url = new URL(v);
    } catch {
      url = undefined;
    }
    return url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:') ? v : `http://127.0.0.1:${closedPort}/${encodeURIComponent(v).slice(0, 8)}`;
  }
  // Never an authorization that would let a command contact BingX.
  if (name === 'DOLPHIN_PINK_AUTHORIZE_VENUE' && /bingx/i.test(v)) return `not-${v}`;
  return v;
}

const FUZZED_VARS = ENV_VARS.filter((v) => v !== 'PINK_HOME' && v !== 'PINK_DEBUG' && v !== 'DOLPHIN_LOG_DIR');
const envArb = fc.dictionary(fc.constantFrom(...FUZZED_VARS, 'NO_COLOR', 'XDG_STATE_HOME', 'DOLPHIN_BINGX_API_KEY_BLUE'), valueArb, { maxKeys: 5 });
const quickArgv = fc.constantFrom<string[]>(['fault'], ['fault', 'RATE_LIMITED', '--json'], ['replay', '--json'], ['ditav2-status'], ['ditav2-status', '--json'], ['flatten', 'BTC-USDT', '--dry-run', '--json'], ['--help']);

test('fuzz: generated environments: a malformed value is exit 2 naming the variable, never a crash', async () => {
  await portReady;
  const seen = new Set<number>();
  await fc.assert(
    fc.asyncProperty(envArb, quickArgv, fc.constantFrom(...HOMES), async (raw, argv, home) => {
      const env: Record<string, string> = { PINK_HOME: home, DOLPHIN_LOG_DIR: join(ROOT, 'logs') };
      for (const [k, v] of Object.entries(raw)) env[k] = envValue(k, v);
      const r = await invoke(argv, env);
      seen.add(r.code);
      judge(argv, env, r);
      if (r.code === 2 && /^pink: [A-Z_]+=/.test(r.stderr)) {
        const named = /^pink: ([A-Z_]+)=/.exec(r.stderr)![1]!;
        assert.ok(named in env, `the error names ${named}, which was set`);
      }
    }),
    { seed: 9, numRuns: 1500 },
  );
  assert.ok(seen.has(2), `exit codes seen: ${[...seen].join(', ')}`);
});

test('fuzz: mode-verify on generated settings answers 0-3 (its own store, a venue that is not there)', async () => {
  await portReady;
  let n = 0;
  await fc.assert(
    fc.asyncProperty(fc.dictionary(fc.constantFrom('DOLPHIN_PINK_CH_DATABASE', 'DOLPHIN_BLUE_CH_DATABASE', 'DOLPHIN_PINK_BINGX_API_KEY', 'DOLPHIN_BINGX_API_KEY_BLUE', 'DOLPHIN_LOG_DIR_BLUE', 'DOLPHIN_PINK_VENUE'), valueArb, { maxKeys: 3 }), fc.boolean(), async (raw, json) => {
      const home = join(ROOT, `mv-${n++}`);
      const env: Record<string, string> = { PINK_HOME: home, DOLPHIN_LOG_DIR: join(ROOT, 'logs'), PINK_SIM_URL: `http://127.0.0.1:${closedPort}` };
      for (const [k, v] of Object.entries(raw)) env[k] = envValue(k, v);
      const argv = json ? ['mode-verify', '--json'] : ['mode-verify'];
      judge(argv, env, await invoke(argv, env));
      rmSync(home, { recursive: true, force: true });
    }),
    { seed: 10, numRuns: 12 },
  );
});

// Found by the environment fuzz (seed 9): a damaged checkpoint (torn JSON, a foreign file, a
// folder, a kernel state that does not restore) was printed as "internal error ... a bug in pink".
test('a damaged or foreign checkpoint is exit 2 naming the file, for status, replay and replay --from', async () => {
  for (const home of HOMES.slice(2, 5)) {
    for (const argv of [['ditav2-status'], ['replay'], ['flatten', 'BTC-USDT', '--dry-run']]) {
      const r = await invoke(argv, { PINK_HOME: home, DOLPHIN_LOG_DIR: join(ROOT, 'logs') });
      assert.equal(r.code, 2, `${argv.join(' ')} on ${home}: ${r.stderr}`);
      assert.match(r.stderr, /is not a pink checkpoint, or it is damaged/);
      assert.doesNotMatch(r.stderr, /internal error/);
    }
  }
  for (const from of [ROOT, join(ROOT, 'run.json'), join(HOMES[3]!, 'checkpoint.json')]) {
    const r = await invoke(['replay', '--from', from], { PINK_HOME: HOMES[0]!, DOLPHIN_LOG_DIR: join(ROOT, 'logs') });
    assert.equal(r.code, 2, `--from ${from}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`${from.replace(/[/.]/g, '\\$&')} is not a pink checkpoint, or it is damaged`));
  }
});
