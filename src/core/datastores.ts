import { fail } from '../errors.ts';
import type { ActionRow, DatastoreRow, FieldRow, StatusRow } from '../db/schema.ts';
import type { Access } from './auth.ts';
import { withTx, type Ctx } from './context.ts';
import {
  DISPLAY_ID_RE,
  FORBIDDEN_DISPLAY_IDS,
  isDisplayId,
  RESERVED_KEYS,
  indexDatastore,
  type ActionDef,
  type ApprovalDef,
  type Datastore,
  type DraftsDef,
  type StatusDef,
} from './datastore-model.ts';
import { FIELD_TYPES, normalizeFieldValues, type FieldDef, type FieldType } from './field-values.ts';
import { requireDatastoreRoom } from './quotas.ts';
import { isRole, roleAllows, type Role } from './roles.ts';

export interface FieldInput {
  display_id: string;
  name: string;
  type: string;
  options?: string[];
}

export interface ApprovalInput {
  pending_status: string;
  reject_status?: string;
  approver_user_id?: string;
  approver_role?: string;
  batch_approvable?: boolean;
  requires_comment?: boolean;
  allow_self_approval?: boolean;
}

export interface ActionInput {
  display_id: string;
  name: string;
  from?: string[];
  to?: string;
  roles?: string[];
  set_fields?: Record<string, unknown>;
  approval?: ApprovalInput;
}

export interface DatastoreInput {
  name: string;
  display_id?: string;
  fields?: FieldInput[];
  statuses: { display_id: string; name: string }[];
  actions?: ActionInput[];
  /** Released statuses (display_ids): versions are recorded on entering one, edits there become drafts. */
  drafts?: { statuses: string[] };
}

function invalid(message: string): never {
  fail('INVALID_DEFINITION', message);
}

function checkDisplayIds(kind: string, list: { display_id: string }[]): void {
  const seen = new Set<string>();
  for (const { display_id } of list) {
    if (!DISPLAY_ID_RE.test(display_id))
      invalid(`${kind} display_id "${display_id}" must match ${DISPLAY_ID_RE.source}.`);
    if (!isDisplayId(display_id))
      invalid(
        `${kind} display_id "${display_id}" is reserved (${FORBIDDEN_DISPLAY_IDS.join(', ')} are never display_ids).`,
      );
    if (seen.has(display_id)) invalid(`${kind} display_id "${display_id}" is used twice.`);
    seen.add(display_id);
  }
}

/**
 * Validates a definition and resolves every reference to ids. Throws INVALID_DEFINITION naming the first
 * problem; nothing is written until the whole definition is consistent.
 */
