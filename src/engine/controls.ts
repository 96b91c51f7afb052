import { sql } from 'kysely';
import { withTx, type Ctx } from '../core/context.ts';
import { fail } from '../errors.ts';
import { CANCELLABLE, PAUSABLE, RETRYABLE, type BatchState } from '../core/states.ts';
import { findBatch, toBatch, type Batch } from './batches.ts';
import { finalizeIfDone } from './finalize-if-done.ts';
import { emitBatchEnd, emitBatchEvent } from './webhooks/batch-events.ts';
import { lowestPassSql } from './sql/lowest-pass.ts';
import { checkPriority } from './submit.ts';

/** Moves the batch from one of `from` to `to` and returns it so, or answers BATCH_STATE naming the state it is in. */
async function transition(
  ctx: Ctx,
  batch: Batch,
  from: readonly BatchState[],
  to: BatchState,
  extra: Record<string, unknown> = {},
): Promise<Batch> {
  const row = await ctx.db
    .updateTable('batch')
    .set({ state: to, updated_at: ctx.now(), ...extra })
    .where('id', '=', batch.id)
    .where('state', 'in', [...from])
    .returningAll()
    .executeTakeFirst();
  if (!row) {
    const now = await findBatch(ctx, batch.id);
    fail('BATCH_STATE', `The batch is ${now?.state ?? batch.state}; this needs one of ${from.join(', ')}.`);
  }
  return toBatch(ctx, row);
}

/**
 * Stops the batch for good: items not yet run are skipped (BATCH_CANCELLED), done ones stay done. One short
 * transaction on the batch row alone, whatever the batch's size: the items not yet run are counted as skipped on
 * the batch (total − succeeded − failed) but their rows are not rewritten (readers show them as skipped:
 * batch-items.ts cancelledUnrun), and the chunks are left to the workers (sql/retire-cancelled-chunks.ts).
 * Rewriting every pending row took 20 s for a 1M-item batch on PostgreSQL. Like a pause, the cancel takes the
 * batch row FOR UPDATE, so it waits for the slices in flight (run-chunk.ts holdBatch) and the counters it reads
 * are final. The batch.finished event, with the final counts, commits with it.
 */
export async function cancelBatch(ctx: Ctx, batch: Batch): Promise<Batch> {
  await withTx(ctx, async (tx) => {
    if (tx.caps.rowLocks) await tx.db.selectFrom('batch').select('id').where('id', '=', batch.id).forUpdate().execute();
    const cancelled = await transition(tx, batch, CANCELLABLE, 'cancelled', {
      finished_at: tx.now(),
      skipped: sql`total - succeeded - failed`,
    });
    await emitBatchEnd(tx, cancelled);
  });
  return logged(ctx, batch.id, 'batch cancelled');
}

/**
 * A batch cancelled by an earlier batchgate, which skipped the items step by step and died before the last step:
 * its remaining pending items are counted as skipped, as a cancel does now, and its end is announced.
 */
export async function settleCancelled(ctx: Ctx, batchId: string): Promise<void> {
  await withTx(ctx, async (tx) => {
    const row = await tx.db
      .updateTable('batch')
      .set({ skipped: sql`total - succeeded - failed`, updated_at: tx.now() })
      .where('id', '=', batchId)
      .where('state', '=', 'cancelled')
      .where(sql<boolean>`total > succeeded + failed + skipped`)
      .returningAll()
      .executeTakeFirst();
    if (row) await emitBatchEnd(tx, toBatch(tx, row));
  });
}

/**
 * Workers stop taking the batch's chunks; one in hand is released after its current slice. The pause waits for the
 * slices in flight (each holds the batch row in KEY SHARE mode: run-chunk.ts holdBatch), so once it answers no
 * item of the batch changes any more, and its counters are final until it is resumed.
 */
export async function pauseBatch(ctx: Ctx, batch: Batch): Promise<Batch> {
  await withTx(ctx, async (tx) => {
    if (tx.caps.rowLocks) await tx.db.selectFrom('batch').select('id').where('id', '=', batch.id).forUpdate().execute();
    const paused = await transition(tx, batch, PAUSABLE, 'paused');
    await emitBatchEvent(tx, 'batch.paused', paused);
  });
  return logged(ctx, batch.id, 'batch paused');
}

export async function resumeBatch(ctx: Ctx, batch: Batch): Promise<Batch> {
  await withTx(ctx, async (tx) => {
    // Back level with the batches that ran meanwhile (claim-chunk.ts): no catch-up burst, no queueing behind them.
    await transition(tx, batch, ['paused'], 'queued', {
      pass: sql`coalesce(${lowestPassSql(batch.id)}, pass)`,
      base_pass: sql`coalesce(${lowestPassSql(batch.id)}, pass)`,
    });
    // Paused right as its last chunk finished: nothing is left to claim, so end it here.
    await finalizeIfDone(tx, batch.id);
  });
  return logged(ctx, batch.id, 'batch resumed');
}

