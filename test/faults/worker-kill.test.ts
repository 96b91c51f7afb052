import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assertCountersMatchOutcomes, assertEachChangedOnce } from '../helpers/batch-invariants.ts';
import { DIALECTS } from '../helpers/db.ts';
import { stop } from '../helpers/processes.ts';
import { httpClient, type Client } from '../helpers/service.ts';
import {
  crew,
  killPoints,
  seededRandom,
  serve,
  SIZES,
  steadyRate,
  submitOrderAll,
  suiteDb,
  insideNextSlice,
  worker,
} from './fixture.ts';
import { waitForBatch } from '../helpers/wait.ts';
import { seedApproved } from '../helpers/worlds.ts';

/**
 * The scale-out shape (PostgreSQL): an API node without a worker and two `batchgate worker` processes. One of
 * the workers, picked at random, is SIGKILLed at random points and started again; the other takes its chunk over
 * once the lease lapses. The API node must answer throughout, as if nothing happened.
 */

/** Reads the API node keeps doing while workers die: every one must answer 200. */
function keepReading(api: Client, paths: string[]): { stop(): Promise<{ reads: number; failures: string[] }> } {
  let running = true;
  let reads = 0;
  const failures: string[] = [];
  const loop = (async () => {
    while (running) {
      for (const path of paths) {
        const r = await api.get(path).catch((e: unknown) => ({ status: 0, body: String(e) }));
        reads++;
        if (r.status !== 200) failures.push(`${path}: ${r.status} ${JSON.stringify(r.body)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { reads, failures };
    },
  };
}

describe(
  'postgres: faults: batchgate worker processes SIGKILLed during a large batch',
  { skip: !DIALECTS.includes('postgres') && 'PostgreSQL not in DIALECTS' },
  () => {
    const suite = suiteDb('postgres');

    it(
      `finishes ${SIZES.items} items across ${SIZES.kills} worker kills while the API node keeps answering`,
      { timeout: 180_000 },
      async (t) => {
        const db = suite();
        const random = seededRandom(t);
        const seeded = await seedApproved(db, SIZES.items);
        const server = await serve(db, { args: ['serve', '--no-worker'] });
        const workers = crew();
        await Promise.all([workers.launch(() => worker(db)), workers.launch(() => worker(db))]);
        const api = httpClient(server.base, seeded.token, 10_000);
        const batch = await submitOrderAll(api, seeded.workspaceId, { max_rate: steadyRate(SIZES.items) });
        const ws = `/api/v1/workspaces/${seeded.workspaceId}`;
        const reader = keepReading(api, [
          '/healthz',
          `${ws}/batches/${batch.id}`,
          `${ws}/batches/${batch.id}/items?state=succeeded`,
        ]);
        try {
          for (const at of killPoints(SIZES.items, SIZES.kills, random)) {
            await waitForBatch(db, batch.id, { until: (b) => b.succeeded >= at });
            await insideNextSlice(db, batch.id, random);
            // Progress was made, so a worker is up.
            const victim = await workers.killOne(random);
            const mid = await assertCountersMatchOutcomes(db, batch.id);
            assert.equal(mid.state, 'running', `killed mid-batch: ${JSON.stringify(mid)}`);
            t.diagnostic(
              `worker pid ${victim.child.pid} killed at ${mid.succeeded}/${mid.total}; ${workers.live().length} left running`,
            );
          }
          const done = await waitForBatch(db, batch.id, {
            until: (b) => b.state !== 'running' && b.state !== 'queued',
            timeoutMs: 120_000,
            pollMs: 50,
          });
          assert.equal(done.state, 'succeeded', JSON.stringify(done));
        } finally {
          // Also on failure: its timers would keep the test process alive.
          const { reads, failures } = await reader.stop();
          assert.deepEqual(failures.slice(0, 5), [], `${failures.length} of ${reads} reads failed while workers died`);
        }
        assert.ok(!server.exited(), 'the API node ran throughout');
        await assertEachChangedOnce(db, seeded.ids, [batch.id]);
        await Promise.all([...(await workers.settled()), server].map((p) => stop(p, 15_000)));
      },
    );
  },
);
