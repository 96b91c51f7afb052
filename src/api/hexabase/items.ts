/**
 * Hexabase v0 item routes: search, create, details, one action, ExecuteBulkAction, histories and comments.
 * Each one parses Hexabase's request, calls the core or the engine, and renders the answer in Hexabase's shape.
 */
import { Type } from 'typebox';
import { workspaceAccess, type Access } from '../../core/auth.ts';
import type { Ctx } from '../../core/context.ts';
import type { Datastore } from '../../core/datastore-model.ts';
import { getDatastore } from '../../core/datastores.ts';
import { actionFor, actionsFrom } from '../../core/action-checks.ts';
import { latestHistoryId } from '../../core/history.ts';
import { executeBulkAction } from './bulk-action.ts';
import { checkHexabaseConditions } from './check-conditions.ts';
import { deleteComment, updateComment } from './comments.ts';
import { datastoreById } from './datastore-by-id.ts';
import { hexabaseFieldValues, hexabaseItemInput } from './field-values.ts';
import { itemHistories } from './histories.ts';
import { addComment, createItems, getItem, MAX_PER_PAGE, searchItems, type Item } from '../../core/items.ts';
import { runAction } from '../../core/operations/run.ts';
import type { Capability } from '../../core/roles.ts';
import { AppError, fail } from '../../errors.ts';
import { principalOf } from '../auth-hook.ts';
import { Key } from '../schemas.ts';
import { requestOf } from '../request-context.ts';
import { type App, type RouteDeps } from '../types.ts';
import { bulkActionResponse, bulkRefusedResponse, hexabaseItem, historyList, itemDetails } from './present.ts';
import {
  AppDsItemParams,
  AppDsParams,
  BulkActionBody,
  BulkActionResponse,
  CommentBody,
  CreateItemBody,
  DetailsQuery,
  ExecuteActionBody,
  HistoriesQuery,
  SearchBody,
  Seg,
} from './schemas.ts';

const TAGS = ['hexabase'];
const ITEMS = '/applications/:app_id/datastores/:datastore_id/items';

/** `:app_id` (workspace id or project_id) and `:datastore_id` (id or display_id) resolved for the caller. */
async function appDatastore(
  ctx: Ctx,
  req: { params: { app_id: string; datastore_id: string } },
  capability: Capability,
  principal: Awaited<ReturnType<typeof principalOf>>,
) {
  const access = await workspaceAccess(ctx, principal, req.params.app_id, capability);
  const ds = await getDatastore(ctx, access.workspaceId, req.params.datastore_id);
  return { access, ds };
}

/** An item of this datastore; one of another datastore is not found here. */
async function itemIn(ctx: Ctx, access: Access, ds: Datastore, id: string): Promise<Item> {
  const item = await getItem(ctx, access.workspaceId, id);
  if (item.datastore_id !== ds.id) fail('ITEM_NOT_FOUND');
  return item;
}

/** JSON `null`, as Hexabase answers comment and action calls. */
const JSON_NULL = 'null';

