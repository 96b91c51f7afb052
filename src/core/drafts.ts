/**
 * Released versions and pending drafts, for datastores that declare released statuses (`drafts`):
 *
 * - An item entering a released status by an action or an approved ticket (a direct action, a fast publish, an
 *   approval) gets a version snapshot (`item_version`: number, title, fields, status, who, when, batch), written
 *   set-based with the change (operations/commit-changes.ts). Reject and withdraw restore an earlier status and
 *   record none.
 * - An update of an item in a released status does not change the item: it is merged into the item's draft
 *   (`item_draft`, the field values it would change) and recorded as a `draft` history entry; rev_no stays.
 * - A draft makes its item's released status a valid `from` of every status action whose `to` is released, so
 *   the workflow's own publish action re-publishes it, with approval as usual. When that change commits (directly,
 *   or when its ticket is approved) the draft's values are applied, a new version is recorded and the draft is
 *   deleted. Rejecting such a re-publish returns the item to the released status it came from (not the action's
 *   reject status: the released version is still live); reject and withdraw leave the draft in place.
 * - A draft lives until it is applied or deleted (deleteDraft); taking the item out of the released status keeps it.
 */
import { fail } from '../errors.ts';
import type { ItemDraftRow, ItemVersionRow } from '../db/schema.ts';
import { requireCapability, type Access } from './auth.ts';
import { canonical } from './canonical.ts';
import { withTx, type Ctx } from './context.ts';
import { getDatastoresById } from './datastores.ts';
import type { Datastore } from './datastore-model.ts';
import { insertHistory } from './history.ts';
import { getItem, type Item } from './items.ts';

export interface Draft {
  item_id: string;
  /** The title the draft would set, or null to keep the item's. */
  title: string | null;
  /** The field values the draft would set (display_id keys); the others keep the released values. */
  fields: Record<string, unknown>;
  created_by: string | null;
  created_at: number;
  updated_by: string | null;
  updated_at: number;
}

export interface ItemVersion {
  id: string;
  item_id: string;
  version: number;
  title: string;
  fields: Record<string, unknown>;
  status_id: string;
  created_at: number;
  created_by: string | null;
  batch_id: string | null;
}

export function toDraft(ctx: Ctx, row: ItemDraftRow): Draft {
  return { ...row, fields: ctx.caps.readJson<Record<string, unknown>>(row.fields) ?? {} };
}

export function toVersion(ctx: Ctx, row: ItemVersionRow): ItemVersion {
  return { ...row, fields: ctx.caps.readJson<Record<string, unknown>>(row.fields) ?? {} };
}

const IN_CHUNK = 1000;

/** The drafts of these items (only items of datastores with released statuses can have one). */
export async function loadDrafts(
  ctx: Ctx,
  items: Iterable<Item>,
  datastores: ReadonlyMap<string, Datastore>,
): Promise<Map<string, Draft>> {
  const ids = [...items].filter((i) => datastores.get(i.datastore_id)?.drafts).map((i) => i.id);
  const out = new Map<string, Draft>();
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    const rows = await ctx.db
      .selectFrom('item_draft')
      .selectAll()
      .where('item_id', 'in', ids.slice(i, i + IN_CHUNK))
      .execute();
    for (const r of rows) out.set(r.item_id, toDraft(ctx, r));
  }
  return out;
}

export async function getDraft(ctx: Ctx, itemId: string): Promise<Draft | null> {
  const row = await ctx.db.selectFrom('item_draft').selectAll().where('item_id', '=', itemId).executeTakeFirst();
  return row ? toDraft(ctx, row) : null;
}

/** Released versions of an item, oldest first. */
export async function listVersions(ctx: Ctx, itemId: string, limit = 1000): Promise<ItemVersion[]> {
  const rows = await ctx.db
    .selectFrom('item_version')
    .selectAll()
    .where('item_id', '=', itemId)
    .orderBy('version')
    .limit(limit)
    .execute();
  return rows.map((r) => toVersion(ctx, r));
}

export async function latestVersion(ctx: Ctx, itemId: string): Promise<ItemVersion | null> {
  const row = await ctx.db
    .selectFrom('item_version')
    .selectAll()
    .where('item_id', '=', itemId)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? toVersion(ctx, row) : null;
}

/** The item as its draft would make it: the draft's values over the item's. */
export function withDraft(item: Item, draft: Draft): { title: string; fields: Record<string, unknown> } {
  return { title: draft.title ?? item.title, fields: { ...item.fields, ...draft.fields } };
}

/** An item of the caller's workspace, in the datastore the caller expects when it names one (else not found). */
async function itemInScope(ctx: Ctx, access: Access, itemId: string, datastoreId: string | undefined): Promise<Item> {
  const item = await getItem(ctx, access.workspaceId, itemId);
  if (datastoreId !== undefined && item.datastore_id !== datastoreId) fail('ITEM_NOT_FOUND');
  return item;
}

