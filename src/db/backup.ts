import { closeSync, copyFileSync, existsSync, fsyncSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sqliteCapabilities } from './capabilities.ts';
import { knownMigrations } from './migrate.ts';

/** A backup or restore that was refused, with the reason to show; nothing was changed. */
export class BackupRefused extends Error {}

export interface SqliteFileSummary {
  file: string;
  bytes: number;
  integrity: 'ok';
  /** The last migration the database has. */
  migration: string | null;
  counts: { batches: number; batch_items: number; items: number };
}

/** Tables whose row counts a backup and a restore report, so an operator can compare them with the service. */
function summarize(db: SqliteDatabase.Database, file: string): SqliteFileSummary {
  const count = (table: string) => Number((db.prepare(`select count(*) as n from ${table}`).get() as { n: number }).n);
  const last = db.prepare('select name from kysely_migration order by name desc limit 1').get() as
    { name: string } | undefined;
  return {
    file,
    bytes: statSync(file).size,
    integrity: 'ok',
    migration: last?.name ?? null,
    counts: { batches: count('batch'), batch_items: count('batch_item'), items: count('item') },
  };
}

/**
 * Checks a batchgate SQLite file whole: `PRAGMA integrity_check` must answer ok, and every migration it has must be
 * one this code knows (else a newer batchgate wrote it). `journalMode` sets the file's journal mode on the way:
 * a backup is kept as one self-contained file (`delete`), a restored database goes back to the service's `wal`.
 * The file is opened read-write but only read: a read-only handle on a WAL file would leave -wal/-shm files behind.
 */
export function verifySqliteFile(file: string, journalMode?: 'delete' | 'wal'): SqliteFileSummary {
  if (!existsSync(file)) throw new BackupRefused(`${file} does not exist.`);
  // A -wal beside it holds committed pages not yet in the file: it is open, or was not closed cleanly.
  if (existsSync(`${file}-wal`))
    throw new BackupRefused(
      `${file}-wal exists: ${file} is open or was not closed cleanly. Close whatever has it open (or open and close it once with sqlite3) first.`,
    );
  let db: SqliteDatabase.Database;
  try {
    db = new SqliteDatabase(file, { fileMustExist: true });
  } catch (e) {
    throw new BackupRefused(`${file} cannot be opened as an SQLite database: ${(e as Error).message}`);
  }
  try {
    let rows: { integrity_check: string }[];
    try {
      if (journalMode) db.pragma(`journal_mode = ${journalMode}`);
      rows = db.pragma('integrity_check') as { integrity_check: string }[];
    } catch (e) {
      throw new BackupRefused(`${file} is not a readable SQLite database: ${(e as Error).message}`);
    }
    const problems = rows.map((r) => r.integrity_check).filter((r) => r !== 'ok');
    if (problems.length)
      throw new BackupRefused(`${file} failed its integrity check: ${problems.slice(0, 5).join('; ')}`);
    const hasMigrations = db
      .prepare("select 1 from sqlite_master where type = 'table' and name = 'kysely_migration'")
      .get();
    if (!hasMigrations) throw new BackupRefused(`${file} is not a batchgate database (it has no migrations table).`);
    const known = new Set(knownMigrations(sqliteCapabilities));
    const unknown = (db.prepare('select name from kysely_migration').all() as { name: string }[])
      .map((r) => r.name)
      .filter((n) => !known.has(n));
    if (unknown.length)
      throw new BackupRefused(`${file} was migrated by a newer batchgate (${unknown.join(', ')}); use that version.`);
    return summarize(db, file);
  } finally {
    db.close();
  }
}

