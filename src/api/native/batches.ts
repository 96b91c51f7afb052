import type { FastifyRequest } from 'fastify';
import { BatchStatusCache, DEFAULT_STATUS_CACHE_MS } from './batch-status-cache.ts';
import { Type } from 'typebox';
import { authenticate, workspaceAccess, type Access } from '../../core/auth.ts';
import { roleAllows } from '../../core/roles.ts';
import { MODEL_OPERATION_TYPES, type ModelOpParams } from '../../core/models/op-params.ts';
import { BATCH_STATES, ITEM_STATES, MAX_RATE_RANGE, OPERATIONS, PRIORITY, TERMINAL } from '../../core/states.ts';
import { findBatch, getBatch, listBatchItems, listBatches, type Batch } from '../../engine/engine.ts';
import { type AppError, fail, isAppError } from '../../errors.ts';
import { accessOf, tokenOf } from '../auth-hook.ts';
import { DEFAULT_STREAM_SETTINGS, StreamCounter } from './event-streams.ts';
import { iso, isoOrNull } from '../present.ts';
import { requestOf } from '../request-context.ts';
import {
  Comment,
  Conditions,
  DateTimeInput,
  FieldValues,
  Id,
  Key,
  NullableTime,
  LiteralUnion,
  StringEnum,
  Time,
  WsParams,
  responses,
} from '../schemas.ts';
import { type App, type RouteDeps } from '../types.ts';

const MAX_TARGET_IDS = 100_000;

const Revisions = Type.Optional(
  Type.Record(Type.String({ pattern: '^[0-9]{1,20}$' }), Type.Integer({ minimum: 0, maximum: 2_147_483_647 }), {
    // Without it a key that is no id (`""`, `"abc"`) would pass unchecked: JSON Schema's patternProperties
    // only constrain the keys that match.
    additionalProperties: false,
    description: 'Expected rev_no per item id; a target that moved on fails with REVISION_CONFLICT.',
  }),
);
const TargetSchema = Type.Union([
  Type.Object(
    { ids: Type.Array(Id, { minItems: 0, maxItems: MAX_TARGET_IDS }), revisions: Revisions },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      datastore: Key,
      conditions: Type.Optional(Conditions),
      use_or_condition: Type.Optional(Type.Boolean()),
      limit: Type.Optional(
        Type.Integer({
          minimum: 0,
          maximum: 10_000_000,
          description: 'At most this many matching items, in id order.',
        }),
      ),
      revisions: Revisions,
    },
    { additionalProperties: false },
  ),
]);

const ModelOperationSchema = Type.Object(
  {
    operation_type: Type.String({
      description: 'ER_REVERSE_DB or TRANSFORM_LOGIC_MODEL, as DataArts operation-results reports it.',
    }),
    model_id: Type.String({ description: 'The physical model written to.' }),
    logic_model_id: Type.Union([Type.String(), Type.Null()]),
    connection_id: Type.Union([Type.String(), Type.Null()]),
    dw_type: Type.Union([Type.String(), Type.Null()]),
    update_exist_tables: Type.Boolean(),
    excluded: Type.Integer({ description: 'How many targets the user left out (skipped, SKIPPED_BY_USER).' }),
  },
  { description: 'What a model operation does (reverse_db, transform_model).' },
);

