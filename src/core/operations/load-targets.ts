import type { Ctx } from '../context.ts';
import { getDatastoresById } from '../datastores.ts';
import type { Datastore } from '../datastore-model.ts';
import { toItem, type Item } from '../items.ts';
import { toTicket, type Ticket } from '../tickets.ts';

/** Must run in a transaction (ctx.bulk). The workspace's items among `ids` (others are simply absent), their datastores, and their pending tickets. */
export async function loadItems(
  ctx: Ctx,
  workspaceId: string,
  ids: readonly string[],
): Promise<{ items: Map<string, Item>; datastores: Map<string, Datastore>; pending: Map<string, Ticket> }> {
  const rows = await ctx.bulk.selectItems(ctx.db, workspaceId, ids);
  const items = new Map(rows.map((r) => [r.id, toItem(ctx, r)]));
  const datastores = await getDatastoresById(ctx, [...new Set(rows.map((r) => r.datastore_id))]);
  const pending = await pendingTickets(ctx, [...items.keys()]);
  return { items, datastores, pending };
}

export async function pendingTickets(ctx: Ctx, itemIds: readonly string[]): Promise<Map<string, Ticket>> {
  const rows = await ctx.bulk.selectPendingTickets(ctx.db, itemIds);
  return new Map(rows.map((r) => [r.item_id, toTicket(ctx, r)]));
}

/** The workspace's tickets among `ids` with their items and datastores. */
export async function loadTickets(
  ctx: Ctx,
  workspaceId: string,
  ids: readonly string[],
): Promise<{ tickets: Map<string, Ticket>; items: Map<string, Item>; datastores: Map<string, Datastore> }> {
  const rows = await ctx.bulk.selectTickets(ctx.db, workspaceId, ids);
  const tickets = new Map(rows.map((r) => [r.id, toTicket(ctx, r)]));
  const itemRows = await ctx.bulk.selectItems(ctx.db, workspaceId, [...new Set(rows.map((r) => r.item_id))]);
  const items = new Map(itemRows.map((r) => [r.id, toItem(ctx, r)]));
  const datastores = await getDatastoresById(ctx, [...new Set(itemRows.map((r) => r.datastore_id))]);
  return { tickets, items, datastores };
}
