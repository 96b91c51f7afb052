import { DEFAULT_AUTH_FAILURE_LIMIT, DEFAULT_AUTH_FAILURE_WINDOW_SECONDS } from './api/auth-failures.ts';
import { DEFAULT_STATUS_CACHE_MS } from './api/native/batch-status-cache.ts';
import { DEFAULT_SSE_MAX_PER_TOKEN } from './api/native/event-streams.ts';
import { parseSecretKey } from './core/connections/secret-box.ts';
import { DEFAULT_QUOTAS, type Quotas } from './core/context.ts';
import { parseUtcOffset } from './core/dataarts/schedule-time.ts';
import { MIN_TOKEN_LENGTH } from './core/token-secret.ts';
import { DEFAULT_SQLITE_PATH } from './db/open-db.ts';
import { DEFAULT_QUERY_TIMEOUT_MS } from './db/query-limits.ts';

/** Everything the service reads from the environment, read once at start (docs/operations.md: Configuration). */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  /** PostgreSQL schema every connection uses (search_path); null: the server's default (`public`). */
  databaseSchema: string | null;
  adminToken: string | null;
  logLevel: string;
  bodyLimit: number;
  /** BATCHGATE_SSE_MAX_PER_TOKEN: event streams one token may hold open per process (429 TOO_MANY_STREAMS past it). */
  sseMaxPerToken: number;
  /** Failed authentications per client address and window before 429 TOO_MANY_AUTH_FAILURES (0: no limit). */
  authFailureLimit: number;
  authFailureWindowSeconds: number;
  /** Seed a demo workspace into an empty database and print its tokens. */
  demo: boolean;
  /** Chunk loops per worker process on PostgreSQL (SQLite always runs one). */
  workerConcurrency: number;
  /** Max chunks running at once per workspace over all workers; 0 for no limit. */
  workspaceConcurrency: number;
  /** How long a chunk lease lasts without a heartbeat: a killed worker's chunk is taken over after this. */
  leaseMs: number;
  /** Minutes east of UTC in which DataArts schedule_time "MM_HH" is read. */
  scheduleUtcOffsetMinutes: number;
  /** A bearer token that may read /metrics (a system admin's token may too). */
  metricsToken: string | null;
  /** `batchgate worker`: serve /metrics on this port (the API serves it on PORT). */
  metricsPort: number | null;
  /** Purge the per-item rows of batches finished more than this many days ago; null keeps them forever. */
  retentionDays: number | null;
  /** BATCHGATE_STATUS_CACHE_MS: how old GET batch status may be after another process changed the batch (0: never cached). */
  statusCacheMs: number;
  /** BATCHGATE_CONNECTION_SOURCES: directories and hosts data connections may name (source-policy.ts); null: any. */
  connectionSources: string[] | null;
  /** BATCHGATE_MAX_DATASTORES_PER_WORKSPACE and BATCHGATE_MAX_WORKSPACES_PER_USER (0: no limit). */
  quotas: Quotas;
  /** Key of the data connections' encrypted URLs; null when BATCHGATE_SECRET_KEY is unset. */
  secretKey: Buffer | null;
  /** Webhooks may deliver to non-public addresses (loopback, private networks): off unless set. */
  webhookAllowPrivate: boolean;
  /** Host names (or `*.suffix`) webhook URLs are limited to; null: any public host. */
  webhookAllowedHosts: string[] | null;
  /** How long one webhook POST may take, connect to last byte. */
  webhookTimeoutMs: number;
  /** POSTs of one delivery before it is marked dead. */
  webhookMaxAttempts: number;
  /** BATCHGATE_QUERY_TIMEOUT_MS: longest a query of a request may run (0: no limit); see src/db/query-limits.ts. */
  queryTimeoutMs: number;
}

function flag(value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  return !['0', 'false', 'no'].includes(value.toLowerCase());
}

