/**
 * The hot-path statements of an operation chunk, per dialect, chosen when the database is opened.
 *
 * Why two shapes: on PostgreSQL every statement is a network round trip, so a chunk's reads and writes are
 * one statement each over `unnest` arrays (three array parameters, not thousands of scalars). On SQLite there
 * is no round trip, and the costly part of a 1000-row multi-VALUES statement is parsing and preparing it anew
 * on every slice: measured on 20k items, the guarded UPDATE … FROM (VALUES …) took 40 ms per 1000 items and
 * the outcome update 27 ms, while one cached prepared statement stepped 1000 times takes about 2 ms. So SQLite
 * runs cached statements in a loop inside the slice's transaction: set-based in effect, one parse per process.
 */
import { sql, type RawBuilder } from 'kysely';
import type SqliteDatabase from 'better-sqlite3';
import type { Db } from './db.ts';
import { INDEX_TABLES, sqliteRowSql, type IndexKind, type IndexRow } from './item-index.ts';
import type { HistoryRow, ItemRow, ItemVersionRow, TicketRow } from './schema.ts';

export interface ItemUpdate {
  id: string;
  /** rev_no read when the change was planned: the guard. */
  rev: number;
  status_id: string;
  /** Encoded JSON, or null when the fields did not change (so their index rows need no update). */
  fields: string | null;
  /** The typed index rows the new fields drop and add (item-index.ts), written when the update is. */
  index?: IndexDelta;
}

export interface IndexDelta {
  del: IndexRow[];
  add: IndexRow[];
}

/** An item_version row without its number, which the statement computes. */
export type VersionWrite = Omit<ItemVersionRow, 'version'>;

export interface OutcomeWrite {
  seq: number;
  state: string;
  code: string | null;
  message: string | null;
}

export interface BulkWriter {
  /** The workspace's items among `ids`, locked for the rest of the transaction where rows can be locked. */
  selectItems(db: Db, workspaceId: string, ids: readonly string[]): Promise<ItemRow[]>;
  selectTickets(db: Db, workspaceId: string, ids: readonly string[]): Promise<TicketRow[]>;
  /** Pending tickets of these items (at most one each). */
  selectPendingTickets(db: Db, itemIds: readonly string[]): Promise<TicketRow[]>;
  /**
   * rev_no-guarded update; returns the ids it changed (the others raced another writer). The index deltas of the
   * changed items are written with them.
   */
  updateItems(db: Db, rows: readonly ItemUpdate[], now: number, userId: string): Promise<Set<string>>;
  /** Deletes and inserts typed index rows (item-index.ts); an insert of a row already there is a no-op. */
  writeIndex(db: Db, del: readonly IndexRow[], add: readonly IndexRow[]): Promise<void>;
  insertHistory(db: Db, rows: readonly HistoryRow[]): Promise<void>;
  /** Released-version snapshots, each numbered one past its item's latest (at most one row per item per call). */
  insertVersions(db: Db, rows: readonly VersionWrite[]): Promise<void>;
  /** Writes outcomes of still-pending batch items; returns how many it wrote. */
  recordOutcomes(db: Db, batchId: string, rows: readonly OutcomeWrite[], now: number): Promise<number>;
}

const HISTORY_COLUMNS = [
  'id',
  'workspace_id',
  'item_id',
  'kind',
  'user_id',
  'action_id',
  'from_status_id',
  'to_status_id',
  'comment',
  'batch_id',
  'ticket_id',
  'changes',
  'created_at',
  'rev_no',
  'undo',
  'reverts_batch_id',
  'on_behalf_of',
] as const;

