import type { Ctx } from '../../core/context.ts';

/**
 * Marks done the chunks a cancel left behind. A cancel changes only the batch row, so that it costs the same for
 * 10 chunks and for 1000 (controls.ts cancelBatch); nothing claims those chunks meanwhile (a claim only looks at
 * the chunks of runnable batches), and a slice in hand marks its own chunk done when it finds its batch ended.
 * This tidies the rest, a few batches per call, from the workers' maintenance; answers how many it marked.
 */
export async function retireCancelledChunks(ctx: Ctx, batches = 10): Promise<number> {
  const ended = await ctx.db
    .selectFrom('work_chunk as c')
    .innerJoin('batch as b', 'b.id', 'c.batch_id')
    .select('c.batch_id')
    .distinct()
    .where('c.state', '=', 'ready')
    .where('b.state', '=', 'cancelled')
    .limit(batches)
    .execute();
  if (ended.length === 0) return 0;
  const res = await ctx.db
    .updateTable('work_chunk')
    .set({ state: 'done', lease_owner: null, lease_until: null })
    .where(
      'batch_id',
      'in',
      ended.map((e) => e.batch_id),
    )
    .where('state', '=', 'ready')
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
