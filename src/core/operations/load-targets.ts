import type { Ctx } from '../context.ts';
import { getDatastoresById } from '../datastores.ts';
import type { Datastore } from '../datastore-model.ts';
import { loadDrafts, type Draft } from '../drafts.ts';
import { toItem, type Item } from '../items.ts';
import { toTicket, type Ticket } from '../tickets.ts';
import type { Undo } from '../undo-record.ts';
import type { RevertSource } from './plan-revert.ts';

/**
 * Must run in a transaction (ctx.bulk). The workspace's items among `ids` (others are simply absent), their
 * datastores, their pending tickets, and the drafts of those in datastores with released statuses.
 */
export async function loadItems(
  ctx: Ctx,
  workspaceId: string,
  ids: readonly string[],
): Promise<{
  items: Map<string, Item>;
  datastores: Map<string, Datastore>;
  pending: Map<string, Ticket>;
  drafts: Map<string, Draft>;
}> {
  const rows = await ctx.bulk.selectItems(ctx.db, workspaceId, ids);
  const items = new Map(rows.map((r) => [r.id, toItem(ctx, r)]));
  const datastores = await getDatastoresById(ctx, [...new Set(rows.map((r) => r.datastore_id))]);
  const pending = await pendingTickets(ctx, [...items.keys()]);
  const drafts = await loadDrafts(ctx, items.values(), datastores);
  return { items, datastores, pending, drafts };
}

export async function pendingTickets(ctx: Ctx, itemIds: readonly string[]): Promise<Map<string, Ticket>> {
  const rows = await ctx.bulk.selectPendingTickets(ctx.db, itemIds);
  return new Map(rows.map((r) => [r.item_id, toTicket(ctx, r)]));
}

/** The workspace's tickets among `ids` with their items, datastores and drafts. */
export async function loadTickets(
  ctx: Ctx,
  workspaceId: string,
  ids: readonly string[],
): Promise<{
  tickets: Map<string, Ticket>;
  items: Map<string, Item>;
  datastores: Map<string, Datastore>;
  drafts: Map<string, Draft>;
}> {
  const rows = await ctx.bulk.selectTickets(ctx.db, workspaceId, ids);
  const tickets = new Map(rows.map((r) => [r.id, toTicket(ctx, r)]));
  const itemRows = await ctx.bulk.selectItems(ctx.db, workspaceId, [...new Set(rows.map((r) => r.item_id))]);
  const items = new Map(itemRows.map((r) => [r.id, toItem(ctx, r)]));
  const datastores = await getDatastoresById(ctx, [...new Set(itemRows.map((r) => r.datastore_id))]);
  const drafts = await loadDrafts(ctx, items.values(), datastores);
  return { tickets, items, datastores, drafts };
}

/** The history entries batch `batchId` wrote for these items, by item id, oldest first. */
export async function loadBatchChanges(
  ctx: Ctx,
  workspaceId: string,
  batchId: string,
  itemIds: readonly string[],
): Promise<Map<string, RevertSource[]>> {
  const out = new Map<string, RevertSource[]>();
  for (let i = 0; i < itemIds.length; i += 1000) {
    const rows = await ctx.db
      .selectFrom('item_history')
      .selectAll()
      .where('batch_id', '=', batchId)
      .where('item_id', 'in', itemIds.slice(i, i + 1000))
      .where('workspace_id', '=', workspaceId)
      .orderBy('id')
      .execute();
    for (const { undo, changes: _changes, ...r } of rows) {
      const list = out.get(r.item_id) ?? [];
      list.push({ ...r, undo: ctx.caps.readJson<Undo | null>(undo) });
      out.set(r.item_id, list);
    }
  }
  return out;
}
