import { sql, type Kysely, type Migration } from 'kysely';
import type { Capabilities } from '../capabilities.ts';

/** Workspaces, users, tokens, memberships, datastores with their workflow, items, history, tickets. */
export function foundation(caps: Capabilities): Migration {
  const json = caps.jsonType;
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('bg_meta')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('workspace')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('project_id', 'text', (c) => c.unique())
        .addColumn('created_by', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('app_user')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('is_system_admin', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('api_token')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('app_user.id').onDelete('cascade'))
        .addColumn('token_hash', 'text', (c) => c.notNull().unique())
        .addColumn('label', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .execute();
      await db.schema.createIndex('api_token_user').on('api_token').column('user_id').execute();

      await db.schema
        .createTable('membership')
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspace.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('app_user.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin','member','approver','viewer')`))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('membership_pk', ['workspace_id', 'user_id'])
        .execute();
      await db.schema.createIndex('membership_user').on('membership').column('user_id').execute();

      await db.schema
        .createTable('datastore')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspace.id').onDelete('cascade'))
        .addColumn('display_id', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('datastore_display_id', ['workspace_id', 'display_id'])
        .execute();

      for (const table of ['ds_field', 'ds_status', 'ds_action'] as const) {
        let t = db.schema
          .createTable(table)
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('datastore_id', 'text', (c) => c.notNull().references('datastore.id').onDelete('cascade'))
          .addColumn('display_id', 'text', (c) => c.notNull())
          .addColumn('name', 'text', (c) => c.notNull())
          .addColumn('position', 'integer', (c) => c.notNull());
        if (table === 'ds_field') {
          t = t.addColumn('type', 'text', (c) => c.notNull()).addColumn('options', json);
        }
        if (table === 'ds_action') {
          t = t
            .addColumn('kind', 'text', (c) => c.notNull())
            .addColumn('from_status_ids', json)
            .addColumn('to_status_id', 'text')
            .addColumn('roles', json)
            .addColumn('set_fields', json)
            .addColumn('approval', json);
        }
        await t.addUniqueConstraint(`${table}_display_id`, ['datastore_id', 'display_id']).execute();
      }

      await db.schema
        .createTable('item')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('datastore_id', 'text', (c) => c.notNull().references('datastore.id').onDelete('cascade'))
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('status_id', 'text', (c) => c.notNull())
        .addColumn('fields', json, (c) => c.notNull())
        .addColumn('rev_no', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_by', 'text')
        .execute();
      // The condition compiler always constrains datastore_id; these serve status, time and creator filters
      // and the default id order.
      await db.schema.createIndex('item_ds_id').on('item').columns(['datastore_id', 'id']).execute();
      await db.schema.createIndex('item_ds_status').on('item').columns(['datastore_id', 'status_id', 'id']).execute();
      await db.schema.createIndex('item_ds_created').on('item').columns(['datastore_id', 'created_at']).execute();
      await db.schema.createIndex('item_ds_updated').on('item').columns(['datastore_id', 'updated_at']).execute();
      await db.schema.createIndex('item_ds_title').on('item').columns(['datastore_id', 'title']).execute();

      await db.schema
        .createTable('item_history')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('item_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text')
        .addColumn('action_id', 'text')
        .addColumn('from_status_id', 'text')
        .addColumn('to_status_id', 'text')
        .addColumn('comment', 'text')
        .addColumn('batch_id', 'text')
        .addColumn('ticket_id', 'text')
        .addColumn('changes', json)
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('item_history_item').on('item_history').columns(['item_id', 'id']).execute();

      await db.schema
        .createTable('ticket')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull())
        .addColumn('datastore_id', 'text', (c) => c.notNull())
        .addColumn('item_id', 'text', (c) => c.notNull())
        .addColumn('action_id', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) =>
          c.notNull().check(sql`state in ('pending','approved','rejected','withdrawn','closed')`),
        )
        .addColumn('assignee_id', 'text')
        .addColumn('assignee_role', 'text')
        .addColumn('submitter_id', 'text', (c) => c.notNull())
        .addColumn('prev_status_id', 'text', (c) => c.notNull())
        .addColumn('pending_status_id', 'text', (c) => c.notNull())
        .addColumn('payload', json)
        .addColumn('batch_approvable', 'integer', (c) => c.notNull())
        .addColumn('requires_comment', 'integer', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('comment', 'text')
        .addColumn('decision_comment', 'text')
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('updated_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('ticket_ws_state').on('ticket').columns(['workspace_id', 'state', 'id']).execute();
      await db.schema.createIndex('ticket_assignee').on('ticket').columns(['assignee_id', 'state']).execute();
      // At most one open ticket per item: a second submit while one is pending fails on this index.
      await db.schema
        .createIndex('ticket_one_pending')
        .on('ticket')
        .column('item_id')
        .unique()
        .where(sql.ref('state'), '=', 'pending')
        .execute();
    },
  };
}
