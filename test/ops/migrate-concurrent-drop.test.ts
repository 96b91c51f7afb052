/**
 * PostgreSQL only: migrations of a schema succeed while other schemas of the same database are being dropped
 * (what parallel test files, or other tenants, do). Kysely's check for its bookkeeping table introspects every
 * schema; one dropped mid-check failed a migration with 3F000 in CI (src/db/migrate.ts).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import pg from 'pg';
import { openDb } from '../../src/db/open-db.ts';
import { migrate } from '../../src/db/migrate.ts';
import { createPgSchema, describeEachDialect, PG_URL } from '../helpers/db.ts';

describeEachDialect('migrations beside schemas being dropped', (dialect) => {
  it(
    'every migration succeeds while 120 other schemas, each with a table, are dropped',
    { skip: dialect !== 'postgres' },
    async () => {
      const others = Array.from({ length: 120 }, (_, i) => `t_drop_${process.pid}_${i}`);
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      for (const o of others) await admin.query(`create schema ${o}; create table ${o}.t (id int)`);
      const ours = await Promise.all(Array.from({ length: 6 }, () => createPgSchema()));
      let dropping = true;
      const dropper = (async () => {
        for (const o of others) await admin.query(`drop schema ${o} cascade`);
        dropping = false;
      })();
      const results: string[] = [];
      try {
        while (dropping) {
          await Promise.all(
            ours.map(async (o) => {
              const opened = openDb(PG_URL!, { schema: o.schema, poolSize: 2 });
              try {
                await migrate(opened);
                results.push('ok');
              } finally {
                await opened.close();
              }
            }),
          );
        }
      } finally {
        await dropper;
        await admin.end();
        for (const o of ours) await o.drop();
      }
      assert.ok(results.length >= 6);
    },
  );
});
