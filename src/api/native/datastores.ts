import { Type } from 'typebox';
import { createDatastore, getDatastore, listDatastores } from '../../core/datastores.ts';
import { accessOf } from '../auth-hook.ts';
import { presentDatastore } from '../present.ts';
import { DatastoreBody, DatastoreSchema, Key, WsParams, responses } from '../schemas.ts';
import type { App, RouteDeps } from '../types.ts';

export const DsParams = Type.Object({ ws: Key, ds: Key });

export function datastoreRoutes(app: App, { ctx }: RouteDeps): void {
  app.post(
    '/workspaces/:ws/datastores',
    {
      schema: {
        tags: ['datastores'],
        summary: 'Create a datastore with its fields, statuses and actions (workspace admin)',
        params: WsParams,
        body: DatastoreBody,
        response: responses({ 201: DatastoreSchema }),
      },
    },
    async (req, reply) => {
      const access = await accessOf(ctx, req, req.params.ws, 'manage');
      const ds = await createDatastore(ctx, access.workspaceId, req.body);
      return reply.status(201).send(presentDatastore(ds));
    },
  );

  app.get(
    '/workspaces/:ws/datastores',
    {
      schema: {
        tags: ['datastores'],
        summary: 'Datastores of the workspace',
        params: WsParams,
        response: responses({ 200: Type.Object({ datastores: Type.Array(DatastoreSchema) }) }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws);
      return { datastores: (await listDatastores(ctx, access)).map(presentDatastore) };
    },
  );

  app.get(
    '/workspaces/:ws/datastores/:ds',
    {
      schema: {
        tags: ['datastores'],
        summary: 'A datastore by id or display_id',
        params: DsParams,
        response: responses({ 200: DatastoreSchema }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws);
      return presentDatastore(await getDatastore(ctx, access.workspaceId, req.params.ds));
    },
  );
}
