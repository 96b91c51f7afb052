/**
 * Quotas on what one tenant may create (ctx.settings.quotas, docs/operations.md: Configuration): every datastore costs the
 * service definitions to cache and rows to index, every workspace is a new tenant of one account. Each check runs
 * in the transaction that creates the object, after locking the row it counts under (PostgreSQL; SQLite has one
 * writer), so concurrent creations cannot both take the last place.
 */
import { fail } from '../errors.ts';
import type { Principal } from './auth.ts';
import type { Ctx } from './context.ts';

/** Refuses one more datastore in the workspace past BATCHGATE_MAX_DATASTORES_PER_WORKSPACE. Must run in a transaction. */
export async function requireDatastoreRoom(ctx: Ctx, workspaceId: string): Promise<void> {
  const max = ctx.settings.quotas.datastoresPerWorkspace;
  if (max === 0) return;
  if (ctx.caps.rowLocks)
    await ctx.db.selectFrom('workspace').select('id').where('id', '=', workspaceId).forUpdate().execute();
  const { n } = await ctx.db
    .selectFrom('datastore')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirstOrThrow();
  if (Number(n) >= max) {
    fail(
      'QUOTA_EXCEEDED',
      `The workspace has ${Number(n)} datastores, the most BATCHGATE_MAX_DATASTORES_PER_WORKSPACE allows (${max}).`,
      { quota: 'datastores_per_workspace', limit: max },
    );
  }
}

/** Refuses one more workspace created by the caller past BATCHGATE_MAX_WORKSPACES_PER_USER; a system admin is not limited. */
export async function requireWorkspaceRoom(ctx: Ctx, principal: Principal): Promise<void> {
  const max = ctx.settings.quotas.workspacesPerUser;
  if (max === 0 || principal.isSystemAdmin) return;
  if (ctx.caps.rowLocks)
    await ctx.db.selectFrom('app_user').select('id').where('id', '=', principal.userId).forUpdate().execute();
  const { n } = await ctx.db
    .selectFrom('workspace')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('created_by', '=', principal.userId)
    .executeTakeFirstOrThrow();
  if (Number(n) >= max) {
    fail(
      'QUOTA_EXCEEDED',
      `You have created ${Number(n)} workspaces, the most BATCHGATE_MAX_WORKSPACES_PER_USER allows (${max}).`,
      { quota: 'workspaces_per_user', limit: max },
    );
  }
}
