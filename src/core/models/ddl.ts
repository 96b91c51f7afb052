import type { Access } from '../auth.ts';
import type { Ctx } from '../context.ts';
import { toItem } from '../items.ts';
import { fail } from '../../errors.ts';
import {
  entityIdsOfModel,
  getModel,
  modelDatastores,
  tableDef,
  tableModelInfo,
  type TableAttribute,
  type TableModelInfo,
} from './entities.ts';
import { parseLogicalType } from './logical-types.ts';
import { PHYSICAL_DIALECTS } from './physical/index.ts';
import type { DwType, PhysicalDialect, PhysicalTableDef } from './physical/types.ts';

export interface ModelDdl {
  model_id: string;
  dw_type: DwType;
  tables: number;
  /** One CREATE TABLE per table model (and COMMENT statements where the database has comments), without `;`. */
  statements: string[];
}

/**
 * A table model in another database than its own: each column through its logical type; a type with no
 * portable equivalent (a PostgreSQL array, enum, range…) becomes that database's TEXT.
 */
function inDialect(info: TableModelInfo, target: PhysicalDialect): PhysicalTableDef {
  const def = tableDef(info);
  if (info.dw_type === target.dwType) return def;
  return {
    ...def,
    columns: def.columns.map((c) => {
      const logic = (c as Partial<TableAttribute>).logic_type;
      const logical = typeof logic === 'string' ? parseLogicalType(logic) : null;
      return { ...c, data_type: target.typeOf(logical ?? { name: 'TEXT' }) };
    }),
  };
}

/** The CREATE TABLE statements of a physical model's tables, by table name, for its own database or `dwType`. */
export async function modelDdl(ctx: Ctx, access: Access, modelId: string, dwType?: DwType): Promise<ModelDdl> {
  const model = await getModel(ctx, access.workspaceId, modelId);
  const target = dwType ?? model.dw_type;
  if (!target)
    fail('VALIDATION_FAILED', `Model "${model.name}" names no supported dw_type; choose the database with dw_type.`);
  const physical = PHYSICAL_DIALECTS[target];
  const ds = await modelDatastores(ctx, access.workspaceId);
  const ids = await entityIdsOfModel(ctx, ds.table, model.id);
  const infos: TableModelInfo[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await ctx.db
      .selectFrom('item')
      .selectAll()
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    infos.push(...rows.map((r) => tableModelInfo(toItem(ctx, r))));
  }
  infos.sort((a, b) => (a.tb_name < b.tb_name ? -1 : a.tb_name > b.tb_name ? 1 : 0));
  return {
    model_id: model.id,
    dw_type: target,
    tables: infos.length,
    statements: infos.flatMap((info) => physical.createTable(inDialect(info, physical))),
  };
}
