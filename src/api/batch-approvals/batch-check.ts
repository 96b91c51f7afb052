import type { ErrorCode } from '../../errors.ts';
import { fail } from '../../errors.ts';
import type { Principal } from '../../core/auth.ts';
import type { Ctx } from '../../core/context.ts';
import { decideTickets } from '../../core/operations/run.ts';
import type { Actor, OperationOptions } from '../../core/operations/types.ts';
import { isRole, type Role } from '../../core/roles.ts';

/**
 * The batch approval open API (docs/batch-approvals.md): which of a user's tasks (tickets) may be approved in a batch, and on
 * whose authority. No workspace is named: a call covers the tickets of every workspace in the user's scope.
 *
 * Scope: `user_id` is the caller, or a user the caller may act for. A caller acts for another user only where the
 * caller administers every workspace the call involves (workspace admin; a system admin administers all) and the
 * user belongs to each of them; never for a system admin, never for a user who shares no administered workspace
 * with the caller (FORBIDDEN, worded alike whichever it is). A task in a workspace the caller can see but where that
 * does not hold refuses the whole call (FORBIDDEN); tasks in workspaces the caller cannot see are "not visible":
 * answered exactly like tasks that do not exist. What such a call decides is recorded as the caller's decision on
 * the user's behalf (Actor.by).
 *
 * Verdicts are not a second copy of the rules: `_check` runs the very planner a batch approval runs
 * (`decideTickets` → `planDecision`, with `mayDecide`) as a dry run, with the same options the engine uses for a
 * batch with no comment (BATCH_APPROVAL_OPTIONS), so `_check` and `_submit` cannot disagree.
 */

/** At most this many task ids per `_check` or `_submit` (the seed's limit). */
export const MAX_BATCH_APPROVAL_TASKS = 200;

/** A batch approval gives no comment and no input: exactly what the engine runs a comment-less approve batch with. */
export const BATCH_APPROVAL_OPTIONS: Readonly<OperationOptions> = Object.freeze({ comment: null, inBatch: true });

export interface ApprovalScope {
  /** Whose tasks: approvals are recorded as this user's decisions. */
  readonly user: Principal;
  /** Who called (the user, or an admin acting for them), recorded on the batches for audit. */
  readonly requestedBy: Principal;
  /** Every workspace, as admin: the user is a system admin and the caller administers all (or is the user). */
  readonly all: boolean;
  /** Otherwise: the workspaces in scope and the user's role in each. */
  readonly roles: ReadonlyMap<string, Role>;
  /**
   * Acting for another user: the workspaces the caller can see (null: every one, a system admin). A task in one of
   * them outside `roles` refuses the call; a task elsewhere is not visible. Null too when not acting.
   */
  readonly callerSees: ReadonlySet<string> | null;
  readonly acting: boolean;
}

export interface CheckVerdict {
  task_id: string;
  supported: boolean;
  /** Catalog code of the reason (e.g. TICKET_ALREADY_DECIDED), when not supported. */
  code?: ErrorCode;
  /** A human reason, when not supported. */
  reason?: string;
}

export const NOT_VISIBLE_REASON = 'The task does not exist, or is not visible to this user.';

/** The ids as the API takes them (strings, or integers), as strings; more than the limit is refused whole. */
export function normalizeTaskIds(ids: readonly (string | number)[]): string[] {
  if (ids.length > MAX_BATCH_APPROVAL_TASKS) {
    fail('TOO_MANY_TARGETS', `At most ${MAX_BATCH_APPROVAL_TASKS} task ids per call; got ${ids.length}.`);
  }
  return ids.map((id) => (typeof id === 'number' ? String(id) : id));
}

async function memberships(ctx: Ctx, userId: string, roles?: readonly Role[]): Promise<Map<string, Role>> {
  let q = ctx.db.selectFrom('membership').select(['workspace_id', 'role']).where('user_id', '=', userId);
  if (roles) q = q.where('role', 'in', [...roles]);
  const rows = await q.orderBy('workspace_id').execute();
  return new Map(rows.flatMap((r) => (isRole(r.role) ? [[r.workspace_id, r.role] as const] : [])));
}

export const ACTING_REFUSED =
  'user_id must be your own id, unless you administer every workspace of the tasks and that user (not a system admin) belongs to each of them.';

/**
 * Resolves whose tasks a call is about and in which workspaces. `user_id` other than the caller: a user (not a
 * system admin) who belongs to a workspace the caller administers (FORBIDDEN otherwise, one message for every such
 * case; an unknown user is FORBIDDEN too, except to a system admin, who may list users anyway: USER_NOT_FOUND). A
 * user in no workspace has no tasks: FORBIDDEN.
 */
