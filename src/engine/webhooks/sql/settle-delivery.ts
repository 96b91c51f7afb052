import { withTx, type Ctx } from '../../../core/context.ts';
import type { WebhookDeliveryRow } from '../../../db/schema.ts';

export interface AttemptResult {
  startedAt: number;
  durationMs: number;
  status: number | null;
  error: string | null;
  snippet: string | null;
}

/**
 * Records one POST of a leased delivery and moves it on: `succeeded` on a 2xx, `dead` when it has had
 * `maxAttempts`, else `pending` again until `retryAt`. Fenced by owner and state like every lease statement: false
 * means the lease lapsed and another sender took the delivery over, so this attempt is not recorded (the
 * receiver may see the event twice, which its event-id dedupe absorbs).
 */
export async function settleDelivery(
  ctx: Ctx,
  d: WebhookDeliveryRow,
  owner: string,
  r: AttemptResult,
  maxAttempts: number,
  retryAt: number,
): Promise<boolean> {
  return withTx(ctx, async (tx) => {
    const now = tx.now();
    const ok = r.status !== null && r.status >= 200 && r.status < 300;
    const state = ok ? 'succeeded' : d.attempts >= maxAttempts ? 'dead' : 'pending';
    const res = await tx.db
      .updateTable('webhook_delivery')
      .set({
        state,
        next_attempt_at: state === 'pending' ? retryAt : d.next_attempt_at,
        lease_owner: null,
        lease_until: null,
        last_status: r.status,
        last_error: r.error?.slice(0, 1000) ?? null,
        updated_at: now,
        delivered_at: ok ? now : null,
      })
      .where('id', '=', d.id)
      .where('lease_owner', '=', owner)
      .where('state', '=', 'sending')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) return false;
    await tx.db
      .insertInto('webhook_attempt')
      .values({
        delivery_id: d.id,
        attempt: d.attempts,
        started_at: r.startedAt,
        duration_ms: r.durationMs,
        status_code: r.status,
        error: r.error?.slice(0, 1000) ?? null,
        response_snippet: r.snippet,
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
    return true;
  });
}
