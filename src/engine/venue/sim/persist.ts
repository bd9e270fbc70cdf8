// --state FILE: the simulator's state survives a restart. Written atomically after every
// request that changed orders, fills, positions or the balance (write a temporary file,
// fsync it, rename it over the old one, fsync the folder), so a kill -9 at any instant
// leaves either the previous state or the new one, never half of one.

import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import type { SimStateData } from './types.js';

export function loadState(path: string): SimStateData | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`simulator state ${path} is not valid JSON (${(err as Error).message}); move it away to start fresh`);
  }
  const d = data as Partial<SimStateData>;
  if (typeof d !== 'object' || d === null || d.version !== 1 || !Array.isArray(d.open_orders) || !Array.isArray(d.fills)) {
    throw new Error(`simulator state ${path} is not a version 1 simulator state; move it away to start fresh`);
  }
  return d as SimStateData;
}

export function saveState(path: string, state: SimStateData): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, JSON.stringify(state));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  // The rename itself is durable only once the folder entry is on disk.
  try {
    const dirFd = openSync(dirname(path), 'r');
    try {
      fsyncSync(dirFd);
    } finally {
      closeSync(dirFd);
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  }
}
