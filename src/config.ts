import { parseUtcOffset } from './core/dataarts/schedule-time.ts';
import { DEFAULT_SQLITE_PATH } from './db/open-db.ts';

/** Everything the service reads from the environment, read once at start (README: Configuration). */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string;
  adminToken: string | null;
  logLevel: string;
  bodyLimit: number;
  /** Seed a demo workspace into an empty database and print its tokens. */
  demo: boolean;
  /** Chunk loops per worker process on PostgreSQL (SQLite always runs one). */
  workerConcurrency: number;
  /** Minutes east of UTC in which DataArts schedule_time "MM_HH" is read. */
  scheduleUtcOffsetMinutes: number;
}

function int(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  return n;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return {
    port: int('PORT', env.PORT, 8080),
    host: env.HOST || '0.0.0.0',
    databaseUrl: env.DATABASE_URL || DEFAULT_SQLITE_PATH,
    adminToken: env.BATCHGATE_ADMIN_TOKEN || null,
    logLevel: env.LOG_LEVEL || 'info',
    bodyLimit: int('BATCHGATE_BODY_LIMIT', env.BATCHGATE_BODY_LIMIT, 16 * 1024 * 1024),
    demo: !['0', 'false', 'no'].includes((env.BATCHGATE_DEMO ?? '1').toLowerCase()),
    workerConcurrency: Math.max(1, int('BATCHGATE_WORKER_CONCURRENCY', env.BATCHGATE_WORKER_CONCURRENCY, 2)),
    scheduleUtcOffsetMinutes: parseUtcOffset(env.BATCHGATE_SCHEDULE_UTC_OFFSET ?? ''),
  };
}
