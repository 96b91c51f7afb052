import { Type } from 'typebox';
import { createApprover, deleteApprovers, listApprovers } from '../../core/dataarts/approvers.ts';
import { dataartsPage } from '../../core/dataarts/paging.ts';
import type { App, RouteDeps } from '../types.ts';
import { ApproverParam, IdList, Limit, Offset, ProjectParams, envelope, splitIds } from './schemas.ts';
import { scopeOf } from './scope-of.ts';

const tags = ['dataarts'];

/** The approvers registry: create (admins), list, delete (admins). */
export function approverRoutes(app: App, { ctx }: RouteDeps): void {
  app.post(
    '/:project_id/design/approvals/users',
    {
      schema: {
        tags,
        summary: 'DataArts: register an approver (a member who may decide)',
        params: ProjectParams,
        body: ApproverParam,
      },
    },
    async (req) => {
      const scope = await scopeOf(ctx, req);
      const b = req.body;
      return envelope(
        await createApprover(ctx, scope, {
          approver_name: b.approver_name,
          user_id: b.user_id,
          app_name: b.app_name ?? null,
          email: b.email ?? null,
          phone_number: b.phone_number ?? null,
          email_notify: b.email_notify === true,
          sms_notify: b.sms_notify === true,
        }),
      );
    },
  );

  app.get(
    '/:project_id/design/approvals/users',
    {
      schema: {
        tags,
        summary: 'DataArts: list approvers',
        params: ProjectParams,
        querystring: Type.Object({
          approver_name: Type.Optional(Type.String({ maxLength: 200 })),
          limit: Limit,
          offset: Offset,
        }),
      },
    },
    async (req) => {
      const scope = await scopeOf(ctx, req);
      return envelope(
        await listApprovers(ctx, scope, {
          approver_name: req.query.approver_name,
          ...dataartsPage(req.query.limit, req.query.offset),
        }),
      );
    },
  );

  app.delete(
    '/:project_id/design/approvals/users',
    {
      schema: {
        tags,
        summary: 'DataArts: delete approvers; answers how many were deleted',
        params: ProjectParams,
        querystring: Type.Object({ approver_ids: IdList }),
      },
    },
    async (req) => {
      const scope = await scopeOf(ctx, req);
      return envelope(await deleteApprovers(ctx, scope, splitIds(req.query.approver_ids)));
    },
  );
}
