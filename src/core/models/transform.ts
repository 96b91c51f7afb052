import type { Ctx } from '../context.ts';
import { toItem } from '../items.ts';
import { failed, type Actor, type Outcome } from '../operations/types.ts';
import { roleAllows } from '../roles.ts';
import { findModel, modelDatastores, parseLogicEntity, type LogicEntity, type TableModelInfo } from './entities.ts';
import { formatLogicalType } from './logical-types.ts';
import { skipExcluded, type TransformParams } from './op-params.ts';
import { PHYSICAL_DIALECTS } from './physical/index.ts';
import type { PhysicalDialect } from './physical/types.ts';
import { upsertTableModels, type DesiredTable } from './upsert-tables.ts';

const tooLong = (physical: PhysicalDialect, name: string) =>
  physical.maxIdentifierBytes !== null && Buffer.byteLength(name, 'utf8') > physical.maxIdentifierBytes;

/** A logical entity as a physical table of the target model: each logical type mapped to the target database's. */
export function tableFromLogic(p: TransformParams, physical: PhysicalDialect, e: LogicEntity): TableModelInfo | string {
  for (const name of [e.tb_name, ...e.attributes.map((a) => a.name_en)]) {
    if (tooLong(physical, name))
      return `"${name}" is longer than ${physical.maxIdentifierBytes} bytes, the longest ${physical.dwType} identifier.`;
  }
  return {
    model_id: p.target_model_id,
    tb_name: e.tb_name,
    dw_type: physical.dwType,
    description: e.description,
    attributes: e.attributes.map((a, i) => ({
      name_en: a.name_en,
      data_type: physical.typeOf(a.data_type),
      logic_type: formatLogicalType(a.data_type),
      not_null: a.not_null || a.is_primary_key,
      is_primary_key: a.is_primary_key,
      ordinal: i + 1,
      description: a.description,
    })),
    source: { operation: 'TRANSFORM_LOGIC_MODEL', logic_model_id: p.logic_model_id, logic_entity_id: e.id },
  };
}

/**
 * One slice of a transform, in its transaction: each logical entity (TABLE_MODEL_LOGIC of the logical model)
 * becomes a TABLE_MODEL of the target model, or updates it (with update_exist_tables), or is found unchanged.
 * Outcomes are in `targets` order.
 */
export async function transformEntities(
  tx: Ctx,
  actor: Actor,
  p: TransformParams,
  targets: readonly string[],
  batchId: string,
): Promise<Outcome[]> {
  const out = new Map<string, Outcome>();
  const rest = skipExcluded(targets, p.excluded, out);
  const model = rest.length ? await findModel(tx, actor.workspaceId, p.target_model_id) : null;
  if (!roleAllows(actor.role, 'write'))
    rest.forEach((t) => out.set(t, failed(t, 'FORBIDDEN', `The ${actor.role} role may not change entities.`)));
  else if (!model)
    rest.forEach((t) =>
      out.set(t, failed(t, 'ITEM_NOT_FOUND', `The target model ${p.target_model_id} no longer exists.`)),
    );
  else {
    const ds = await modelDatastores(tx, actor.workspaceId);
    const rows = rest.length
      ? await tx.db
          .selectFrom('item')
          .selectAll()
          .where('workspace_id', '=', actor.workspaceId)
          .where('id', 'in', rest)
          .execute()
      : [];
    const byId = new Map(rows.map((r) => [r.id, toItem(tx, r)]));
    const physical = PHYSICAL_DIALECTS[p.dw_type];
    const desired: DesiredTable[] = [];
    for (const t of rest) {
      const item = byId.get(t);
      const entity =
        item &&
        item.datastore_id === ds.logic &&
        item.fields.biz_info &&
        (item.fields.biz_info as { model_id?: unknown }).model_id === p.logic_model_id
          ? parseLogicEntity(item)
          : null;
      if (!entity)
        out.set(t, failed(t, 'ITEM_NOT_FOUND', `No logical entity ${t} in logical model ${p.logic_model_id}.`));
      else if ('error' in entity) out.set(t, failed(t, entity.error, entity.message));
      else {
        const info = tableFromLogic(p, physical, entity);
        if (typeof info === 'string')
          out.set(t, failed(t, 'VALIDATION_FAILED', `Logical entity "${entity.title}": ${info}`));
        else
          desired.push({
            target_id: t,
            info,
            owner: entity.id,
            comment: `Transformed from logical model ${p.logic_model_id}`,
          });
      }
    }
    for (const [t, o] of await upsertTableModels(tx, actor, model, ds.table, desired, {
      updateExisting: p.update_exist_tables,
      batchId,
    }))
      out.set(t, o);
  }
  return targets.map((t) => out.get(t)!);
}
