import { dataartsPage } from '../../core/dataarts/paging.ts';
import { findOperationResult } from './find-operation-result.ts';
import type { App, RouteDeps } from '../types.ts';
import { OperationResultQuery, ProjectParams, envelope } from './schemas.ts';
import { scopeOf } from './scope-of.ts';

/** ShowDesignOperationResult: a batch read back as BatchOperationVO, its children paged by limit/offset. */
export function operationResultRoutes(app: App, { ctx }: RouteDeps): void {
  app.get(
    '/:project_id/design/operation-results',
    {
      schema: {
        tags: ['dataarts'],
        summary: 'DataArts: the result of a batch operation',
        params: ProjectParams,
        querystring: OperationResultQuery,
      },
    },
    async (req) => {
      const scope = await scopeOf(ctx, req);
      const q = req.query;
      return envelope(
        await findOperationResult(ctx, scope, {
          operation_type: q.operation_type,
          operation_id: q.operation_id,
          ...dataartsPage(q.limit, q.offset),
        }),
      );
    },
  );
}
