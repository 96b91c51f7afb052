import pino, { type Logger } from 'pino';
import type { OpenDb } from '../db/open-db.ts';
import { directReader } from '../db/query-limits.ts';
import { makeIdGenerator } from '../ids.ts';
import { makeMetrics } from '../metrics.ts';
import { DEFAULT_SETTINGS, type Ctx, type Settings } from './context.ts';

export function makeCtx(
  opened: OpenDb,
  log: Logger = pino({ level: 'silent' }),
  settings: Settings = DEFAULT_SETTINGS,
): Ctx {
  return {
    db: opened.db,
    caps: opened.caps,
    bulk: opened.bulk,
    ids: makeIdGenerator(),
    log,
    now: () => Date.now(),
    cache: new Map(),
    settings,
    metrics: makeMetrics(opened.db, log),
    ownDatabase: opened.location,
    reader: directReader,
  };
}

/**
 * The context routes run in: every query under BATCHGATE_QUERY_TIMEOUT_MS (settings.queryTimeoutMs), and
 * searches off SQLite's event loop (src/db/query-limits.ts). Background work keeps `ctx` as it is.
 */
export function requestCtx(ctx: Ctx, opened: OpenDb): Ctx {
  const limits = opened.limits(ctx.settings.queryTimeoutMs);
  return { ...ctx, db: limits.db, reader: limits.reader };
}
