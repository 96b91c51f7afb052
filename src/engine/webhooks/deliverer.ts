import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Ctx } from '../../core/context.ts';
import { openSecret } from '../../core/webhooks/secret-store.ts';
import type { WebhookDeliveryRow } from '../../db/schema.ts';
import { coerceError } from '../../errors.ts';
import type { Notifier } from '../notifier.ts';
import { postWebhook, type SendResult } from './send.ts';
import { signatureHeader } from './signature.ts';
import { claimDeliveries } from './sql/claim-deliveries.ts';
import { pruneDeliveries } from './sql/prune-deliveries.ts';
import { settleDelivery } from './sql/settle-delivery.ts';

export interface DelivererOptions {
  /** POSTs in flight at once in this process. */
  concurrency?: number;
  /** How often due deliveries are looked for when nothing wakes the loop. */
  pollMs?: number;
  /** One POST, connect to last byte. */
  timeoutMs?: number;
  /** POSTs of one delivery before it is marked dead. */
  maxAttempts?: number;
  /** The wait after the first failure; it doubles after each further one, up to backoffMaxMs. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Finished deliveries (and their log) are kept this long. */
  retentionMs?: number;
  /** How long a claimed delivery is this sender's; another takes it over after (default: timeout + 30 s). */
  leaseMs?: number;
}

export interface Deliverer {
  readonly owner: string;
  /** Lets the POSTs in flight finish (each within its timeout), then resolves. */
  stop(): Promise<void>;
}

export const DELIVERY_DEFAULTS = Object.freeze({
  concurrency: 8,
  pollMs: 1000,
  timeoutMs: 10_000,
  maxAttempts: 10,
  backoffBaseMs: 30_000,
  backoffMaxMs: 3_600_000,
  retentionMs: 30 * 24 * 3_600_000,
});

/**
 * The wait before attempt `failed + 1`: base × 2^(failed − 1), capped, drawn uniformly from its upper half so
 * receivers that failed together (an outage) are not all retried in the same instant. With the defaults:
 * 15–30 s, 30–60 s, 1–2 min, … 16–32 min, then 30–60 min until the 10th attempt: 1.5–3 hours in all.
 */
export function retryDelay(failed: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const nominal = Math.min(maxMs, baseMs * 2 ** Math.max(0, failed - 1));
  return Math.round(nominal / 2 + (random() * nominal) / 2);
}

interface Target {
  event_id: string;
  event_type: string;
  body: string;
  url: string;
  secret: string;
  webhook_id: string;
}

/**
 * The delivery loop of a worker process: lease due deliveries, POST each signed body to its webhook's URL,
 * record the attempt, retry with backoff, give up after maxAttempts. At least once: a sender that dies after the
 * receiver answered but before recording it leaves the delivery to be sent again when its lease lapses, with the
 * same event id for the receiver to drop the duplicate.
 */
export function startDeliverer(ctx: Ctx, notifier: Notifier, options: DelivererOptions = {}): Deliverer {
  const o = { ...DELIVERY_DEFAULTS, ...options };
  const owner = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}:hooks`;
  // A lease outlives the POST it covers by 30 s, so only a dead or hung sender's deliveries are taken over.
  const leaseMs = options.leaseMs ?? o.timeoutMs + 30_000;
  const inFlight = new Set<Promise<void>>();
  let stopping = false;
  let lastPrune = 0;

  async function targets(rows: WebhookDeliveryRow[]): Promise<Map<string, Target>> {
    const found = await ctx.db
      .selectFrom('webhook_delivery as d')
      .innerJoin('webhook_event as e', 'e.id', 'd.event_id')
      .innerJoin('webhook as w', 'w.id', 'd.webhook_id')
      .select(['d.id', 'e.id as event_id', 'e.type as event_type', 'e.body', 'w.url', 'w.secret', 'w.id as webhook_id'])
      .where(
        'd.id',
        'in',
        rows.map((r) => r.id),
      )
      .execute();
    return new Map(found.map(({ id, ...t }) => [id, t]));
  }

  async function deliver(d: WebhookDeliveryRow, t: Target): Promise<void> {
    const startedAt = ctx.now();
    let r: SendResult;
    try {
      const headers = {
        'user-agent': 'batchgate-webhooks/1',
        'batchgate-event-id': t.event_id,
        'batchgate-event-type': t.event_type,
        'batchgate-delivery-id': d.id,
        'batchgate-signature': signatureHeader(
          openSecret(ctx.settings.secretKey, t.webhook_id, t.secret),
          t.body,
          Math.floor(startedAt / 1000),
        ),
      };
      r = await postWebhook(t.url, t.body, headers, { timeoutMs: o.timeoutMs, settings: ctx.settings.webhooks });
    } catch (e) {
      // Something stored that this code cannot use (a secret in an unknown format): a failed attempt like any
      // other, so the delivery still ends dead instead of being leased again forever.
      r = {
        status: null,
        error: `internal: ${coerceError(e).message}`,
        snippet: null,
        durationMs: ctx.now() - startedAt,
      };
    }
    const retryAt = ctx.now() + retryDelay(d.attempts, o.backoffBaseMs, o.backoffMaxMs);
    const settled = await settleDelivery(ctx, d, owner, { startedAt, ...r }, o.maxAttempts, retryAt);
    if (!settled)
      ctx.log.warn({ delivery: d.id }, 'webhook delivery lease lapsed during its POST; another sender has it');
    else if (r.status === null || r.status >= 300)
      ctx.log.info(
        { delivery: d.id, webhook: t.webhook_id, status: r.status, error: r.error, attempt: d.attempts },
        'webhook delivery failed',
      );
  }

  function launch(d: WebhookDeliveryRow, t: Target | undefined): void {
    // A webhook deleted between the claim and now took the delivery with it.
    if (!t) return;
    const p = deliver(d, t)
      .catch((e) => ctx.log.error({ err: coerceError(e), delivery: d.id }, 'webhook delivery error'))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  async function prune(): Promise<void> {
    const now = ctx.now();
    if (now - lastPrune < 600_000) return;
    lastPrune = now;
    const n = await pruneDeliveries(ctx, now - o.retentionMs);
    if (n) ctx.log.info({ pruned: n }, 'pruned finished webhook deliveries');
  }

  async function loop(): Promise<void> {
    while (!stopping) {
      try {
        await prune();
        const free = o.concurrency - inFlight.size;
        if (free > 0) {
          const claimed = await claimDeliveries(ctx, owner, leaseMs, free);
          if (claimed.length) {
            const found = await targets(claimed);
            for (const d of claimed) launch(d, found.get(d.id));
          }
          // A full claim: more may be due at once.
          if (claimed.length === free) continue;
        }
        await Promise.race([notifier.waitForWork(o.pollMs), ...(inFlight.size >= o.concurrency ? inFlight : [])]);
      } catch (e) {
        if (stopping) break;
        ctx.log.error({ err: coerceError(e) }, 'webhook delivery loop error');
        await notifier.waitForWork(o.pollMs);
      }
    }
    await Promise.all(inFlight);
  }

  const running = loop();
  return {
    owner,
    async stop() {
      stopping = true;
      notifier.workAvailable();
      await running;
    },
  };
}
