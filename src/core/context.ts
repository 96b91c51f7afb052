import type { Logger } from 'pino';
import type { Capabilities } from '../db/capabilities.ts';
import type { BulkWriter } from '../db/bulk-writer.ts';
import type { Db } from '../db/open-db.ts';
import type { IdGenerator } from '../ids.ts';

/**
 * What every core and engine function takes as its first argument: the database (or a transaction on it),
 * its capabilities, the id generator, the clock and a logger. Nothing in src/core reaches for a global.
 */
export interface Ctx {
  readonly db: Db;
  readonly caps: Capabilities;
  readonly bulk: BulkWriter;
  readonly ids: IdGenerator;
  readonly log: Logger;
  now(): number;
  /** Service settings from the environment that change behaviour (README: Configuration). */
  readonly settings: Settings;
  /** Datastore definitions are immutable once created, so they are cached per process. */
  readonly cache: Map<string, unknown>;
}

export interface Settings {
  /** Minutes east of UTC for DataArts schedule_time "MM_HH". */
  scheduleUtcOffsetMinutes: number;
}

export const DEFAULT_SETTINGS: Settings = Object.freeze({ scheduleUtcOffsetMinutes: 0 });

/** Runs `fn` in a transaction, or in the caller's transaction when there already is one. */
export async function withTx<T>(ctx: Ctx, fn: (tx: Ctx) => Promise<T>): Promise<T> {
  if (ctx.db.isTransaction) return fn(ctx);
  return ctx.db.transaction().execute((trx) => fn({ ...ctx, db: trx }));
}
