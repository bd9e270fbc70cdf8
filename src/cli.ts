// The entry point: parse argv, pick the command, import its module lazily, map errors to exits.
// This file and what it imports statically must stay light: `pink fault` and `pink --help` may
// not load ccxt, chDB or the ClickHouse client (each costs 0.3-0.9 s to import).
import type { Command } from 'commander';
import { loadConfig, type Env } from './config.js';
import { EXIT, ExitError, type ExitCode } from './errors.js';
import type { CommandResult, CommandRun, Context, Io } from './commands/types.js';

const VERSION = '0.1.0';

interface OptionSpec {
  flags: string;
  description: string;
  default?: string | boolean;
  choices?: string[];
}

interface CommandSpec {
  name: string;
  args?: string;
  summary: string;
  examples: string[];
  options: OptionSpec[];
  /** Imported only when this command runs. */
  load: () => Promise<{ run: CommandRun }>;
}

/** The command registry: names, options and examples as data; each module loaded lazily. */
export const COMMANDS: CommandSpec[] = [
  {
    name: 'run',
    summary: 'Run the engine (foreground until SIGINT/SIGTERM; startup is a full restart reconcile)',
    examples: ['pink run', 'pink run --venue sim --symbols BTC-USDT,ETH-USDT --steps 20', 'pink run --strategy signals --signals intents.ndjson --detach'],
    options: [
      { flags: '--venue <venue>', description: 'sim | bingx-vst | bingx-live (env DOLPHIN_PINK_VENUE, default sim)' },
      { flags: '--symbols <list>', description: 'comma-separated symbols (env DOLPHIN_PINK_SYMBOLS, default BTC-USDT,ETH-USDT)' },
      { flags: '--strategy <name>', description: 'demo | signals', default: 'demo' },
      { flags: '--signals <file>', description: 'NDJSON file of intents to tail (strategy signals)' },
      { flags: '--steps <n>', description: 'stop by itself after N steps' },
      { flags: '--duration <d>', description: 'stop by itself after a duration such as 90s, 5m' },
      { flags: '--detach', description: 'start in the background, print the pid, exit once the control socket answers' },
      { flags: '--live', description: 'required with --venue bingx-live (and its authorization)' },
      { flags: '--seed <n>', description: 'seed of the demo strategy and of the auto-started simulator' },
      { flags: '--new-history', description: 'start a new history on purpose: the journal and checkpoints move to $PINK_HOME/archive/ (refused without it when a history exists but no checkpoint continues it)' },
    ],
    load: () => import('./commands/run.js'),
  },
  {
    name: 'ditav2-status',
    summary: 'Health of the engine and the DITAv2 kernel (exit 0 healthy, 1 degraded, 3 down)',
    examples: ['pink ditav2-status', 'pink ditav2-status --json', 'pink ditav2-status --watch 2'],
    options: [{ flags: '--watch [sec]', description: 'refresh in place every SEC seconds (default 2)' }],
    load: () => import('./commands/ditav2-status.js'),
  },
  {
    name: 'restart',
    summary: 'Full restart reconcile: stop gracefully, start detached, print the reconcile report',
    examples: ['pink restart', 'pink restart --no-start', "pink restart --supervisor 'supervisorctl restart dolphin_live_pink'"],
    options: [
      { flags: '--timeout <sec>', description: 'seconds to wait for the engine to stop and come back', default: '30' },
      { flags: '--no-start', description: 'reconcile once offline, write the checkpoint, exit' },
      { flags: '--supervisor <cmd>', description: 'restart through a supervisor command (env DOLPHIN_PINK_SUPERVISOR_CMD)' },
    ],
    load: () => import('./commands/restart.js'),
  },
  {
    name: 'mode-verify',
    summary: 'Prove namespace isolation from BLUE (exit 0 iff no check FAILs)',
    examples: ['pink mode-verify', 'pink mode-verify --json'],
    options: [],
    load: () => import('./commands/mode-verify.js'),
  },
  {
    name: 'flatten',
    args: '[symbol]',
    summary: "Get PINK flat on a symbol: cancel PINK's orders, reduce-only market, wait for flat",
    examples: ['pink flatten BTC-USDT', 'pink flatten --all --yes', 'pink flatten btc-usdt --dry-run', 'pink flatten BTC-USDT --venue-position'],
    options: [
      { flags: '--all', description: 'every symbol PINK holds' },
      { flags: '--yes', description: 'do not ask for confirmation' },
      { flags: '--dry-run', description: 'print the plan, send nothing' },
      { flags: '--venue-position', description: "close the venue's whole position (not PINK's) with one reduce-only order, then reconcile" },
      { flags: '--timeout <sec>', description: 'seconds to wait for the venue to show flat', default: '20' },
      { flags: '--resume', description: 'trade again at once once flat (default: what was flattened stays REDUCING until `pink resume`)' },
      { flags: '--live', description: 'engine down, run.json names bingx-live: required, as for `pink run --live`' },
    ],
    load: () => import('./commands/flatten.js'),
  },
  // Issue 19: operator control (src/commands/control.ts).
  {
    name: 'halt',
    args: '[symbol]',
    summary: 'Stop entries: REDUCING (only orders that reduce a position), or HALTED with --hard (nothing but cancels)',
    examples: ['pink halt BTC-USDT', 'pink halt --all --reason "exchange incident"', 'pink halt --all --hard'],
    options: [
      { flags: '--all', description: 'the whole engine (also when no symbol is given)' },
      { flags: '--hard', description: 'HALTED: nothing is sent but cancels of PINK\'s own orders' },
      { flags: '--reason <text>', description: 'why (shown by ditav2-status, recorded in the audit row)' },
    ],
    load: () => import('./commands/control.js').then((m) => ({ run: m.halt })),
  },
  {
    name: 'resume',
    args: '[symbol]',
    summary: 'Trade again: the symbol (or with --all the engine and every symbol) back to ACTIVE',
    examples: ['pink resume BTC-USDT', 'pink resume --all'],
    options: [{ flags: '--all', description: 'the engine and every symbol' }],
    load: () => import('./commands/control.js').then((m) => ({ run: m.resume })),
  },
  {
    name: 'stop',
    summary: 'Graceful stop of the running engine (exit 0 stopped, 1 not in time, 3 no engine)',
    examples: ['pink stop', 'pink stop --timeout 60s'],
    options: [{ flags: '--timeout <duration>', description: 'how long to wait for it to stop (30s, 2m)', default: '30s' }],
    load: () => import('./commands/control.js').then((m) => ({ run: m.stop })),
  },
  {
    name: 'accept-drift',
    args: '<amount>',
    summary: "Accept the account drift (USDT) PINK did not cause: judged net of it from now on; capital unchanged",
    examples: ['pink accept-drift -8.40', 'pink accept-drift -8.40 --json'],
    options: [],
    load: () => import('./commands/control.js').then((m) => ({ run: m.acceptDrift })),
  },
  {
    name: 'fault',
    args: '[code]',
    summary: 'The fault taxonomy: every class, or one code with its operator response',
    examples: ['pink fault', 'pink fault RATE_LIMITED', 'pink fault stale_state_reconcile', 'pink fault --markdown > FAULTS.md'],
    options: [{ flags: '--markdown', description: 'the whole taxonomy as one Markdown document' }],
    load: () => import('./commands/fault.js'),
  },
  {
    name: 'replay',
    summary: "Re-run the kernel offline over the checkpoint and journal; compare with what was recorded",
    examples: ['pink replay', 'pink replay --until 120', 'pink replay --json'],
    options: [
      { flags: '--from <checkpoint>', description: 'start from an older checkpoint file' },
      { flags: '--until <step|time>', description: 'stop at a step number or an ISO time' },
    ],
    load: () => import('./commands/replay.js'),
  },
  {
    name: 'timeline',
    summary: 'What happened, in order: faults, orders, fills, exit legs, reconciles, operator actions, engine starts and stops',
    examples: ['pink timeline', 'pink timeline --since 03:10 --until 03:20 --symbol ETH-USDT', 'pink timeline --since 2h --json'],
    options: [
      { flags: '--since <when>', description: 'start: a duration back from now (30m, 2h, 7d) or a UTC time (03:10, 2026-11-26T03:10Z)', default: '30m' },
      { flags: '--until <when>', description: 'end (default now), same forms as --since' },
      { flags: '--symbol <symbol>', description: 'one symbol (engine-wide events are shown too)' },
    ],
    load: () => import('./commands/timeline.js'),
  },
  {
    name: 'report',
    summary: 'What it cost: realized, fees, funding, net, win rate, hold, drawdown, exposure; per symbol and per day',
    examples: ['pink report', 'pink report --since 7d --html report.html', 'pink report --since 03:10 --until 03:20 --symbol ETH-USDT --json'],
    options: [
      { flags: '--since <when>', description: 'start: a duration back from now (24h, 7d) or a UTC time (03:10, 2026-11-26)', default: '24h' },
      { flags: '--until <when>', description: 'end (default now), same forms as --since' },
      { flags: '--symbol <symbol>', description: 'one symbol (equity and drawdown stay the account\'s)' },
      { flags: '--html <file>', description: 'also write one self-contained HTML page (charts inlined, no network)' },
    ],
    load: () => import('./commands/report.js'),
  },
  {
    name: 'sim',
    summary: 'Run the BingX-protocol venue simulator on loopback',
    examples: ['pink sim --port 9100 --seed 7', 'pink sim --state /tmp/sim.json --latency-ms 20', 'pink sim --funding-interval 5s'],
    options: [
      { flags: '--port <port>', description: 'port (0 = any; the URL is printed)', default: '0' },
      { flags: '--state <file>', description: 'persist the simulator state in FILE across restarts' },
      { flags: '--seed <n>', description: 'seed of the price walks', default: '1' },
      { flags: '--latency-ms <ms>', description: 'added latency per request', default: '0' },
      { flags: '--rate-limit-every <n>', description: 'answer every Nth request with a rate limit' },
      { flags: '--slippage-bps <bps>', description: 'market order slippage in basis points', default: '2' },
      { flags: '--api-key <key>', description: 'the API key it accepts (default pink-sim-key)' },
      { flags: '--api-secret <secret>', description: 'the API secret it accepts (default pink-sim-secret)' },
      { flags: '--symbols <list>', description: 'symbols it lists (default BTC-USDT,ETH-USDT,SOL-USDT,...)' },
      { flags: '--funding-interval <dur>', description: "funding every DUR (8h as BingX; tests use seconds, e.g. 2s)", default: '8h' },
      { flags: '--clock-skew-ms <ms>', description: "the venue's clock runs this far ahead (negative: behind) of this machine's", default: '0' },
    ],
    load: () => import('./commands/sim.js'),
  },
];

