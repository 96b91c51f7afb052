import { Type } from 'typebox';
import {
  createConnection,
  deleteConnection,
  getConnection,
  listConnectionTables,
  listConnections,
  type Connection,
} from '../../core/connections/connections.ts';
import { accessOf } from '../auth-hook.ts';
import { iso } from '../present.ts';
import { Id, Key, Name, Time, WsParams, responses } from '../schemas.ts';
import type { App, RouteDeps } from '../types.ts';

const tags = ['connections'];

const ConnectionSchema = Type.Object({
  id: Id,
  workspace_id: Id,
  name: Type.String(),
  dialect: Type.Union([Type.Literal('sqlite'), Type.Literal('postgres')]),
  url: Type.String({
    description:
      'The effective target: postgres://user:****@host:port/database?sslmode=… (the password only as ****), or sqlite: and the file with its symlinks resolved. The URL itself is never returned.',
  }),
  schema: Type.Union([Type.String(), Type.Null()], {
    description: 'The PostgreSQL schema read (default public); null for SQLite.',
  }),
  created_by: Id,
  created_at: Time,
});

const present = (c: Connection) => ({ ...c, created_at: iso(c.created_at) });
const ConnParams = Type.Object({ ws: Key, id: Id });

/** Data connections (workspace admins): source databases for DataArts reverse. URLs are stored encrypted. */
export function connectionRoutes(app: App, { ctx }: RouteDeps): void {
  app.post(
    '/workspaces/:ws/connections',
    {
      schema: {
        tags,
        summary:
          'Register a source database (workspace admin): checked by connecting, stored encrypted (needs BATCHGATE_SECRET_KEY)',
        params: WsParams,
        body: Type.Object(
          {
            name: Name,
            url: Type.String({
              minLength: 1,
              maxLength: 2000,
              description:
                'postgres://user:password@host:port/database (sslmode the only query parameter), or an SQLite file path (sqlite: prefix optional). Only what BATCHGATE_CONNECTION_SOURCES lists.',
            }),
            schema: Type.Optional(
              Type.String({
                minLength: 1,
                maxLength: 63,
                description: 'PostgreSQL: the schema to read (default public).',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: responses({ 201: ConnectionSchema }),
      },
    },
    async (req, reply) => {
      const access = await accessOf(ctx, req, req.params.ws);
      return reply.status(201).send(present(await createConnection(ctx, access, req.body)));
    },
  );

  app.get(
    '/workspaces/:ws/connections',
    {
      schema: {
        tags,
        summary: 'Data connections (workspace admin)',
        params: WsParams,
        response: responses({ 200: Type.Object({ connections: Type.Array(ConnectionSchema) }) }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws);
      return { connections: (await listConnections(ctx, access)).map(present) };
    },
  );

  app.get(
    '/workspaces/:ws/connections/:id',
    {
      schema: {
        tags,
        summary: 'A data connection (workspace admin)',
        params: ConnParams,
        response: responses({ 200: ConnectionSchema }),
      },
    },
    async (req) => present(await getConnection(ctx, await accessOf(ctx, req, req.params.ws), req.params.id)),
  );

  app.delete(
    '/workspaces/:ws/connections/:id',
    {
      schema: {
        tags,
        summary: 'Delete a data connection (workspace admin)',
        params: ConnParams,
        response: responses({ 204: Type.Null() }),
      },
    },
    async (req, reply) => {
      await deleteConnection(ctx, await accessOf(ctx, req, req.params.ws), req.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/workspaces/:ws/connections/:id/tables',
    {
      schema: {
        tags,
        summary: "The tables of a connection's database now, in name order (workspace admin)",
        params: ConnParams,
        response: responses({ 200: Type.Object({ tables: Type.Array(Type.String()) }) }),
      },
    },
    async (req) => ({
      tables: await listConnectionTables(ctx, await accessOf(ctx, req, req.params.ws), req.params.id),
    }),
  );
}
