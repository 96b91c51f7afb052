import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Capabilities } from './capabilities.ts';
import type { OpenDb } from './open-db.ts';
import { foundation } from './migrations/0001-foundation.ts';
import { engine } from './migrations/0002-engine.ts';
import { batchGroups } from './migrations/0003-batch-groups.ts';
import { dataarts } from './migrations/0004-dataarts.ts';
import { itemDrafts } from './migrations/0005-item-drafts.ts';
import { retention } from './migrations/0006-retention.ts';
import { dataConnections } from './migrations/0007-data-connections.ts';
import { fairSchedulingAndRevert } from './migrations/0008-fair-scheduling-and-revert.ts';
import { webhooks } from './migrations/0009-webhooks.ts';
import { itemIndex } from './migrations/0010-item-index.ts';
import { actingAs } from './migrations/0011-acting-as.ts';
import { tokenExpiry } from './migrations/0012-token-expiry.ts';

/** Forward-only and numbered; a new file per change, never an edit of a landed one. */
function migrations(caps: Capabilities): Record<string, Migration> {
  return {
    '0001-foundation': foundation(caps),
    '0002-engine': engine(caps),
    '0003-batch-groups': batchGroups(),
    '0004-dataarts': dataarts(),
    '0005-item-drafts': itemDrafts(caps),
    '0006-retention': retention(),
    '0007-data-connections': dataConnections(),
    '0008-fair-scheduling-and-revert': fairSchedulingAndRevert(caps),
    '0009-webhooks': webhooks(),
    '0010-item-index': itemIndex(caps),
    '0011-acting-as': actingAs(caps),
    '0012-token-expiry': tokenExpiry(),
  };
}

/** The names of every migration this code knows, in order (a database with others was made by a newer batchgate). */
export function knownMigrations(caps: Capabilities): string[] {
  return Object.keys(migrations(caps));
}

/**
 * Runs pending migrations (under an advisory lock on PostgreSQL, so concurrent starts are safe) and refuses a
 * database that has migrations this code does not know: it was written by a newer batchgate. `upTo` stops after
 * that migration (tests of a migration's effect on data written before it).
 */
export async function migrate(opened: OpenDb, upTo?: string): Promise<string[]> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(opened.caps) };
  // Kysely looks for its bookkeeping tables in every schema unless told which one: another schema's tables
  // (another tenant database user, or parallel tests) would make it skip creating ours.
  const schema = opened.caps.dialect === 'postgres' ? (opened.schema ?? 'public') : undefined;
  if (opened.schema) await createSchema(opened);
  const migrator = new Migrator({ db: opened.db, provider, ...(schema ? { migrationTableSchema: schema } : {}) });
  const { error, results } = upTo === undefined ? await migrator.migrateToLatest() : await migrator.migrateTo(upTo);
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

/** DATABASE_SCHEMA names a schema that may not exist yet; two processes starting at once may both create it. */
async function createSchema(opened: OpenDb): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(opened.schema!)}`.execute(opened.db);
  } catch (e) {
    // `if not exists` still races in the catalog: the loser gets a unique violation, and the schema exists.
    if (!['23505', '42P06'].includes((e as { code?: string }).code ?? '')) throw e;
  }
}