export const BatchSchema = Type.Object({
  id: Id,
  workspace_id: Id,
  operation: Type.String(),
  state: StringEnum(BATCH_STATES),
  total: Type.Integer(),
  matched: Type.Union([Type.Integer(), Type.Null()], { description: 'With a target limit: how many items matched.' }),
  group_id: Type.Union([Id, Type.Null()]),
  succeeded: Type.Integer(),
  failed: Type.Integer(),
  skipped: Type.Integer(),
  pending: Type.Integer(),
  progress: Type.Number({ description: 'Fraction done, 0 to 1.' }),
  percent: Type.Number({ description: 'Percentage done, 0 to 100, one decimal.' }),
  eta_seconds: Type.Union([Type.Number(), Type.Null()]),
  items_per_second: Type.Union([Type.Number(), Type.Null()]),
  dry_run: Type.Boolean(),
  notify: Type.Boolean({
    description: 'False: the tickets this batch opens and decides send no webhook events; batch events still go.',
  }),
  max_rate: Type.Union([Type.Number(), Type.Null()]),
  priority: Type.Integer({
    description: `The batch's weight in the fair share of workers, ${PRIORITY.min}–${PRIORITY.max}.`,
  }),
  reverts_batch_id: Type.Union([Id, Type.Null()], {
    description: 'A revert batch: the batch whose changes it undoes.',
  }),
  start_at: NullableTime,
  action: Type.Union([Type.String(), Type.Null()]),
  fields: Type.Union([FieldValues, Type.Null()]),
  comment: Type.Union([Type.String(), Type.Null()]),
  datastore_id: Type.Union([Id, Type.Null()]),
  conditions: Type.Union([Type.Array(Type.Unknown()), Type.Null()]),
  submitted_by: Id,
  attempt: Type.Integer(),
  source: Type.Union([Type.String(), Type.Null()]),
  idempotency_key: Type.Union([Type.String(), Type.Null()]),
  error: Type.Union([Type.String(), Type.Null()]),
  model_operation: Type.Union([ModelOperationSchema, Type.Null()]),
  created_at: Time,
  started_at: NullableTime,
  finished_at: NullableTime,
  updated_at: Time,
  items_purged_at: Type.Union([Time, Type.Null()], {
    description:
      'When retention (BATCHGATE_RETENTION_DAYS) purged the per-item outcomes; the counters remain, and the items list answers 410 ITEMS_PURGED.',
  }),
});

function presentModelOp(p: ModelOpParams | null) {
  if (!p) return null;
  const reverse = p.kind === 'reverse_db';
  return {
    operation_type: MODEL_OPERATION_TYPES[p.kind],
    model_id: reverse ? p.model_id : p.target_model_id,
    logic_model_id: reverse ? null : p.logic_model_id,
    connection_id: p.connection_id,
    dw_type: reverse ? null : p.dw_type,
    update_exist_tables: reverse ? true : p.update_exist_tables,
    excluded: p.excluded.length,
  };
}

export function presentBatch(b: Batch, now = Date.now()) {
  const done = b.total - b.pending;
  const running = !TERMINAL.includes(b.state);
  const elapsed = b.started_at ? ((b.finished_at ?? now) - b.started_at) / 1000 : 0;
  const rate = elapsed > 0 && done > 0 ? done / elapsed : null;
  return {
    id: b.id,
    workspace_id: b.workspace_id,
    operation: b.operation,
    state: b.state,
    total: b.total,
    matched: b.matched,
    group_id: b.group_id,
    succeeded: b.succeeded,
    failed: b.failed,
    skipped: b.skipped,
    pending: b.pending,
    progress: b.total === 0 ? 1 : done / b.total,
    percent: b.total === 0 ? 100 : Math.floor((1000 * done) / b.total) / 10,
    eta_seconds: running && rate ? b.pending / (b.max_rate ? Math.min(rate, b.max_rate) : rate) : running ? null : 0,
    items_per_second: rate,
    dry_run: b.dry_run,
    notify: b.params.notify !== false,
    max_rate: b.max_rate,
    priority: b.priority,
    reverts_batch_id: b.params.reverts_batch_id ?? null,
    start_at: isoOrNull(b.start_at),
    action: b.params.action ?? null,
    fields: b.params.fields ?? null,
    comment: b.params.comment ?? null,
    datastore_id: b.params.datastore_id ?? null,
    conditions: b.params.conditions ?? null,
    submitted_by: b.submitted_by,
    attempt: b.attempt,
    source: b.source,
    idempotency_key: b.idempotency_key,
    error: b.error,
    model_operation: presentModelOp(b.params.model_op ?? null),
    created_at: iso(b.created_at),
    started_at: isoOrNull(b.started_at),
    finished_at: isoOrNull(b.finished_at),
    updated_at: iso(b.updated_at),
    items_purged_at: isoOrNull(b.items_purged_at),
  };
}

/** Controls are for the submitter and workspace admins; a submitter since demoted to viewer no longer controls. */
function requireController(access: Access, batch: Batch): void {
  if (
    !roleAllows(access.role, 'write') ||
    (access.role !== 'admin' && batch.submitted_by !== access.principal.userId)
  ) {
    fail('FORBIDDEN', 'Only the submitter or a workspace admin may control this batch.');
  }
}

/** The batch of the path, for a caller who may control it (see requireController). */
async function controlledBatch(
  ctx: RouteDeps['ctx'],
  req: FastifyRequest & { params: { ws: string; id: string } },
): Promise<{ access: Access; batch: Batch }> {
  const access = await accessOf(ctx, req, req.params.ws);
  const batch = await getBatch(ctx, access.workspaceId, req.params.id);
  requireController(access, batch);
  return { access, batch };
}

