import type { HistoryRow } from '../../db/schema.ts';
import type { Datastore } from '../datastore-model.ts';
import type { Draft } from '../drafts.ts';
import type { Item } from '../items.ts';
import type { Ticket } from '../tickets.ts';
import { draftStateOf, sameDraft } from '../undo.ts';
import type { Undo } from '../undo-record.ts';
import { mayDecide } from './plan-decision.ts';
import { failed, type Actor, type Change, type Outcome } from './types.ts';

/** A history entry of the reverted batch, with its undo record decoded. */
export type RevertSource = Omit<HistoryRow, 'undo' | 'changes'> & { undo: Undo | null };

/**
 * Plans undoing what batch `revertsBatchId` did to one item, or says why not. Pure: every input is loaded.
 *
 * The item goes back to the status and values the entry recorded, only if nothing changed it since: its rev_no
 * is still the one the batch left (REVERT_CONFLICT otherwise, and it is left alone). Its draft and its ticket
 * go back too, under the same rule: the draft must still be the one the batch left, the ticket still in the
 * state the batch left it.
 *
 * Tickets, and what "the workflow allows": a ticket the batch decided is reopened (pending again, with its
 * assignee, and the item back in the action's pending status) when the item has not changed since the decision
 * (so no other action ran and no other ticket opened: either would have moved its rev_no) and the ticket is
 * still in the decided state. Datastore definitions are immutable, so the action still needs the approval that
 * opened it. A ticket the batch opened is withdrawn, by the reverting user, as its submitter could have; that
 * moves the item back where it was, as withdrawing does.
 */
export function planRevert(
  actor: Actor,
  targetId: string,
  item: Item | undefined,
  ds: Datastore | undefined,
  sources: RevertSource[] | undefined,
  pending: Ticket | undefined,
  draft: Draft | undefined,
  tickets: ReadonlyMap<string, Ticket>,
  revertsBatchId: string,
  comment: string | null,
): Change | Outcome {
  if (!item || !ds) return failed(targetId, 'ITEM_NOT_FOUND', 'The item does not exist in this workspace.');
  if (!sources?.length)
    return failed(targetId, 'NOT_REVERTIBLE', `Batch ${revertsBatchId} recorded no change of this item.`);
  if (sources.length > 1)
    return failed(
      targetId,
      'NOT_REVERTIBLE',
      `Batch ${revertsBatchId} changed this item ${sources.length} times; only single changes are reverted.`,
    );
  const h = sources[0]!;
  if (h.rev_no === null || h.from_status_id === null) {
    return failed(targetId, 'NOT_REVERTIBLE', 'The change was recorded before batchgate kept what a revert needs.');
  }
  if (item.rev_no !== h.rev_no) {
    return failed(
      targetId,
      'REVERT_CONFLICT',
      `The item is at rev_no ${item.rev_no}, batch ${revertsBatchId} left it at ${h.rev_no}: it changed since, so it is left as it is.`,
    );
  }
  const undo = h.undo ?? {};
  if (pending && pending.id !== h.ticket_id)
    return failed(targetId, 'ITEM_PENDING_APPROVAL', `The item has pending ticket ${pending.id}.`);
  if (undo.draft && !sameDraft(draftStateOf(draft), undo.draft.after)) {
    return failed(targetId, 'REVERT_CONFLICT', 'The item’s draft changed since the batch, so it is left as it is.');
  }
  let ticket: Ticket | undefined;
  if (undo.ticket) {
    ticket = h.ticket_id ? tickets.get(h.ticket_id) : undefined;
    if (!ticket) return failed(targetId, 'TICKET_NOT_FOUND', 'The ticket the batch decided no longer exists.');
    if (ticket.state !== undo.ticket.after.state) {
      return failed(
        targetId,
        'REVERT_CONFLICT',
        `The ticket is ${ticket.state} now, not ${undo.ticket.after.state} as the batch left it.`,
      );
    }
    if (undo.ticket.before?.state === 'pending' && ticket.pending_status_id !== h.from_status_id) {
      return failed(
        targetId,
        'NOT_REVERTIBLE',
        'The ticket cannot be reopened: the item would not return to its pending status.',
      );
    }
    // Putting a decision back (reverting the revert that reopened it) is deciding: it needs who may decide now,
    // as withdrawing needs the submitter. Reopening, or withdrawing what the batch opened, needs no more than write.
    const to = undo.ticket.before?.state;
    if ((to === 'approved' || to === 'rejected') && !mayDecide(actor, ticket)) {
      return failed(
        targetId,
        'NOT_ASSIGNEE',
        `Putting back the ${to} decision needs the assignee or a workspace admin.`,
      );
    }
    if (to === 'withdrawn' && actor.role !== 'admin' && ticket.submitter_id !== actor.principal.userId) {
      return failed(
        targetId,
        'FORBIDDEN',
        "Putting back the withdrawal needs the ticket's submitter or a workspace admin.",
      );
    }
  }
  if (!ds.statusByKey.has(h.from_status_id))
    return failed(targetId, 'NOT_REVERTIBLE', 'The earlier status no longer exists.');

  let fields = item.fields;
  // Keyed by field display_ids: null-prototype, so Object.assign below only ever sets keys.
  const changes: Record<string, unknown> = Object.create(null);
  if (undo.fields || undo.unset) {
    fields = Object.assign(Object.create(null) as Record<string, unknown>, item.fields, undo.fields ?? {});
    for (const k of undo.unset ?? []) delete fields[k];
    Object.assign(changes, undo.fields ?? {}, Object.fromEntries((undo.unset ?? []).map((k) => [k, null])));
  }
  const title = undo.title;
  const keepsItem = h.from_status_id === item.status_id && fields === item.fields && title === undefined;
  return {
    target_id: targetId,
    before: item,
    status_id: h.from_status_id,
    fields,
    history: {
      kind: 'revert',
      comment,
      changes: Object.keys(changes).length ? changes : null,
      reverts_batch_id: revertsBatchId,
    },
    ...(title !== undefined ? { title } : {}),
    ...(keepsItem ? { keeps_item: true } : {}),
    ...(undo.draft ? { restore_draft: { to: undo.draft.before }, draft_before: draft ?? null } : {}),
    ...(undo.ticket && ticket
      ? { restore_ticket: { ticket, expect: undo.ticket.after.state, to: undo.ticket.before ?? 'withdraw' } }
      : {}),
  };
}
