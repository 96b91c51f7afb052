import type { Logger } from 'pino';
import type { Capabilities } from '../db/capabilities.ts';
import type { BulkWriter } from '../db/bulk-writer.ts';
import type { Db, DbLocation } from '../db/open-db.ts';
import { DEFAULT_QUERY_TIMEOUT_MS, type Reader } from '../db/query-limits.ts';
import type { IdGenerator } from '../ids.ts';
import type { Metrics } from '../metrics.ts';

/**
 * What every core and engine function takes as its first argument: the database (or a transaction on it),
 * its capabilities, the id generator, the clock, a logger and the service's metrics. Nothing in src/core reaches for a global.
 */
export interface Ctx {
  readonly db: Db;
  readonly caps: Capabilities;
  readonly bulk: BulkWriter;
  readonly ids: IdGenerator;
  readonly log: Logger;
  now(): number;
  /** Service settings from the environment that change behaviour (docs/operations.md: Configuration). */
  readonly settings: Settings;
  /** Datastore definitions are immutable once created, so they are cached per process. */
  readonly cache: Map<string, unknown>;
  /** This service's Prometheus registry and the metrics the engine and the app record into it. */
  readonly metrics: Metrics;
  /** Where this service's own database lives: no data connection may name it, whatever the settings list. */
  readonly ownDatabase: DbLocation;
  /**
   * Runs the reads whose cost the caller chooses (searches by conditions): unbounded for background work,
   * under BATCHGATE_QUERY_TIMEOUT_MS and off SQLite's event loop for a request's (src/db/query-limits.ts).
   */
  readonly reader: Reader;
}

export interface Settings {
  /** Minutes east of UTC for DataArts schedule_time "MM_HH". */
  scheduleUtcOffsetMinutes: number;
  /** The 32-byte key data connection URLs are encrypted under (BATCHGATE_SECRET_KEY), or null when unset. */
  secretKey: Buffer | null;
  /** Where webhooks may deliver (src/core/webhooks/url-policy.ts). */
  webhooks: WebhookSettings;
  /** The source databases data connections may name (BATCHGATE_CONNECTION_SOURCES; null: none). */
  connectionSources: readonly string[] | null;
  /** What one tenant may create (BATCHGATE_MAX_*; 0: no limit). */
  quotas: Quotas;
  /** Longest a query of a request may run (BATCHGATE_QUERY_TIMEOUT_MS; 0: no limit); requestCtx applies it. */
  queryTimeoutMs: number;
}

export interface Quotas {
  /** Datastores per workspace, a DataArts workspace's own 40 included; binds every caller. */
  datastoresPerWorkspace: number;
  /** Workspaces a user may have created; a system admin is not limited. */
  workspacesPerUser: number;
}

export const DEFAULT_QUOTAS: Quotas = Object.freeze({ datastoresPerWorkspace: 100, workspacesPerUser: 20 });

export interface WebhookSettings {
  /** Deliver to loopback, private, link-local and other non-public addresses too (BATCHGATE_WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  /** When set, the only host names (or `*.suffix` patterns) a webhook URL may have (BATCHGATE_WEBHOOK_ALLOWED_HOSTS). */
  allowedHosts: readonly string[] | null;
}

export const DEFAULT_SETTINGS: Settings = Object.freeze({
  scheduleUtcOffsetMinutes: 0,
  secretKey: null,
  webhooks: Object.freeze({ allowPrivate: false, allowedHosts: null }),
  connectionSources: null,
  quotas: DEFAULT_QUOTAS,
  queryTimeoutMs: DEFAULT_QUERY_TIMEOUT_MS,
});

/** Runs `fn` in a transaction, or in the caller's transaction when there already is one. */
export async function withTx<T>(ctx: Ctx, fn: (tx: Ctx) => Promise<T>): Promise<T> {
  if (ctx.db.isTransaction) return fn(ctx);
  return ctx.db.transaction().execute((trx) => fn({ ...ctx, db: trx }));
}
