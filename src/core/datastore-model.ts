import type { FieldDef } from './field-values.ts';
import type { Role } from './roles.ts';

export interface StatusDef {
  id: string;
  display_id: string;
  name: string;
}

export interface ApprovalDef {
  pending_status_id: string;
  reject_status_id: string | null;
  approver_user_id: string | null;
  approver_role: Role | null;
  batch_approvable: boolean;
  requires_comment: boolean;
  /** The submitter may decide their own ticket. Absent (stored before 0011) means false: four-eyes. */
  allow_self_approval?: boolean;
}

/**
 * `status` actions move an item from one of `from_status_ids` (any status when null) to `to_status_id`;
 * `update` actions only set fields. Either may require approval.
 */
export interface ActionDef {
  id: string;
  display_id: string;
  name: string;
  kind: 'status' | 'update';
  from_status_ids: string[] | null;
  to_status_id: string | null;
  roles: Role[] | null;
  set_fields: Record<string, unknown> | null;
  approval: ApprovalDef | null;
}

/**
 * Released versions and drafts: an item entering one of `status_ids` by an action or an approval is recorded as a
 * released version, and an update of an item in one is kept as its pending draft instead (src/core/drafts.ts).
 */
export interface DraftsDef {
  status_ids: string[];
}

export interface Datastore {
  id: string;
  workspace_id: string;
  display_id: string;
  name: string;
  created_at: number;
  fields: FieldDef[];
  statuses: StatusDef[];
  actions: ActionDef[];
  /** The released statuses, or null: then no versions and no drafts, items are edited in place. */
  drafts: DraftsDef | null;
  /** Field by display_id or id. */
  fieldByKey: ReadonlyMap<string, FieldDef>;
  /** Status by id, display_id or name. */
  statusByKey: ReadonlyMap<string, StatusDef>;
  /** Action by id or display_id. */
  actionByKey: ReadonlyMap<string, ActionDef>;
}

/** Item properties that conditions and sorting address by name; no field may take these display ids. */
export const RESERVED_KEYS = Object.freeze([
  'i_id',
  'id',
  'title',
  'status',
  'status_id',
  'rev_no',
  'created_at',
  'updated_at',
  'created_by',
  'updated_by',
]);

export const DISPLAY_ID_RE = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * Display ids that are JavaScript's prototype machinery: as a key of a plain object, `__proto__` sets the
 * object's prototype instead of a property, and `constructor`/`prototype` are the path to Object.prototype.
 * Values are kept in null-prototype objects and Maps anyway; these names are refused so that no definition
 * depends on it.
 */
export const FORBIDDEN_DISPLAY_IDS: readonly string[] = Object.freeze(['__proto__', 'constructor', 'prototype']);

/** Whether `id` may be a display_id: DISPLAY_ID_RE, and not one of FORBIDDEN_DISPLAY_IDS. */
export function isDisplayId(id: string): boolean {
  return DISPLAY_ID_RE.test(id) && !FORBIDDEN_DISPLAY_IDS.includes(id);
}

export function indexDatastore(base: Omit<Datastore, 'fieldByKey' | 'statusByKey' | 'actionByKey'>): Datastore {
  const fieldByKey = new Map<string, FieldDef>();
  for (const f of base.fields) {
    fieldByKey.set(f.id, f);
    fieldByKey.set(f.display_id, f);
  }
  const statusByKey = new Map<string, StatusDef>();
  // Names first so an id or display_id that equals another status's name wins.
  for (const s of base.statuses) statusByKey.set(s.name, s);
  for (const s of base.statuses) {
    statusByKey.set(s.id, s);
    statusByKey.set(s.display_id, s);
  }
  const actionByKey = new Map<string, ActionDef>();
  for (const a of base.actions) {
    actionByKey.set(a.id, a);
    actionByKey.set(a.display_id, a);
  }
  return Object.freeze({ ...base, fieldByKey, statusByKey, actionByKey });
}

/** The display_id of a status (API edges speak display_ids); the id itself when the datastore is unknown. */
export function statusDisplayId(ds: Datastore | undefined, statusId: string): string {
  return ds?.statusByKey.get(statusId)?.display_id ?? statusId;
}

/** The display_id of an action; the id itself when the datastore is unknown. */
export function actionDisplayId(ds: Datastore | undefined, actionId: string): string {
  return ds?.actionByKey.get(actionId)?.display_id ?? actionId;
}

/** Whether the status is one of the datastore's released statuses (never, without `drafts`). */
export function isReleased(ds: Datastore, statusId: string | null): boolean {
  return statusId !== null && ds.drafts !== null && ds.drafts.status_ids.includes(statusId);
}

/** Whether the action lets the user who submitted its ticket decide it (four-eyes unless it says so). */
export function allowsSelfApproval(action: ActionDef | undefined): boolean {
  return action?.approval?.allow_self_approval === true;
}

/** Whether `role` may run the action: any role when it names none, and a workspace admin always. */
export function roleMayRun(action: ActionDef, role: Role): boolean {
  return !action.roles || role === 'admin' || action.roles.includes(role);
}
