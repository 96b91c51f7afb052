import type { Condition } from '../core/conditions.ts';
import type { ModelOpParams } from '../core/models/op-params.ts';
import type { Ctx } from '../core/context.ts';
import type { BatchRow } from '../db/schema.ts';
import { fail } from '../errors.ts';
import { BATCH_STATES, isState, type Operation } from '../core/states.ts';

/** What a batch does, frozen at submit. Targets themselves are the batch_item rows. */
export interface BatchParams {
  action?: string | null;
  fields?: Record<string, unknown> | null;
  comment?: string | null;
  /** The datastore and conditions the targets were selected with, kept for audit. */
  datastore_id?: string | null;
  conditions?: Condition[] | null;
  use_or_condition?: boolean;
  approver_user_id?: string | null;
  skip_approval?: boolean;
  /** What a compatibility door was given beyond the operation (as_params, env_type, …), kept for audit. */
  meta?: Record<string, unknown> | null;
  /** A model operation's parameters (reverse_db, transform_model). */
  model_op?: ModelOpParams | null;
  /** False: the tickets this batch opens and decides send no webhook events (batch events still go). Absent = true. */
  notify?: boolean;
  /** A `revert` batch: the batch whose changes it undoes. */
  reverts_batch_id?: string | null;
  /** An admin who submitted the batch in `submitted_by`'s name (the batch approval open API's user_id): recorded as the real author. */
  acting_by?: string | null;
}

/** A batch as the engine hands it around: its row, with JSON and 0/1 columns read and `pending` counted. */
export type Batch = Omit<BatchRow, 'operation' | 'params' | 'dry_run'> & {
  operation: Operation;
  params: BatchParams;
  dry_run: boolean;
  /** Items not yet run: total less the three outcome counters. */
  pending: number;
};

/** How many items one slice takes: the whole chunk, or about a quarter second's worth under a rate limit. */
export function sliceSize(maxRate: number | null, chunkSize: number): number {
  if (!maxRate) return chunkSize;
  return Math.max(1, Math.min(chunkSize, Math.ceil(maxRate / 4)));
}

export function toBatch(ctx: Ctx, row: BatchRow): Batch {
  return {
    ...row,
    operation: row.operation as Operation,
    params: ctx.caps.readJson<BatchParams>(row.params) ?? {},
    dry_run: row.dry_run === 1,
    // The counters are bumped in the same transaction as the outcomes, so pending is exact, never negative.
    pending: row.total - row.succeeded - row.failed - row.skipped,
  };
}

export async function findBatch(ctx: Ctx, id: string): Promise<Batch | null> {
  const row = await ctx.db.selectFrom('batch').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toBatch(ctx, row) : null;
}

/** A batch of the workspace; another workspace's batch is not found. */
export async function getBatch(ctx: Ctx, workspaceId: string, id: string): Promise<Batch> {
  const row = await ctx.db
    .selectFrom('batch')
    .selectAll()
    .where('id', '=', id)
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  if (!row) fail('BATCH_NOT_FOUND');
  return toBatch(ctx, row);
}

/** The batches of a group, in id order: one per workspace a grouped submit touched. */
export async function groupBatches(ctx: Ctx, groupId: string): Promise<Batch[]> {
  const rows = await ctx.db.selectFrom('batch').selectAll().where('group_id', '=', groupId).orderBy('id').execute();
  return rows.map((r) => toBatch(ctx, r));
}

export async function listBatches(
  ctx: Ctx,
  workspaceId: string,
  q: { state?: string; limit?: number; before?: string },
): Promise<Batch[]> {
  let query = ctx.db.selectFrom('batch').selectAll().where('workspace_id', '=', workspaceId);
  if (q.state) {
    // The filter takes any text: one that names no state matches no batch.
    if (!isState(BATCH_STATES, q.state)) return [];
    query = query.where('state', '=', q.state);
  }
  if (q.before) query = query.where('id', '<', q.before);
  const rows = await query
    .orderBy('id', 'desc')
    .limit(Math.min(q.limit ?? 50, 500))
    .execute();
  return rows.map((r) => toBatch(ctx, r));
}
