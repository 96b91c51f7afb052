import { fail, isAppError } from '../../errors.ts';
import { withTx, type Ctx } from '../context.ts';
import { dataartsDatastore, type BizType } from '../dataarts-workflow.ts';
import { createDatastore } from '../datastores.ts';

/** BizInfoVO: one entity of a batch publish/offline. `biz_id` is the item id. */
export interface BizInfo {
  biz_id: string;
  biz_type: BizType;
  env_type?: string | undefined;
}

/**
 * The datastore id of each biz_type in the workspace. A workspace created with a project_id has all 40; one
 * that lacks a biz_type's datastore (created before it existed, or removed) gets it here, when first needed.
 */
export async function bizDatastoreIds(
  ctx: Ctx,
  workspaceId: string,
  bizTypes: readonly BizType[],
): Promise<Map<BizType, string>> {
  const wanted = [...new Set(bizTypes)];
  const find = async () => {
    const rows = await ctx.db
      .selectFrom('datastore')
      .select(['id', 'display_id'])
      .where('workspace_id', '=', workspaceId)
      .where('display_id', 'in', wanted)
      .execute();
    return new Map(rows.map((r) => [r.display_id as BizType, r.id]));
  };
  const found = await find();
  const missing = wanted.filter((t) => !found.has(t));
  if (missing.length === 0) return found;
  try {
    await withTx(ctx, async (tx) => {
      for (const t of missing) await createDatastore(tx, workspaceId, dataartsDatastore(t));
    });
  } catch (e) {
    // A concurrent request created them first (DUPLICATE, or the unique index): theirs serve as well.
    if (isAppError(e) && e.code !== 'DUPLICATE') throw e;
    ctx.log.warn({ err: e, workspaceId, missing }, 'DataArts datastores created concurrently');
  }
  const after = await find();
  if (after.size !== wanted.length) fail('INTERNAL', 'DataArts datastores could not be provisioned.');
  return after;
}

/** Refuses a call that names one biz_id twice: one call acts once on an entity. */
export function assertDistinctBizIds(infos: readonly BizInfo[]): void {
  const seen = new Map<string, number>();
  infos.forEach((info, i) => {
    const first = seen.get(info.biz_id);
    if (first !== undefined)
      fail('VALIDATION_FAILED', `biz_infos[${i}]: biz_id ${info.biz_id} repeats biz_infos[${first}].`);
    seen.set(info.biz_id, i);
  });
}

/**
 * The engine target of a batch publish/offline: the item ids in input order and, per id, the biz_type's
 * datastore it must be in, so a biz_id sent with another biz_type fails as not found.
 */
export function bizTarget(
  infos: readonly BizInfo[],
  datastoreIds: ReadonlyMap<BizType, string>,
): { ids: string[]; datastores: Record<string, string> } {
  assertDistinctBizIds(infos);
  return {
    ids: infos.map((i) => i.biz_id),
    datastores: Object.fromEntries(infos.map((i) => [i.biz_id, datastoreIds.get(i.biz_type)!])),
  };
}
