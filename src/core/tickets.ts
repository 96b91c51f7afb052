import type { TicketRow } from '../db/schema.ts';
import type { TicketState } from './states.ts';
import { fail } from '../errors.ts';
import type { Access } from './auth.ts';
import type { Ctx } from './context.ts';

export interface Ticket {
  id: string;
  workspace_id: string;
  datastore_id: string;
  item_id: string;
  action_id: string;
  state: TicketState;
  assignee_id: string | null;
  assignee_role: string | null;
  submitter_id: string;
  prev_status_id: string;
  pending_status_id: string;
  /** Field values given with the submit, applied when the ticket is approved. */
  payload: Record<string, unknown> | null;
  batch_approvable: boolean;
  requires_comment: boolean;
  /** Why the ticket may not be decided in a batch, when it may not. */
  reason: string | null;
  comment: string | null;
  decision_comment: string | null;
  /** Who decided (approved, rejected, withdrew): the user who really did it. */
  decided_by: string | null;
  /** When `decided_by` decided in another user's name (the batch approval open API's user_id): that user. */
  on_behalf_of: string | null;
  decided_at: number | null;
  created_at: number;
  updated_at: number;
}

export function toTicket(ctx: Ctx, row: TicketRow): Ticket {
  return {
    ...row,
    state: row.state,
    payload: ctx.caps.readJson(row.payload),
    batch_approvable: row.batch_approvable === 1,
    requires_comment: row.requires_comment === 1,
  };
}

export function ticketRow(ctx: Ctx, t: Ticket): TicketRow {
  return {
    ...t,
    payload: ctx.caps.writeJson(t.payload),
    batch_approvable: t.batch_approvable ? 1 : 0,
    requires_comment: t.requires_comment ? 1 : 0,
  };
}

export async function getTicket(ctx: Ctx, workspaceId: string, id: string): Promise<Ticket> {
  const row = await ctx.db
    .selectFrom('ticket')
    .selectAll()
    .where('id', '=', id)
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  if (!row) fail('TICKET_NOT_FOUND');
  return toTicket(ctx, row);
}

export interface TicketQuery {
  /** `me`, or a user id: tickets that user may decide (assigned to them or to their role). */
  assignee?: string;
  submitter?: string;
  state?: TicketState;
  item_id?: string;
  datastore_id?: string;
  limit?: number;
  offset?: number;
}

export async function listTickets(
  ctx: Ctx,
  access: Access,
  q: TicketQuery,
): Promise<{ tickets: Ticket[]; total: number }> {
  let base = ctx.db.selectFrom('ticket').where('workspace_id', '=', access.workspaceId);
  if (q.state) base = base.where('state', '=', q.state);
  if (q.item_id) base = base.where('item_id', '=', q.item_id);
  if (q.datastore_id) base = base.where('datastore_id', '=', q.datastore_id);
  if (q.submitter) base = base.where('submitter_id', '=', q.submitter === 'me' ? access.principal.userId : q.submitter);
  if (q.assignee) {
    const userId = q.assignee === 'me' ? access.principal.userId : q.assignee;
    const m = await ctx.db
      .selectFrom('membership')
      .select('role')
      .where('workspace_id', '=', access.workspaceId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    const role = userId === access.principal.userId && access.principal.isSystemAdmin ? 'admin' : (m?.role ?? null);
    base = base.where((eb) =>
      eb.or([
        eb('assignee_id', '=', userId),
        ...(role ? [eb.and([eb('assignee_id', 'is', null), eb('assignee_role', '=', role)])] : []),
      ]),
    );
  }
  const { n } = await base.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  const rows = await base
    .selectAll()
    .orderBy('id')
    .limit(Math.min(q.limit ?? 100, 1000))
    .offset(q.offset ?? 0)
    .execute();
  return { tickets: rows.map((r) => toTicket(ctx, r)), total: Number(n) };
}
