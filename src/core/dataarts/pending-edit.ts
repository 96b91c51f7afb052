import { fail, isAppError } from '../../errors.ts';
import type { Ctx } from '../context.ts';
import type { BizType } from '../dataarts-workflow.ts';
import { statusDisplayId } from '../datastore-model.ts';
import { deleteDraft, draftDiff, sameValue, withDraft } from '../drafts.ts';
import type { DataartsScope } from './scope.ts';
import { rfc3339Seconds } from './rfc3339.ts';

/**
 * The "下展" of a PUBLISHED entity (the DataArts Studio API reference) is its pending draft (src/core/drafts.ts):
 * DeleteDesignLatestApproval deletes it, SearchDesignLatestApprovalDiff renders it as a PublishVersionVO.
 */

/** PublishVersionVO (the DataArts Studio API reference); what batchgate does not have (sync, DDL, impact) is null. */
export interface PublishVersionVO {
  id: string | null;
  version_name: string;
  version_tag: string | null;
  description: string | null;
  biz_id: string;
  biz_type: string;
  biz_info: string;
  biz_info_vo: Record<string, unknown>;
  effect_objs: string | null;
  change_props: string;
  sql_ddl: string | null;
  physical_table: string | null;
  dev_physical_table: string | null;
  technical_asset: string | null;
  business_asset: string | null;
  meta_data_link: string | null;
  data_quality: string | null;
  dlf_task: string | null;
  materialization: string | null;
  publish_to_dlm: string | null;
  biz_metric: string | null;
  summary_status: string | null;
  is_current_version: boolean;
  create_time: string;
  create_by: string | null;
}

/** One changed entity property: `name` (the title), a `biz_info` key, or another field's display_id. */
export interface ChangedProp {
  prop: string;
  before: unknown;
  after: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The biz_type's datastore in the workspace, without provisioning it: an entity of a missing one does not exist. */
async function entityScope(
  ctx: Ctx,
  scope: DataartsScope,
  bizType: BizType,
  bizId: string,
): Promise<{ datastoreId: string }> {
  const ds = await ctx.db
    .selectFrom('datastore')
    .select('id')
    .where('workspace_id', '=', scope.workspaceId)
    .where('display_id', '=', bizType)
    .executeTakeFirst();
  if (!ds) fail('ITEM_NOT_FOUND', `${bizType} ${bizId} does not exist in this workspace.`);
  return { datastoreId: ds.id };
}

/**
 * DeleteDesignLatestApproval: deletes the pending edit of an entity; 1 when one was deleted, 0 when it had none (a
 * second delete answers 0). An entity of another biz_type, or of no such id, is not found; a pending edit under
 * review (its re-publish awaits a decision) is refused.
 */
export async function deletePendingEdit(
  ctx: Ctx,
  scope: DataartsScope,
  bizType: BizType,
  bizId: string,
): Promise<number> {
  const s = await entityScope(ctx, scope, bizType, bizId);
  return (await deleteDraft(ctx, scope, bizId, s).catch(notFoundAs(bizType, bizId))) ? 1 : 0;
}

/**
 * SearchDesignLatestApprovalDiff: the pending edit as the version it would become, against the released version.
 * - `biz_info` / `biz_info_vo`: the entity with the edit applied (biz_info_vo as ApprovalVO.biz_info_obj: the
 *   biz_info keys plus id, name and status).
 * - `change_props`: a JSON string, `[{"prop","before","after"}]`: every property the edit changes, `before` being
 *   the released version's value.
 * - `version_name`: `V{n}`, the number the edit gets when published; `id` null and `is_current_version` false
 *   (it is not a version yet); `create_time` / `create_by`: when and by whom the edit was started.
 * - Not found (404) when the entity has no pending edit.
 */
export async function pendingEditDiff(
  ctx: Ctx,
  scope: DataartsScope,
  bizType: BizType,
  bizId: string,
): Promise<PublishVersionVO> {
  const s = await entityScope(ctx, scope, bizType, bizId);
  const d = await draftDiff(ctx, scope, bizId, s).catch(notFoundAs(bizType, bizId));
  const pending = withDraft(d.item, d.draft);
  const status = statusDisplayId(d.datastore, d.item.status_id);
  const info = isObject(pending.fields.biz_info) ? pending.fields.biz_info : {};

  const props: ChangedProp[] = [];
  for (const key of d.changed) {
    if (key === 'title') {
      props.push({ prop: 'name', before: d.released.title, after: pending.title });
      continue;
    }
    const before = d.released.fields[key];
    const after = pending.fields[key];
    if (key === 'biz_info' && isObject(before) && isObject(after)) {
      for (const k of new Set([...Object.keys(before), ...Object.keys(after)])) {
        if (!sameValue(before[k], after[k]))
          props.push({ prop: k, before: before[k] ?? null, after: after[k] ?? null });
      }
    } else {
      props.push({ prop: key, before: before ?? null, after: after ?? null });
    }
  }

  const creator = d.draft.created_by
    ? await ctx.db.selectFrom('app_user').select('name').where('id', '=', d.draft.created_by).executeTakeFirst()
    : undefined;
  return {
    id: null,
    version_name: `V${(d.released.version ?? 0) + 1}`,
    version_tag: null,
    description: null,
    biz_id: d.item.id,
    biz_type: bizType,
    biz_info: JSON.stringify(info),
    biz_info_vo: { ...info, id: d.item.id, name: pending.title, status },
    effect_objs: null,
    change_props: JSON.stringify(props),
    sql_ddl: null,
    physical_table: null,
    dev_physical_table: null,
    technical_asset: null,
    business_asset: null,
    meta_data_link: null,
    data_quality: null,
    dlf_task: null,
    materialization: null,
    publish_to_dlm: null,
    biz_metric: null,
    summary_status: null,
    is_current_version: false,
    create_time: rfc3339Seconds(d.draft.created_at),
    create_by: creator?.name ?? d.draft.created_by,
  };
}

/** Not-found errors name the entity the DataArts way. */
function notFoundAs(bizType: BizType, bizId: string) {
  return (e: unknown): never => {
    if (isAppError(e) && e.code === 'ITEM_NOT_FOUND')
      fail('ITEM_NOT_FOUND', `${bizType} ${bizId} does not exist in this workspace.`);
    if (isAppError(e) && e.code === 'NOT_FOUND') fail('NOT_FOUND', `${bizType} ${bizId} has no pending edit.`);
    throw e;
  };
}