/** A comma-separated list of host names, lower-cased; empty or unset gives null (no allow-list). */
/** A comma-separated list, each entry trimmed and lower-cased (directories, for connection sources, keep their case); null when empty. */
function list(value: string | undefined): string[] | null {
  const entries = (value ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .map((e) => (e.startsWith('/') ? e : e.toLowerCase()));
  return entries.length ? entries : null;
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

export function port(name: string, value: string): number {
  const n = int(name, value, 0);
  if (n < 1 || n > 65535) throw new Error(`${name} must be a port number (1-65535), got ${JSON.stringify(value)}`);
  return n;
}

/** Goes into `-c search_path=…` unquoted, so only a plain identifier is taken. */
function schemaName(value: string | undefined): string | null {
  if (!value) return null;
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(value))
    throw new Error(`DATABASE_SCHEMA must be a plain identifier (letters, digits, _), got ${JSON.stringify(value)}`);
  return value;
}

/**
 * A 1000-item slice takes ~15 ms, but seconds on a loaded machine: under 1 s its lease would lapse while it runs
 * and another worker would take the chunk over (correct, since every chunk statement is fenced by owner, but
 * wasted work), so shorter values are refused.
 */
function leaseMs(value: string | undefined): number {
  const ms = int('BATCHGATE_LEASE_MS', value, 30_000);
  if (ms < 1000) throw new Error(`BATCHGATE_LEASE_MS must be at least 1000, got ${ms}`);
  return ms;
}

/** A guessable admin token is the whole service's: a short one stops the start instead. */
function adminToken(value: string | undefined): string | null {
  if (!value) return null;
  if (value.length < MIN_TOKEN_LENGTH)
    throw new Error(
      `BATCHGATE_ADMIN_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters (got ${value.length}); generate one with: openssl rand -base64 32`,
    );
  return value;
}

/** What openDb takes from the config: the PostgreSQL schema, when DATABASE_SCHEMA names one. */
export function dbOptions(config: Pick<Config, 'databaseSchema'>): { schema?: string } {
  return config.databaseSchema ? { schema: config.databaseSchema } : {};
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: int('PORT', env.PORT, 8080),
    // Loopback unless told: the demo prints admin tokens, and serving others is a decision (HOST=0.0.0.0).
    host: env.HOST || '127.0.0.1',
    databaseUrl: env.DATABASE_URL || DEFAULT_SQLITE_PATH,
    databaseSchema: schemaName(env.DATABASE_SCHEMA),
    adminToken: adminToken(env.BATCHGATE_ADMIN_TOKEN),
    logLevel: env.LOG_LEVEL || 'info',
    sseMaxPerToken: Math.max(
      1,
      int('BATCHGATE_SSE_MAX_PER_TOKEN', env.BATCHGATE_SSE_MAX_PER_TOKEN, DEFAULT_SSE_MAX_PER_TOKEN),
    ),
    bodyLimit: int('BATCHGATE_BODY_LIMIT', env.BATCHGATE_BODY_LIMIT, 16 * 1024 * 1024),
    authFailureLimit: int('BATCHGATE_AUTH_FAILURE_LIMIT', env.BATCHGATE_AUTH_FAILURE_LIMIT, DEFAULT_AUTH_FAILURE_LIMIT),
    authFailureWindowSeconds: Math.max(
      1,
      int(
        'BATCHGATE_AUTH_FAILURE_WINDOW_SECONDS',
        env.BATCHGATE_AUTH_FAILURE_WINDOW_SECONDS,
        DEFAULT_AUTH_FAILURE_WINDOW_SECONDS,
      ),
    ),
    demo: !['0', 'false', 'no'].includes((env.BATCHGATE_DEMO ?? '1').toLowerCase()),
    workerConcurrency: Math.max(1, int('BATCHGATE_WORKER_CONCURRENCY', env.BATCHGATE_WORKER_CONCURRENCY, 2)),
    workspaceConcurrency: int('BATCHGATE_WORKSPACE_CONCURRENCY', env.BATCHGATE_WORKSPACE_CONCURRENCY, 0),
    leaseMs: leaseMs(env.BATCHGATE_LEASE_MS),
    scheduleUtcOffsetMinutes: parseUtcOffset(env.BATCHGATE_SCHEDULE_UTC_OFFSET ?? ''),
    metricsToken: env.BATCHGATE_METRICS_TOKEN || null,
    metricsPort: env.BATCHGATE_METRICS_PORT ? port('BATCHGATE_METRICS_PORT', env.BATCHGATE_METRICS_PORT) : null,
    retentionDays: int('BATCHGATE_RETENTION_DAYS', env.BATCHGATE_RETENTION_DAYS, 0) || null,
    connectionSources: list(env.BATCHGATE_CONNECTION_SOURCES),
    statusCacheMs: int('BATCHGATE_STATUS_CACHE_MS', env.BATCHGATE_STATUS_CACHE_MS, DEFAULT_STATUS_CACHE_MS),
    quotas: {
      datastoresPerWorkspace: int(
        'BATCHGATE_MAX_DATASTORES_PER_WORKSPACE',
        env.BATCHGATE_MAX_DATASTORES_PER_WORKSPACE,
        DEFAULT_QUOTAS.datastoresPerWorkspace,
      ),
      workspacesPerUser: int(
        'BATCHGATE_MAX_WORKSPACES_PER_USER',
        env.BATCHGATE_MAX_WORKSPACES_PER_USER,
        DEFAULT_QUOTAS.workspacesPerUser,
      ),
    },
    secretKey: parseSecretKey(env.BATCHGATE_SECRET_KEY),
    webhookAllowPrivate: flag(env.BATCHGATE_WEBHOOK_ALLOW_PRIVATE, false),
    webhookAllowedHosts: list(env.BATCHGATE_WEBHOOK_ALLOWED_HOSTS),
    webhookTimeoutMs: Math.max(1, int('BATCHGATE_WEBHOOK_TIMEOUT_MS', env.BATCHGATE_WEBHOOK_TIMEOUT_MS, 10_000)),
    webhookMaxAttempts: Math.max(1, int('BATCHGATE_WEBHOOK_MAX_ATTEMPTS', env.BATCHGATE_WEBHOOK_MAX_ATTEMPTS, 10)),
    queryTimeoutMs: int('BATCHGATE_QUERY_TIMEOUT_MS', env.BATCHGATE_QUERY_TIMEOUT_MS, DEFAULT_QUERY_TIMEOUT_MS),
  };
}
