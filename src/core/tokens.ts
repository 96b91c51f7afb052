import { fail } from '../errors.ts';
import { forgetPrincipals, type Principal } from './auth.ts';
import type { Ctx } from './context.ts';
import { hashToken, newTokenSecret } from './token-secret.ts';

export { hashToken, newTokenSecret } from './token-secret.ts';

/** The label of the token BATCHGATE_ADMIN_TOKEN names (users.ts): a new value revokes the others labelled so. */
export const ADMIN_TOKEN_LABEL = 'BATCHGATE_ADMIN_TOKEN';

/** A token as listed: never its secret, nor its hash. */
export interface TokenInfo {
  id: string;
  user_id: string;
  label: string | null;
  created_at: number;
  expires_at: number | null;
}

/** Issues a token for `userId` and returns the secret, which is shown once and never stored. */
export async function issueToken(ctx: Ctx, userId: string, label?: string, secret = newTokenSecret()): Promise<string> {
  return (await createToken(ctx, userId, { label: label ?? null, expiresAt: null }, secret)).token;
}

/** Issues a token with a label and an optional expiry (epoch ms, in the future); the secret is in `token`, once. */
export async function createToken(
  ctx: Ctx,
  userId: string,
  opts: { label: string | null; expiresAt: number | null },
  secret = newTokenSecret(),
): Promise<TokenInfo & { token: string }> {
  const now = ctx.now();
  if (opts.expiresAt !== null && opts.expiresAt <= now) fail('VALIDATION_FAILED', 'expires_at must be in the future.');
  const info: TokenInfo = {
    id: ctx.ids.next(),
    user_id: userId,
    label: opts.label,
    created_at: now,
    expires_at: opts.expiresAt,
  };
  await ctx.db
    .insertInto('api_token')
    .values({ ...info, token_hash: hashToken(secret), last_used_at: null })
    .onConflict((oc) => oc.column('token_hash').doNothing())
    .execute();
  return { ...info, token: secret };
}

/** A user's tokens, oldest first, expired ones included (until revoked). */
export async function listTokens(ctx: Ctx, userId: string): Promise<TokenInfo[]> {
  return ctx.db
    .selectFrom('api_token')
    .select(['id', 'user_id', 'label', 'created_at', 'expires_at'])
    .where('user_id', '=', userId)
    .orderBy('id')
    .execute();
}

/**
 * Revokes (deletes) one of a user's tokens. This process forgets every cached principal at once; other API
 * processes refuse the token once their cached entry ends (auth.ts: AUTH_CACHE_MS).
 */
export async function revokeToken(ctx: Ctx, userId: string, tokenId: string): Promise<void> {
  const res = await ctx.db
    .deleteFrom('api_token')
    .where('id', '=', tokenId)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (Number(res.numDeletedRows) === 0) fail('TOKEN_NOT_FOUND');
  forgetPrincipals(ctx);
}

/**
 * Whether `principal` may list and revoke `userId`'s tokens: themself; a system admin anyone's; a workspace admin
 * those of the members of a workspace it administers, except a system admin's. Someone the caller shares no
 * workspace with answers USER_NOT_FOUND exactly like nobody; a colleague it may not manage, FORBIDDEN.
 */
export async function requireTokenManager(ctx: Ctx, principal: Principal, userId: string): Promise<void> {
  if (principal.userId === userId) return;
  const target = await ctx.db
    .selectFrom('app_user')
    .select(['id', 'is_system_admin'])
    .where('id', '=', userId)
    .executeTakeFirst();
  if (principal.isSystemAdmin) {
    if (!target) fail('USER_NOT_FOUND');
    return;
  }
  const shared = target
    ? await ctx.db
        .selectFrom('membership as mine')
        .innerJoin('membership as theirs', 'theirs.workspace_id', 'mine.workspace_id')
        .select('mine.role')
        .where('mine.user_id', '=', principal.userId)
        .where('theirs.user_id', '=', userId)
        .execute()
    : [];
  if (!shared.length) fail('USER_NOT_FOUND');
  if (target!.is_system_admin === 1 || !shared.some((m) => m.role === 'admin')) {
    fail(
      'FORBIDDEN',
      "Only the user, a system admin or an admin of one of the user's workspaces may manage their tokens.",
    );
  }
}

/**
 * Makes `secret` the one BATCHGATE_ADMIN_TOKEN token of `userId`: every other token labelled so is revoked, so a
 * new value in the environment retires the previous one at the next start.
 */
export async function replaceAdminToken(ctx: Ctx, userId: string, secret: string): Promise<void> {
  await ctx.db
    .deleteFrom('api_token')
    .where('user_id', '=', userId)
    .where('label', '=', ADMIN_TOKEN_LABEL)
    .where('token_hash', '!=', hashToken(secret))
    .execute();
  // A token with this secret may exist already under another label or user: it stays as it was (and is refused).
  await issueToken(ctx, userId, ADMIN_TOKEN_LABEL, secret);
  forgetPrincipals(ctx);
}
