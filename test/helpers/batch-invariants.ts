/**
 * What must hold after any fault, read straight from the database (the storage itself, not the API's view of
 * it): the checks that every item changed at most once per
 * batch and that a batch's counters add up and match its item outcomes.
 */
import assert from 'node:assert/strict';
import { cancelledUnrun } from '../../src/engine/batch-items.ts';
import { TERMINAL } from '../../src/core/states.ts';
import { findBatch, type Batch } from '../../src/engine/batches.ts';
import type { TestDb } from './db.ts';

/** Waits until no worker holds a chunk of the batch: after a pause or cancel, each has seen it and let go. */
export async function waitForChunksReleased(db: TestDb, batchId: string): Promise<void> {
  while (
    (
      await db.ctx.db
        .selectFrom('work_chunk')
        .select('id')
        .where('batch_id', '=', batchId)
        .where('lease_owner', 'is not', null)
        .execute()
    ).length
  ) {
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The batch's counters add up, and equal the counts of its batch_item rows by state. */
export async function assertCountersMatchOutcomes(db: TestDb, batchId: string): Promise<Batch> {
  // One snapshot for both reads: a worker may still be running the batch, and on PostgreSQL each statement of a
  // read-committed transaction sees its own moment (a slice committed between the two reads looked like a
  // mismatch). SQLite's transaction reads one snapshot from its first read on.
  const tx = db.ctx.db.transaction();
  const { b, rows } = await (db.ctx.caps.dialect === 'postgres' ? tx.setIsolationLevel('repeatable read') : tx).execute(
    async (trx) => {
      const b = (await findBatch({ ...db.ctx, db: trx }, batchId)) ?? assert.fail(`batch ${batchId} not found`);
      const rows = await trx
        .selectFrom('batch_item')
        .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
        .where('batch_id', '=', batchId)
        .groupBy('state')
        .execute();
      return { b, rows };
    },
  );
  assert.equal(b.total, b.succeeded + b.failed + b.skipped + b.pending, `counters add up: ${JSON.stringify(b)}`);
  // A cancelled batch's items that never ran keep their pending rows and count as skipped (engine/batch-items.ts).
  const byState: Record<string, number> = {};
  for (const r of rows) {
    const state = cancelledUnrun(b.state, r.state) ? 'skipped' : r.state;
    byState[state] = (byState[state] ?? 0) + Number(r.n);
  }
  assert.deepEqual(
    { total: b.total, succeeded: b.succeeded, failed: b.failed, skipped: b.skipped, pending: b.pending },
    {
      total: rows.reduce((s, r) => s + Number(r.n), 0),
      succeeded: byState.succeeded ?? 0,
      failed: byState.failed ?? 0,
      skipped: byState.skipped ?? 0,
      pending: byState.pending ?? 0,
    },
    'batch counters equal its item outcomes',
  );
  return b;
}

/**
 * The batch is terminal with its counters matching its outcomes, and it changed every item at most once: a
 * succeeded target carries exactly one history entry with the batch id, any other target none.
 */
export async function assertBatchSettled(db: TestDb, batchId: string): Promise<Batch> {
  const b = await assertCountersMatchOutcomes(db, batchId);
  assert.ok(TERMINAL.includes(b.state), `batch ${batchId} is terminal, not ${b.state}`);
  assert.equal(b.pending, 0, 'nothing left pending');
  // Two scans compared here: a join of the two on SQLite picks the batch_id index of item_history and turns
  // quadratic (147 s for 20000 items).
  const history = await db.ctx.db
    .selectFrom('item_history')
    .select(['item_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('batch_id', '=', batchId)
    .groupBy('item_id')
    .execute();
  const entries = new Map(history.map((h) => [h.item_id, Number(h.n)]));
  const targets = await db.ctx.db
    .selectFrom('batch_item')
    .select(['target_id', 'state'])
    .where('batch_id', '=', batchId)
    .execute();
  const wrong = targets.filter((t) => (entries.get(t.target_id) ?? 0) !== (t.state === 'succeeded' ? 1 : 0));
  assert.deepEqual(
    wrong.slice(0, 5).map((t) => ({ ...t, entries: entries.get(t.target_id) ?? 0 })),
    [],
    `${wrong.length} targets with a wrong number of history entries for their outcome`,
  );
  const targetIds = new Set(targets.map((t) => t.target_id));
  assert.deepEqual(
    history.filter((h) => !targetIds.has(h.item_id)).slice(0, 5),
    [],
    'no history entry for an item outside the batch',
  );
  return b;
}

/**
 * Every item of `ids` changed exactly once, by this batch or by one of `batchIds`: rev_no 2 (created at 1),
 * and one history entry carrying a batch id, whose batch recorded the item as succeeded.
 */
export async function assertEachChangedOnce(db: TestDb, ids: string[], batchIds: string[]): Promise<void> {
  for (const id of batchIds) await assertBatchSettled(db, id);
  const revs = await db.ctx.db
    .selectFrom('item')
    .select(['rev_no', (eb) => eb.fn.countAll<number>().as('n')])
    .where('id', 'in', db.ctx.db.selectFrom('batch_item').select('target_id').where('batch_id', 'in', batchIds))
    .groupBy('rev_no')
    .execute();
  assert.deepEqual(
    revs.map((r) => [r.rev_no, Number(r.n)]),
    [[2, ids.length]],
    'every item at rev_no 2',
  );
  const succeeded = await db.ctx.db
    .selectFrom('batch_item')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('batch_id', 'in', batchIds)
    .where('state', '=', 'succeeded')
    .executeTakeFirstOrThrow();
  assert.equal(Number(succeeded.n), ids.length, 'one succeeded outcome per item across the batches');
}
