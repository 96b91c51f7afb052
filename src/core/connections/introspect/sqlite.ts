import SqliteDatabase from 'better-sqlite3';
import { fail } from '../../../errors.ts';
import { realPath } from '../source-policy.ts';
import { asSourceError, type SourceDb, type SourceDialect, type SourceTable, type SourceTarget } from './types.ts';

/**
 * SQLite: a file path (`sqlite:` prefix optional), opened read-only and only if it exists. SQLite keeps no
 * comments, so descriptions are null. A primary-key column is reported NOT NULL: PostgreSQL enforces that, and
 * SQLite's rowid alias cannot be null either.
 */
export const sqliteSource: SourceDialect = Object.freeze({
  dialect: 'sqlite' as const,
  defaultSchema: null,
  parse(raw: string): SourceTarget | null {
    // Another scheme (a mistyped or unsupported URL, `postgres:/…` too) is not a path: read as a file name it would
    // be shown and echoed in errors, password and all. One letter before a colon is a Windows drive.
    if (!/^sqlite:/i.test(raw) && /^[A-Za-z][A-Za-z0-9+.-]+:/.test(raw)) return null;
    const path = raw.replace(/^sqlite:(\/\/)?/i, '');
    if (path === '' || path === ':memory:' || path.startsWith('file:')) {
      fail(
        'VALIDATION_FAILED',
        '`url` must name an SQLite database file (an in-memory database has no tables to read).',
      );
    }
    // The effective target is the file itself: symlinks resolved, so the directory check sees where it really is.
    const file = realPath(path);
    return { place: { kind: 'file', path: file }, display: `sqlite:${file}`, open: () => openSqlite(file) };
  },
});

async function openSqlite(path: string): Promise<SourceDb> {
  const db = await asSourceError(
    'cannot open the SQLite database',
    [],
    () => new SqliteDatabase(path, { readonly: true, fileMustExist: true }),
  );
  const read = <T>(what: string, fn: () => T) => asSourceError(what, [], fn);
  // Reading the catalog once now reports a file that is not a database here, not in the first table read.
  await read('cannot read the SQLite database', () => db.prepare('select count(*) from sqlite_schema').get()).catch(
    (e: unknown) => {
      db.close();
      throw e;
    },
  );
  return {
    listTables: () =>
      read('cannot read the SQLite catalog', () =>
        (
          db
            .prepare(
              `select name from sqlite_schema where type = 'table' and name not like 'sqlite\\_%' escape '\\' and sql not like 'CREATE VIRTUAL%' order by name`,
            )
            .all() as { name: string }[]
        ).map((r) => r.name),
      ),
    readTables: (names) =>
      read('cannot read the SQLite catalog', () => {
        const out = new Map<string, SourceTable>();
        const exists = db.prepare(`select 1 from sqlite_schema where type = 'table' and name = ?`);
        const columns = db.prepare(`select name, type, "notnull" as nn, pk from pragma_table_info(?) order by cid`);
        for (const name of names) {
          if (!exists.get(name)) continue;
          const cols = columns.all(name) as { name: string; type: string; nn: number; pk: number }[];
          out.set(name, {
            name,
            description: null,
            columns: cols.map((c, i) => ({
              name: c.name,
              data_type: c.type,
              not_null: c.nn === 1 || c.pk > 0,
              is_primary_key: c.pk > 0,
              ordinal: i + 1,
              description: null,
            })),
          });
        }
        return out;
      }),
    async close() {
      db.close();
    },
  };
}
