import { sql, type Kysely, type Migration } from 'kysely';
import type { Capabilities } from '../capabilities.ts';

/** Batches, their per-target outcomes, earlier attempts of retried targets, and the chunk lease table. */
export function engine(caps: Capabilities): Migration {
  const json = caps.jsonType;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('batch')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) =>
          c
            .notNull()
            .check(
              sql`state in ('queued','scheduled','running','paused','succeeded','completed_with_errors','failed','cancelled')`,
            ),
        )
        .addColumn('params', json, (c) => c.notNull())
        .addColumn('submitted_by', 'text', (c) => c.notNull())
        .addColumn('total', 'integer', (c) => c.notNull())
        .addColumn('succeeded', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('dry_run', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('max_rate', 'real')
        .addColumn('not_before', 'bigint', (c) => c.notNull())
        .addColumn('start_at', 'bigint')
        .addColumn('idempotency_key', 'text')
        .addColumn('request_hash', 'text')
        .addColumn('attempt', 'integer', (c) => c.notNull().defaultTo(1))
        .addColumn('source', 'text')
        .addColumn('error', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('batch_ws').on('batch').columns(['workspace_id', 'id']).execute();
      await db.schema
        .createIndex('batch_idem')
        .on('batch')
        .columns(['workspace_id', 'idempotency_key'])
        .unique()
        .execute();

      await db.schema
        .createTable('batch_item')
        .addColumn('batch_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('target_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('updated_at', 'bigint')
        .addPrimaryKeyConstraint('batch_item_pk', ['batch_id', 'seq'])
        .execute();
      await db.schema.createIndex('batch_item_state').on('batch_item').columns(['batch_id', 'state', 'seq']).execute();

      await db.schema
        .createTable('batch_item_attempt')
        .addColumn('batch_id', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('error_code', 'text')
        .addColumn('error_message', 'text')
        .addColumn('finished_at', 'bigint')
        .addPrimaryKeyConstraint('batch_item_attempt_pk', ['batch_id', 'seq', 'attempt'])
        .execute();

      await db.schema
        .createTable('work_chunk')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('batch_id', 'text', (c) => c.notNull())
        .addColumn('seq_from', 'integer', (c) => c.notNull())
        .addColumn('seq_to', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('ready','running','done')`))
        .addColumn('lease_owner', 'text')
        .addColumn('lease_until', 'bigint')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('work_chunk_claim')
        .on('work_chunk')
        .columns(['state', 'batch_id', 'seq_from'])
        .execute();
      await db.schema.createIndex('work_chunk_batch').on('work_chunk').columns(['batch_id', 'seq_from']).execute();
      await db.schema.createIndex('item_history_batch').on('item_history').columns(['batch_id']).execute();
    },
  };
}
