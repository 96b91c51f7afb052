import { fail } from '../errors.ts';
import type { UserRow } from '../db/schema.ts';
import type { Ctx } from './context.ts';
import { replaceAdminToken } from './tokens.ts';

export interface User {
  id: string;
  name: string;
  email: string | null;
  is_system_admin: boolean;
  created_at: number;
}

export function toUser(row: UserRow): User {
  return {
    id: row.id,
    name: row.name,
    email: row.email,
    is_system_admin: row.is_system_admin === 1,
    created_at: row.created_at,
  };
}

export async function createUser(
  ctx: Ctx,
  input: { name: string; email?: string | null; isSystemAdmin?: boolean; id?: string },
): Promise<User> {
  const row: UserRow = {
    id: input.id ?? ctx.ids.next(),
    name: input.name,
    email: input.email ?? null,
    is_system_admin: input.isSystemAdmin ? 1 : 0,
    created_at: ctx.now(),
  };
  await ctx.db.insertInto('app_user').values(row).execute();
  return toUser(row);
}

export async function getUser(ctx: Ctx, id: string): Promise<User> {
  const row = await ctx.db.selectFrom('app_user').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) fail('USER_NOT_FOUND');
  return toUser(row);
}

/** Whether two users belong to one workspace together: who a non-admin caller may know exists. */
export async function shareAWorkspace(ctx: Ctx, userId: string, otherId: string): Promise<boolean> {
  const row = await ctx.db
    .selectFrom('membership as a')
    .innerJoin('membership as b', 'b.workspace_id', 'a.workspace_id')
    .select('a.workspace_id')
    .where('a.user_id', '=', userId)
    .where('b.user_id', '=', otherId)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function listUsers(ctx: Ctx): Promise<User[]> {
  const rows = await ctx.db.selectFrom('app_user').selectAll().orderBy('id').execute();
  return rows.map(toUser);
}

/**
 * Makes sure the bootstrap system admin exists and that `token` authenticates as it. Idempotent, so every
 * start with BATCHGATE_ADMIN_TOKEN set can call it; a changed token replaces the previous one, which stops working
 * (on other API processes once their cached principal ends, auth.ts).
 */
export async function ensureSystemAdmin(ctx: Ctx, token: string): Promise<User> {
  const existing = await ctx.db
    .selectFrom('app_user')
    .selectAll()
    .where('is_system_admin', '=', 1)
    .orderBy('id')
    .executeTakeFirst();
  const user = existing ? toUser(existing) : await createUser(ctx, { name: 'admin', isSystemAdmin: true });
  await replaceAdminToken(ctx, user.id, token);
  return user;
}
