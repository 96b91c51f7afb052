import { sql } from 'kysely';
import { withTx, type Ctx } from '../core/context.ts';
import { Errors, fail } from '../errors.ts';
import { CANCELLABLE, PAUSABLE, RETRYABLE, type BatchState } from './batch-states.ts';
import { finalizeIfDone, findBatch, type Batch } from './batches.ts';

/** Moves the batch from one of `from` to `to`, or answers BATCH_STATE naming the state it is in. */
async function transition(ctx: Ctx, batch: Batch, from: readonly BatchState[], to: BatchState, extra: Record<string, unknown> = {}): Promise<void> {
  const res = await ctx.db
    .updateTable('batch')
    .set({ state: to, updated_at: ctx.now(), ...extra })
    .where('id', '=', batch.id)
    .where('state', 'in', [...from])
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) {
    const now = await findBatch(ctx, batch.id);
    fail('BATCH_STATE', `The batch is ${now?.state ?? batch.state}; this needs one of ${from.join(', ')}.`);
  }
}

/** Stops the batch for good: items not yet run are skipped (BATCH_CANCELLED), done ones stay done. */
export async function cancelBatch(ctx: Ctx, batch: Batch): Promise<Batch> {
  await withTx(ctx, async (tx) => {
    const now = tx.now();
    // Lock order is chunk, then batch, as in a worker's slice (its heartbeat fence locks the chunk, its counter
    // update the batch): the other order deadlocked on PostgreSQL. Waiting on a chunk means waiting for the
    // slice in progress to commit; the worker's next fence then fails and it stops.
    await tx.db.updateTable('work_chunk').set({ state: 'done', lease_owner: null, lease_until: null }).where('batch_id', '=', batch.id).where('state', '<>', 'done').execute();
    await transition(tx, batch, CANCELLABLE, 'cancelled', { finished_at: now });
    const res = await tx.db
      .updateTable('batch_item')
      .set({ state: 'skipped', error_code: Errors.BATCH_CANCELLED.code, error_message: Errors.BATCH_CANCELLED.message, updated_at: now })
      .where('batch_id', '=', batch.id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    await tx.db
      .updateTable('batch')
      .set((eb) => ({ skipped: eb('skipped', '+', Number(res.numUpdatedRows)) }))
      .where('id', '=', batch.id)
      .execute();
  });
  return (await findBatch(ctx, batch.id))!;
}

/** Workers stop taking the batch's chunks; one in hand is released after its current slice. */
export async function pauseBatch(ctx: Ctx, batch: Batch): Promise<Batch> {
  await transition(ctx, batch, PAUSABLE, 'paused');
  return (await findBatch(ctx, batch.id))!;
}

export async function resumeBatch(ctx: Ctx, batch: Batch): Promise<Batch> {
  await withTx(ctx, async (tx) => {
    await transition(tx, batch, ['paused'], 'queued');
    // Paused right as its last chunk finished: nothing is left to claim, so end it here.
    await finalizeIfDone(tx, batch.id);
  });
  return (await findBatch(ctx, batch.id))!;
}

/**
 * Runs the failed items again in the same batch. Each one's earlier error is kept in batch_item_attempt (and
 * shown as `previous_errors`); succeeded and skipped items are not touched.
 */
export async function retryBatch(ctx: Ctx, batch: Batch): Promise<Batch> {
  await withTx(ctx, async (tx) => {
    const now = tx.now();
    const current = (await findBatch(tx, batch.id))!;
    if (!RETRYABLE.includes(current.state)) fail('BATCH_STATE', `The batch is ${current.state}; only ${RETRYABLE.join(' or ')} batches can be retried.`);
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
    await tx.db
      .updateTable('batch')
      .set((eb) => ({ state: 'queued', failed: eb('failed', '-', n), attempt: eb('attempt', '+', 1), error: null, finished_at: null, not_before: now, updated_at: now }))
      .where('id', '=', batch.id)
      .where('state', 'in', [...RETRYABLE])
      .execute();
  });
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
    .where('state', 'in', ['queued', 'scheduled', 'running', 'paused'])
    .executeTakeFirst();
  if (Number(res.numUpdatedRows) !== 1) fail('BATCH_STATE', 'Only a batch that has not finished can be rethrottled.');
  return (await findBatch(ctx, batch.id))!;
}
