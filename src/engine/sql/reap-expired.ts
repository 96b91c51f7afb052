import type { Ctx } from '../../core/context.ts';

/**
 * Returns chunks whose lease ran out (their worker died or hung) to `ready`, and answers which ones. What the dead
 * worker committed stays committed, slice by slice; the next owner runs only the chunk's still-pending items.
 */
export async function reapExpired(ctx: Ctx): Promise<{ id: string; batch_id: string; lease_owner: string | null }[]> {
  const expired = await ctx.db
    .selectFrom('work_chunk')
    .select(['id', 'batch_id', 'lease_owner'])
    .where('state', '=', 'running')
    .where('lease_until', '<', ctx.now())
    .execute();
  if (expired.length === 0) return [];
  // Fenced on the owner and lease seen above: a chunk renewed or reaped by another process in between is not
  // reaped (or counted) twice.
  const reaped = [];
  for (const c of expired) {
    const res = await ctx.db
      .updateTable('work_chunk')
      .set({ state: 'ready', lease_owner: null, lease_until: null })
      .where('id', '=', c.id)
      .where('state', '=', 'running')
      .where('lease_owner', '=', c.lease_owner)
      .where('lease_until', '<', ctx.now())
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 1) reaped.push(c);
  }
  return reaped;
}
