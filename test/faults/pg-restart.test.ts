import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { assertCountersMatchOutcomes, assertEachChangedOnce } from '../helpers/batch-invariants.ts';
import { DIALECTS, openTestDb, type TestDb } from '../helpers/db.ts';
import { clusterUnavailable, startCluster, type Cluster } from '../helpers/pg-cluster.ts';
import { cleanupProcesses, healthy, stop, tail, waitUntil, type Server } from '../helpers/processes.ts';
import { httpClient } from '../helpers/service.ts';
import { seededRandom, serve, SIZES, steadyRate, submitOrderAll, insideNextSlice } from './fixture.ts';
import { waitForBatch } from '../helpers/wait.ts';
import { seedApproved } from '../helpers/worlds.ts';

/**
 * PostgreSQL itself goes away under a running batch: a fast restart (every session terminated with 57P01), then
 * a crash (`-m immediate`: no goodbye, crash recovery at start) followed by a few seconds with nothing listening.
 * The one `batchgate serve` process must live through both, answer again once the database is back, and finish
 * the batch with every item changed once. The cluster is the test's own: the shared one is never touched.
 */

/** While the database is down the service must stay up and say so; long enough for several polls and slices. */
const OUTAGE_MS = 3_000;
/** Far beyond the test's own timeout. */
const LONG_LEASE_MS = 600_000;
/** From the database being back to the service answering /healthz 200 (the pool reconnects on demand). */
const RECONNECT_MS = 20_000;

const unavailable = DIALECTS.includes('postgres') ? cluster() : 'PostgreSQL not in DIALECTS';

/** In CI a missing initdb fails the test (below) instead of skipping it. */
function cluster(): string | false {
  try {
    return clusterUnavailable();
  } catch {
    return false;
  }
}

/** The test's own pool sees the restart too: wait until it answers again before reading through it. */
async function untilDbAnswers(db: TestDb, timeoutMs = RECONNECT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await db.ctx.db.selectFrom('batch').select('id').limit(1).execute();
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Sessions whose last statement is the service's LISTEN for this schema: its notifier, there to wake workers. */
async function listeners(db: TestDb): Promise<number> {
  const { rows } = await sql<{
    n: number;
  }>`select count(*)::int as n from pg_stat_activity where query = ${`listen batchgate_work_${db.schema}`}`.execute(
    db.ctx.db,
  );
  return rows[0]!.n;
}

describe('postgres: faults: PostgreSQL restarted and crashed under a running batch', { skip: unavailable }, () => {
  let pg: Cluster | undefined;
  let db: TestDb | undefined;
  before(async () => {
    clusterUnavailable(); // throws in CI when initdb is missing
    pg = await startCluster();
    db = await openTestDb('postgres', { pgUrl: pg.url });
  });
  after(async () => {
    await cleanupProcesses();
    await db?.close().catch(() => {});
    await pg?.destroy();
  });

  it(
    'one server process reconnects after each, and the batch completes with every item changed once',
    { timeout: 180_000 },
    async (t) => {
      assert.ok(pg && db);
      const random = seededRandom(t);
      const seeded = await seedApproved(db, SIZES.items);
      // Nothing is killed here, so no lease should ever need to lapse: a long one turns a chunk left leased by a
      // failed slice into a stall this test sees (the batch could not finish before it expires).
      const server: Server = await serve(db, { env: { BATCHGATE_LEASE_MS: String(LONG_LEASE_MS) } });
      const api = httpClient(server.base, seeded.token, 10_000);
      const batch = await submitOrderAll(api, seeded.workspaceId, { max_rate: steadyRate(SIZES.items) });

      const faults: [number, string, () => Promise<void>][] = [
        [0.3, 'pg_ctl restart -m fast', () => pg!.ctl('restart', '-m', 'fast')],
        [
          0.6,
          `pg_ctl stop -m immediate, ${OUTAGE_MS} ms down, start`,
          async () => {
            await pg!.ctl('stop', '-m', 'immediate');
            // Down: the process stays up and answers, /healthz says the database is not there.
            const deadline = Date.now() + OUTAGE_MS;
            while (Date.now() < deadline) {
              const res = await fetch(`${server.base}/healthz`, { signal: AbortSignal.timeout(5_000) });
              assert.equal(res.status, 503, `healthz with the database down: ${res.status} ${await res.text()}`);
              await new Promise((r) => setTimeout(r, 250));
            }
            await pg!.ctl('start');
          },
        ],
      ];
      for (const [fraction, what, fault] of faults) {
        const before = await waitForBatch(db, batch.id, { until: (b) => b.succeeded >= SIZES.items * fraction });
        await insideNextSlice(db, batch.id, random);
        const at = Date.now();
        await fault();
        assert.ok(!server.exited(), `the server died on ${what}:\n${tail(server.stdout() + server.stderr())}`);
        await waitUntil(`/healthz 200 after ${what}`, server, () => healthy(server.base), RECONNECT_MS);
        t.diagnostic(`${what} at ${before.succeeded}/${before.total}: answering again after ${Date.now() - at} ms`);
        await untilDbAnswers(db);
        const mid = await assertCountersMatchOutcomes(db, batch.id);
        assert.equal(mid.state, 'running', `the batch goes on after ${what}: ${JSON.stringify(mid)}`);
        // Progress resumes: a worker loop that died on the connection error would leave the batch where it is.
        await waitForBatch(db, batch.id, {
          until: (b) => b.succeeded > mid.succeeded,
          timeoutMs: RECONNECT_MS,
          pollMs: 50,
        });
        // And the service listens again: other processes' submits wake its worker, not only its next idle poll.
        await waitUntil(`LISTEN again after ${what}`, server, async () => (await listeners(db!)) === 1, RECONNECT_MS);
      }

      const done = await waitForBatch(db, batch.id, {
        until: (b) => b.state !== 'running' && b.state !== 'queued',
        timeoutMs: 120_000,
        pollMs: 50,
      }).catch(async (e) => {
        const open = await db!.ctx.db
          .selectFrom('work_chunk')
          .selectAll()
          .where('batch_id', '=', batch.id)
          .where('state', '<>', 'done')
          .execute();
        throw new Error(
          `${e.message}\nchunks not done: ${JSON.stringify(open)}\nserver log:\n${tail(server.stdout() + server.stderr())}`,
        );
      });
      assert.equal(done.state, 'succeeded', JSON.stringify(done));
      assert.ok(!server.exited(), 'the same server process throughout');
      const chunks = await db.ctx.db
        .selectFrom('work_chunk')
        .select(['state', 'attempts'])
        .where('batch_id', '=', batch.id)
        .execute();
      assert.deepEqual([...new Set(chunks.map((c) => c.state))], ['done']);
      // An outage is not the chunks' fault: none may come nearer to MAX_CHUNK_ATTEMPTS (after which its items fail).
      assert.deepEqual(
        [...new Set(chunks.map((c) => c.attempts))],
        [1],
        'each chunk claimed once, as far as its attempts count',
      );
      await assertEachChangedOnce(db, seeded.ids, [batch.id]);
      const seen = await api.get(`/api/v1/workspaces/${seeded.workspaceId}/batches/${batch.id}`);
      assert.deepEqual([seen.status, seen.body.state, seen.body.succeeded], [200, 'succeeded', SIZES.items]);
      await stop(server, 15_000);
    },
  );
});
