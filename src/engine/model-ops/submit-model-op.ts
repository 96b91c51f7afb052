import { requireCapability, type Access } from '../../core/auth.ts';
import { forRequest, type RequestContext } from '../../log.ts';
import { withTx, type Ctx } from '../../core/context.ts';
import { openConnection, throughSource } from '../../core/connections/connections.ts';
import {
  createPhysicalModel,
  entityIdsOfModel,
  findModelByName,
  getModel,
  modelDatastores,
  type ModelEntity,
} from '../../core/models/entities.ts';
import { MODEL_OPERATION_TYPES, type TransformParams } from '../../core/models/op-params.ts';
import { physicalDialect, physicalDialectOf } from '../../core/models/physical/index.ts';
import type { DwType } from '../../core/models/physical/types.ts';
import { fail, isAppError } from '../../errors.ts';
import type { Batch } from '../batches.ts';
import type { Actor } from '../../core/operations/types.ts';
import type { Notifier } from '../notifier.ts';
import { findReplay, submitBatch, type SubmitInput } from '../submit.ts';

/** What a model operation uses of the engine: the Engine of engine.ts, named here so that engine.ts can export these. */
export interface ModelOpEngine {
  readonly ctx: Ctx;
  readonly notifier: Notifier;
  submit(request: RequestContext, actor: Actor, input: SubmitInput): Promise<{ batch: Batch; created: boolean }>;
}

/** Which door a model operation came through, for the batch's `source` and DataArts' tenant. */
export interface Door {
  /** The HTTP request asking, for the log lines of the work. */
  request: RequestContext;
  source: string;
  projectId: string | null;
  idempotencyKey?: string | null | undefined;
  maxRate?: number | null | undefined;
}

export interface ReverseInput {
  connection_id: string;
  /** Reverse only these tables; the others are listed as skipped by the user. Default: every table. */
  tables?: string[] | undefined;
  /** Tables to leave out (skipped by the user). */
  exclude_tables?: string[] | undefined;
}

function distinct(list: readonly string[], what: string): string[] {
  const seen = new Set<string>();
  for (const x of list) {
    if (seen.has(x)) fail('VALIDATION_FAILED', `${what} names "${x}" twice.`);
    seen.add(x);
  }
  return [...seen];
}

function physicalModel(model: ModelEntity, role: string): void {
  if (!model.is_physical)
    fail(
      'VALIDATION_FAILED',
      `Model "${model.name}" is a logical model (is_physical false); ${role} must be a physical model.`,
    );
}

/**
 * ER_REVERSE_DB: lists the connection's tables now (the target set is frozen, like a condition target) and
 * submits one `reverse_db` batch item per table, in table-name order, into the physical model `modelId`. Tables
 * outside `tables`, or in `exclude_tables`, are items too, skipped by the user; a named table the database does
 * not have fails as its own item. Workers read each slice's tables and write the TABLE_MODEL entities.
 */
export async function submitReverse(
  engine: ModelOpEngine,
  access: Access,
  modelId: string,
  input: ReverseInput,
  door: Door,
): Promise<Batch> {
  const { ctx } = engine;
  requireCapability(access, 'write');
  const model = await getModel(ctx, access.workspaceId, modelId);
  physicalModel(model, 'the target of a reverse');
  const chosen = input.tables === undefined ? null : distinct(input.tables, 'tables');
  const left = distinct(input.exclude_tables ?? [], 'exclude_tables');
  const both = chosen ? left.filter((t) => chosen.includes(t)) : [];
  if (both.length) fail('VALIDATION_FAILED', `Tables both chosen and excluded: ${both.join(', ')}.`);

  const { all, dwType } = await throughSource(async () => {
    const { connection, db } = await openConnection(ctx, access.workspaceId, input.connection_id);
    try {
      return { all: await db.listTables(), dwType: physicalDialectOf(connection.dialect).dwType };
    } finally {
      await db.close();
    }
  });
  if (model.dw_type_raw !== null && model.dw_type_raw !== dwType) {
    fail(
      'VALIDATION_FAILED',
      `Model "${model.name}" is for ${model.dw_type_raw}; the connection's database is ${dwType}.`,
    );
  }
  const present = new Set(all);
  const unknown = left.filter((t) => !present.has(t));
  if (unknown.length)
    fail('VALIDATION_FAILED', `exclude_tables names tables the source database does not have: ${unknown.join(', ')}.`);
  const picked = chosen && new Set(chosen);
  const targets = [...all, ...(chosen ?? []).filter((t) => !present.has(t))];
  const excluded = [...(picked ? all.filter((t) => !picked.has(t)) : []), ...left];

  const { batch } = await engine.submit(door.request, access, {
    operation: 'reverse_db',
    target: { ids: targets },
    model_op: { kind: 'reverse_db', model_id: model.id, connection_id: input.connection_id, excluded },
    request: { model_id: model.id, ...input, max_rate: door.maxRate ?? null },
    source: door.source,
    meta: { operation_type: MODEL_OPERATION_TYPES.reverse_db, project_id: door.projectId },
    max_rate: door.maxRate ?? null,
    idempotency_key: door.idempotencyKey ?? null,
  });
  return batch;
}

