import { isAppError, type ErrorCode } from '../../errors.ts';
import { roleAllows } from '../roles.ts';
import type { Ctx } from '../context.ts';
import { openConnection } from '../connections/connections.ts';
import { SourceError, type SourceTable } from '../connections/introspect/types.ts';
import { failed, type Actor, type Outcome } from '../operations/types.ts';
import { findModel, modelDatastores, type TableModelInfo } from './entities.ts';
import { formatLogicalType } from './logical-types.ts';
import { skipExcluded, type ReverseParams } from './op-params.ts';
import { physicalDialectOf } from './physical/index.ts';
import type { PhysicalDialect } from './physical/types.ts';
import { upsertTableModels } from './upsert-tables.ts';

/** What a slice of a reverse read from its source: the tables found, or why the source could not be read. */
export interface SourceRead {
  tables: Map<string, SourceTable>;
  physical: PhysicalDialect | null;
  schema: string | null;
  error: { code: ErrorCode; message: string } | null;
}

/**
 * Reads the named tables through the batch's connection. Never throws for the source's sake: a missing
 * connection, a missing key or an unreachable or unreadable database becomes `error`, which fails the slice's
 * items with their remark, not the engine's chunk.
 */
export async function readSourceTables(
  ctx: Ctx,
  workspaceId: string,
  p: ReverseParams,
  names: readonly string[],
): Promise<SourceRead> {
  const none = { tables: new Map<string, SourceTable>(), physical: null, schema: null };
  if (names.length === 0) return { ...none, error: null };
  try {
    const { connection, db } = await openConnection(ctx, workspaceId, p.connection_id);
    try {
      return {
        tables: await db.readTables(names),
        physical: physicalDialectOf(connection.dialect),
        schema: connection.schema,
        error: null,
      };
    } finally {
      await db.close();
    }
  } catch (e) {
    if (e instanceof SourceError)
      return {
        ...none,
        error: { code: 'CONNECTION_FAILED', message: `The source database could not be read: ${e.message}` },
      };
    if (isAppError(e) && e.code !== 'INTERNAL') return { ...none, error: { code: e.code, message: e.message } };
    throw e;
  }
}

/** A source table as a TABLE_MODEL definition of the model, its types in the source's own spelling. */
export function tableFromSource(
  modelId: string,
  physical: PhysicalDialect,
  p: ReverseParams,
  schema: string | null,
  t: SourceTable,
): TableModelInfo {
  return {
    model_id: modelId,
    tb_name: t.name,
    dw_type: physical.dwType,
    description: t.description,
    attributes: t.columns.map((c) => {
      const logical = physical.logicalOf(c.data_type);
      return {
        name_en: c.name,
        data_type: c.data_type,
        logic_type: logical ? formatLogicalType(logical) : null,
        not_null: c.not_null,
        is_primary_key: c.is_primary_key,
        ordinal: c.ordinal,
        description: c.description,
      };
    }),
    source: { operation: 'ER_REVERSE_DB', connection_id: p.connection_id, schema },
  };
}

/**
 * One slice of a reverse, in its transaction: each target table becomes (or updates, or is found unchanged as)
 * a TABLE_MODEL of the target model, from what `read` holds. Outcomes are in `targets` order.
 */
export async function reverseTables(
  tx: Ctx,
  actor: Actor,
  p: ReverseParams,
  targets: readonly string[],
  read: SourceRead,
  batchId: string,
): Promise<Outcome[]> {
  const out = new Map<string, Outcome>();
  const rest = skipExcluded(targets, p.excluded, out);
  const fail = (code: ErrorCode, message: string) => rest.forEach((t) => out.set(t, failed(t, code, message)));
  if (!roleAllows(actor.role, 'write')) fail('FORBIDDEN', `The ${actor.role} role may not change entities.`);
  else if (read.error) fail(read.error.code, read.error.message);
  else if (rest.length) {
    const model = await findModel(tx, actor.workspaceId, p.model_id);
    if (!model) fail('ITEM_NOT_FOUND', `The target model ${p.model_id} no longer exists.`);
    else if (model.dw_type_raw !== null && model.dw_type_raw !== read.physical!.dwType) {
      fail(
        'VALIDATION_FAILED',
        `Model "${model.name}" is for ${model.dw_type_raw}; the connection's database is ${read.physical!.dwType}.`,
      );
    } else {
      const ds = await modelDatastores(tx, actor.workspaceId);
      const desired = [];
      for (const t of rest) {
        const table = read.tables.get(t);
        if (!table)
          out.set(
            t,
            failed(
              t,
              'SOURCE_TABLE_NOT_FOUND',
              `Table "${t}" does not exist in the source database${read.schema ? ` (schema "${read.schema}")` : ''}.`,
            ),
          );
        else
          desired.push({
            target_id: t,
            info: tableFromSource(model.id, read.physical!, p, read.schema, table),
            owner: null,
            comment: `Reversed from data connection ${p.connection_id}`,
          });
      }
      for (const [t, o] of await upsertTableModels(tx, actor, model, ds.table, desired, {
        updateExisting: true,
        batchId,
      }))
        out.set(t, o);
    }
  }
  return targets.map((t) => out.get(t)!);
}
