import type { WebhookDeliveryRow, WebhookEventRow } from '../../db/schema.ts';
import type { Ctx } from '../context.ts';
import type { WebhookEventType } from './event-types.ts';
import { subscribers } from './webhooks.ts';

export interface OutboxEvent {
  type: WebhookEventType;
  /** The batch the event belongs to (a batch event's batch, or the batch that opened or decided a ticket). */
  batchId: string | null;
  /** The body's `data`: `{batch}` or `{ticket}`. */
  data: Record<string, unknown>;
}

/**
 * Writes events to the transactional outbox: must run in the transaction of the change that caused them, so the
 * change and its events commit (or vanish) together and a crash between them cannot lose one. Each event gets
 * one pending delivery per active webhook of the workspace subscribed to its type; an event nobody subscribes to
 * is not written, so a workspace without webhooks pays one indexed read. `build` runs only when some webhook
 * takes one of `types`. Rows go in multi-row INSERTs sized to the dialect's parameter limit: one statement each
 * for the events and the deliveries of a 1000-item slice.
 */
export async function writeOutbox(
  ctx: Ctx,
  workspaceId: string,
  types: readonly WebhookEventType[],
  build: () => OutboxEvent[] | Promise<OutboxEvent[]>,
): Promise<number> {
  const hooks = await subscribers(ctx, workspaceId);
  if (!hooks.some((h) => types.some((t) => h.events.has(t)))) return 0;
  const now = ctx.now();
  const occurredAt = new Date(now).toISOString();
  const events: WebhookEventRow[] = [];
  const deliveries: WebhookDeliveryRow[] = [];
  for (const e of await build()) {
    const to = hooks.filter((h) => h.events.has(e.type));
    if (to.length === 0) continue;
    const id = ctx.ids.next();
    const body = JSON.stringify({ id, type: e.type, occurred_at: occurredAt, workspace_id: workspaceId, data: e.data });
    events.push({ id, workspace_id: workspaceId, type: e.type, batch_id: e.batchId, body, occurred_at: now });
    for (const h of to) deliveries.push(pendingDelivery(ctx.ids.next(), h.id, id, now, null));
  }
  await insertRows(ctx, 'webhook_event', events);
  await insertRows(ctx, 'webhook_delivery', deliveries);
  return events.length;
}

/** A delivery due now, not yet attempted. */
export function pendingDelivery(
  id: string,
  webhookId: string,
  eventId: string,
  now: number,
  redeliveryOf: string | null,
): WebhookDeliveryRow {
  return {
    id,
    webhook_id: webhookId,
    event_id: eventId,
    state: 'pending',
    attempts: 0,
    next_attempt_at: now,
    lease_owner: null,
    lease_until: null,
    redelivery_of: redeliveryOf,
    last_status: null,
    last_error: null,
    created_at: now,
    updated_at: now,
    delivered_at: null,
  };
}

async function insertRows(
  ctx: Ctx,
  table: 'webhook_event' | 'webhook_delivery',
  rows: WebhookEventRow[] | WebhookDeliveryRow[],
): Promise<void> {
  if (rows.length === 0) return;
  const perStatement = Math.floor(ctx.caps.maxParams / Object.keys(rows[0]!).length);
  for (let i = 0; i < rows.length; i += perStatement) {
    await ctx.db
      .insertInto(table)
      .values(rows.slice(i, i + perStatement) as never)
      .execute();
  }
}
