import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { DELIVERY_STATES } from '../../core/states.ts';
import { getDelivery, listDeliveries, redeliver, type Delivery } from '../../core/webhooks/deliveries.ts';
import { WEBHOOK_EVENT_TYPES } from '../../core/webhooks/event-types.ts';
import {
  createWebhook,
  deleteWebhook,
  getWebhook,
  listWebhooks,
  updateWebhook,
  type Webhook,
} from '../../core/webhooks/webhooks.ts';
import { accessOf } from '../auth-hook.ts';
import { iso, isoOrNull } from '../present.ts';
import { Id, Key, NullableTime, LiteralUnion, StringEnum, Time, WsParams, responses } from '../schemas.ts';
import type { App, RouteDeps } from '../types.ts';

const EventType = Type.Union(WEBHOOK_EVENT_TYPES.map((t) => Type.Literal(t)));

const Url = Type.String({
  minLength: 1,
  maxLength: 2000,
  description: 'An http(s) URL of an allowed, public host (docs/api.md: Webhooks, where deliveries go).',
});
const Events = Type.Array(EventType, {
  minItems: 1,
  maxItems: WEBHOOK_EVENT_TYPES.length,
  uniqueItems: true,
  description: 'Subscribed event types; all when omitted.',
});
const Description = Type.Union([Type.String({ maxLength: 500 }), Type.Null()]);
// 16 characters at least: a shorter shared secret is guessable offline from one signed body.
const Secret = Type.String({
  minLength: 16,
  maxLength: 200,
  pattern: '^[\\x21-\\x7e]+$',
  description: 'The signing secret (printable ASCII); generated when omitted.',
});

const WebhookSchema = Type.Object({
  id: Id,
  workspace_id: Id,
  url: Type.String(),
  description: Description,
  events: Type.Array(EventType),
  active: Type.Boolean(),
  created_by: Type.Union([Id, Type.Null()]),
  created_at: Time,
  updated_at: Time,
});

