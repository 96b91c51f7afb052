import { fail } from '../errors.ts';
import type { WorkspaceRow } from '../db/schema.ts';
import { forgetStandings, type Access, type Principal } from './auth.ts';
import { withTx, type Ctx } from './context.ts';
import { BIZ_TYPES, dataartsDatastore } from './dataarts-workflow.ts';
import { createDatastore } from './datastores.ts';
import { requireWorkspaceRoom } from './quotas.ts';
import type { Role } from './roles.ts';

export interface Workspace {
  id: string;
  name: string;
  project_id: string | null;
  created_at: number;
}

export interface Member {
  user_id: string;
  name: string;
  email: string | null;
  role: Role;
}

function toWorkspace(row: WorkspaceRow): Workspace {
  return { id: row.id, name: row.name, project_id: row.project_id, created_at: row.created_at };
}

/**
 * Creates a workspace with the caller as its admin. A workspace with a DataArts project_id also gets one
 * datastore per biz_type with the DataArts lifecycle, so the DataArts routes work on it at once. Both quotas apply
 * (quotas.ts).
 */
export async function createWorkspace(
  ctx: Ctx,
  principal: Principal,
  input: { name: string; project_id?: string | null },
): Promise<Workspace> {
  const projectId = input.project_id ?? null;
  // Workspaces are found by id or project_id: a project_id shaped like an id could shadow another workspace.
  if (projectId !== null && /^[0-9]{16,}$/.test(projectId))
    fail('VALIDATION_FAILED', 'project_id must not be a 16+ digit number: that is the shape of workspace ids.');
  return withTx(ctx, async (tx) => {
    await requireWorkspaceRoom(tx, principal);
    if (projectId !== null) {
      const taken = await tx.db
        .selectFrom('workspace')
        .select('id')
        .where('project_id', '=', projectId)
        .executeTakeFirst();
      if (taken) fail('DUPLICATE', 'A workspace with this project_id already exists.');
    }
    const row: WorkspaceRow = {
      id: tx.ids.next(),
      name: input.name,
      project_id: projectId,
      created_by: principal.userId,
      created_at: tx.now(),
    };
    await tx.db.insertInto('workspace').values(row).execute();
    await tx.db
      .insertInto('membership')
      .values({ workspace_id: row.id, user_id: principal.userId, role: 'admin', created_at: tx.now() })
      .execute();
    if (projectId !== null) {
      // Each counts against BATCHGATE_MAX_DATASTORES_PER_WORKSPACE; past it the whole workspace is refused.
      for (const bizType of BIZ_TYPES) await createDatastore(tx, row.id, dataartsDatastore(bizType));
    }
    return toWorkspace(row);
  });
}

export async function getWorkspace(ctx: Ctx, access: Access): Promise<Workspace> {
  const row = await ctx.db
    .selectFrom('workspace')
    .selectAll()
    .where('id', '=', access.workspaceId)
    .executeTakeFirstOrThrow();
  return toWorkspace(row);
}

/** The workspaces the caller belongs to (every workspace for a system admin). */
export async function listWorkspaces(ctx: Ctx, principal: Principal): Promise<Workspace[]> {
  let q = ctx.db.selectFrom('workspace').selectAll('workspace');
  if (!principal.isSystemAdmin) {
    q = q
      .innerJoin('membership', 'membership.workspace_id', 'workspace.id')
      .where('membership.user_id', '=', principal.userId);
  }
  const rows = await q.orderBy('workspace.id').execute();
  return rows.map(toWorkspace);
}

/**
 * Sets a member's role. Only a system admin adds a user who is not a member yet; a workspace admin invites them
 * (src/core/invitations.ts), and naming anyone but a member answers USER_NOT_FOUND, exactly as for an id that names
 * nobody, so the answer tells nothing about users of other workspaces.
 */
export async function setMember(ctx: Ctx, access: Access, userId: string, role: Role): Promise<Member> {
  if (access.principal.isSystemAdmin) {
    const user = await ctx.db
      .selectFrom('app_user')
      .select(['id', 'name', 'email'])
      .where('id', '=', userId)
      .executeTakeFirst();
    if (!user) fail('USER_NOT_FOUND');
    await ctx.db
      .insertInto('membership')
      .values({ workspace_id: access.workspaceId, user_id: userId, role, created_at: ctx.now() })
      .onConflict((oc) => oc.columns(['workspace_id', 'user_id']).doUpdateSet({ role }))
      .execute();
    forgetStandings(ctx);
    return { user_id: user.id, name: user.name, email: user.email, role };
  }
  const res = await ctx.db
    .updateTable('membership')
    .set({ role })
    .where('workspace_id', '=', access.workspaceId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  forgetStandings(ctx);
  if (Number(res.numUpdatedRows) === 0) fail('USER_NOT_FOUND', NOT_A_MEMBER);
  const user = await ctx.db
    .selectFrom('app_user')
    .select(['id', 'name', 'email'])
    .where('id', '=', userId)
    .executeTakeFirstOrThrow();
  return { user_id: user.id, name: user.name, email: user.email, role };
}

const NOT_A_MEMBER =
  'No member of this workspace has this id. Invite users with POST /api/v1/workspaces/{ws}/invitations.';

export async function removeMember(ctx: Ctx, access: Access, userId: string): Promise<void> {
  const res = await ctx.db
    .deleteFrom('membership')
    .where('workspace_id', '=', access.workspaceId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  forgetStandings(ctx);
  if (Number(res.numDeletedRows) === 0) fail('USER_NOT_FOUND', 'The user is not a member of this workspace.');
}

export async function listMembers(ctx: Ctx, access: Access): Promise<Member[]> {
  const rows = await ctx.db
    .selectFrom('membership')
    .innerJoin('app_user', 'app_user.id', 'membership.user_id')
    .select(['app_user.id as user_id', 'app_user.name', 'app_user.email', 'membership.role'])
    .where('membership.workspace_id', '=', access.workspaceId)
    .orderBy('app_user.id')
    .execute();
  return rows.map((r) => ({ ...r, role: r.role as Role }));
}
