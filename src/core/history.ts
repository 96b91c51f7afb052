import type { HistoryRow } from '../db/schema.ts';
import type { Ctx } from './context.ts';
import type { Undo } from './undo-record.ts';

/**
 * History kinds: create, action (a status or update action ran), submit (an action needing approval opened a
 * ticket), approve, reject, withdraw (a ticket was decided), update (fields set directly), comment, draft (an
 * update of a released item kept as its pending draft), draft_delete (the draft was deleted; see drafts.ts),
 * revert (a revert batch undid the change another batch made, named by `reverts_batch_id`; see undo.ts).
 */
export type HistoryKind =
  | 'create'
  | 'action'
  | 'submit'
  | 'approve'
  | 'reject'
  | 'withdraw'
  | 'update'
  | 'comment'
  | 'draft'
  | 'draft_delete'
  | 'revert';

export interface HistoryEntry {
  id: string;
  item_id: string;
  kind: HistoryKind;
  user_id: string | null;
  action_id: string | null;
  from_status_id: string | null;
  to_status_id: string | null;
  comment: string | null;
  batch_id: string | null;
  ticket_id: string | null;
  changes: Record<string, unknown> | null;
  created_at: number;
  /** The item's rev_no after the change (null on entries older than revert support). */
  rev_no: number | null;
  /** On a revert's entries: the batch whose change was undone. */
  reverts_batch_id: string | null;
  /** When `user_id` acted in another user's name (the batch approval open API's user_id): that user. */
  on_behalf_of: string | null;
}

export type HistoryInput = Pick<HistoryRow, 'workspace_id' | 'item_id' | 'created_at'> & {
  kind: HistoryKind;
} & Partial<
    Pick<
      HistoryEntry,
      | 'user_id'
      | 'action_id'
      | 'from_status_id'
      | 'to_status_id'
      | 'comment'
      | 'batch_id'
      | 'ticket_id'
      | 'changes'
      | 'rev_no'
      | 'reverts_batch_id'
      | 'on_behalf_of'
    >
  > & { undo?: Undo | null };

const CHUNK = 500;

/** History rows with fresh ids, ready to insert. */
export function historyRows(ctx: Ctx, inputs: HistoryInput[]): HistoryRow[] {
  const ids = ctx.ids.many(inputs.length);
  return inputs.map((h, i) => ({
    id: ids[i]!,
    workspace_id: h.workspace_id,
    item_id: h.item_id,
    kind: h.kind,
    user_id: h.user_id ?? null,
    action_id: h.action_id ?? null,
    from_status_id: h.from_status_id ?? null,
    to_status_id: h.to_status_id ?? null,
    comment: h.comment ?? null,
    batch_id: h.batch_id ?? null,
    ticket_id: h.ticket_id ?? null,
    changes: ctx.caps.writeJson(h.changes ?? null),
    created_at: h.created_at,
    rev_no: h.rev_no ?? null,
    undo: ctx.caps.writeJson(h.undo ?? null),
    reverts_batch_id: h.reverts_batch_id ?? null,
    on_behalf_of: h.on_behalf_of ?? null,
  }));
}

/** Inserts history entries set-based and returns them with their ids. */
export async function insertHistory(ctx: Ctx, inputs: HistoryInput[]): Promise<HistoryEntry[]> {
  if (inputs.length === 0) return [];
  const rows = historyRows(ctx, inputs);
  for (let i = 0; i < rows.length; i += CHUNK) {
    await ctx.db
      .insertInto('item_history')
      .values(rows.slice(i, i + CHUNK))
      .execute();
  }
  return rows.map((r) => toHistory(ctx, r));
}

export function toHistory(ctx: Ctx, row: HistoryRow): HistoryEntry {
  const { undo: _undo, ...rest } = row;
  return { ...rest, kind: row.kind as HistoryKind, changes: ctx.caps.readJson(row.changes) };
}

export async function listHistory(ctx: Ctx, itemId: string, limit = 1000): Promise<HistoryEntry[]> {
  const rows = await ctx.db
    .selectFrom('item_history')
    .selectAll()
    .where('item_id', '=', itemId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => toHistory(ctx, r));
}

/** The newest history entry of an item (what an action just wrote). */
export async function latestHistoryId(ctx: Ctx, itemId: string): Promise<string | null> {
  const row = await ctx.db
    .selectFrom('item_history')
    .select('id')
    .where('item_id', '=', itemId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.id ?? null;
}
