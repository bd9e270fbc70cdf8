// `pink sim`: the BingX-protocol venue simulator on its own, until SIGINT/SIGTERM.
//
// stdout: as soon as it listens, the URL on one line (`http://127.0.0.1:PORT`), or under
// --json one compact line `{"url":...,"port":...}` that a parent process can read without
// waiting for the end. That line is the run's one JSON document: on SIGINT/SIGTERM it closes
// gracefully (state file written) and returns `data: undefined`, which the entry point does
// not print (src/cli.ts prints `data` only when defined). Nothing more on stdout at stop in
// either mode; messages go to stderr. Exit 2, nothing started, on a bad option value; 3 if
// the port is taken.

import { resolve } from 'node:path';
import { ExitError, EXIT, usageError } from '../errors.js';
import type { CommandRun } from './types.js';

const PORT_MAX = 65535;

function intOption(opts: Record<string, unknown>, key: string, flag: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const raw = opts[key];
  if (raw === undefined) return undefined;
  const text = String(raw).trim();
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw usageError(`${flag} must be an integer from ${min} to ${max}, got '${String(raw)}'.`, `Example: pink sim ${flag} ${min}`);
  }
  return value;
}

function numberOption(opts: Record<string, unknown>, key: string, flag: string): number | undefined {
  const raw = opts[key];
  if (raw === undefined) return undefined;
  const value = Number(String(raw).trim());
  if (String(raw).trim() === '' || !Number.isFinite(value) || value < 0) {
    throw usageError(`${flag} must be a number >= 0, got '${String(raw)}'.`, `Example: pink sim ${flag} 2`);
  }
  return value;
}

function textOption(opts: Record<string, unknown>, key: string, flag: string): string | undefined {
  const raw = opts[key];
  if (raw === undefined) return undefined;
  const text = String(raw);
  if (text.trim() === '') throw usageError(`${flag} must not be empty.`);
  return text;
}

function symbolsOption(opts: Record<string, unknown>): string[] | undefined {
  const raw = opts['symbols'];
  if (raw === undefined) return undefined;
  const list = String(raw)
    .split(',')
    .map((s) => s.trim().toUpperCase().replace('/USDT:USDT', '-USDT'))
    .filter((s) => s !== '');
  const bad = list.filter((s) => !/^[A-Z0-9]{1,20}-USDT$/.test(s));
  if (list.length === 0 || bad.length > 0) {
    throw usageError(`--symbols must be a comma-separated list of USDT-M symbols such as BTC-USDT${bad.length ? `; not: ${bad.join(', ')}` : ''}.`, 'Example: pink sim --symbols BTC-USDT,ETH-USDT');
  }
  return [...new Set(list)];
}

/** Funding interval bounds: a second (tests) to a week. */
const FUNDING_INTERVAL_MS_MIN = 1000;
const FUNDING_INTERVAL_MS_MAX = 7 * 24 * 3600_000;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function durationOption(opts: Record<string, unknown>, key: string, flag: string): number | undefined {
  const raw = opts[key];
  if (raw === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(String(raw).trim());
  const value = m ? Math.round(Number(m[1]) * (UNIT_MS[m[2] as string] as number)) : NaN;
  if (!(value >= FUNDING_INTERVAL_MS_MIN && value <= FUNDING_INTERVAL_MS_MAX)) {
    throw usageError(`${flag} must be a duration from 1s to 168h such as 8h, 30s or 1500ms, got '${String(raw)}'.`, `Example: pink sim ${flag} 8h`);
  }
  return value;
}

function skewOption(opts: Record<string, unknown>): number | undefined {
  const raw = opts['clockSkewMs'];
  if (raw === undefined) return undefined;
  const text = String(raw).trim();
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || Math.abs(value) > 86_400_000) {
    throw usageError(`--clock-skew-ms must be an integer number of ms within ±86400000, got '${String(raw)}'.`, 'Example: pink sim --clock-skew-ms 30000');
  }
  return value;
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve(signal);
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

export const run: CommandRun = async (ctx, _args, opts) => {
  // Validate everything before anything starts.
  const port = intOption(opts, 'port', '--port', 0, PORT_MAX) ?? 0;
  const seed = intOption(opts, 'seed', '--seed', 0, 2 ** 32 - 1) ?? 1;
  const latencyMs = numberOption(opts, 'latencyMs', '--latency-ms');
  const rateLimitEvery = intOption(opts, 'rateLimitEvery', '--rate-limit-every', 1);
  const slippageBps = numberOption(opts, 'slippageBps', '--slippage-bps');
  const apiKey = textOption(opts, 'apiKey', '--api-key');
  const apiSecret = textOption(opts, 'apiSecret', '--api-secret');
  const stateOption = textOption(opts, 'state', '--state');
  const statePath = stateOption === undefined ? undefined : resolve(stateOption);
  const symbols = symbolsOption(opts);
  const fundingIntervalMs = durationOption(opts, 'fundingInterval', '--funding-interval');
  const clockSkewMs = skewOption(opts);

  const { startSim } = await import('../sim/index.js');
  let sim;
  let fenced: (message: string) => void = () => {};
  const fencedStop = new Promise<string>((resolve) => (fenced = resolve));
  try {
    // The sim account starts with PINK's initial capital (SPEC: DOLPHIN_PINK_INITIAL_CAPITAL is
    // "sim account and first kernel capital"), so a fresh run shows no drift.
    sim = await startSim({ port, seed, latencyMs, rateLimitEvery, slippageBps, apiKey, apiSecret, statePath, symbols, initialBalanceUsdt: ctx.config.initial_capital_usdt, fundingIntervalMs, clockSkewMs, onFenced: (m) => fenced(m) });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRINUSE' || e.code === 'EACCES') {
      throw new ExitError(EXIT.UNREACHABLE, `cannot listen on 127.0.0.1:${port} (${e.code}).`, 'Choose another --port, or --port 0 for any free port.');
    }
    if (e instanceof Error && e.message.includes('in use by another simulator')) throw usageError(e.message, 'One simulator per state file: stop the other one, or give this one another --state.');
    if (e instanceof Error && e.message.startsWith('simulator')) throw usageError(e.message, 'Fix the option or move the state file away.');
    throw err;
  }
  const stopped = waitForSignal();
  if (ctx.json) ctx.io.stdout(JSON.stringify({ url: sim.url, port: sim.port }));
  else ctx.io.stdout(sim.url);
  ctx.io.stderr(
    `pink sim: BingX-protocol simulator listening on ${sim.url} (seed ${seed}${statePath ? `, state ${statePath}` : ', no state file'}); ` +
      'admin endpoints under /__sim/ (loopback only). Ctrl-C to stop.',
  );
  const signal = await Promise.race([stopped, fencedStop.then((m) => ({ fenced: m }))]);
  if (typeof signal !== 'string') {
    // Fail closed: another simulator owns the state file; this one must neither serve nor write.
    await sim.close();
    throw new ExitError(EXIT.UNREACHABLE, `the simulator stopped: ${signal.fenced}.`, 'Use the simulator that owns the state file (see its .lock), or start this one with another --state.');
  }
  ctx.io.stderr(`pink sim: ${signal}: stopping after ${sim.requestCount()} venue requests.`);
  await sim.close();
  return { exit: EXIT.OK, data: undefined, text: '' };
};
