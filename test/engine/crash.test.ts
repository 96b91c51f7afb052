import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { findBatch } from '../../src/engine/batches.ts';
import { submitBatch } from '../../src/engine/submit.ts';
import { assertEachChangedOnce } from '../helpers/batch-invariants.ts';
import { describeEachDialect, openTestDb, type TestDb } from '../helpers/db.ts';
import { exited, spawnWorker } from '../helpers/worker-process.ts';
import { waitForBatch } from '../helpers/wait.ts';
import { seedApproved } from '../helpers/worlds.ts';

describeEachDialect('crash safety', (dialect) => {
  let db: TestDb;
  before(async () => {
    db = await openTestDb(dialect);
  });
  after(() => db.close());

  it('a worker SIGKILLed mid-batch, twice, loses nothing and repeats nothing', { timeout: 120_000 }, async () => {
    const n = 20_000;
    const { actor, ids } = await seedApproved(db, n);
    const { batch } = await submitBatch(
      db.ctx,
      actor,
      { operation: 'action', action: 'order', target: { ids } },
      { chunkSize: 500 },
    );
    for (const killAt of [2000, 9000]) {
      const w = await spawnWorker(db);
      await waitForBatch(db, batch.id, { until: (b) => b.succeeded >= killAt });
      w.kill('SIGKILL');
      await exited(w);
      const mid = (await findBatch(db.ctx, batch.id))!;
      assert.ok(mid.pending > 0, 'killed before the end');
      assert.equal(mid.state, 'running');
    }
    const w = await spawnWorker(db);
    const done = await waitForBatch(db, batch.id, { until: (b) => b.state === 'succeeded' });
    w.kill('SIGTERM');
    assert.equal(await exited(w), 0);
    assert.equal(done.succeeded, n);
    await assertEachChangedOnce(db, ids, [batch.id]);
  });

  it('SIGTERM releases the chunk in hand and another worker finishes the batch', { timeout: 120_000 }, async () => {
    const { actor, ids } = await seedApproved(db, 3000);
    const { batch } = await submitBatch(
      db.ctx,
      actor,
      { operation: 'action', action: 'order', target: { ids }, max_rate: 2000 },
      { chunkSize: 1000 },
    );
    const w = await spawnWorker(db, { LEASE_MS: '60000' });
    await waitForBatch(db, batch.id, { until: (b) => b.succeeded >= 500 });
    w.kill('SIGTERM');
    assert.equal(await exited(w), 0);
    const running = await db.ctx.db
      .selectFrom('work_chunk')
      .select('id')
      .where('batch_id', '=', batch.id)
      .where('state', '=', 'running')
      .execute();
    assert.equal(running.length, 0, 'no chunk left leased after a graceful stop');
    const w2 = await spawnWorker(db, { LEASE_MS: '60000' });
    await waitForBatch(db, batch.id, { until: (b) => b.state === 'succeeded' });
    w2.kill('SIGTERM');
    await exited(w2);
    await assertEachChangedOnce(db, ids, [batch.id]);
  });
});

