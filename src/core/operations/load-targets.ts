import type { Ctx } from '../context.ts';
import { getDatastoresById } from '../datastores.ts';
import type { Datastore } from '../datastore-model.ts';
import { toItem, type Item } from '../items.ts';
import { toTicket, type Ticket } from '../tickets.ts';

const IN_CHUNK = 1000;

async function chunked<T>(ids: readonly string[], load: (part: string[]) => Promise<T[]>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < ids.length; i += IN_CHUNK) out.push(...(await load(ids.slice(i, i + IN_CHUNK))));
  return out;
}

/** The workspace's items among `ids` (others are simply absent), their datastores, and their pending tickets. */
export async function loadItems(
  ctx: Ctx,
  workspaceId: string,
  ids: readonly string[],
): Promise<{ items: Map<string, Item>; datastores: Map<string, Datastore>; pending: Map<string, Ticket> }> {
  const rows = await chunked(ids, (part) =>
    ctx.db.selectFrom('item').selectAll().where('workspace_id', '=', workspaceId).where('id', 'in', part).execute(),
  );
  const items = new Map(rows.map((r) => [r.id, toItem(ctx, r)]));
  const datastores = await getDatastoresById(ctx, [...new Set(rows.map((r) => r.datastore_id))]);
  const pending = await pendingTickets(ctx, [...items.keys()]);
  return { items, datastores, pending };
}

export async function pendingTickets(ctx: Ctx, itemIds: readonly string[]): Promise<Map<string, Ticket>> {
  const rows = await chunked(itemIds, (part) =>
    ctx.db.selectFrom('ticket').selectAll().where('item_id', 'in', part).where('state', '=', 'pending').execute(),
  );
  return new Map(rows.map((r) => [r.item_id, toTicket(ctx, r)]));
}

/** The workspace's tickets among `ids` with their items and datastores. */
export async function loadTickets(
  ctx: Ctx,
  workspaceId: string,
  ids: readonly string[],
): Promise<{ tickets: Map<string, Ticket>; items: Map<string, Item>; datastores: Map<string, Datastore> }> {
  const rows = await chunked(ids, (part) =>
    ctx.db.selectFrom('ticket').selectAll().where('workspace_id', '=', workspaceId).where('id', 'in', part).execute(),
  );
  const tickets = new Map(rows.map((r) => [r.id, toTicket(ctx, r)]));
  const itemRows = await chunked([...new Set(rows.map((r) => r.item_id))], (part) =>
    ctx.db.selectFrom('item').selectAll().where('id', 'in', part).execute(),
  );
  const items = new Map(itemRows.map((r) => [r.id, toItem(ctx, r)]));
  const datastores = await getDatastoresById(ctx, [...new Set(itemRows.map((r) => r.datastore_id))]);
  return { tickets, items, datastores };
}
