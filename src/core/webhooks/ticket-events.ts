import type { Ctx } from '../context.ts';
import { actionDisplayId, statusDisplayId } from '../datastore-model.ts';
import { getDatastoresById } from '../datastores.ts';
import type { Item } from '../items.ts';
import type { Ticket } from '../tickets.ts';
import { writeOutbox } from './outbox.ts';

export interface TicketEvent {
  type: 'ticket.assigned' | 'ticket.decided';
  /** The ticket as the change left it. */
  ticket: Ticket;
  /** Its item as the change left it. */
  item: Item;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * Ticket events of committed changes, in their transaction: `ticket.assigned` when one opens, `ticket.decided`
 * when it is approved, rejected or withdrawn. The object is the ticket as the native API shows it, with its
 * item's title and status and the batch (if any) that opened or decided it.
 */
export async function emitTicketEvents(
  ctx: Ctx,
  batchId: string | null,
  events: readonly TicketEvent[],
): Promise<void> {
  const byWorkspace = new Map<string, TicketEvent[]>();
  for (const e of events)
    byWorkspace.set(e.ticket.workspace_id, [...(byWorkspace.get(e.ticket.workspace_id) ?? []), e]);
  for (const [workspaceId, list] of byWorkspace) {
    await writeOutbox(ctx, workspaceId, [...new Set(list.map((e) => e.type))], async () => {
      const datastores = await getDatastoresById(ctx, [...new Set(list.map((e) => e.item.datastore_id))]);
      return list.map(({ type, ticket: t, item }) => {
        const ds = datastores.get(item.datastore_id);
        const ticket = {
          id: t.id,
          state: t.state,
          datastore_id: t.datastore_id,
          action: actionDisplayId(ds, t.action_id),
          item: { id: item.id, title: item.title, status: statusDisplayId(ds, item.status_id), rev_no: item.rev_no },
          assignee_id: t.assignee_id,
          assignee_role: t.assignee_role,
          submitter_id: t.submitter_id,
          comment: t.comment,
          decision_comment: t.decision_comment,
          decided_by: t.decided_by,
          on_behalf_of: t.on_behalf_of,
          decided_at: iso(t.decided_at),
          created_at: iso(t.created_at),
          batch_id: batchId,
        };
        return { type, batchId, data: { ticket } };
      });
    });
  }
}
