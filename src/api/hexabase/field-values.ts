/** Hexabase's field-value dialect: `item` and `changes` merged, select values sent as arrays of option ids. */
import { fail } from '../../errors.ts';
import type { Datastore } from '../../core/datastore-model.ts';
import { normalizeFieldValues } from '../../core/field-values.ts';
import type { ItemInput } from '../../core/items.ts';

/** A `changes` entry: the array form of `item`. */
export interface FieldChange {
  id: string;
  value: unknown;
}

/**
 * `item` and `changes` merged (changes win) and checked against the datastore, keyed by field display_id.
 * Hexabase sends a select value as an array of option ids; our select fields hold one option, so a one-element
 * array is taken as that option and an empty one as blank. Throws UNKNOWN_FIELD / INVALID_FIELD_VALUE.
 */
export function hexabaseFieldValues(
  ds: Datastore,
  item: Record<string, unknown> | undefined,
  changes: FieldChange[] | undefined,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...(item ?? {}) };
  for (const c of changes ?? []) merged[c.id] = c.value;
  for (const [key, value] of Object.entries(merged)) {
    const field = ds.fieldByKey.get(key);
    if (field?.type === 'select' && Array.isArray(value) && value.length <= 1)
      merged[key] = value.length ? value[0] : null;
  }
  return normalizeFieldValues(ds.fieldByKey, merged);
}

/**
 * CreateItem's `item` as a new item: `title` is the item title and `status` (or `status_id`) its starting
 * status, by id, display_id or name; every other key is a field.
 */
export function hexabaseItemInput(
  ds: Datastore,
  item: Record<string, unknown> | undefined,
  changes: FieldChange[] | undefined,
): ItemInput {
  const merged: Record<string, unknown> = { ...(item ?? {}) };
  for (const c of changes ?? []) merged[c.id] = c.value;
  const { title, status, status_id: statusId, ...rest } = merged;
  const st = status ?? statusId;
  if (title !== undefined && typeof title !== 'string') fail('INVALID_FIELD_VALUE', 'title must be a string.');
  if (st !== undefined && typeof st !== 'string')
    fail('INVALID_FIELD_VALUE', 'status must be a status id, display_id or name.');
  return {
    ...(title !== undefined ? { title } : {}),
    ...(st !== undefined ? { status: st } : {}),
    fields: hexabaseFieldValues(ds, rest, undefined),
  };
}
