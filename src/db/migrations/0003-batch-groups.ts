import type { Kysely, Migration } from 'kysely';

/**
 * Batch groups (one DataArts group_id or batch-approval batch_number over batches of several workspaces),
 * per-target expected rev_no (Hexabase item_revisions), and how many items a limited condition matched.
 */
export function batchGroups(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('batch').addColumn('group_id', 'text').execute();
      await db.schema.alterTable('batch').addColumn('matched', 'integer').execute();
      await db.schema.createIndex('batch_group').on('batch').column('group_id').execute();
      await db.schema.alterTable('batch_item').addColumn('expected_rev', 'integer').execute();
    },
  };
}
