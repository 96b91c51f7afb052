import { fail } from '../errors.ts';
import type { Ctx } from './context.ts';
import { ExpiringCache } from './expiring-cache.ts';
import { isRole, roleAllows, type Capability, type Role } from './roles.ts';
import { hashToken } from './token-secret.ts';

/** Who is calling: resolved from the token once per request. */
export interface Principal {
  readonly userId: string;
  readonly name: string;
  readonly isSystemAdmin: boolean;
}

/**
 * Who an operation on items acts as, in one workspace: whose authority it runs with (their role, their
 * assignments), and who really acts when that is someone else.
 */
export interface Actor {
  readonly principal: Principal;
  readonly workspaceId: string;
  readonly role: Role;
  /**
   * Who really acts, when it is not `principal`: an admin acting in `principal`'s name (the batch approval API's
   * user_id). What is written records this user as its author and `principal` as `on_behalf_of`.
   */
  readonly by?: Principal;
}

/** A principal's standing in one workspace, as a request resolved it: the Actor it acts as, and the project. */
export interface Access extends Actor {
  readonly projectId: string | null;
}

/**
 * Every request authenticates and most then resolve a workspace: two queries before any work, which were two
 * thirds of GET batch status on SQLite and two of its three round trips on PostgreSQL (docs/performance.md). So
 * both answers are kept for a moment, per database:
 * - a token's principal, by the token, with the token's expiry: a revocation clears this in its own process, so it
 *   takes effect there at once, and other API processes refuse the token once their entry ends (AUTH_CACHE_MS);
 *   the expiry is compared with the clock on every request, cached or not, so a token is never taken past it;
 * - a principal's standing in a workspace: every membership change clears it in its own process, so it takes
 *   effect there at once; other API processes on the same PostgreSQL database follow within AUTH_CACHE_MS.
 * Failures are not kept: a token or workspace that does not exist yet is looked up again.
 */
const AUTH_CACHE_MS = 2000;
const AUTH_CACHE_ENTRIES = 10_000;

interface Standing {
  id: string;
  project_id: string | null;
  role: string | null;
}

/** A token's principal as cached: `expiresAt` is Infinity for a token that never expires. */
interface TokenHolder {
  principal: Principal;
  expiresAt: number;
}

interface AuthCaches {
  principals: ExpiringCache<TokenHolder>;
  standings: ExpiringCache<Standing>;
}

/**
 * The cached value for `key`, else `load`'s. Inside a transaction the answer is read, not kept: the transaction
 * may yet roll back what it read.
 */
async function cached<V>(
  ctx: Ctx,
  cache: ExpiringCache<V>,
  key: string,
  load: () => Promise<V | undefined>,
): Promise<V | undefined> {
  if (ctx.db.isTransaction) return load();
  return cache.get(key, load);
}

function authCaches(ctx: Ctx): AuthCaches {
  let c = ctx.cache.get('auth') as AuthCaches | undefined;
  if (!c) {
    c = {
      principals: new ExpiringCache(AUTH_CACHE_MS, AUTH_CACHE_ENTRIES),
      standings: new ExpiringCache(AUTH_CACHE_MS, AUTH_CACHE_ENTRIES),
    };
    ctx.cache.set('auth', c);
  }
  return c;
}

/** After a token is revoked (or users change): every cached principal is forgotten. */
export function forgetPrincipals(ctx: Ctx): void {
  authCaches(ctx).principals.clear();
}

/** After any membership change: every cached standing in a workspace is forgotten. */
export function forgetStandings(ctx: Ctx): void {
  authCaches(ctx).standings.clear();
}

function knownPrincipal(ctx: Ctx, holder: TokenHolder | undefined): Principal {
  if (!holder) fail('UNAUTHENTICATED', 'The API token is not valid.');
  // A number comparison per request: a cached entry may outlive the token's expiry, the answer may not.
  if (ctx.now() >= holder.expiresAt) fail('UNAUTHENTICATED', 'The API token has expired.');
  return holder.principal;
}

