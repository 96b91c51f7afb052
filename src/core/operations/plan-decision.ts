import { allowsSelfApproval, isReleased, type Datastore } from '../datastore-model.ts';
import type { Draft } from '../drafts.ts';
import type { Item } from '../items.ts';
import { roleAllows } from '../roles.ts';
import type { Ticket } from '../tickets.ts';
import { failed, type Actor, type Change, type Outcome } from './types.ts';

export type Decision = 'approve' | 'reject' | 'withdraw';

const RESULT = Object.freeze({ approve: 'approved', reject: 'rejected', withdraw: 'withdrawn' } as const);

/**
 * Who may decide: the assignee (the user, or anyone with the assigned role) or a workspace admin, and only with
 * a role that may decide at all. An assignee since demoted to member or viewer decides nothing: deciding moves
 * the item, and a viewer changing items is exactly what the role forbids.
 */
export function mayDecide(actor: Actor, ticket: Ticket): boolean {
  if (!roleAllows(actor.role, 'decide')) return false;
  if (actor.role === 'admin') return true;
  if (ticket.assignee_id) return ticket.assignee_id === actor.principal.userId;
  return ticket.assignee_role === actor.role;
}

/**
 * Four-eyes: whether the decision would be the submitter's own, by the user named or by whoever really acts for them
 * (an admin acting in an approver's name must not approve what the admin submitted).
 */
export function isSelfDecision(actor: Actor, ticket: Ticket): boolean {
  return (
    ticket.submitter_id === actor.principal.userId ||
    (actor.by !== undefined && ticket.submitter_id === actor.by.userId)
  );
}

export const SELF_APPROVAL_MESSAGE =
  'You submitted this ticket: someone else must decide it (its action does not allow self-approval).';

/** Plans one ticket decision, or says why it fails. Pure: every input is already loaded. */
export function planDecision(
  actor: Actor,
  decision: Decision,
  targetId: string,
  ticket: Ticket | undefined,
  item: Item | undefined,
  ds: Datastore | undefined,
  comment: string | null,
  inBatch: boolean,
  draft?: Draft,
): Change | Outcome {
  if (!ticket) return failed(targetId, 'TICKET_NOT_FOUND', 'The ticket does not exist in this workspace.');
  if (ticket.state !== 'pending')
    return failed(targetId, 'TICKET_ALREADY_DECIDED', `The ticket is already ${ticket.state}.`);
  if (decision === 'withdraw') {
    // A submitter since demoted to viewer may no longer change the item back.
    if (
      !roleAllows(actor.role, 'write') ||
      (actor.role !== 'admin' && ticket.submitter_id !== actor.principal.userId)
    ) {
      return failed(targetId, 'FORBIDDEN', 'Only the submitter or a workspace admin may withdraw a ticket.');
    }
  } else {
    if (!mayDecide(actor, ticket))
      return failed(targetId, 'NOT_ASSIGNEE', 'Only the assignee or a workspace admin may decide this ticket.');
    // The action as it is now decides: a datastore whose action was changed to allow it lets its pending tickets go.
    if (isSelfDecision(actor, ticket) && !allowsSelfApproval(ds?.actionByKey.get(ticket.action_id))) {
      return failed(targetId, 'SELF_APPROVAL_FORBIDDEN', SELF_APPROVAL_MESSAGE);
    }
    if (inBatch && !ticket.batch_approvable)
      return failed(targetId, 'NOT_BATCH_APPROVABLE', ticket.reason ?? 'This ticket may not be decided in a batch.');
    if (ticket.requires_comment && !comment?.trim())
      return failed(targetId, 'COMMENT_REQUIRED', 'This decision requires a comment.');
  }
  if (!item || !ds) return failed(targetId, 'ITEM_NOT_FOUND', 'The ticket item no longer exists.');
  const action = ds.actionByKey.get(ticket.action_id);
  if (!action) return failed(targetId, 'ACTION_NOT_FOUND', 'The ticket action no longer exists.');
  let statusId = ticket.prev_status_id;
  let fields = item.fields;
  const releases = isReleased(ds, action.to_status_id);
  let applied: Draft | undefined;
  if (decision === 'approve') {
    statusId = action.to_status_id ?? ticket.prev_status_id;
    // Approving a release applies the item's draft (src/core/drafts.ts) under the action's own values.
    applied = releases ? draft : undefined;
    if (action.set_fields || ticket.payload || applied) {
      fields = { ...item.fields, ...(applied?.fields ?? {}), ...(action.set_fields ?? {}), ...(ticket.payload ?? {}) };
    }
  } else if (decision === 'reject') {
    // A rejected re-publish of a released item leaves it released: its released version is still the live one.
    const republish = releases && isReleased(ds, ticket.prev_status_id);
    statusId = republish ? ticket.prev_status_id : (action.approval?.reject_status_id ?? ticket.prev_status_id);
  }
  return {
    target_id: targetId,
    before: item,
    status_id: statusId,
    fields,
    history: { kind: decision, action_id: action.id, comment },
    decide_ticket: { ticket, state: RESULT[decision], comment },
    ...(applied
      ? { applies_draft: true, draft_before: applied, ...(applied.title !== null ? { title: applied.title } : {}) }
      : {}),
    ...(decision === 'approve' && releases ? { release: true } : {}),
  };
}