export function itemRoutes(app: App, { ctx, engine }: RouteDeps): void {
  app.post(
    `${ITEMS}/search`,
    {
      schema: {
        tags: TAGS,
        summary: 'ItemList / GetItems: search items with conditions, paged and sorted',
        params: AppDsParams,
        body: SearchBody,
      },
    },
    async (req) => {
      const { ds } = await appDatastore(ctx, req, 'read', await principalOf(ctx, req));
      const b = req.body;
      checkHexabaseConditions(ds, b.conditions);
      // per_page 0 or omitted: "all", bounded to one page of MAX_PER_PAGE.
      const perPage = b.per_page || MAX_PER_PAGE;
      const { items, total } = await searchItems(ctx, ds, {
        conditions: b.conditions,
        use_or_condition: b.use_or_condition,
        page: b.per_page ? (b.page ?? 1) : 1,
        per_page: perPage,
        sort_field_id: b.sort_field_id,
        sort_order: b.sort_order,
        sort_fields: b.sort_fields,
        return_count_only: b.return_count_only,
      });
      const opts = {
        useDisplayId: b.use_display_id,
        numbers: b.return_number_value,
        omitFields: b.omit_fields_data,
        selectFields: b.select_fields,
      };
      return { items: items.map((i) => hexabaseItem(i, ds, opts)), totalItems: b.omit_total_items ? 0 : total };
    },
  );

  app.post(
    `${ITEMS}/new`,
    {
      schema: {
        tags: TAGS,
        summary: 'CreateItem: a new item in the first status (or item.status)',
        params: AppDsParams,
        body: Type.Optional(CreateItemBody),
      },
    },
    async (req) => {
      const { access, ds } = await appDatastore(ctx, req, 'write', await principalOf(ctx, req));
      const b = req.body ?? {};
      const [id] = await createItems(ctx, access, ds, [hexabaseItemInput(ds, b.item, b.changes)]);
      const out: Record<string, unknown> = { error: null, history_id: await latestHistoryId(ctx, id!), item_id: id };
      if (b.return_item_result)
        out.item = hexabaseItem(await getItem(ctx, access.workspaceId, id!), ds, {
          useDisplayId: b.use_display_id || b.return_display_id,
          numbers: b.return_number_value,
        });
      return out;
    },
  );

  const details = async (
    access: Access,
    ds: Datastore,
    itemId: string,
    q: { use_display_id?: boolean; return_number_value?: boolean },
  ) => {
    const item = await itemIn(ctx, access, ds, itemId);
    return itemDetails(item, ds, actionsFrom(ds, item.status_id, access), {
      useDisplayId: q.use_display_id,
      numbers: q.return_number_value,
    });
  };

  app.get(
    `${ITEMS}/details/:item_id`,
    {
      schema: {
        tags: TAGS,
        summary: 'GetItemDetails (map format): fields, statuses and the actions available now',
        params: AppDsItemParams,
        querystring: DetailsQuery,
      },
    },
    async (req) => {
      const { access, ds } = await appDatastore(ctx, req, 'read', await principalOf(ctx, req));
      return details(access, ds, req.params.item_id, req.query);
    },
  );

  app.get(
    '/datastores/:d_id/items/:item_id',
    {
      schema: {
        tags: TAGS,
        summary: 'GetItemDetails by datastore id',
        params: Type.Object({ d_id: Seg, item_id: Seg }),
        querystring: DetailsQuery,
      },
    },
    async (req) => {
      const { access, ds } = await datastoreById(ctx, await principalOf(ctx, req), req.params.d_id);
      return details(access, ds, req.params.item_id, req.query);
    },
  );

  app.post(
    `${ITEMS}/action/:item_id/:action_id`,
    {
      schema: {
        tags: TAGS,
        summary: 'ExecuteAction: one action on one item; rev_no mismatch answers 409 ITEM_REV_CONFLICT',
        params: Type.Object({ app_id: Key, datastore_id: Key, item_id: Seg, action_id: Seg }),
        body: Type.Optional(ExecuteActionBody),
      },
    },
    async (req, reply) => {
      const { access, ds } = await appDatastore(ctx, req, 'write', await principalOf(ctx, req));
      const b = req.body ?? {};
      const action = actionFor(ds, access, req.params.action_id);
      const item = await itemIn(ctx, access, ds, req.params.item_id);
      const fields = hexabaseFieldValues(ds, b.item, b.changes);
      const rev = b.is_force_update ? undefined : b.rev_no;
      const [o] = await runAction(
        ctx,
        access,
        [{ id: item.id, rev_no: rev }],
        { action: action.id, fields },
        { comment: b.comment || null },
      );
      if (o!.state !== 'succeeded') {
        if (o!.error_code === 'REVISION_CONFLICT') {
          const now = await getItem(ctx, access.workspaceId, item.id);
          const description = `item:${item.id}(d_id:${ds.id}) has rev_no:${now.rev_no} but specified rev_no:${rev ?? item.rev_no}`;
          const e = {
            description,
            error: 'Revision number mismatch',
            error_code: 'ITEM_REV_CONFLICT',
            error_level: 'ERROR',
            reference_id: item.id,
          };
          return reply.status(409).send({ error: [e], history_id: '', item: null, item_id: item.id });
        }
        throw new AppError(o!.error_code ?? 'CONFLICT', o!.error_message ?? undefined);
      }
      if (!b.return_item_result) return reply.type('application/json').send(JSON_NULL);
      return {
        history_id: await latestHistoryId(ctx, item.id),
        item_id: item.id,
        item: hexabaseItem(o!.item!, ds, { useDisplayId: b.use_display_id, numbers: b.return_number_value }),
      };
    },
  );

  app.post(
    `${ITEMS}/bulkaction/:action_id`,
    {
      schema: {
        tags: TAGS,
        summary:
          'ExecuteBulkAction: run an action on up to max_items items matching conditions, inline, recorded as a batch',
        params: Type.Object({ app_id: Key, datastore_id: Key, action_id: Seg }),
        body: Type.Optional(BulkActionBody),
        response: {
          200: BulkActionResponse,
          400: Type.Unknown({
            description: 'Hexabase error body; over max_items without continue_proc: the bulk shape with processed 0.',
          }),
        },
      },
      // The schema documents the answer; keys go out in the order Hexabase's documentation shows them.
      serializerCompiler: () => (data) => JSON.stringify(data),
    },
    async (req, reply) => {
      const { access, ds } = await appDatastore(ctx, req, 'write', await principalOf(ctx, req));
      const b = req.body ?? {};
      const action = actionFor(ds, access, req.params.action_id);
      const fields = hexabaseFieldValues(ds, b.item, b.changes);
      const r = await executeBulkAction(ctx, engine, requestOf(req), access, ds, action, {
        conditions: b.conditions,
        use_or_condition: b.use_or_condition,
        fields,
        item_revisions: b.item_revisions,
        comment: b.comment,
        max_items: b.max_items,
        continue_proc: b.continue_proc,
        meta: {
          ...(b.as_params !== undefined ? { as_params: b.as_params } : {}),
          ...(b.realtime_auto_link !== undefined ? { realtime_auto_link: b.realtime_auto_link } : {}),
          ...(b.access_key_updates !== undefined ? { access_key_updates: b.access_key_updates } : {}),
          ...(b.use_display_id !== undefined ? { use_display_id: b.use_display_id } : {}),
        },
      });
      if (r.refused) return reply.status(400).send(bulkRefusedResponse(r.matched, r.max_items, r.message));
      return bulkActionResponse(r, ds, action);
    },
  );

  app.get(
    `${ITEMS}/histories/:item_id`,
    {
      schema: {
        tags: TAGS,
        summary: 'GetItemHistories: newest first, from_index..to_index (at most 100)',
        params: AppDsItemParams,
        querystring: HistoriesQuery,
      },
    },
    async (req) => {
      const { access, ds } = await appDatastore(ctx, req, 'read', await principalOf(ctx, req));
      const item = await itemIn(ctx, access, ds, req.params.item_id);
      const q = req.query;
      const ms = (s: string | undefined) => (s === undefined ? null : Date.parse(s));
      const entries = await itemHistories(ctx, access.workspaceId, item.id, {
        ...q,
        from_datetime: ms(q.from_datetime),
        to_datetime: ms(q.to_datetime),
      });
      return historyList(entries, ds, q.from_index ?? 0);
    },
  );

  app.post(
    `${ITEMS}/histories/:item_id`,
    {
      schema: {
        tags: TAGS,
        summary: 'PostComment: comment on an item (answers null)',
        params: AppDsItemParams,
        body: CommentBody,
      },
    },
    async (req, reply) => {
      const { access, ds } = await appDatastore(ctx, req, 'write', await principalOf(ctx, req));
      const item = await itemIn(ctx, access, ds, req.params.item_id);
      await addComment(ctx, access, item.id, req.body.comment);
      return reply.type('application/json').send(JSON_NULL);
    },
  );

  const HistoryParams = Type.Object({ app_id: Key, datastore_id: Key, item_id: Seg, history_id: Seg });
  app.put(
    `${ITEMS}/histories/:item_id/:history_id`,
    {
      schema: {
        tags: TAGS,
        summary: 'UpdateComment: change your comment (answers null)',
        params: HistoryParams,
        body: CommentBody,
      },
    },
    async (req, reply) => {
      const { access, ds } = await appDatastore(ctx, req, 'write', await principalOf(ctx, req));
      const item = await itemIn(ctx, access, ds, req.params.item_id);
      await updateComment(ctx, access, item.id, req.params.history_id, req.body.comment);
      return reply.type('application/json').send(JSON_NULL);
    },
  );

  app.delete(
    `${ITEMS}/histories/:item_id/:history_id`,
    { schema: { tags: TAGS, summary: 'DeleteComment: delete your comment (answers null)', params: HistoryParams } },
    async (req, reply) => {
      const { access, ds } = await appDatastore(ctx, req, 'write', await principalOf(ctx, req));
      const item = await itemIn(ctx, access, ds, req.params.item_id);
      await deleteComment(ctx, access, item.id, req.params.history_id);
      return reply.type('application/json').send(JSON_NULL);
    },
  );
}
