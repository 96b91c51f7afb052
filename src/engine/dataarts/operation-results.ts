import type { Ctx } from '../../core/context.ts';
import { DATAARTS_SOURCE } from '../../core/dataarts/enums.ts';
import type { DataartsScope } from '../../core/dataarts/scope.ts';
import { fail } from '../../errors.ts';
import { toBatch, type Batch } from '../batches.ts';
import { batchOperationVO, type BatchOperationVO } from './batch-operation-vo.ts';

/** How far back a lookup by entity (model) id or by type alone looks: the workspace's latest DataArts batches. */
const RECENT = 200;

function typeOf(b: Batch): string {
  return String(b.params.meta?.operation_type ?? '');
}

/**
 * ShowDesignOperationResult. `operation_id` is the group id a batch call answered (the batch id), or the id of
 * an entity the operation acted on (DataArts' model_id for model operations): then the latest such batch. With
 * no `operation_id`, the latest batch of that type. The batch must be of `operation_type`; anything else is
 * not found. `page` (limit/offset) cuts the children.
 */
export async function findOperationResult(
  ctx: Ctx,
  scope: DataartsScope,
  q: { operation_type: string; operation_id?: string | undefined; limit: number; offset: number },
): Promise<BatchOperationVO> {
  const ws = scope.access.workspaceId;
  const recent = ctx.db.selectFrom('batch').selectAll('batch').where('batch.workspace_id', '=', ws).where('batch.source', '=', DATAARTS_SOURCE);
  let found: Batch | undefined;
  if (q.operation_id !== undefined) {
    const byId = await recent.where('batch.id', '=', q.operation_id).executeTakeFirst();
    if (byId) found = toBatch(ctx, byId);
    else {
      const latest = ctx.db
        .selectFrom('batch')
        .select('id')
        .where('workspace_id', '=', ws)
        .where('source', '=', DATAARTS_SOURCE)
        .orderBy('id', 'desc')
        .limit(RECENT);
      const rows = await recent
        .where('batch.id', 'in', latest)
        .where((eb) =>
          eb.exists(eb.selectFrom('batch_item').select('seq').whereRef('batch_item.batch_id', '=', 'batch.id').where('batch_item.target_id', '=', q.operation_id!)),
        )
        .orderBy('batch.id', 'desc')
        .execute();
      found = rows.map((r) => toBatch(ctx, r)).find((b) => typeOf(b) === q.operation_type);
    }
  } else {
    const rows = await recent.orderBy('batch.id', 'desc').limit(RECENT).execute();
    found = rows.map((r) => toBatch(ctx, r)).find((b) => typeOf(b) === q.operation_type);
  }
  if (!found || typeOf(found) !== q.operation_type) {
    fail('BATCH_NOT_FOUND', `No ${q.operation_type} operation${q.operation_id !== undefined ? ` ${q.operation_id}` : ''} in this workspace.`);
  }
  return batchOperationVO(ctx, scope, found, { limit: q.limit, offset: q.offset });
}
