import type { Ctx } from '../../core/context.ts';

/**
 * Gives up on a chunk that failed MAX_CHUNK_ATTEMPTS times with an unexpected error (not a per-item failure):
 * its pending items fail with INTERNAL, the error is kept on the batch (which therefore ends `failed`), and the
 * chunk is done so the batch still reaches a terminal state. Fenced by owner like every chunk statement: answers
 * how many items it failed, or null when another worker owns the chunk now.
 */
export async function failChunk(
  ctx: Ctx,
  chunk: { id: string; batch_id: string; seq_from: number; seq_to: number },
  owner: string,
  error: string,
): Promise<number | null> {
  const now = ctx.now();
  const fenced = await ctx.db
    .updateTable('work_chunk')
    .set({ state: 'done', lease_owner: null, lease_until: null })
    .where('id', '=', chunk.id)
    .where('lease_owner', '=', owner)
    .where('state', '=', 'running')
    .executeTakeFirst();
  if (Number(fenced.numUpdatedRows) !== 1) return null;
  const res = await ctx.db
    .updateTable('batch_item')
    .set({
      state: 'failed',
      error_code: 'INTERNAL',
      error_message: `The engine could not run this item: ${error}`.slice(0, 1000),
      updated_at: now,
    })
    .where('batch_id', '=', chunk.batch_id)
    .where('seq', '>=', chunk.seq_from)
    .where('seq', '<=', chunk.seq_to)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  await ctx.db
    .updateTable('batch')
    .set((eb) => ({
      failed: eb('failed', '+', Number(res.numUpdatedRows)),
      error: error.slice(0, 1000),
      updated_at: now,
    }))
    .where('id', '=', chunk.batch_id)
    .execute();
  return Number(res.numUpdatedRows);
}
