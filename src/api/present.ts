/** Domain objects to the native API's wire shapes: status and action ids become display_ids, times ISO-8601. */
import { actionDisplayId, allowsSelfApproval, statusDisplayId, type Datastore } from '../core/datastore-model.ts';
import type { Draft, ItemVersion } from '../core/drafts.ts';
import type { HistoryEntry } from '../core/history.ts';
import type { Item } from '../core/items.ts';
import type { Ticket } from '../core/tickets.ts';
import type { User } from '../core/users.ts';
import type { Workspace } from '../core/workspaces.ts';

export const iso = (ms: number): string => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null): string | null => (ms === null ? null : iso(ms));

export function presentWorkspace(w: Workspace) {
  return { id: w.id, name: w.name, project_id: w.project_id, created_at: iso(w.created_at) };
}

export function presentUser(u: User) {
  return { ...u, created_at: iso(u.created_at) };
}

export function presentDatastore(ds: Datastore) {
  const st = (id: string | null) => (id === null ? null : statusDisplayId(ds, id));
  return {
    id: ds.id,
    workspace_id: ds.workspace_id,
    display_id: ds.display_id,
    name: ds.name,
    created_at: iso(ds.created_at),
    fields: ds.fields.map((f) => ({
      id: f.id,
      display_id: f.display_id,
      name: f.name,
      type: f.type,
      options: f.options,
    })),
    statuses: ds.statuses.map((s) => ({ id: s.id, display_id: s.display_id, name: s.name })),
    actions: ds.actions.map((a) => ({
      id: a.id,
      display_id: a.display_id,
      name: a.name,
      kind: a.kind,
      from: a.from_status_ids ? a.from_status_ids.map((id) => st(id)!) : null,
      to: st(a.to_status_id),
      roles: a.roles,
      set_fields: a.set_fields,
      approval: a.approval
        ? {
            pending_status: st(a.approval.pending_status_id)!,
            reject_status: st(a.approval.reject_status_id),
            approver_user_id: a.approval.approver_user_id,
            approver_role: a.approval.approver_role,
            batch_approvable: a.approval.batch_approvable,
            requires_comment: a.approval.requires_comment,
            allow_self_approval: allowsSelfApproval(a),
          }
        : null,
    })),
    drafts: ds.drafts ? { statuses: ds.drafts.status_ids.map((id) => st(id)!) } : null,
  };
}

export function presentItem(item: Item, ds: Datastore | undefined) {
  const status = ds?.statusByKey.get(item.status_id);
  return {
    id: item.id,
    datastore_id: item.datastore_id,
    title: item.title,
    status: status?.display_id ?? item.status_id,
    status_id: item.status_id,
    status_name: status?.name ?? item.status_id,
    fields: item.fields,
    rev_no: item.rev_no,
    created_at: iso(item.created_at),
    created_by: item.created_by,
    updated_at: iso(item.updated_at),
    updated_by: item.updated_by,
  };
}

export function presentDraft(d: Draft) {
  return {
    title: d.title,
    fields: d.fields,
    created_by: d.created_by,
    created_at: iso(d.created_at),
    updated_by: d.updated_by,
    updated_at: iso(d.updated_at),
  };
}

export function presentVersion(v: ItemVersion, ds: Datastore | undefined) {
  return {
    id: v.id,
    version: v.version,
    title: v.title,
    status: statusDisplayId(ds, v.status_id),
    fields: v.fields,
    created_at: iso(v.created_at),
    created_by: v.created_by,
    batch_id: v.batch_id,
  };
}

export function presentHistory(h: HistoryEntry, ds: Datastore | undefined) {
  const st = (id: string | null) => (id === null ? null : statusDisplayId(ds, id));
  return {
    id: h.id,
    kind: h.kind,
    user_id: h.user_id,
    action: h.action_id ? actionDisplayId(ds, h.action_id) : null,
    from_status: st(h.from_status_id),
    to_status: st(h.to_status_id),
    comment: h.comment,
    batch_id: h.batch_id,
    ticket_id: h.ticket_id,
    changes: h.changes,
    created_at: iso(h.created_at),
    rev_no: h.rev_no,
    reverts_batch_id: h.reverts_batch_id,
    on_behalf_of: h.on_behalf_of,
  };
}

export function presentTicket(t: Ticket, ds: Datastore | undefined) {
  return {
    id: t.id,
    item_id: t.item_id,
    datastore_id: t.datastore_id,
    action: actionDisplayId(ds, t.action_id),
    action_id: t.action_id,
    state: t.state,
    assignee_id: t.assignee_id,
    assignee_role: t.assignee_role,
    submitter_id: t.submitter_id,
    batch_approvable: t.batch_approvable,
    requires_comment: t.requires_comment,
    reason: t.reason,
    comment: t.comment,
    decision_comment: t.decision_comment,
    decided_by: t.decided_by,
    on_behalf_of: t.on_behalf_of,
    allow_self_approval: allowsSelfApproval(ds?.actionByKey.get(t.action_id)),
    decided_at: isoOrNull(t.decided_at),
    created_at: iso(t.created_at),
    updated_at: iso(t.updated_at),
  };
}
