import type { Kysely } from 'kysely';
import type { Schema } from './schema.ts';

/**
 * The application's database handle, on either dialect. In its own file so that open-db.ts and the modules it
 * assembles (bulk-writer.ts, query-limits.ts) name it without importing each other.
 */
export type Db = Kysely<Schema>;
