import type { ExpressionBuilder } from 'kysely';
import type { Ctx } from '../../core/context.ts';
import { DATAARTS_SOURCE } from '../../core/dataarts/enums.ts';
import type { DataartsScope } from '../../core/dataarts/scope.ts';
import { operationSubject } from '../../core/models/op-params.ts';
import type { Schema } from '../../db/schema.ts';
import { fail } from '../../errors.ts';
import { MODEL_OPERATIONS } from '../../core/states.ts';
import { toBatch, type Batch } from '../../engine/engine.ts';
import { batchOperationVO, type BatchOperationVO } from './batch-operation-vo.ts';

/** How far back a lookup by entity (model) id or by type alone looks: the workspace's latest DataArts batches. */
const RECENT = 200;

function typeOf(b: Batch): string {
  return String(b.params.meta?.operation_type ?? '');
}

/** DataArts batches: those its routes submitted, and every model operation (native routes submit them too). */
const reported = (eb: ExpressionBuilder<Schema, 'batch'>) =>
  eb.or([eb('batch.source', '=', DATAARTS_SOURCE), eb('batch.operation', 'in', [...MODEL_OPERATIONS])]);

/**
 * ShowDesignOperationResult. `operation_id` is the group id a batch call answered (the batch id), or the id of
 * the model a model operation is reported under (the target model of a reverse, the logical model of a
 * transform), or the id of an entity the operation acted on: then the latest such batch. With no
 * `operation_id`, the latest batch of that type. The batch must be of `operation_type`; anything else is not
 * found. `page` (limit/offset) cuts the children.
 */
export async function findOperationResult(
  ctx: Ctx,
  scope: DataartsScope,
  q: { operation_type: string; operation_id?: string | undefined; limit: number; offset: number },
): Promise<BatchOperationVO> {
  const ws = scope.workspaceId;
  const inWorkspace = ctx.db
    .selectFrom('batch')
    .selectAll('batch')
    .where('batch.workspace_id', '=', ws)
    .where(reported);
  const opId = q.operation_id;
  let found: Batch | undefined;
  const byId = opId === undefined ? undefined : await inWorkspace.where('batch.id', '=', opId).executeTakeFirst();
  if (byId) found = toBatch(ctx, byId);
  else {
    const rows = await inWorkspace.orderBy('batch.id', 'desc').limit(RECENT).execute();
    const candidates = rows.map((r) => toBatch(ctx, r)).filter((b) => typeOf(b) === q.operation_type);
    if (opId === undefined) found = candidates[0];
    else {
      const targeted = candidates.length
        ? await ctx.db
            .selectFrom('batch_item')
            .select('batch_id')
            .distinct()
            .where(
              'batch_id',
              'in',
              candidates.map((b) => b.id),
            )
            .where('target_id', '=', opId)
            .execute()
        : [];
      const acted = new Set(targeted.map((r) => r.batch_id));
      found = candidates.find(
        (b) => acted.has(b.id) || (b.params.model_op ? operationSubject(b.params.model_op) === opId : false),
      );
    }
  }
  if (!found || typeOf(found) !== q.operation_type) {
    fail(
      'BATCH_NOT_FOUND',
      `No ${q.operation_type} operation${opId !== undefined ? ` ${opId}` : ''} in this workspace.`,
    );
  }
  return batchOperationVO(ctx, scope, found, { limit: q.limit, offset: q.offset });
}
