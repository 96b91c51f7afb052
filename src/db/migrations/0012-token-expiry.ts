import type { Kysely, Migration } from 'kysely';

/**
 * API tokens may expire (`expires_at`, epoch milliseconds; null: never). Checked on every request, cached or not
 * (src/core/auth.ts); revoking a token deletes its row.
 */
export function tokenExpiry(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('api_token').addColumn('expires_at', 'bigint').execute();
    },
  };
}
