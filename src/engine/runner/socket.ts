// The control socket $PINK_HOME/pink.sock (mode 0600): one JSON request per connection, one JSON
// answer. The client side imports only node:net, so `pink ditav2-status` stays light.
import { createConnection, createServer, type Server } from 'node:net';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import type { ObserveRequest } from '../observe/source.js';

export type ControlRequest =
  | { op: 'status' }
  | { op: 'flatten'; symbol: string; timeout_ms: number; dry_run: boolean }
  | { op: 'query'; sql: string }
  | { op: 'report' }
  | { op: 'stop' }
  // Issue 22: `pink timeline` / `pink report` as named queries (a window and a symbol, no SQL).
  | ObserveRequest;

export type ControlAnswer = { ok: true; data: unknown } | { ok: false; error: string; exit: number; hint?: string };

/** Request bodies larger than this are refused: the socket is for small control messages. */
const REQUEST_BYTES_MAX = 64 * 1024;

/** undefined when no engine answers (no socket, refused, or it did not answer in time). */
export function askEngine(socketPath: string, request: ControlRequest, timeout_ms = 2000): Promise<ControlAnswer | undefined> {
  if (!existsSync(socketPath)) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const sock = createConnection(socketPath);
    let buf = '';
    let done = false;
    const finish = (v: ControlAnswer | undefined): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => finish(undefined), timeout_ms);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(request)}\n`));
    sock.on('data', (d: string) => {
      buf += d;
    });
    sock.on('end', () => {
      try {
        finish(JSON.parse(buf) as ControlAnswer);
      } catch {
        finish(undefined);
      }
    });
    sock.on('error', () => finish(undefined));
  });
}

export function serveControl(socketPath: string, handle: (req: ControlRequest) => Promise<ControlAnswer>): Promise<Server> {
  if (existsSync(socketPath)) rmSync(socketPath, { force: true }); // left by a killed engine; the pid lock is ours
  const server = createServer((sock) => {
    let buf = '';
    sock.setEncoding('utf8');
    sock.on('error', () => sock.destroy());
    sock.on('data', (d: string) => {
      buf += d;
      if (buf.length > REQUEST_BYTES_MAX) {
        sock.end(JSON.stringify({ ok: false, error: 'request too large', exit: 2 }));
        return;
      }
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let req: ControlRequest;
      try {
        req = JSON.parse(buf.slice(0, nl)) as ControlRequest;
      } catch {
        sock.end(JSON.stringify({ ok: false, error: 'malformed request', exit: 2 }));
        return;
      }
      handle(req)
        .catch((err: unknown): ControlAnswer => ({ ok: false, error: err instanceof Error ? err.message : String(err), exit: 1 }))
        .then((answer) => sock.end(JSON.stringify(answer)));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      chmodSync(socketPath, 0o600);
      server.off('error', reject);
      resolve(server);
    });
  });
}
