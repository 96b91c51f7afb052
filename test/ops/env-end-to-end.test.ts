/**
 * Settings docs/operations.md documents, set as an operator sets them: in the environment of the real `batchgate serve`,
 * with the behaviour observed from outside. A variable read but not passed on to the worker or the core fails
 * here, where a test that hands the option to an internal function cannot notice.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { dbEnv } from '../faults/fixture.ts';
import { describeEachDialect, openTestDb, type TestDb } from '../helpers/db.ts';
import { cleanupProcesses, serveProcess, stop, waitUntil, type Server } from '../helpers/processes.ts';
import { httpClient, startTestService } from '../helpers/service.ts';
import { dataartsWorld, insertEntities } from '../dataarts/helpers.ts';
import { waitForBatch } from '../helpers/wait.ts';
import { seedApproved } from '../helpers/worlds.ts';

describeEachDialect('settings from the environment reach the running service', (dialect) => {
  let db: TestDb;

  before(async () => {
    db = await openTestDb(dialect);
  });
  after(async () => {
    await cleanupProcesses();
    await db.close();
  });

  async function serve(env: Record<string, string>): Promise<Server> {
    return serveProcess(dbEnv(db, env));
  }

  it(
    'BATCHGATE_RETENTION_DAYS: the service purges the outcomes of batches finished longer ago',
    { timeout: 120_000 },
    async () => {
      // A finished batch, made by an in-process service on the same database, then aged 40 days.
      const setup = await startTestService(dialect, { db });
      const seeded = await seedApproved(setup.db, 3);
      const api = setup.client(seeded.token);
      const r = await api.post(`/api/v1/workspaces/${seeded.workspaceId}/batches`, {
        operation: 'action',
        action: 'order',
        target: { ids: seeded.ids },
      });
      await waitForBatch({ api, ws: seeded.workspaceId }, r.body.id);
      const fresh = await api.post(`/api/v1/workspaces/${seeded.workspaceId}/batches`, {
        operation: 'action',
        action: 'reopen',
        target: { ids: seeded.ids },
      });
      await waitForBatch({ api, ws: seeded.workspaceId }, fresh.body.id);
      await setup.close();
      const day = 86_400_000;
      await db.ctx.db
        .updateTable('batch')
        .set({ finished_at: Date.now() - 40 * day })
        .where('id', '=', r.body.id)
        .execute();

      const server = await serve({ BATCHGATE_RETENTION_DAYS: '30' });
      const purgedAt = async (id: string) =>
        (await db.ctx.db.selectFrom('batch').select('items_purged_at').where('id', '=', id).executeTakeFirstOrThrow())
          .items_purged_at;
      await waitUntil('the aged batch purged', server, async () => (await purgedAt(r.body.id)) !== null);
      const left = await db.ctx.db.selectFrom('batch_item').select('seq').where('batch_id', '=', r.body.id).execute();
      assert.equal(left.length, 0, "the aged batch's outcomes are gone");
      assert.equal(await purgedAt(fresh.body.id), null, 'a batch finished today is kept');
      await stop(server);
    },
  );

  it('BATCHGATE_SCHEDULE_UTC_OFFSET: a DataArts schedule_time is read in that zone', { timeout: 120_000 }, async () => {
    const setup = await startTestService(dialect, { db, worker: false });
    const world = await dataartsWorld(setup, 'tz', 'tzproj');
    await insertEntities(setup, world.ws, 'DIMENSION', [{ id: '7000000000000000001', name: 'tz1' }]);
    await setup.close();

    const server = await serve({ BATCHGATE_SCHEDULE_UTC_OFFSET: '+08:00' });
    const res = await fetch(`${server.base}/v1/tzproj/design/approvals/batch-publish`, {
      method: 'POST',
      headers: { 'x-auth-token': world.owner.token, workspace: world.ws, 'content-type': 'application/json' },
      body: JSON.stringify({
        biz_infos: [{ biz_id: '7000000000000000001', biz_type: 'DIMENSION' }],
        approver_user_id: world.approverId,
        approver_user_name: 'appr',
        fast_approval: true,
        schedule_time: '30_18',
      }),
    });
    const body = (await res.json()) as any;
    assert.equal(res.status, 200, JSON.stringify(body));
    const batch = await db.ctx.db
      .selectFrom('batch')
      .select(['state', 'start_at'])
      .where('id', '=', body.data.value.group_id)
      .executeTakeFirstOrThrow();
    assert.equal(batch.state, 'scheduled');
    const at = new Date(Number(batch.start_at));
    // 18:30 at +08:00 is 10:30 UTC.
    assert.deepEqual([at.getUTCHours(), at.getUTCMinutes()], [10, 30]);
    await stop(server);
  });

  it(
    'BATCHGATE_WORKSPACE_CONCURRENCY: the claims of the service hold one workspace to that many chunks',
    { timeout: 120_000 },
    async () => {
      const setup = await startTestService(dialect, { db, worker: false });
      const seeded = await seedApproved(setup.db, 6000);
      await setup.close();

      const server = await serve({ BATCHGATE_WORKSPACE_CONCURRENCY: '1', BATCHGATE_WORKER_CONCURRENCY: '2' });
      const api = httpClient(server.base, seeded.token);
      const r = await api.post(`/api/v1/workspaces/${seeded.workspaceId}/batches`, {
        operation: 'action',
        action: 'order',
        target: { ids: seeded.ids },
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      let most = 0;
      for (;;) {
        const running = await db.ctx.db
          .selectFrom('work_chunk')
          .select(sql<number>`count(*)`.as('n'))
          .where('batch_id', '=', r.body.id)
          .where('state', '=', 'running')
          .executeTakeFirstOrThrow();
        most = Math.max(most, Number(running.n));
        const b = await db.ctx.db
          .selectFrom('batch')
          .select('state')
          .where('id', '=', r.body.id)
          .executeTakeFirstOrThrow();
        if (b.state === 'succeeded') break;
        assert.ok(!['failed', 'completed_with_errors', 'cancelled'].includes(b.state), b.state);
        await new Promise((res) => setTimeout(res, 5));
      }
      assert.ok(most <= 1, `at most one chunk of the workspace ran at once, saw ${most}`);
      // Every chunk was claimed under the limit: it took slot 0 of its workspace (without a limit no slot is taken).
      const slots = await db.ctx.db
        .selectFrom('work_chunk')
        .select('slot')
        .distinct()
        .where('batch_id', '=', r.body.id)
        .execute();
      assert.deepEqual(
        slots.map((s) => s.slot),
        [0],
      );
      await stop(server);
    },
  );
});
