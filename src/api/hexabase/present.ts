/**
 * Domain objects in Hexabase's wire shapes (the Hexabase API documentation (apidoc.hexabase.com)). Presentation only: every
 * decision was made in src/core; this file picks keys and formats values.
 *
 * Ids: `i_id` item, `d_id` datastore, `p_id` application (= the workspace). The status is a pseudo-field with
 * field id and display_id `status` whose value is the status name; `status_id` is the status id.
 */
import type { FieldDef } from '../../core/field-values.ts';
import type { ActionDef, Datastore, StatusDef } from '../../core/datastore-model.ts';
import type { BulkActionResult, BulkFailure } from './bulk-action.ts';
import type { HistoryView } from './histories.ts';
import type { Item } from '../../core/items.ts';
import type { ErrorCode } from '../../errors.ts';
import { iso } from '../present.ts';

export interface ItemShapeOptions {
  /** Field values keyed by display_id (true) or by field id. */
  useDisplayId?: boolean;
  /** JSON numbers for numbers, rev_no and unread; Hexabase sends strings by default. */
  numbers?: boolean;
  /** Leave out field values. */
  omitFields?: boolean;
  /** Only these fields (ids or display_ids). */
  selectFields?: string[];
}

const num = (n: number, numbers: boolean | undefined): number | string => (numbers ? n : String(n));

/** An item as ItemList / GetItems answers it. */
export function hexabaseItem(item: Item, ds: Datastore, o: ItemShapeOptions = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {
    i_id: item.id,
    d_id: item.datastore_id,
    p_id: item.workspace_id,
    title: item.title,
    rev_no: num(item.rev_no, o.numbers),
    status_id: item.status_id,
    created_at: iso(item.created_at),
    created_by: item.created_by ?? '',
    updated_at: iso(item.updated_at),
    updated_by: item.updated_by ?? '',
    unread: num(0, o.numbers),
  };
  if (o.omitFields) return out;
  const only = o.selectFields?.length ? new Set(o.selectFields) : null;
  if (!only || only.has('status')) out.status = ds.statusByKey.get(item.status_id)?.name ?? item.status_id;
  for (const f of ds.fields) {
    if (only && !only.has(f.id) && !only.has(f.display_id)) continue;
    const v = item.fields[f.display_id];
    if (v === undefined) continue;
    out[o.useDisplayId ? f.display_id : f.id] = fieldValue(f, v, o.numbers);
  }
  return out;
}

function fieldValue(f: FieldDef, v: unknown, numbers: boolean | undefined): unknown {
  return f.type === 'number' && typeof v === 'number' && !numbers ? String(v) : v;
}

export interface BulkError {
  description: string;
  error?: string;
  error_code?: string;
  error_level: 'ERROR' | 'WARN';
  reference_id?: string;
}

function hexabaseError(f: BulkFailure, ds: Datastore, action: ActionDef): BulkError {
  if (f.code === 'REVISION_CONFLICT') {
    const description =
      f.expected_rev !== null
        ? `item:${f.item_id}(d_id:${ds.id}) has rev_no:${f.rev_no} but specified rev_no:${f.expected_rev}`
        : `item:${f.item_id}(d_id:${ds.id}) was changed by another request while the action ran (rev_no:${f.rev_no})`;
    return {
      description,
      error: 'Revision number mismatch',
      error_code: 'ITEM_REV_CONFLICT',
      error_level: 'ERROR',
      reference_id: f.item_id,
    };
  }
  if (NO_PRIVILEGES.includes(f.code)) {
    return {
      description: f.message,
      error: `invalid action_id or has no privileges to the user or current item status. a_id:${action.id}`,
      error_code: 'NO_PRIVILEGES',
      error_level: 'ERROR',
      reference_id: f.item_id,
    };
  }
  return {
    description: `error occurred when execute action: ${f.message}`,
    error: 'Error',
    error_code: 'SYSTEM_ERROR',
    error_level: 'ERROR',
    reference_id: f.item_id,
  };
}

const NO_PRIVILEGES: readonly ErrorCode[] = [
  'WRONG_STATUS',
  'ACTION_NOT_PERMITTED',
  'ACTION_NOT_FOUND',
  'ITEM_PENDING_APPROVAL',
  'FORBIDDEN',
];

