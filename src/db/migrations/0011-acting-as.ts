import { sql, type Kysely, type Migration } from 'kysely';
import type { Capabilities } from '../capabilities.ts';

/**
 * Nobody acts as someone they are not:
 *
 * - `invitation`: a workspace admin invites a user (by id or by email); the user becomes a member only by accepting
 *   it. No foreign key on `user_id`: an invitation to an id that names nobody is stored like any other, so the
 *   inviter cannot tell the two apart.
 * - `ticket.on_behalf_of` and `item_history.on_behalf_of`: when an admin decides in another user's name (the batch approval open API's
 *   `user_id`), `decided_by` / `user_id` record the admin who really did it and this column the user named.
 * - Four-eyes is the default from now on (`approval.allow_self_approval`, absent = false). The DataArts datastores
 *   are provisioned with it on (their fast_approval and resolve are the submitter's own, as the DataArts document
 *   describes); the ones provisioned before this migration get it too, so they keep behaving as they did.
 */
/** The DataArts workflow's approval actions (src/core/dataarts-workflow.ts), by display_id and name. */
const DATAARTS_ACTIONS = ['publish', 'offline'];
const DATAARTS_ACTION_NAMES = ['Publish', 'Take offline'];

export function actingAs(caps: Capabilities): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('invitation')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('workspace_id', 'text', (c) => c.notNull().references('workspace.id').onDelete('cascade'))
        .addColumn('user_id', 'text')
        .addColumn('email', 'text')
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending','accepted','declined','revoked')`))
        .addColumn('invited_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('decided_at', 'bigint')
        .execute();
      await db.schema.createIndex('invitation_ws').on('invitation').columns(['workspace_id', 'state']).execute();
      await db.schema.createIndex('invitation_user').on('invitation').columns(['user_id', 'state']).execute();
      await db.schema.createIndex('invitation_email').on('invitation').columns(['email', 'state']).execute();

      await db.schema.alterTable('ticket').addColumn('on_behalf_of', 'text').execute();
      await db.schema.alterTable('item_history').addColumn('on_behalf_of', 'text').execute();

      await allowSelfApprovalOnDataarts(db, caps);
    },
  };
}

/** Sets approval.allow_self_approval on the DataArts workflow's actions of every DataArts datastore. */
export async function allowSelfApprovalOnDataarts(db: Kysely<unknown>, caps: Capabilities): Promise<void> {
  const rows = await sql<{ id: string; approval: unknown }>`
    select a.id, a.approval from ds_action a
    join datastore d on d.id = a.datastore_id
    join workspace w on w.id = d.workspace_id
    where w.project_id is not null and d.display_id = d.name and a.display_id in (${sql.join(DATAARTS_ACTIONS)}) and a.name in (${sql.join(DATAARTS_ACTION_NAMES)})`.execute(
    db,
  );
  for (const r of rows.rows) {
    const approval = caps.readJson<Record<string, unknown> | null>(r.approval);
    if (!approval) continue;
    await sql`update ds_action set approval = ${caps.writeJson({ ...approval, allow_self_approval: true })} where id = ${r.id}`.execute(
      db,
    );
  }
}
