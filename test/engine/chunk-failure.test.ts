/**
 * The worker as it runs for real, against faults it cannot get past: a chunk whose slice fails every time ends
 * its batch `failed` after MAX_CHUNK_ATTEMPTS claims (its items failed with INTERNAL), never retried forever; and a
 * rethrottle to a faster rate takes effect at once, not after the wait the old rate had set.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { MAX_CHUNK_ATTEMPTS } from '../../src/engine/run-chunk.ts';
import { assertBatchSettled, assertEachChangedOnce } from '../helpers/batch-invariants.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { type Client, type TestService } from '../helpers/service.ts';
import { waitForBatch } from '../helpers/wait.ts';
import { seedApproved, seededService, type Seeded } from '../helpers/worlds.ts';

describeEachDialect('chunks that keep failing, and rethrottling', (dialect) => {
  let s: TestService;
  let seeded: Seeded;
  let api: Client;
  const base = () => `/api/v1/workspaces/${seeded.workspaceId}`;

  before(async () => {
    ({ s, seeded, api } = await seededService(dialect, 30));
  });
  after(() => s.close());

  /** A storage fault: any update of item `id` fails, in whatever transaction it comes. */
  async function poison(id: string): Promise<void> {
    if (dialect === 'sqlite') {
      await sql
        .raw(
          `create trigger poison before update on item when old.id = '${id}' begin select raise(abort, 'poisoned item'); end`,
        )
        .execute(s.db.ctx.db);
    } else {
      await sql
        .raw(
          `create function poison() returns trigger language plpgsql as $$ begin raise exception 'poisoned item'; end $$`,
        )
        .execute(s.db.ctx.db);
      await sql
        .raw(
          `create trigger poison before update on item for each row when (old.id = '${id}') execute function poison()`,
        )
        .execute(s.db.ctx.db);
    }
  }

  /** The batch's chunks, with how often each was claimed and where it stands. */
  const chunksOf = (batchId: string) =>
    s.db.ctx.db.selectFrom('work_chunk').select(['attempts', 'state']).where('batch_id', '=', batchId).execute();

  it(
    `fails a batch whose chunk fails ${MAX_CHUNK_ATTEMPTS} times, through the real worker`,
    { timeout: 120_000 },
    async () => {
      const ids = seeded.ids.slice(0, 10);
      await poison(ids[3]!);
      const r = await api.post(`${base()}/batches`, { operation: 'action', action: 'order', target: { ids } });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      // Every claim counts an attempt: a claim past the limit with the batch still running means the limit does not hold.
      let chunks;
      for (;;) {
        chunks = await chunksOf(r.body.id);
        const row = await waitForBatch(s.db, r.body.id, { until: () => true });
        if (row.state !== 'queued' && row.state !== 'running') break;
        assert.ok(
          chunks[0]!.attempts <= MAX_CHUNK_ATTEMPTS,
          `claimed ${chunks[0]!.attempts} times and still ${row.state}`,
        );
        await new Promise((res) => setTimeout(res, 20));
      }
      const b = await waitForBatch(s.db, r.body.id, { until: () => true });
      assert.equal(b.state, 'failed');
      // Read again now that the batch has ended: the loop's last read came before the give-up committed.
      chunks = await chunksOf(r.body.id);
      assert.deepEqual(
        chunks,
        [{ attempts: MAX_CHUNK_ATTEMPTS, state: 'done' }],
        'claimed exactly MAX_CHUNK_ATTEMPTS times, then given up',
      );
      assert.equal(b.failed, ids.length, 'the whole slice rolled back each time: every item failed');
      const failed = await api.get(`${base()}/batches/${r.body.id}/items?state=failed`);
      assert.ok(
        failed.body.items.every((i: any) => i.error_code === 'INTERNAL'),
        JSON.stringify(failed.body.items[0]),
      );
      await assertBatchSettled(s.db, r.body.id);
    },
  );

  it(
    'a slice that fails at its last statement leaves nothing behind: run again, every item changes once',
    { timeout: 120_000 },
    async () => {
      const more = await seedApproved(s.db, 3000);
      const mine = s.client(more.token);
      // A storage fault at a slice's last write (its counter update), after it changed its items and wrote their
      // history and outcomes, until a chunk of the batch has been claimed twice: the first slice fails, and must
      // roll back whole; its chunk runs again.
      const once = 'not exists (select 1 from work_chunk c where c.batch_id = new.id and c.attempts >= 2)';
      if (dialect === 'sqlite') {
        await sql
          .raw(
            `create trigger counters_fail before update of succeeded on batch when new.succeeded > old.succeeded and ${once} begin select raise(abort, 'counters fault'); end`,
          )
          .execute(s.db.ctx.db);
      } else {
        await sql
          .raw(
            `create function counters_fail() returns trigger language plpgsql as $$ begin if ${once} then raise exception 'counters fault'; end if; return new; end $$`,
          )
          .execute(s.db.ctx.db);
        await sql
          .raw(
            `create trigger counters_fail before update of succeeded on batch for each row when (new.succeeded > old.succeeded) execute function counters_fail()`,
          )
          .execute(s.db.ctx.db);
      }
      const r = await mine.post(`/api/v1/workspaces/${more.workspaceId}/batches`, {
        operation: 'action',
        action: 'order',
        target: { ids: more.ids },
      });
      assert.equal(r.status, 202, JSON.stringify(r.body));
      const b = await waitForBatch(s.db, r.body.id, {
        until: (row) => row.state !== 'queued' && row.state !== 'running',
        timeoutMs: 110_000,
        pollMs: 20,
      });
      await sql.raw('drop trigger counters_fail' + (dialect === 'postgres' ? ' on batch' : '')).execute(s.db.ctx.db);
      assert.equal(b.state, 'succeeded', JSON.stringify(b));
      const chunks = await chunksOf(r.body.id);
      assert.ok(
        chunks.some((c) => c.attempts === 2),
        'a slice failed and its chunk ran again',
      );
      await assertEachChangedOnce(s.db, more.ids, [r.body.id]);
    },
  );

  it('a rethrottle to a faster rate takes effect at once', { timeout: 120_000 }, async () => {
    const ids = seeded.ids.slice(10, 30);
    // One item per 1000 s: after the first slice the batch is not due again for a quarter of an hour.
    const r = await api.post(`${base()}/batches`, {
      operation: 'action',
      action: 'order',
      max_rate: 0.001,
      target: { ids },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitForBatch(s.db, r.body.id, { until: (b) => b.succeeded >= 1 });
    const fast = await api.post(`${base()}/batches/${r.body.id}/rethrottle`, { max_rate: null });
    assert.equal(fast.status, 200, JSON.stringify(fast.body));
    s.engine.notifier.workAvailable();
    const done = await waitForBatch({ api, ws: seeded.workspaceId }, r.body.id, {
      states: ['succeeded'],
      timeoutMs: 100_000,
    });
    assert.equal(done.succeeded, ids.length);
  });
});
