import { Type } from 'typebox';
import { getDatastore, getDatastoresById } from '../../core/datastores.ts';
import { deleteDraft, itemDraftAndVersions } from '../../core/drafts.ts';
import { addComment, createItems, getItem, getItemWithHistory, searchItems } from '../../core/items.ts';
import { runAction, updateItems } from '../../core/operations/run.ts';
import { accessOf } from '../auth-hook.ts';
import { presentDraft, presentHistory, presentItem, presentTicket, presentVersion } from '../present.ts';
import {
  Comment,
  Conditions,
  DraftSchema,
  FieldValues,
  HistorySchema,
  Id,
  ItemInput,
  ItemSchema,
  Key,
  MAX_IMPORT,
  TicketSchema,
  VersionSchema,
  responses,
} from '../schemas.ts';
import { DsParams } from './datastores.ts';
import { single, type App, type RouteDeps } from '../types.ts';

const ItemParams = Type.Object({ ws: Key, id: Id });

export function itemRoutes(app: App, { ctx }: RouteDeps): void {
  app.post(
    '/workspaces/:ws/datastores/:ds/items',
    {
      schema: {
        tags: ['items'],
        summary: 'Create an item, or import many with {items: [...]} (all or nothing, ids in input order)',
        params: DsParams,
        body: Type.Union([
          ItemInput,
          Type.Object(
            { items: Type.Array(ItemInput, { minItems: 1, maxItems: MAX_IMPORT }) },
            { additionalProperties: false },
          ),
        ]),
        response: responses({ 201: Type.Union([ItemSchema, Type.Object({ ids: Type.Array(Id) })]) }),
      },
    },
    async (req, reply) => {
      const access = await accessOf(ctx, req, req.params.ws, 'write');
      const ds = await getDatastore(ctx, access.workspaceId, req.params.ds);
      if ('items' in req.body) {
        const ids = await createItems(ctx, access, ds, req.body.items);
        return reply.status(201).send({ ids });
      }
      const [id] = await createItems(ctx, access, ds, [req.body]);
      return reply.status(201).send(presentItem(await getItem(ctx, access.workspaceId, id!), ds));
    },
  );

  app.post(
    '/workspaces/:ws/datastores/:ds/items/search',
    {
      schema: {
        tags: ['items'],
        summary: 'Search items with Hexabase conditions, paged',
        params: DsParams,
        body: Type.Object(
          {
            conditions: Type.Optional(Conditions),
            use_or_condition: Type.Optional(Type.Boolean()),
            page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
            per_page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
            sort_field_id: Type.Optional(Type.String({ maxLength: 64 })),
            sort_order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')])),
            return_count_only: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: Type.Object({ items: Type.Array(ItemSchema), total: Type.Integer() }) }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws);
      const ds = await getDatastore(ctx, access.workspaceId, req.params.ds);
      const { items, total } = await searchItems(ctx, ds, req.body);
      return { items: items.map((i) => presentItem(i, ds)), total };
    },
  );

  app.get(
    '/workspaces/:ws/items/:id',
    {
      schema: {
        tags: ['items'],
        summary: 'An item with its history, its pending draft (or null) and its released versions (oldest first)',
        params: ItemParams,
        response: responses({
          200: Type.Intersect([
            ItemSchema,
            Type.Object({
              history: Type.Array(HistorySchema),
              draft: Type.Union([DraftSchema, Type.Null()]),
              versions: Type.Array(VersionSchema),
            }),
          ]),
        }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws);
      const { item, history } = await getItemWithHistory(ctx, access.workspaceId, req.params.id);
      const ds = (await getDatastoresById(ctx, [item.datastore_id])).get(item.datastore_id);
      const { draft, versions } = await itemDraftAndVersions(ctx, item.id);
      return {
        ...presentItem(item, ds),
        history: history.map((h) => presentHistory(h, ds)),
        draft: draft ? presentDraft(draft) : null,
        versions: versions.map((v) => presentVersion(v, ds)),
      };
    },
  );

  app.delete(
    '/workspaces/:ws/items/:id/draft',
    {
      schema: {
        tags: ['items'],
        summary: 'Delete the pending draft of an item in a released status; deleted is false when it had none',
        params: ItemParams,
        response: responses({ 200: Type.Object({ deleted: Type.Boolean() }) }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws, 'write');
      return { deleted: await deleteDraft(ctx, access, req.params.id) };
    },
  );

  app.patch(
    '/workspaces/:ws/items/:id',
    {
      schema: {
        tags: ['items'],
        summary:
          'Set field values (optionally checked against rev_no); an item in a released status keeps them as its draft and is returned unchanged, with `draft`',
        params: ItemParams,
        body: Type.Object(
          { fields: FieldValues, rev_no: Type.Optional(Type.Integer({ minimum: 0 })), comment: Type.Optional(Comment) },
          { additionalProperties: false },
        ),
        response: responses({ 200: Type.Intersect([ItemSchema, Type.Object({ draft: Type.Optional(DraftSchema) })]) }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws, 'write');
      const o = single(
        await updateItems(ctx, access, [{ id: req.params.id, rev_no: req.body.rev_no }], req.body.fields, {
          comment: req.body.comment ?? null,
        }),
      );
      const ds = (await getDatastoresById(ctx, [o.item!.datastore_id])).get(o.item!.datastore_id);
      return { ...presentItem(o.item!, ds), ...(o.draft ? { draft: presentDraft(o.draft) } : {}) };
    },
  );

  app.post(
    '/workspaces/:ws/items/:id/actions/:action',
    {
      schema: {
        tags: ['items'],
        summary: 'Run an action on one item; an action that needs approval opens a ticket',
        params: Type.Object({ ws: Key, id: Id, action: Key }),
        body: Type.Optional(
          Type.Object(
            {
              comment: Type.Optional(Comment),
              fields: Type.Optional(FieldValues),
              rev_no: Type.Optional(Type.Integer({ minimum: 0 })),
            },
            { additionalProperties: false },
          ),
        ),
        response: responses({ 200: Type.Object({ item: ItemSchema, ticket: Type.Optional(TicketSchema) }) }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws, 'write');
      const body = req.body ?? {};
      const o = single(
        await runAction(
          ctx,
          access,
          [{ id: req.params.id, rev_no: body.rev_no }],
          { action: req.params.action, fields: body.fields ?? null },
          { comment: body.comment ?? null },
        ),
      );
      const ds = (await getDatastoresById(ctx, [o.item!.datastore_id])).get(o.item!.datastore_id);
      return { item: presentItem(o.item!, ds), ...(o.ticket ? { ticket: presentTicket(o.ticket, ds) } : {}) };
    },
  );

  app.post(
    '/workspaces/:ws/items/:id/comments',
    {
      schema: {
        tags: ['items'],
        summary: 'Comment on an item',
        params: ItemParams,
        body: Type.Object({ comment: Type.String({ minLength: 1, maxLength: 4000 }) }, { additionalProperties: false }),
        response: responses({ 201: HistorySchema }),
      },
    },
    async (req, reply) => {
      const access = await accessOf(ctx, req, req.params.ws, 'write');
      const entry = await addComment(ctx, access, req.params.id, req.body.comment);
      return reply.status(201).send(presentHistory(entry, undefined));
    },
  );
}
