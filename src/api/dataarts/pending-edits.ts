import { Type } from 'typebox';
import { deletePendingEdit, pendingEditDiff } from '../../core/dataarts/pending-edit.ts';
import type { App, RouteDeps } from '../types.ts';
import { BizTypeSchema, ProjectParams, envelope } from './schemas.ts';
import { scopeOf } from './scope-of.ts';

const tags = ['dataarts'];
const BizParams = Type.Object({
  project_id: ProjectParams.properties.project_id,
  biz_id: Type.String({ pattern: '^[0-9]{1,20}$', maxLength: 20 }),
});
const BizTypeQuery = Type.Object({ biz_type: BizTypeSchema });

/** The pending edit ("下展") of a published entity: delete it (#9), or diff it against the released version (#10). */
export function pendingEditRoutes(app: App, { ctx }: RouteDeps): void {
  app.delete(
    '/:project_id/design/approvals/business/:biz_id',
    {
      schema: {
        tags,
        summary:
          'DataArts: delete the pending edit of a published entity (DeleteDesignLatestApproval); 1 when one was deleted, 0 when there was none',
        params: BizParams,
        querystring: BizTypeQuery,
      },
    },
    async (req) =>
      envelope(await deletePendingEdit(ctx, await scopeOf(ctx, req), req.query.biz_type, req.params.biz_id)),
  );

  app.get(
    '/:project_id/design/approvals/business/:biz_id/diff',
    {
      schema: {
        tags,
        summary: 'DataArts: the pending edit of a published entity against its released version (PublishVersionVO)',
        params: BizParams,
        querystring: BizTypeQuery,
      },
    },
    async (req) => envelope(await pendingEditDiff(ctx, await scopeOf(ctx, req), req.query.biz_type, req.params.biz_id)),
  );
}
