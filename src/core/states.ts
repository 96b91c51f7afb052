/**
 * Batch states. Every transition is a conditional UPDATE `where state in (…)` whose row count is checked.
 *
 *   submit ─────────────► queued ──claim──► running ──last chunk done──► succeeded | completed_with_errors
 *   submit (start_at) ──► scheduled ──claim at start_at──► running
 *   submit (no targets) ► succeeded
 *   queued | scheduled | running ──pause──► paused ──resume──► queued
 *   queued | scheduled | running | paused ──cancel──► cancelled   (pending items count as skipped, BATCH_CANCELLED)
 *   running ──a chunk fails MAX_CHUNK_ATTEMPTS times──► failed      (its pending items → failed, INTERNAL)
 *   completed_with_errors | failed ──retry──► queued                (failed items only → pending)
 */
export const BATCH_STATES = Object.freeze({
  queued: 'queued',
  scheduled: 'scheduled',
  running: 'running',
  paused: 'paused',
  succeeded: 'succeeded',
  completed_with_errors: 'completed_with_errors',
  failed: 'failed',
  cancelled: 'cancelled',
} as const);
export type BatchState = (typeof BATCH_STATES)[keyof typeof BATCH_STATES];

/** States in which workers take the batch's chunks. */
export const RUNNABLE: readonly BatchState[] = Object.freeze(['queued', 'scheduled', 'running']);
export const TERMINAL: readonly BatchState[] = Object.freeze([
  'succeeded',
  'completed_with_errors',
  'failed',
  'cancelled',
]);
export const CANCELLABLE: readonly BatchState[] = Object.freeze(['queued', 'scheduled', 'running', 'paused']);
export const PAUSABLE: readonly BatchState[] = Object.freeze(['queued', 'scheduled', 'running']);
export const RETRYABLE: readonly BatchState[] = Object.freeze(['completed_with_errors', 'failed']);

/**
 * `max_rate` (items/s) a batch may take. Below 0.001 (one item per ~17 minutes) a rate is not a throttle but a
 * stop, and PostgreSQL's `real` column cannot hold it anyway (values under ~1e-37 are refused, which turned a
 * 1e-237 rate into a 500); above 1,000,000 it is no limit at all.
 */
export const MAX_RATE_RANGE = Object.freeze({ minimum: 0.001, maximum: 1_000_000 });

/** Operations on items and tickets: what POST /batches takes. */
export const OPERATIONS = Object.freeze(['action', 'approve', 'reject', 'withdraw', 'update'] as const);
/**
 * Operations on DataArts models, submitted through their own routes (src/engine/model-ops): a reverse's targets
 * are source table names, a transform's are logical entity ids; each creates or updates TABLE_MODEL entities.
 */
export const MODEL_OPERATIONS = Object.freeze(['reverse_db', 'transform_model'] as const);
export type ModelOperation = (typeof MODEL_OPERATIONS)[number];
export type Operation = (typeof OPERATIONS)[number] | ModelOperation | 'revert';

export function isModelOperation(op: string): op is ModelOperation {
  return (MODEL_OPERATIONS as readonly string[]).includes(op);
}

/** States a batch can be reverted from: whatever it changed is final. */
export const REVERTIBLE: readonly BatchState[] = Object.freeze([
  'succeeded',
  'completed_with_errors',
  'failed',
  'cancelled',
]);

/**
 * A batch's weight in the fair share of workers (src/engine/sql/claim-chunk.ts): among batches with work ready,
 * each gets chunks in proportion to its priority. 10 is normal; 1 is background work that takes a tenth of a
 * normal batch's share; 100 takes ten times it.
 */
export const PRIORITY = Object.freeze({ min: 1, max: 100, default: 10 });

/** Chunk (lease unit) states: ready ──claim──► running ──complete──► done; running ──release/reap──► ready. */
export const CHUNK_STATES = Object.freeze({ ready: 'ready', running: 'running', done: 'done' } as const);

/** Batch-item states; `pending` until its chunk runs it. */
export const ITEM_STATES = Object.freeze({
  pending: 'pending',
  succeeded: 'succeeded',
  failed: 'failed',
  skipped: 'skipped',
} as const);
export type ItemState = (typeof ITEM_STATES)[keyof typeof ITEM_STATES];
