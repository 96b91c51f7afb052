import { Type } from 'typebox';
import {
  createWorkspace,
  getWorkspace,
  listMembers,
  listWorkspaces,
  removeMember,
  setMember,
} from '../../core/workspaces.ts';
import { accessOf, principalOf } from '../auth-hook.ts';
import { presentWorkspace } from '../present.ts';
import { Id, Key, Member, Name, RoleSchema, Workspace, WsParams, responses } from '../schemas.ts';
import type { App, RouteDeps } from '../types.ts';

export function workspaceRoutes(app: App, { ctx }: RouteDeps): void {
  app.post(
    '/workspaces',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'Create a workspace; the caller becomes its admin. A project_id provisions the DataArts datastores.',
        body: Type.Object(
          { name: Name, project_id: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$', maxLength: 64 })) },
          { additionalProperties: false },
        ),
        response: responses({ 201: Workspace }),
      },
    },
    async (req, reply) => {
      const principal = await principalOf(ctx, req);
      const ws = await createWorkspace(ctx, principal, req.body);
      return reply.status(201).send(presentWorkspace(ws));
    },
  );

  app.get(
    '/workspaces',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'Workspaces the caller belongs to',
        response: responses({ 200: Type.Object({ workspaces: Type.Array(Workspace) }) }),
      },
    },
    async (req) => ({ workspaces: (await listWorkspaces(ctx, await principalOf(ctx, req))).map(presentWorkspace) }),
  );

  app.get(
    '/workspaces/:ws',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'A workspace',
        params: WsParams,
        response: responses({ 200: Workspace }),
      },
    },
    async (req) => presentWorkspace(await getWorkspace(ctx, await accessOf(ctx, req, req.params.ws))),
  );

  app.get(
    '/workspaces/:ws/members',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'Members and their roles',
        params: WsParams,
        response: responses({ 200: Type.Object({ members: Type.Array(Member) }) }),
      },
    },
    async (req) => ({ members: await listMembers(ctx, await accessOf(ctx, req, req.params.ws)) }),
  );

  app.put(
    '/workspaces/:ws/members/:user_id',
    {
      schema: {
        tags: ['workspaces'],
        summary: "Change a member's role (workspace admin); add a user directly (system admin only: others invite)",
        params: Type.Object({ ws: Key, user_id: Id }),
        body: Type.Object({ role: RoleSchema }, { additionalProperties: false }),
        response: responses({ 200: Member }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws, 'manage');
      return setMember(ctx, access, req.params.user_id, req.body.role);
    },
  );

  app.delete(
    '/workspaces/:ws/members/:user_id',
    {
      schema: {
        tags: ['workspaces'],
        summary: 'Remove a member (workspace admin)',
        params: Type.Object({ ws: Key, user_id: Id }),
        response: responses({ 204: Type.Null() }),
      },
    },
    async (req, reply) => {
      const access = await accessOf(ctx, req, req.params.ws, 'manage');
      await removeMember(ctx, access, req.params.user_id);
      return reply.status(204).send();
    },
  );
}
