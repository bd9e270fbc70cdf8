// The control socket $PINK_HOME/pink.sock (mode 0600, in a 0700 home: this user only). One request
// per connection, framed by the connection itself: the client writes one JSON document and ends
// its side (half-close); the engine parses exactly that, runs it once, answers with one JSON
// document and closes. Bytes after the document are not a second request but a malformed one:
// nothing runs. The client side imports only node:net, so `pink ditav2-status` stays light.
import { createConnection, createServer, type Server } from 'node:net';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import type { OperatorAudit, TradingState } from '../kernel/types.js';

export type ControlRequest =
  | { op: 'status' }
  /** `symbols` (issue 21): flatten those together, `symbol` first among them; the answer is then a list. */
  | { op: 'flatten'; symbol: string; symbols?: string[]; timeout_ms: number; dry_run: boolean; hold?: 'symbol' | 'engine'; resume?: boolean; operator?: OperatorAudit }
  /** Issue 19: `pink halt` / `pink resume` (a TRADING_STATE kernel input). */
  | { op: 'trading'; state: TradingState; reason: string; symbol?: string; all?: boolean; operator: OperatorAudit }
  /** `pink flatten SYMBOL --venue-position` (flatten-plan.ts): expect_venue_qty is the size confirmed. */
  | { op: 'flatten_venue'; symbol: string; timeout_ms: number; dry_run: boolean; expect_venue_qty?: number; resume?: boolean; operator?: OperatorAudit }
  /** A named, read-only store query (src/engine/runner/queries.ts); there is no free SQL. */
  | { op: 'query'; name: string; params?: Record<string, unknown> }
  | { op: 'report' }
  | { op: 'stop'; operator?: OperatorAudit }
  /** `pink accept-drift AMOUNT` (a DRIFT_ACCEPTED kernel input, runner/control.ts). */
  | { op: 'accept_drift'; amount_usdt: number; operator: OperatorAudit }
  /** Issue 19: an operator action done outside the engine (a restart): its audit row. */
  | { op: 'audit'; operator: OperatorAudit };

export type ControlAnswer = { ok: true; data: unknown } | { ok: false; error: string; exit: number; hint?: string };

/** Request bodies larger than this are refused: the socket is for small control messages. */
export const REQUEST_BYTES_MAX = 64 * 1024;
/** A request must arrive whole (the client's end included) within this, or it is refused. */
export const REQUEST_WAIT_MS = 5_000;
/** Connections served at once; one more is accepted and closed at once, unanswered (node's maxConnections). */
export const CONNECTIONS_MAX = 16;
/** Longest text field of a request (a symbol, a query name). */
const FIELD_CHARS_MAX = 64;
/** flatten's timeout_ms bound: an hour (`pink flatten --timeout` is in seconds, default 20). */
const FLATTEN_TIMEOUT_MS_MAX = 3_600_000;

type FieldCheck = (v: unknown) => boolean;
const text: FieldCheck = (v) => typeof v === 'string' && v.length > 0 && v.length <= FIELD_CHARS_MAX;
const bool: FieldCheck = (v) => typeof v === 'boolean';
const flattenMs: FieldCheck = (v) => typeof v === 'number' && Number.isFinite(v) && v > 0 && v <= FLATTEN_TIMEOUT_MS_MAX;
const finite: FieldCheck = (v) => typeof v === 'number' && Number.isFinite(v);
const plainObject: FieldCheck = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const tradingState: FieldCheck = (v) => v === 'ACTIVE' || v === 'REDUCING' || v === 'HALTED';
const reasonText: FieldCheck = (v) => typeof v === 'string' && v.length <= 500;
/** At most this many symbols in one flatten request. */
const FLATTEN_SYMBOLS_MAX = 64;
const symbolList: FieldCheck = (v) => Array.isArray(v) && v.length > 0 && v.length <= FLATTEN_SYMBOLS_MAX && v.every((x) => text(x));
const holdScope: FieldCheck = (v) => v === 'symbol' || v === 'engine';
/** The audit facts of an operator command (the kernel checks them again, field by field). */
const operator: FieldCheck = (v) => {
  if (!plainObject(v)) return false;
  const o = v as Record<string, unknown>;
  return typeof o['command'] === 'string' && typeof o['user'] === 'string' && typeof o['host'] === 'string' && Number.isInteger(o['pid']) && Array.isArray(o['args']) && o['args'].every((a) => typeof a === 'string' && a.length <= 600) && o['args'].length <= 32;
};

