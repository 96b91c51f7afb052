import type { Kysely, Migration } from 'kysely';
import { sql } from 'kysely';
import type { Capabilities } from '../capabilities.ts';

/**
 * Released versions and pending drafts (DataArts "下展"): a datastore may name its released statuses
 * (`datastore.drafts`, `{"status_ids": [...]}`); an item entering one gets a version snapshot (`item_version`), and
 * an edit of an item in one is kept as its draft (`item_draft`) until a re-publish applies it or it is deleted.
 *
 * The DataArts datastores already provisioned (a biz_type display_id in a workspace with a project_id, with the
 * lifecycle's PUBLISHED status and publish action) get `PUBLISHED` as their released status, as new ones do.
 */
export function itemDrafts(caps: Capabilities): Migration {
  const json = caps.jsonType;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('datastore').addColumn('drafts', json).execute();

      await db.schema
        .createTable('item_version')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('item_id', 'text', (c) => c.notNull().references('item.id').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('fields', json, (c) => c.notNull())
        .addColumn('status_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('batch_id', 'text')
        .addUniqueConstraint('item_version_number', ['item_id', 'version'])
        .execute();

      await db.schema
        .createTable('item_draft')
        .addColumn('item_id', 'text', (c) => c.primaryKey().references('item.id').onDelete('cascade'))
        .addColumn('title', 'text')
        .addColumn('fields', json, (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_by', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();

      const { rows } = await sql<{ id: string; status_id: string }>`
        select d.id, s.id as status_id
        from datastore d
        join workspace w on w.id = d.workspace_id and w.project_id is not null
        join ds_status s on s.datastore_id = d.id and s.display_id = 'PUBLISHED'
        join ds_action a on a.datastore_id = d.id and a.display_id = 'publish'
        where d.display_id in (${sql.join(DATAARTS_BIZ_TYPES.map((t) => sql.lit(t)))})`.execute(db);
      for (const r of rows) {
        await sql`update datastore set drafts = ${caps.writeJson({ status_ids: [r.status_id] })} where id = ${r.id}`.execute(
          db,
        );
      }
    },
  };
}

/** BizTypeEnum as of this migration (a migration never changes, so it keeps its own copy). */
const DATAARTS_BIZ_TYPES = [
  'AGGREGATION_LOGIC_TABLE',
  'ATOMIC_INDEX',
  'ATOMIC_METRIC',
  'BIZ_CATALOG',
  'BIZ_METRIC',
  'CODE_TABLE',
  'COMMON_CONDITION',
  'COMPOSITE_METRIC',
  'COMPOUND_METRIC',
  'CONDITION_GROUP',
  'DEGENERATE_DIMENSION',
  'DERIVATIVE_INDEX',
  'DERIVED_METRIC',
  'DIMENSION',
  'DIMENSION_ATTRIBUTE',
  'DIMENSION_HIERARCHIES',
  'DIMENSION_LOGIC_TABLE',
  'DIMENSION_TABLE_ATTRIBUTE',
  'DIRECTORY',
  'FACT_ATTRIBUTE',
  'FACT_DIMENSION',
  'FACT_LOGIC_TABLE',
  'FACT_MEASURE',
  'FUNCTION',
  'INFO_ARCH',
  'MODEL',
  'QUALITY_RULE',
  'SECRECY_LEVEL',
  'STANDARD_ELEMENT',
  'STANDARD_ELEMENT_TEMPLATE',
  'SUBJECT',
  'SUMMARY_DIMENSION_ATTRIBUTE',
  'SUMMARY_INDEX',
  'SUMMARY_TIME',
  'TABLE_MODEL',
  'TABLE_MODEL_ATTRIBUTE',
  'TABLE_MODEL_LOGIC',
  'TABLE_TYPE',
  'TAG',
  'TIME_CONDITION',
];
