/** The Hexabase door's item histories: a page of an item's history with who wrote each entry. */
import type { Ctx } from '../../core/context.ts';
import type { HistoryKind } from '../../core/history.ts';
import { fail } from '../../errors.ts';

export interface HistoryQuery {
  from_index?: number;
  to_index?: number;
  from_datetime?: number | null;
  to_datetime?: number | null;
  exclude_action_history?: boolean;
  exclude_comment_history?: boolean;
}

export interface HistoryView {
  id: string;
  kind: HistoryKind;
  comment: string | null;
  action_id: string | null;
  from_status_id: string | null;
  to_status_id: string | null;
  batch_id: string | null;
  user_id: string | null;
  username: string | null;
  email: string | null;
  created_at: number;
}

/** At most this many history rows per call (Hexabase's own bound). */
export const MAX_HISTORY_ROWS = 100;

/** An item's history, newest first, rows `from_index` up to (excluding) `to_index`, with who wrote each. */
export async function itemHistories(
  ctx: Ctx,
  workspaceId: string,
  itemId: string,
  q: HistoryQuery,
): Promise<HistoryView[]> {
  const from = q.from_index ?? 0;
  const to = q.to_index ?? 30;
  if (to < from) fail('VALIDATION_FAILED', 'to_index must not be below from_index.');
  const limit = Math.min(to - from, MAX_HISTORY_ROWS);
  if (limit === 0) return [];
  let query = ctx.db
    .selectFrom('item_history as h')
    .leftJoin('app_user as u', 'u.id', 'h.user_id')
    .select([
      'h.id',
      'h.kind',
      'h.comment',
      'h.action_id',
      'h.from_status_id',
      'h.to_status_id',
      'h.batch_id',
      'h.user_id',
      'h.created_at',
      'u.name as username',
      'u.email',
    ])
    .where('h.item_id', '=', itemId)
    .where('h.workspace_id', '=', workspaceId);
  if (q.from_datetime != null) query = query.where('h.created_at', '>=', q.from_datetime);
  if (q.to_datetime != null) query = query.where('h.created_at', '<=', q.to_datetime);
  if (q.exclude_comment_history) query = query.where('h.kind', '<>', 'comment');
  if (q.exclude_action_history) query = query.where('h.kind', '=', 'comment');
  const rows = await query.orderBy('h.id', 'desc').limit(limit).offset(from).execute();
  return rows.map((r) => ({ ...r, kind: r.kind as HistoryKind, username: r.username ?? null, email: r.email ?? null }));
}
