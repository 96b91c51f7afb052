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
 * table. The primary key is the search index; a second index on item_id finds an item's rows to rewrite them.
 * `users` and `json` fields are not indexed (a users array of 1000 ids would be 1000 rows per write).
 *
 * Text values are indexed by their first INDEXED_TEXT_CHARS characters (PostgreSQL's B-tree refuses index rows
 * over 2704 bytes, and a 64 KiB text field is allowed): a search for a value at least that long matches on the
 * prefix and is rechecked against the item's own JSON (conditions.ts).
 *
 * The rows are written by the same transaction as the item, from the stored JSON itself (these statements), on
 * every path that writes `item.fields`: createItems and the bulk writer's updateItems, which every operation commits
 * through. Items are never deleted today; a delete must remove the item's rows with it.
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
 * The index rows (datastore_id, field_id, value, item_id) of the items `i` that `items` (an SQL predicate on `i`)
 * selects: each top-level key of `fields` joined to the datastore's field of that display_id, one parse per item.
 * Only values of the field's JSON type are indexed, as the condition compiler's expressions read them. SQLite's
 * CROSS JOIN keeps that order (it would otherwise scan the item's JSON once per field of the datastore).
 */
export function indexRowsSql(dialect: Dialect, kind: IndexKind, items: string): string {
  if (dialect === 'sqlite') {
    const value = kind === 'text' ? `substr(e.value, 1, ${INDEXED_TEXT_CHARS})` : 'e.value';
    const jsonTypes = kind === 'text' ? `'text'` : `'integer', 'real'`;
    return `select i.datastore_id as datastore_id, f.id as field_id, ${value} as value, i.id as item_id
      from item i cross join json_each(i.fields) e cross join ds_field f
      where ${items} and f.datastore_id = i.datastore_id and f.display_id = e.key and e.type in (${jsonTypes}) and f.type in (${types(kind)})`;
  }
  const value = kind === 'text' ? `left(e.value #>> '{}', ${INDEXED_TEXT_CHARS})` : `(e.value #>> '{}')::double precision`;
  return `select i.datastore_id as datastore_id, f.id as field_id, ${value} as value, i.id as item_id
    from item i cross join lateral jsonb_each(i.fields) e join ds_field f on f.datastore_id = i.datastore_id and f.display_id = e.key
    where ${items} and jsonb_typeof(e.value) = '${kind === 'text' ? 'string' : 'number'}' and f.type in (${types(kind)})`;
}

const COLUMNS = '(datastore_id, field_id, value, item_id)';

/** SQLite: inserts the index rows of the items whose ids are the JSON array `@ids` (none of which has any yet). */
export function sqliteInsertSql(kind: IndexKind): string {
  return `insert into ${INDEX_TABLES[kind]} ${COLUMNS} ${indexRowsSql('sqlite', kind, 'i.id in (select value from json_each(@ids))')}`;
}

/**
 * SQLite: deletes the index rows of the `@ids` items, before sqliteInsertSql writes them anew. Deleting them all is
 * cheaper here than keeping the unchanged ones: measured on 5000 items, a NOT IN of the new rows took 20× longer.
 */
export function sqliteDeleteSql(kind: IndexKind): string {
  return `delete from ${INDEX_TABLES[kind]} where item_id in (select value from json_each(@ids))`;
}

/**
 * PostgreSQL, one round trip for both tables: the rows of the items `$1` (a text[]) are computed once, rows their
 * fields no longer hold are deleted, and missing ones inserted. Unchanged values are not rewritten, so a batch that
 * sets one field of a wide datastore writes one row per item. With `fresh` (new items) there is nothing to delete.
 */
export function postgresSyncSql(fresh: boolean): string {
  const items = 'i.id = any($1::text[])';
  const parts = [`t_new as (${indexRowsSql('postgres', 'text', items)})`, `n_new as (${indexRowsSql('postgres', 'num', items)})`];
  if (!fresh) {
    for (const [kind, rows] of [['text', 't_new'], ['num', 'n_new']] as const) {
      parts.push(`${kind}_stale as (delete from ${INDEX_TABLES[kind]} x where x.item_id = any($1::text[])
        and not exists (select 1 from ${rows} n where n.field_id = x.field_id and n.value = x.value and n.item_id = x.item_id))`);
    }
  }
  // New items have no rows to collide with: a plain insert spares the speculative insertion of ON CONFLICT.
  const keep = fresh ? '' : ' on conflict do nothing';
  parts.push(`t_ins as (insert into ${INDEX_TABLES.text} ${COLUMNS} select * from t_new${keep})`);
  return `with ${parts.join(',\n')}
    insert into ${INDEX_TABLES.num} ${COLUMNS} select * from n_new${keep}`;
}

/** Statements (no parameters) that index every item: the migration's backfill, and benches that seed items in SQL. */
export function backfillSql(dialect: Dialect): string[] {
  return (['text', 'num'] as const).map((kind) => `insert into ${INDEX_TABLES[kind]} ${COLUMNS} ${indexRowsSql(dialect, kind, '1 = 1')}`);
}

/** A search value as the text index holds it: its first INDEXED_TEXT_CHARS characters, counted as the writes count them. */
export function indexedPrefix(dialect: Dialect, value: string): RawBuilder<string> {
  return dialect === 'sqlite' ? sql<string>`substr(${value}, 1, ${sql.lit(INDEXED_TEXT_CHARS)})` : sql<string>`left(${value}, ${sql.lit(INDEXED_TEXT_CHARS)})`;
}
