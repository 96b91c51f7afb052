import { isAppError } from '../../errors.ts';
import { allowsSelfApproval, isReleased, roleMayRun, statusDisplayId, type Datastore } from '../datastore-model.ts';
import type { Draft } from '../drafts.ts';
import { normalizeFieldValues } from '../field-values.ts';
import type { Item } from '../items.ts';
import { roleAllows } from '../roles.ts';
import type { Ticket } from '../tickets.ts';
import { failed, type Actor, type Change, type Outcome } from './types.ts';

export interface ActionParams {
  /** Action id or display_id, resolved in each item's own datastore. */
  action: string;
  fields?: Record<string, unknown> | null;
  /** Skip the approval step (DataArts fast_approval); needs a role that may decide. */
  skipApproval?: boolean;
  /** Assign the ticket to this user instead of the action's configured approver. */
  approverUserId?: string | null;
}

/** Plans one action on one item, or says why it fails. Pure: every input is already loaded. */
export function planAction(
  actor: Actor,
  p: ActionParams,
  targetId: string,
  item: Item | undefined,
  ds: Datastore | undefined,
  pending: Ticket | undefined,
  expectRev: number | undefined,
  comment: string | null,
  newTicketId: () => string,
  draft?: Draft,
): Change | Outcome {
  if (!item || !ds) return failed(targetId, 'ITEM_NOT_FOUND', 'The item does not exist in this workspace.');
  const action = ds.actionByKey.get(p.action);
  if (!action) return failed(targetId, 'ACTION_NOT_FOUND', `Datastore "${ds.display_id}" has no action "${p.action}".`);
  if (!roleMayRun(action, actor.role)) {
    return failed(
      targetId,
      'ACTION_NOT_PERMITTED',
      `Action "${action.display_id}" is limited to ${action.roles!.join(', ')}.`,
    );
  }
  if (expectRev !== undefined && expectRev !== item.rev_no) {
    return failed(targetId, 'REVISION_CONFLICT', `The item is at rev_no ${item.rev_no}, not ${expectRev}.`);
  }
  if (pending) return failed(targetId, 'ITEM_PENDING_APPROVAL', `The item has pending ticket ${pending.id}.`);
  // A draft makes its released status a valid `from` of the actions that release: that is how it is re-published.
  const releases = isReleased(ds, action.to_status_id);
  const republish = draft !== undefined && releases && isReleased(ds, item.status_id);
  if (action.from_status_ids && !action.from_status_ids.includes(item.status_id) && !republish) {
    const name = (id: string) => statusDisplayId(ds, id);
    return failed(
      targetId,
      'WRONG_STATUS',
      `The item is in "${name(item.status_id)}"; action "${action.display_id}" runs from ${action.from_status_ids.map(name).join(', ')}.`,
    );
  }
  let input: Record<string, unknown>;
  try {
    input = normalizeFieldValues(ds.fieldByKey, p.fields);
  } catch (e) {
    if (isAppError(e)) return failed(targetId, e.code, e.message);
    throw e;
  }
  const approval = action.approval;
  if (approval && p.skipApproval && !roleAllows(actor.role, 'decide')) {
    return failed(targetId, 'ACTION_NOT_PERMITTED', 'Only an approver or admin may skip the approval step.');
  }
  // Skipping the approval is approving one's own change: four-eyes applies as to a ticket.
  if (approval && p.skipApproval && !allowsSelfApproval(action)) {
    return failed(
      targetId,
      'SELF_APPROVAL_FORBIDDEN',
      'The action does not allow self-approval, so its approval step cannot be skipped.',
    );
  }
  if (approval && !p.skipApproval) {
    const assigneeId = p.approverUserId ?? approval.approver_user_id;
    const batchApprovable = approval.batch_approvable && !approval.requires_comment;
    const ticket: Ticket = {
      id: newTicketId(),
      workspace_id: item.workspace_id,
      datastore_id: item.datastore_id,
      item_id: item.id,
      action_id: action.id,
      state: 'pending',
      assignee_id: assigneeId,
      assignee_role: assigneeId ? null : approval.approver_role,
      submitter_id: actor.principal.userId,
      prev_status_id: item.status_id,
      pending_status_id: approval.pending_status_id,
      payload: Object.keys(input).length ? input : null,
      batch_approvable: batchApprovable,
      requires_comment: approval.requires_comment,
      reason: batchApprovable
        ? null
        : approval.requires_comment
          ? 'Each decision needs its own comment.'
          : 'The action does not allow batch decisions.',
      comment,
      decision_comment: null,
      decided_by: null,
      on_behalf_of: null,
      decided_at: null,
      created_at: 0,
      updated_at: 0,
    };
    return {
      target_id: targetId,
      before: item,
      status_id: approval.pending_status_id,
      fields: item.fields,
      history: { kind: 'submit', action_id: action.id, comment },
      open_ticket: ticket,
    };
  }
  // Entering a released status applies the item's draft (if any) under the action's own values.
  const applied = releases && draft ? draft : undefined;
  const setsFields = action.set_fields !== null || Object.keys(input).length > 0;
  const changes = { ...(applied?.fields ?? {}), ...(action.set_fields ?? {}), ...input };
  const fields = setsFields || applied ? { ...item.fields, ...changes } : item.fields;
  return {
    target_id: targetId,
    before: item,
    status_id: action.to_status_id ?? item.status_id,
    fields,
    history: { kind: 'action', action_id: action.id, comment, changes: setsFields || applied ? changes : null },
    ...(applied
      ? { applies_draft: true, draft_before: applied, ...(applied.title !== null ? { title: applied.title } : {}) }
      : {}),
    ...(releases ? { release: true } : {}),
  };
}
