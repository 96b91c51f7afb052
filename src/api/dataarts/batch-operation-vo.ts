import type { Ctx } from '../../core/context.ts';
import { getDatastoresById } from '../../core/datastores.ts';
import { OPERATION_STATUS, REMARK, type OperationStatus } from '../../core/dataarts/enums.ts';
import type { DataartsScope } from '../../core/dataarts/scope.ts';
import { TERMINAL } from '../../core/states.ts';
import { outcomeOf, type Batch } from '../../engine/engine.ts';
import { childNames } from './child-names.ts';

/** BatchOperationVO (the DataArts Studio API reference): the parent of a group, or one of its children. */
export interface BatchOperationVO {
  id: string | null;
  tenant_id: string;
  group_id: string;
  biz_name: string | null;
  biz_id: string | null;
  operation_status: OperationStatus;
  operation_type: string;
  biz_info: string | null;
  create_by: string | null;
  remark: string | null;
  total: number;
  success: number;
  failed: number;
  rate: string | null;
  logs: null;
  groups: BatchOperationVO[] | null;
}

interface ItemOutcome {
  seq: number;
  target_id: string;
  state: string;
  error_code: string | null;
  error_message: string | null;
  expected_datastore_id: string | null;
}

/** Progress with two decimals, rounded down so "1.00" means done. */
export function rateOf(done: number, total: number): string {
  if (total === 0) return '1.00';
  return (Math.floor((100 * done) / total) / 100).toFixed(2);
}

/** The DataArts text for a failed child: the real service's wording where it is known, else ours. */
function failureRemark(operationType: string, o: ItemOutcome, bizName: string | null, bizType: string | null): string {
  if (o.error_code === 'WRONG_STATUS' && operationType === 'PUBLISH') return REMARK.alreadyPublished;
  if (o.error_code === 'WRONG_STATUS' && operationType === 'OFFLINE') return REMARK.notOnline(bizName ?? o.target_id);
  if (o.error_code === 'ITEM_NOT_FOUND' && bizType)
    return `${bizType} ${o.target_id} does not exist in this workspace.`;
  return o.error_message ?? o.error_code ?? 'FAILED';
}

/**
 * "SKIP | Skipped by users" for what the user left out (or cancelled); any other skip (an unchanged table, one
 * not updated) says why, in the same form.
 */
function skipRemark(o: ItemOutcome): string {
  if (o.error_code === null || o.error_code === 'SKIPPED_BY_USER' || o.error_code === 'BATCH_CANCELLED')
    return REMARK.skipped;
  return `SKIP | ${o.error_message ?? o.error_code}`;
}

/**
 * Renders a DataArts batch as BatchOperationVO. The parent has `id: null`, the batch id as `group_id`, the
 * batch's counters (a skipped item counts as a success, as on DataArts) and is FAILED when any child failed,
 * RUNNING while any is pending. Children follow the batch items in input order; a child's id is the group id
 * plus its position, consecutive like DataArts' and stable across reads. `page` cuts the children only.
 */
export async function batchOperationVO(
  ctx: Ctx,
  scope: DataartsScope,
  batch: Batch,
  page?: { limit: number; offset: number },
): Promise<BatchOperationVO> {
  const operationType = String(batch.params.meta?.operation_type ?? batch.operation).toUpperCase();
  let q = ctx.db
    .selectFrom('batch_item')
    .select(['seq', 'target_id', 'state', 'error_code', 'error_message', 'expected_datastore_id'])
    .where('batch_id', '=', batch.id)
    .orderBy('seq');
  if (page) q = q.limit(page.limit).offset(page.offset);
  const outcomes: ItemOutcome[] = (await q.execute()).map((o) => outcomeOf(batch, o));

  const names = await childNames(
    ctx,
    batch,
    outcomes.map((o) => o.target_id),
  );
  const datastores = await getDatastoresById(ctx, [
    ...new Set(outcomes.flatMap((o) => (o.expected_datastore_id ? [o.expected_datastore_id] : []))),
  ]);
  const creator = await ctx.db
    .selectFrom('app_user')
    .select('name')
    .where('id', '=', batch.submitted_by)
    .executeTakeFirst();
  const createBy = creator?.name ?? batch.submitted_by;

  const groups = outcomes.map((o): BatchOperationVO => {
    const { biz_id: bizId, biz_name: bizName } = names.get(o.target_id) ?? { biz_id: null, biz_name: null };
    const bizType = o.expected_datastore_id ? (datastores.get(o.expected_datastore_id)?.display_id ?? null) : null;
    const status =
      o.state === 'pending'
        ? OPERATION_STATUS.RUNNING
        : o.state === 'failed'
          ? OPERATION_STATUS.FAILED
          : OPERATION_STATUS.SUCCESS;
    const remark =
      o.state === 'succeeded'
        ? REMARK.passed
        : o.state === 'skipped'
          ? skipRemark(o)
          : o.state === 'failed'
            ? failureRemark(operationType, o, bizName, bizType)
            : null;
    return {
      id: (BigInt(batch.id) + BigInt(o.seq)).toString(),
      tenant_id: scope.tenantId,
      group_id: batch.id,
      biz_name: bizName,
      biz_id: bizId,
      operation_status: status,
      operation_type: operationType,
      biz_info: '{}',
      create_by: createBy,
      remark,
      total: 0,
      success: 0,
      failed: 0,
      rate: null,
      logs: null,
      groups: null,
    };
  });

  const success = batch.succeeded + batch.skipped;
  const running = !TERMINAL.includes(batch.state);
  return {
    id: null,
    tenant_id: scope.tenantId,
    group_id: batch.id,
    biz_name: null,
    biz_id: null,
    operation_status: running
      ? OPERATION_STATUS.RUNNING
      : batch.failed > 0 || batch.state === 'failed'
        ? OPERATION_STATUS.FAILED
        : OPERATION_STATUS.SUCCESS,
    operation_type: operationType,
    biz_info: null,
    create_by: createBy,
    remark: batch.error,
    total: batch.total,
    success,
    failed: batch.failed,
    rate: rateOf(success + batch.failed, batch.total),
    logs: null,
    groups,
  };
}
