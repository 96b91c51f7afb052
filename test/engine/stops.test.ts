/**
 * Pause and cancel are stops: once either has answered, no item of the batch changes any more, whatever slices
 * the workers had in flight. And concurrent submits with one Idempotency-Key make one batch, answered to every
 * caller as a replay of it.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import pg from 'pg';
import { assertBatchSettled, waitForChunksReleased } from '../helpers/batch-invariants.ts';
import { describeEachDialect, type TestDb } from '../helpers/db.ts';
import { httpClient, type Client, type TestService } from '../helpers/service.ts';
import { waitForBatch } from '../helpers/wait.ts';
import { seededService, type Seeded } from '../helpers/worlds.ts';

describeEachDialect('pause and cancel stop the batch', (dialect) => {
  let s: TestService;
  let seeded: Seeded;
  let api: Client;
  const base = () => `/api/v1/workspaces/${seeded.workspaceId}`;

  before(async () => {
    // Enough items that the workers are mid-slice when the control arrives (slices are 1000 items).
    ({ s, seeded, api } = await seededService(dialect, 12_000));
  });
  after(() => s.close());

  /** The batch's items changed so far: each one the `order` action succeeded on is at rev_no 2. */
  async function changedItems(batchId: string): Promise<number> {
    const r = await s.db.ctx.db
      .selectFrom('item')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('rev_no', '>', 1)
      .where('id', 'in', s.db.ctx.db.selectFrom('batch_item').select('target_id').where('batch_id', '=', batchId))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  async function run(action: 'order' | 'reopen', verb: 'pause' | 'cancel'): Promise<{ id: string; answer: any }> {
    const gate = dialect === 'postgres' ? await itemLock(s.db, seeded.ids[2500]!) : null;
    try {
      // Throttled, so that while one slice is held the other worker loop cannot run every other chunk and end the
      // batch before the control arrives.
      const r = await api.post(`${base()}/batches`, {
        operation: 'action',
        action,
        max_rate: 4000,
        target: { ids: seeded.ids },
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const id: string = r.body.id;
      if (!gate) {
        await waitForBatch(s.db, id, { until: (b) => b.succeeded > 0 && b.pending > 0 });
        return { id, answer: await api.post(`${base()}/batches/${id}/${verb}`) };
      }
      const slice = await gate.blocked();
      let answered = false;
      const pending = api.post(`${base()}/batches/${id}/${verb}`).finally(() => (answered = true));
      await gate.untilWaitingOn(slice, () => answered);
      await gate.release();
      return { id, answer: await pending };
    } finally {
      await gate?.release();
    }
  }

  it('a paused batch changes no item after the pause answers, and resumes to the end', async () => {
    const { id, answer: p } = await run('order', 'pause');
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.state, 'paused');
    assert.ok(p.body.pending > 0, 'paused mid-run');
    await waitForChunksReleased(s.db, id);
    const after = await waitForBatch(s.db, id, { until: () => true });
    assert.equal(after.state, 'paused');
    assert.equal(after.succeeded, p.body.succeeded, 'no slice committed after the pause answered');
    assert.equal(await changedItems(id), p.body.succeeded, 'no item changed after the pause answered');

    assert.equal((await api.post(`${base()}/batches/${id}/resume`)).status, 200);
    const done = await waitForBatch({ api, ws: seeded.workspaceId }, id, { states: ['succeeded'], timeoutMs: 120_000 });
    assert.equal(done.succeeded, seeded.ids.length);
    await assertBatchSettled(s.db, id);
  });

  it('a cancelled batch changes no item after the cancel answers, and its counters add up', async () => {
    // The same items again, now in `ordered`: `reopen` takes them back to `approved`.
    const { id, answer: c } = await run('reopen', 'cancel');
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.equal(c.body.state, 'cancelled');
    assert.ok(c.body.skipped > 0, 'cancelled mid-run');
    await waitForChunksReleased(s.db, id);
    const b = await assertBatchSettled(s.db, id);
    assert.equal(b.succeeded, c.body.succeeded, 'no slice committed after the cancel answered');
    assert.equal(b.skipped, c.body.skipped);
    const outcomes = await api.get(`${base()}/batches/${id}/items?state=skipped&limit=5`);
    assert.deepEqual(
      outcomes.body.items.map((i: any) => i.error_code),
      Array(5).fill('BATCH_CANCELLED'),
      'items never run read as skipped by the cancel',
    );
    // The cancel changed only the batch row; the workers' maintenance retires its chunks.
    for (;;) {
      const left = await s.db.ctx.db
        .selectFrom('work_chunk')
        .select('id')
        .where('batch_id', '=', id)
        .where('state', '<>', 'done')
        .execute();
      if (left.length === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
});

/** A PostgreSQL row lock on one item, held by a connection of the test's own, and what waits on it. */
async function itemLock(db: TestDb, itemId: string) {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  await c.query(`set search_path to ${db.schema}`);
  await c.query('begin');
  await c.query('select id from item where id = $1 for update', [itemId]);
  const me: number = (await c.query('select pg_backend_pid() as pid')).rows[0].pid;
  let released = false;
  /** The first backend found waiting on `pid`. */
  const waiterOn = async (pid: number): Promise<number | null> => {
    const r = await c.query('select pid from pg_stat_activity where $1 = any(pg_blocking_pids(pid))', [pid]);
    return r.rows[0]?.pid ?? null;
  };
  return {
    /** Waits until a backend (a worker's slice) blocks on the lock; answers its pid. */
    async blocked(): Promise<number> {
      for (;;) {
        const pid = await waiterOn(me);
        if (pid !== null) return pid;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    /** Waits until `done()` holds or a backend blocks behind `pid`. */
    async untilWaitingOn(pid: number, done: () => boolean): Promise<void> {
      while (!done() && (await waiterOn(pid)) === null) await new Promise((r) => setTimeout(r, 10));
    },
    async release(): Promise<void> {
      if (released) return;
      released = true;
      await c.query('commit');
      await c.end();
    },
  };
}

describeEachDialect('concurrent submits with one Idempotency-Key', (dialect) => {
  let s: TestService;
  let seeded: Seeded;
  let api: Client;

  before(async () => {
    ({ s, seeded } = await seededService(dialect, 50));
    const address = await s.app.listen({ port: 0, host: '127.0.0.1' });
    api = httpClient(address, seeded.token);
  });
  after(() => s.close());

  it('make one batch, and every caller gets it as the first one made it', async () => {
    const body = {
      operation: 'action',
      action: 'order',
      target: { datastore: seeded.ds.id, conditions: [{ id: 'status', search_value: ['approved'] }] },
      dry_run: true,
    };
    const url = `/api/v1/workspaces/${seeded.workspaceId}/batches`;
    for (let round = 0; round < 5; round++) {
      const key = `race-${round}`;
      const answers = await Promise.all(
        Array.from({ length: 16 }, () => api.post(url, body, { 'idempotency-key': key })),
      );
      assert.deepEqual(
        answers.filter((a) => a.status !== 202),
        [],
        'every concurrent submit answers 202, none 5xx',
      );
      const ids = new Set(answers.map((a) => a.body.id));
      assert.equal(ids.size, 1, `one batch for all: ${[...ids].join(', ')}`);
      assert.equal(
        answers.filter((a) => a.headers['idempotent-replayed'] !== 'true').length,
        1,
        'the others are replays',
      );
      const rows = await s.db.ctx.db
        .selectFrom('batch')
        .select('id')
        .where('workspace_id', '=', seeded.workspaceId)
        .where('idempotency_key', '=', key)
        .execute();
      assert.equal(rows.length, 1, 'exactly one batch exists for the key');
      // The replay answered later equals them.
      const replay = await api.post(url, body, { 'idempotency-key': key });
      assert.equal(replay.status, 202);
      assert.equal(replay.body.id, [...ids][0]);
    }
  });
});
