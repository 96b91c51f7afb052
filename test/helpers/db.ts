import { randomBytes } from 'node:crypto';
import { describe } from 'node:test';
import pg from 'pg';
import type { Ctx } from '../../src/core/context.ts';
import { makeCtx } from '../../src/core/make-ctx.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openDb, type OpenDb } from '../../src/db/open-db.ts';
import type { Dialect } from '../../src/db/capabilities.ts';

/**
 * Which databases the suite runs on. `npm test` runs SQLite, and PostgreSQL too when TEST_PG_URL is set;
 * `.ci/run` runs `npm run test:pg` against a server it makes sure of. DIALECTS=sqlite,postgres narrows it.
 */
export const PG_URL = process.env.TEST_PG_URL ?? '';
export const DIALECTS: Dialect[] = (process.env.DIALECTS ?? (PG_URL ? 'sqlite,postgres' : 'sqlite'))
  .split(',')
  .map((d) => d.trim())
  .filter((d): d is Dialect => d === 'sqlite' || d === 'postgres');

if (DIALECTS.includes('postgres') && !PG_URL) throw new Error('DIALECTS includes postgres but TEST_PG_URL is not set');

export interface TestDb {
  dialect: Dialect;
  opened: OpenDb;
  ctx: Ctx;
  /** The URL (and schema) another process can open the same database with. */
  url: string;
  schema?: string;
  close(): Promise<void>;
}

/**
 * A fresh, migrated database for one test: an SQLite file of its own (WAL needs a file), or a PostgreSQL schema
 * of its own (on TEST_PG_URL, or on `pgUrl`: a cluster the test runs itself), dropped afterwards.
 */
export async function openTestDb(dialect: Dialect, opts: { file?: string; pgUrl?: string } = {}): Promise<TestDb> {
  if (dialect === 'sqlite') {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'bg-test-'));
    const url = opts.file ?? join(dir, 'test.db');
    const opened = openDb(url);
    await migrate(opened);
    return {
      dialect,
      opened,
      ctx: makeCtx(opened),
      url,
      async close() {
        await opened.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const pgUrl = opts.pgUrl ?? PG_URL;
  const { schema, drop } = await createPgSchema(pgUrl);
  const opened = openDb(pgUrl, { schema, poolSize: 5 });
  await migrate(opened);
  return {
    dialect,
    opened,
    ctx: makeCtx(opened),
    url: pgUrl,
    schema,
    async close() {
      await opened.close();
      await drop();
    },
  };
}

/** An empty PostgreSQL schema of the test's own on the server at `pgUrl` (TEST_PG_URL), and how to drop it. */
export async function createPgSchema(pgUrl = PG_URL): Promise<{ schema: string; drop(): Promise<void> }> {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const run = async (statement: string) => {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    try {
      await c.query(statement);
    } finally {
      await c.end();
    }
  };
  await run(`create schema ${schema}`);
  return { schema, drop: () => run(`drop schema if exists ${schema} cascade`) };
}

/** `describe` once per dialect, named `sqlite: …` / `postgres: …` (Kysely's DIALECTS loop). */
export function describeEachDialect(
  name: string,
  fn: (dialect: Dialect) => void,
  options: { skip?: string | false; timeout?: number } = {},
): void {
  for (const dialect of DIALECTS) describe(`${dialect}: ${name}`, options, () => fn(dialect));
}
