import type { Ctx } from '../../core/context.ts';

/**
 * Extends the lease, fenced by owner. Also the first statement of every slice transaction: on PostgreSQL it
 * takes the chunk's row lock, so a reaper or a cancel cannot change the chunk under a slice in progress.
 * False means the lease is lost (reaped, cancelled or taken over): the caller must stop and roll back.
 */
export async function heartbeat(ctx: Ctx, chunkId: string, owner: string, leaseMs: number): Promise<boolean> {
  const res = await ctx.db
    .updateTable('work_chunk')
    .set({ lease_until: ctx.now() + leaseMs })
    .where('id', '=', chunkId)
    .where('lease_owner', '=', owner)
    .where('state', '=', 'running')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