/**
 * ExecuteBulkAction's four documented answers: success `{has_error:false, result}`; partial
 * `{errors:[…ERROR], has_error:true, result}`; over max_items `{errors:[…, WARN], has_error:true, result}`;
 * nothing matched `{errors:[WARN "target was not found."], has_error:false, result:{0, 0}}`.
 */
export function bulkActionResponse(r: BulkActionResult, ds: Datastore, action: ActionDef) {
  const result = { matched: r.matched, processed: r.processed };
  if (r.matched === 0) {
    return {
      errors: [{ description: 'target was not found.', error: '', error_level: 'WARN' }],
      has_error: false,
      result,
    };
  }
  const errors: BulkError[] = r.failures.map((f) => hexabaseError(f, ds, action));
  if (r.capped)
    errors.push({ description: `the number of items has reached max_items ${r.max_items}`, error_level: 'WARN' });
  if (errors.length === 0) return { has_error: false, result };
  return { errors, has_error: true, result };
}

/** continue_proc false and more matches than max_items: nothing ran (HTTP 400, same body shape). */
export function bulkRefusedResponse(matched: number, maxItems: number, message: string) {
  return {
    errors: [
      {
        description: message,
        error: `the number of items exceeds max_items ${maxItems}`,
        error_code: 'INVALID_PARAMS',
        error_level: 'ERROR',
      },
    ],
    has_error: true,
    result: { matched, processed: 0 },
  };
}

const DATA_TYPES: Record<FieldDef['type'], string> = {
  text: 'text',
  number: 'number',
  date: 'date',
  datetime: 'datetime',
  select: 'select',
  users: 'users',
  json: 'json',
};

function statusEntry(s: StatusDef) {
  return { status_id: s.id, s_id: s.display_id, display_id: s.display_id, status_name: s.name };
}

function actionEntry(a: ActionDef, order: number) {
  return {
    action_id: a.id,
    a_id: a.display_id,
    display_id: a.display_id,
    action_name: a.name,
    display_order: order,
    crud_type: '2',
    next_status_id: a.to_status_id ?? '',
  };
}

/** GetItemDetails (format=map). `actions` are those the item's status and the caller's role allow. */
export function itemDetails(item: Item, ds: Datastore, actions: ActionDef[], o: ItemShapeOptions = {}) {
  const key = (f: { id: string; display_id: string }) => (o.useDisplayId ? f.display_id : f.id);
  const status = ds.statusByKey.get(item.status_id);
  const fieldValues: Record<string, unknown> = {
    title: { field_id: 'title', display_id: 'title', field_name: 'Title', dataType: 'text', value: item.title },
    status: {
      field_id: 'status',
      display_id: 'status',
      field_name: 'Status',
      dataType: 'status',
      value: status?.name ?? item.status_id,
      status_id: item.status_id,
    },
  };
  for (const f of ds.fields) {
    const v = item.fields[f.display_id];
    fieldValues[key(f)] = {
      field_id: f.id,
      display_id: f.display_id,
      field_name: f.name,
      dataType: DATA_TYPES[f.type],
      value: v === undefined ? null : fieldValue(f, v, o.numbers),
    };
  }
  const order = new Map(ds.actions.map((a, i) => [a.id, i + 1]));
  const statusActions = actions.filter((a) => a.kind === 'status');
  const itemActions = actions.filter((a) => a.kind !== 'status');
  return {
    i_id: item.id,
    d_id: item.datastore_id,
    p_id: item.workspace_id,
    title: item.title,
    rev_no: num(item.rev_no, o.numbers),
    status_id: item.status_id,
    field_values: fieldValues,
    status_list: Object.fromEntries(ds.statuses.map((s) => [key(s), statusEntry(s)])),
    status_actions: Object.fromEntries(statusActions.map((a) => [key(a), actionEntry(a, order.get(a.id)!)])),
    item_actions: Object.fromEntries(itemActions.map((a) => [key(a), actionEntry(a, order.get(a.id)!)])),
    status_order: ds.statuses.map(key),
    status_action_order: statusActions.map(key),
    item_action_order: itemActions.map(key),
    created_at: iso(item.created_at),
    created_by: item.created_by ?? '',
    updated_at: iso(item.updated_at),
    updated_by: item.updated_by ?? '',
  };
}

