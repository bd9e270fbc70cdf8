// Runs the real binary (bin/pink.js) as a child process, as an operator would.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
export const BIN = join(ROOT, 'bin', 'pink.js');

export interface PinkResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A fresh environment: only PATH and HOME from the parent, plus `env`. */
export function cleanEnv(env: Record<string, string | undefined> = {}): Record<string, string> {
  const base: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '/tmp', NO_COLOR: '1' };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) base[k] = v;
  return base;
}

export function runPink(args: string[], env: Record<string, string | undefined> = {}, opts: { input?: string; timeoutMs?: number } = {}): Promise<PinkResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    // A command that exits before it reads its input (most never read stdin) closes the pipe
    // first: EPIPE on the write is not an error of the test, the exit code says what happened.
    // Unhandled, it crashed the chaos harness after 57 seeds (an 'error' event on the socket).
    child.stdin.on('error', () => undefined);
    child.stdin.end(opts.input ?? '');
  });
}

/** A temporary folder, removed by the returned function. */
export function tempDir(prefix = 'pink-test-'): { path: string; remove: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}
