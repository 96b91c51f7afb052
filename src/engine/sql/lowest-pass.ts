import { sql, type RawBuilder } from 'kysely';
import type { Ctx } from '../../core/context.ts';
import { RUNNABLE } from '../../core/states.ts';

/**
 * The lowest stride-scheduling pass among runnable batches (other than `exceptId`), or null when none runs: where
 * a new, resumed or retried batch starts, so it neither jumps ahead of the running ones nor queues behind them
 * (src/engine/sql/claim-chunk.ts).
 */
export function lowestPassSql(exceptId?: string): RawBuilder<number | null> {
  const except = exceptId ? sql`and o.id <> ${exceptId}` : sql``;
  return sql<
    number | null
  >`(select min(o.pass) from batch o where o.state in (${sql.join(RUNNABLE.map((s) => sql.lit(s)))}) ${except})`;
}

export async function lowestPass(ctx: Ctx): Promise<number> {
  const res = await sql<{ p: number | null }>`select ${lowestPassSql()} as p`.execute(ctx.db);
  return Number(res.rows[0]?.p ?? 0);
}
