import { Type } from 'typebox';
import { requireSystemAdmin } from '../../core/auth.ts';
import { issueToken } from '../../core/tokens.ts';
import { createUser, getUser, listUsers, shareAWorkspace } from '../../core/users.ts';
import { fail } from '../../errors.ts';
import { principalOf } from '../auth-hook.ts';
import { presentUser } from '../present.ts';
import { Id, Name, User, responses } from '../schemas.ts';
import type { App, RouteDeps } from './types.ts';

export function userRoutes(app: App, { ctx }: RouteDeps): void {
  app.post(
    '/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a user (system admin)',
        body: Type.Object({ name: Name, email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })) }, { additionalProperties: false }),
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
    { schema: { tags: ['users'], summary: 'List users (system admin)', response: responses({ 200: Type.Object({ users: Type.Array(User) }) }) } },
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
        summary: 'Issue an API token (system admin, or the user for themself); shown once',
        params: Type.Object({ user_id: Id }),
        body: Type.Optional(Type.Object({ label: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false })),
        response: responses({ 201: Type.Object({ token: Type.String(), user_id: Id }) }),
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
      const token = await issueToken(ctx, user.id, req.body?.label);
      return reply.status(201).send({ token, user_id: user.id });
    },
  );
}
