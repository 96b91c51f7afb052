import type { Kysely, Migration } from 'kysely';

/**
 * DataArts: the approvers registry (`/design/approvals/users`), and an expected datastore per batch target, so a
 * biz_id sent with the wrong biz_type fails as that item's outcome (the engine re-checks it when the item runs,
 * which matters for scheduled batches), like expected_rev does for revisions.
 */
export function dataarts(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('dataarts_approver')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspace.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('app_user.id').onDelete('cascade'))
        .addColumn('approver_name', 'text', (c) => c.notNull())
        .addColumn('app_name', 'text')
        .addColumn('email', 'text')
        .addColumn('phone_number', 'text')
        .addColumn('email_notify', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('sms_notify', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('dataarts_approver_user', ['workspace_id', 'user_id'])
        .execute();
      await db.schema.alterTable('batch_item').addColumn('expected_datastore_id', 'text').execute();
    },
  };
}
