import type { Ctx } from '../../core/context.ts';

/** Marks the chunk done, fenced by owner; a false return means another worker owns it now. */
export async function completeChunk(ctx: Ctx, chunkId: string, owner: string): Promise<boolean> {
  const res = await ctx.db
    .updateTable('work_chunk')
    .set({ state: 'done', lease_owner: null, lease_until: null })
    .where('id', '=', chunkId)
    .where('lease_owner', '=', owner)
    .where('state', '=', 'running')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
