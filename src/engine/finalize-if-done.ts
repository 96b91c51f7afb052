import { sql } from 'kysely';
import { withTx, type Ctx } from '../core/context.ts';
import { RUNNABLE } from '../core/states.ts';
import { toBatch } from './batches.ts';
import { emitBatchEnd } from './webhooks/batch-events.ts';

/**
 * Ends a runnable batch whose chunks are all done. Runs as its own statement after the slice has bumped the
 * batch counters: that UPDATE holds the batch row lock until commit, so on PostgreSQL two workers finishing the
 * last two chunks are serialised and the second one's fresh snapshot sees the first one's chunk done. The
 * batch.finished (or batch.failed) webhook event commits with the state change.
 *
 * Logs "batch finished" here, inside the transaction, so no path that ends a batch (last slice, failed chunk,
 * resume, the straggler sweep) can skip it: a commit that then fails makes the next worker finish the batch
 * again, which repeats the line but never loses it.
 */
export async function finalizeIfDone(ctx: Ctx, batchId: string): Promise<boolean> {
  return withTx(ctx, async (tx) => {
    const now = tx.now();
    const ended = await tx.db
      .updateTable('batch')
      .set({
        state: sql`case when error is not null then 'failed' when failed > 0 then 'completed_with_errors' else 'succeeded' end`,
        finished_at: now,
        updated_at: now,
      })
      .where('id', '=', batchId)
      .where('state', 'in', RUNNABLE)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb.selectFrom('work_chunk').select('id').where('batch_id', '=', batchId).where('state', '<>', 'done'),
          ),
        ),
      )
      .returningAll()
      .executeTakeFirst();
    if (!ended) return false;
    await emitBatchEnd(tx, toBatch(tx, ended));
    const { state, total, succeeded, failed, skipped, started_at, attempt } = ended;
    tx.log.info(
      {
        batch_id: batchId,
        state,
        total,
        succeeded,
        failed,
        skipped,
        attempt,
        duration_ms: started_at === null ? null : now - started_at,
      },
      'batch finished',
    );
    return true;
  });
}
