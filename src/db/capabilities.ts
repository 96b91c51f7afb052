/**
 * Everything that differs between SQLite and PostgreSQL, resolved once when the database is opened
 * (pg-boss's COMPATIBILITY_FLAGS, Kysely's adapter members). Code branches on these members, never on the URL.
 */
import { sql, type RawBuilder } from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

export interface Capabilities {
  readonly dialect: Dialect;
  /** `FOR UPDATE SKIP LOCKED` on claims; SQLite has one writer and no row locks. */
  readonly skipLocked: boolean;
  /** Row locks (`FOR UPDATE`) exist; SQLite serialises writers instead. */
  readonly rowLocks: boolean;
  /** LISTEN/NOTIFY to wake workers; SQLite uses an in-process signal instead. */
  readonly listenNotify: boolean;
  /** Several processes may share the database (PostgreSQL); SQLite runs API and worker in one process. */
  readonly multiProcess: boolean;
  /** Column type for JSON documents. */
  readonly jsonType: 'text' | 'jsonb';
  /** Largest number of bound parameters one statement may carry (SQLite 32766, PostgreSQL 65535). */
  readonly maxParams: number;
  /** Text value of a top-level key of a JSON column, as used in conditions and in the per-field index. */
  jsonText(column: string, key: string): RawBuilder<string | null>;
  /** Text value at a path of keys into a JSON column (`['biz_info', 'model_id']`). */
  jsonPathText(column: string, path: readonly string[]): RawBuilder<string | null>;
  /** Numeric value of a top-level key of a JSON column. */
  jsonNumber(column: string, key: string): RawBuilder<number | null>;
  /** True when the JSON array at `key` holds any of `values` (the `users` field type). */
  jsonArrayHasAny(column: string, key: string, values: readonly string[]): RawBuilder<boolean>;
  /**
   * LIKE with `\` as the escape character, folding case for ASCII letters only: SQLite's LIKE cannot fold
   * more, so PostgreSQL's ILIKE is pinned to the "C" collation instead of following the database locale.
   */
  ilike(expr: RawBuilder<unknown>, pattern: string): RawBuilder<boolean>;
  /**
   * A per-row check that aborts the statement once its request's deadline passed (src/db/query-limits.ts),
   * for predicates whose cost the caller chooses: SQLite's `bg_alive`, evaluated for each row scanned. Null on
   * PostgreSQL, whose statement_timeout interrupts any statement by itself.
   */
  deadlineCheck(row: RawBuilder<unknown>): RawBuilder<boolean> | null;
  /** A text expression that compares and sorts by code point (SQLite's BINARY; "C" on PostgreSQL). */
  codePointOrder(expr: RawBuilder<unknown>): RawBuilder<unknown>;
  /**
   * Safe to run again: a lock conflict the database resolved by aborting us (deadlock, serialization, busy), or
   * a lost connection (isConnectionLoss). Never the work's own fault, so it must not count against a chunk.
   */
  isTransient(e: unknown): boolean;
  /** A unique index refused the row (e.g. two claims taking the same workspace slot at once). */
  isUniqueViolation(e: unknown): boolean;
  /** The larger of two non-null numbers (PostgreSQL's greatest, SQLite's two-argument max). */
  greatest(a: RawBuilder<unknown>, b: RawBuilder<unknown>): RawBuilder<number>;
  /** Decodes a JSON column value as the driver returns it. */
  readJson<T>(value: unknown): T;
  /** Encodes a value for a JSON column. */
  writeJson(value: unknown): string | null;
}

/** Socket errors of a database connection that went away or cannot be made (refused, reset, timed out). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
/**
 * SQLSTATEs of a server that is going or not there yet: class 08 (connection exception), 57P01 admin_shutdown
 * (`pg_ctl stop/restart -m fast` terminates every session), 57P02 crash_shutdown (another backend crashed),
 * 57P03 cannot_connect_now (starting up, recovering, shutting down), 53300 too_many_connections.
 */
const UNREACHABLE_SQLSTATES = /^(08...|57P0[123]|53300)$/;
/** node-postgres raises these without a code when the socket closes under a client or a connect times out. */
const UNREACHABLE_MESSAGES =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Connection terminated due to connection timeout)/;

/**
 * The database is unreachable: the connection broke or cannot be made (a PostgreSQL restart, failover or network
 * cut; never the statement's fault). Running the statement again later, on a new connection, is right, and an
 * HTTP request meanwhile is answered 503, not 500. Node reports a refused connection to a name with several
 * addresses as an AggregateError, hence `errors`; SQLite, having no connection, never matches.
 */
