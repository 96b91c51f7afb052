/**
 * What the Hexabase v0 items API (the Hexabase API documentation (apidoc.hexabase.com)) needs beyond the shared core: its
 * field-value and condition dialect, ExecuteBulkAction's max_items / continue_proc rules on top of an inline
 * batch, the datastore API group's id-only addressing, and item histories. Rendering is src/api/hexabase.
 */
import type { Batch } from '../engine/batches.ts';
import type { SubmitInput } from '../engine/submit.ts';
import { AppError, fail, type ErrorCode } from '../errors.ts';
import { workspaceAccess, type Access, type Principal } from './auth.ts';
import type { Condition } from './conditions.ts';
import type { Ctx } from './context.ts';
import { roleMayRun, type ActionDef, type Datastore } from './datastore-model.ts';
import { getDatastore } from './datastores.ts';
import { normalizeFieldValues } from './field-values.ts';
import type { HistoryKind } from './history.ts';
import { searchItems, type ItemInput } from './items.ts';
import type { Actor } from './operations/types.ts';
import { roleAllows, type Capability } from './roles.ts';

export const DEFAULT_MAX_ITEMS = 100;
/** ExecuteBulkAction processes 10..300 items per call, in steps of 10. */
export const MAX_ITEMS_LIMIT = 300;

/** A `changes` entry: the array form of `item`. */
export interface FieldChange {
  id: string;
  value: unknown;
}

/**
 * `item` and `changes` merged (changes win) and checked against the datastore, keyed by field display_id.
 * Hexabase sends a select value as an array of option ids; our select fields hold one option, so a one-element
 * array is taken as that option and an empty one as blank. Throws UNKNOWN_FIELD / INVALID_FIELD_VALUE.
 */
export function hexabaseFieldValues(
  ds: Datastore,
  item: Record<string, unknown> | undefined,
  changes: FieldChange[] | undefined,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...(item ?? {}) };
  for (const c of changes ?? []) merged[c.id] = c.value;
  for (const [key, value] of Object.entries(merged)) {
    const field = ds.fieldByKey.get(key);
    if (field?.type === 'select' && Array.isArray(value) && value.length <= 1)
      merged[key] = value.length ? value[0] : null;
  }
  return normalizeFieldValues(ds.fieldByKey, merged);
}

/**
 * CreateItem's `item` as a new item: `title` is the item title and `status` (or `status_id`) its starting
 * status, by id, display_id or name; every other key is a field.
 */
export function hexabaseItemInput(
  ds: Datastore,
  item: Record<string, unknown> | undefined,
  changes: FieldChange[] | undefined,
): ItemInput {
  const merged: Record<string, unknown> = { ...(item ?? {}) };
  for (const c of changes ?? []) merged[c.id] = c.value;
  const { title, status, status_id: statusId, ...rest } = merged;
  const st = status ?? statusId;
  if (title !== undefined && typeof title !== 'string') fail('INVALID_FIELD_VALUE', 'title must be a string.');
  if (st !== undefined && typeof st !== 'string')
    fail('INVALID_FIELD_VALUE', 'status must be a status id, display_id or name.');
  return {
    ...(title !== undefined ? { title } : {}),
    ...(st !== undefined ? { status: st } : {}),
    fields: hexabaseFieldValues(ds, rest, undefined),
  };
}

