/**
 * Batch states. Every transition is a conditional UPDATE `where state in (…)` whose row count is checked.
 *
 *   submit ─────────────► queued ──claim──► running ──last chunk done──► succeeded | completed_with_errors
 *   submit (start_at) ──► scheduled ──claim at start_at──► running
 *   submit (no targets) ► succeeded
 *   queued | scheduled | running ──pause──► paused ──resume──► queued
 *   queued | scheduled | running | paused ──cancel──► cancelled   (pending items → skipped, BATCH_CANCELLED)
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
export const TERMINAL: readonly BatchState[] = Object.freeze(['succeeded', 'completed_with_errors', 'failed', 'cancelled']);
export const CANCELLABLE: readonly BatchState[] = Object.freeze(['queued', 'scheduled', 'running', 'paused']);
export const PAUSABLE: readonly BatchState[] = Object.freeze(['queued', 'scheduled', 'running']);
export const RETRYABLE: readonly BatchState[] = Object.freeze(['completed_with_errors', 'failed']);

export const OPERATIONS = Object.freeze(['action', 'approve', 'reject', 'withdraw', 'update'] as const);
export type Operation = (typeof OPERATIONS)[number];

/** Chunk (lease unit) states: ready ──claim──► running ──complete──► done; running ──release/reap──► ready. */
export const CHUNK_STATES = Object.freeze({ ready: 'ready', running: 'running', done: 'done' } as const);

/** Batch-item states; `pending` until its chunk runs it. */
export const ITEM_STATES = Object.freeze({ pending: 'pending', succeeded: 'succeeded', failed: 'failed', skipped: 'skipped' } as const);
export type ItemState = (typeof ITEM_STATES)[keyof typeof ITEM_STATES];
