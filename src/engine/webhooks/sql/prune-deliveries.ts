import type { Ctx } from '../../../core/context.ts';

/**
 * Deletes finished deliveries (succeeded or dead, with their attempt log) last changed before `before`, then the
 * events no delivery refers to any more. Pending ones are kept whatever their age: they still have to go.
 */
export async function pruneDeliveries(ctx: Ctx, before: number): Promise<number> {
  const res = await ctx.db
    .deleteFrom('webhook_delivery')
    .where('state', 'in', ['succeeded', 'dead'])
    .where('updated_at', '<', before)
    .executeTakeFirst();
  await ctx.db
    .deleteFrom('webhook_event')
    .where('occurred_at', '<', before)
    .where((eb) =>
      eb.not(
        eb.exists(
          eb.selectFrom('webhook_delivery').select('id').whereRef('webhook_delivery.event_id', '=', 'webhook_event.id'),
        ),
      ),
    )
    .execute();
  return Number(res.numDeletedRows);
}
