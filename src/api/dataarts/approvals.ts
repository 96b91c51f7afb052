import { Type } from 'typebox';
import { searchApprovals } from '../../core/dataarts/approvals-search.ts';
import { dataartsPage } from '../../core/dataarts/paging.ts';
import { runApprovalAction, runBizBatch, runWithdraw } from './run-biz-batch.ts';
import type { App, RouteDeps } from '../types.ts';
import {
  ApprovalBatchParam,
  ApprovalInfoParam,
  IdList,
  ProjectParams,
  SearchApprovalsQuery,
  envelope,
  idText,
  splitIds,
} from './schemas.ts';
import { scopeOf } from './scope-of.ts';
import { requestOf } from '../request-context.ts';

const tags = ['dataarts'];

/** Batch publish/offline, decisions, the approvals list and withdraw: parse, call the engine, wrap in data.value. */
export function approvalRoutes(app: App, { ctx, engine }: RouteDeps): void {
  for (const [path, operation] of [
    ['batch-publish', 'PUBLISH'],
    ['batch-offline', 'OFFLINE'],
  ] as const) {
    app.post(
      `/:project_id/design/approvals/${path}`,
      {
        schema: {
          tags,
          summary: operation === 'PUBLISH' ? 'DataArts batch publish' : 'DataArts batch offline',
          params: ProjectParams,
          body: ApprovalBatchParam,
        },
      },
      async (req) => {
        const scope = await scopeOf(ctx, req);
        const b = req.body;
        const vo = await runBizBatch(engine, requestOf(req), scope, operation, {
          biz_infos: b.biz_infos.map((i) => ({
            biz_id: idText(i.biz_id),
            biz_type: i.biz_type,
            ...(i.env_type != null ? { env_type: i.env_type } : {}),
          })),
          approver_user_id: b.approver_user_id,
          approver_user_name: b.approver_user_name,
          email: b.email ?? null,
          fast_approval: b.fast_approval === true,
          ...(b.schedule_time != null ? { schedule_time: b.schedule_time } : {}),
          ...(b.env_type != null ? { env_type: b.env_type } : {}),
        });
        return envelope(vo);
      },
    );
  }

  app.put(
    '/:project_id/design/approvals/action',
    {
      schema: {
        tags,
        summary: 'DataArts: resolve or reject tickets (ConfirmApprovals)',
        params: ProjectParams,
        querystring: Type.Object({ 'action-id': Type.Union([Type.Literal('resolve'), Type.Literal('reject')]) }),
        body: ApprovalInfoParam,
      },
    },
    async (req) => {
      const scope = await scopeOf(ctx, req);
      const ids = req.body.ids.map(idText);
      return envelope(
        await runApprovalAction(engine, requestOf(req), scope, req.query['action-id'], ids, req.body.msg ?? undefined),
      );
    },
  );

  app.get(
    '/:project_id/design/approvals',
    {
      schema: {
        tags,
        summary: 'DataArts: list tickets (SearchApprovals)',
        params: ProjectParams,
        querystring: SearchApprovalsQuery,
      },
    },
    async (req) => {
      const scope = await scopeOf(ctx, req);
      const q = req.query;
      const page = dataartsPage(q.limit, q.offset);
      return envelope(
        await searchApprovals(ctx, scope, {
          ...q,
          begin_time: q.begin_time ? Date.parse(q.begin_time) : undefined,
          end_time: q.end_time ? Date.parse(q.end_time) : undefined,
          ...page,
        }),
      );
    },
  );

  app.put(
    '/:project_id/design/approvals',
    {
      schema: {
        tags,
        summary: 'DataArts: withdraw tickets (RollbackApproval); answers how many were withdrawn',
        params: ProjectParams,
        querystring: Type.Object({ ids: IdList }),
      },
    },
    async (req) => {
      const scope = await scopeOf(ctx, req);
      return envelope(await runWithdraw(engine, requestOf(req), scope, splitIds(req.query.ids)));
    },
  );
}
