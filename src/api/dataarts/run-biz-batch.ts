import { requireCapability } from '../../core/auth.ts';
import { isApprover } from '../../core/dataarts/approvers.ts';
import { assertDistinctBizIds, bizDatastoreIds, bizTarget, type BizInfo } from '../../core/dataarts/biz-targets.ts';
import {
  APPROVAL_ACTIONS,
  BIZ_OPERATIONS,
  DATAARTS_SOURCE,
  type ApprovalAction,
  type BizOperation,
} from '../../core/dataarts/enums.ts';
import { nextScheduleTime } from '../../core/dataarts/schedule-time.ts';
import type { DataartsScope } from '../../core/dataarts/scope.ts';
import { fail } from '../../errors.ts';
import type { RequestContext } from '../../log.ts';
import type { Engine } from '../../engine/engine.ts';
import { batchOperationVO, type BatchOperationVO } from './batch-operation-vo.ts';

/** ApprovalBatchParam: the body of batch-publish and batch-offline. */
export interface BizBatchInput {
  biz_infos: BizInfo[];
  approver_user_id: string;
  approver_user_name: string;
  email?: string | null | undefined;
  fast_approval?: boolean | undefined;
  schedule_time?: string | undefined;
  env_type?: string | undefined;
}

/**
 * Batch publish / batch offline: one engine batch running the biz_type workflow's `publish` or `offline` action on
 * every entity, recorded with source `dataarts`.
 * - fast_approval: the action runs with skip_approval, so each entity moves at once; the engine refuses it per
 *   item (ACTION_NOT_PERMITTED) unless the caller's role may decide.
 * - otherwise: each entity gets a ticket assigned to `approver_user_id`, which must be a registered approver
 *   (refused whole, nothing written, when it is not); the entity waits in *_DEVELOPING.
 * - schedule_time: the batch is scheduled for the next such time and the answer is RUNNING with rate "0.00";
 *   operation-results reads the outcome later. Otherwise the batch runs inline and the answer is final.
 */
export async function runBizBatch(
  engine: Engine,
  request: RequestContext,
  scope: DataartsScope,
  operation: BizOperation,
  input: BizBatchInput,
): Promise<BatchOperationVO> {
  const { ctx } = engine;
  requireCapability(scope, 'write');
  if (input.biz_infos.length === 0) fail('VALIDATION_FAILED', 'biz_infos must list at least one entity.');
  // Every check that can refuse the call runs before anything is written (the datastores provisioned below).
  assertDistinctBizIds(input.biz_infos);
  const fast = input.fast_approval === true;
  if (!fast && !(await isApprover(ctx, scope.workspaceId, input.approver_user_id))) {
    fail(
      'VALIDATION_FAILED',
      `approver_user_id ${input.approver_user_id} is not a configured approver of this workspace (see /design/approvals/users).`,
    );
  }
  const startAt =
    input.schedule_time !== undefined
      ? nextScheduleTime(input.schedule_time, ctx.now(), ctx.settings.scheduleUtcOffsetMinutes)
      : null;
  const datastoreIds = await bizDatastoreIds(
    ctx,
    scope.workspaceId,
    input.biz_infos.map((b) => b.biz_type),
  );
  const target = bizTarget(input.biz_infos, datastoreIds);
  const envTypes = Object.fromEntries(
    input.biz_infos.filter((b) => b.env_type !== undefined).map((b) => [b.biz_id, b.env_type]),
  );
  const batch = await engine.runInline(request, scope, {
    operation: 'action',
    action: BIZ_OPERATIONS[operation],
    target,
    skip_approval: fast,
    approver_user_id: fast ? null : input.approver_user_id,
    start_at: startAt,
    source: DATAARTS_SOURCE,
    meta: {
      operation_type: operation,
      project_id: scope.projectId,
      approver_user_id: input.approver_user_id,
      approver_user_name: input.approver_user_name,
      email: input.email ?? null,
      fast_approval: fast,
      schedule_time: input.schedule_time ?? null,
      env_type: input.env_type ?? null,
      ...(Object.keys(envTypes).length ? { biz_env_types: envTypes } : {}),
    },
  });
  return batchOperationVO(ctx, scope, batch);
}

/** ConfirmApprovals: resolve (approve) or reject tickets in one inline batch; `msg` is the decision comment. */
export async function runApprovalAction(
  engine: Engine,
  request: RequestContext,
  scope: DataartsScope,
  action: ApprovalAction,
  ticketIds: string[],
  msg: string | undefined,
): Promise<BatchOperationVO> {
  // A viewer records no batch: its every decision would fail, and the role is read-only (403 DS.6030).
  requireCapability(scope, 'write');
  const batch = await engine.runInline(request, scope, {
    operation: APPROVAL_ACTIONS[action],
    target: { ids: ticketIds },
    ...(msg !== undefined ? { comment: msg } : {}),
    source: DATAARTS_SOURCE,
    meta: { operation_type: 'APPROVAL', action_id: action, project_id: scope.projectId },
  });
  return batchOperationVO(engine.ctx, scope, batch);
}

/** RollbackApproval: withdraws tickets (their submitter or an admin); answers how many were withdrawn. */
export async function runWithdraw(
  engine: Engine,
  request: RequestContext,
  scope: DataartsScope,
  ticketIds: string[],
): Promise<number> {
  requireCapability(scope, 'write');
  const batch = await engine.runInline(request, scope, {
    operation: 'withdraw',
    target: { ids: ticketIds },
    source: DATAARTS_SOURCE,
    meta: { operation_type: 'WITHDRAW', project_id: scope.projectId },
  });
  return batch.succeeded;
}
