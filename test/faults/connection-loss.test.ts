import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import pg from 'pg';
import { isConnectionLoss } from '../../src/db/capabilities.ts';
import { DIALECTS, openTestDb, PG_URL, type TestDb } from '../helpers/db.ts';

/**
 * One connection of the pool cut by the server (pg_terminate_backend: what every session sees when PostgreSQL
 * restarts or fails over) while a transaction holds it between two statements, the moment the restart tests
 * can only hit by chance. Only this test's own backend is terminated; the shared server is not touched.
 */
describe(
  'postgres: faults: a connection cut inside a transaction',
  { skip: !DIALECTS.includes('postgres') && 'PostgreSQL not in DIALECTS' },
  () => {
    let db: TestDb;
    let admin: pg.Client;
    before(async () => {
      db = await openTestDb('postgres');
      admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
    });
    after(async () => {
      await admin.end();
      await db.close();
    });

    it('fails that transaction as a connection loss, and the process and the pool go on', async () => {
      const failure = await db.opened.db
        .transaction()
        .execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          await admin.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
          // The server's goodbye arrives while no statement runs: the client emits 'error' with only the pool's
          // listeners to catch it (without one, the process died here).
          await new Promise((r) => setTimeout(r, 300));
          await sql`select 1`.execute(trx);
        })
        .then(
          () => assert.fail('the transaction went on over a terminated connection'),
          (e: unknown) => e,
        );
      assert.ok(isConnectionLoss(failure), `a connection loss: ${String(failure)}`);
      assert.ok(db.opened.caps.isTransient(failure), 'the engine retries it');
      // The broken client left the pool: the next statements get a working connection.
      for (let i = 0; i < 3; i++)
        assert.deepEqual((await sql<{ n: number }>`select 1 as n`.execute(db.opened.db)).rows, [{ n: 1 }]);
    });
  },
);
