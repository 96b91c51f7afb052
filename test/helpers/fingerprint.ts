import { createHash } from 'node:crypto';
import type { TestDb } from './db.ts';

/**
 * A digest of every row of every table of a test database, per table: equal fingerprints mean no row was
 * inserted, updated or deleted in between, including a half-done write (one row of several, one column of a row)
 * that row counts or revision numbers alone would miss. PostgreSQL hashes on the server (one round trip);
 * SQLite reads the rows in-process, which is as cheap.
 */
export async function fingerprint(db: TestDb): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (db.opened.sqlite) {
    const sqlite = db.opened.sqlite;
    const tables = sqlite
      .prepare("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name")
      .all() as { name: string }[];
    for (const { name } of tables) {
      const rows = (sqlite.prepare(`select * from "${name}"`).raw().all() as unknown[][]).map((r) =>
        JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v)),
      );
      rows.sort();
      out[name] = `${rows.length}:${createHash('sha1').update(rows.join('\n')).digest('hex')}`;
    }
    return out;
  }
  const pool = db.opened.pool!;
  const client = await pool.connect();
  try {
    const { rows: tables } = await client.query<{ name: string }>(
      'select table_name as name from information_schema.tables where table_schema = current_schema() order by table_name',
    );
    const q = tables
      .map(
        ({ name }) =>
          `select '${name}' as name, count(*)::text || ':' || coalesce(md5(string_agg(x::text, E'\\n' order by x::text)), '') as digest from "${name}" x`,
      )
      .join(' union all ');
    const { rows } = await client.query<{ name: string; digest: string }>(q);
    for (const r of rows) out[r.name] = r.digest;
    return out;
  } finally {
    client.release();
  }
}

/** The tables whose digest differs. */
export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => before[n] !== after[n]).sort();
}
