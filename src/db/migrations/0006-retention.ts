import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Retention (BATCHGATE_RETENTION_DAYS): a finished batch's per-item rows can be purged while the batch row and its
 * counters stay. `items_purged_at` says when (the API then answers ITEMS_PURGED for its items); `items_purge_pending`
 * is 1 from that moment until the last slice of rows is deleted, so a purge cut short resumes where it stopped.
 *
 * Both indexes are partial: the batches not yet purged, by finish time (what the purge looks for), and the few with
 * a purge in progress. Neither grows with the purged history.
 */
export function retention(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('batch').addColumn('items_purged_at', 'bigint').execute();
      await db.schema
        .alterTable('batch')
        .addColumn('items_purge_pending', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex('batch_retention')
        .on('batch')
        .column('finished_at')
        .where(sql<boolean>`items_purged_at is null`)
        .execute();
      await db.schema
        .createIndex('batch_purge_pending')
        .on('batch')
        .column('id')
        .where(sql<boolean>`items_purge_pending = 1`)
        .execute();
    },
  };
}
