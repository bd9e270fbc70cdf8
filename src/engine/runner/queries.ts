// The control socket's named queries: the store reads PINK's own commands ask a running engine
// (which holds the embedded store) through `{op: 'query', name, params}`. There is no free SQL:
// each query here is fixed text with typed parameters, and runs through the store's read-only
// session (ClickHouse's `readonly = 1`: no write, no DDL, no table function, no setting). Adding
// a query is one entry in NAMED_QUERIES: a parameter check and a function of the read-only store.
import type { Config } from '../../config.js';
import { observeQuery, type ObserveOp, type ObserveParams } from '../observe/source.js';
import type { Queryable } from '../store/index.js';
import { storeIsolationChecks } from '../store/isolation.js';
import type { ControlAnswer } from './socket.js';

export interface QueryContext {
  /** The store's read-only session. */
  q: Queryable;
  /** The engine's configuration (its database, BLUE's database, its namespace). */
  config: Config;
  /** Hands the store every row recorded so far (a query about the last second waits for it). */
  flush?: () => Promise<void>;
}

export interface NamedQuery<P> {
  /** The request's `params` (a plain object, `{}` when absent), typed; or why they are refused. */
  params(raw: Record<string, unknown>): P | string;
  run(ctx: QueryContext, params: P): Promise<unknown>;
}

/** For queries that take no parameter: anything given is refused, not ignored. */
export function noParams(raw: Record<string, unknown>): Record<string, never> | string {
  const keys = Object.keys(raw);
  return keys.length === 0 ? {} : `takes no parameters (got ${keys.slice(0, 3).join(', ')})`;
}

/** The answer of `store_metrics`: the embedded store's memory and parts, for `npm run bench` (soak). */
export interface StoreMetrics {
  memory_tracking_bytes: number | null;
  parts: { active: number; n: number }[];
  jemalloc_stats: string | null;
}

async function storeMetrics({ q, config }: QueryContext): Promise<StoreMetrics> {
  const [mem] = await q.query<{ value: number | string }>("SELECT value FROM system.metrics WHERE metric = 'MemoryTracking'");
  const parts = await q.query<{ active: number | string; n: number | string }>('SELECT active, count() AS n FROM system.parts WHERE database = {db:String} GROUP BY active ORDER BY active DESC', { db: config.database });
  let jemalloc_stats: string | null = null;
  try {
    const [je] = await q.query<{ stats: string }>('SELECT stats FROM system.jemalloc_stats');
    jemalloc_stats = je?.stats ?? null;
  } catch {
    // Not every ClickHouse build has system.jemalloc_stats.
  }
  return {
    memory_tracking_bytes: mem === undefined ? null : Number(mem.value),
    parts: parts.map((p) => ({ active: Number(p.active), n: Number(p.n) })),
    jemalloc_stats,
  };
}

/** Every named query, by the name a request gives. */
export const NAMED_QUERIES = {
  /** mode-verify's `schema` and `blue-rows` checks, against the engine's own databases. */
  isolation: { params: noParams, run: ({ q, config }: QueryContext) => storeIsolationChecks(q, config, 'through the running engine') },
  store_metrics: { params: noParams, run: storeMetrics },
  /** `pink timeline` and `pink report` (issue 22): a window and a symbol, never SQL. */
  timeline: observeQuery('timeline'),
  pnl_report: observeQuery('pnl_report'),
} as const satisfies Record<string, NamedQuery<unknown>>;

export type QueryName = keyof typeof NAMED_QUERIES;

/** Runs the named query `name` with `params` (unknown name or refused params: exit 2, nothing run). */
export async function runNamedQuery(name: string, params: Record<string, unknown> | undefined, ctx: QueryContext): Promise<ControlAnswer> {
  if (!Object.hasOwn(NAMED_QUERIES, name)) {
    return { ok: false, exit: 2, error: `unknown query "${name.slice(0, 64)}"`, hint: `The control socket answers named queries only: ${Object.keys(NAMED_QUERIES).join(', ')}.` };
  }
  const query = NAMED_QUERIES[name as QueryName] as NamedQuery<unknown>;
  const p = query.params(params ?? {});
  if (typeof p === 'string') return { ok: false, exit: 2, error: `query ${name}: ${p}` };
  return { ok: true, data: await query.run(ctx, p) };
}
