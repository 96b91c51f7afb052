import type { Ctx } from '../context.ts';
import type { ModelEntity } from '../models/entities.ts';
import { rfc3339Seconds } from './rfc3339.ts';

/** DataArts WorkspaceVO: a model (MODEL entity) as the transform and model APIs answer it. */
export interface WorkspaceVO {
  id: string;
  name: string;
  description: string | null;
  is_physical: boolean;
  frequent: boolean;
  top: boolean;
  level: null;
  dw_type: string | null;
  create_time: string;
  update_time: string;
  create_by: string | null;
  update_by: string | null;
  type: string;
  biz_catalog_ids: null;
  databases: string[] | null;
  table_model_prefix: null;
}

/** The model as WorkspaceVO; `create_by`/`update_by` are user names. Layers, catalogs and prefixes are not kept. */
export async function workspaceVO(
  ctx: Ctx,
  model: ModelEntity,
  databases: string[] | null = null,
): Promise<WorkspaceVO> {
  const ids = [model.created_by, model.updated_by].filter((x): x is string => x !== null);
  const users = ids.length
    ? await ctx.db.selectFrom('app_user').select(['id', 'name']).where('id', 'in', ids).execute()
    : [];
  const name = (id: string | null) => (id === null ? null : (users.find((u) => u.id === id)?.name ?? id));
  return {
    id: model.id,
    name: model.name,
    description: model.description,
    is_physical: model.is_physical,
    frequent: false,
    top: false,
    level: null,
    dw_type: model.dw_type_raw,
    create_time: rfc3339Seconds(model.created_at),
    update_time: rfc3339Seconds(model.updated_at),
    create_by: name(model.created_by),
    update_by: name(model.updated_by),
    type: 'THIRD_NF',
    biz_catalog_ids: null,
    databases,
    table_model_prefix: null,
  };
}
