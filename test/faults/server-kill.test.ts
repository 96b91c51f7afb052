import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertCountersMatchOutcomes, assertEachChangedOnce } from '../helpers/batch-invariants.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { kill, stop } from '../helpers/processes.ts';
import { httpClient } from '../helpers/service.ts';
import {
  killPoints,
  seededRandom,
  serve,
  SIZES,
  steadyRate,
  submitOrderAll,
  suiteDb,
  insideNextSlice,
} from './fixture.ts';
import { waitForBatch } from '../helpers/wait.ts';
import { seedApproved } from '../helpers/worlds.ts';

/**
 * `batchgate serve` (API and embedded worker) SIGKILLed at random points of a large batch submitted over HTTP,
 * and started again on the same port: no handler runs, a slice in flight is cut anywhere. The batch must end,
 * every item changed exactly once.
 */
describeEachDialect('faults: the server SIGKILLed again and again during a large batch', (dialect) => {
  const suite = suiteDb(dialect);

  it(
    `finishes ${SIZES.items} items across ${SIZES.kills} kills, each item changed once`,
    { timeout: 180_000 },
    async (t) => {
      const db = suite();
      const random = seededRandom(t);
      const seeded = await seedApproved(db, SIZES.items);
      let server = await serve(db);
      const port = server.port;
      const batch = await submitOrderAll(httpClient(server.base, seeded.token), seeded.workspaceId, {
        max_rate: steadyRate(SIZES.items),
      });
      assert.equal(batch.total, SIZES.items);

      for (const at of killPoints(SIZES.items, SIZES.kills, random)) {
        await waitForBatch(db, batch.id, { until: (b) => b.succeeded >= at });
        await insideNextSlice(db, batch.id, random);
        await kill(server);
        const mid = await assertCountersMatchOutcomes(db, batch.id);
        assert.equal(mid.state, 'running', `killed mid-batch: ${JSON.stringify(mid)}`);
        assert.ok(mid.pending > 0);
        const down = Date.now();
        server = await serve(db, { port });
        t.diagnostic(`killed at ${mid.succeeded}/${mid.total}; answering again after ${Date.now() - down} ms`);
      }

      const done = await waitForBatch(db, batch.id, {
        until: (b) => b.state !== 'running' && b.state !== 'queued',
        timeoutMs: 120_000,
        pollMs: 50,
      });
      assert.equal(done.state, 'succeeded', JSON.stringify(done));
      // The restarted process answers with what the database holds.
      const seen = await httpClient(server.base, seeded.token).get(
        `/api/v1/workspaces/${seeded.workspaceId}/batches/${batch.id}`,
      );
      assert.equal(seen.status, 200);
      assert.deepEqual([seen.body.state, seen.body.succeeded, seen.body.pending], ['succeeded', SIZES.items, 0]);
      await assertEachChangedOnce(db, seeded.ids, [batch.id]);
      await stop(server, 15_000);
    },
  );
});
