import type { Ctx } from '../../core/context.ts';
import { writeOutbox } from '../../core/webhooks/outbox.ts';
import type { Batch } from '../batches.ts';

type BatchEventType = 'batch.created' | 'batch.started' | 'batch.paused' | 'batch.finished' | 'batch.failed';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The batch in a webhook body: its state and counts at the moment of the event. */
function batchObject(b: Batch) {
  return {
    id: b.id,
    operation: b.operation,
    state: b.state,
    source: b.source,
    dry_run: b.dry_run,
    notify: b.params.notify !== false,
    total: b.total,
    succeeded: b.succeeded,
    failed: b.failed,
    skipped: b.skipped,
    pending: b.pending,
    attempt: b.attempt,
    error: b.error,
    submitted_by: b.submitted_by,
    group_id: b.group_id,
    created_at: iso(b.created_at),
    started_at: iso(b.started_at),
    finished_at: iso(b.finished_at),
  };
}

/**
 * A batch event into the outbox, in the transaction of the state change it reports. Batch events are sent
 * whatever the batch's `notify` says: that switch only silences the per-item ticket events.
 */
export async function emitBatchEvent(ctx: Ctx, type: BatchEventType, batch: Batch): Promise<void> {
  await writeOutbox(ctx, batch.workspace_id, [type], () => [
    { type, batchId: batch.id, data: { batch: batchObject(batch) } },
  ]);
}

/** The event of a batch that reached a terminal state: `batch.failed` for `failed`, else `batch.finished`. */
export function emitBatchEnd(ctx: Ctx, batch: Batch): Promise<void> {
  return emitBatchEvent(ctx, batch.state === 'failed' ? 'batch.failed' : 'batch.finished', batch);
}
