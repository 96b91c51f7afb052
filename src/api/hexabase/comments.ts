/** The Hexabase door's comment edits: a comment's author (or a workspace admin) may change or delete it. */
import type { Access } from '../../core/auth.ts';
import type { Ctx } from '../../core/context.ts';
import { fail } from '../../errors.ts';

/** Changes the text of a comment; only its author (or a workspace admin) may. */
export async function updateComment(
  ctx: Ctx,
  access: Access,
  itemId: string,
  historyId: string,
  comment: string,
): Promise<void> {
  await ownComment(ctx, access, itemId, historyId);
  await ctx.db.updateTable('item_history').set({ comment }).where('id', '=', historyId).execute();
}

/** Deletes a comment; only its author (or a workspace admin) may. Action history is never deleted. */
export async function deleteComment(ctx: Ctx, access: Access, itemId: string, historyId: string): Promise<void> {
  await ownComment(ctx, access, itemId, historyId);
  await ctx.db.deleteFrom('item_history').where('id', '=', historyId).execute();
}

async function ownComment(ctx: Ctx, access: Access, itemId: string, historyId: string): Promise<void> {
  const row = await ctx.db
    .selectFrom('item_history')
    .select(['user_id', 'kind'])
    .where('id', '=', historyId)
    .where('item_id', '=', itemId)
    .where('workspace_id', '=', access.workspaceId)
    .executeTakeFirst();
  if (!row || row.kind !== 'comment') fail('NOT_FOUND', 'No such comment on this item.');
  if (row.user_id !== access.principal.userId && access.role !== 'admin')
    fail('FORBIDDEN', 'Only the author or a workspace admin may change a comment.');
}
