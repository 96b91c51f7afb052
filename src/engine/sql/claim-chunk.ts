import { sql } from 'kysely';
import type { Ctx } from '../../core/context.ts';
import type { WorkChunkRow } from '../../db/schema.ts';

/**
 * Leases one ready chunk of a runnable batch whose `not_before` has come (schedule and rate limit), oldest
 * batch first. PostgreSQL takes it with FOR UPDATE SKIP LOCKED, so concurrent workers never wait on or take the
 * same chunk; SQLite has one writer, so the plain sub-select is already exclusive (measured: three concurrent
 * claims got three different rows on both, reference/stack.md §1.2).
 */
export async function claimChunk(
  ctx: Ctx,
  owner: string,
  leaseMs: number,
  opts: { batchId?: string } = {},
): Promise<WorkChunkRow | null> {
  const now = ctx.now();
  const lock = ctx.caps.skipLocked ? sql`for update of c skip locked` : sql``;
  const onlyBatch = opts.batchId ? sql`and c.batch_id = ${opts.batchId}` : sql``;
  const res = await sql<WorkChunkRow>`
    update work_chunk set state = 'running', lease_owner = ${owner}, lease_until = ${now + leaseMs}, attempts = attempts + 1
    where id = (
      select c.id from work_chunk c join batch b on b.id = c.batch_id
      where c.state = 'ready' and b.state in ('queued', 'scheduled', 'running') and b.not_before <= ${now} ${onlyBatch}
      order by c.batch_id, c.seq_from
      limit 1 ${lock})
    returning *`.execute(ctx.db);
  const chunk = res.rows[0] ?? null;
  if (chunk) {
    await ctx.db
      .updateTable('batch')
      .set({ state: 'running', started_at: sql`coalesce(started_at, ${now})`, updated_at: now })
      .where('id', '=', chunk.batch_id)
      .where('state', 'in', ['queued', 'scheduled'])
      .execute();
  }
  return chunk;
}
