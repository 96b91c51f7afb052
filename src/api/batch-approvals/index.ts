import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { checkBatchApproval, normalizeTaskIds, resolveApprovalScope, type ApprovalScope } from './batch-check.ts';
import { batchApprovalProgress, submitBatchApproval } from './approval-groups.ts';
import { principalOf } from '../auth-hook.ts';
import { logServerError, toHttpError } from '../errors-http.ts';
import { requestOf } from '../request-context.ts';
import type { App, RouteDeps } from '../types.ts';

/**
 * The batch approval open API (docs/batch-approvals.md): `_check`, `_submit` and its progress, at the root
 * (no workspace in the path). Translation only: batch-check.ts decides scope and verdicts, approval-groups.ts
 * submits (through the engine's façade) and reports. Errors answer `{code, message, details?}` (flat, no `error`
 * wrapper) with the catalog's code and status.
 */

/** A task id: a string (our 19-digit ids, or any other client's id form), or a JSON integer. */
const TaskIdString = Type.String({
  minLength: 1,
  maxLength: 64,
  pattern: '^[0-9A-Za-z_-]+$',
  description: 'A task (ticket) id.',
});
const TaskId = Type.Union([TaskIdString, Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })]);
/** The seed's limit (200) is checked in batch-check.ts (TOO_MANY_TARGETS); this bound only keeps validation cheap. */
const TaskIds = (minItems: number) => Type.Array(TaskId, { minItems, maxItems: 10_000 });
const Body = (minItems: number) =>
  Type.Union([TaskIds(minItems), Type.Object({ task_ids: TaskIds(minItems) }, { additionalProperties: false })], {
    description: 'A bare JSON array of task ids (the seed), or {"task_ids": [...]}; at most 200.',
  });
const UserQuery = Type.Object({ user_id: TaskIdString });

const BatchApprovalError = Type.Object(
  { code: Type.String(), message: Type.String(), details: Type.Optional(Type.Unknown()) },
  { description: 'Every 4xx/5xx answer of the batch approval open API: a catalog code and a message.' },
);
const errors = {
  400: BatchApprovalError,
  401: BatchApprovalError,
  403: BatchApprovalError,
  404: BatchApprovalError,
  409: BatchApprovalError,
  413: BatchApprovalError,
  415: BatchApprovalError,
  429: BatchApprovalError,
};

const Verdict = Type.Object({
  task_id: Type.String(),
  supported: Type.Boolean(),
  code: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
});
const Progress = Type.Object({
  batch_number: Type.String(),
  total: Type.Integer(),
  processed: Type.Integer({ description: 'Tasks with an outcome, failures included.' }),
  failed_tasks: Type.Array(Type.String()),
  state: Type.String(),
  failed_reasons: Type.Array(Type.Object({ task_id: Type.String(), code: Type.String(), reason: Type.String() })),
});

type BodyValue = (string | number)[] | { task_ids: (string | number)[] };
const idsOf = (body: BodyValue) => normalizeTaskIds(Array.isArray(body) ? body : body.task_ids);

export function sendBatchApprovalError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const e = toHttpError(err, req);
  logServerError(req, err, e);
  if (e.headers) reply.headers(e.headers);
  return reply
    .status(e.status)
    .send({ code: e.code, message: e.message, ...(e.details !== undefined ? { details: e.details } : {}) });
}

export function batchApprovalsApi({ ctx, engine }: RouteDeps) {
  async function scopeOf(req: FastifyRequest, userId: string): Promise<ApprovalScope> {
    return resolveApprovalScope(ctx, await principalOf(ctx, req), userId);
  }

  return async function plugin(app: App): Promise<void> {
    app.setErrorHandler((err, req, reply) => sendBatchApprovalError(err, req, reply));

    app.post(
      '/batch_approvals/_check',
      {
        schema: {
          tags: ['batch approvals'],
          summary: 'Whether each task may be approved in a batch by user_id (one answer per id, in request order)',
          querystring: UserQuery,
          body: Body(0),
          response: { 200: Type.Array(Verdict), ...errors },
        },
      },
      async (req) => {
        const scope = await scopeOf(req, req.query.user_id);
        return checkBatchApproval(ctx, scope, idsOf(req.body));
      },
    );

    app.post(
      '/batch_approvals/_submit',
      {
        schema: {
          tags: ['batch approvals'],
          summary: 'Approve the tasks as user_id, asynchronously; answers the batch_number at once',
          querystring: UserQuery,
          body: Body(1),
          response: { 200: Type.Object({ batch_number: Type.String() }), ...errors },
        },
      },
      async (req) => {
        const scope = await scopeOf(req, req.query.user_id);
        const { batch_number } = await submitBatchApproval(engine, requestOf(req), scope, idsOf(req.body));
        return { batch_number };
      },
    );

    app.get(
      '/batch_approvals/_submit',
      {
        schema: {
          tags: ['batch approvals'],
          summary: 'Progress of a batch_number submitted by user_id',
          querystring: Type.Object({ user_id: TaskIdString, batch_number: TaskIdString }),
          response: { 200: Progress, ...errors },
        },
      },
      async (req) => batchApprovalProgress(ctx, await scopeOf(req, req.query.user_id), req.query.batch_number),
    );
  };
}