/**
 * GetActions: a status action once per from-status (every status when it runs from any), or only for
 * `statusId`; datastore-level (update) actions with `is_status_action: false` and `set_status: ""`.
 */
export function actionList(ds: Datastore, actions: ActionDef[], statusId: string | null) {
  const base = (a: ActionDef) => ({
    workspace_id: ds.workspace_id,
    project_id: ds.workspace_id,
    datastore_id: ds.id,
    action_id: a.id,
  });
  const out: Record<string, unknown>[] = [];
  for (const a of actions) {
    if (a.kind !== 'status') {
      out.push({
        ...base(a),
        is_status_action: false,
        display_id: a.display_id,
        operation: 'update',
        set_status: '',
        name: a.name,
      });
      continue;
    }
    const froms = statusId !== null ? [statusId] : (a.from_status_ids ?? ds.statuses.map((s) => s.id));
    for (const from of froms) {
      out.push({
        ...base(a),
        status_id: from,
        is_status_action: true,
        display_id: a.display_id,
        operation: 'update',
        set_status: a.to_status_id ?? '',
        name: a.name,
      });
    }
  }
  return out;
}

export function statusList(ds: Datastore) {
  return ds.statuses.map((s, i) => ({
    display_id: s.display_id,
    name: { en: s.name, ja: s.name },
    displayed_name: s.name,
    status_id: s.id,
    sort_id: i + 1,
    x: 0,
    y: 0,
  }));
}

/** GetDatastoreFields, keyed by field id; `title` and `status` are listed as pseudo-fields. */
export function fieldList(ds: Datastore) {
  const entry = (
    f: { id: string; display_id: string; name: string },
    dataType: string,
    i: number,
    extra: Record<string, unknown> = {},
  ) => ({
    field_id: f.id,
    name: f.name,
    display_id: f.display_id,
    dataType,
    search: dataType !== 'json',
    show_list: true,
    as_title: false,
    status: false,
    fieldIndex: i,
    title_order: 0,
    full_text: false,
    unique: false,
    min_value: '',
    max_value: '',
    ...extra,
  });
  const fields: Record<string, unknown> = {
    title: entry({ id: 'title', display_id: 'title', name: 'Title' }, 'text', 0, { as_title: true, title_order: 1 }),
    status: entry({ id: 'status', display_id: 'status', name: 'Status' }, 'status', 1, {
      status: true,
      statuses: ds.statuses.map((s) => ({ status_id: s.id, display_id: s.display_id, status_name: s.name })),
    }),
  };
  ds.fields.forEach((f, i) => {
    fields[f.id] = entry(
      f,
      DATA_TYPES[f.type],
      i + 2,
      f.options ? { options: f.options.map((o, j) => ({ o_id: o, value: o, display_id: o, sort_id: j + 1 })) } : {},
    );
  });
  return { fields };
}

// A revert entry is a change like an action's: Hexabase shows it with the revert batch as its transaction.
const ACTION_KINDS = new Set(['action', 'submit', 'approve', 'reject', 'withdraw', 'update', 'revert']);

/** GetItemHistories. `transaction_id` is the batch the entry came from. */
export function historyList(entries: HistoryView[], ds: Datastore, from: number) {
  return {
    unread: 0,
    histories: entries.map((h, i) => {
      const action = h.action_id ? ds.actionByKey.get(h.action_id) : undefined;
      return {
        history_id: h.id,
        display_order: from + i,
        is_unread: false,
        comment: h.comment ?? '',
        created_at: iso(h.created_at),
        ...(ACTION_KINDS.has(h.kind) || h.kind === 'create'
          ? {
              action_id: action?.id ?? '',
              action_name: action?.name ?? h.kind,
              transaction_id: h.batch_id ?? '',
              action_operation: h.kind === 'create' ? '1' : '2',
              is_status_action: h.from_status_id !== h.to_status_id,
            }
          : {}),
        datastore_id: ds.id,
        datastore_name: ds.name,
        user_id: h.user_id ?? '',
        username: h.username ?? '',
        email: h.email ?? '',
        updated_at: iso(h.created_at),
        is_updated: false,
      };
    }),
  };
}