/** DataArts WorkspaceTransformVO: the target physical model (by id, else by name: found or created) and what to transform. */
export interface TransformInput {
  target_model_id?: string | null | undefined;
  target_model_name?: string | null | undefined;
  description?: string | null | undefined;
  update_exist_tables?: boolean | null | undefined;
  /** The logical entities to transform; the model's others are listed as skipped by the user. Default: all. */
  ids?: string[] | null | undefined;
  dw_type: string;
  connection_id?: string | null | undefined;
  database?: string | null | undefined;
  schema?: string | null | undefined;
}

async function targetModel(
  ctx: Ctx,
  access: Access,
  logicModelId: string,
  input: TransformInput,
  dwType: DwType,
): Promise<ModelEntity> {
  const byId = input.target_model_id ? await getModel(ctx, access.workspaceId, input.target_model_id) : null;
  const target =
    byId ?? (input.target_model_name ? await findModelByName(ctx, access.workspaceId, input.target_model_name) : null);
  if (!target) {
    if (!input.target_model_name)
      fail(
        'VALIDATION_FAILED',
        'Name the target physical model: target_model_id, or target_model_name (created when it does not exist).',
      );
    return createPhysicalModel(ctx, access, {
      name: input.target_model_name,
      dw_type: dwType,
      description: input.description ?? null,
    });
  }
  if (target.id === logicModelId)
    fail('VALIDATION_FAILED', 'The target model must be another model than the logical one.');
  physicalModel(target, 'the target of a transform');
  // DataArts answers "model does not exist" when the target is for another database (WorkspaceTransformVO notes).
  if (target.dw_type_raw !== null && target.dw_type_raw !== dwType)
    fail('ITEM_NOT_FOUND', `Model "${target.name}" is for ${target.dw_type_raw}, not ${dwType}.`);
  return target;
}

/**
 * TRANSFORM_LOGIC_MODEL: one `transform_model` batch item per logical entity of `logicModelId` (in creation
 * order), each becoming a TABLE_MODEL of the target physical model with its types mapped to `dw_type`.
 *
 * A target model created by name commits with the batch, in one transaction: two first requests with one
 * Idempotency-Key could otherwise each create a model and leave the loser's behind. The loser finds the winner's
 * batch when it submits (it committed meanwhile), or fails on the batch's unique key: either way its transaction
 * rolls back with its model, and it answers the winner's batch and model.
 */
export async function submitTransform(
  engine: ModelOpEngine,
  access: Access,
  logicModelId: string,
  input: TransformInput,
  door: Door,
): Promise<{ batch: Batch; target: ModelEntity }> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transformOnce(engine, access, logicModelId, input, door);
    } catch (e) {
      if (e instanceof LostRace)
        return {
          batch: e.batch,
          target: await getModel(
            engine.ctx,
            access.workspaceId,
            (e.batch.params.model_op as TransformParams).target_model_id,
          ),
        };
      // The unique key failed this transaction (PostgreSQL): asked again, the winner's batch is there to find.
      if (attempt > 1 || !door.idempotencyKey || isAppError(e)) throw e;
    }
  }
}

/** Thrown out of a transform's transaction to roll it back when another request made the batch first. */
class LostRace extends Error {
  constructor(readonly batch: Batch) {
    super('another request with this Idempotency-Key made the batch');
  }
}

async function transformOnce(
  engine: ModelOpEngine,
  access: Access,
  logicModelId: string,
  input: TransformInput,
  door: Door,
): Promise<{ batch: Batch; target: ModelEntity }> {
  const ctx = forRequest(engine.ctx, door.request);
  requireCapability(access, 'write');
  const physical = physicalDialect(input.dw_type);
  const logic = await getModel(ctx, access.workspaceId, logicModelId);
  const chosen = input.ids ? distinct(input.ids, 'ids') : null;
  const request = { logic_model_id: logic.id, ...input, max_rate: door.maxRate ?? null };
  const out = await withTx(ctx, async (tx) => {
    const replayed = await findReplay(tx, access.workspaceId, {
      operation: 'transform_model',
      target: { ids: [] },
      request,
      idempotency_key: door.idempotencyKey ?? null,
    });
    // Before the target is found or created: a key reused with another request (409) must leave no model behind.
    if (replayed) throw new LostRace(replayed);
    const target = await targetModel(tx, access, logic.id, input, physical.dwType);
    const ds = await modelDatastores(tx, access.workspaceId);
    const all = await entityIdsOfModel(tx, ds.logic, logic.id);
    const present = new Set(all);
    const picked = chosen && new Set(chosen);
    const { batch, created } = await submitBatch(tx, access, {
      operation: 'transform_model',
      target: { ids: [...all, ...(chosen ?? []).filter((id) => !present.has(id))] },
      model_op: {
        kind: 'transform_model',
        logic_model_id: logic.id,
        target_model_id: target.id,
        dw_type: physical.dwType,
        update_exist_tables: input.update_exist_tables === true,
        excluded: picked ? all.filter((id) => !picked.has(id)) : [],
        connection_id: input.connection_id ?? null,
        database: input.database ?? null,
        schema: input.schema ?? null,
      },
      request,
      source: door.source,
      meta: { operation_type: MODEL_OPERATION_TYPES.transform_model, project_id: door.projectId },
      max_rate: door.maxRate ?? null,
      idempotency_key: door.idempotencyKey ?? null,
    });
    if (!created) throw new LostRace(batch);
    return { batch, target };
  });
  engine.notifier.workAvailable();
  return out;
}
