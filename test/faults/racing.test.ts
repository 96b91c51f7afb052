import assert from 'node:assert/strict';
import { it } from 'node:test';
import { TERMINAL } from '../../src/core/states.ts';
import { assertEachChangedOnce } from '../helpers/batch-invariants.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { restartablePort, stop } from '../helpers/processes.ts';
import { httpClient } from '../helpers/service.ts';
import {
  crew,
  killPoints,
  seededRandom,
  serve,
  SIZES,
  steadyRate,
  suiteDb,
  insideNextSlice,
  worker,
} from './fixture.ts';
import { waitForBatches } from '../helpers/wait.ts';
import { seedApproved } from '../helpers/worlds.ts';

/**
 * Two batches submitted at once run the same action (`order`: approved → ordered) over the same items, the
 * second in reverse order, both throttled so their slices interleave, while processes are SIGKILLed: the server
 * on SQLite, the server or a worker process on PostgreSQL (where both run chunks, so the two batches meet on the
 * same rows). Every item is ordered exactly once: one batch records it succeeded, the other WRONG_STATUS.
 */

const KILLS = Math.max(1, SIZES.kills - 1);

describeEachDialect('faults: two batches racing on the same items under kills', (dialect) => {
  const suite = suiteDb(dialect);

  it(
    `orders each of ${SIZES.raceItems} items once across both batches and ${KILLS} kills`,
    { timeout: 180_000 },
    async (t) => {
      const db = suite();
      const random = seededRandom(t);
      const n = SIZES.raceItems;
      const seeded = await seedApproved(db, n);
      const procs = crew();
      // A killed server comes back on its port, so the clients' address stays right.
      const port = await restartablePort();
      await procs.launch(() => serve(db, { port }));
      if (dialect === 'postgres') await procs.launch(() => worker(db));

      const api = httpClient(`http://127.0.0.1:${port}`, seeded.token);
      const submit = (ids: string[]) =>
        api.post(`/api/v1/workspaces/${seeded.workspaceId}/batches`, {
          operation: 'action',
          action: 'order',
          target: { ids },
          max_rate: steadyRate(n),
        });
      const [a, b] = await Promise.all([submit(seeded.ids), submit([...seeded.ids].reverse())]);
      assert.deepEqual([a.status, b.status], [202, 202], JSON.stringify([a.body, b.body]));
      const ids = [a.body.id as string, b.body.id as string];
      const ran = (bs: { succeeded: number; failed: number }[]) => bs.reduce((s, x) => s + x.succeeded + x.failed, 0);

      for (const at of killPoints(2 * n, KILLS, random)) {
        const before = await waitForBatches(db, ids, (bs) => ran(bs) >= at);
        // Inside a slice of a batch still running (its slices and the other's interleave).
        const running = ids.filter((_, i) => !TERMINAL.includes(before[i]!.state));
        await insideNextSlice(db, running[Math.floor(random() * running.length)]!, random);
        const victim = await procs.killOne(random);
        const mid = await waitForBatches(db, ids, () => true);
        assert.ok(
          mid.some((x) => !TERMINAL.includes(x.state)),
          `killed mid-race: ${JSON.stringify(mid.map((x) => x.state))}`,
        );
        t.diagnostic(`killed pid ${victim.child.pid} with ${ran(mid)}/${2 * n} outcomes recorded`);
      }

      const done = await waitForBatches(db, ids, (bs) => bs.every((x) => TERMINAL.includes(x.state)), {
        timeoutMs: 120_000,
        pollMs: 50,
      });
      t.diagnostic(`outcomes: ${done.map((x) => `${x.succeeded} succeeded, ${x.failed} failed`).join('; ')}`);
      // Each batch settled (counters, history per outcome) and every item changed once across the two.
      await assertEachChangedOnce(db, seeded.ids, ids);
      const rows = await db.ctx.db
        .selectFrom('batch_item')
        .select(['target_id', 'batch_id', 'state', 'error_code'])
        .where('batch_id', 'in', ids)
        .execute();
      const byItem = new Map<string, string[]>();
      for (const r of rows)
        byItem.set(r.target_id, [
          ...(byItem.get(r.target_id) ?? []),
          r.state === 'failed' ? `failed ${r.error_code}` : r.state,
        ]);
      const odd = [...byItem].filter(([, outcomes]) => outcomes.sort().join() !== 'failed WRONG_STATUS,succeeded');
      assert.deepEqual(odd.slice(0, 5), [], `${odd.length} items without exactly one success and one WRONG_STATUS`);
      assert.equal(byItem.size, n);

      await Promise.all((await procs.settled()).map((p) => stop(p, 15_000)));
    },
  );
});
