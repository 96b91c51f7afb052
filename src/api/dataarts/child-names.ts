import type { Ctx } from '../../core/context.ts';
import { modelDatastores, parseLogicEntity, tableModelIds } from '../../core/models/entities.ts';
import { toItem } from '../../core/items.ts';
import type { Batch } from '../../engine/engine.ts';

/** A BatchOperationVO child's entity: its id and name. */
export interface ChildName {
  biz_id: string | null;
  biz_name: string | null;
}

async function titles(ctx: Ctx, workspaceId: string, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await ctx.db
    .selectFrom('item')
    .select(['id', 'title'])
    .where('workspace_id', '=', workspaceId)
    .where('id', 'in', [...new Set(ids)])
    .execute();
  return new Map(rows.map((r) => [r.id, r.title]));
}

/**
 * The entity each target of a DataArts batch stands for, by target id:
 * - publish/offline: the entity (target = biz_id);
 * - decisions: the ticket's entity;
 * - a reverse: the table (biz_name) and the TABLE_MODEL it became (biz_id), once it exists;
 * - a transform: the logical entity (biz_name) and the TABLE_MODEL it became (biz_id), once it exists.
 */
export async function childNames(ctx: Ctx, batch: Batch, targets: readonly string[]): Promise<Map<string, ChildName>> {
  const ws = batch.workspace_id;
  const out = new Map<string, ChildName>();
  const p = batch.params.model_op;
  if (p?.kind === 'reverse_db') {
    const ds = await modelDatastores(ctx, ws);
    const ids = await tableModelIds(ctx, ds.table, p.model_id, targets);
    for (const t of targets) out.set(t, { biz_id: ids.get(t) ?? null, biz_name: t });
  } else if (p?.kind === 'transform_model') {
    const rows = targets.length
      ? await ctx.db
          .selectFrom('item')
          .selectAll()
          .where('workspace_id', '=', ws)
          .where('id', 'in', [...targets])
          .execute()
      : [];
    const entities = rows.map((r) => parseLogicEntity(toItem(ctx, r)));
    const named = new Map(
      rows.map((r, i) => [r.id, { title: r.title, tb_name: 'error' in entities[i]! ? null : entities[i]!.tb_name }]),
    );
    const ds = await modelDatastores(ctx, ws);
    const ids = await tableModelIds(
      ctx,
      ds.table,
      p.target_model_id,
      [...named.values()].flatMap((n) => (n.tb_name === null ? [] : [n.tb_name])),
    );
    for (const t of targets) {
      const n = named.get(t);
      out.set(t, { biz_id: n?.tb_name ? (ids.get(n.tb_name) ?? null) : null, biz_name: n?.title ?? null });
    }
  } else if (batch.operation === 'action') {
    const names = await titles(ctx, ws, targets);
    for (const t of targets) out.set(t, { biz_id: t, biz_name: names.get(t) ?? null });
  } else {
    const tickets = targets.length
      ? await ctx.db
          .selectFrom('ticket')
          .select(['id', 'item_id'])
          .where('workspace_id', '=', ws)
          .where('id', 'in', [...targets])
          .execute()
      : [];
    const itemOf = new Map(tickets.map((t) => [t.id, t.item_id]));
    const names = await titles(ctx, ws, [...itemOf.values()]);
    for (const t of targets) {
      const item = itemOf.get(t) ?? null;
      out.set(t, { biz_id: item, biz_name: item === null ? null : (names.get(item) ?? null) });
    }
  }
  return out;
}