export async function resolveApprovalScope(ctx: Ctx, caller: Principal, userId: string): Promise<ApprovalScope> {
  if (userId === caller.userId) {
    if (caller.isSystemAdmin)
      return { user: caller, requestedBy: caller, all: true, roles: new Map(), callerSees: null, acting: false };
    const roles = await memberships(ctx, caller.userId);
    if (roles.size === 0) fail('FORBIDDEN', 'The user belongs to no workspace, so has no tasks to approve.');
    return { user: caller, requestedBy: caller, all: false, roles, callerSees: null, acting: false };
  }
  const row = await ctx.db
    .selectFrom('app_user')
    .select(['id', 'name', 'is_system_admin'])
    .where('id', '=', userId)
    .executeTakeFirst();
  if (!row) {
    if (caller.isSystemAdmin) fail('USER_NOT_FOUND', `No user ${userId}.`);
    fail('FORBIDDEN', ACTING_REFUSED);
  }
  // A system admin's name carries every workspace's admin role: nobody else may borrow it.
  if (row.is_system_admin === 1) fail('FORBIDDEN', ACTING_REFUSED);
  const user: Principal = { userId: row.id, name: row.name, isSystemAdmin: false };
  let roles = await memberships(ctx, user.userId);
  let callerSees: Set<string> | null = null;
  if (!caller.isSystemAdmin) {
    const callers = await memberships(ctx, caller.userId);
    callerSees = new Set(callers.keys());
    roles = new Map([...roles].filter(([ws]) => callers.get(ws) === 'admin'));
  }
  if (roles.size === 0) fail('FORBIDDEN', ACTING_REFUSED);
  return { user, requestedBy: caller, all: false, roles, callerSees, acting: true };
}

/** The user's role in a workspace of the scope; null outside it. */
export function scopeRole(scope: ApprovalScope, workspaceId: string): Role | null {
  return scope.all ? 'admin' : (scope.roles.get(workspaceId) ?? null);
}

/** The actor a batch approval in `workspaceId` runs as: the user, with their role there. */
export function scopeActor(scope: ApprovalScope, workspaceId: string): Actor {
  const role = scopeRole(scope, workspaceId);
  if (!role) fail('WORKSPACE_NOT_FOUND');
  return { principal: scope.user, workspaceId, role, ...(scope.acting ? { by: scope.requestedBy } : {}) };
}

/**
 * The workspace of each visible ticket among `ids` (tickets outside the scope are absent, like missing ones). Acting
 * for another user, a ticket the caller can see outside the scope refuses the whole call: the caller does not
 * administer its workspace, or the user does not belong to it.
 */
export async function locateTickets(
  ctx: Ctx,
  scope: ApprovalScope,
  ids: readonly string[],
): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const distinct = [...new Set(ids)];
  for (let i = 0; i < distinct.length; i += 500) {
    const rows = await ctx.db
      .selectFrom('ticket')
      .select(['id', 'workspace_id'])
      .where('id', 'in', distinct.slice(i, i + 500))
      .execute();
    for (const r of rows) {
      if (scopeRole(scope, r.workspace_id)) found.set(r.id, r.workspace_id);
      else if (scope.acting && (scope.callerSees === null || scope.callerSees.has(r.workspace_id)))
        fail('FORBIDDEN', ACTING_REFUSED);
    }
  }
  return found;
}

/** Visible ids grouped by workspace, each group in first-seen order; `invisible` in first-seen order. */
export function groupByWorkspace(
  ids: readonly string[],
  located: ReadonlyMap<string, string>,
): { byWorkspace: Map<string, string[]>; invisible: string[] } {
  const byWorkspace = new Map<string, string[]>();
  const invisible: string[] = [];
  for (const id of new Set(ids)) {
    const ws = located.get(id);
    if (ws === undefined) invisible.push(id);
    else byWorkspace.set(ws, [...(byWorkspace.get(ws) ?? []), id]);
  }
  return { byWorkspace, invisible };
}

/**
 * `_check`: one verdict per position of `ids`, in request order (a repeated id gets the same verdict at each of
 * its positions). Each workspace's tickets are planned by the batch planner as a dry run, which writes nothing.
 */
export async function checkBatchApproval(
  ctx: Ctx,
  scope: ApprovalScope,
  ids: readonly string[],
): Promise<CheckVerdict[]> {
  const { byWorkspace } = groupByWorkspace(ids, await locateTickets(ctx, scope, ids));
  const verdicts = new Map<string, Omit<CheckVerdict, 'task_id'>>();
  for (const [ws, tickets] of byWorkspace) {
    const outcomes = await decideTickets(ctx, scopeActor(scope, ws), tickets, 'approve', {
      ...BATCH_APPROVAL_OPTIONS,
      dryRun: true,
    });
    for (const o of outcomes) {
      verdicts.set(
        o.target_id,
        o.state === 'succeeded'
          ? { supported: true }
          : {
              supported: false,
              code: o.error_code ?? 'CONFLICT',
              reason: o.error_message ?? 'The task may not be approved.',
            },
      );
    }
  }
  return ids.map((id) => ({
    task_id: id,
    ...(verdicts.get(id) ?? { supported: false, code: 'TICKET_NOT_FOUND', reason: NOT_VISIBLE_REASON }),
  }));
}
