/**
 * ExecuteBulkAction for the Hexabase door: its max_items / continue_proc rules on top of a batch the engine runs
 * inline (source `hexabase`), and the per-item failures it answers with.
 */
import type { Ctx } from '../../core/context.ts';
import type { ActionDef, Datastore } from '../../core/datastore-model.ts';
import type { Condition } from '../../core/conditions.ts';
import type { Actor } from '../../core/operations/types.ts';
import { TooManyTargets, type Batch, type Engine } from '../../engine/engine.ts';
import { fail, type ErrorCode } from '../../errors.ts';
import type { RequestContext } from '../../log.ts';
import { checkHexabaseConditions } from './check-conditions.ts';

export const DEFAULT_MAX_ITEMS = 100;
/** ExecuteBulkAction processes 10..300 items per call, in steps of 10. */
export const MAX_ITEMS_LIMIT = 300;

export interface BulkActionInput {
  conditions?: Condition[];
  use_or_condition?: boolean;
  fields: Record<string, unknown>;
  item_revisions?: Record<string, number>;
  comment?: string;
  max_items?: number;
  continue_proc?: boolean;
  /** Recorded on the batch (as_params, realtime_auto_link, access_key_updates, …). */
  meta?: Record<string, unknown>;
}

export interface BulkFailure {
  item_id: string;
  code: ErrorCode;
  message: string;
  /** The item's rev_no now (for revision conflicts), and the one the caller gave. */
  rev_no: number | null;
  expected_rev: number | null;
}

/** continue_proc false and more matches than max_items: nothing ran. */
export interface BulkActionRefused {
  refused: true;
  matched: number;
  max_items: number;
  message: string;
}

export interface BulkActionResult {
  refused?: false;
  batch: Batch | null;
  matched: number;
  processed: number;
  max_items: number;
  /** More items matched than max_items; only the first max_items (in id order) ran. */
  capped: boolean;
  failures: BulkFailure[];
}

/**
 * ExecuteBulkAction: the action on every item matching the conditions, as one batch run inline through the
 * engine (source `hexabase`), at most `max_items` of them. More matches than that: refused and nothing run
 * (the target's `refuse` policy: the engine counts once, before recording anything), unless `continue_proc`,
 * which runs the first max_items in id order (`cap`). Items already changed by an earlier call no longer match
 * a status condition, so repeating the call until matched == processed covers every item once.
 */
export async function executeBulkAction(
  ctx: Ctx,
  engine: Pick<Engine, 'runInline'>,
  request: RequestContext,
  actor: Actor,
  ds: Datastore,
  action: ActionDef,
  input: BulkActionInput,
): Promise<BulkActionResult | BulkActionRefused> {
  const maxItems = input.max_items ?? DEFAULT_MAX_ITEMS;
  if (!Number.isInteger(maxItems) || maxItems < 10 || maxItems > MAX_ITEMS_LIMIT || maxItems % 10 !== 0) {
    fail('VALIDATION_FAILED', `max_items must be 10..${MAX_ITEMS_LIMIT} in steps of 10.`);
  }
  checkHexabaseConditions(ds, input.conditions);
  const target = {
    datastore: ds.id,
    conditions: input.conditions ?? [],
    use_or_condition: input.use_or_condition === true,
  };
  let batch: Batch;
  try {
    batch = await engine.runInline(request, actor, {
      operation: 'action',
      action: action.id,
      fields: input.fields,
      ...(input.comment !== undefined ? { comment: input.comment } : {}),
      target: {
        ...target,
        limit: maxItems,
        over_limit: input.continue_proc ? 'cap' : 'refuse',
        ...(input.item_revisions ? { revisions: input.item_revisions } : {}),
      },
      source: 'hexabase',
      meta: { max_items: maxItems, continue_proc: input.continue_proc === true, ...(input.meta ?? {}) },
    });
  } catch (e) {
    if (!(e instanceof TooManyTargets)) throw e;
    const message = `${e.matched} items match, more than max_items ${maxItems}; nothing was processed (continue_proc: true processes the first ${maxItems}).`;
    return { refused: true, matched: e.matched, max_items: maxItems, message };
  }
  const matched = batch.matched ?? batch.total;
  const failures = batch.failed > 0 ? await bulkFailures(ctx, batch, input.item_revisions) : [];
  return { batch, matched, processed: batch.succeeded, max_items: maxItems, capped: matched > batch.total, failures };
}

async function bulkFailures(
  ctx: Ctx,
  batch: Batch,
  revisions: Record<string, number> | undefined,
): Promise<BulkFailure[]> {
  const rows = await ctx.db
    .selectFrom('batch_item')
    .leftJoin('item', 'item.id', 'batch_item.target_id')
    .select(['batch_item.target_id', 'batch_item.error_code', 'batch_item.error_message', 'item.rev_no'])
    .where('batch_item.batch_id', '=', batch.id)
    .where('batch_item.state', '=', 'failed')
    .orderBy('batch_item.seq')
    .execute();
  return rows.map((r) => ({
    item_id: r.target_id,
    code: (r.error_code ?? 'INTERNAL') as ErrorCode,
    message: r.error_message ?? '',
    rev_no: r.rev_no ?? null,
    expected_rev: revisions && Object.hasOwn(revisions, r.target_id) ? revisions[r.target_id]! : null,
  }));
}
