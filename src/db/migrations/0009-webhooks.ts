import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Workspace webhooks and their transactional outbox:
 *
 * - `webhook`: a workspace's endpoint, the event types it takes, and its signing secret (src/core/webhooks/
 *   secret-store.ts is the only code that reads or writes that column).
 * - `webhook_event`: one row per event, written in the transaction of the change that caused it, holding the
 *   exact JSON body every delivery of it sends (text, not jsonb: jsonb would reorder keys between deliveries).
 * - `webhook_delivery`: one row per (webhook, event) to send, and one more per redelivery; the delivery loop
 *   leases rows (state `sending`, lease_owner, lease_until) like work_chunk.
 * - `webhook_attempt`: each POST of a delivery, for the delivery log.
 */
export function webhooks(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('webhook')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspace.id').onDelete('cascade'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('events', 'text', (c) => c.notNull())
        .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('webhook_ws').on('webhook').columns(['workspace_id', 'active']).execute();

      await db.schema
        .createTable('webhook_event')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('batch_id', 'text')
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('occurred_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('webhook_delivery')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('webhook_id', 'text', (c) => c.notNull().references('webhook.id').onDelete('cascade'))
        .addColumn('event_id', 'text', (c) => c.notNull().references('webhook_event.id').onDelete('cascade'))
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending','sending','succeeded','dead')`))
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('redelivery_of', 'text')
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('delivered_at', 'bigint')
        .execute();
      // The claim reads by state and due time; the log by webhook, newest first.
      await db.schema
        .createIndex('webhook_delivery_due')
        .on('webhook_delivery')
        .columns(['state', 'next_attempt_at'])
        .execute();
      await db.schema
        .createIndex('webhook_delivery_log')
        .on('webhook_delivery')
        .columns(['webhook_id', 'id'])
        .execute();
      await db.schema.createIndex('webhook_delivery_event').on('webhook_delivery').columns(['event_id']).execute();

      await db.schema
        .createTable('webhook_attempt')
        .addColumn('delivery_id', 'text', (c) => c.notNull().references('webhook_delivery.id').onDelete('cascade'))
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('status_code', 'integer')
        .addColumn('error', 'text')
        .addColumn('response_snippet', 'text')
        .addPrimaryKeyConstraint('webhook_attempt_pk', ['delivery_id', 'attempt'])
        .execute();
    },
  };
}
