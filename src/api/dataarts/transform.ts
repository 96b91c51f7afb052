import { Type } from 'typebox';
import { workspaceVO } from '../../core/dataarts/workspace-vo.ts';
import { submitTransform } from '../../engine/engine.ts';
import { DATAARTS_SOURCE } from '../../core/dataarts/enums.ts';
import type { App, RouteDeps } from '../types.ts';
import { LongId, Nullable, ProjectParams, envelope, idText } from './schemas.ts';
import { scopeOf } from './scope-of.ts';
import { requestOf } from '../request-context.ts';

/** WorkspaceTransformVO (BatchCreateDesignTableModelsFromLogic); target_model_name and dw_type are required. */
const WorkspaceTransformVO = Type.Object({
  target_model_id: Nullable(LongId),
  target_model_name: Type.String({ minLength: 1, maxLength: 200 }),
  description: Nullable(Type.String({ maxLength: 4000 })),
  update_exist_tables: Nullable(Type.Boolean()),
  ids: Nullable(Type.Array(LongId, { minItems: 1, maxItems: 100_000 })),
  dw_type: Type.String({ minLength: 1, maxLength: 64 }),
  connection_id: Nullable(Type.String({ maxLength: 64 })),
  database: Nullable(Type.String({ maxLength: 200 })),
  queue: Nullable(Type.String({ maxLength: 200 })),
  schema: Nullable(Type.String({ maxLength: 200 })),
});

const TransformParams = Type.Object({
  project_id: ProjectParams.properties.project_id,
  model_id: Type.String({ pattern: '^[0-9]{1,20}$', maxLength: 20 }),
});

/**
 * BatchCreateDesignTableModelsFromLogic: converts the logical model `model_id` into a physical one as a batch
 * running in the background, and answers at once with the target model (WorkspaceVO). Its outcome is read with
 * operation-results, operation_type TRANSFORM_LOGIC_MODEL and operation_id = this model_id.
 */
export function transformRoutes(app: App, { ctx, engine }: RouteDeps): void {
  app.put(
    '/:project_id/design/workspaces/:model_id/transform',
    {
      schema: {
        tags: ['dataarts'],
        summary: 'DataArts: transform a logical model into a physical model (a batch; read it with operation-results)',
        params: TransformParams,
        body: WorkspaceTransformVO,
      },
    },
    async (req) => {
      const scope = await scopeOf(ctx, req);
      const b = req.body;
      const { target } = await submitTransform(
        engine,
        scope,
        req.params.model_id,
        {
          target_model_id: b.target_model_id == null ? null : idText(b.target_model_id),
          target_model_name: b.target_model_name,
          description: b.description ?? null,
          update_exist_tables: b.update_exist_tables ?? false,
          ids: b.ids ? b.ids.map(idText) : null,
          dw_type: b.dw_type,
          connection_id: b.connection_id ?? null,
          database: b.database ?? null,
          schema: b.schema ?? null,
        },
        { request: requestOf(req), source: DATAARTS_SOURCE, projectId: scope.projectId },
      );
      return envelope(await workspaceVO(ctx, target, b.database ? [b.database] : null));
    },
  );
}