async function resolveDefinition(ctx: Ctx, workspaceId: string, input: DatastoreInput): Promise<Datastore> {
  const fieldsIn = input.fields ?? [];
  const actionsIn = input.actions ?? [];
  if (input.statuses.length === 0) invalid('A datastore needs at least one status.');
  checkDisplayIds('Field', fieldsIn);
  checkDisplayIds('Status', input.statuses);
  checkDisplayIds('Action', actionsIn);
  for (const f of fieldsIn) {
    if (RESERVED_KEYS.includes(f.display_id)) invalid(`Field display_id "${f.display_id}" is reserved.`);
    if (!(FIELD_TYPES as readonly string[]).includes(f.type))
      invalid(`Field type "${f.type}" is not one of ${FIELD_TYPES.join(', ')}.`);
    if (f.options && f.type !== 'select') invalid(`Only select fields take options ("${f.display_id}").`);
  }
  const displayId = input.display_id ?? null;
  if (displayId !== null && !DISPLAY_ID_RE.test(displayId))
    invalid(`Datastore display_id must match ${DISPLAY_ID_RE.source}.`);
  if (displayId !== null && !isDisplayId(displayId))
    invalid(
      `Datastore display_id "${displayId}" is reserved (${FORBIDDEN_DISPLAY_IDS.join(', ')} are never display_ids).`,
    );

  const id = ctx.ids.next();
  const fields: FieldDef[] = fieldsIn.map((f) => ({
    id: ctx.ids.next(),
    display_id: f.display_id,
    name: f.name,
    type: f.type as FieldType,
    options: f.options ?? null,
  }));
  const statuses: StatusDef[] = input.statuses.map((s) => ({
    id: ctx.ids.next(),
    display_id: s.display_id,
    name: s.name,
  }));
  const statusId = new Map(statuses.map((s) => [s.display_id, s.id]));
  const status = (key: string, where: string): string => {
    const sid = statusId.get(key);
    if (!sid) invalid(`${where}: status "${key}" is not defined.`);
    return sid;
  };
  const fieldByKey = new Map(fields.map((f) => [f.display_id, f]));

  const memberRoles = new Map<string, string>();
  const approverIds = actionsIn.map((a) => a.approval?.approver_user_id).filter((v): v is string => !!v);
  if (approverIds.length > 0) {
    const rows = await ctx.db
      .selectFrom('membership')
      .select(['user_id', 'role'])
      .where('workspace_id', '=', workspaceId)
      .where('user_id', 'in', approverIds)
      .execute();
    for (const r of rows) memberRoles.set(r.user_id, r.role);
  }
  // Only approvers and admins decide tickets (roles.ts): a ticket assigned to anyone else could never be decided.
  const decides = (role: string | undefined) => role !== undefined && isRole(role) && roleAllows(role, 'decide');

  const actions: ActionDef[] = actionsIn.map((a) => {
    const where = `Action "${a.display_id}"`;
    const roles = a.roles ?? null;
    if (roles && !roles.every(isRole)) invalid(`${where}: roles must be admin, member, approver or viewer.`);
    let setFields: Record<string, unknown> | null = null;
    if (a.set_fields) {
      try {
        setFields = normalizeFieldValues(fieldByKey, a.set_fields);
      } catch (e) {
        invalid(`${where}: set_fields: ${(e as Error).message}`);
      }
    }
    let approval: ApprovalDef | null = null;
    if (a.approval) {
      const ap = a.approval;
      if (ap.approver_role && !decides(ap.approver_role)) invalid(`${where}: approver_role must be approver or admin.`);
      if (ap.approver_user_id && !memberRoles.has(ap.approver_user_id)) {
        invalid(`${where}: approver_user_id must be a member of the workspace.`);
      }
      if (ap.approver_user_id && !decides(memberRoles.get(ap.approver_user_id))) {
        invalid(`${where}: approver_user_id must be an approver or admin of the workspace.`);
      }
      approval = {
        pending_status_id: status(ap.pending_status, `${where} approval`),
        reject_status_id: ap.reject_status ? status(ap.reject_status, `${where} approval`) : null,
        approver_user_id: ap.approver_user_id ?? null,
        approver_role: (ap.approver_role as Role | undefined) ?? (ap.approver_user_id ? null : 'approver'),
        batch_approvable: ap.batch_approvable ?? true,
        requires_comment: ap.requires_comment ?? false,
        allow_self_approval: ap.allow_self_approval ?? false,
      };
    }
    return {
      id: ctx.ids.next(),
      display_id: a.display_id,
      name: a.name,
      kind: a.to ? 'status' : 'update',
      from_status_ids: a.from ? a.from.map((s) => status(s, where)) : null,
      to_status_id: a.to ? status(a.to, where) : null,
      roles: roles as Role[] | null,
      set_fields: setFields,
      approval,
    };
  });

  let drafts: DraftsDef | null = null;
  if (input.drafts) {
    const where = 'drafts';
    if (input.drafts.statuses.length === 0) invalid(`${where}: statuses must name at least one released status.`);
    if (new Set(input.drafts.statuses).size !== input.drafts.statuses.length)
      invalid(`${where}: a status is named twice.`);
    const statusIds = input.drafts.statuses.map((s) => status(s, where));
    // An item under review is not released: its edit would bypass the approver.
    for (const a of actions) {
      if (a.approval && statusIds.includes(a.approval.pending_status_id)) {
        invalid(
          `${where}: status "${statuses.find((s) => s.id === a.approval!.pending_status_id)!.display_id}" is the pending status of action "${a.display_id}" and cannot be released.`,
        );
      }
    }
    drafts = { status_ids: statusIds };
  }

  return indexDatastore({
    id,
    workspace_id: workspaceId,
    display_id: displayId ?? id,
    name: input.name,
    created_at: ctx.now(),
    fields,
    statuses,
    actions,
    drafts,
  });
}

/**
 * Creates a datastore with its workflow, within BATCHGATE_MAX_DATASTORES_PER_WORKSPACE. It creates no index: field
 * searches use the typed index tables (src/db/item-index.ts), whose cost does not grow with other tenants' data.
 */
export async function createDatastore(ctx: Ctx, workspaceId: string, input: DatastoreInput): Promise<Datastore> {
  const ds = await resolveDefinition(ctx, workspaceId, input);
  return withTx(ctx, async (tx) => {
    await requireDatastoreRoom(tx, workspaceId);
    await insertDefinition(tx, ds);
    return ds;
  });
}

