import { workspaceAccess, type Access, type Principal } from '../../core/auth.ts';
import type { Ctx } from '../../core/context.ts';
import type { Datastore } from '../../core/datastore-model.ts';
import { getDatastore } from '../../core/datastores.ts';
import type { Capability } from '../../core/roles.ts';
import { AppError, fail } from '../../errors.ts';

/**
 * The Hexabase datastore API group (`/api/v0/datastores/:d_id/…`) names a datastore by its id alone: the
 * caller must belong to its workspace, and any other datastore answers not found.
 */
export async function datastoreById(
  ctx: Ctx,
  principal: Principal,
  id: string,
  capability: Capability = 'read',
): Promise<{ access: Access; ds: Datastore }> {
  const row = await ctx.db
    .selectFrom('datastore')
    .select(['id', 'workspace_id'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) fail('DATASTORE_NOT_FOUND');
  let access: Access;
  try {
    access = await workspaceAccess(ctx, principal, row.workspace_id, capability);
  } catch (e) {
    if (e instanceof AppError && e.code === 'WORKSPACE_NOT_FOUND') fail('DATASTORE_NOT_FOUND');
    throw e;
  }
  return { access, ds: await getDatastore(ctx, access.workspaceId, row.id) };
}
