import { sql } from 'kysely';
import type { Ctx } from '../../core/context.ts';
import { RUNNABLE } from '../../core/states.ts';

/**
 * When the next runnable batch with ready chunks becomes due (its schedule or its rate limit), or null when none
 * is waiting. An idle worker sleeps until then instead of a whole poll interval: a rate-limited batch gives its
 * chunk back between slices (run-chunk.ts), so its pace depends on being claimed again on time.
 */
export async function nextDue(ctx: Ctx): Promise<number | null> {
  const res = await sql<{ due: number | null }>`
    select min(b.not_before) as due from batch b
    where b.state in (${sql.join(RUNNABLE.map((s) => sql.lit(s)))})
      and exists (select 1 from work_chunk c where c.batch_id = b.id and c.state = 'ready')`.execute(ctx.db);
  const due = res.rows[0]?.due;
  return due === null || due === undefined ? null : Number(due);
}
