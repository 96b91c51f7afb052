import type { InvitationRow } from '../db/schema.ts';
import { fail } from '../errors.ts';
import { forgetStandings, requireCapability, type Access, type Principal } from './auth.ts';
import { withTx, type Ctx } from './context.ts';
import type { Role } from './roles.ts';

/**
 * Users join a workspace by invitation. A workspace admin invites a user id or an email address; the user sees the
 * invitation (`GET /api/v1/invitations`) and accepts or declines it. Until they accept, the inviter learns nothing
 * about them: an invitation to an id or an address that names nobody is stored and answered exactly like any other,
 * and a declined invitation still reads `pending` to the inviter (then `expired`), since "declined" would say that
 * someone is there. Only a system admin adds members directly (PUT …/members/{user_id}).
 *
 *   pending --accept (the invitee)--> accepted   the invitee is a member with the invited role
 *   pending --decline (the invitee)-> declined   shown to the inviter as pending, until it expires
 *   pending|declined --revoke (an admin)--> revoked
 *   pending past expires_at: expired (computed, never stored)
 */
export const INVITATION_TTL_MS = 14 * 24 * 3_600_000;

/** States as the inviting workspace sees them: `declined` reads `pending`, and `expired` is computed. */
export const INVITATION_VIEW_STATES = Object.freeze(['pending', 'accepted', 'revoked', 'expired'] as const);
export type InvitationState = (typeof INVITATION_VIEW_STATES)[number];

/** An invitation as the workspace's admins see it: what they gave (an id or an address), nothing more. */
export interface Invitation {
  id: string;
  workspace_id: string;
  user_id: string | null;
  email: string | null;
  role: Role;
  state: InvitationState;
  invited_by: string;
  created_at: number;
  expires_at: number;
}

/** An invitation as its invitee sees it: which workspace, who asked, and for which role. */
export interface ReceivedInvitation {
  id: string;
  workspace: { id: string; name: string };
  role: Role;
  invited_by: { id: string; name: string };
  created_at: number;
  expires_at: number;
}

const NOT_FOUND = 'No such invitation for you.';

