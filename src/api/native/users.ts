import { Type } from 'typebox';
import { requireSystemAdmin } from '../../core/auth.ts';
import { createToken, listTokens, requireTokenManager, revokeToken, type TokenInfo } from '../../core/tokens.ts';
import { createUser, getUser, listUsers, shareAWorkspace } from '../../core/users.ts';
import { fail } from '../../errors.ts';
import { principalOf } from '../auth-hook.ts';
import { iso, isoOrNull, presentUser } from '../present.ts';
import { DateTimeInput, Id, Name, Time, User, responses } from '../schemas.ts';
import type { App, RouteDeps } from '../types.ts';

const Token = Type.Object({
  id: Id,
  user_id: Id,
  label: Type.Union([Type.String(), Type.Null()]),
  created_at: Time,
  expires_at: Type.Union([Time, Type.Null()], { description: 'After this the token is refused; null: never.' }),
});
const TokenParams = Type.Object({ user_id: Id });

function presentToken(t: TokenInfo) {
  return {
    id: t.id,
    user_id: t.user_id,
    label: t.label,
    created_at: iso(t.created_at),
    expires_at: isoOrNull(t.expires_at),
  };
}

export function userRoutes(app: App, { ctx }: RouteDeps): void {
  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user (system admin)',
        body: Type.Object(
          { name: Name, email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })) },
          { additionalProperties: false },
        ),
        response: responses({ 201: User }),
      },
    },
    async (req, reply) => {
      requireSystemAdmin(await principalOf(ctx, req));
      const user = await createUser(ctx, { name: req.body.name, email: req.body.email ?? null });
      return reply.status(201).send(presentUser(user));
    },
  );

  app.get(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'List users (system admin)',
        response: responses({ 200: Type.Object({ users: Type.Array(User) }) }),
      },
    },
    async (req) => {
      requireSystemAdmin(await principalOf(ctx, req));
      return { users: (await listUsers(ctx)).map(presentUser) };
    },
  );

  app.get(
    '/me',
    { schema: { tags: ['users'], summary: 'The calling user', response: responses({ 200: User }) } },
    async (req) => presentUser(await getUser(ctx, (await principalOf(ctx, req)).userId)),
  );

  app.post(
    '/users/:user_id/tokens',
    {
      schema: {
        tags: ['users'],
        summary: 'Issue an API token (system admin, or the user for themself); the secret is shown once',
        params: TokenParams,
        body: Type.Optional(
          Type.Object(
            {
              label: Type.Optional(Type.String({ maxLength: 200 })),
              expires_at: Type.Optional(
                Type.Union([DateTimeInput, Type.Null()], {
                  description: 'When the token stops working (in the future); absent or null: never.',
                }),
              ),
            },
            { additionalProperties: false },
          ),
        ),
        response: responses({ 201: Type.Intersect([Type.Object({ token: Type.String() }), Token]) }),
      },
    },
    async (req, reply) => {
      const principal = await principalOf(ctx, req);
      if (!principal.isSystemAdmin && principal.userId !== req.params.user_id) {
        // Another tenant's user answers exactly like no user at all; a colleague is known, so refused by role.
        if (!(await shareAWorkspace(ctx, principal.userId, req.params.user_id))) fail('USER_NOT_FOUND');
        fail('FORBIDDEN', 'Only a system admin may issue tokens for other users.');
      }
      const user = await getUser(ctx, req.params.user_id);
      const expires = req.body?.expires_at;
      const created = await createToken(ctx, user.id, {
        label: req.body?.label ?? null,
        expiresAt: expires ? Date.parse(expires) : null,
      });
      return reply.status(201).send({ token: created.token, ...presentToken(created) });
    },
  );

  app.get(
    '/users/:user_id/tokens',
    {
      schema: {
        tags: ['users'],
        summary:
          "A user's API tokens, never their secrets (the user; a system admin; an admin of a workspace the user belongs to)",
        params: TokenParams,
        response: responses({ 200: Type.Object({ tokens: Type.Array(Token) }) }),
      },
    },
    async (req) => {
      await requireTokenManager(ctx, await principalOf(ctx, req), req.params.user_id);
      return { tokens: (await listTokens(ctx, req.params.user_id)).map(presentToken) };
    },
  );

  app.delete(
    '/users/:user_id/tokens/:token_id',
    {
      schema: {
        tags: ['users'],
        summary:
          "Revoke one of a user's API tokens (the user; a system admin; an admin of a workspace the user belongs to)",
        params: Type.Object({ user_id: Id, token_id: Id }),
        response: responses({ 204: Type.Null() }),
      },
    },
    async (req, reply) => {
      await requireTokenManager(ctx, await principalOf(ctx, req), req.params.user_id);
      await revokeToken(ctx, req.params.user_id, req.params.token_id);
      return reply.status(204).send();
    },
  );
}