const BatchParams = Type.Object({ ws: Key, id: Id });
const JSON_UTF8 = 'application/json; charset=utf-8';

const Priority = Type.Integer({
  minimum: PRIORITY.min,
  maximum: PRIORITY.max,
  description: `Weight in the fair share of workers among running batches (default ${PRIORITY.default}): 20 gets twice the chunks of 10, 1 a tenth.`,
});

export function batchRoutes(app: App, { ctx, engine, statusCacheMs, streams: streamSettings }: RouteDeps): void {
  const streams = new Set<() => void>();
  const sse = streamSettings ?? DEFAULT_STREAM_SETTINGS;
  const streamCounter = new StreamCounter(sse.maxPerToken);
  const statusCache = new BatchStatusCache(engine.notifier, statusCacheMs ?? DEFAULT_STATUS_CACHE_MS);
  app.addHook('onClose', async () => statusCache.close());
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });

  app.post(
    '/workspaces/:ws/batches',
    {
      schema: {
        tags: ['batches'],
        summary: 'Submit a bulk operation; targets are frozen now and run by workers',
        params: WsParams,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) }),
        body: Type.Object(
          {
            operation: Type.Union(OPERATIONS.map((o) => Type.Literal(o))),
            target: TargetSchema,
            action: Type.Optional(Key),
            fields: Type.Optional(FieldValues),
            comment: Type.Optional(Comment),
            dry_run: Type.Optional(Type.Boolean()),
            start_at: Type.Optional(DateTimeInput),
            max_rate: Type.Optional(Type.Number(MAX_RATE_RANGE)),
            notify: Type.Optional(
              Type.Boolean({
                description:
                  "Default true. False: no ticket.assigned / ticket.decided webhook events for this batch's tickets (batch events still go).",
              }),
            ),
            priority: Type.Optional(Priority),
          },
          { additionalProperties: false },
        ),
        response: responses({ 202: BatchSchema }),
      },
    },
    async (req, reply) => {
      // Every operation needs `write`: a viewer may not record batches, not even ones whose every item would fail.
      const access = await accessOf(ctx, req, req.params.ws, 'write');
      const b = req.body;
      const { batch, created } = await engine.submit(requestOf(req), access, {
        operation: b.operation,
        target: b.target,
        ...(b.action !== undefined ? { action: b.action } : {}),
        ...(b.fields !== undefined ? { fields: b.fields } : {}),
        ...(b.comment !== undefined ? { comment: b.comment } : {}),
        dry_run: b.dry_run === true,
        start_at: b.start_at ? Date.parse(b.start_at) : null,
        max_rate: b.max_rate ?? null,
        ...(b.priority !== undefined ? { priority: b.priority } : {}),
        idempotency_key: req.headers['idempotency-key'] ?? null,
        source: 'native',
        // Only an explicit false is recorded, so `notify: true` and no `notify` are the same request (Idempotency-Key).
        ...(b.notify === false ? { notify: false } : {}),
      });
      if (!created) reply.header('idempotent-replayed', 'true');
      return reply.status(202).send(presentBatch(batch));
    },
  );

  app.get(
    '/workspaces/:ws/batches',
    {
      schema: {
        tags: ['batches'],
        summary: 'Batches of the workspace, newest first',
        params: WsParams,
        querystring: Type.Object({
          state: Type.Optional(Type.String({ maxLength: 40 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
          before: Type.Optional(Id),
        }),
        response: responses({ 200: Type.Object({ batches: Type.Array(BatchSchema) }) }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws);
      return { batches: (await listBatches(ctx, access.workspaceId, req.query)).map((b) => presentBatch(b)) };
    },
  );

  app.get(
    '/workspaces/:ws/batches/:id',
    {
      schema: {
        tags: ['batches'],
        summary:
          'A batch with its counts, progress and ETA (up to BATCHGATE_STATUS_CACHE_MS old when another process changed it)',
        params: BatchParams,
        response: responses({ 200: BatchSchema }),
      },
    },
    async (req, reply) => {
      const access = await accessOf(ctx, req, req.params.ws);
      const body = await statusCache.body(access.workspaceId, req.params.id, async () => {
        const batch = await findBatch(ctx, req.params.id);
        return batch
          ? { workspaceId: batch.workspace_id, body: reply.serializeInput(presentBatch(batch), '200') as string }
          : undefined;
      });
      if (!body) fail('BATCH_NOT_FOUND');
      return reply.header('content-type', JSON_UTF8).send(body);
    },
  );

  app.get(
    '/workspaces/:ws/batches/:id/items',
    {
      schema: {
        tags: ['batches'],
        summary:
          'Per-target outcomes, filtered by state, paged by cursor (410 ITEMS_PURGED once retention purged them)',
        params: BatchParams,
        querystring: Type.Object({
          state: Type.Optional(LiteralUnion(ITEM_STATES)),
          error_code: Type.Optional(Type.String({ maxLength: 64 })),
          cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,12}$', maxLength: 12 })),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
        }),
        response: responses({
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                seq: Type.Integer(),
                target_id: Type.String(),
                state: StringEnum(ITEM_STATES),
                error_code: Type.Union([Type.String(), Type.Null()]),
                error_message: Type.Union([Type.String(), Type.Null()]),
                attempts: Type.Integer(),
                updated_at: NullableTime,
                previous_errors: Type.Array(
                  Type.Object({
                    attempt: Type.Integer(),
                    error_code: Type.Union([Type.String(), Type.Null()]),
                    error_message: Type.Union([Type.String(), Type.Null()]),
                    finished_at: NullableTime,
                  }),
                ),
              }),
            ),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          410: Type.Ref('ErrorResponse'),
        }),
      },
    },
    async (req) => {
      const access = await accessOf(ctx, req, req.params.ws);
      const batch = await getBatch(ctx, access.workspaceId, req.params.id);
      if (batch.items_purged_at !== null) {
        fail(
          'ITEMS_PURGED',
          `This batch's per-item outcomes were purged on ${iso(batch.items_purged_at)} (retention); its counters remain on the batch.`,
        );
      }
      const page = await listBatchItems(ctx, batch, {
        ...(req.query.state ? { state: req.query.state } : {}),
        ...(req.query.error_code ? { errorCode: req.query.error_code } : {}),
        after: req.query.cursor ? Number(req.query.cursor) : 0,
        limit: req.query.limit ?? 100,
      });
      return {
        items: page.items.map((i) => ({
          ...i,
          updated_at: isoOrNull(i.updated_at),
          previous_errors: i.previous_errors.map((p) => ({ ...p, finished_at: isoOrNull(p.finished_at) })),
        })),
        next_cursor: page.next_cursor === null ? null : String(page.next_cursor),
      };
    },
  );

  for (const control of ['cancel', 'pause', 'resume', 'retry'] as const) {
    app.post(
      `/workspaces/:ws/batches/:id/${control}`,
      {
        schema: {
          tags: ['batches'],
          summary: {
            cancel: 'Cancel: items not yet run are skipped',
            pause: 'Pause: workers stop after their current slice',
            resume: 'Resume a paused batch',
            retry: 'Re-run only the failed items, in the same batch',
          }[control],
          params: BatchParams,
          body: Type.Optional(Type.Object({}, { additionalProperties: false })),
          response: responses({ 200: BatchSchema }),
        },
      },
      async (req) => {
        const { batch } = await controlledBatch(ctx, req);
        return presentBatch(await engine[control](requestOf(req), batch));
      },
    );
  }

  app.post(
    '/workspaces/:ws/batches/:id/rethrottle',
    {
      schema: {
        tags: ['batches'],
        summary: 'Change max_rate (items/s) while running; null removes the limit',
        params: BatchParams,
        body: Type.Object(
          { max_rate: Type.Union([Type.Number(MAX_RATE_RANGE), Type.Null()]) },
          { additionalProperties: false },
        ),
        response: responses({ 200: BatchSchema }),
      },
    },
    async (req) => {
      const { batch } = await controlledBatch(ctx, req);
      return presentBatch(await engine.rethrottle(requestOf(req), batch, req.body.max_rate));
    },
  );

  app.post(
    '/workspaces/:ws/batches/:id/reprioritize',
    {
      schema: {
        tags: ['batches'],
        summary: 'Change priority while the batch has work left; the next claim uses it',
        params: BatchParams,
        body: Type.Object({ priority: Priority }, { additionalProperties: false }),
        response: responses({ 200: BatchSchema }),
      },
    },
    async (req) => {
      const { batch } = await controlledBatch(ctx, req);
      return presentBatch(await engine.reprioritize(requestOf(req), batch, req.body.priority));
    },
  );

  app.post(
    '/workspaces/:ws/batches/:id/revert',
    {
      schema: {
        tags: ['batches'],
        summary:
          'Undo what a finished or cancelled batch changed, as a new batch; items changed since fail with REVERT_CONFLICT',
        params: BatchParams,
        body: Type.Optional(
          Type.Object(
            {
              dry_run: Type.Optional(
                Type.Boolean({ description: 'Report what would be reverted and what conflicts; change nothing.' }),
              ),
              comment: Type.Optional(Comment),
              priority: Type.Optional(Priority),
            },
            { additionalProperties: false },
          ),
        ),
        response: responses({ 202: BatchSchema }),
      },
    },
    async (req, reply) => {
      const { access, batch } = await controlledBatch(ctx, req);
      const b = req.body ?? {};
      const revert = await engine.revert(requestOf(req), access, batch, {
        dry_run: b.dry_run === true,
        ...(b.comment !== undefined ? { comment: b.comment } : {}),
        ...(b.priority !== undefined ? { priority: b.priority } : {}),
      });
      return reply.status(202).send(presentBatch(revert));
    },
  );

  app.get(
    '/workspaces/:ws/batches/:id/events',
    {
      schema: {
        tags: ['batches'],
        summary: 'Server-sent events: counts, progress and ETA at least every 250 ms until the batch ends',
        params: BatchParams,
        produces: ['text/event-stream'],
      },
    },
    async (req, reply) => {
      const access = await accessOf(ctx, req, req.params.ws);
      let batch = await getBatch(ctx, access.workspaceId, req.params.id);
      const token = tokenOf(req)!;
      const release = streamCounter.acquire(token);
      reply.hijack();
      const res = reply.raw;
      // Hijacked: headers set through `reply` are not sent, so the request id is named here.
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'close',
        'x-accel-buffering': 'no',
        'x-request-id': req.id,
      });
      let closed = false;
      req.raw.on('close', () => {
        closed = true;
        release();
        wake?.();
      });
      // A shutdown ends open streams: an SSE client watching a long batch must not keep the process alive. The
      // response says `connection: close`, so its socket goes with it instead of idling in keep-alive.
      const endStream = () => {
        closed = true;
        wake?.();
      };
      streams.add(endStream);
      let wake: (() => void) | null = null;
      const off = engine.notifier.onProgress((id) => id === batch.id && wake?.());
      let checkedAt = Date.now();
      // Since when written events wait unread: the client does not read, and the socket's buffer is full.
      let stalledSince: number | null = null;
      try {
        for (let n = 0; !closed; n++) {
          const terminal = TERMINAL.includes(batch.state);
          const sentAt = Date.now();
          if (sentAt - checkedAt >= sse.recheckMs) {
            // Access as it stands now: a revoked or expired token, or a member removed, ends the stream.
            checkedAt = sentAt;
            const lost = await accessLost(token, req.params.ws);
            if (lost) {
              res.write(
                `event: error\ndata: ${JSON.stringify({ error: { code: lost.code, message: lost.message } })}\n\n`,
              );
              break;
            }
          }
          if (!res.writableNeedDrain) {
            // Each event carries the whole state, so one not written is not lost: the next one supersedes it.
            stalledSince = null;
            res.write(
              `id: ${n}\nevent: ${terminal ? 'end' : 'progress'}\ndata: ${JSON.stringify(presentBatch(batch))}\n\n`,
            );
            if (terminal) break;
          } else if (stalledSince === null) {
            stalledSince = sentAt;
          } else if (sentAt - stalledSince >= sse.stallMs) {
            // Never an unbounded buffer for a client that does not read: it is dropped, unflushed.
            req.log.info({ batch_id: batch.id }, 'event stream dropped: the client stopped reading');
            res.destroy();
            break;
          }
          // Every progressMs, or sooner when a slice commits, but no more often than every minGapMs per subscriber.
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, sse.progressMs);
            wake = () => {
              clearTimeout(t);
              setTimeout(resolve, Math.max(0, sse.minGapMs - (Date.now() - sentAt)));
            };
          });
          wake = null;
          batch = await getBatch(ctx, access.workspaceId, batch.id);
        }
      } finally {
        streams.delete(endStream);
        off();
        release();
        res.end();
      }
    },
  );

  /** Why the stream's caller may no longer read the workspace, or null while it may. */
  async function accessLost(token: string, ws: string): Promise<AppError | null> {
    try {
      await workspaceAccess(ctx, await authenticate(ctx, token), ws, 'read');
      return null;
    } catch (e) {
      if (isAppError(e) && e.status < 500) return e;
      throw e;
    }
  }
}