export function isConnectionLoss(e: unknown, depth = 0): boolean {
  if (!e || typeof e !== 'object' || depth > 3) return false;
  const err = e as { code?: unknown; message?: unknown; errors?: unknown; cause?: unknown };
  if (typeof err.code === 'string' && (NETWORK_CODES.has(err.code) || UNREACHABLE_SQLSTATES.test(err.code)))
    return true;
  if (typeof err.message === 'string' && UNREACHABLE_MESSAGES.test(err.message)) return true;
  if (Array.isArray(err.errors) && err.errors.some((x) => isConnectionLoss(x, depth + 1))) return true;
  return isConnectionLoss(err.cause, depth + 1);
}

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/** Keys are validated display ids; this guard keeps a bad caller from reaching raw SQL. */
function safeKey(key: string): string {
  if (!KEY_RE.test(key)) throw new Error(`unsafe JSON key ${JSON.stringify(key)}`);
  return key;
}

function readJson<T>(value: unknown): T {
  if (value == null) return null as T;
  if (typeof value === 'string') return JSON.parse(value) as T;
  return value as T;
}

function writeJson(value: unknown): string | null {
  return value === undefined || value === null ? null : JSON.stringify(value);
}

export const sqliteCapabilities: Capabilities = Object.freeze({
  dialect: 'sqlite' as const,
  skipLocked: false,
  rowLocks: false,
  listenNotify: false,
  multiProcess: false,
  jsonType: 'text' as const,
  maxParams: 32766,
  jsonText: (column: string, key: string) =>
    sql<string | null>`json_extract(${sql.ref(column)}, ${sql.lit(`$.${safeKey(key)}`)})`,
  jsonPathText: (column: string, path: readonly string[]) =>
    sql<string | null>`json_extract(${sql.ref(column)}, ${sql.lit(`$.${path.map(safeKey).join('.')}`)})`,
  jsonNumber: (column: string, key: string) =>
    sql<number | null>`json_extract(${sql.ref(column)}, ${sql.lit(`$.${safeKey(key)}`)})`,
  jsonArrayHasAny: (column: string, key: string, values: readonly string[]) =>
    sql<boolean>`exists (select 1 from json_each(${sql.ref(column)}, ${sql.lit(`$.${safeKey(key)}`)}) where value in (${sql.join(values)}))`,
  ilike: (expr: RawBuilder<unknown>, pattern: string) => sql<boolean>`${expr} like ${pattern} escape '\\'`,
  deadlineCheck: (row: RawBuilder<unknown>) => sql<boolean>`bg_alive(${row})`,
  codePointOrder: (expr: RawBuilder<unknown>) => expr,
  isTransient: (e: unknown) => (e as { code?: string } | null)?.code === 'SQLITE_BUSY',
  isUniqueViolation: (e: unknown) =>
    ['SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_CONSTRAINT_PRIMARYKEY'].includes((e as { code?: string } | null)?.code ?? ''),
  greatest: (a: RawBuilder<unknown>, b: RawBuilder<unknown>) => sql<number>`max(${a}, ${b})`,
  readJson,
  writeJson,
});

export const postgresCapabilities: Capabilities = Object.freeze({
  dialect: 'postgres' as const,
  skipLocked: true,
  rowLocks: true,
  listenNotify: true,
  multiProcess: true,
  jsonType: 'jsonb' as const,
  maxParams: 65535,
  jsonText: (column: string, key: string) => sql<string | null>`(${sql.ref(column)} ->> ${sql.lit(safeKey(key))})`,
  jsonPathText: (column: string, path: readonly string[]) =>
    sql<string | null>`(${sql.ref(column)} #>> ${sql.lit(`{${path.map(safeKey).join(',')}}`)})`,
  jsonNumber: (column: string, key: string) =>
    sql<number | null>`((${sql.ref(column)} ->> ${sql.lit(safeKey(key))})::numeric)`,
  jsonArrayHasAny: (column: string, key: string, values: readonly string[]) =>
    sql<boolean>`(${sql.ref(column)} -> ${sql.lit(safeKey(key))}) ?| array[${sql.join(values)}]::text[]`,
  ilike: (expr: RawBuilder<unknown>, pattern: string) =>
    sql<boolean>`(${expr}) collate "C" ilike ${pattern} escape '\\'`,
  deadlineCheck: () => null,
  codePointOrder: (expr: RawBuilder<unknown>) => sql`(${expr}) collate "C"`,
  isTransient: (e: unknown) =>
    ['40P01', '40001'].includes((e as { code?: string } | null)?.code ?? '') || isConnectionLoss(e),
  isUniqueViolation: (e: unknown) => (e as { code?: string } | null)?.code === '23505',
  greatest: (a: RawBuilder<unknown>, b: RawBuilder<unknown>) => sql<number>`greatest(${a}, ${b})`,
  readJson,
  writeJson,
});