/** The batch after a control, with one info line saying what happened to it. */
async function logged(ctx: Ctx, batchId: string, msg: string): Promise<Batch> {
  const b = (await findBatch(ctx, batchId))!;
  ctx.log.info({ batch_id: b.id, state: b.state, attempt: b.attempt, pending: b.pending }, msg);
  return b;
}

/**
 * Runs the failed items again in the same batch. Each one's earlier error is kept in batch_item_attempt (and
 * shown as `previous_errors`); succeeded and skipped items are not touched.
 */
export async function retryBatch(ctx: Ctx, batch: Batch): Promise<Batch> {
  await withTx(ctx, async (tx) => {
    const now = tx.now();
    const current = (await findBatch(tx, batch.id))!;
    if (!RETRYABLE.includes(current.state))
      fail('BATCH_STATE', `The batch is ${current.state}; only ${RETRYABLE.join(' or ')} batches can be retried.`);
    if (current.items_purged_at !== null)
      fail('ITEMS_PURGED', 'The failed items of this batch were purged by retention; submit a new batch instead.');
    if (current.failed === 0) fail('BATCH_STATE', 'The batch has no failed items to retry.');
    await tx.db
      .insertInto('batch_item_attempt')
      .columns(['batch_id', 'seq', 'attempt', 'error_code', 'error_message', 'finished_at'])
      .expression((eb) =>
        eb
          .selectFrom('batch_item')
          .select(['batch_id', 'seq', 'attempts', 'error_code', 'error_message', 'updated_at'])
          .where('batch_id', '=', batch.id)
          .where('state', '=', 'failed'),
      )
      .onConflict((oc) => oc.doNothing())
      .execute();
    const res = await tx.db
      .updateTable('batch_item')
      .set({ state: 'pending', error_code: null, error_message: null, updated_at: now })
      .where('batch_id', '=', batch.id)
      .where('state', '=', 'failed')
      .executeTakeFirst();
    const n = Number(res.numUpdatedRows);
    await tx.db
      .updateTable('work_chunk')
      .set({ state: 'ready', lease_owner: null, lease_until: null, attempts: 0 })
      .where('batch_id', '=', batch.id)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('batch_item as bi')
            .select('bi.seq')
            .where('bi.batch_id', '=', batch.id)
            .where('bi.state', '=', 'pending')
            .whereRef('bi.seq', '>=', 'work_chunk.seq_from')
            .whereRef('bi.seq', '<=', 'work_chunk.seq_to'),
        ),
      )
      .execute();
    // Conditional, and checked: a purge that marked the batch since it was read above makes this retry roll back.
    const requeued = await tx.db
      .updateTable('batch')
      .set((eb) => ({
        state: 'queued',
        failed: eb('failed', '-', n),
        attempt: eb('attempt', '+', 1),
        error: null,
        finished_at: null,
        not_before: now,
        updated_at: now,
        pass: sql<number>`coalesce(${lowestPassSql(batch.id)}, pass)`,
        base_pass: sql<number>`coalesce(${lowestPassSql(batch.id)}, pass)`,
      }))
      .where('id', '=', batch.id)
      .where('state', 'in', RETRYABLE)
      .where('items_purged_at', 'is', null)
      .executeTakeFirst();
    if (Number(requeued.numUpdatedRows) !== 1)
      fail('BATCH_STATE', 'The batch changed while it was being retried; read it again.');
  });
  return logged(ctx, batch.id, 'batch retried');
}

/** Changes the batch's share of workers while it has work left; it takes effect at the next claim. */
export async function reprioritizeBatch(ctx: Ctx, batch: Batch, priority: number): Promise<Batch> {
  checkPriority(priority);
  const res = await ctx.db
    .updateTable('batch')
    .set({ priority, updated_at: ctx.now() })
    .where('id', '=', batch.id)
    .where('state', 'in', CANCELLABLE)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) fail('BATCH_STATE', 'Only a batch that has not finished can be reprioritized.');
  return (await findBatch(ctx, batch.id))!;
}

/** Changes the rate while running (null: unlimited). Faster takes effect at once, like Elasticsearch's _rethrottle. */
export async function rethrottleBatch(ctx: Ctx, batch: Batch, maxRate: number | null): Promise<Batch> {
  const now = ctx.now();
  const res = await ctx.db
    .updateTable('batch')
    .set({
      max_rate: maxRate,
      // A wait computed at the old rate must not hold back the new one; a schedule stays as it is.
      not_before: sql`case when state <> 'scheduled' and not_before > ${now} then ${now} else not_before end`,
      updated_at: now,
    })
    .where('id', '=', batch.id)
    .where('state', 'in', CANCELLABLE)
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) fail('BATCH_STATE', 'Only a batch that has not finished can be rethrottled.');
  return logged(ctx, batch.id, 'batch rethrottled');
}
