// The HTTP face of the simulator (node:http, loopback). One venue request, in order:
//   log → latency fault → rate-limit fault → route → signature and timestamp → one match
//   step → rejectNext fault → the operation → persist → dropResponse fault → answer.
// Admin requests (/__sim/*) skip the venue pipeline: they neither count nor step.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { handleAdmin } from './admin.js';
import { checkSigned, parseQuery } from './auth.js';
import type { RequestRecord, SimCore } from './core.js';
import { VENUE_ERRORS, VenueError, errorEnvelope, okEnvelope } from './errors.js';
import { findRoute, type Route } from './routes.js';

/** The machine's wall clock at sub-millisecond resolution (never the venue's skewed clock). */
const wallMs = (): number => performance.timeOrigin + performance.now();

/** Request bodies are small JSON (admin) or empty (ccxt): anything larger is refused. */
export const BODY_BYTES_MAX = 1 << 20;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_BYTES_MAX) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

function rateLimited(core: SimCore, res: ServerResponse): void {
  const f = core.faults;
  const unblocked = core.opts.nowMs() + f.rateLimitCooldownMs;
  const retryAfter = { 'retry-after': String(Math.max(1, Math.ceil(f.rateLimitCooldownMs / 1000))) };
  if (f.rateLimitStyle === 'body') {
    const { code, msg } = VENUE_ERRORS.rateLimited;
    send(res, 429, { code, msg: `${msg}, unblocked time: ${unblocked}`, data: {} }, retryAfter);
  } else {
    send(res, 429, `Too Many Requests: rate limited, unblocked time: ${unblocked}`, retryAfter);
  }
}

async function onVenueRequest(core: SimCore, req: IncomingMessage, res: ServerResponse, path: string, rawQuery: string): Promise<void> {
  const method = req.method ?? 'GET';
  const query = parseQuery(rawQuery);
  core.venueRequests += 1;
  const entry: RequestRecord = { method, path, query: { ...query.params }, t0_ms: wallMs() };
  core.record(entry);
  res.once('close', () => (entry.t1_ms = wallMs()));
  await readBody(req);
  if (core.faults.latencyMs > 0) await sleep(core.faults.latencyMs);
  if (core.faults.rateLimitEvery > 0) {
    core.rateLimitCounter += 1;
    if (core.rateLimitCounter % core.faults.rateLimitEvery === 0) return rateLimited(core, res);
  }
  if (core.fenced !== undefined) return fencedAnswer(core, res);
  if (core.faults.failPaths?.includes(path) === true) return send(res, 503, { code: 100500, msg: 'Internal system error', data: {} });
  const route = findRoute(method, path);
  if (!route) return send(res, 404, errorEnvelope(new VenueError(VENUE_ERRORS.noSuchApi, `${method} ${path}`)));
  let answer: Record<string, unknown>;
  try {
    if (route.access === 'private') checkSigned(header(req, 'x-bx-apikey'), query, authConfig(core), core.opts.nowMs());
  } catch (err) {
    return send(res, 200, errorEnvelope(asVenueError(err)));
  }
  core.step();
  try {
    answer = runRoute(core, route, query.params);
  } catch (err) {
    answer = errorEnvelope(asVenueError(err));
  }
  core.persistIfDirty();
  // What could not be written did not happen for the client either.
  if (core.fenced !== undefined) return fencedAnswer(core, res);
  if (route.mutating && core.faults.dropResponseNext > 0) {
    // The venue acted; the client never hears: the unknown outcome of a lost response.
    core.faults.dropResponseNext -= 1;
    req.socket.destroy();
    return;
  }
  send(res, 200, answer);
}

/** Fail closed: the state file belongs to another simulator now; this one answers nothing as the venue. */
function fencedAnswer(core: SimCore, res: ServerResponse): void {
  send(res, 503, { code: 100500, msg: `simulator stopped: ${core.fenced ?? ''}`, data: {} });
}

function runRoute(core: SimCore, route: Route, params: Record<string, string>): Record<string, unknown> {
  const f = core.faults;
  if (route.kind === 'create' && f.rejectNext !== null) {
    const reason = f.rejectNext;
    f.rejectNext = null;
    throw new VenueError({ code: f.rejectNextCode, msg: reason });
  }
  if (route.kind === 'cancel' && f.rejectNextCancel !== null) {
    const reason = f.rejectNextCancel;
    f.rejectNextCancel = null;
    throw new VenueError({ code: VENUE_ERRORS.cancelRejectedByAdmin.code, msg: reason });
  }
  const result = route.handle({
    engine: core.engine,
    candles: core.candles,
    params,
    now_ms: core.opts.nowMs(),
    taker_fee_rate: core.opts.engine.taker_fee_rate,
    maker_fee_rate: core.opts.engine.maker_fee_rate,
    duplicate_fills: f.duplicateFills,
    hide_fills: f.hideFills === true,
  });
  return okEnvelope(result.data, route.code, result.extra);
}

const header = (req: IncomingMessage, name: string): string | undefined => {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

const authConfig = (core: SimCore) => ({ api_key: core.opts.apiKey, api_secret: core.opts.apiSecret, recv_window_ms: core.opts.recvWindowMs, timestamp_code: core.faults.clockSkewCode });

function asVenueError(err: unknown): VenueError {
  if (err instanceof VenueError) return err;
  // A bug in the simulator: answer like BingX's internal error and say so on stderr.
  process.stderr.write(`pink sim: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  return new VenueError({ code: 100500, msg: 'Internal system error' });
}

async function onAdminRequest(core: SimCore, req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
  const text = await readBody(req);
  let body: unknown = {};
  if (text.trim() !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      return send(res, 400, { error: 'the body is not JSON' });
    }
  }
  const answer = handleAdmin(core, req.method ?? 'GET', path, req.socket.remoteAddress, body);
  send(res, answer.status, answer.body);
}

export function createSimServer(core: SimCore): Server {
  return createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://sim.invalid');
    const path = url.pathname;
    const work = path.startsWith('/__sim/')
      ? onAdminRequest(core, req, res, path)
      : onVenueRequest(core, req, res, path, (req.url ?? '').split('?')[1] ?? '');
    work.catch((err: unknown) => {
      process.stderr.write(`pink sim: request failed: ${(err as Error)?.message ?? String(err)}\n`);
      if (!res.headersSent) send(res, 500, { code: 100500, msg: 'Internal system error', data: {} });
      else res.destroy();
    });
  });
}

export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
