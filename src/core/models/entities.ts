/**
 * DataArts model entities as batchgate items (the biz_type datastores of src/core/dataarts-workflow.ts; each
 * keeps its definition in its `biz_info` JSON field):
 *
 *   MODEL              a model (DataArts WorkspaceVO): title = name; biz_info {is_physical, dw_type, type, description}
 *   TABLE_MODEL        a physical table of a model: title = tb_name; biz_info TableModelInfo
 *   TABLE_MODEL_LOGIC  a logical entity of a model: biz_info {model_id, tb_name?, description?, attributes}
 *
 * A table belongs to the model named by its biz_info.model_id and is identified there by its name (title).
 */
import { sql } from 'kysely';
import { fail, type ErrorCode } from '../../errors.ts';
import type { Access } from '../auth.ts';
import type { Ctx } from '../context.ts';
import { bizDatastoreIds } from '../dataarts/biz-targets.ts';
import { getDatastoresById } from '../datastores.ts';
import { createItems, toItem, type Item } from '../items.ts';
import { parseLogicalType, type LogicalType } from './logical-types.ts';
import { isDwType } from './physical/index.ts';
import type { DwType, PhysicalColumn, PhysicalTableDef } from './physical/types.ts';

export const MODEL_BIZ_TYPES = Object.freeze({
  model: 'MODEL',
  table: 'TABLE_MODEL',
  logic: 'TABLE_MODEL_LOGIC',
} as const);

export interface ModelEntity {
  id: string;
  name: string;
  /** False for a logical model; a model that does not say is physical. */
  is_physical: boolean;
  /** The database its tables are for, when it names one batchgate supports. */
  dw_type: DwType | null;
  /** dw_type as written, supported or not (DataArts has DWS, DLI, …). */
  dw_type_raw: string | null;
  description: string | null;
  created_at: number;
  created_by: string | null;
  updated_at: number;
  updated_by: string | null;
}

export interface TableAttribute extends PhysicalColumn {
  /** The logical type of data_type (formatLogicalType), or null when it has no portable equivalent. */
  logic_type: string | null;
  ordinal: number;
}

/** Where a table model came from; part of its definition, so the same table from another source is a change. */
export type TableSource =
  | { operation: 'ER_REVERSE_DB'; connection_id: string; schema: string | null }
  | { operation: 'TRANSFORM_LOGIC_MODEL'; logic_model_id: string; logic_entity_id: string };

/** TABLE_MODEL biz_info. */
export interface TableModelInfo {
  model_id: string;
  tb_name: string;
  dw_type: DwType;
  description: string | null;
  attributes: TableAttribute[];
  source: TableSource;
}

export interface LogicEntity {
  id: string;
  title: string;
  tb_name: string;
  description: string | null;
  attributes: {
    name_en: string;
    data_type: LogicalType;
    not_null: boolean;
    is_primary_key: boolean;
    description: string | null;
  }[];
}

const bizInfo = (item: Item): Record<string, unknown> => {
  const v = item.fields.biz_info;
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
};
const text = (v: unknown): string | null => (typeof v === 'string' ? v : null);

export function toModelEntity(item: Item): ModelEntity {
  const b = bizInfo(item);
  const dw = text(b.dw_type);
  return {
    id: item.id,
    name: item.title,
    is_physical: b.is_physical !== false,
    dw_type: isDwType(dw) ? dw : null,
    dw_type_raw: dw,
    description: text(b.description),
    created_at: item.created_at,
    created_by: item.created_by,
    updated_at: item.updated_at,
    updated_by: item.updated_by,
  };
}

/** The datastore ids of the three model biz_types, provisioned when a workspace lacks them. */
export async function modelDatastores(
  ctx: Ctx,
  workspaceId: string,
): Promise<{ model: string; table: string; logic: string }> {
  const ids = await bizDatastoreIds(ctx, workspaceId, Object.values(MODEL_BIZ_TYPES));
  return { model: ids.get('MODEL')!, table: ids.get('TABLE_MODEL')!, logic: ids.get('TABLE_MODEL_LOGIC')! };
}

/** A MODEL entity of the workspace, or null: any other item, or another workspace's, is none. Writes nothing. */
export async function findModel(ctx: Ctx, workspaceId: string, modelId: string): Promise<ModelEntity | null> {
  const row = await ctx.db
    .selectFrom('item')
    .innerJoin('datastore', 'datastore.id', 'item.datastore_id')
    .selectAll('item')
    .where('item.id', '=', modelId)
    .where('item.workspace_id', '=', workspaceId)
    .where('datastore.display_id', '=', MODEL_BIZ_TYPES.model)
    .executeTakeFirst();
  return row ? toModelEntity(toItem(ctx, row)) : null;
}

export async function getModel(ctx: Ctx, workspaceId: string, modelId: string): Promise<ModelEntity> {
  return (
    (await findModel(ctx, workspaceId, modelId)) ??
    fail('ITEM_NOT_FOUND', `No MODEL entity ${modelId} in this workspace.`)
  );
}

export async function findModelByName(ctx: Ctx, workspaceId: string, name: string): Promise<ModelEntity | null> {
  const ds = await modelDatastores(ctx, workspaceId);
  const row = await ctx.db
    .selectFrom('item')
    .select('id')
    .where('datastore_id', '=', ds.model)
    .where('title', '=', name)
    .orderBy('id')
    .executeTakeFirst();
  return row ? findModel(ctx, workspaceId, row.id) : null;
}

