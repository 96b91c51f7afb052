/**
 * States. The closed set of values of every state column comes first: the row types (src/db/schema.ts) are typed
 * by them, the migrations' CHECK constraints hold the same lists, and the API publishes them (src/api/schemas.ts).
 * The named sets after them (runnable, terminal, …) say what each state allows. This file imports nothing, so
 * every layer, the row types included, may use it.
 *
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
export const BATCH_STATES = Object.freeze([
  'queued',
  'scheduled',
  'running',
  'paused',
  'succeeded',
  'completed_with_errors',
  'failed',
  'cancelled',
] as const);
export type BatchState = (typeof BATCH_STATES)[number];

/** Chunk (lease unit) states: ready ──claim──► running ──complete──► done; running ──release/reap──► ready. */
export const CHUNK_STATES = Object.freeze(['ready', 'running', 'done'] as const);
export type ChunkState = (typeof CHUNK_STATES)[number];

/** Batch-item states; `pending` until its chunk runs it, then the outcome of its operation. */
export const ITEM_STATES = Object.freeze(['pending', 'succeeded', 'failed', 'skipped'] as const);
export type ItemState = (typeof ITEM_STATES)[number];

/**
 * Ticket states. A ticket opens `pending` when an action that needs approval runs; deciding it is a
 * conditional update `where state = 'pending'` whose row count is checked.
 *
 *   pending --approve--> approved    item moves to the action's `to`, set_fields applied
 *   pending --reject---> rejected    item moves to the reject status, or back where it was
 *   pending --withdraw-> withdrawn   item moves back where it was (the submitter or an admin)
 *   pending --close----> closed      the item was deleted
 */
export const TICKET_STATES = Object.freeze(['pending', 'approved', 'rejected', 'withdrawn', 'closed'] as const);
export type TicketState = (typeof TICKET_STATES)[number];

/**
 * Webhook delivery states. Every change is a conditional update fenced by state (and by lease owner while sending).
 *
 *   pending ──claim──► sending ──2xx──► succeeded
 *   sending ──failed, attempts < max──► pending (next_attempt_at = now + backoff with jitter)
 *   sending ──failed, attempts = max──► dead
 *   sending ──lease expired (the sender died)──► claimed again as if pending
 *   any ──redeliver──► a new pending delivery of the same event (redelivery_of = the old one)
 */
export const DELIVERY_STATES = Object.freeze(['pending', 'sending', 'succeeded', 'dead'] as const);
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * Invitation states as stored. `declined` is kept apart from `pending` only in the row: the API shows a declined
 * invitation as pending until it expires (src/core/invitations.ts), and `expired` is computed, never stored.
 */
export const INVITATION_STATES = Object.freeze(['pending', 'accepted', 'declined', 'revoked'] as const);
export type InvitationRowState = (typeof INVITATION_STATES)[number];

/** Whether `value` is one of `states` (a filter taken as plain text, say). */
export function isState<S extends string>(states: readonly S[], value: string): value is S {
  return (states as readonly string[]).includes(value);
}

/** States in which workers take the batch's chunks (and in which a batch whose chunks are all done is ended). */
export const RUNNABLE: readonly BatchState[] = Object.freeze(['queued', 'scheduled', 'running']);
/** States a claim moves to `running`. */
export const STARTABLE: readonly BatchState[] = Object.freeze(['queued', 'scheduled']);
/** States a batch never leaves but by a retry: its counts are final. */
export const TERMINAL: readonly BatchState[] = Object.freeze([
  'succeeded',
  'completed_with_errors',
  'failed',
  'cancelled',
]);
/** Every state but the terminal ones: the batch can still be cancelled, rethrottled or reprioritized. */
export const CANCELLABLE: readonly BatchState[] = Object.freeze(['queued', 'scheduled', 'running', 'paused']);
export const PAUSABLE: readonly BatchState[] = RUNNABLE;
export const RETRYABLE: readonly BatchState[] = Object.freeze(['completed_with_errors', 'failed']);
/** States a batch can be reverted from: whatever it changed is final. */
export const REVERTIBLE: readonly BatchState[] = TERMINAL;

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

/**
 * A batch's weight in the fair share of workers (src/engine/sql/claim-chunk.ts): among batches with work ready,
 * each gets chunks in proportion to its priority. 10 is normal; 1 is background work that takes a tenth of a
 * normal batch's share; 100 takes ten times it.
 */
export const PRIORITY = Object.freeze({ min: 1, max: 100, default: 10 });
