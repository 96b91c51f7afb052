import { Type } from 'typebox';
import { getDatastoresById } from '../../core/datastores.ts';
import { decideTickets } from '../../core/operations/run.ts';
import { getTicket, listTickets } from '../../core/tickets.ts';
import { accessOf } from '../auth-hook.ts';
import { presentItem, presentTicket } from '../present.ts';
import { TICKET_STATES } from '../../core/states.ts';
import {
  Comment,
  Id,
  ItemSchema,
  Key,
  Limit,
  Offset,
  LiteralUnion,
  TicketSchema,
  WsParams,
  responses,
} from '../schemas.ts';
import { single, type App, type RouteDeps } from '../types.ts';

export function ticketRoutes(app: App, { ctx }: RouteDeps): void {
  app.get(
    '/workspaces/:ws/tickets',
    {
      schema: {
        tags: ['tickets'],
        summary: 'Approval tickets; assignee=me lists what the caller may decide',
        params: WsParams,
        querystring: Type.Object({
          assignee: Type.Optional(Type.String({ pattern: '^(me|[0-9]{1,20})$', maxLength: 20 })),
          submitter: Type.Optional(Type.String({ pattern: '^(me|[0-9]{1,20})$', maxLength: 20 })),
          state: Type.Optional(LiteralUnion(TICKET_STATES)),
          item_id: Type.Optional(Id),
          datastore_id: Type.Optional(Id),
          limit: Type.Optional(Limit),
          offset: Type.Optional(Offset),
        }),
        response: responses({ 200: Type.Object({ tickets: Type.Array(TicketSchema), total: Type.Integer() }) }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws);
      const { tickets, total } = await listTickets(ctx, access, req.query);
      const dss = await getDatastoresById(ctx, [...new Set(tickets.map((t) => t.datastore_id))]);
      return { tickets: tickets.map((t) => presentTicket(t, dss.get(t.datastore_id))), total };
    },
  );

  app.get(
    '/workspaces/:ws/tickets/:id',
    {
      schema: {
        tags: ['tickets'],
        summary: 'A ticket',
        params: Type.Object({ ws: Key, id: Id }),
        response: responses({ 200: TicketSchema }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws);
      const t = await getTicket(ctx, access.workspaceId, req.params.id);
      return presentTicket(t, (await getDatastoresById(ctx, [t.datastore_id])).get(t.datastore_id));
    },
  );

  app.post(
    '/workspaces/:ws/tickets/:id/:decision',
    {
      schema: {
        tags: ['tickets'],
        summary: 'Approve or reject (the assignee or an admin), or withdraw (the submitter or an admin)',
        params: Type.Object({
          ws: Key,
          id: Id,
          decision: Type.Union([Type.Literal('approve'), Type.Literal('reject'), Type.Literal('withdraw')]),
        }),
        body: Type.Optional(Type.Object({ comment: Type.Optional(Comment) }, { additionalProperties: false })),
        response: responses({ 200: Type.Object({ ticket: TicketSchema, item: ItemSchema }) }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws, 'read');
      const o = single(
        await decideTickets(ctx, access, [req.params.id], req.params.decision, {
          comment: req.body?.comment ?? null,
        }),
      );
      const ds = (await getDatastoresById(ctx, [o.item!.datastore_id])).get(o.item!.datastore_id);
      return { ticket: presentTicket(o.ticket!, ds), item: presentItem(o.item!, ds) };
    },
  );
}
