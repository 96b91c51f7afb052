import type { Ctx } from '../../core/context.ts';
import { ROWS_PER_INSERT, type FrozenTargets, type IdsTarget } from './input.ts';

/** Named targets: each id once, in the order given, with the revision and datastore the caller expects of it. */
export async function freezeIds(tx: Ctx, batchId: string, target: IdsTarget): Promise<FrozenTargets> {
  const ids = [...new Set(target.ids)];
  const revisions = target.revisions ?? null;
  const datastores = target.datastores ?? null;
  for (let i = 0; i < ids.length; i += ROWS_PER_INSERT) {
    await tx.db
      .insertInto('batch_item')
      .values(
        ids.slice(i, i + ROWS_PER_INSERT).map((t, j) => ({
          batch_id: batchId,
          seq: i + j + 1,
          target_id: t,
          state: 'pending',
          attempts: 0,
          expected_rev: revisions?.[t] ?? null,
          expected_datastore_id: datastores?.[t] ?? null,
        })),
      )
      .execute();
  }
  return { total: ids.length, matched: null, params: {} };
}
