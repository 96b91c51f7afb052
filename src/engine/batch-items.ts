import type { ExpressionBuilder } from 'kysely';
import type { Ctx } from '../core/context.ts';
import type { Schema } from '../db/schema.ts';
import { Errors } from '../errors.ts';
import type { BatchState, ItemState } from '../core/states.ts';
import type { Batch } from './batches.ts';

export interface BatchItemView {
  seq: number;
  target_id: string;
  state: string;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  updated_at: number | null;
  /** Errors of earlier attempts of a retried item, oldest first. */
  previous_errors: {
    attempt: number;
    error_code: string | null;
    error_message: string | null;
    finished_at: number | null;
  }[];
}

/** `batch_item.seq` is a 32-bit integer column: no item comes after this seq. */
const MAX_SEQ = 2_147_483_647;

/**
 * A cancelled batch's items that never ran keep their `pending` rows: the cancel counts them as skipped on the
 * batch (controls.ts cancelBatch: one update whatever the batch's size) rather than rewriting one row per item,
 * which took 20 s for a 1M-item batch on PostgreSQL. Every reader of outcomes shows such a row as what it is,
 * skipped with BATCH_CANCELLED, through these.
 */
export function cancelledUnrun(batchState: BatchState | string, itemState: string): boolean {
  return batchState === 'cancelled' && itemState === 'pending';
}

/** The outcome a batch-item row stands for (see cancelledUnrun). */
export function outcomeOf<T extends { state: string; error_code: string | null; error_message: string | null }>(
  batch: Pick<Batch, 'state'>,
  row: T,
): T {
  if (!cancelledUnrun(batch.state, row.state)) return row;
  return {
    ...row,
    state: 'skipped',
    error_code: Errors.BATCH_CANCELLED.code,
    error_message: Errors.BATCH_CANCELLED.message,
  };
}

/** A filter on batch_item rows for the items whose outcome is `state` (and `errorCode`), cancelled ones included. */
export function outcomeIs(batch: Pick<Batch, 'state'>, state: ItemState | undefined, errorCode: string | undefined) {
  return (eb: ExpressionBuilder<Schema, 'batch_item'>) => {
    const stored = [];
    if (state !== undefined || errorCode !== undefined) {
      const plain = [];
      if (state !== undefined) plain.push(eb('state', '=', state));
      if (errorCode !== undefined) plain.push(eb('error_code', '=', errorCode));
      stored.push(eb.and(plain));
    } else stored.push(eb.lit(true));
    const unrunMatches =
      batch.state === 'cancelled' &&
      (state === undefined || state === 'skipped') &&
      (errorCode === undefined || errorCode === Errors.BATCH_CANCELLED.code);
    const notUnrun = batch.state === 'cancelled' ? eb('state', '<>', 'pending') : eb.lit(true);
    return eb.or([eb.and([...stored, notUnrun]), ...(unrunMatches ? [eb('state', '=', 'pending')] : [])]);
  };
}

/**
 * A page of a batch's outcomes in seq order; the cursor is the last seq returned. A cursor past any seq (a
 * client's garbage) pages to the end instead of being compared as an out-of-range integer, which PostgreSQL
 * refuses (a 500 for `cursor=183912778356`).
 */
export async function listBatchItems(
  ctx: Ctx,
  batch: Pick<Batch, 'id' | 'state' | 'finished_at'>,
  q: { state?: ItemState; errorCode?: string; after: number; limit: number },
): Promise<{ items: BatchItemView[]; next_cursor: number | null }> {
  const batchId = batch.id;
  let query = ctx.db
    .selectFrom('batch_item')
    .select(['seq', 'target_id', 'state', 'error_code', 'error_message', 'attempts', 'updated_at'])
    .where('batch_id', '=', batchId)
    .where('seq', '>', Math.min(q.after, MAX_SEQ));
  if (q.state || q.errorCode || batch.state === 'cancelled')
    query = query.where(outcomeIs(batch, q.state || undefined, q.errorCode || undefined));
  const rows = await query
    .orderBy('seq')
    .limit(q.limit + 1)
    .execute();
  const page = rows.slice(0, q.limit);
  const seqs = page.filter((r) => r.attempts > 1 || r.state === 'pending').map((r) => r.seq);
  const attempts = seqs.length
    ? await ctx.db
        .selectFrom('batch_item_attempt')
        .select(['seq', 'attempt', 'error_code', 'error_message', 'finished_at'])
        .where('batch_id', '=', batchId)
        .where('seq', 'in', seqs)
        .orderBy('seq')
        .orderBy('attempt')
        .execute()
    : [];
  const bySeq = new Map<number, BatchItemView['previous_errors']>();
  for (const a of attempts) {
    const list = bySeq.get(a.seq) ?? [];
    list.push({
      attempt: a.attempt,
      error_code: a.error_code,
      error_message: a.error_message,
      finished_at: a.finished_at,
    });
    bySeq.set(a.seq, list);
  }
  return {
    items: page.map((r) => ({
      ...outcomeOf(batch, r),
      ...(cancelledUnrun(batch.state, r.state) ? { updated_at: batch.finished_at } : {}),
      previous_errors: bySeq.get(r.seq) ?? [],
    })),
    next_cursor: rows.length > q.limit ? page.at(-1)!.seq : null,
  };
}
