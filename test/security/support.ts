// Support for the security tests (issue 17): a raw client of the control socket (what an attacker
// on this machine can send, bytes and all), and a network probe that records every TCP connect and
// name lookup a real `pink` process attempts. Both work the same against the old code (b2c3d3b),
// so each test here can be run there to show it failed.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Sends `bytes` on the socket as they are (a list: each part written on its own, 50 ms apart, so
 * that they arrive as separate reads), then ends our side (unless `keepOpen`; after `endDelay_ms`), and returns what
 * came back before the engine closed (or what came within `timeout_ms`).
 */
export function rawAsk(socketPath: string, bytes: string | string[], opts: { keepOpen?: boolean; endDelay_ms?: number; timeout_ms?: number } = {}): Promise<string> {
  const parts = typeof bytes === 'string' ? [bytes] : bytes;
  return new Promise((resolve) => {
    const sock = createConnection(socketPath);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      resolve(buf);
    }, opts.timeout_ms ?? 15_000);
    sock.setEncoding('utf8');
    sock.on('connect', async () => {
      for (const [i, part] of parts.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, 50));
        if (sock.destroyed) return;
        sock.write(part);
      }
      // endDelay_ms: an engine that answers at a newline (the old protocol) is given the time to
      // answer before our end, which it took as a hang-up.
      if (opts.endDelay_ms) await new Promise((r) => setTimeout(r, opts.endDelay_ms));
      if (!opts.keepOpen && !sock.destroyed) sock.end();
    });
    sock.on('data', (d: string) => (buf += d));
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(buf);
    });
    sock.on('error', () => undefined);
  });
}

/**
 * A connection that is open and sends nothing that completes a request: a space every second, so
 * the engine's idle timeout (5 s) never refuses it however slow the machine. `release` then sends
 * one status request, ends our side and returns what came back.
 */
export function holdConnection(socketPath: string): Promise<{ release(): Promise<string> }> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    let buf = '';
    const closed = new Promise<string>((r) => sock.on('close', () => r(buf)));
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => (buf += d));
    sock.on('error', reject);
    sock.on('connect', () => {
      const alive = setInterval(() => sock.write(' '), 1000);
      resolve({
        release: () => {
          clearInterval(alive);
          if (!sock.destroyed) sock.end('{"op":"status"}\n');
          return closed;
        },
      });
    });
  });
}

/** The answer as JSON, or undefined when the engine answered nothing parseable. */
export function answerOf(text: string): { ok: boolean; error?: string; data?: unknown } | undefined {
  try {
    return JSON.parse(text) as { ok: boolean; error?: string; data?: unknown };
  } catch {
    return undefined;
  }
}

export interface NetProbe {
  /** NODE_OPTIONS for a `pink` process under the probe. */
  env: Record<string, string>;
  /** Every TCP connect and name lookup attempted so far (`connect HOST:PORT`, `lookup HOST`). */
  attempts(): string[];
}

/**
 * A preload (`--import`) that records, in a file, every TCP connect (net.Socket#connect with a port:
 * http, undici's fetch, ccxt) and every dns.lookup a process attempts, before it happens. Unix socket
 * connects (the control socket) are not network and are not recorded.
 */
export function netProbe(dir: string): NetProbe {
  const log = join(dir, 'net-attempts.txt');
  const preload = join(dir, 'net-probe.mjs');
  writeFileSync(log, '');
  writeFileSync(
    preload,
    [
      "import net from 'node:net';",
      "import dns from 'node:dns';",
      "import { appendFileSync } from 'node:fs';",
      `const note = (line) => appendFileSync(${JSON.stringify(log)}, line + '\\n');`,
      'const connect = net.Socket.prototype.connect;',
      'net.Socket.prototype.connect = function (...args) {',
      '  const first = Array.isArray(args[0]) ? args[0][0] : args[0];',
      "  const unix = typeof first === 'string' || (first !== null && typeof first === 'object' && typeof first.path === 'string');",
      "  if (!unix) note('connect ' + (typeof first === 'object' && first !== null ? `${first.host ?? 'localhost'}:${first.port}` : `${args[1] ?? 'localhost'}:${first}`));",
      '  return connect.apply(this, args);',
      '};',
      'const lookup = dns.lookup;',
      "dns.lookup = function (host, ...rest) { note('lookup ' + host); return lookup.call(this, host, ...rest); };",
      'const plookup = dns.promises.lookup;',
      "dns.promises.lookup = function (host, ...rest) { note('lookup ' + host); return plookup.call(this, host, ...rest); };",
    ].join('\n'),
  );
  return {
    env: { NODE_OPTIONS: `--import=${pathToFileURL(preload).href}` },
    attempts: () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') : []),
  };
}

/** Appends nothing, reads nothing: the victim file an attacker points PINK's files at. */
export function victim(dir: string): { path: string; untouched(): boolean } {
  const path = join(dir, 'victim.txt');
  const original = 'precious contents\n';
  writeFileSync(path, original);
  return { path, untouched: () => readFileSync(path, 'utf8') === original };
}

/** Appends `line` (already JSON) to `path`. */
export function appendLine(path: string, line: string): void {
  appendFileSync(path, `${line}\n`);
}
