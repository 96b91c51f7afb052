import type { Ctx } from '../../core/context.ts';
import { skipExcluded } from '../../core/models/op-params.ts';
import { readSourceTables, reverseTables, type SourceRead } from '../../core/models/reverse.ts';
import { transformEntities } from '../../core/models/transform.ts';
import { failed, type Actor, type Outcome } from '../../core/operations/types.ts';
import type { Batch } from '../batches.ts';

/**
 * Targets per slice of a model operation. A reverse slice opens its source and reads its tables in one catalog
 * query, then writes one entity with its history per table. Measured on a 1000-table SQLite source (2 busy
 * cores): a 25-table slice took a median 51 ms on SQLite and 115 ms on PostgreSQL. So a slice's transaction
 * stays near a tenth of a second, operation-results moves every 25 tables, and a source lost mid-batch costs at
 * most the slice in hand.
 */
export const MODEL_SLICE_ITEMS = 25;

/**
 * The batch error a reverse records when its source fails: the batch then ends `failed` (with per-table
 * remarks), and its later slices fail their tables at once instead of waiting on the source again. Retry clears it.
 */
const SOURCE_FAILED = 'Reverse stopped: ';

/** What a slice read before its transaction: the source tables of a reverse, for the targets in `covered`. */
export interface ModelSlicePrep {
  covered: ReadonlySet<string>;
  read: SourceRead;
}

/** Whether a batch of this operation reads from outside batchgate before each slice (a reverse reads its source). */
export function readsBeforeSlices(operation: string): boolean {
  return operation === 'reverse_db';
}

/**
 * Runs before the slice's transaction, so a source database that takes seconds to answer holds no lock (on
 * SQLite, the one writer every API request waits for). Only a reverse reads outside batchgate.
 */
export async function prepareModelSlice(
  ctx: Ctx,
  batch: Batch,
  targets: readonly string[],
): Promise<ModelSlicePrep | undefined> {
  const p = batch.params.model_op;
  if (p?.kind !== 'reverse_db' || batch.error?.startsWith(SOURCE_FAILED)) return undefined;
  const names = skipExcluded(targets, p.excluded, new Map());
  return { covered: new Set(names), read: await readSourceTables(ctx, batch.workspace_id, p, names) };
}

/** One slice of a model operation, inside its transaction; outcomes in `targets` order. */
export async function applyModelOp(
  tx: Ctx,
  batch: Batch,
  actor: Actor,
  targets: readonly string[],
  prep: ModelSlicePrep | undefined,
): Promise<Outcome[]> {
  const p = batch.params.model_op;
  if (!p) return targets.map((t) => failed(t, 'INTERNAL', 'The batch has no model operation parameters.'));
  if (p.kind === 'transform_model') return transformEntities(tx, actor, p, targets, batch.id);

  let read: SourceRead;
  if (batch.error?.startsWith(SOURCE_FAILED)) {
    const message = `Not read: the source database failed earlier in this batch (${batch.error.slice(SOURCE_FAILED.length)})`;
    read = { tables: new Map(), physical: null, schema: null, error: { code: 'CONNECTION_FAILED', message } };
  } else {
    // The pending set can differ from what was read before the transaction (a retry or cancel in between):
    // whatever was not read is read now.
    const missing = skipExcluded(targets, p.excluded, new Map()).filter((t) => !prep?.covered.has(t));
    read = prep?.read ?? (await readSourceTables(tx, batch.workspace_id, p, missing));
    if (prep && missing.length && !read.error) {
      const more = await readSourceTables(tx, batch.workspace_id, p, missing);
      read = more.error ? more : { ...read, tables: new Map([...read.tables, ...more.tables]) };
    }
    if (read.error) {
      // Ours and free of the URL and password (readSourceTables), so it can be logged.
      tx.log.warn(
        { batch: batch.id, code: read.error.code, message: read.error.message },
        'reverse: the source database failed',
      );
      await tx.db
        .updateTable('batch')
        .set((eb) => ({
          error: eb.fn.coalesce('error', eb.val(`${SOURCE_FAILED}${read.error!.message}`.slice(0, 1000))),
        }))
        .where('id', '=', batch.id)
        .execute();
    }
  }
  return reverseTables(tx, actor, p, targets, read, batch.id);
}
