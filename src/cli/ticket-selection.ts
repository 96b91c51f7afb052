import type { Conditions, Ticket } from './api-types.ts';
import type { Connection } from './connection.ts';
import { usage } from './exit.ts';
import { ok } from './request.ts';

export interface TicketFilter {
  /** Ticket ids; otherwise every pending ticket of mine (in `datastore`, matching `where`). */
  ids: string[];
  datastore?: string;
  where?: Conditions;
  or?: boolean;
  comment?: string;
}

export interface Undecidable {
  id: string;
  item_id: string | null;
  reason: string;
}

export interface Selection {
  decidable: Ticket[];
  undecidable: Undecidable[];
}

const PAGE = 1000;

export async function datastoreId(conn: Connection, ds: string): Promise<string> {
  return (await ok(conn.api.GET('/api/v1/workspaces/{ws}/datastores/{ds}', { params: { path: { ws: conn.ws, ds } } })))
    .id;
}

/** Every pending ticket the caller may decide (assigned to them or to their role), optionally in one datastore. */
export async function myPendingTickets(conn: Connection, dsId?: string): Promise<Ticket[]> {
  const out: Ticket[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const query = {
      assignee: 'me',
      state: 'pending' as const,
      limit: PAGE,
      offset,
      ...(dsId ? { datastore_id: dsId } : {}),
    };
    const page = await ok(
      conn.api.GET('/api/v1/workspaces/{ws}/tickets', { params: { path: { ws: conn.ws }, query } }),
    );
    out.push(...page.tickets);
    if (page.tickets.length < PAGE || out.length >= page.total) return out;
  }
}

async function matchingItemIds(conn: Connection, ds: string, where: Conditions, or: boolean): Promise<Set<string>> {
  const ids = new Set<string>();
  for (let page = 1; ; page++) {
    const res = await ok(
      conn.api.POST('/api/v1/workspaces/{ws}/datastores/{ds}/items/search', {
        params: { path: { ws: conn.ws, ds } },
        body: { conditions: where, use_or_condition: or, page, per_page: PAGE },
      }),
    );
    for (const i of res.items) ids.add(i.id);
    if (res.items.length < PAGE || ids.size >= res.total) return ids;
  }
}

/** Why a ticket named by id is not among my pending ones. */
async function whyNotMine(conn: Connection, id: string): Promise<Undecidable> {
  const res = await conn.api.GET('/api/v1/workspaces/{ws}/tickets/{id}', { params: { path: { ws: conn.ws, id } } });
  if (!res.data)
    return {
      id,
      item_id: null,
      reason: res.response.status === 404 ? 'no such ticket in the workspace' : `HTTP ${res.response.status}`,
    };
  const t = res.data;
  if (t.state !== 'pending') return { id, item_id: t.item_id, reason: `already ${t.state}` };
  const who = t.assignee_id ? `user ${t.assignee_id}` : t.assignee_role ? `role ${t.assignee_role}` : 'nobody';
  return { id, item_id: t.item_id, reason: `assigned to ${who}, not to you` };
}

/**
 * The tickets a batch decision would take, and those it cannot, with why: not mine, not pending,
 * not batch approvable (the ticket's own `reason`), or needing a comment that was not given.
 */
export async function selectTickets(conn: Connection, f: TicketFilter): Promise<Selection> {
  if (f.where && !f.datastore) usage('--where needs --datastore');
  if (f.where && f.ids.length) usage('give tickets either as ids or with --where, not both');
  const dsId = f.datastore ? await datastoreId(conn, f.datastore) : undefined;
  let candidates = await myPendingTickets(conn, dsId);
  const undecidable: Undecidable[] = [];
  if (f.ids.length) {
    const mine = new Map(candidates.map((t) => [t.id, t]));
    candidates = [];
    for (const id of new Set(f.ids)) {
      const t = mine.get(id);
      if (t) candidates.push(t);
      else undecidable.push(await whyNotMine(conn, id));
    }
  } else if (f.where) {
    const items = await matchingItemIds(conn, f.datastore!, f.where, f.or === true);
    candidates = candidates.filter((t) => items.has(t.item_id));
  }
  const decidable: Ticket[] = [];
  for (const t of candidates) {
    if (!t.batch_approvable)
      undecidable.push({ id: t.id, item_id: t.item_id, reason: t.reason ?? 'may not be decided in a batch' });
    else if (t.requires_comment && !f.comment)
      undecidable.push({ id: t.id, item_id: t.item_id, reason: 'needs a comment (--comment)' });
    else decidable.push(t);
  }
  return { decidable, undecidable };
}
