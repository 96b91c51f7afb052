import { sql } from 'kysely';
import { AppError, fail, isAppError } from '../errors.ts';
import type { ItemRow } from '../db/schema.ts';
import type { Access } from './auth.ts';
import { compileConditions, sortExpression, type Condition } from './conditions.ts';
import { withTx, type Ctx } from './context.ts';
import type { Datastore } from './datastore-model.ts';
import { normalizeFieldValues } from './field-values.ts';
import { insertHistory, listHistory, type HistoryEntry } from './history.ts';
import { indexRows } from './index-rows.ts';

/** The domain item: field values keyed by field display_id, status as the status id. */
export interface Item {
  id: string;
  workspace_id: string;
  datastore_id: string;
  title: string;
  status_id: string;
  fields: Record<string, unknown>;
  rev_no: number;
  created_at: number;
  created_by: string | null;
  updated_at: number;
  updated_by: string | null;
}

export function toItem(ctx: Ctx, row: ItemRow): Item {
  return { ...row, fields: ctx.caps.readJson<Record<string, unknown>>(row.fields) ?? {} };
}

export interface ItemInput {
  title?: string;
  fields?: Record<string, unknown>;
  status?: string;
}

/** Validates one input against the datastore; the first status is where new items start. */
function newItemRow(
  ctx: Ctx,
  ds: Datastore,
  userId: string,
  input: ItemInput,
  id: string,
  now: number,
): { row: ItemRow; fields: Record<string, unknown> } {
  const fields = normalizeFieldValues(ds.fieldByKey, input.fields);
  let statusId = ds.statuses[0]!.id;
  if (input.status !== undefined) {
    const s = ds.statusByKey.get(input.status);
    if (!s) fail('STATUS_NOT_FOUND', `Status "${input.status}" is not defined in this datastore.`);
    statusId = s.id;
  }
  const row = {
    id,
    workspace_id: ds.workspace_id,
    datastore_id: ds.id,
    title: input.title ?? '',
    status_id: statusId,
    fields: ctx.caps.writeJson(fields),
    rev_no: 1,
    created_at: now,
    created_by: userId,
    updated_at: now,
    updated_by: userId,
  };
  return { row, fields };
}

/** Rows per INSERT: 11 columns × 500 rows stays far below SQLite's 32766 bound parameters. */
const INSERT_CHUNK = 500;

/**
 * Creates items in input order and returns their ids. Every input is validated before anything is written,
 * so one bad element refuses the whole import (its index is in `details.index`).
 */
export async function createItems(
  ctx: Ctx,
  access: Access,
  ds: Datastore,
  inputs: ItemInput[],
  opts: { batchId?: string | null; comment?: string | null } = {},
): Promise<string[]> {
  const now = ctx.now();
  const ids = ctx.ids.many(inputs.length);
  const made = inputs.map((input, index) => {
    try {
      return newItemRow(ctx, ds, access.principal.userId, input, ids[index]!, now);
    } catch (e) {
      if (isAppError(e))
        throw new AppError(e.code, `items[${index}]: ${e.message}`, { ...(e.details as object), index });
      throw e;
    }
  });
  const rows = made.map((m) => m.row);
  const values = made.map((m) => m.fields);
  await withTx(ctx, async (tx) => {
    for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
      const part = rows.slice(i, i + INSERT_CHUNK);
      await tx.db.insertInto('item').values(part).execute();
      await tx.bulk.writeIndex(
        tx.db,
        [],
        part.flatMap((r, k) => indexRows(ds, r.id, values[i + k]!)),
      );
      await insertHistory(
        tx,
        part.map((r) => ({
          workspace_id: r.workspace_id,
          item_id: r.id,
          kind: 'create',
          user_id: access.principal.userId,
          to_status_id: r.status_id,
          batch_id: opts.batchId ?? null,
          comment: opts.comment ?? null,
          created_at: now,
        })),
      );
    }
  });
  return ids;
}

/** An item of the caller's workspace; another workspace's item is not found. */
export async function getItem(ctx: Ctx, workspaceId: string, id: string): Promise<Item> {
  const row = await ctx.db
    .selectFrom('item')
    .selectAll()
    .where('id', '=', id)
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  if (!row) fail('ITEM_NOT_FOUND');
  return toItem(ctx, row);
}

