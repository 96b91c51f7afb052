import type { Condition } from '../../core/conditions.ts';
import type { ModelOpParams } from '../../core/models/op-params.ts';
import type { Operation } from '../../core/states.ts';
import type { BatchParams } from '../batches.ts';

/** Named items (targets-ids.ts). */
export interface IdsTarget {
  ids: string[];
  /** Expected rev_no per item id: that item fails with REVISION_CONFLICT if it moved on (Hexabase item_revisions). */
  revisions?: Record<string, number>;
  /** Expected datastore id per item id: an item found in another datastore fails with ITEM_NOT_FOUND (DataArts biz_type). */
  datastores?: Record<string, string>;
}

/** The items of a datastore matching conditions, frozen at submit (targets-conditions.ts). */
export interface ConditionsTarget {
  datastore: string;
  conditions?: Condition[];
  use_or_condition?: boolean;
  /** Take at most this many of the matching items (in id order); `matched` records how many there were. */
  limit?: number;
  /**
   * More matches than `limit`: `cap` (the default) takes the first `limit` in id order; `refuse` throws
   * TooManyTargets and records nothing.
   */
  over_limit?: OverLimit;
  revisions?: Record<string, number>;
}

export type OverLimit = 'cap' | 'refuse';

/** A `revert` batch's targets: every item this batch of the workspace changed (targets-revert.ts). */
export interface RevertTarget {
  revert_of: string;
}

export type Target = IdsTarget | ConditionsTarget | RevertTarget;

export interface SubmitInput {
  operation: Operation;
  target: Target;
  action?: string;
  fields?: Record<string, unknown>;
  comment?: string;
  dry_run?: boolean;
  /** Epoch ms; in the future makes the batch `scheduled`. */
  start_at?: number | null;
  max_rate?: number | null;
  idempotency_key?: string | null;
  /** Which door the batch came through (native, dataarts, hexabase, batch-approvals), for audit. */
  source?: string;
  approver_user_id?: string | null;
  skip_approval?: boolean;
  /** Joins the batch to a group (one request over several workspaces). */
  group_id?: string | null;
  /** Recorded on the batch for audit (as_params, env_type, …). */
  meta?: Record<string, unknown> | null;
  /** What a model operation (reverse_db, transform_model) does; its targets are table names or entity ids. */
  model_op?: ModelOpParams | null;
  /**
   * The request as the caller sent it, hashed for Idempotency-Key instead of this input: a model operation reads
   * its targets from a database at submit, and a retry of the same request must find the same batch even when
   * those changed in between.
   */
  request?: unknown;
  /** False: no webhook events for the tickets the batch opens and decides (Jira's sendBulkNotification). Default true. */
  notify?: boolean;
  /** PRIORITY.min–max: the batch's weight in the fair share of workers; PRIORITY.default when absent. */
  priority?: number;
}

/** Rows per INSERT when a target's ids are written from memory. */
export const ROWS_PER_INSERT = 1000;

/** What freezing a target wrote: `total` batch items, and what the batch records about how they were chosen. */
export interface FrozenTargets {
  total: number;
  /** For a conditions target with a limit: how many items matched before the limit cut them. */
  matched: number | null;
  /** Added to the batch's params (the datastore and conditions, the reverted batch). */
  params: Partial<BatchParams>;
}
