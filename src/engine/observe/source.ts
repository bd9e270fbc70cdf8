// Where `pink timeline` and `pink report` get their rows. Engine up: the embedded store belongs to
// the engine's process, so the engine runs the named query itself (the control socket's named
// queries `timeline` and `pnl_report`: a window and a symbol, never SQL). Engine down: the store is opened here, read
// only (no spool, no DDL). The same functions (timeline.ts, report.ts) answer in both places.
import { existsSync } from 'node:fs';
import { homePaths, normalizeSymbol, type Config } from '../../config.js';
import { EXIT, ExitError, usageError } from '../../errors.js';
import { runningEnginePid } from '../runner/lock.js';
import type { NamedQuery, QueryContext } from '../runner/queries.js';
import { askEngine } from '../runner/socket.js';
import type { Store } from '../store/index.js';
import type { Scope } from './sql.js';
import { WINDOW_MS_MAX } from './when.js';

export type ObserveOp = 'timeline' | 'pnl_report';

/** What `pink timeline` / `pink report` ask: a window and a symbol (the named query's params). */
export interface ObserveRequest {
  op: ObserveOp;
  since_ms: number;
  until_ms: number;
  symbol?: string;
}

export type ObserveParams = ReturnType<typeof checkObserveRequest>;

/** An engine answering an observe query waits this long for the rows of the last second to land. */
const FLUSH_WAIT_MS_MAX = 2000;
/** The CLI waits this long for the engine's answer (the queries, not the engine, set the pace). */
export const OBSERVE_ANSWER_MS_MAX = 60_000;

/** Checks a request that came over the socket (a trust boundary): numbers, order, the symbol. */
export function checkObserveRequest(req: { since_ms?: unknown; until_ms?: unknown; symbol?: unknown }): { since_ms: number; until_ms: number; symbol: string | undefined } {
  const { since_ms, until_ms, symbol } = req;
  if (typeof since_ms !== 'number' || typeof until_ms !== 'number' || !Number.isSafeInteger(since_ms) || !Number.isSafeInteger(until_ms) || until_ms <= since_ms || until_ms - since_ms > WINDOW_MS_MAX) {
    throw usageError('the window is not valid: since_ms and until_ms must be whole ms with since before until, at most 400 days apart.');
  }
  if (symbol === undefined || symbol === null || symbol === '') return { since_ms, until_ms, symbol: undefined };
  const s = typeof symbol === 'string' ? normalizeSymbol(symbol) : undefined;
  if (s === undefined) throw usageError(`"${String(symbol)}" is not a USDT perpetual symbol.`, 'Use the form BTC-USDT.');
  return { since_ms, until_ms, symbol: s };
}

/**
 * The engine's side: `timeline` and `pnl_report` as named queries of the control socket
 * (runner/queries.ts), on the store's read-only session, after a bounded flush so that an
 * incident's last second is in the answer (the step loop does not wait for it).
 */
export function observeQuery(op: ObserveOp): NamedQuery<ObserveParams> {
  return {
    params(raw) {
      try {
        return checkObserveRequest(raw);
      } catch (err) {
        return (err as ExitError).message;
      }
    },
    async run({ q, config, flush }: QueryContext, w: ObserveParams) {
      if (flush) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([flush().catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, FLUSH_WAIT_MS_MAX)))]);
        clearTimeout(timer);
      }
      const scope: Scope = { database: config.database, ...w };
      return op === 'timeline' ? (await import('./timeline.js')).timeline(q, scope) : (await import('./report.js')).report(q, scope);
    },
  };
}

/** Asks the running engine, or opens the store when none runs. */
export async function observe<T>(config: Config, req: ObserveRequest, direct: (store: Store, scope: Scope) => Promise<T>): Promise<{ data: T; via: 'engine' | 'store' }> {
  const paths = homePaths(config.home);
  const pid = runningEnginePid(paths.pid);
  if (pid !== undefined) {
    const { op, ...params } = req;
    const answer = await askEngine(paths.socket, { op: 'query', name: op, params }, OBSERVE_ANSWER_MS_MAX);
    if (answer === undefined) {
      throw new ExitError(EXIT.UNREACHABLE, `the engine (pid ${pid}) did not answer on its control socket ${paths.socket}; its store is its own while it runs.`, 'Check `pink ditav2-status`; retry, or stop the engine to read the store directly.');
    }
    if (!answer.ok) {
      if (/unknown (control request|query)/.test(answer.error)) {
        throw new ExitError(EXIT.UNREACHABLE, `the running engine (pid ${pid}) is older than this pink and does not answer ${req.op}.`, 'Restart it with this version (`pink restart`), or stop it to read the store directly.');
      }
      throw new ExitError((answer.exit === EXIT.USAGE ? EXIT.USAGE : EXIT.BAD) as 1 | 2, `the engine refused: ${answer.error}`, answer.hint);
    }
    return { data: answer.data as T, via: 'engine' };
  }
  if (config.clickhouse_url === undefined && !existsSync(paths.clickhouse)) {
    throw new ExitError(EXIT.UNREACHABLE, `no embedded store under ${config.home}: no engine has run with this home.`, 'Check --home / PINK_HOME (the engine\'s state folder), or start the engine with `pink run`.');
  }
  const { openStore } = await import('../store/index.js');
  // No spoolDir: a store opened only to read never touches the engine's spool.
  const store = await openStore({ config, runId: `observe-${process.pid}` });
  try {
    const w = checkObserveRequest(req);
    return { data: await direct(store, { database: config.database, ...w }), via: 'store' };
  } finally {
    await store.close();
  }
}