/** Creates a physical model (DataArts creates the target of a transform by name when it does not exist). */
export async function createPhysicalModel(
  ctx: Ctx,
  access: Access,
  input: { name: string; dw_type: DwType; description: string | null },
): Promise<ModelEntity> {
  const ds = await modelDatastores(ctx, access.workspaceId);
  const [datastore] = (await getDatastoresById(ctx, [ds.model])).values();
  const [id] = await createItems(ctx, access, datastore!, [
    {
      title: input.name,
      fields: {
        biz_info: { is_physical: true, dw_type: input.dw_type, type: 'THIRD_NF', description: input.description },
      },
    },
  ]);
  return getModel(ctx, access.workspaceId, id!);
}

const modelIdOf = (ctx: Ctx) => ctx.caps.jsonPathText('item.fields', ['biz_info', 'model_id']);

/** Ids of the entities of one biz_type datastore that belong to a model, in id (creation) order. */
export async function entityIdsOfModel(ctx: Ctx, datastoreId: string, modelId: string): Promise<string[]> {
  const rows = await ctx.db
    .selectFrom('item')
    .select('item.id')
    .where('item.datastore_id', '=', datastoreId)
    .where(sql<boolean>`${modelIdOf(ctx)} = ${modelId}`)
    .orderBy('item.id')
    .execute();
  return rows.map((r) => r.id);
}

/** The model's table models among `names`: name → item id (the oldest, should a name repeat). */
export async function tableModelIds(
  ctx: Ctx,
  tableDatastoreId: string,
  modelId: string,
  names: readonly string[],
): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (let i = 0; i < names.length; i += 500) {
    const rows = await ctx.db
      .selectFrom('item')
      .select(['item.id', 'item.title'])
      .where('item.datastore_id', '=', tableDatastoreId)
      .where('item.title', 'in', names.slice(i, i + 500))
      .where(sql<boolean>`${modelIdOf(ctx)} = ${modelId}`)
      .orderBy('item.id')
      .execute();
    for (const r of rows) if (!out.has(r.title)) out.set(r.title, r.id);
  }
  return out;
}

/** A table model's definition; one written by hand without tb_name or attributes gets its title and none. */
export function tableModelInfo(item: Item): TableModelInfo {
  const b = bizInfo(item);
  return {
    ...b,
    tb_name: text(b.tb_name) ?? item.title,
    attributes: Array.isArray(b.attributes) ? b.attributes : [],
  } as unknown as TableModelInfo;
}

export function tableDef(info: TableModelInfo): PhysicalTableDef {
  const columns = info.attributes.filter((a) => typeof a?.name_en === 'string' && typeof a.data_type === 'string');
  return { tb_name: info.tb_name, description: info.description ?? null, columns };
}

type Invalid = { error: ErrorCode; message: string };

/** A logical entity's definition, or why it cannot be transformed (its batch item fails with that). */
export function parseLogicEntity(item: Item): LogicEntity | Invalid {
  const b = bizInfo(item);
  const bad = (message: string): Invalid => ({
    error: 'VALIDATION_FAILED',
    message: `Logical entity "${item.title}": ${message}`,
  });
  const tbName = b.tb_name === undefined || b.tb_name === null ? item.title : b.tb_name;
  if (typeof tbName !== 'string' || tbName.trim() === '')
    return bad('tb_name (or the title) must be a non-empty string.');
  if (!Array.isArray(b.attributes) || b.attributes.length === 0)
    return bad('biz_info.attributes must list at least one attribute.');
  const seen = new Set<string>();
  const attributes: LogicEntity['attributes'] = [];
  for (const [i, raw] of (b.attributes as unknown[]).entries()) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      return bad(`attributes[${i}] must be an object.`);
    const a = raw as Record<string, unknown>;
    const name = a.name_en ?? a.name;
    if (typeof name !== 'string' || name.trim() === '')
      return bad(`attributes[${i}].name_en must be a non-empty string.`);
    if (seen.has(name)) return bad(`attribute "${name}" is defined twice.`);
    seen.add(name);
    if (typeof a.data_type !== 'string') return bad(`attributes[${i}] (${name}).data_type must be a string.`);
    const type = parseLogicalType(a.data_type);
    if (!type) {
      return {
        error: 'UNSUPPORTED_TYPE',
        message: `Logical entity "${item.title}", attribute "${name}": ${JSON.stringify(a.data_type)} is not a logical data type (see docs/dataarts.md, Type mapping).`,
      };
    }
    for (const flag of ['not_null', 'is_primary_key'] as const) {
      if (a[flag] !== undefined && a[flag] !== null && typeof a[flag] !== 'boolean')
        return bad(`attributes[${i}] (${name}).${flag} must be a boolean.`);
    }
    if (a.description !== undefined && a.description !== null && typeof a.description !== 'string')
      return bad(`attributes[${i}] (${name}).description must be a string.`);
    attributes.push({
      name_en: name,
      data_type: type,
      not_null: a.not_null === true,
      is_primary_key: a.is_primary_key === true,
      description: text(a.description),
    });
  }
  return { id: item.id, title: item.title, tb_name: tbName, description: text(b.description), attributes };
}