function processIo(): Io {
  return {
    stdout: (t) => void process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
    stderr: (t) => void process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
    interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
  };
}

function printError(io: Io, err: ExitError, debug: boolean): void {
  io.stderr(`pink: ${err.message}`);
  if (err.hint) io.stderr(`  fix: ${err.hint}`);
  if (debug && err.stack) io.stderr(err.stack);
}

const EXIT_CODES_LINE =
  'Exit codes: 0 ok/healthy · 1 answer is bad (check failed, degraded) · 2 usage or input error, nothing sent · 3 dependency unreachable · 4 the engine stopped itself fail-closed (a broken invariant), nothing sent after it.';

/** The top-level help, from the registry (the fast path prints it without loading commander). */
export function renderHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => (c.args ? `${c.name} ${c.args}` : c.name).length)) + 2;
  return [
    'Usage: pink [options] [command]',
    '',
    'PINK: the DITAv2 trading engine on BingX USDT-M swaps, and its operator CLI',
    '',
    'Options:',
    '  --json        one JSON document on stdout; messages go to stderr',
    '  --home <dir>  state folder (env PINK_HOME; default $XDG_STATE_HOME/pink or ~/.local/state/pink)',
    '  --no-color    no colours (also NO_COLOR)',
    '  --version     print the version',
    '  -h, --help    this help; `pink COMMAND --help` for a command',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${(c.args ? `${c.name} ${c.args}` : c.name).padEnd(width)}${c.summary}`),
    '',
    'Examples:',
    ...COMMANDS.map((c) => `  $ ${c.examples[0]}`),
    '',
    EXIT_CODES_LINE,
    'Configuration: see README.md (DOLPHIN_PINK_*, PINK_*); PINK_DEBUG=1 shows stack traces.',
  ].join('\n');
}

interface FastParse {
  kind: 'help' | 'version' | 'run';
  spec?: CommandSpec;
  args: string[];
  opts: Record<string, unknown>;
  globals: { json?: boolean; home?: string; color?: boolean };
}

/**
 * The operator's most urgent invocations (`pink fault CODE`, `pink ditav2-status`, `pink --help`,
 * `pink --version`) are
 * parsed here without commander, which alone costs ~25 ms to import. Anything this parser does
 * not know exactly falls through to commander, which owns every error message.
 */
export function fastParse(argv: string[]): FastParse | undefined {
  const globals: FastParse['globals'] = {};
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const a = argv[i]!;
    if (a === '--json') globals.json = true;
    else if (a === '--no-color') globals.color = false;
    else if (a === '--home' && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) globals.home = argv[++i]!;
    else if (a.startsWith('--home=') && a.length > 7) globals.home = a.slice(7);
    else rest.push(a);
  }
  if (rest.length === 0 || (rest.length === 1 && (rest[0] === '--help' || rest[0] === '-h'))) return { kind: 'help', args: [], opts: {}, globals };
  if (rest.length === 1 && rest[0] === '--version') return { kind: 'version', args: [], opts: {}, globals };
  if (rest[0] === 'fault') {
    const args: string[] = [];
    const opts: Record<string, unknown> = {};
    for (const a of rest.slice(1)) {
      if (a === '--markdown') opts['markdown'] = true;
      else if (!a.startsWith('-') && args.length === 0) args.push(a);
      else return undefined;
    }
    return { kind: 'run', spec: COMMANDS.find((c) => c.name === 'fault')!, args, opts, globals };
  }
  if (rest[0] === 'ditav2-status') {
    const opts: Record<string, unknown> = {};
    const tail = rest.slice(1);
    if (tail.length > 0) {
      if (tail[0] !== '--watch' || tail.length > 2) return undefined;
      opts['watch'] = tail[1] ?? true;
    }
    return { kind: 'run', spec: COMMANDS.find((c) => c.name === 'ditav2-status')!, args: [], opts, globals };
  }
  return undefined;
}

/** The global options (buildProgram), also listed in each command's --help. */
const GLOBAL_FLAGS = ['--json', '--home', '--no-color', '--help', '--version'] as const;
const GLOBAL_HELP = '\nGlobal options (any command):\n  --json        one JSON document on stdout; messages go to stderr\n  --home <dir>  state folder (env PINK_HOME)\n  --no-color    no colours (also NO_COLOR)';

/** Builds the commander program; `onRun` receives the chosen command. Pure of side effects. */
async function buildProgram(io: Io, onRun: (spec: CommandSpec, args: string[], opts: Record<string, unknown>) => void): Promise<Command> {
  const { Command, Option } = await import('commander');
  const program = new Command('pink')
    .description('PINK: the DITAv2 trading engine on BingX USDT-M swaps, and its operator CLI')
    .version(VERSION, '--version', 'print the version')
    .option('--json', 'one JSON document on stdout; messages go to stderr')
    .option('--home <dir>', 'state folder (env PINK_HOME; default $XDG_STATE_HOME/pink or ~/.local/state/pink)')
    .option('--no-color', 'no colours (also NO_COLOR)')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      outputError: () => {},
    })
    .addHelpText(
      'after',
      `\nExamples:\n${COMMANDS.map((c) => `  $ ${c.examples[0]}`).join('\n')}\n\n` +
        `${EXIT_CODES_LINE}\n` +
        'Configuration: see README.md (DOLPHIN_PINK_*, PINK_*); PINK_DEBUG=1 shows stack traces.',
    );
  for (const spec of COMMANDS) {
    const cmd = program
      .command(spec.args ? `${spec.name} ${spec.args}` : spec.name)
      .description(spec.summary)
      .exitOverride()
      .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s), outputError: () => {} })
      .addHelpText('after', `${GLOBAL_HELP}\n\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}`);
    for (const o of spec.options) {
      const opt = new Option(o.flags, o.description);
      if (o.default !== undefined) opt.default(o.default);
      if (o.choices) opt.choices(o.choices);
      cmd.addOption(opt);
    }
    cmd.action((...actionArgs: unknown[]) => {
      const self = actionArgs[actionArgs.length - 1] as Command;
      onRun(spec, self.args, self.opts());
    });
  }
  return program;
}

function wantsJson(argv: string[]): boolean {
  return argv.includes('--json');
}

/** Runs one CLI invocation and returns its exit code. Never throws for operating errors. */
export async function main(argv: string[], env: Env, io: Io = processIo()): Promise<ExitCode> {
  const debug = env['PINK_DEBUG'] === '1';
  let chosen: { spec: CommandSpec; args: string[]; opts: Record<string, unknown> } | undefined;
  let globals: FastParse['globals'];
  const fast = fastParse(argv);
  if (fast?.kind === 'help') {
    // `pink` alone shows the help too, as most CLIs do; not an error.
    io.stdout(renderHelp());
    return EXIT.OK;
  }
  if (fast?.kind === 'version') {
    io.stdout(VERSION);
    return EXIT.OK;
  }
  if (fast?.spec) {
    chosen = { spec: fast.spec, args: fast.args, opts: fast.opts };
    globals = fast.globals;
  } else {
    const program = await buildProgram(io, (spec, args, opts) => {
      chosen = { spec, args, opts };
    });
    try {
      program.parse(argv, { from: 'user' });
    } catch (err) {
      const e = err as { code?: unknown; exitCode?: unknown; message?: string };
      if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
        if (e.exitCode === 0) return EXIT.OK;
        const message = String(e.message).replace(/^error: /, '').split('\n')[0] ?? String(e.message);
        const { suggestFix } = await import('./suggest.js');
        printError(io, new ExitError(EXIT.USAGE, message, await suggestFix(message, argv, COMMANDS, GLOBAL_FLAGS)), false);
        return EXIT.USAGE;
      }
      throw err;
    }
    if (!chosen) {
      io.stdout(renderHelp());
      return EXIT.OK;
    }
    globals = program.opts() as FastParse['globals'];
  }
  const json = Boolean(globals.json) || wantsJson(argv);
  const color = globals.color !== false && env['NO_COLOR'] === undefined && Boolean(process.stdout.isTTY) && !json;
  try {
    const config = loadConfig(env, globals.home ? { home: globals.home } : {});
    const ctx: Context = {
      json,
      color,
      config,
      env,
      io,
      bin: decodeURIComponent(new URL('../../bin/pink.js', import.meta.url).pathname),
    };
    const mod = await chosen.spec.load();
    const result: CommandResult = await mod.run(ctx, chosen.args, chosen.opts);
    if (json) {
      if (result.data !== undefined) io.stdout(JSON.stringify(result.data, null, 2));
    }
    else if (result.text) io.stdout(result.text);
    return result.exit;
  } catch (err) {
    if (err instanceof ExitError) {
      if (json) io.stdout(JSON.stringify({ error: { code: err.code, message: err.message, fix: err.hint ?? null } }));
      printError(io, err, debug);
      return err.code;
    }
    // A bug, not an operating error: say so in one line, keep the stack for PINK_DEBUG=1.
    const e = err instanceof Error ? err : new Error(String(err));
    io.stderr(`pink: internal error: ${e.message}`);
    io.stderr('  fix: this is a bug in pink; re-run with PINK_DEBUG=1 and report the stack trace.');
    if (debug && e.stack) io.stderr(e.stack);
    return EXIT.BAD;
  }
}