const AttemptSchema = Type.Object({
  attempt: Type.Integer(),
  started_at: Time,
  duration_ms: Type.Integer(),
  status_code: Type.Union([Type.Integer(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  response_snippet: Type.Union([Type.String(), Type.Null()]),
});

const DeliverySchema = Type.Object({
  id: Id,
  webhook_id: Id,
  event_id: Id,
  event_type: Type.String(),
  state: StringEnum(DELIVERY_STATES),
  attempt_count: Type.Integer(),
  next_attempt_at: NullableTime,
  last_status: Type.Union([Type.Integer(), Type.Null()]),
  last_error: Type.Union([Type.String(), Type.Null()]),
  redelivery_of: Type.Union([Id, Type.Null()]),
  created_at: Time,
  updated_at: Time,
  delivered_at: NullableTime,
  attempts: Type.Array(AttemptSchema),
});

function presentWebhook(w: Webhook) {
  return { ...w, created_at: iso(w.created_at), updated_at: iso(w.updated_at) };
}

function presentDelivery(d: Delivery) {
  return {
    ...d,
    next_attempt_at: isoOrNull(d.next_attempt_at),
    created_at: iso(d.created_at),
    updated_at: iso(d.updated_at),
    delivered_at: isoOrNull(d.delivered_at),
    attempts: d.attempts.map((a) => ({ ...a, started_at: iso(a.started_at) })),
  };
}

const HookParams = Type.Object({ ws: Key, id: Id });
const DeliveryParams = Type.Object({ ws: Key, id: Id, delivery_id: Id });

/** Workspace webhooks (docs/api.md: Webhooks): workspace admins only, since a URL may embed a receiver's credentials. */
export function webhookRoutes(app: App, { ctx, engine }: RouteDeps): void {
  const admin = async (req: FastifyRequest, ws: string) => accessOf(ctx, req, ws, 'manage');

  app.post(
    '/workspaces/:ws/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Create a webhook; the answer carries its signing secret, shown this once',
        params: WsParams,
        body: Type.Object(
          {
            url: Url,
            events: Type.Optional(Events),
            description: Type.Optional(Description),
            active: Type.Optional(Type.Boolean()),
            secret: Type.Optional(Secret),
          },
          { additionalProperties: false },
        ),
        response: responses({
          201: Type.Intersect([
            WebhookSchema,
            Type.Object({ secret: Type.String({ description: 'Shown once: keep it to verify signatures.' }) }),
          ]),
        }),
      },
    },
    async (req, reply) => {
      const { webhook, secret } = await createWebhook(ctx, await admin(req, req.params.ws), req.body);
      return reply.status(201).send({ ...presentWebhook(webhook), secret });
    },
  );

  app.get(
    '/workspaces/:ws/webhooks',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Webhooks of the workspace',
        params: WsParams,
        response: responses({ 200: Type.Object({ webhooks: Type.Array(WebhookSchema) }) }),
      },
    },
    async (req) => ({ webhooks: (await listWebhooks(ctx, await admin(req, req.params.ws))).map(presentWebhook) }),
  );

  app.get(
    '/workspaces/:ws/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'A webhook (never its secret)',
        params: HookParams,
        response: responses({ 200: WebhookSchema }),
      },
    },
    async (req) => presentWebhook(await getWebhook(ctx, await admin(req, req.params.ws), req.params.id)),
  );

  app.patch(
    '/workspaces/:ws/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Change a webhook: URL, events, description, active, or a new secret (not echoed)',
        params: HookParams,
        body: Type.Object(
          {
            url: Type.Optional(Url),
            events: Type.Optional(Events),
            description: Type.Optional(Description),
            active: Type.Optional(Type.Boolean()),
            secret: Type.Optional(Secret),
          },
          { additionalProperties: false },
        ),
        response: responses({ 200: WebhookSchema }),
      },
    },
    async (req) => presentWebhook(await updateWebhook(ctx, await admin(req, req.params.ws), req.params.id, req.body)),
  );

  app.delete(
    '/workspaces/:ws/webhooks/:id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Delete a webhook with its deliveries',
        params: HookParams,
        response: responses({ 204: Type.Null() }),
      },
    },
    async (req, reply) => {
      await deleteWebhook(ctx, await admin(req, req.params.ws), req.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/workspaces/:ws/webhooks/:id/deliveries',
    {
      schema: {
        tags: ['webhooks'],
        summary:
          'The delivery log: deliveries newest first, each with its attempts (status, duration, error, response)',
        params: HookParams,
        querystring: Type.Object({
          state: Type.Optional(LiteralUnion(DELIVERY_STATES)),
          event_type: Type.Optional(EventType),
          event_id: Type.Optional(Id),
          cursor: Type.Optional(Id),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
        }),
        response: responses({
          200: Type.Object({ deliveries: Type.Array(DeliverySchema), next_cursor: Type.Union([Id, Type.Null()]) }),
        }),
      },
    },
    async (req) => {
      const { cursor, ...q } = req.query;
      const page = await listDeliveries(ctx, await admin(req, req.params.ws), req.params.id, {
        ...q,
        ...(cursor ? { before: cursor } : {}),
      });
      return { deliveries: page.deliveries.map(presentDelivery), next_cursor: page.next_cursor };
    },
  );

  app.get(
    '/workspaces/:ws/webhooks/:id/deliveries/:delivery_id',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'A delivery with its attempts and the body it sends',
        params: DeliveryParams,
        response: responses({
          200: Type.Intersect([
            DeliverySchema,
            Type.Object({ payload: Type.Unknown({ description: 'The event body, as sent.' }) }),
          ]),
        }),
      },
    },
    async (req) => {
      const d = await getDelivery(ctx, await admin(req, req.params.ws), req.params.id, req.params.delivery_id);
      return { ...presentDelivery(d), payload: d.payload };
    },
  );

  app.post(
    '/workspaces/:ws/webhooks/:id/deliveries/:delivery_id/redeliver',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Send the event again, as a new delivery with the same event id',
        params: DeliveryParams,
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: responses({ 202: DeliverySchema }),
      },
    },
    async (req, reply) => {
      const d = await redeliver(ctx, await admin(req, req.params.ws), req.params.id, req.params.delivery_id);
      engine.notifier.workAvailable();
      return reply.status(202).send(presentDelivery(d));
    },
  );
}