describeEachDialect('crash safety of a revert', (dialect) => {
  let db: TestDb;
  before(async () => {
    db = await openTestDb(dialect);
  });
  after(() => db.close());

  it('a worker SIGKILLed mid-revert: every item goes back exactly once', { timeout: 120_000 }, async () => {
    const n = 6000;
    const { actor, ids, ds } = await seedApproved(db, n);
    const { batch } = await submitBatch(
      db.ctx,
      actor,
      { operation: 'action', action: 'order', target: { ids } },
      { chunkSize: 500 },
    );
    const w0 = await spawnWorker(db);
    await waitForBatch(db, batch.id, { until: (b) => b.state === 'succeeded' });
    const { batch: revert } = await submitBatch(
      db.ctx,
      actor,
      { operation: 'revert', target: { revert_of: batch.id } },
      { chunkSize: 500 },
    );
    assert.equal(revert.total, n);
    await waitForBatch(db, revert.id, { until: (b) => b.succeeded >= 1500 });
    w0.kill('SIGKILL');
    await exited(w0);
    assert.ok((await findBatch(db.ctx, revert.id))!.pending > 0, 'killed before the end');
    const w = await spawnWorker(db);
    const done = await waitForBatch(db, revert.id, { until: (b) => b.state === 'succeeded' });
    w.kill('SIGTERM');
    await exited(w);
    assert.equal(done.succeeded, n);
    const approved = ds.statusByKey.get('approved')!.id;
    const items = await db.ctx.db.selectFrom('item').select(['rev_no', 'status_id']).where('id', 'in', ids).execute();
    assert.ok(
      items.every((i) => i.rev_no === 3 && i.status_id === approved),
      'every item back in approved, changed twice in all',
    );
    const h = await db.ctx.db
      .selectFrom('item_history')
      .select(['item_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('batch_id', '=', revert.id)
      .where('reverts_batch_id', '=', batch.id)
      .groupBy('item_id')
      .execute();
    assert.equal(h.length, n, 'one revert entry per item');
    assert.ok(
      h.every((r) => Number(r.n) === 1),
      'no item reverted twice',
    );
  });
});

describeEachDialect('concurrent workers', (dialect) => {
  let db: TestDb;
  before(async () => {
    db = await openTestDb(dialect);
  });
  after(() => db.close());

  it(
    'two workers never take the same chunk and change every item once',
    { skip: dialect === 'sqlite' ? 'SQLite runs one worker process' : false, timeout: 120_000 },
    async () => {
      const n = 20_000;
      const { actor, ids } = await seedApproved(db, n);
      const { batch } = await submitBatch(
        db.ctx,
        actor,
        { operation: 'action', action: 'order', target: { ids } },
        { chunkSize: 250 },
      );
      const ws = await Promise.all([spawnWorker(db, { CONCURRENCY: '2' }), spawnWorker(db, { CONCURRENCY: '2' })]);
      await waitForBatch(db, batch.id, { until: (b) => b.state === 'succeeded' });
      for (const w of ws) w.kill('SIGTERM');
      await Promise.all(ws.map(exited));
      await assertEachChangedOnce(db, ids, [batch.id]);
      const chunks = await db.ctx.db
        .selectFrom('work_chunk')
        .select(['attempts'])
        .where('batch_id', '=', batch.id)
        .execute();
      assert.ok(
        chunks.every((c) => c.attempts === 1),
        'every chunk claimed exactly once',
      );
    },
  );

  it(
    'hold a batch to its max_rate together',
    { skip: dialect === 'sqlite' ? 'SQLite runs one worker process' : false, timeout: 120_000 },
    async () => {
      // 2000 items at 400/s in slices of 100 (a quarter second's worth, one chunk each): four loops start together
      // and may each run one slice at once, then the other 1600 take 4 s at the rate. With each loop adding its
      // share to the same stale not_before, the four ran it at four times the rate (about 1 s).
      const rate = 400;
      const { actor, ids } = await seedApproved(db, 2000);
      const { batch } = await submitBatch(
        db.ctx,
        actor,
        { operation: 'action', action: 'order', target: { ids }, max_rate: rate },
        { chunkSize: 100 },
      );
      const ws = await Promise.all([spawnWorker(db, { CONCURRENCY: '2' }), spawnWorker(db, { CONCURRENCY: '2' })]);
      const done = await waitForBatch(db, batch.id, { until: (b) => b.state === 'succeeded' });
      for (const w of ws) w.kill('SIGTERM');
      await Promise.all(ws.map(exited));
      const seconds = (done.finished_at! - done.started_at!) / 1000;
      assert.ok(seconds >= ((2000 - 4 * 100) / rate) * 0.875, `2000 items at max_rate ${rate} took ${seconds} s`);
      await assertEachChangedOnce(db, ids, [batch.id]);
    },
  );
});
