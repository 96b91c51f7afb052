import { sql } from 'kysely';
import type { Ctx } from '../context.ts';
import { getDatastoresById } from '../datastores.ts';
import { sameValue, withDraft } from '../drafts.ts';
import { createItems } from '../items.ts';
import { commitChanges } from '../operations/commit-changes.ts';
import { loadItems } from '../operations/load-targets.ts';
import { planUpdate } from '../operations/plan-update.ts';
import { authorOf, failed, type Actor, type Change, type Outcome } from '../operations/types.ts';
import { tableModelIds, tableModelInfo, type ModelEntity, type TableModelInfo } from './entities.ts';

/** One table model an operation wants in a model, for one batch target. */
export interface DesiredTable {
  target_id: string;
  info: TableModelInfo;
  /** The logical entity the table comes from (a transform): a table of that name from another is not taken over. */
  owner: string | null;
  /** Recorded in the entity's history entry. */
  comment: string;
}

export interface UpsertOptions {
  /** Change an existing table whose definition differs; else it is skipped (DUPLICATE) and left as it is. */
  updateExisting: boolean;
  batchId: string | null;
}

/**
 * Makes each desired table exist in the model as a TABLE_MODEL entity, in the caller's transaction (a batch
 * slice): created when the model has no table of that name; skipped (UNCHANGED) when its definition is already
 * the desired one; otherwise updated through the ordinary update path, which records a history entry (and keeps
 * the change as a pending edit when the table is PUBLISHED). Idempotent: running it again changes nothing.
 *
 * The model's row is locked first (PostgreSQL; SQLite has one writer), so two batches writing one model are
 * serialised and the second sees the tables the first created: a name is never created twice.
 */
export async function upsertTableModels(
  tx: Ctx,
  actor: Actor,
  model: ModelEntity,
  tableDatastoreId: string,
  desired: readonly DesiredTable[],
  opts: UpsertOptions,
): Promise<Map<string, Outcome>> {
  const out = new Map<string, Outcome>();
  if (desired.length === 0) return out;
  const lock = tx.caps.rowLocks ? sql` for update` : sql``;
  const still = await sql`select id from item where id = ${model.id}${lock}`.execute(tx.db);
  if (still.rows.length === 0) {
    for (const d of desired)
      out.set(d.target_id, failed(d.target_id, 'ITEM_NOT_FOUND', `The model ${model.id} no longer exists.`));
    return out;
  }

  const existingIds = await tableModelIds(
    tx,
    tableDatastoreId,
    model.id,
    desired.map((d) => d.info.tb_name),
  );
  const { items, datastores, pending, drafts } = await loadItems(tx, actor.workspaceId, [...existingIds.values()]);
  const seen = new Set<string>();
  const creates: DesiredTable[] = [];
  const changes: Change[] = [];
  for (const d of desired) {
    const name = d.info.tb_name;
    if (seen.has(name)) {
      out.set(
        d.target_id,
        failed(
          d.target_id,
          'DUPLICATE',
          `Table "${name}" is produced twice by this operation; only the first is kept.`,
        ),
      );
      continue;
    }
    seen.add(name);
    const id = existingIds.get(name);
    const item = id === undefined ? undefined : items.get(id);
    if (!item) {
      creates.push(d);
      continue;
    }
    const draft = drafts.get(item.id);
    const current = tableModelInfo(draft ? { ...item, fields: withDraft(item, draft).fields } : item);
    const from = current.source?.operation === 'TRANSFORM_LOGIC_MODEL' ? current.source.logic_entity_id : null;
    if (d.owner !== null && from !== null && from !== d.owner) {
      out.set(
        d.target_id,
        failed(
          d.target_id,
          'DUPLICATE',
          `Table "${name}" of model ${model.id} (TABLE_MODEL ${item.id}) comes from logical entity ${from}.`,
        ),
      );
      continue;
    }
    if (sameValue(current, d.info)) {
      out.set(d.target_id, {
        target_id: d.target_id,
        state: 'skipped',
        error_code: 'UNCHANGED',
        error_message: `Table "${name}" is unchanged (TABLE_MODEL ${item.id}).`,
      });
      continue;
    }
    if (!opts.updateExisting) {
      out.set(d.target_id, {
        target_id: d.target_id,
        state: 'skipped',
        error_code: 'DUPLICATE',
        error_message: `Table "${name}" exists (TABLE_MODEL ${item.id}) and differs; not updated (update_exist_tables is false).`,
      });
      continue;
    }
    const planned = planUpdate(
      d.target_id,
      item,
      datastores.get(item.datastore_id),
      pending.get(item.id),
      { biz_info: d.info },
      undefined,
      d.comment,
      draft,
    );
    if ('before' in planned) changes.push(planned);
    else out.set(d.target_id, planned);
  }

  if (creates.length) {
    const [ds] = (await getDatastoresById(tx, [tableDatastoreId])).values();
    const access = { ...actor, projectId: null };
    const byComment = new Map<string, DesiredTable[]>();
    for (const d of creates) byComment.set(d.comment, [...(byComment.get(d.comment) ?? []), d]);
    for (const [comment, group] of byComment) {
      await createItems(
        tx,
        access,
        ds!,
        group.map((d) => ({ title: d.info.tb_name, fields: { biz_info: d.info } })),
        { batchId: opts.batchId, comment },
      );
      for (const d of group)
        out.set(d.target_id, { target_id: d.target_id, state: 'succeeded', error_code: null, error_message: null });
    }
  }
  for (const o of await commitChanges(tx, authorOf(actor), changes, opts.batchId)) out.set(o.target_id, o);
  return out;
}