/** The newest history entry of an item (what an action just wrote). */
export async function latestHistoryId(ctx: Ctx, itemId: string): Promise<string | null> {
  const row = await ctx.db
    .selectFrom('item_history')
    .select('id')
    .where('item_id', '=', itemId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.id ?? null;
}

/**
 * Characters of text search values compiled per request to check their syntax. Each value is at most 1000
 * characters (the schema), but a 16 MiB body holds ~16,000 of them, and compiling that many 1000-character
 * patterns (`((((…`) blocked the event loop for 2.3 s, measured; 64 Ki characters take under 2 ms. A search
 * needing more pattern text than this is not a search anyone writes.
 */
export const MAX_PATTERN_CHARS = 65_536;

/** Only a value using regex syntax beyond "|" can be an invalid pattern; plain text is never compiled. */
const REGEX_SYNTAX = /[\\^$.*+?()[\]{}]/;

/**
 * Hexabase documents a text `search_value` as a regular expression. batchgate matches it as a substring with
 * `"A|B"` alternation (src/core/conditions.ts) and never runs a pattern, so a catastrophic one (`(a+)+$`)
 * costs nothing; but a value that is not even a valid pattern is refused, so a client's typo is reported
 * instead of silently matching nothing. Checking means compiling (`new RegExp`, never executed): distinct
 * patterns only, at most MAX_PATTERN_CHARS characters of them per request (else INVALID_CONDITION).
 */
export function checkHexabaseConditions(ds: Datastore, conditions: Condition[] | undefined): void {
  checkPatterns(ds, conditions, { chars: 0, seen: new Set() });
}

function checkPatterns(
  ds: Datastore,
  conditions: Condition[] | undefined,
  budget: { chars: number; seen: Set<string> },
): void {
  for (const c of conditions ?? []) {
    if (c.conditions?.length) checkPatterns(ds, c.conditions, budget);
    if (!c.id || c.exact_match === true || !c.search_value) continue;
    const type = c.id === 'title' ? 'text' : ds.fieldByKey.get(c.id)?.type;
    if (type !== 'text') continue;
    for (const v of c.search_value) {
      if (typeof v !== 'string' || !REGEX_SYNTAX.test(v) || budget.seen.has(v)) continue;
      budget.seen.add(v);
      budget.chars += v.length;
      if (budget.chars > MAX_PATTERN_CHARS)
        fail(
          'INVALID_CONDITION',
          `Text search values using regular-expression syntax total more than ${MAX_PATTERN_CHARS} characters.`,
        );
      try {
        new RegExp(v);
      } catch {
        fail('INVALID_CONDITION', `Condition "${c.id}": ${JSON.stringify(v)} is not a valid regular expression.`);
      }
    }
  }
}

/** An action the caller's role may run; an unknown one and one limited to other roles are refused alike. */
export function actionFor(ds: Datastore, actor: Actor, key: string): ActionDef {
  const action = ds.actionByKey.get(key);
  if (!action) fail('ACTION_NOT_FOUND', `Datastore "${ds.display_id}" has no action "${key}".`);
  if (!actionAllowed(action, actor))
    fail('ACTION_NOT_PERMITTED', `Action "${action.display_id}" is limited to ${action.roles!.join(', ')}.`);
  return action;
}

export function actionAllowed(action: ActionDef, actor: Pick<Actor, 'role'>): boolean {
  return roleMayRun(action, actor.role);
}

/** Actions an item in `statusId` can take: status actions from that status, and datastore-level (update) actions. */
export function actionsFrom(ds: Datastore, statusId: string, actor: Pick<Actor, 'role'>): ActionDef[] {
  return ds.actions.filter(
    (a) =>
      actionAllowed(a, actor) && (a.kind === 'update' || !a.from_status_ids || a.from_status_ids.includes(statusId)),
  );
}

export interface BulkActionInput {
  conditions?: Condition[];
  use_or_condition?: boolean;
  fields: Record<string, unknown>;
  item_revisions?: Record<string, number>;
  comment?: string;
  max_items?: number;
  continue_proc?: boolean;
  /** Recorded on the batch (as_params, realtime_auto_link, access_key_updates, …). */
  meta?: Record<string, unknown>;
}

export interface BulkFailure {
  item_id: string;
  code: ErrorCode;
  message: string;
  /** The item's rev_no now (for revision conflicts), and the one the caller gave. */
  rev_no: number | null;
  expected_rev: number | null;
}

export interface BulkActionResult {
  batch: Batch | null;
  matched: number;
  processed: number;
  max_items: number;
  /** More items matched than max_items; only the first max_items (in id order) ran. */
  capped: boolean;
  failures: BulkFailure[];
}

export type RunInline = (actor: Actor, input: SubmitInput) => Promise<Batch>;

/**
 * ExecuteBulkAction: the action on every item matching the conditions, as one batch run inline through the
 * engine (source `hexabase`), at most `max_items` of them. More matches than that: refused with
 * TOO_MANY_TARGETS and nothing run, unless `continue_proc`, which runs the first max_items in id order. Items
 * already changed by an earlier call no longer match a status condition, so repeating the call until
 * matched == processed covers every item once.
 */
export async function executeBulkAction(
  ctx: Ctx,
  runInline: RunInline,
  actor: Actor,
  ds: Datastore,
  action: ActionDef,
  input: BulkActionInput,
): Promise<BulkActionResult> {
  const maxItems = input.max_items ?? DEFAULT_MAX_ITEMS;
  if (!Number.isInteger(maxItems) || maxItems < 10 || maxItems > MAX_ITEMS_LIMIT || maxItems % 10 !== 0) {
    fail('VALIDATION_FAILED', `max_items must be 10..${MAX_ITEMS_LIMIT} in steps of 10.`);
  }
  checkHexabaseConditions(ds, input.conditions);
  const target = {
    datastore: ds.id,
    conditions: input.conditions ?? [],
    use_or_condition: input.use_or_condition === true,
  };
  if (!input.continue_proc) {
    const { total: n } = await searchItems(ctx, ds, { ...target, return_count_only: true });
    if (n > maxItems) {
      throw new AppError(
        'TOO_MANY_TARGETS',
        `${n} items match, more than max_items ${maxItems}; nothing was processed (continue_proc: true processes the first ${maxItems}).`,
        {
          matched: n,
          max_items: maxItems,
        },
      );
    }
  }
  const batch = await runInline(actor, {
    operation: 'action',
    action: action.id,
    fields: input.fields,
    ...(input.comment !== undefined ? { comment: input.comment } : {}),
    target: { ...target, limit: maxItems, ...(input.item_revisions ? { revisions: input.item_revisions } : {}) },
    source: 'hexabase',
    meta: { max_items: maxItems, continue_proc: input.continue_proc === true, ...(input.meta ?? {}) },
  });
  const matched = batch.matched ?? batch.total;
  const failures = batch.failed > 0 ? await bulkFailures(ctx, batch, input.item_revisions) : [];
  return { batch, matched, processed: batch.succeeded, max_items: maxItems, capped: matched > batch.total, failures };
}

async function bulkFailures(
  ctx: Ctx,
  batch: Batch,
  revisions: Record<string, number> | undefined,
): Promise<BulkFailure[]> {
  const rows = await ctx.db
    .selectFrom('batch_item')
    .leftJoin('item', 'item.id', 'batch_item.target_id')
    .select(['batch_item.target_id', 'batch_item.error_code', 'batch_item.error_message', 'item.rev_no'])
    .where('batch_item.batch_id', '=', batch.id)
    .where('batch_item.state', '=', 'failed')
    .orderBy('batch_item.seq')
    .execute();
  return rows.map((r) => ({
    item_id: r.target_id,
    code: (r.error_code ?? 'INTERNAL') as ErrorCode,
    message: r.error_message ?? '',
    rev_no: r.rev_no ?? null,
    expected_rev: revisions && Object.hasOwn(revisions, r.target_id) ? revisions[r.target_id]! : null,
  }));
}

/**
 * The Hexabase datastore API group (`/api/v0/datastores/:d_id/…`) names a datastore by its id alone: the
 * caller must belong to its workspace, and any other datastore answers not found.
 */
export async function datastoreById(
  ctx: Ctx,
  principal: Principal,
  id: string,
  capability: Capability = 'read',
): Promise<{ access: Access; ds: Datastore }> {
  const row = await ctx.db
    .selectFrom('datastore')
    .select(['id', 'workspace_id'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) fail('DATASTORE_NOT_FOUND');
  let access: Access;
  try {
    access = await workspaceAccess(ctx, principal, row.workspace_id, capability);
  } catch (e) {
    if (e instanceof AppError && e.code === 'WORKSPACE_NOT_FOUND') fail('DATASTORE_NOT_FOUND');
    throw e;
  }
  return { access, ds: await getDatastore(ctx, access.workspaceId, row.id) };
}

export function requireRole(access: Access, capability: Capability): void {
  if (!roleAllows(access.role, capability))
    fail('FORBIDDEN', `The ${access.role} role may not ${capability} in this workspace.`);
}

export interface HistoryQuery {
  from_index?: number;
  to_index?: number;
  from_datetime?: number | null;
  to_datetime?: number | null;
  exclude_action_history?: boolean;
  exclude_comment_history?: boolean;
}

export interface HistoryView {
  id: string;
  kind: HistoryKind;
  comment: string | null;
  action_id: string | null;
  from_status_id: string | null;
  to_status_id: string | null;
  batch_id: string | null;
  user_id: string | null;
  username: string | null;
  email: string | null;
  created_at: number;
}

/** At most this many history rows per call (Hexabase's own bound). */
export const MAX_HISTORY_ROWS = 100;

/** An item's history, newest first, rows `from_index` up to (excluding) `to_index`, with who wrote each. */
export async function itemHistories(
  ctx: Ctx,
  workspaceId: string,
  itemId: string,
  q: HistoryQuery,
): Promise<HistoryView[]> {
  const from = q.from_index ?? 0;
  const to = q.to_index ?? 30;
  if (to < from) fail('VALIDATION_FAILED', 'to_index must not be below from_index.');
  const limit = Math.min(to - from, MAX_HISTORY_ROWS);
  if (limit === 0) return [];
  let query = ctx.db
    .selectFrom('item_history as h')
    .leftJoin('app_user as u', 'u.id', 'h.user_id')
    .select([
      'h.id',
      'h.kind',
      'h.comment',
      'h.action_id',
      'h.from_status_id',
      'h.to_status_id',
      'h.batch_id',
      'h.user_id',
      'h.created_at',
      'u.name as username',
      'u.email',
    ])
    .where('h.item_id', '=', itemId)
    .where('h.workspace_id', '=', workspaceId);
  if (q.from_datetime != null) query = query.where('h.created_at', '>=', q.from_datetime);
  if (q.to_datetime != null) query = query.where('h.created_at', '<=', q.to_datetime);
  if (q.exclude_comment_history) query = query.where('h.kind', '<>', 'comment');
  if (q.exclude_action_history) query = query.where('h.kind', '=', 'comment');
  const rows = await query.orderBy('h.id', 'desc').limit(limit).offset(from).execute();
  return rows.map((r) => ({ ...r, kind: r.kind as HistoryKind, username: r.username ?? null, email: r.email ?? null }));
}

/** Changes the text of a comment; only its author (or a workspace admin) may. */
export async function updateComment(
  ctx: Ctx,
  access: Access,
  itemId: string,
  historyId: string,
  comment: string,
): Promise<void> {
  await ownComment(ctx, access, itemId, historyId);
  await ctx.db.updateTable('item_history').set({ comment }).where('id', '=', historyId).execute();
}

/** Deletes a comment; only its author (or a workspace admin) may. Action history is never deleted. */
export async function deleteComment(ctx: Ctx, access: Access, itemId: string, historyId: string): Promise<void> {
  await ownComment(ctx, access, itemId, historyId);
  await ctx.db.deleteFrom('item_history').where('id', '=', historyId).execute();
}

async function ownComment(ctx: Ctx, access: Access, itemId: string, historyId: string): Promise<void> {
  const row = await ctx.db
    .selectFrom('item_history')
    .select(['user_id', 'kind'])
    .where('id', '=', historyId)
    .where('item_id', '=', itemId)
    .where('workspace_id', '=', access.workspaceId)
    .executeTakeFirst();
  if (!row || row.kind !== 'comment') fail('NOT_FOUND', 'No such comment on this item.');
  if (row.user_id !== access.principal.userId && access.role !== 'admin')
    fail('FORBIDDEN', 'Only the author or a workspace admin may change a comment.');
}