export interface DraftScope {
  /** The datastore the item must be in (a DataArts biz_type): an item of another is not found. */
  datastoreId?: string;
}

/**
 * Deletes the item's pending draft; true when there was one, false when there was none (deleting twice is not an
 * error). Needs `write`. A draft under review (its re-publish has a pending ticket) is refused with
 * ITEM_PENDING_APPROVAL: the approver decides what they saw. Recorded as a `draft_delete` history entry.
 */
export async function deleteDraft(ctx: Ctx, access: Access, itemId: string, scope: DraftScope = {}): Promise<boolean> {
  requireCapability(access, 'write');
  await itemInScope(ctx, access, itemId, scope.datastoreId);
  return withTx(ctx, async (tx) => {
    // Locks the item (PostgreSQL) so a concurrent edit or publish of it waits for this delete.
    const [row] = await tx.bulk.selectItems(tx.db, access.workspaceId, [itemId]);
    if (!row) fail('ITEM_NOT_FOUND');
    const draft = await getDraft(tx, itemId);
    if (!draft) return false;
    const [pending] = await tx.bulk.selectPendingTickets(tx.db, [itemId]);
    if (pending)
      fail(
        'ITEM_PENDING_APPROVAL',
        `The draft is under review in pending ticket ${pending.id}; withdraw or decide it first.`,
      );
    await tx.db.deleteFrom('item_draft').where('item_id', '=', itemId).execute();
    await insertHistory(tx, [
      {
        workspace_id: access.workspaceId,
        item_id: itemId,
        kind: 'draft_delete',
        user_id: access.principal.userId,
        from_status_id: row.status_id,
        to_status_id: row.status_id,
        changes: draft.fields,
        created_at: tx.now(),
      },
    ]);
    return true;
  });
}

/** The released version a draft is compared with: the latest snapshot, or the item itself when it has none yet. */
export interface ReleasedVersion {
  /** The item_version id, or null for an item released before versions were recorded. */
  id: string | null;
  version: number | null;
  title: string;
  fields: Record<string, unknown>;
  status_id: string;
  created_at: number;
  created_by: string | null;
}

export interface DraftDiff {
  item: Item;
  datastore: Datastore;
  released: ReleasedVersion;
  draft: Draft;
  /** The field display_ids (and `title`) whose draft value differs from the released one, in definition order. */
  changed: string[];
}

/** Equal as stored JSON, whatever the key order. */
export const sameValue = (a: unknown, b: unknown): boolean => canonical(a) === canonical(b);

/** The item's pending draft against its released version. NOT_FOUND when the item has no draft. */
export async function draftDiff(ctx: Ctx, access: Access, itemId: string, scope: DraftScope = {}): Promise<DraftDiff> {
  const item = await itemInScope(ctx, access, itemId, scope.datastoreId);
  const datastore = (await getDatastoresById(ctx, [item.datastore_id])).get(item.datastore_id)!;
  const draft = await getDraft(ctx, item.id);
  if (!draft) fail('NOT_FOUND', `Item ${item.id} has no pending draft.`);
  const v = await latestVersion(ctx, item.id);
  const released: ReleasedVersion = v
    ? {
        id: v.id,
        version: v.version,
        title: v.title,
        fields: v.fields,
        status_id: v.status_id,
        created_at: v.created_at,
        created_by: v.created_by,
      }
    : {
        id: null,
        version: null,
        title: item.title,
        fields: item.fields,
        status_id: item.status_id,
        created_at: item.updated_at,
        created_by: item.updated_by,
      };
  const changed: string[] = [];
  if (draft.title !== null && draft.title !== released.title) changed.push('title');
  const keys = [
    ...datastore.fields.map((f) => f.display_id),
    ...Object.keys(draft.fields).filter((k) => !datastore.fieldByKey.has(k)),
  ];
  for (const k of keys) {
    if (k in draft.fields && !sameValue(draft.fields[k], released.fields[k])) changed.push(k);
  }
  return { item, datastore, released, draft, changed };
}

/** An item's draft and released versions, for the native item view. */
export async function itemDraftAndVersions(
  ctx: Ctx,
  itemId: string,
): Promise<{ draft: Draft | null; versions: ItemVersion[] }> {
  const [draft, versions] = await Promise.all([getDraft(ctx, itemId), listVersions(ctx, itemId)]);
  return { draft, versions };
}

/** Rows for the set-based draft upsert of commitChanges. */
export function draftRow(
  ctx: Ctx,
  itemId: string,
  draft: { title: string | null; fields: Record<string, unknown> },
  createdBy: string | null,
  createdAt: number,
  userId: string,
  now: number,
): ItemDraftRow {
  return {
    item_id: itemId,
    title: draft.title,
    fields: ctx.caps.writeJson(draft.fields),
    created_by: createdBy,
    created_at: createdAt,
    updated_by: userId,
    updated_at: now,
  };
}
