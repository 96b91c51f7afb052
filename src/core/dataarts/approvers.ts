import { sql } from 'kysely';
import type { DataartsApproverRow } from '../../db/schema.ts';
import { escapeLike } from './like.ts';
import { fail } from '../../errors.ts';
import { requireCapability } from '../auth.ts';
import type { Ctx } from '../context.ts';
import { isRole, roleAllows } from '../roles.ts';
import type { DataartsScope } from './scope.ts';

/**
 * The DataArts approvers registry (`/design/approvals/users`). A DataArts approver is a batchgate user who is a
 * member of the workspace with a role that may decide tickets (approver or admin); its `user_id` is that user's
 * batchgate id. Batch publish/offline without fast_approval assigns its tickets to one of them. Registering
 * grants nothing: it names who may be picked, the role decides what they may do.
 */
export interface ApproverInput {
  approver_name: string;
  user_id: string;
  app_name?: string | null;
  email?: string | null;
  phone_number?: string | null;
  email_notify?: boolean;
  sms_notify?: boolean;
}

/** ApproverVO. */
export interface ApproverView {
  id: string;
  approver_name: string;
  user_id: string;
  user_name: string;
  email: string | null;
  user_type: 'APPROVER';
  phone_number: string | null;
  create_by: string;
  create_time: string;
  app_name: string | null;
  topic_urn: null;
  project_id: string;
}

/** Contact details are shown masked, as DataArts does: first character, stars, last four. */
export function mask(value: string | null): string | null {
  if (value === null || value === '') return value;
  if (value.length <= 5) return '*'.repeat(value.length);
  return `${value[0]}****${value.slice(-4)}`;
}

type Joined = DataartsApproverRow & { user_name: string; creator_name: string | null };

function view(scope: DataartsScope, r: Joined): ApproverView {
  return {
    id: r.id,
    approver_name: r.approver_name,
    user_id: r.user_id,
    user_name: r.user_name,
    email: mask(r.email),
    user_type: 'APPROVER',
    phone_number: mask(r.phone_number),
    create_by: r.creator_name ?? r.created_by,
    create_time: new Date(r.created_at).toISOString(),
    app_name: r.app_name,
    topic_urn: null,
    project_id: scope.tenantId,
  };
}

function joined(ctx: Ctx, workspaceId: string) {
  return ctx.db
    .selectFrom('dataarts_approver as a')
    .innerJoin('app_user as u', 'u.id', 'a.user_id')
    .leftJoin('app_user as c', 'c.id', 'a.created_by')
    .selectAll('a')
    .select(['u.name as user_name', 'c.name as creator_name'])
    .where('a.workspace_id', '=', workspaceId);
}

/** Registers a member who may decide as an approver (workspace admins only). */
export async function createApprover(ctx: Ctx, scope: DataartsScope, input: ApproverInput): Promise<ApproverView> {
  const access = scope;
  requireCapability(access, 'manage');
  const member = await ctx.db
    .selectFrom('membership')
    .select('role')
    .where('workspace_id', '=', access.workspaceId)
    .where('user_id', '=', input.user_id)
    .executeTakeFirst();
  // A user of another tenant is not found, exactly like one that does not exist.
  if (!member) fail('USER_NOT_FOUND', `User ${input.user_id} is not a member of this workspace.`);
  if (!isRole(member.role) || !roleAllows(member.role, 'decide')) {
    fail(
      'VALIDATION_FAILED',
      `User ${input.user_id} is a ${member.role} of this workspace; an approver needs the approver or admin role.`,
    );
  }
  const taken = await ctx.db
    .selectFrom('dataarts_approver')
    .select('id')
    .where('workspace_id', '=', access.workspaceId)
    .where('user_id', '=', input.user_id)
    .executeTakeFirst();
  if (taken) fail('DUPLICATE', `User ${input.user_id} is already approver ${taken.id}.`);
  const row: DataartsApproverRow = {
    id: ctx.ids.next(),
    workspace_id: access.workspaceId,
    user_id: input.user_id,
    approver_name: input.approver_name,
    app_name: input.app_name ?? null,
    email: input.email ?? null,
    phone_number: input.phone_number ?? null,
    email_notify: input.email_notify ? 1 : 0,
    sms_notify: input.sms_notify ? 1 : 0,
    created_by: access.principal.userId,
    created_at: ctx.now(),
  };
  await ctx.db.insertInto('dataarts_approver').values(row).execute();
  const created = await joined(ctx, access.workspaceId).where('a.id', '=', row.id).executeTakeFirstOrThrow();
  return view(scope, created);
}

export async function listApprovers(
  ctx: Ctx,
  scope: DataartsScope,
  q: { approver_name?: string | undefined; limit: number; offset: number },
): Promise<{ total: number; records: ApproverView[] }> {
  let base = joined(ctx, scope.workspaceId);
  if (q.approver_name) base = base.where(ctx.caps.ilike(sql`a.approver_name`, `%${escapeLike(q.approver_name)}%`));
  const { n } = await base
    .clearSelect()
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  const rows = await base.orderBy('a.id').limit(q.limit).offset(q.offset).execute();
  return { total: Number(n), records: rows.map((r) => view(scope, r)) };
}

/** Removes approvers by id; returns how many were removed. Another workspace's ids are not touched. */
export async function deleteApprovers(ctx: Ctx, scope: DataartsScope, ids: readonly string[]): Promise<number> {
  requireCapability(scope, 'manage');
  const res = await ctx.db
    .deleteFrom('dataarts_approver')
    .where('workspace_id', '=', scope.workspaceId)
    .where('id', 'in', [...ids])
    .executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** Whether `userId` is a registered approver of the workspace. */
export async function isApprover(ctx: Ctx, workspaceId: string, userId: string): Promise<boolean> {
  const row = await ctx.db
    .selectFrom('dataarts_approver')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return row !== undefined;
}