async function insertDefinition(ctx: Ctx, ds: Datastore): Promise<void> {
  const workspaceId = ds.workspace_id;
  const j = ctx.caps.writeJson;
  const exists = await ctx.db
    .selectFrom('datastore')
    .select('id')
    .where('workspace_id', '=', workspaceId)
    .where('display_id', '=', ds.display_id)
    .executeTakeFirst();
  if (exists) fail('DUPLICATE', `A datastore with display_id "${ds.display_id}" already exists.`);
  await ctx.db
    .insertInto('datastore')
    .values({
      id: ds.id,
      workspace_id: workspaceId,
      display_id: ds.display_id,
      name: ds.name,
      created_at: ds.created_at,
      drafts: j(ds.drafts),
    })
    .execute();
  if (ds.fields.length) {
    await ctx.db
      .insertInto('ds_field')
      .values(ds.fields.map((f, i) => ({ ...f, datastore_id: ds.id, options: j(f.options), position: i })))
      .execute();
  }
  await ctx.db
    .insertInto('ds_status')
    .values(ds.statuses.map((s, i) => ({ ...s, datastore_id: ds.id, position: i })))
    .execute();
  if (ds.actions.length) {
    await ctx.db
      .insertInto('ds_action')
      .values(
        ds.actions.map((a, i) => ({
          id: a.id,
          datastore_id: ds.id,
          display_id: a.display_id,
          name: a.name,
          kind: a.kind,
          from_status_ids: j(a.from_status_ids),
          to_status_id: a.to_status_id,
          roles: j(a.roles),
          set_fields: j(a.set_fields),
          approval: j(a.approval),
          position: i,
        })),
      )
      .execute();
  }
}

function fromRows(
  ctx: Ctx,
  row: DatastoreRow,
  fieldRows: FieldRow[],
  statusRows: StatusRow[],
  actionRows: ActionRow[],
): Datastore {
  const r = ctx.caps.readJson;
  return indexDatastore({
    id: row.id,
    workspace_id: row.workspace_id,
    display_id: row.display_id,
    name: row.name,
    created_at: row.created_at,
    fields: fieldRows.map((f) => ({
      id: f.id,
      display_id: f.display_id,
      name: f.name,
      type: f.type as FieldType,
      options: r<string[] | null>(f.options),
    })),
    statuses: statusRows.map((s) => ({ id: s.id, display_id: s.display_id, name: s.name })),
    actions: actionRows.map((a) => ({
      id: a.id,
      display_id: a.display_id,
      name: a.name,
      kind: a.kind as ActionDef['kind'],
      from_status_ids: r<string[] | null>(a.from_status_ids),
      to_status_id: a.to_status_id,
      roles: r<Role[] | null>(a.roles),
      set_fields: r<Record<string, unknown> | null>(a.set_fields),
      approval: r<ApprovalDef | null>(a.approval),
    })),
    drafts: r<DraftsDef | null>(row.drafts) ?? null,
  });
}

async function loadByIds(ctx: Ctx, rows: DatastoreRow[]): Promise<Datastore[]> {
  const missing = rows.filter((r) => !ctx.cache.has(`ds:${r.id}`));
  if (missing.length) {
    const ids = missing.map((r) => r.id);
    const [fields, statuses, actions] = await Promise.all([
      ctx.db.selectFrom('ds_field').selectAll().where('datastore_id', 'in', ids).orderBy('position').execute(),
      ctx.db.selectFrom('ds_status').selectAll().where('datastore_id', 'in', ids).orderBy('position').execute(),
      ctx.db.selectFrom('ds_action').selectAll().where('datastore_id', 'in', ids).orderBy('position').execute(),
    ]);
    for (const row of missing) {
      const ds = fromRows(
        ctx,
        row,
        fields.filter((f) => f.datastore_id === row.id),
        statuses.filter((s) => s.datastore_id === row.id),
        actions.filter((a) => a.datastore_id === row.id),
      );
      ctx.cache.set(`ds:${row.id}`, ds);
    }
  }
  return rows.map((r) => ctx.cache.get(`ds:${r.id}`) as Datastore);
}

/** A datastore of the workspace by id or display_id; another workspace's datastore is not found. */
export async function getDatastore(ctx: Ctx, workspaceId: string, key: string): Promise<Datastore> {
  const row = await ctx.db
    .selectFrom('datastore')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where((eb) => eb.or([eb('id', '=', key), eb('display_id', '=', key)]))
    .orderBy('id')
    .executeTakeFirst();
  if (!row) fail('DATASTORE_NOT_FOUND');
  const [ds] = await loadByIds(ctx, [row]);
  return ds!;
}

/** Datastores by id, for items that may span several (batches by ids). Unknown ids are left out. */
export async function getDatastoresById(ctx: Ctx, ids: readonly string[]): Promise<Map<string, Datastore>> {
  const out = new Map<string, Datastore>();
  const need = ids.filter((id) => {
    const hit = ctx.cache.get(`ds:${id}`) as Datastore | undefined;
    if (hit) out.set(id, hit);
    return !hit;
  });
  if (need.length) {
    const rows = await ctx.db
      .selectFrom('datastore')
      .selectAll()
      .where('id', 'in', [...new Set(need)])
      .execute();
    for (const ds of await loadByIds(ctx, rows)) out.set(ds.id, ds);
  }
  return out;
}

export async function listDatastores(ctx: Ctx, access: Access): Promise<Datastore[]> {
  const rows = await ctx.db
    .selectFrom('datastore')
    .selectAll()
    .where('workspace_id', '=', access.workspaceId)
    .orderBy('id')
    .execute();
  return loadByIds(ctx, rows);
}