export function sqliteBulkWriter(handle: SqliteDatabase.Database): BulkWriter {
  const cache = new Map<string, SqliteDatabase.Statement>();
  const stmt = (text: string) => {
    let s = cache.get(text);
    if (!s) cache.set(text, (s = handle.prepare(text)));
    return s;
  };
  // Only inside a transaction does this flow own the one connection (Kysely's driver mutex); outside one, a
  // raw statement could land in another flow's open transaction.
  const owned = (db: Db) => {
    if (!db.isTransaction) throw new Error('SQLite bulk statements must run inside a transaction');
  };
  const rowSql = { text: sqliteRowSql('text'), num: sqliteRowSql('num') };
  const writeIndex = async (db: Db, del: readonly IndexRow[], add: readonly IndexRow[]): Promise<void> => {
    owned(db);
    for (const r of del) stmt(rowSql[r.kind].del).run(r.datastore_id, r.field_id, r.value, r.item_id);
    for (const r of add) stmt(rowSql[r.kind].ins).run(r.datastore_id, r.field_id, r.value, r.item_id);
  };
  return {
    async selectItems(db, workspaceId, ids) {
      owned(db);
      const s = stmt('select * from item where id = ? and workspace_id = ?');
      return ids
        .map((id) => s.get(id, workspaceId) as ItemRow | undefined)
        .filter((r): r is ItemRow => r !== undefined);
    },
    async selectTickets(db, workspaceId, ids) {
      owned(db);
      const s = stmt('select * from ticket where id = ? and workspace_id = ?');
      return ids
        .map((id) => s.get(id, workspaceId) as TicketRow | undefined)
        .filter((r): r is TicketRow => r !== undefined);
    },
    async selectPendingTickets(db, itemIds) {
      owned(db);
      // The literal 'pending' lets SQLite use the partial unique index ticket_one_pending.
      const s = stmt("select * from ticket where item_id = ? and state = 'pending'");
      return itemIds.map((id) => s.get(id) as TicketRow | undefined).filter((r): r is TicketRow => r !== undefined);
    },
    async updateItems(db, rows, now, userId) {
      owned(db);
      const withFields = stmt(
        'update item set status_id = ?, fields = ?, rev_no = rev_no + 1, updated_at = ?, updated_by = ? where id = ? and rev_no = ?',
      );
      const statusOnly = stmt(
        'update item set status_id = ?, rev_no = rev_no + 1, updated_at = ?, updated_by = ? where id = ? and rev_no = ?',
      );
      const done = new Set<string>();
      for (const r of rows) {
        const res =
          r.fields === null
            ? statusOnly.run(r.status_id, now, userId, r.id, r.rev)
            : withFields.run(r.status_id, r.fields, now, userId, r.id, r.rev);
        if (res.changes === 1) done.add(r.id);
      }
      await writeIndex(db, ...deltasOf(rows, done));
      return done;
    },
    writeIndex,
    async insertHistory(db, rows) {
      owned(db);
      const s = stmt(
        `insert into item_history (${HISTORY_COLUMNS.join(', ')}) values (${HISTORY_COLUMNS.map(() => '?').join(', ')})`,
      );
      for (const r of rows) s.run(...HISTORY_COLUMNS.map((c) => r[c] as unknown));
    },
    async insertVersions(db, rows) {
      owned(db);
      const s = stmt(
        'insert into item_version (id, item_id, version, title, fields, status_id, created_at, created_by, batch_id) ' +
          'select ?, ?, coalesce((select max(version) from item_version where item_id = ?), 0) + 1, ?, ?, ?, ?, ?, ?',
      );
      for (const r of rows)
        s.run(r.id, r.item_id, r.item_id, r.title, r.fields, r.status_id, r.created_at, r.created_by, r.batch_id);
    },
    async recordOutcomes(db, batchId, rows, now) {
      owned(db);
      const s = stmt(
        "update batch_item set state = ?, error_code = ?, error_message = ?, attempts = attempts + 1, updated_at = ? where batch_id = ? and seq = ? and state = 'pending'",
      );
      let n = 0;
      for (const r of rows) n += s.run(r.state, r.code, r.message, now, batchId, r.seq).changes;
      return n;
    },
  };
}

/** The index rows to delete and add for the updates that were made. */
function deltasOf(rows: readonly ItemUpdate[], done: ReadonlySet<string>): [IndexRow[], IndexRow[]] {
  const del: IndexRow[] = [];
  const add: IndexRow[] = [];
  for (const r of rows) {
    if (!r.index || !done.has(r.id)) continue;
    del.push(...r.index.del);
    add.push(...r.index.add);
  }
  return [del, add];
}

const PG_VALUE_TYPE: Record<IndexKind, string> = { text: 'text', num: 'float8' };

/**
 * PostgreSQL: every delete and insert of one call in one statement over unnest arrays. The deleted and inserted
 * keys never meet (a field's old and new values differ), so the order PostgreSQL runs the parts in does not matter.
 */
async function writeIndex(db: Db, del: readonly IndexRow[], add: readonly IndexRow[]): Promise<void> {
  const parts: RawBuilder<unknown>[] = [];
  const arrays = (rows: readonly IndexRow[], kind: IndexKind) =>
    sql`unnest(${rows.map((r) => r.datastore_id)}::text[], ${rows.map((r) => r.field_id)}::text[], ${rows.map((r) => r.value)}::${sql.raw(PG_VALUE_TYPE[kind])}[], ${rows.map((r) => r.item_id)}::text[]) as d(ds, f, v, i)`;
  for (const kind of ['text', 'num'] as const) {
    const table = sql.table(INDEX_TABLES[kind]);
    const d = del.filter((r) => r.kind === kind);
    const a = add.filter((r) => r.kind === kind);
    if (d.length)
      parts.push(
        sql`${sql.raw(`${kind}_del`)} as (delete from ${table} x using ${arrays(d, kind)} where x.datastore_id = d.ds and x.field_id = d.f and x.value = d.v and x.item_id = d.i)`,
      );
    if (a.length)
      parts.push(
        sql`${sql.raw(`${kind}_add`)} as (insert into ${table} (datastore_id, field_id, value, item_id) select d.ds, d.f, d.v, d.i from ${arrays(a, kind)} on conflict do nothing)`,
      );
  }
  if (parts.length) await sql`with ${sql.join(parts)} select 1`.execute(db);
}

