import { sql } from 'kysely';
import type { Ctx } from '../../../core/context.ts';
import type { WebhookDeliveryRow } from '../../../db/schema.ts';

/**
 * Leases up to `limit` deliveries that are due: pending ones whose next attempt has come, and ones left `sending`
 * by a sender whose lease ran out (it died mid-POST), of active webhooks, oldest due first. Each claim counts an
 * attempt. PostgreSQL takes the rows FOR UPDATE SKIP LOCKED, so delivery loops in several processes never wait on
 * or take the same delivery; SQLite has one writer, so the sub-select is already exclusive.
 */
export async function claimDeliveries(
  ctx: Ctx,
  owner: string,
  leaseMs: number,
  limit: number,
): Promise<WebhookDeliveryRow[]> {
  const now = ctx.now();
  const lock = ctx.caps.skipLocked ? sql`for update of d skip locked` : sql``;
  const res = await sql<WebhookDeliveryRow>`
    update webhook_delivery set state = 'sending', lease_owner = ${owner}, lease_until = ${now + leaseMs}, attempts = attempts + 1, updated_at = ${now}
    where id in (
      select d.id from webhook_delivery d join webhook w on w.id = d.webhook_id
      where w.active = 1
        and ((d.state = 'pending' and d.next_attempt_at <= ${now}) or (d.state = 'sending' and d.lease_until < ${now}))
      order by d.next_attempt_at, d.id
      limit ${limit} ${lock})
    returning *`.execute(ctx.db);
  return res.rows;
}
