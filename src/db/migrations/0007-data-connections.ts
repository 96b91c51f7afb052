import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Data connections: a workspace's registered source databases for DataArts model operations (reverse a database).
 * The URL, which may carry a password, is stored only encrypted (`secret`, AES-256-GCM under BATCHGATE_SECRET_KEY);
 * `display_url` is the same URL with the password masked and the query dropped, safe to show and log.
 */
export function dataConnections(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('data_connection')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspace.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('dialect', 'text', (c) => c.notNull().check(sql`dialect in ('sqlite','postgres')`))
        .addColumn('display_url', 'text', (c) => c.notNull())
        .addColumn('schema_name', 'text')
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('data_connection_name', ['workspace_id', 'name'])
        .execute();
    },
  };
}
