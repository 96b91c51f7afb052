import { sql } from 'kysely';
import type { Ctx } from '../../core/context.ts';

/**
 * Gives a leased chunk back (pause, shutdown, or a failed attempt): it becomes ready for any worker.
 * `countAttempt: false` undoes the claim's attempt count, so pauses and shutdowns never exhaust a chunk.
 */
export async function releaseChunk(ctx: Ctx, chunkId: string, owner: string, countAttempt: boolean): Promise<boolean> {
  const res = await ctx.db
    .updateTable('work_chunk')
    .set({
      state: 'ready',
      lease_owner: null,
      lease_until: null,
      ...(countAttempt ? {} : { attempts: sql`attempts - 1` }),
    })
    .where('id', '=', chunkId)
    .where('lease_owner', '=', owner)
    .where('state', '=', 'running')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
