// Observe test support: a local webhook receiver that can be up, down or slow, and a parser of
// Prometheus' text format (enough of it to read what prom-client writes).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ReceiverMode = 'ok' | 'slow' | 'down';

export interface Receiver {
  url: string;
  /** Bodies answered 200, in arrival order. */
  received: Record<string, unknown>[];
  /** Requests that arrived while slow (held, never answered 200 by the receiver). */
  held: number;
  /** Requests refused with a 500. */
  refused: number;
  setMode(mode: ReceiverMode): Promise<void>;
  close(): Promise<void>;
}

/** A webhook receiver on loopback; `path` is part of the URL (a webhook's secret lives there). */
export async function startReceiver(path = '/hook'): Promise<Receiver> {
  let mode: ReceiverMode = 'ok';
  const pending: ServerResponse[] = [];
  let server: Server | null = null;
  let port = 0;
  const r: Receiver = {
    url: '',
    received: [],
    held: 0,
    refused: 0,
    async setMode(next) {
      mode = next;
      if (next === 'down' && server) {
        const s = server;
        server = null;
        for (const res of pending.splice(0)) res.destroy();
        const closed = new Promise<void>((resolve) => s.close(() => resolve()));
        s.closeAllConnections();
        await closed;
      } else if (next !== 'down' && !server) {
        await listen();
      }
      if (next === 'ok') for (const res of pending.splice(0)) res.destroy();
    },
    async close() {
      await r.setMode('down');
    },
  };
  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      if (mode === 'slow') {
        r.held += 1;
        pending.push(res);
        return;
      }
      if (req.method !== 'POST' || req.url !== path) {
        r.refused += 1;
        res.writeHead(404).end();
        return;
      }
      try {
        r.received.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
      } catch {
        r.refused += 1;
        res.writeHead(400).end();
      }
    });
  };
  const listen = async (): Promise<void> => {
    const s = createServer(handle);
    await new Promise<void>((resolve) => s.listen(port, '127.0.0.1', resolve));
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  await listen();
  r.url = `http://127.0.0.1:${port}${path}`;
  return r;
}

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text exposition → samples; HELP/TYPE lines checked to come with every family. */
export function parseProm(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const t = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (t) {
      types.set(t[1]!, t[2]!);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    const v = m[3]!;
    samples.push({ name: m[1]!, labels, value: v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) });
  }
  return { samples, types };
}

/** The one sample of `name` whose labels include `labels`, or undefined. */
export function sample(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found.length === 0 ? undefined : found.reduce((sum, s) => sum + s.value, 0);
}
