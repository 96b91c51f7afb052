import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Ctx } from '../../src/core/context.ts';
import { makeEngine } from '../../src/engine/engine.ts';
import { purgeFinishedItems } from '../../src/engine/retention.ts';
import { exits, runBatchgate } from '../cli/harness.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { PURCHASE_DS, startTestService, type Client, type TestService } from '../helpers/service.ts';
import { until, waitForBatch } from '../helpers/wait.ts';

const DAY = 86_400_000;

describeEachDialect('retention', (dialect) => {
  let s: TestService;
  let ws: string;
  let member: Client;
  const base = () => `/api/v1/workspaces/${ws}`;
  /** The service's context with the clock moved `days` ahead. */
  const inDays = (days: number): Ctx => ({ ...s.db.ctx, now: () => Date.now() + days * DAY });
  const rowsOf = async (batchId: string) => {
    const db = s.db.ctx.db;
    const count = async (table: 'batch_item' | 'batch_item_attempt' | 'work_chunk') =>
      Number(
        (
          await db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('batch_id', '=', batchId)
            .executeTakeFirstOrThrow()
        ).n,
      );
    return {
      items: await count('batch_item'),
      attempts: await count('batch_item_attempt'),
      chunks: await count('work_chunk'),
    };
  };

  async function items(n: number, status: string): Promise<string[]> {
    const r = await member.post(`${base()}/datastores/pr/items`, {
      items: Array.from({ length: n }, (_, i) => ({ title: `r${i}`, status })),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.ids;
  }
  async function finished(body: object): Promise<any> {
    const r = await member.post(`${base()}/batches`, body);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return waitForBatch({ api: member, ws }, r.body.id);
  }

  before(async () => {
    s = await startTestService(dialect);
    ws = (await s.root.post('/api/v1/workspaces', { name: 'R' })).body.id;
    member = (await s.user('member', ws, 'member')).api;
    assert.equal((await s.root.post(`${base()}/datastores`, PURCHASE_DS)).status, 201);
  });
  after(() => s.close());

  it(
    'purges the item rows of batches finished more than N days ago, keeps the batch and its counters, and says so',
    { timeout: 60_000 },
    async () => {
      const ok = await items(20, 'approved');
      const draft = await items(5, 'draft');
      // Failed once and retried, so it has earlier attempts too.
      let withErrors = await finished({ operation: 'action', action: 'order', target: { ids: [...ok, ...draft] } });
      assert.equal((await member.post(`${base()}/batches/${withErrors.id}/retry`)).status, 200);
      withErrors = await waitForBatch({ api: member, ws }, withErrors.id);
      assert.equal(withErrors.state, 'completed_with_errors');
      const clean = await finished({ operation: 'action', action: 'reopen', target: { ids: ok } });
      const paused = await member.post(`${base()}/batches`, {
        operation: 'action',
        action: 'touch',
        target: { ids: ok },
        start_at: '2999-01-01T00:00:00Z',
      });
      assert.equal((await member.post(`${base()}/batches/${paused.body.id}/pause`)).status, 200);
      const before = await rowsOf(withErrors.id);
      assert.deepEqual(before, { items: 25, attempts: 5, chunks: 1 });

      // 29 days on, nothing has aged out of a 30-day retention.
      assert.deepEqual(await purgeFinishedItems(inDays(29), 30), { batches: 0, rows: 0 });
      assert.equal((await member.get(`${base()}/batches/${withErrors.id}/items`)).status, 200);

      const later = inDays(31);
      const purged = await purgeFinishedItems(later, 30);
      assert.deepEqual(purged, { batches: 2, rows: 25 + 5 + 20 });
      assert.deepEqual(await rowsOf(withErrors.id), { items: 0, attempts: 0, chunks: 0 });
      assert.deepEqual(await rowsOf(clean.id), { items: 0, attempts: 0, chunks: 0 });
      assert.deepEqual(
        await rowsOf(paused.body.id),
        { items: 20, attempts: 0, chunks: 1 },
        'an unfinished batch keeps its rows',
      );

      const b = (await member.get(`${base()}/batches/${withErrors.id}`)).body;
      assert.deepEqual(
        [b.state, b.total, b.succeeded, b.failed, b.skipped, b.pending],
        ['completed_with_errors', 25, 20, 5, 0, 0],
        'counters kept',
      );
      const day31 = Date.parse(b.items_purged_at) - Date.now();
      assert.ok(day31 > 30.9 * DAY && day31 < 31.1 * DAY, 'purged at the (faked) now');
      assert.equal((await member.get(`${base()}/batches/${paused.body.id}`)).body.items_purged_at, null);
      const gone = await member.get(`${base()}/batches/${withErrors.id}/items?state=failed`);
      assert.equal(gone.status, 410);
      assert.equal(gone.body.error.code, 'ITEMS_PURGED');
      assert.match(gone.body.error.message, /purged on \d{4}-\d\d-\d\dT.*counters remain/);
      const retry = await member.post(`${base()}/batches/${withErrors.id}/retry`);
      assert.equal(retry.status, 410);
      assert.equal(retry.body.error.code, 'ITEMS_PURGED');

      assert.deepEqual(await purgeFinishedItems(later, 30), { batches: 0, rows: 0 }, 'a second pass finds nothing');
      assert.equal((await member.get(`${base()}/batches/${paused.body.id}/items`)).status, 200);
    },
  );

  it('purges in slices; a pass stopped between two resumes where it stopped, and the API never shows a half list', async () => {
    const ids = await items(35, 'approved');
    const b = await finished({ operation: 'action', action: 'order', target: { ids } });
    const stopped = await purgeFinishedItems(inDays(31), 30, { sliceRows: 10, stopping: (p) => p.rows >= 10 });
    assert.deepEqual(stopped, { batches: 0, rows: 10 }, 'one slice of 10, then stopped');
    assert.equal((await rowsOf(b.id)).items, 25);
    const meanwhile = await member.get(`${base()}/batches/${b.id}/items`);
    assert.equal(meanwhile.status, 410, 'marked before its first slice');
    const pending = await s.db.ctx.db
      .selectFrom('batch')
      .select('items_purge_pending')
      .where('id', '=', b.id)
      .executeTakeFirstOrThrow();
    assert.equal(pending.items_purge_pending, 1);

    // The next pass (any process, any day) finishes it first, in slices of 10.
    const resumed = await purgeFinishedItems(inDays(0.5), 30, { sliceRows: 10 });
    assert.deepEqual(resumed, { batches: 1, rows: 25 });
    assert.deepEqual(await rowsOf(b.id), { items: 0, attempts: 0, chunks: 0 });
    const done = await s.db.ctx.db
      .selectFrom('batch')
      .select('items_purge_pending')
      .where('id', '=', b.id)
      .executeTakeFirstOrThrow();
    assert.equal(done.items_purge_pending, 0);
  });

  it('runs from the worker periodically when BATCHGATE_RETENTION_DAYS is set', { timeout: 30_000 }, async () => {
    const ids = await items(3, 'approved');
    const b = await finished({ operation: 'action', action: 'order', target: { ids } });
    // A second engine on the same database whose clock is 40 days ahead: its worker's purge sees the batch aged.
    const engine = await makeEngine(inDays(40), s.db.opened);
    try {
      engine.startWorker({ retentionDays: 30, retentionEveryMs: 50, idlePollMs: 50 });
      await until(
        'the worker to purge the batch',
        async () => (await member.get(`${base()}/batches/${b.id}`)).body.items_purged_at !== null,
        Boolean,
        { timeoutMs: 20_000 },
      );
      assert.equal((await rowsOf(b.id)).items, 0);
    } finally {
      await engine.close();
    }
  });

  it('batchgate purge: on demand from the command line', { timeout: 60_000 }, async () => {
    // The binary opens the test's own database: its SQLite file, or its PostgreSQL schema through DATABASE_SCHEMA.
    const env = { DATABASE_URL: s.db.url, ...(s.db.schema ? { DATABASE_SCHEMA: s.db.schema } : {}) };
    const ids = await items(4, 'approved');
    const b = await finished({ operation: 'action', action: 'order', target: { ids } });
    // Another process cannot share a faked clock: the batch is made old instead.
    await s.db.ctx.db
      .updateTable('batch')
      .set({ finished_at: Date.now() - 40 * DAY })
      .where('id', '=', b.id)
      .execute();
    const usage = exits(await runBatchgate(['purge'], { env }), 2);
    assert.match(usage.stderr, /--days/);
    const r = exits(await runBatchgate(['purge', '--days', '30', '--json'], { env: { ...env, LOG_LEVEL: 'info' } }), 0);
    assert.deepEqual(JSON.parse(r.stdout), { batches: 1, rows: 4, days: 30 });
    assert.match(r.stderr, /batch items purged/, 'log lines go to stderr');
    assert.equal((await member.get(`${base()}/batches/${b.id}/items`)).status, 410);
  });
});
