import { sql } from 'kysely';
import type { Ctx } from '../../core/context.ts';

/**
 * Gives back every chunk still leased to `owner`, a worker loop that holds none at this moment. They exist when
 * the database took a statement the loop never heard back from: a claim whose reply was cut by a lost connection,
 * or a slice whose acknowledged COMMIT a crashed PostgreSQL did not keep (synchronous_commit off, or a failover to
 * an asynchronous standby). Waiting for their lease to lapse stalled the batch a whole lease (30 s by default).
 * The claim's attempt is undone: the chunk did not fail.
 */
export async function releaseLeftovers(ctx: Ctx, owner: string): Promise<number> {
  const res = await ctx.db
    .updateTable('work_chunk')
    .set({ state: 'ready', lease_owner: null, lease_until: null, attempts: sql`attempts - 1` })
    .where('state', '=', 'running')
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}