export async function getItemWithHistory(
  ctx: Ctx,
  workspaceId: string,
  id: string,
): Promise<{ item: Item; history: HistoryEntry[] }> {
  const item = await getItem(ctx, workspaceId, id);
  return { item, history: await listHistory(ctx, item.id) };
}

export interface SearchInput {
  conditions?: Condition[];
  use_or_condition?: boolean;
  page?: number;
  per_page?: number;
  sort_field_id?: string;
  sort_order?: 'asc' | 'desc';
  /** Several sort keys, first first; takes priority over sort_field_id (Hexabase `sort_fields`). */
  sort_fields?: { id: string; order?: 'asc' | 'desc' }[];
  return_count_only?: boolean;
}

export const MAX_PER_PAGE = 1000;

/** Conditions compiled to SQL; field conditions search the typed index tables of this datastore (conditions.ts). */
function whereFor(ctx: Ctx, ds: Datastore, input: SearchInput) {
  const pred = compileConditions(ctx.caps, ds, input.conditions, input.use_or_condition === true, ctx.now());
  return sql<boolean>`item.datastore_id = ${sql.lit(ds.id)} and ${pred}`;
}

/**
 * One page of the items matching `input`, and how many match. The page is read first: when it comes back short,
 * it holds the last matches, so the total is the offset plus its length and no count is run. Only a full page (or
 * an empty one past the first) needs the count, a second pass over the matches; before, every search made it,
 * and a search matching less than a page scanned the datastore twice (bench/search.ts measures both ways).
 */
export async function searchItems(
  ctx: Ctx,
  ds: Datastore,
  input: SearchInput,
): Promise<{ items: Item[]; total: number }> {
  const where = whereFor(ctx, ds, input);
  if (input.return_count_only) return { items: [], total: await countItems(ctx, ds, where) };
  const perPage = Math.min(input.per_page ?? 100, MAX_PER_PAGE);
  const page = input.page ?? 1;
  const offset = (page - 1) * perPage;
  let q = ctx.db.selectFrom('item').selectAll().where(where);
  const sorts = input.sort_fields?.length
    ? input.sort_fields
    : input.sort_field_id
      ? [{ id: input.sort_field_id, order: input.sort_order }]
      : [];
  for (const s of sorts) {
    const dir = s.order === 'desc' ? sql`desc` : sql`asc`;
    q = q.orderBy(sql`${sortExpression(ctx.caps, ds, s.id)} ${dir}`);
  }
  // Through ctx.reader: the caller chooses these predicates' cost (src/db/query-limits.ts).
  const rows = await ctx.reader.read(
    ctx.db,
    q.orderBy('item.id').limit(perPage).offset(offset).compile(),
    ds.workspace_id,
  );
  const short = rows.length < perPage && (rows.length > 0 || offset === 0);
  const total = short ? offset + rows.length : await countItems(ctx, ds, where);
  return { items: rows.map((r) => toItem(ctx, r)), total };
}

async function countItems(ctx: Ctx, ds: Datastore, where: ReturnType<typeof whereFor>): Promise<number> {
  const [row] = await ctx.reader.read(
    ctx.db,
    ctx.db
      .selectFrom('item')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where(where)
      .compile(),
    ds.workspace_id,
  );
  return Number(row!.n);
}

/** Ids of every item matching the conditions, in id order: how a batch freezes its target set at submit. */
export async function matchingItemIds(
  ctx: Ctx,
  ds: Datastore,
  conditions: Condition[] | undefined,
  useOr = false,
): Promise<string[]> {
  const query = ctx.db
    .selectFrom('item')
    .select('id')
    .where(whereFor(ctx, ds, { conditions, use_or_condition: useOr }))
    .orderBy('id');
  const rows = await ctx.reader.read(ctx.db, query.compile(), ds.workspace_id);
  return rows.map((r) => r.id);
}

export async function addComment(ctx: Ctx, access: Access, itemId: string, comment: string): Promise<HistoryEntry> {
  const item = await getItem(ctx, access.workspaceId, itemId);
  const [entry] = await insertHistory(ctx, [
    {
      workspace_id: access.workspaceId,
      item_id: item.id,
      kind: 'comment',
      user_id: access.principal.userId,
      comment,
      created_at: ctx.now(),
    },
  ]);
  return entry!;
}
