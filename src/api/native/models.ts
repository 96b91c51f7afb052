import { Type } from 'typebox';
import { modelDdl } from '../../core/models/ddl.ts';
import type { ModelEntity } from '../../core/models/entities.ts';
import { DW_TYPES } from '../../core/models/physical/types.ts';
import { submitReverse, submitTransform } from '../../engine/engine.ts';
import { accessOf } from '../auth-hook.ts';
import { iso } from '../present.ts';
import { requestOf } from '../request-context.ts';
import { Id, Key, Name, Time, responses } from '../schemas.ts';
import { BatchSchema, presentBatch } from './batches.ts';
import type { App, RouteDeps } from '../types.ts';

const tags = ['models'];
const ModelParams = Type.Object({ ws: Key, model_id: Id });
const DwTypeSchema = Type.Union(DW_TYPES.map((t) => Type.Literal(t)));
/** PostgreSQL identifiers are at most 63 bytes; SQLite's have no limit, 255 is plenty. */
const TableName = Type.String({ minLength: 1, maxLength: 255 });
const MAX_TABLES = 100_000;

const ModelSchema = Type.Object({
  id: Id,
  name: Type.String(),
  is_physical: Type.Boolean(),
  dw_type: Type.Union([Type.String(), Type.Null()]),
  description: Type.Union([Type.String(), Type.Null()]),
  created_at: Time,
  updated_at: Time,
});
const presentModel = (m: ModelEntity) => ({
  id: m.id,
  name: m.name,
  is_physical: m.is_physical,
  dw_type: m.dw_type_raw,
  description: m.description,
  created_at: iso(m.created_at),
  updated_at: iso(m.updated_at),
});
const Headers = Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) });
const MaxRate = Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }));

/**
 * DataArts model operations (MODEL entities and their TABLE_MODEL / TABLE_MODEL_LOGIC entities): reverse a
 * database into a physical model, transform a logical model into a physical one (both engine batches, 202), and
 * the DDL of a physical model.
 */
export function modelRoutes(app: App, { ctx, engine }: RouteDeps): void {
  app.post(
    '/workspaces/:ws/models/:model_id/reverse',
    {
      schema: {
        tags,
        summary: 'ER_REVERSE_DB: one TABLE_MODEL per table of a data connection, into this physical model (a batch)',
        params: ModelParams,
        headers: Headers,
        body: Type.Object(
          {
            connection_id: Id,
            tables: Type.Optional(
              Type.Array(TableName, {
                minItems: 1,
                maxItems: MAX_TABLES,
                description: 'Only these tables; the others are skipped by the user.',
              }),
            ),
            exclude_tables: Type.Optional(
              Type.Array(TableName, {
                maxItems: MAX_TABLES,
                description: 'Tables to leave out (skipped by the user).',
              }),
            ),
            max_rate: MaxRate,
          },
          { additionalProperties: false },
        ),
        response: responses({ 202: BatchSchema }),
      },
    },
    async (req, reply) => {
      const access = await accessOf(ctx, req, req.params.ws);
      const { max_rate, ...input } = req.body;
      const batch = await submitReverse(engine, access, req.params.model_id, input, {
        request: requestOf(req),
        source: 'native',
        projectId: access.projectId,
        idempotencyKey: req.headers['idempotency-key'],
        maxRate: max_rate,
      });
      return reply.status(202).send(presentBatch(batch));
    },
  );

  app.post(
    '/workspaces/:ws/models/:model_id/transform',
    {
      schema: {
        tags,
        summary:
          'TRANSFORM_LOGIC_MODEL: each logical entity of this model becomes a TABLE_MODEL of a physical model (a batch)',
        params: ModelParams,
        headers: Headers,
        body: Type.Object(
          {
            target_model_id: Type.Optional(Id),
            target_model_name: Type.Optional(Name),
            description: Type.Optional(Type.String({ maxLength: 4000 })),
            dw_type: DwTypeSchema,
            ids: Type.Optional(
              Type.Array(Id, {
                minItems: 1,
                maxItems: MAX_TABLES,
                description: 'Only these logical entities; the others are skipped by the user.',
              }),
            ),
            update_exist_tables: Type.Optional(
              Type.Boolean({
                description: 'Update a physical table that exists and differs (default false: skip it).',
              }),
            ),
            max_rate: MaxRate,
          },
          { additionalProperties: false },
        ),
        response: responses({ 202: Type.Object({ batch: BatchSchema, target_model: ModelSchema }) }),
      },
    },
    async (req, reply) => {
      const access = await accessOf(ctx, req, req.params.ws);
      const { max_rate, ...input } = req.body;
      const { batch, target } = await submitTransform(engine, access, req.params.model_id, input, {
        request: requestOf(req),
        source: 'native',
        projectId: access.projectId,
        idempotencyKey: req.headers['idempotency-key'],
        maxRate: max_rate,
      });
      return reply.status(202).send({ batch: presentBatch(batch), target_model: presentModel(target) });
    },
  );

  app.get(
    '/workspaces/:ws/models/:model_id/ddl',
    {
      schema: {
        tags,
        summary: "CREATE TABLE statements of a physical model's tables, for its own database or dw_type",
        params: ModelParams,
        querystring: Type.Object({ dw_type: Type.Optional(DwTypeSchema) }),
        response: responses({
          200: Type.Object({
            model_id: Id,
            dw_type: DwTypeSchema,
            tables: Type.Integer(),
            statements: Type.Array(Type.String()),
            sql: Type.String(),
          }),
        }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws);
      const ddl = await modelDdl(ctx, access, req.params.model_id, req.query.dw_type);
      return { ...ddl, sql: ddl.statements.map((s) => `${s};\n`).join('\n') };
    },
  );
}