function adminView(row: InvitationRow, now: number): Invitation {
  const s = row.state;
  const state: InvitationState =
    s === 'pending' || s === 'declined' ? (now > row.expires_at ? 'expired' : 'pending') : s;
  // A declined invitation keeps the id or address the admin gave: the invitee's identity is not filled in.
  return {
    id: row.id,
    workspace_id: row.workspace_id,
    user_id: row.user_id,
    email: row.email,
    role: row.role as Role,
    state,
    invited_by: row.invited_by,
    created_at: row.created_at,
    expires_at: row.expires_at,
  };
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Invites a user id or an email address (exactly one) to the workspace with `role`. Refused only for what the admin
 * can see anyway: a current member (the members list shows them).
 */
export async function createInvitation(
  ctx: Ctx,
  access: Access,
  input: { user_id?: string; email?: string; role: Role },
): Promise<Invitation> {
  requireCapability(access, 'manage');
  if ((input.user_id === undefined) === (input.email === undefined))
    fail('VALIDATION_FAILED', 'Give exactly one of user_id and email.');
  const email = input.email !== undefined ? normalizeEmail(input.email) : null;
  let member = ctx.db
    .selectFrom('membership')
    .innerJoin('app_user', 'app_user.id', 'membership.user_id')
    .select('membership.user_id')
    .where('membership.workspace_id', '=', access.workspaceId);
  member =
    input.user_id !== undefined
      ? member.where('membership.user_id', '=', input.user_id)
      : member.where((eb) => eb(eb.fn('lower', ['app_user.email']), '=', email));
  if (await member.executeTakeFirst())
    fail('DUPLICATE', 'That user is already a member: change their role with PUT …/members/{user_id}.');
  const now = ctx.now();
  const row: InvitationRow = {
    id: ctx.ids.next(),
    workspace_id: access.workspaceId,
    user_id: input.user_id ?? null,
    email,
    role: input.role,
    state: 'pending',
    invited_by: access.principal.userId,
    created_at: now,
    expires_at: now + INVITATION_TTL_MS,
    decided_at: null,
  };
  await ctx.db.insertInto('invitation').values(row).execute();
  return adminView(row, now);
}

export async function listInvitations(ctx: Ctx, access: Access): Promise<Invitation[]> {
  requireCapability(access, 'manage');
  const rows = await ctx.db
    .selectFrom('invitation')
    .selectAll()
    .where('workspace_id', '=', access.workspaceId)
    .orderBy('id')
    .limit(1000)
    .execute();
  const now = ctx.now();
  return rows.map((r) => adminView(r, now));
}

/** Revokes an invitation not yet accepted (again: no change). An accepted one is a membership now: remove the member. */
export async function revokeInvitation(ctx: Ctx, access: Access, id: string): Promise<void> {
  requireCapability(access, 'manage');
  const row = await ctx.db
    .selectFrom('invitation')
    .select('state')
    .where('id', '=', id)
    .where('workspace_id', '=', access.workspaceId)
    .executeTakeFirst();
  if (!row) fail('INVITATION_NOT_FOUND');
  if (row.state === 'accepted') fail('CONFLICT', 'The invitation was accepted: remove the member instead.');
  await ctx.db
    .updateTable('invitation')
    .set({ state: 'revoked', decided_at: ctx.now() })
    .where('id', '=', id)
    .where('state', 'in', ['pending', 'declined'])
    .execute();
}

/** Open invitations addressed to the principal: by their id, or by their email address. */
function addressedTo(ctx: Ctx, principal: Principal, email: string | null) {
  return ctx.db
    .selectFrom('invitation')
    .where('state', '=', 'pending')
    .where('expires_at', '>=', ctx.now())
    .where((eb) =>
      eb.or([eb('invitation.user_id', '=', principal.userId), ...(email ? [eb('invitation.email', '=', email)] : [])]),
    );
}

async function emailOf(ctx: Ctx, principal: Principal): Promise<string | null> {
  const row = await ctx.db.selectFrom('app_user').select('email').where('id', '=', principal.userId).executeTakeFirst();
  return row?.email ? normalizeEmail(row.email) : null;
}

export async function receivedInvitations(ctx: Ctx, principal: Principal): Promise<ReceivedInvitation[]> {
  const rows = await addressedTo(ctx, principal, await emailOf(ctx, principal))
    .innerJoin('workspace', 'workspace.id', 'invitation.workspace_id')
    .leftJoin('app_user as inviter', 'inviter.id', 'invitation.invited_by')
    .select([
      'invitation.id',
      'invitation.role',
      'invitation.created_at',
      'invitation.expires_at',
      'invitation.invited_by',
      'workspace.id as ws_id',
      'workspace.name as ws_name',
      'inviter.name as inviter_name',
    ])
    .orderBy('invitation.id')
    .limit(1000)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    workspace: { id: r.ws_id, name: r.ws_name },
    role: r.role as Role,
    invited_by: { id: r.invited_by, name: r.inviter_name ?? '' },
    created_at: r.created_at,
    expires_at: r.expires_at,
  }));
}

/** Accepts an open invitation addressed to the caller: they become a member with its role. */
export async function acceptInvitation(
  ctx: Ctx,
  principal: Principal,
  id: string,
): Promise<{ workspace_id: string; user_id: string; role: Role }> {
  const email = await emailOf(ctx, principal);
  const out = await withTx(ctx, async (tx) => {
    const row = await addressedTo(tx, principal, email)
      .selectAll('invitation')
      .where('invitation.id', '=', id)
      .executeTakeFirst();
    if (!row) fail('INVITATION_NOT_FOUND', NOT_FOUND);
    const now = tx.now();
    const res = await tx.db
      .updateTable('invitation')
      .set({ state: 'accepted', user_id: principal.userId, decided_at: now })
      .where('id', '=', id)
      .where('state', '=', 'pending')
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) fail('INVITATION_NOT_FOUND', NOT_FOUND);
    await tx.db
      .insertInto('membership')
      .values({ workspace_id: row.workspace_id, user_id: principal.userId, role: row.role, created_at: now })
      .onConflict((oc) => oc.columns(['workspace_id', 'user_id']).doUpdateSet({ role: row.role }))
      .execute();
    return { workspace_id: row.workspace_id, user_id: principal.userId, role: row.role as Role };
  });
  forgetStandings(ctx);
  return out;
}

export async function declineInvitation(ctx: Ctx, principal: Principal, id: string): Promise<void> {
  const email = await emailOf(ctx, principal);
  const row = await addressedTo(ctx, principal, email)
    .select('invitation.id')
    .where('invitation.id', '=', id)
    .executeTakeFirst();
  if (!row) fail('INVITATION_NOT_FOUND', NOT_FOUND);
  await ctx.db
    .updateTable('invitation')
    .set({ state: 'declined', decided_at: ctx.now() })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .execute();
}
