import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, type SqliteDialectConfig } from 'kysely';
import pg from 'pg';
import { postgresCapabilities, sqliteCapabilities, type Capabilities } from './capabilities.ts';
import { postgresBulkWriter, sqliteBulkWriter, type BulkWriter } from './bulk-writer.ts';
import { OwnSchemaPostgresDialect } from './own-schema-dialect.ts';
import {
  aliveCheck,
  directReader,
  fairReader,
  postgresReader,
  sqliteReader,
  type QueryLimits,
  type SqliteGuard,
} from './query-limits.ts';
import { sqliteReaders } from './sqlite-readers.ts';
import type { Schema } from './schema.ts';

import type { Db } from './db.ts';

export type { Db };

export interface OpenDb {
  readonly db: Db;
  readonly caps: Capabilities;
  /** Hot-path statements in this dialect's fastest shape. */
  readonly bulk: BulkWriter;
  /** The raw better-sqlite3 handle (SQLite only), for prepared statements on hot paths. */
  readonly sqlite?: SqliteDatabase.Database;
  /** The pg pool (PostgreSQL only), for LISTEN connections. */
  readonly pool?: pg.Pool;
  /** PostgreSQL schema the connections use, when not `public`. */
  readonly schema?: string;
  /** Where this database lives: data connections may never name it (src/core/connections/source-policy.ts). */
  readonly location: DbLocation;
  /**
   * Where a request's queries run under BATCHGATE_QUERY_TIMEOUT_MS (src/db/query-limits.ts); 0 means no limit.
   * Made on first call and shared after; close() ends it.
   */
  limits(timeoutMs: number): QueryLimits;
  close(): Promise<void>;
}

/** The service's own database: its SQLite file (null in memory), or its PostgreSQL server, database and schema. */
export type DbLocation =
  | { kind: 'sqlite'; path: string | null }
  | { kind: 'postgres'; host: string; port: number; database: string; schema: string };

export interface OpenDbOptions {
  /** PostgreSQL: the schema every connection uses (tests give each test its own). */
  schema?: string;
  /** PostgreSQL pool size; 10 by default. */
  poolSize?: number;
  /** SQLite: reader threads for requests' searches (src/db/sqlite-readers.ts); 2 by default. */
  readerThreads?: number;
}

export const DEFAULT_SQLITE_PATH = './data/batchgate.db';

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

/** int8 and numeric come back as strings by default; our int8 columns are counts and epoch-ms, safe as numbers. */
const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    if (oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

/**
 * Opens the database named by `url`: a `postgres://` URL gives a pg pool, anything else is an SQLite file
 * path (`sqlite:` prefix optional, `:memory:` allowed). The returned capabilities decide every dialect branch.
 */
export function openDb(url: string = DEFAULT_SQLITE_PATH, options: OpenDbOptions = {}): OpenDb {
  if (isPostgresUrl(url)) return openPostgres(url, options);
  return openSqlite(sqlitePath(url), options);
}

/**
 * The file of an SQLite DATABASE_URL: a path, `sqlite:` prefixed or not, or SQLite's own URI form `file:` —
 * `file:/srv/bg.db` and `file:///srv/bg.db` are that absolute path, `file:bg.db` a relative one. URI parameters
 * (`?mode=…`) would change how SQLite opens the file, so they are refused rather than taken as part of a name.
 */
export function sqlitePath(url: string): string {
  const m = /^file:(.*)$/i.exec(url);
  if (!m) return url.replace(/^sqlite:(\/\/)?/, '');
  let rest = m[1]!;
  if (rest.includes('?') || rest.includes('#'))
    throw new Error('DATABASE_URL: a file: URI with parameters (?…) is not supported; name the file alone');
  // file://host/path: only an empty host or localhost names this machine.
  if (rest.startsWith('//')) {
    const slash = rest.indexOf('/', 2);
    const host = slash < 0 ? rest.slice(2) : rest.slice(2, slash);
    if (host !== '' && host.toLowerCase() !== 'localhost')
      throw new Error(`DATABASE_URL: a file: URI must name a file on this machine, not on ${JSON.stringify(host)}`);
    rest = slash < 0 ? '' : rest.slice(slash);
  }
  const path = decodeURIComponent(rest);
  if (path === '') throw new Error('DATABASE_URL: the file: URI names no file');
  return path;
}

/** One QueryLimits per opened database, whatever the number of callers; the first timeout asked wins. */
function once(make: (timeoutMs: number) => QueryLimits): {
  get(timeoutMs: number): QueryLimits;
  close(): Promise<void>;
} {
  let made: QueryLimits | null = null;
  return { get: (timeoutMs) => (made ??= make(timeoutMs)), close: async () => made?.close() };
}

function openSqlite(path: string, options: OpenDbOptions): OpenDb {
  if (path !== ':memory:') mkdirSync(dirname(resolve(path)), { recursive: true });
  const sqlite = new SqliteDatabase(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  // 64 MB page cache: the 1M-item batch touches ~200 MB of pages; a bigger cache cut its time by a third.
  sqlite.pragma('cache_size = -65536');
  sqlite.pragma('temp_store = MEMORY');
  const guard: SqliteGuard = { deadline: Infinity };
  sqlite.function('bg_alive', { varargs: true }, aliveCheck(guard));
  const db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: statementCache(sqlite) }) });
  const limits = once((timeoutMs) => {
    if (timeoutMs <= 0) return { db, reader: directReader, close: async () => {} };
    // An in-memory database is this connection's alone: no other connection could read it.
    const threads = options.readerThreads ?? 2;
    const readers = path === ':memory:' ? null : sqliteReaders(path, { size: threads, timeoutMs });
    const reader = fairReader(sqliteReader(readers, guard, timeoutMs), Math.max(1, Math.floor(threads / 2)), timeoutMs);
    return { db, reader, close: async () => readers?.close() };
  });
  return {
    db,
    caps: sqliteCapabilities,
    bulk: sqliteBulkWriter(sqlite),
    sqlite,
    location: { kind: 'sqlite', path: path === ':memory:' ? null : resolve(path) },
    limits: limits.get,
    async close() {
      await limits.close();
      await db.destroy();
    },
  };
}

