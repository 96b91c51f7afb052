/**
 * An item's typed index rows (src/db/item-index.ts) from its field values: all of them for a new item, and for an
 * update only those of the fields whose indexed value changed.
 */
import type { IndexDelta } from '../db/bulk-writer.ts';
import { indexedValue, indexKindOf, type IndexRow } from '../db/item-index.ts';
import type { Datastore } from './datastore-model.ts';

function rowsOf(
  ds: Datastore,
  itemId: string,
  fields: Record<string, unknown>,
  only?: (fieldKey: string) => boolean,
): IndexRow[] {
  const rows: IndexRow[] = [];
  for (const f of ds.fields) {
    const kind = indexKindOf(f.type);
    if (!kind || (only && !only(f.display_id))) continue;
    const value = indexedValue(kind, fields[f.display_id]);
    if (value !== undefined) rows.push({ kind, datastore_id: ds.id, field_id: f.id, value, item_id: itemId });
  }
  return rows;
}

/** Every index row of an item with these field values. */
export function indexRows(ds: Datastore, itemId: string, fields: Record<string, unknown>): IndexRow[] {
  return rowsOf(ds, itemId, fields);
}

/** The rows to delete and add when an item's fields go from `before` to `after`. */
export function indexDelta(
  ds: Datastore,
  itemId: string,
  before: Record<string, unknown>,
  after: Record<string, unknown>,
): IndexDelta {
  const changed = (key: string) => {
    const f = ds.fieldByKey.get(key)!;
    const kind = indexKindOf(f.type)!;
    return indexedValue(kind, before[key]) !== indexedValue(kind, after[key]);
  };
  return { del: rowsOf(ds, itemId, before, changed), add: rowsOf(ds, itemId, after, changed) };
}
