/**
 * The typed index tables (migration 0010): one row per indexed field value of an item, so a field search is a
 * range scan of a composite index, and creating a datastore creates no index at all (a per-field index on the
 * shared `item` table was built on the event loop over every tenant's items, and slowed every tenant's writes).
 *
 *   item_index_text (datastore_id, field_id, value, item_id)   text, select, date and datetime values
 *   item_index_num  (datastore_id, field_id, value, item_id)   number values
 *
 * Two tables, one per comparison type: dates and datetimes are stored as fixed-format ISO text whose text order is
 * time order (field-values.ts), so the text table serves their ranges; numbers need a numeric order, hence their own
 * table. The primary key is the search index and the only index: a row is found again by its values, which the
 * writer knows (the item's fields before and after). `users` and `json` fields are not indexed (a users array of
 * 1000 ids would be 1000 rows per write).
 *
 * Text values are indexed by their first INDEXED_TEXT_CHARS characters (PostgreSQL's B-tree refuses index rows
 * over 2704 bytes, and a 64 KiB text field is allowed): a search for a value at least that long matches on the
 * prefix and is rechecked against the item's own JSON (conditions.ts).
 *
 * Rows are written by the same transaction as the item, on the two paths that write `item.fields`: createItems
 * (every new item's rows) and the bulk writer's updateItems, which every operation commits through (the rows of the
 * fields whose indexed value changed: a batch setting one field of a wide datastore rewrites one row per item).
 * indexedValue is the one definition of a row's value; indexRowsSql says the same in SQL for the migration's
 * backfill. Items are never deleted today; a delete must remove the item's rows with it.
 */
import { sql, type RawBuilder } from 'kysely';
import type { Dialect } from './capabilities.ts';

/** Characters of a text value the index keeps; ≤ 4 bytes each in UTF-8, far under PostgreSQL's row bound. */
export const INDEXED_TEXT_CHARS = 256;

export const INDEX_TABLES = Object.freeze({ text: 'item_index_text', num: 'item_index_num' } as const);
export type IndexKind = keyof typeof INDEX_TABLES;

/** Field types by index table. */
export const INDEXED_TYPES: Readonly<Record<IndexKind, readonly string[]>> = Object.freeze({
  text: Object.freeze(['text', 'select', 'date', 'datetime']),
  num: Object.freeze(['number']),
});

const types = (kind: IndexKind) => INDEXED_TYPES[kind].map((t) => `'${t}'`).join(', ');

/**
 * indexedValue in SQL: the index rows (datastore_id, field_id, value, item_id) of every item, each top-level key of
 * `fields` joined to the datastore's field of that display_id, one parse per item. Only values of the field's JSON
 * type are indexed. SQLite's CROSS JOIN keeps that order (it would otherwise scan the JSON once per field).
 */
function indexRowsSql(dialect: Dialect, kind: IndexKind): string {
  if (dialect === 'sqlite') {
    const value = kind === 'text' ? `substr(e.value, 1, ${INDEXED_TEXT_CHARS})` : 'e.value';
    const jsonTypes = kind === 'text' ? `'text'` : `'integer', 'real'`;
    return `select i.datastore_id as datastore_id, f.id as field_id, ${value} as value, i.id as item_id
      from item i cross join json_each(i.fields) e cross join ds_field f
      where f.datastore_id = i.datastore_id and f.display_id = e.key and e.type in (${jsonTypes}) and f.type in (${types(kind)})`;
  }
  const value =
    kind === 'text' ? `left(e.value #>> '{}', ${INDEXED_TEXT_CHARS})` : `(e.value #>> '{}')::double precision`;
  return `select i.datastore_id as datastore_id, f.id as field_id, ${value} as value, i.id as item_id
    from item i cross join lateral jsonb_each(i.fields) e join ds_field f on f.datastore_id = i.datastore_id and f.display_id = e.key
    where jsonb_typeof(e.value) = '${kind === 'text' ? 'string' : 'number'}' and f.type in (${types(kind)})`;
}

const COLUMNS = '(datastore_id, field_id, value, item_id)';

/** One index row. */
export interface IndexRow {
  kind: IndexKind;
  datastore_id: string;
  field_id: string;
  value: string | number;
  item_id: string;
}

/** The index table a field type goes to, or null for users and json. */
export function indexKindOf(type: string): IndexKind | null {
  if (INDEXED_TYPES.text.includes(type)) return 'text';
  if (INDEXED_TYPES.num.includes(type)) return 'num';
  return null;
}

/**
 * The indexed form of a stored field value, or undefined when it has none (blank, or not of the field's JSON type).
 * Text is cut to INDEXED_TEXT_CHARS code points, which is what SQLite's substr and PostgreSQL's left count.
 */
export function indexedValue(kind: IndexKind, v: unknown): string | number | undefined {
  if (kind === 'num') return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  // UTF-16 length ≥ code points: a string this short is never cut.
  return v.length <= INDEXED_TEXT_CHARS ? v : Array.from(v).slice(0, INDEXED_TEXT_CHARS).join('');
}

/** SQLite statements on one row, by kind: delete by the full key, insert (a row already there stays). */
export function sqliteRowSql(kind: IndexKind): { del: string; ins: string } {
  const t = INDEX_TABLES[kind];
  return {
    del: `delete from ${t} where datastore_id = ? and field_id = ? and value = ? and item_id = ?`,
    ins: `insert or ignore into ${t} ${COLUMNS} values (?, ?, ?, ?)`,
  };
}

/** Statements (no parameters) that index every item: the migration's backfill, and benches that seed items in SQL. */
export function backfillSql(dialect: Dialect): string[] {
  return (['text', 'num'] as const).map(
    (kind) => `insert into ${INDEX_TABLES[kind]} ${COLUMNS} ${indexRowsSql(dialect, kind)}`,
  );
}

/** A search value as the text index holds it: its first INDEXED_TEXT_CHARS characters, counted as the writes count them. */
export function indexedPrefix(dialect: Dialect, value: string): RawBuilder<string> {
  return dialect === 'sqlite'
    ? sql<string>`substr(${value}, 1, ${sql.lit(INDEXED_TEXT_CHARS)})`
    : sql<string>`left(${value}, ${sql.lit(INDEXED_TEXT_CHARS)})`;
}
