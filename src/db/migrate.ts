import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import type { Capabilities } from './capabilities.ts';
import type { Db } from './open-db.ts';
import { foundation } from './migrations/0001-foundation.ts';

/** Forward-only and numbered; a new file per change, never an edit of a landed one. */
function migrations(caps: Capabilities): Record<string, Migration> {
  return {
    '0001-foundation': foundation(caps),
  };
}

/**
 * Runs pending migrations (under an advisory lock on PostgreSQL, so concurrent starts are safe) and refuses a
 * database that has migrations this code does not know: it was written by a newer batchgate.
 */
export async function migrate(db: Db, caps: Capabilities): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(caps) };
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const msg = error instanceof Error ? error.message : String(error);
    if (/corrupted migrations/.test(msg)) {
      throw new Error(
        `The database was migrated by a newer batchgate (${msg}). Upgrade batchgate or point DATABASE_URL elsewhere.`,
        { cause: error },
      );
    }
    throw error;
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
