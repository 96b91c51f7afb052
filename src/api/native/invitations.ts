import { Type } from 'typebox';
import {
  acceptInvitation,
  createInvitation,
  declineInvitation,
  listInvitations,
  receivedInvitations,
  revokeInvitation,
  INVITATION_VIEW_STATES,
  type Invitation,
  type ReceivedInvitation,
} from '../../core/invitations.ts';
import { accessOf, principalOf } from '../auth-hook.ts';
import { Id, Key, RoleSchema, StringEnum, Time, WsParams, responses } from '../schemas.ts';
import type { App, RouteDeps } from '../types.ts';

const iso = (ms: number) => new Date(ms).toISOString();

const InvitationSchema = Type.Object(
  {
    id: Id,
    workspace_id: Id,
    user_id: Type.Union([Id, Type.Null()], {
      description: 'The user id invited, as given (an id that names nobody reads the same).',
    }),
    email: Type.Union([Type.String(), Type.Null()], { description: 'The address invited, as given (lower-cased).' }),
    role: RoleSchema,
    state: StringEnum(INVITATION_VIEW_STATES, {
      description:
        'A declined invitation reads `pending` until it expires: the inviter learns nothing about the invitee before they accept.',
    }),
    invited_by: Id,
    created_at: Time,
    expires_at: Time,
  },
  { description: 'An invitation as the workspace admins see it.' },
);

const ReceivedSchema = Type.Object(
  {
    id: Id,
    workspace: Type.Object({ id: Id, name: Type.String() }),
    role: RoleSchema,
    invited_by: Type.Object({ id: Id, name: Type.String() }),
    created_at: Time,
    expires_at: Time,
  },
  { description: 'An open invitation addressed to the caller (by user id or by email).' },
);

function presentInvitation(i: Invitation) {
  return { ...i, created_at: iso(i.created_at), expires_at: iso(i.expires_at) };
}

function presentReceived(i: ReceivedInvitation) {
  return { ...i, created_at: iso(i.created_at), expires_at: iso(i.expires_at) };
}

export function invitationRoutes(app: App, { ctx }: RouteDeps): void {
  app.post(
    '/workspaces/:ws/invitations',
    {
      schema: {
        tags: ['workspaces'],
        summary:
          'Invite a user by id or email (workspace admin); they become a member when they accept. Reveals nothing about them.',
        params: WsParams,
        body: Type.Object(
          {
            user_id: Type.Optional(Id),
            email: Type.Optional(Type.String({ format: 'email', maxLength: 320 })),
            role: RoleSchema,
          },
          { additionalProperties: false },
        ),
        response: responses({ 201: InvitationSchema }),
      },
    },
    async (req, reply) => {
      const access = await accessOf(ctx, req, req.params.ws, 'manage');
      return reply.status(201).send(presentInvitation(await createInvitation(ctx, access, req.body)));
    },
  );

  app.get(
    '/workspaces/:ws/invitations',
    {
      schema: {
        tags: ['workspaces'],
        summary: "The workspace's invitations (workspace admin)",
        params: WsParams,
        response: responses({ 200: Type.Object({ invitations: Type.Array(InvitationSchema) }) }),
      },
    },
    async (req) => ({
      invitations: (await listInvitations(ctx, await accessOf(ctx, req, req.params.ws, 'manage'))).map(
        presentInvitation,
      ),
    }),
  );

  app.delete(
    '/workspaces/:ws/invitations/:id',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'Revoke an invitation not yet accepted (workspace admin)',
        params: Type.Object({ ws: Key, id: Id }),
        response: responses({ 204: Type.Null() }),
      },
    },
    async (req, reply) => {
      await revokeInvitation(ctx, await accessOf(ctx, req, req.params.ws, 'manage'), req.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/invitations',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'Open invitations addressed to the caller',
        response: responses({ 200: Type.Object({ invitations: Type.Array(ReceivedSchema) }) }),
      },
    },
    async (req) => ({
      invitations: (await receivedInvitations(ctx, await principalOf(ctx, req))).map(presentReceived),
    }),
  );

  app.post(
    '/invitations/:id/accept',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'Accept an invitation: the caller becomes a member with its role',
        params: Type.Object({ id: Id }),
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: responses({ 200: Type.Object({ workspace_id: Id, user_id: Id, role: RoleSchema }) }),
      },
    },
    async (req) => acceptInvitation(ctx, await principalOf(ctx, req), req.params.id),
  );

  app.post(
    '/invitations/:id/decline',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'Decline an invitation (the inviter is not told)',
        params: Type.Object({ id: Id }),
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: responses({ 204: Type.Null() }),
      },
    },
    async (req, reply) => {
      await declineInvitation(ctx, await principalOf(ctx, req), req.params.id);
      return reply.status(204).send();
    },
  );
}