/**
 * The token's principal; a missing or invalid token throws UNAUTHENTICATED (at once, or as a rejection).
 * Cached by the token itself, hashed only to look it up: its SHA-256 was 1.5 µs of the ~36 a cached GET batch status
 * cost (a V8 profile under bench:load). The token is then held in this process's memory, as every request carrying
 * it is, until the first principal read after its entry expires (AUTH_CACHE_MS; expiring-cache.ts drops expired
 * keys on insert); it is never written anywhere.
 */
export async function authenticate(ctx: Ctx, token: string | undefined): Promise<Principal> {
  if (!token) fail('UNAUTHENTICATED');
  const holder = await cached(ctx, authCaches(ctx).principals, token, async (): Promise<TokenHolder | undefined> => {
    const hash = hashToken(token);
    const row = await ctx.db
      .selectFrom('api_token')
      .innerJoin('app_user', 'app_user.id', 'api_token.user_id')
      .select(['app_user.id', 'app_user.name', 'app_user.is_system_admin', 'api_token.expires_at'])
      .where('api_token.token_hash', '=', hash)
      .executeTakeFirst();
    return (
      row && {
        principal: { userId: row.id, name: row.name, isSystemAdmin: row.is_system_admin === 1 },
        expiresAt: row.expires_at === null ? Infinity : Number(row.expires_at),
      }
    );
  });
  return knownPrincipal(ctx, holder);
}

/**
 * The caller's access to a workspace named by id or project_id. A workspace the caller does not belong to
 * answers 404 exactly like one that does not exist, so ids of other tenants reveal nothing.
 */
export async function workspaceAccess(
  ctx: Ctx,
  principal: Principal,
  workspaceKey: string,
  capability: Capability = 'read',
): Promise<Access> {
  const ws = await cached(ctx, authCaches(ctx).standings, `${principal.userId} ${workspaceKey}`, () =>
    ctx.db
      .selectFrom('workspace')
      .leftJoin('membership', (j) =>
        j.onRef('membership.workspace_id', '=', 'workspace.id').on('membership.user_id', '=', principal.userId),
      )
      .select(['workspace.id', 'workspace.project_id', 'membership.role'])
      .where((eb) => eb.or([eb('workspace.id', '=', workspaceKey), eb('workspace.project_id', '=', workspaceKey)]))
      .orderBy('workspace.id')
      .executeTakeFirst(),
  );
  return accessIn(principal, ws, capability);
}

function accessIn(principal: Principal, ws: Standing | undefined, capability: Capability): Access {
  if (!ws) fail('WORKSPACE_NOT_FOUND');
  let role: Role;
  if (principal.isSystemAdmin) role = 'admin';
  else if (ws.role && isRole(ws.role)) role = ws.role;
  else fail('WORKSPACE_NOT_FOUND');
  if (!roleAllows(role, capability)) fail('FORBIDDEN', `The ${role} role may not ${capability} in this workspace.`);
  return { principal, workspaceId: ws.id, projectId: ws.project_id, role };
}

export function requireSystemAdmin(principal: Principal): void {
  if (!principal.isSystemAdmin) fail('FORBIDDEN', 'Only a system admin may do this.');
}

export function requireCapability(access: Access, capability: Capability): void {
  if (!roleAllows(access.role, capability)) {
    fail('FORBIDDEN', `The ${access.role} role may not ${capability} in this workspace.`);
  }
}

/**
 * A user as they stand in a workspace now (a system admin is admin everywhere), or null when they no longer
 * exist or belong to it. The engine runs a batch as its submitter through this, so a removed member's batch
 * stops acting for them.
 */
export async function standingIn(
  ctx: Ctx,
  userId: string,
  workspaceId: string,
): Promise<{ principal: Principal; role: Role } | null> {
  const row = await ctx.db
    .selectFrom('app_user')
    .leftJoin('membership', (j) =>
      j.onRef('membership.user_id', '=', 'app_user.id').on('membership.workspace_id', '=', workspaceId),
    )
    .select(['app_user.id', 'app_user.name', 'app_user.is_system_admin', 'membership.role'])
    .where('app_user.id', '=', userId)
    .executeTakeFirst();
  if (!row) return null;
  const principal = { userId: row.id, name: row.name, isSystemAdmin: row.is_system_admin === 1 };
  if (principal.isSystemAdmin) return { principal, role: 'admin' };
  return row.role && isRole(row.role) ? { principal, role: row.role } : null;
}
