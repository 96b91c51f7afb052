import type { Ctx } from '../../core/context.ts';
import { TERMINAL, type BatchState } from '../../core/states.ts';
import { groupBatches, outcomeOf, type Batch, type Engine } from '../../engine/engine.ts';
import { fail, type ErrorCode } from '../../errors.ts';
import { forRequest, type RequestContext } from '../../log.ts';
import { groupByWorkspace, locateTickets, scopeActor, scopeRole, type ApprovalScope } from './batch-check.ts';

/**
 * Batch approvals (the open API's `_submit` and its progress, docs/batch-approvals.md) as engine batch groups. One `_submit` is one group,
 * its id the `batch_number`: an `approve` batch per workspace the visible tasks belong to, each run by the
 * workers as the user (so the engine's per-item checks are the very ones `_check` ran). Task ids the user cannot
 * see (missing, or in a workspace outside the scope) are targets of the group's first batch, whose workspace has
 * no such ticket: the engine fails them with TICKET_NOT_FOUND, so they are counted in `total` and `processed` and
 * listed in `failed_tasks` like every other failure, with nothing tracked outside the engine.
 */

export const BATCH_APPROVAL_SOURCE = 'batch-approvals';

export interface FailedTask {
  task_id: string;
  code: ErrorCode | string;
  reason: string;
}

export interface ApprovalProgress {
  batch_number: string;
  total: number;
  /** Tasks with an outcome, failures included: equals `total` when the group is done. */
  processed: number;
  /** Ids of tasks not approved, grouped by workspace batch, in request order within each. */
  failed_tasks: string[];
  state: BatchState;
  /** Why each of `failed_tasks` failed, in the same order. */
  failed_reasons: FailedTask[];
}

/** The first workspace of the scope, by id, to hold the ids the user cannot see. */
async function firstWorkspace(ctx: Ctx, scope: ApprovalScope): Promise<string | undefined> {
  if (!scope.all) return [...scope.roles.keys()].sort()[0];
  const row = await ctx.db.selectFrom('workspace').select('id').orderBy('id').limit(1).executeTakeFirst();
  return row?.id;
}

/**
 * `_submit`: freezes the group's batches in one transaction (all or none) and wakes the workers; returns at once.
 * A repeated id is one target (approved once). Tasks that stopped being approvable since `_check` simply fail.
 */
export async function submitBatchApproval(
  engine: Pick<Engine, 'ctx' | 'submitGroup'>,
  request: RequestContext,
  scope: ApprovalScope,
  ids: readonly string[],
): Promise<{ batch_number: string; batches: Batch[] }> {
  const ctx = forRequest(engine.ctx, request);
  if (ids.length === 0) fail('VALIDATION_FAILED', 'Name at least one task id.');
  const located = await locateTickets(ctx, scope, ids);
  const { byWorkspace, invisible } = groupByWorkspace(ids, located);
  if (invisible.length > 0) {
    const host = byWorkspace.keys().next().value ?? (await firstWorkspace(ctx, scope));
    if (host === undefined) fail('FORBIDDEN', 'The user belongs to no workspace, so has no tasks to approve.');
    const hosted = new Set(invisible);
    byWorkspace.set(
      host,
      [...new Set(ids)].filter((id) => hosted.has(id) || located.get(id) === host),
    );
  }
  const batchNumber = ctx.ids.next();
  const batches = await engine.submitGroup(
    request,
    [...byWorkspace].map(([ws, targets]) => ({
      actor: scopeActor(scope, ws),
      input: {
        operation: 'approve',
        target: { ids: targets },
        source: BATCH_APPROVAL_SOURCE,
        group_id: batchNumber,
        meta: { batch_number: batchNumber, user_id: scope.user.userId, requested_by: scope.requestedBy.userId },
      },
    })),
  );
  return { batch_number: batchNumber, batches };
}

/** The group's state: the worst terminal state once all are done; otherwise queued, running or paused. */
function groupState(batches: readonly Batch[], processed: number): BatchState {
  const states = batches.map((b) => b.state);
  const active = states.filter((s) => !TERMINAL.includes(s));
  if (active.length === 0) {
    for (const s of ['failed', 'cancelled', 'completed_with_errors'] as const) if (states.includes(s)) return s;
    return 'succeeded';
  }
  if (active.every((s) => s === 'paused')) return 'paused';
  if (processed > 0 || active.length < states.length || active.includes('running')) return 'running';
  return active.includes('queued') ? 'queued' : 'scheduled';
}

/**
 * Progress of a `batch_number`. Only the user who submitted it (or someone acting for them whose scope holds every
 * workspace of the group) sees it; any other batch_number, a native or DataArts group included, is not found.
 */
export async function batchApprovalProgress(
  ctx: Ctx,
  scope: ApprovalScope,
  batchNumber: string,
): Promise<ApprovalProgress> {
  const batches = await groupBatches(ctx, batchNumber);
  const visible =
    batches.length > 0 &&
    batches.every(
      (b) =>
        b.source === BATCH_APPROVAL_SOURCE &&
        b.submitted_by === scope.user.userId &&
        scopeRole(scope, b.workspace_id) !== null,
    );
  if (!visible) fail('BATCH_NOT_FOUND', `No batch_number ${batchNumber} submitted by this user.`);
  const byId = new Map(batches.map((b) => [b.id, b]));
  const rows = await ctx.db
    .selectFrom('batch_item')
    .select(['batch_id', 'seq', 'target_id', 'state', 'error_code', 'error_message'])
    .where(
      'batch_id',
      'in',
      batches.map((b) => b.id),
    )
    .where((eb) => {
      const cancelled = batches.filter((b) => b.state === 'cancelled').map((b) => b.id);
      const done = eb('state', 'in', ['failed', 'skipped']);
      return cancelled.length
        ? eb.or([done, eb.and([eb('state', '=', 'pending'), eb('batch_id', 'in', cancelled)])])
        : done;
    })
    .execute()
    .then((found) => found.map((r) => outcomeOf(byId.get(r.batch_id)!, r)));
  const order = new Map(batches.map((b, i) => [b.id, i]));
  rows.sort((a, b) => order.get(a.batch_id)! - order.get(b.batch_id)! || a.seq - b.seq);
  const total = batches.reduce((n, b) => n + b.total, 0);
  const processed = batches.reduce((n, b) => n + b.total - b.pending, 0);
  return {
    batch_number: batchNumber,
    total,
    processed,
    failed_tasks: rows.map((r) => r.target_id),
    state: groupState(batches, processed),
    failed_reasons: rows.map((r) => ({
      task_id: r.target_id,
      code: r.error_code ?? 'INTERNAL',
      reason: r.error_message ?? 'The task was not approved.',
    })),
  };
}
