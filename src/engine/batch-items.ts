import type { Ctx } from '../core/context.ts';

export interface BatchItemView {
  seq: number;
  target_id: string;
  state: string;
  error_code: string | null;
  error_message: string | null;
  attempts: number;
  updated_at: number | null;
  /** Errors of earlier attempts of a retried item, oldest first. */
  previous_errors: { attempt: number; error_code: string | null; error_message: string | null; finished_at: number | null }[];
}

/** `batch_item.seq` is a 32-bit integer column: no item comes after this seq. */
const MAX_SEQ = 2_147_483_647;

/**
 * A page of a batch's outcomes in seq order; the cursor is the last seq returned. A cursor past any seq (a
 * client's garbage) pages to the end instead of being compared as an out-of-range integer, which PostgreSQL
 * refuses (a 500 for `cursor=183912778356`).
 */
export async function listBatchItems(
  ctx: Ctx,
  batchId: string,
  q: { state?: string; errorCode?: string; after: number; limit: number },
): Promise<{ items: BatchItemView[]; next_cursor: number | null }> {
  let query = ctx.db
    .selectFrom('batch_item')
    .select(['seq', 'target_id', 'state', 'error_code', 'error_message', 'attempts', 'updated_at'])
    .where('batch_id', '=', batchId)
    .where('seq', '>', Math.min(q.after, MAX_SEQ));
  if (q.state) query = query.where('state', '=', q.state);
  if (q.errorCode) query = query.where('error_code', '=', q.errorCode);
  const rows = await query.orderBy('seq').limit(q.limit + 1).execute();
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
    list.push({ attempt: a.attempt, error_code: a.error_code, error_message: a.error_message, finished_at: a.finished_at });
    bySeq.set(a.seq, list);
  }
  return {
    items: page.map((r) => ({ ...r, previous_errors: bySeq.get(r.seq) ?? [] })),
    next_cursor: rows.length > q.limit ? page.at(-1)!.seq : null,
  };
}