/**
 * Kysely's SQLite driver prepares every query anew; this hands it the statement prepared for the same text
 * before. Under `npm run bench:load`, GET batch status (three small queries) spent 18% of the server's CPU in
 * better-sqlite3's prepare. Kysely runs one query at a time on its one connection, so a statement is never in
 * use twice at once. Bounded, least recently used out: `in (…)` lists of every length are distinct texts.
 */
function statementCache(sqlite: SqliteDatabase.Database, max = 1000): SqliteDialectConfig['database'] {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let st = cache.get(text);
      if (st) {
        cache.delete(text);
      } else {
        st = sqlite.prepare(text);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, st);
      return st;
    },
  };
}

/** Where a DATABASE_URL connects, as pg itself reads it (its query and PG* variables included): a client not connected. */
function postgresLocation(url: string, schema: string): DbLocation {
  const c = new pg.Client({ connectionString: url });
  return { kind: 'postgres', host: c.host, port: c.port, database: c.database ?? '', schema };
}

function postgresPool(
  url: string,
  options: OpenDbOptions,
  limit?: { statementTimeoutMs: number; max: number },
): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max: limit?.max ?? options.poolSize ?? 10,
    types: pgTypes,
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
    // Sent in the startup message: no statement per query. Waiting for a connection counts too.
    ...(limit
      ? { statement_timeout: limit.statementTimeoutMs, connectionTimeoutMillis: limit.statementTimeoutMs }
      : {}),
  });
  // An idle client's network error must not crash the process; the pool replaces it.
  pool.on('error', () => {});
  // Nor a checked-out one's: pg-pool listens only while a client is idle, and a client whose connection breaks
  // between two statements (PostgreSQL restarting while a transaction runs JavaScript) emits 'error' with no
  // listener, which kills the process. Its next statement fails instead, and the pool drops it on release.
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

function openPostgres(url: string, options: OpenDbOptions): OpenDb {
  const pool = postgresPool(url, options);
  const kysely = (p: pg.Pool) =>
    new Kysely<Schema>({ dialect: new OwnSchemaPostgresDialect({ pool: p }, options.schema ?? 'public') });
  const db = kysely(pool);
  const limits = once((timeoutMs) => {
    if (timeoutMs <= 0) return { db, reader: directReader, close: async () => {} };
    // Connections are opened on demand, so these pools cost nothing until requests use them. Searches get a
    // pool of their own: ten slow ones held the request pool's ten connections, and other tenants' key
    // lookups waited for them (bench/stall.ts).
    const size = options.poolSize ?? 10;
    const limited = kysely(postgresPool(url, options, { statementTimeoutMs: timeoutMs, max: size }));
    const searchConnections = Math.max(2, Math.ceil(size / 2));
    const searches = kysely(postgresPool(url, options, { statementTimeoutMs: timeoutMs, max: searchConnections }));
    return {
      db: limited,
      reader: fairReader(postgresReader(searches, timeoutMs), Math.floor(searchConnections / 2), timeoutMs),
      close: async () => {
        await limited.destroy();
        await searches.destroy();
      },
    };
  });
  return {
    db,
    caps: postgresCapabilities,
    bulk: postgresBulkWriter(),
    pool,
    ...(options.schema ? { schema: options.schema } : {}),
    location: postgresLocation(url, options.schema ?? 'public'),
    limits: limits.get,
    async close() {
      await limits.close();
      await db.destroy();
    },
  };
}
