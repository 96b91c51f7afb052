import pino, { type Logger } from 'pino';
import type { OpenDb } from '../db/open-db.ts';
import { makeIdGenerator } from '../ids.ts';
import { makeMetrics } from '../metrics.ts';
import { DEFAULT_SETTINGS, type Ctx, type Settings } from './context.ts';

export function makeCtx(opened: OpenDb, log: Logger = pino({ level: 'silent' }), settings: Settings = DEFAULT_SETTINGS): Ctx {
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
  };
}
