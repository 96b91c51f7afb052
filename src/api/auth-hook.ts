import type { FastifyRequest } from 'fastify';
import { authenticate, type Principal } from '../core/auth.ts';
import type { Ctx } from '../core/context.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
  interface FastifyContextConfig {
    /** Routes that answer without a token (health, docs). */
    public?: boolean;
  }
}

/** `Authorization: Bearer <token>`, or `X-Auth-Token` (the DataArts header). */
export function tokenOf(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (m) return m[1];
  }
  const x = req.headers['x-auth-token'];
  return typeof x === 'string' && x ? x : undefined;
}

export async function principalOf(ctx: Ctx, req: FastifyRequest): Promise<Principal> {
  if (!req.principal) req.principal = await authenticate(ctx, tokenOf(req));
  return req.principal;
}
