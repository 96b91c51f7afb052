import type { WebhookAttemptRow, WebhookDeliveryRow } from '../../db/schema.ts';
import { fail } from '../../errors.ts';
import type { Access } from '../auth.ts';
import type { Ctx } from '../context.ts';
import type { DeliveryState } from '../states.ts';
import { pendingDelivery } from './outbox.ts';
import { requireWebhook } from './webhooks.ts';

export type Attempt = Omit<WebhookAttemptRow, 'delivery_id'>;

/** One delivery of an event to a webhook, with the log of its POSTs. */
export interface Delivery {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  state: DeliveryState;
  attempt_count: number;
  /** When the next POST is due (pending only). */
  next_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  redelivery_of: string | null;
  created_at: number;
  updated_at: number;
  delivered_at: number | null;
  attempts: Attempt[];
}

type Row = WebhookDeliveryRow & { event_type: string };

function base(ctx: Ctx, webhookId: string) {
  return ctx.db
    .selectFrom('webhook_delivery as d')
    .innerJoin('webhook_event as e', 'e.id', 'd.event_id')
    .selectAll('d')
    .select('e.type as event_type')
    .where('d.webhook_id', '=', webhookId);
}

async function withAttempts(ctx: Ctx, rows: Row[]): Promise<Delivery[]> {
  const attempts = rows.length
    ? await ctx.db
        .selectFrom('webhook_attempt')
        .selectAll()
        .where(
          'delivery_id',
          'in',
          rows.map((r) => r.id),
        )
        .orderBy('delivery_id')
        .orderBy('attempt')
        .execute()
    : [];
  return rows.map((r) => ({
    id: r.id,
    webhook_id: r.webhook_id,
    event_id: r.event_id,
    event_type: r.event_type,
    state: r.state,
    attempt_count: r.attempts,
    next_attempt_at: r.state === 'pending' ? r.next_attempt_at : null,
    last_status: r.last_status,
    last_error: r.last_error,
    redelivery_of: r.redelivery_of,
    created_at: r.created_at,
    updated_at: r.updated_at,
    delivered_at: r.delivered_at,
    attempts: attempts.filter((a) => a.delivery_id === r.id).map(({ delivery_id: _d, ...a }) => a),
  }));
}

/** The delivery log of a webhook, newest first, paged by id. */
export async function listDeliveries(
  ctx: Ctx,
  access: Access,
  webhookId: string,
  q: { state?: DeliveryState; event_type?: string; event_id?: string; before?: string; limit?: number },
): Promise<{ deliveries: Delivery[]; next_cursor: string | null }> {
  const hook = await requireWebhook(ctx, access, webhookId);
  let query = base(ctx, hook.id);
  if (q.state) query = query.where('d.state', '=', q.state);
  if (q.event_type) query = query.where('e.type', '=', q.event_type);
  if (q.event_id) query = query.where('d.event_id', '=', q.event_id);
  if (q.before) query = query.where('d.id', '<', q.before);
  const limit = q.limit ?? 50;
  const rows = await query
    .orderBy('d.id', 'desc')
    .limit(limit + 1)
    .execute();
  const page = rows.slice(0, limit);
  return { deliveries: await withAttempts(ctx, page), next_cursor: rows.length > limit ? page.at(-1)!.id : null };
}

/** A delivery of the webhook with its attempts and the event body it sends. */
export async function getDelivery(
  ctx: Ctx,
  access: Access,
  webhookId: string,
  deliveryId: string,
): Promise<Delivery & { payload: unknown }> {
  const hook = await requireWebhook(ctx, access, webhookId);
  const row = await base(ctx, hook.id).select('e.body').where('d.id', '=', deliveryId).executeTakeFirst();
  if (!row) fail('DELIVERY_NOT_FOUND');
  const [delivery] = await withAttempts(ctx, [row]);
  return { ...delivery!, payload: JSON.parse(row.body) as unknown };
}

/**
 * Sends the delivery's event again, as a new delivery (`redelivery_of` the old one) due now: the same body and
 * event id, so a receiver that already has it can tell. Works from any state; for a disabled webhook it waits
 * until the webhook is enabled again.
 */
export async function redeliver(ctx: Ctx, access: Access, webhookId: string, deliveryId: string): Promise<Delivery> {
  const hook = await requireWebhook(ctx, access, webhookId);
  const old = await base(ctx, hook.id).where('d.id', '=', deliveryId).executeTakeFirst();
  if (!old) fail('DELIVERY_NOT_FOUND');
  const row = pendingDelivery(ctx.ids.next(), hook.id, old.event_id, ctx.now(), old.id);
  await ctx.db.insertInto('webhook_delivery').values(row).execute();
  const [delivery] = await withAttempts(ctx, [{ ...row, event_type: old.event_type }]);
  return delivery!;
}
