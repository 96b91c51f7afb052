import { sql, type Kysely, type Migration } from 'kysely';
import type { Capabilities } from '../capabilities.ts';

/**
 * Fair scheduling and revert (docs/api.md).
 *
 * - `batch.priority` (1–100, default 10), `batch.pass`, the stride-scheduling clock the claim orders by, and
 *   `base_pass`, the pass its latest claim started from (src/engine/sql/claim-chunk.ts). Existing batches start
 *   at pass 0 with the default priority.
 * - `work_chunk.workspace_id` (copied from the batch, so the per-workspace limit needs no join) and `slot`: a
 *   running chunk of a workspace under a concurrency limit holds one of the slots 0…limit-1, and the partial
 *   unique index makes a second claim of the same slot fail, so the limit holds across processes without a lock.
 * - `item_history.rev_no` (the item's rev_no after the change), `undo` (what the change replaced: field values,
 *   title, the draft, the ticket's decision) and `reverts_batch_id` (on a revert's rows: the batch it undid).
 *   Rows written before this migration have no rev_no: their changes cannot be reverted, and say so per item.
 * - item_history (batch_id) becomes (batch_id, item_id): a revert chunk reads its 1000 items' rows of one batch.
 */
export function fairSchedulingAndRevert(caps: Capabilities): Migration {
  const json = caps.jsonType;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('batch')
        .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(10))
        .execute();
      await db.schema
        .alterTable('batch')
        .addColumn('pass', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('batch')
        .addColumn('base_pass', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('batch_state_pass').on('batch').columns(['state', 'pass']).execute();

      await db.schema.alterTable('work_chunk').addColumn('workspace_id', 'text').execute();
      await db.schema.alterTable('work_chunk').addColumn('slot', 'integer').execute();
      await sql`update work_chunk set workspace_id = (select b.workspace_id from batch b where b.id = work_chunk.batch_id)`.execute(
        db,
      );
      await db.schema
        .createIndex('work_chunk_ws_slot')
        .on('work_chunk')
        .columns(['workspace_id', 'slot'])
        .unique()
        .where(sql<boolean>`state = 'running'`)
        .execute();

      await db.schema.alterTable('item_history').addColumn('rev_no', 'integer').execute();
      await db.schema.alterTable('item_history').addColumn('undo', json).execute();
      await db.schema.alterTable('item_history').addColumn('reverts_batch_id', 'text').execute();
      await db.schema.dropIndex('item_history_batch').execute();
      await db.schema
        .createIndex('item_history_batch_item')
        .on('item_history')
        .columns(['batch_id', 'item_id'])
        .execute();
    },
  };
}