function fsyncFile(file: string): void {
  const fd = openSync(file, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * An online backup of the SQLite database at `source` into the new file `dest`, safe while the service writes.
 * SQLite's backup API copies every page in one step (the progress callback asks for all of them), which reads one
 * consistent snapshot: in WAL mode the service's writers are not blocked meanwhile, and with a single step a write
 * from another connection cannot make the copy restart over and over. It is written to a temporary name, checked,
 * and only then renamed to `dest`, so `dest` is always a whole, verified database.
 */
export async function backupSqlite(source: string, dest: string): Promise<SqliteFileSummary> {
  if (source === ':memory:') throw new BackupRefused('An in-memory database has nothing to back up.');
  if (!existsSync(source)) throw new BackupRefused(`No database at ${source}.`);
  if (existsSync(dest)) throw new BackupRefused(`${dest} exists; a backup never overwrites a file, choose a new name.`);
  if (!existsSync(dirname(dest) || '.')) throw new BackupRefused(`The directory of ${dest} does not exist.`);
  const partial = `${dest}.partial-${process.pid}`;
  const db = new SqliteDatabase(source, { fileMustExist: true });
  try {
    // The service's writers hold the lock for milliseconds (one slice); wait for them rather than fail.
    db.pragma('busy_timeout = 5000');
    await db.backup(partial, { progress: ({ totalPages }) => totalPages });
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  } finally {
    db.close();
  }
  try {
    const summary = verifySqliteFile(partial, 'delete');
    fsyncFile(partial);
    renameSync(partial, dest);
    return { ...summary, file: dest };
  } catch (e) {
    rmSync(partial, { force: true });
    throw e;
  }
}

/**
 * Refuses while another process has the SQLite database open. In WAL mode every open connection holds a shared lock
 * on the shared-memory file for as long as it is open, and leaving WAL mode needs all of them gone: if switching
 * to the rollback journal does not take, someone else has the database. The returned handle then holds an
 * exclusive lock, so nothing opens the old file while it is being replaced.
 */
function lockUnused(target: string): SqliteDatabase.Database {
  const db = new SqliteDatabase(target, { fileMustExist: true });
  try {
    db.pragma('busy_timeout = 0');
    let mode: unknown;
    try {
      mode = db.pragma('journal_mode = delete', { simple: true });
    } catch {
      mode = 'busy';
    }
    if (mode !== 'delete')
      throw new BackupRefused(
        `${target} is in use by another process (is batchgate running?). Stop the service first.`,
      );
    db.pragma('locking_mode = exclusive');
    db.exec('begin exclusive');
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Replaces the SQLite database at `target` with the backup at `backup`, with the service stopped. What it adds over
 * copying the file by hand: the backup is integrity-checked (and refused if a newer batchgate wrote it) before
 * anything changes; a database still open by a running service is refused; the old database is kept beside it
 * (`<target>.before-restore-<time>`) and its `-wal`/`-shm` files go with it, since a stale WAL left next to the
 * restored file would be replayed into it and corrupt it.
 */
export function restoreSqlite(
  backup: string,
  target: string,
  now: number = Date.now(),
): SqliteFileSummary & { previous: string | null } {
  if (target === ':memory:') throw new BackupRefused('Cannot restore into an in-memory database.');
  verifySqliteFile(backup);
  const stamp = new Date(now).toISOString().replace(/[:.]/g, '-');
  const previous = `${target}.before-restore-${stamp}`;
  const staging = `${target}.restoring-${process.pid}`;
  const lock = existsSync(target) ? lockUnused(target) : null;
  let kept: string | null = null;
  try {
    copyFileSync(backup, staging);
    // The service runs the database in WAL mode: the restored file starts as it would leave it.
    const summary = verifySqliteFile(staging, 'wal');
    fsyncFile(staging);
    for (const suffix of ['', '-wal', '-shm', '-journal']) {
      if (existsSync(`${target}${suffix}`)) {
        renameSync(`${target}${suffix}`, `${previous}${suffix}`);
        if (suffix === '') kept = previous;
      }
    }
    renameSync(staging, target);
    return { ...summary, file: target, previous: kept };
  } catch (e) {
    rmSync(staging, { force: true });
    throw e;
  } finally {
    lock?.close();
  }
}