/**
 * Every op and its fields: required ones, and optional ones after a `?`. A request with an unknown
 * op, a missing or mistyped field, or a field not listed is refused before anything runs. Adding an
 * op to ControlRequest without an entry here does not compile.
 */
const REQUEST_FIELDS: { readonly [K in ControlRequest['op']]: Readonly<Record<string, FieldCheck>> } = {
  status: {},
  report: {},
  stop: { '?operator': operator },
  audit: { operator },
  flatten: { symbol: text, '?symbols': symbolList, timeout_ms: flattenMs, dry_run: bool, '?hold': holdScope, '?resume': bool, '?operator': operator },
  trading: { state: tradingState, reason: reasonText, '?symbol': text, '?all': bool, operator },
  flatten_venue: { symbol: text, timeout_ms: flattenMs, dry_run: bool, '?expect_venue_qty': finite, '?resume': bool, '?operator': operator },
  query: { name: text, '?params': plainObject },
  accept_drift: { amount_usdt: finite, operator },
};

/** The request in `body` (one JSON document, as sent), or why it is refused. */
export function parseControlRequest(body: string): ControlRequest | string {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return 'malformed request: one JSON document per connection, then end the connection';
  }
  if (!plainObject(v)) return 'malformed request: not a JSON object';
  const o = v as Record<string, unknown>;
  const op = o['op'];
  if (typeof op !== 'string' || !Object.hasOwn(REQUEST_FIELDS, op)) return `unknown control request ${JSON.stringify(op)?.slice(0, FIELD_CHARS_MAX) ?? ''}`;
  const fields = REQUEST_FIELDS[op as ControlRequest['op']];
  for (const [spec, check] of Object.entries(fields)) {
    const optional = spec.startsWith('?');
    const key = optional ? spec.slice(1) : spec;
    if (o[key] === undefined ? !optional : !check(o[key])) return `${op}: field ${key} is missing or not valid`;
  }
  const known = new Set(['op', ...Object.keys(fields).map((k) => k.replace(/^\?/, ''))]);
  const extra = Object.keys(o).filter((k) => !known.has(k));
  if (extra.length > 0) return `${op}: unknown field ${extra[0]!.slice(0, FIELD_CHARS_MAX)}`;
  return o as ControlRequest;
}

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
    // The request, then the end of our side: that end is what frames it (one request per connection).
    sock.on('connect', () => sock.end(`${JSON.stringify(request)}\n`));
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
  // allowHalfOpen: the client's end frames its request; our answer still goes back after it.
  const server = createServer({ allowHalfOpen: true }, (sock) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let taken = false;
    const answer = (a: ControlAnswer): void => {
      sock.setTimeout(0);
      sock.end(JSON.stringify(a), () => sock.destroy());
    };
    const refuse = (error: string): void => {
      if (taken) return;
      taken = true;
      answer({ ok: false, error, exit: 2 });
    };
    sock.on('error', () => sock.destroy());
    sock.setTimeout(REQUEST_WAIT_MS, () => refuse(`no whole request within ${REQUEST_WAIT_MS} ms: send one JSON document, then end the connection`));
    sock.on('data', (d: Buffer) => {
      if (taken) return; // answered or running: nothing more on this connection is read, let alone run
      bytes += d.length;
      if (bytes > REQUEST_BYTES_MAX) return refuse(`request too large (over ${REQUEST_BYTES_MAX} bytes)`);
      chunks.push(d);
    });
    sock.on('end', () => {
      if (taken) return;
      const req = parseControlRequest(Buffer.concat(chunks).toString('utf8'));
      if (typeof req === 'string') return refuse(req);
      taken = true;
      sock.setTimeout(0); // a flatten may take its whole timeout
      handle(req)
        .catch((err: unknown): ControlAnswer => ({ ok: false, error: err instanceof Error ? err.message : String(err), exit: 1 }))
        .then(answer);
    });
  });
  server.maxConnections = CONNECTIONS_MAX;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      // Created under PINK's umask (0077) already; narrowed to 0600 whatever the umask was.
      chmodSync(socketPath, 0o600);
      server.off('error', reject);
      resolve(server);
    });
  });
}
