import type { Outcome } from '../operations/types.ts';
import type { DwType } from './physical/types.ts';

/**
 * The batch operations on models (the engine's `reverse_db` and `transform_model`) and the DataArts
 * operation_type each is reported as by operation-results.
 */
export const MODEL_OPERATION_TYPES = Object.freeze({
  reverse_db: 'ER_REVERSE_DB',
  transform_model: 'TRANSFORM_LOGIC_MODEL',
} as const);
export type ModelOperation = keyof typeof MODEL_OPERATION_TYPES;

/** ER_REVERSE_DB: one batch item per source table (target_id = the table name), into the physical model `model_id`. */
export interface ReverseParams {
  kind: 'reverse_db';
  model_id: string;
  connection_id: string;
  /** Tables the user left out: their items are skipped with "SKIP | Skipped by users". */
  excluded: string[];
}

/** TRANSFORM_LOGIC_MODEL: one batch item per logical entity (target_id = its id), into `target_model_id`. */
export interface TransformParams {
  kind: 'transform_model';
  logic_model_id: string;
  target_model_id: string;
  dw_type: DwType;
  update_exist_tables: boolean;
  excluded: string[];
  /** Where the physical tables are meant to live (DataArts WorkspaceTransformVO); recorded, not used. */
  connection_id: string | null;
  database: string | null;
  schema: string | null;
}

export type ModelOpParams = ReverseParams | TransformParams;

/** The model a DataArts operation-results lookup names the operation by (its `operation_id`). */
export function operationSubject(p: ModelOpParams): string {
  return p.kind === 'reverse_db' ? p.model_id : p.logic_model_id;
}

/** Records the targets the user left out as skipped (SKIPPED_BY_USER) in `out`, and returns the others. */
export function skipExcluded(
  targets: readonly string[],
  excluded: readonly string[],
  out: Map<string, Outcome>,
): string[] {
  const skip = new Set(excluded);
  for (const t of targets)
    if (skip.has(t))
      out.set(t, { target_id: t, state: 'skipped', error_code: 'SKIPPED_BY_USER', error_message: 'Skipped by users' });
  return targets.filter((t) => !skip.has(t));
}
