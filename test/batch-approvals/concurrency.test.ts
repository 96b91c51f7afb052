import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { makeFixture, submit, waitForGroup, type Fixture } from './fixture.ts';

describeEachDialect('batch approvals: concurrent overlapping submits', (dialect) => {
  let f: Fixture;
  before(async () => {
    // Two chunk loops on PostgreSQL (SQLite always runs one): the two groups' batches run at the same time.
    f = await makeFixture(dialect);
  });
  after(() => f.close());

  it('approves each ticket once, whoever wins', async () => {
    const ts = await f.tickets(f.W1, 60);
    const w2 = await f.tickets(f.W2, 10);
    const ids = ts.map((t) => t.id);
    // A: 0..39 + all of W2; B: 20..59 + all of W2 (the overlap: 20..39 and W2), in another order; C: W1's
    // overlap, by W1's admin acting for the approver.
    const a = [...ids.slice(0, 40), ...w2.map((t) => t.id)];
    const b = [...w2.map((t) => t.id)].reverse().concat(ids.slice(20, 60).reverse());
    const c = ids.slice(20, 40);
    const subs = await Promise.all([
      submit(f.approver.api, f.approver.id, a),
      submit(f.approver.api, f.approver.id, b),
      submit(f.owner1.api, f.approver.id, c),
    ]);
    for (const s of subs) assert.equal(s.status, 200, JSON.stringify(s.body));
    assert.equal(new Set(subs.map((s) => s.body.batch_number)).size, 3);
    const done = await Promise.all(subs.map((s) => waitForGroup(f.approver.api, f.approver.id, s.body.batch_number)));

    const all = [...ts, ...w2];
    const succeeded = done.reduce((n, p) => n + p.total - p.failed_tasks.length, 0);
    assert.equal(succeeded, all.length, 'every ticket approved exactly once across the three groups');
    const failed = done.flatMap((p) => p.failed_reasons);
    const overlap = new Set([...ids.slice(20, 40), ...w2.map((t) => t.id)]);
    for (const r of failed) {
      assert.ok(overlap.has(r.task_id), `only overlapping ids can lose: ${JSON.stringify(r)}`);
      assert.ok(['TICKET_ALREADY_DECIDED', 'REVISION_CONFLICT'].includes(r.code), JSON.stringify(r));
    }
    // Each overlapping id won in exactly one group.
    const lost = new Map<string, number>();
    for (const r of failed) lost.set(r.task_id, (lost.get(r.task_id) ?? 0) + 1);
    for (const id of overlap) assert.equal(lost.get(id), [a, b, c].filter((x) => x.includes(id)).length - 1, id);

    for (const [ws, list] of [
      [f.W1, ts],
      [f.W2, w2],
    ] as const) {
      for (const t of list) {
        const item = await f.item(ws, t.item);
        assert.equal(item.status, 'approved');
        assert.equal(item.history.filter((h: any) => h.kind === 'approve').length, 1, `item ${t.item} approved once`);
        assert.equal(item.rev_no, 3, 'created, submitted, approved: nothing more');
      }
    }
  });
});
