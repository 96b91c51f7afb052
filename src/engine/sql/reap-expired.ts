import type { Ctx } from '../../core/context.ts';

/**
 * Returns chunks whose lease ran out (their worker died or hung) to `ready`. What the dead worker committed
 * stays committed, slice by slice; the next owner runs only the chunk's still-pending items.
 */
export async function reapExpired(ctx: Ctx): Promise<number> {
  const res = await ctx.db
    .updateTable('work_chunk')
    .set({ state: 'ready', lease_owner: null, lease_until: null })
    .where('state', '=', 'running')
    .where('lease_until', '<', ctx.now())
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