export function postgresBulkWriter(): BulkWriter {
  return {
    async selectItems(db, workspaceId, ids) {
      if (ids.length === 0) return [];
      // Locked in id order: two batches over the same items in opposite orders then queue instead of
      // deadlocking, and the plan cannot go stale before the guarded update.
      const res =
        await sql<ItemRow>`select * from item where workspace_id = ${workspaceId} and id = any(${ids}::text[]) order by id for update`.execute(
          db,
        );
      return res.rows;
    },
    async selectTickets(db, workspaceId, ids) {
      if (ids.length === 0) return [];
      const res =
        await sql<TicketRow>`select * from ticket where workspace_id = ${workspaceId} and id = any(${ids}::text[])`.execute(
          db,
        );
      return res.rows;
    },
    async selectPendingTickets(db, itemIds) {
      if (itemIds.length === 0) return [];
      const res =
        await sql<TicketRow>`select * from ticket where item_id = any(${itemIds}::text[]) and state = 'pending'`.execute(
          db,
        );
      return res.rows;
    },
    async updateItems(db, rows, now, userId) {
      if (rows.length === 0) return new Set();
      const res = await sql<{ id: string }>`
        update item set status_id = v.status_id, fields = coalesce(v.fields, item.fields), rev_no = item.rev_no + 1,
          updated_at = ${now}, updated_by = ${userId}
        from unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.rev)}::int[], ${rows.map((r) => r.status_id)}::text[],
                    ${rows.map((r) => r.fields)}::jsonb[]) as v(id, rev, status_id, fields)
        where item.id = v.id and item.rev_no = v.rev
        returning item.id`.execute(db);
      const done = new Set(res.rows.map((r) => r.id));
      await writeIndex(db, ...deltasOf(rows, done));
      return done;
    },
    writeIndex,
    async insertHistory(db, rows) {
      if (rows.length === 0) return;
      const col = (c: (typeof HISTORY_COLUMNS)[number]) => rows.map((r) => r[c] as unknown);
      await sql`
        insert into item_history (${sql.raw(HISTORY_COLUMNS.join(', '))})
        select * from unnest(${col('id')}::text[], ${col('workspace_id')}::text[], ${col('item_id')}::text[], ${col('kind')}::text[],
          ${col('user_id')}::text[], ${col('action_id')}::text[], ${col('from_status_id')}::text[], ${col('to_status_id')}::text[],
          ${col('comment')}::text[], ${col('batch_id')}::text[], ${col('ticket_id')}::text[], ${col('changes')}::jsonb[],
          ${col('created_at')}::bigint[], ${col('rev_no')}::int[], ${col('undo')}::jsonb[], ${col('reverts_batch_id')}::text[],
          ${col('on_behalf_of')}::text[])`.execute(db);
    },
    async insertVersions(db, rows) {
      if (rows.length === 0) return;
      const col = (c: keyof VersionWrite) => rows.map((r) => r[c] as unknown);
      await sql`
        insert into item_version (id, item_id, version, title, fields, status_id, created_at, created_by, batch_id)
        select v.id, v.item_id, coalesce((select max(iv.version) from item_version iv where iv.item_id = v.item_id), 0) + 1,
          v.title, v.fields, v.status_id, v.created_at, v.created_by, v.batch_id
        from unnest(${col('id')}::text[], ${col('item_id')}::text[], ${col('title')}::text[], ${col('fields')}::jsonb[],
          ${col('status_id')}::text[], ${col('created_at')}::bigint[], ${col('created_by')}::text[], ${col('batch_id')}::text[])
          as v(id, item_id, title, fields, status_id, created_at, created_by, batch_id)`.execute(db);
    },
    async recordOutcomes(db, batchId, rows, now) {
      if (rows.length === 0) return 0;
      const res = await sql`
        update batch_item set state = v.state, error_code = v.code, error_message = v.msg, attempts = batch_item.attempts + 1, updated_at = ${now}
        from unnest(${rows.map((r) => r.seq)}::int[], ${rows.map((r) => r.state)}::text[], ${rows.map((r) => r.code)}::text[],
                    ${rows.map((r) => r.message)}::text[]) as v(seq, state, code, msg)
        where batch_item.batch_id = ${batchId} and batch_item.seq = v.seq and batch_item.state = 'pending'`.execute(db);
      return Number(res.numAffectedRows ?? 0n);
    },
  };
}
