import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { assertCountersMatchOutcomes, assertEachChangedOnce } from '../helpers/batch-invariants.ts';
import { DIALECTS, type TestDb } from '../helpers/db.ts';
import { kill, runBatchgate, stop, waitUntil, type Run } from '../helpers/processes.ts';
import { httpClient } from '../helpers/service.ts';
import { dbEnv, serve, submitOrderAll, suiteDb } from './fixture.ts';
import { waitForBatch } from '../helpers/wait.ts';
import { seedApproved } from '../helpers/worlds.ts';

/**
 * A worker killed at a point chosen for sure, not by chance: in the middle of a slice, after it changed its items,
 * wrote their history and their outcomes, and before its transaction commits. The test holds the batch row
 * FOR NO KEY UPDATE, which lets a slice run up to its counter update and stops it there (the slice's own KEY SHARE
 * hold on the row does not conflict); it waits until the worker's connection is blocked on exactly that update,
 * then SIGKILLs the worker. A slice that ran outside one transaction leaves items changed with counters that do
 * not add up; inside one, PostgreSQL rolls all of it back and the next worker runs those items once.
 * PostgreSQL only: SQLite has no row locks to hold a slice with from outside.
 */
describe(
  'postgres: faults: a worker SIGKILLed inside a slice, before its commit',
  { skip: !DIALECTS.includes('postgres') && 'PostgreSQL not in DIALECTS' },
  () => {
    const suite = suiteDb('postgres');
    const KILLS = 3;

    /** `batchgate worker` with one chunk loop, so the one slice in flight is its only transaction. */
    async function oneLoopWorker(db: TestDb): Promise<Run> {
      const run = runBatchgate(['worker'], dbEnv(db, { LOG_LEVEL: 'info', BATCHGATE_WORKER_CONCURRENCY: '1' }));
      await waitUntil('the worker running', run, () => run.stdout().includes('batchgate worker running'));
      return run;
    }

    it(
      `kills ${KILLS} workers each in the middle of a slice; every item still changes exactly once`,
      { timeout: 180_000 },
      async (t) => {
        const db = suite();
        const seeded = await seedApproved(db, 6_000);
        const server = await serve(db, { args: ['serve', '--no-worker'] });
        const api = httpClient(server.base, seeded.token, 10_000);
        const batch = await submitOrderAll(api, seeded.workspaceId);
        const holder = new pg.Client({ connectionString: db.url });
        await holder.connect();
        await holder.query(`set search_path to ${db.schema}`);
        const me: number = (await holder.query('select pg_backend_pid() as pid')).rows[0].pid;
        let running = await oneLoopWorker(db);
        try {
          for (let k = 0; k < KILLS; k++) {
            // Held until the worker is blocked on it in the middle of a slice: then the slice holds its batch items'
            // rows (a probe FOR UPDATE NOWAIT on them fails), having written everything but its counters, uncommitted.
            // A claim blocked on the row instead (its charge updates the batch too) is let through and the hold taken
            // again.
            let tries = 0;
            for (let caught = false; !caught; tries++) {
              // A worker blocked on the row a hundred times, never holding its items: its slices are no transaction.
              assert.ok(tries < 100, 'the worker blocked on the batch row never inside a slice that holds its items');
              await holder.query('begin');
              await holder.query('select id from batch where id = $1 for no key update', [batch.id]);
              for (;;) {
                const r = await holder.query('select pid from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [
                  me,
                ]);
                if (r.rows.length) {
                  await holder.query('savepoint probe');
                  caught = await holder
                    .query("select seq from batch_item where batch_id = $1 and state = 'pending' for update nowait", [
                      batch.id,
                    ])
                    .then(
                      () => false,
                      (e: { code?: string }) => e.code === '55P03',
                    );
                  await holder.query('rollback to savepoint probe');
                  break;
                }
                assert.ok(!running.exited(), 'the worker is running');
                const { state } = (await holder.query('select state from batch where id = $1', [batch.id])).rows[0];
                assert.ok(
                  state === 'running' || state === 'queued',
                  `the batch ended (${state}) before the worker was caught inside a slice`,
                );
                await new Promise((res) => setTimeout(res, 5));
              }
              if (!caught) {
                await holder.query('commit');
                await new Promise((res) => setTimeout(res, 20));
              }
            }
            t.diagnostic(`kill ${k + 1}: caught inside a slice after ${tries} holds`);
            const before = await waitForBatch(db, batch.id, { until: () => true });
            await kill(running);
            await holder.query('commit');
            const after = await assertCountersMatchOutcomes(db, batch.id);
            assert.equal(after.succeeded, before.succeeded, 'nothing of the killed slice committed');
            assert.equal(after.state, 'running', `killed mid-batch: ${JSON.stringify(after)}`);
            running = await oneLoopWorker(db);
          }
          const done = await waitForBatch(db, batch.id, {
            until: (b) => b.state !== 'running' && b.state !== 'queued',
            timeoutMs: 120_000,
            pollMs: 50,
          });
          assert.equal(done.state, 'succeeded', JSON.stringify(done));
          await assertEachChangedOnce(db, seeded.ids, [batch.id]);
        } finally {
          await holder.query('rollback').catch(() => {});
          await holder.end();
        }
        await Promise.all([running, server].map((p) => stop(p, 15_000)));
      },
    );
  },
);
