/** Hexabase v0 datastore routes: GetActions, GetStatuses, GetDatastoreFields. */
import { Type } from 'typebox';
import { getDatastore } from '../../core/datastores.ts';
import { actionAllowed, actionsFrom } from '../../core/action-checks.ts';
import { datastoreById } from './datastore-by-id.ts';
import { fail } from '../../errors.ts';
import { accessOf, principalOf } from '../auth-hook.ts';
import type { App, RouteDeps } from '../types.ts';
import { actionList, fieldList, statusList } from './present.ts';
import { AppDsParams, DsGroupParams } from './schemas.ts';

const TAGS = ['hexabase'];

export function datastoreRoutes(app: App, { ctx }: RouteDeps): void {
  app.get(
    '/datastores/:d_id/actions',
    {
      schema: {
        tags: TAGS,
        summary:
          "GetActions: the datastore's actions the caller may run; with status_id, those from that status plus datastore-level ones",
        params: DsGroupParams,
        querystring: Type.Object(
          { status_id: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
          { additionalProperties: false },
        ),
      },
    },
    async (req) => {
      const { access, ds } = await datastoreById(ctx, await principalOf(ctx, req), req.params.d_id);
      const key = req.query.status_id;
      if (key === undefined)
        return actionList(
          ds,
          ds.actions.filter((a) => actionAllowed(a, access)),
          null,
        );
      const status = ds.statusByKey.get(key);
      if (!status) fail('STATUS_NOT_FOUND', `Status "${key}" is not defined in this datastore.`);
      return actionList(ds, actionsFrom(ds, status.id, access), status.id);
    },
  );

  app.get(
    '/datastores/:d_id/statuses',
    {
      schema: { tags: TAGS, summary: "GetStatuses: the datastore's statuses in workflow order", params: DsGroupParams },
    },
    async (req) => statusList((await datastoreById(ctx, await principalOf(ctx, req), req.params.d_id)).ds),
  );

  app.get(
    '/applications/:app_id/datastores/:datastore_id/fields',
    {
      schema: {
        tags: TAGS,
        summary: "GetDatastoreFields: the datastore's fields keyed by field id",
        params: AppDsParams,
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.app_id);
      return fieldList(await getDatastore(ctx, access.workspaceId, req.params.datastore_id));
    },
  );

  app.get(
    '/datastores/:d_id/fields',
    { schema: { tags: TAGS, summary: 'GetDatastoreFields by datastore id', params: DsGroupParams } },
    async (req) => fieldList((await datastoreById(ctx, await principalOf(ctx, req), req.params.d_id)).ds),
  );
}
