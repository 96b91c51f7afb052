import { sql, type Kysely, type Migration } from 'kysely';
import type { Capabilities } from '../capabilities.ts';
import { backfillSql, INDEX_TABLES } from '../item-index.ts';

/**
 * Typed index tables instead of per-field indexes on `item` (src/db/item-index.ts says why and how).
 *
 * - `item_index_text` and `item_index_num`: (datastore_id, field_id, value, item_id), the primary key being the
 *   search index and the only one (writers find a row by its values). SQLite keeps them WITHOUT ROWID: the table
 *   is its key.
 * - The per-field partial indexes `item_f_<field id>` that datastore creation used to add are dropped.
 * - Every existing item is indexed, set-based, one statement per table.
 * - workspace (created_by): the workspaces-per-user quota counts a user's workspaces at each creation.
 */
export function itemIndex(caps: Capabilities): Migration {
  return {
    async up(db: Kysely<unknown>) {
      const numType = caps.dialect === 'sqlite' ? 'real' : 'double precision';
      const rowid = caps.dialect === 'sqlite' ? ' without rowid' : '';
      for (const [kind, table] of Object.entries(INDEX_TABLES)) {
        await sql`create table ${sql.table(table)} (
          datastore_id text not null,
          field_id text not null,
          value ${sql.raw(kind === 'num' ? numType : 'text')} not null,
          item_id text not null,
          primary key (datastore_id, field_id, value, item_id)
        )${sql.raw(rowid)}`.execute(db);
      }

      const old =
        caps.dialect === 'sqlite'
          ? await sql<{
              name: string;
            }>`select name from sqlite_master where type = 'index' and tbl_name = 'item' and substr(name, 1, 7) = 'item_f_'`.execute(
              db,
            )
          : await sql<{
              name: string;
            }>`select indexname as name from pg_indexes where schemaname = current_schema() and tablename = 'item' and substr(indexname, 1, 7) = 'item_f_'`.execute(
              db,
            );
      for (const { name } of old.rows) await db.schema.dropIndex(name).execute();

      for (const statement of backfillSql(caps.dialect)) await sql.raw(statement).execute(db);
      await db.schema.createIndex('workspace_created_by').on('workspace').column('created_by').execute();
    },
  };
}
