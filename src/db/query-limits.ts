/**
 * How long a query of a request may run (BATCHGATE_QUERY_TIMEOUT_MS), per dialect. Past the limit the request
 * answers 503 QUERY_TIMEOUT and nothing it began is kept (a write transaction rolls back).
 *
 * - PostgreSQL: requests use a pool of their own whose connections start with `statement_timeout`, so every
 *   statement of a request, reads and writes alike, is cancelled by the server at the limit (SQLSTATE 57014).
 *   The reads given to `ctx.reader` (searches) use a third, smaller pool, so slow searches cannot take the
 *   connections other tenants' key lookups need. Background work (the worker's chunks, retention, migrations,
 *   backups) keeps the unlimited pool: its statements are long by design and not chosen by a caller.
 * - SQLite: better-sqlite3 runs a statement to its end on the calling thread, so a limit on the event loop
 *   would still stall every other tenant until it struck. The searches whose cost the caller chooses (the
 *   reads given to `ctx.reader`) run instead on read-only connections in worker threads (WAL lets them read
 *   beside the writer); the request waits on a promise, and other requests are served meanwhile. A worker
 *   thread cannot be stopped inside sqlite3_step (V8's terminate only takes effect back in JavaScript), so
 *   compiled conditions carry `bg_alive(item.id)` (capabilities.deadlineCheck), a function that throws once the
 *   query's deadline has passed: the statement aborts at the next row, and the row's own cost is bounded by
 *   the text-condition budgets of src/core/conditions.ts. The request is answered at the deadline whatever the
 *   thread is doing. Other statements of a request are key lookups and writes on the main connection.
 *
 * On both, one workspace runs at most half of the search connections or threads at once (fairReader).
 */
import type { CompiledQuery } from 'kysely';
import { sql } from 'kysely';
import type { Db } from './db.ts';
import { queryTimeout } from './query-timeout.ts';
import type { SqliteReaders } from './sqlite-readers.ts';

export const DEFAULT_QUERY_TIMEOUT_MS = 5_000;

/**
 * Runs a read whose cost the caller chooses; see the module comment for where it runs. `tenant` (the
 * workspace) shares the readers out: one tenant's searches cannot hold them all (fairReader).
 */
export interface Reader {
  read<R>(db: Db, query: CompiledQuery<R>, tenant?: string): Promise<R[]>;
  /**
   * Reads run off this process's event loop while the main connection would block it (SQLite's threads):
   * callers then take the rows they need from the reader rather than run the predicate again themselves.
   */
  readonly offEventLoop: boolean;
}

/** The database, and the reader, a request's queries go through; close() ends what they opened. */
export interface QueryLimits {
  readonly db: Db;
  readonly reader: Reader;
  close(): Promise<void>;
}

/** On `db` as given, unbounded: background work, and services with no limit. */
export const directReader: Reader = Object.freeze({
  read: async <R>(db: Db, query: CompiledQuery<R>) => (await db.executeQuery(query)).rows,
  offEventLoop: false,
});

/** node-postgres's error when no connection of the pool came free within connectionTimeoutMillis. */
const POOL_WAIT_TIMEOUT = /^timeout exceeded when trying to connect/;

/**
 * PostgreSQL: `searches` is the Kysely over the search pool, whose connections carry statement_timeout and
 * whose waits for a connection are bounded by the same limit.
 */
export function postgresReader(searches: Db, timeoutMs: number): Reader {
  return {
    offEventLoop: false,
    async read<R>(db: Db, query: CompiledQuery<R>): Promise<R[]> {
      if (!db.isTransaction) {
        try {
          return (await searches.executeQuery(query)).rows;
        } catch (e) {
          throw POOL_WAIT_TIMEOUT.test(String((e as Error | null)?.message)) ? queryTimeout(timeoutMs) : e;
        }
      }
      // In a transaction of the unlimited pool (a batch's submit): the limit for this statement only.
      await sql`set local statement_timeout = ${sql.lit(timeoutMs)}`.execute(db);
      const rows = (await db.executeQuery(query)).rows;
      await sql`set local statement_timeout to default`.execute(db);
      return rows;
    },
  };
}

/**
 * At most `perTenant` reads of one tenant run at once; the next waits for one of them to end, at most
 * `timeoutMs` (then QUERY_TIMEOUT), so ten slow searches of one workspace leave readers free for the others.
 */
export function fairReader(inner: Reader, perTenant: number, timeoutMs: number): Reader {
  const running = new Map<string, { n: number; waiting: (() => void)[] }>();
  return {
    offEventLoop: inner.offEventLoop,
    async read<R>(db: Db, query: CompiledQuery<R>, tenant?: string): Promise<R[]> {
      if (tenant === undefined || db.isTransaction) return inner.read(db, query);
      let t = running.get(tenant);
      if (!t) running.set(tenant, (t = { n: 0, waiting: [] }));
      if (t.n >= perTenant) {
        const turn = t;
        await new Promise<void>((resolve, reject) => {
          const go = () => {
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(() => {
            const i = turn.waiting.indexOf(go);
            if (i >= 0) turn.waiting.splice(i, 1);
            reject(queryTimeout(timeoutMs));
          }, timeoutMs);
          turn.waiting.push(go);
        });
      } else {
        t.n++;
      }
      try {
        return await inner.read(db, query);
      } finally {
        // The slot passes to the next waiter as it is, or is given back.
        const next = t.waiting.shift();
        if (next) next();
        else if (--t.n === 0) running.delete(tenant);
      }
    },
  };
}

/** The deadline `bg_alive` checks on the main SQLite connection; Infinity while no bounded read runs there. */
export interface SqliteGuard {
  deadline: number;
}

/**
 * SQLite: outside a transaction, on the reader threads (committed data, off the event loop); inside one, on
 * the transaction's own connection, bounded by `guard` (a transaction holds the only connection, so nothing
 * else runs on it meanwhile) but on the event loop: callers read outside their transactions where they can.
 */
export function sqliteReader(readers: SqliteReaders | null, guard: SqliteGuard, timeoutMs: number): Reader {
  return {
    offEventLoop: readers !== null,
    async read<R>(db: Db, query: CompiledQuery<R>): Promise<R[]> {
      const deadline = Date.now() + timeoutMs;
      if (readers && !db.isTransaction) return (await readers.all(query.sql, query.parameters, deadline)) as R[];
      guard.deadline = deadline;
      try {
        return (await db.executeQuery(query)).rows;
      } catch (e) {
        throw (e as { code?: unknown }).code === 'QUERY_TIMEOUT' ? queryTimeout(timeoutMs) : e;
      } finally {
        guard.deadline = Infinity;
      }
    },
  };
}

/** The function compiled conditions call per row on SQLite: throws once the running query's deadline passed. */
export function aliveCheck(guard: SqliteGuard): () => number {
  return () => {
    if (Date.now() > guard.deadline) throw Object.assign(new Error('query deadline passed'), { code: 'QUERY_TIMEOUT' });
    return 1;
  };
}
