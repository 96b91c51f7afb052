import type { FastifyReply, FastifyRequest } from 'fastify';
import { authenticate, workspaceAccess, type Access, type Principal } from '../core/auth.ts';
import type { Ctx } from '../core/context.ts';
import type { Capability } from '../core/roles.ts';
import { AppError, isAppError } from '../errors.ts';
import type { AuthFailureLimiter } from './auth-failures.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyInstance {
    /** Failed authentications per client address (src/api/auth-failures.ts). */
    authFailures: AuthFailureLimiter;
  }
  interface FastifyContextConfig {
    /** Routes that answer without a token (health, docs, the web UI page; /metrics has its own rule): see app.ts. */
    public?: boolean;
  }
}

/** `Authorization: Bearer <token>`, or `X-Auth-Token` (the DataArts header). */
export function tokenOf(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    // `Bearer <token>` as clients send it, without the regex below (every request ran it): printable ASCII after
    // the one space and at the end, and no line break (the pattern's `.` stops at one), means trim() and the
    // pattern would give exactly the rest.
    if (
      auth.startsWith('Bearer ') &&
      printable(auth.charCodeAt(7)) &&
      printable(auth.charCodeAt(auth.length - 1)) &&
      !auth.includes('\n') &&
      !auth.includes('\r')
    ) {
      return auth.slice(7);
    }
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  const x = req.headers['x-auth-token'];
  return typeof x === 'string' && x ? x : undefined;
}

function printable(code: number): boolean {
  return code > 32 && code < 127;
}

function tooManyFailures(seconds: number): AppError {
  return new AppError(
    'TOO_MANY_AUTH_FAILURES',
    `Too many failed authentications from this address; retry after ${seconds} s, or with a valid token.`,
    undefined,
    { 'retry-after': String(seconds) },
  );
}

/**
 * The caller, from the request's token, once per request (the token's principal is cached: see core/auth.ts). A
 * failed authentication counts against the client address; over the limit, a request without a valid token answers
 * 429 instead of 401 (a valid token always passes: see auth-failures.ts), and one without any token is refused
 * without a database lookup.
 */
export async function principalOf(ctx: Ctx, req: FastifyRequest): Promise<Principal> {
  if (req.principal) return req.principal;
  const token = tokenOf(req);
  const wait = req.server.authFailures.retryAfter(req.ip);
  if (wait > 0 && !token) throw tooManyFailures(wait);
  try {
    return settle(req, await authenticate(ctx, token));
  } catch (e) {
    throw authFailure(req, e, wait);
  }
}

/** The caller's access to the workspace `key` names (id or project_id): see workspaceAccess. */
export async function accessOf(ctx: Ctx, req: FastifyRequest, key: string, capability?: Capability): Promise<Access> {
  return workspaceAccess(ctx, await principalOf(ctx, req), key, capability);
}

/** The principal, kept on the request for the rest of it (shared with the cache: it is read-only). */
function settle(req: FastifyRequest, p: Principal): Principal {
  return (req.principal = p);
}

/** What a failed authentication answers, counted against the address when the token was missing or invalid. */
function authFailure(req: FastifyRequest, e: unknown, wait: number): unknown {
  if (isAppError(e) && e.code === 'UNAUTHENTICATED') {
    if (wait > 0) return tooManyFailures(wait);
    if (req.server.authFailures.fail(req.ip))
      req.log.warn({ ip: req.ip }, 'authentication failures from this address reached the limit');
  }
  return e;
}

/**
 * The onRequest hook of every route that needs a token (app.ts attaches it to each non-public route): the caller
 * is known before the body is read, parsed or validated, so an anonymous client learns nothing of the schema, an
 * anonymous body is never parsed, and every such failure counts toward the auth-failure limit.
 */
export function authFirst(ctx: Ctx) {
  return function authFirst(req: FastifyRequest, _reply: FastifyReply, done: (err?: Error) => void): void {
    principalOf(ctx, req).then(() => done(), done);
  };
}
