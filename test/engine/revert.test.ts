import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type Client, type TestService } from '../helpers/service.ts';
import { waitForBatch } from '../helpers/wait.ts';
import { workspaceWithRoles } from '../helpers/worlds.ts';

describeEachDialect('revert', (dialect) => {
  let s: TestService;
  let ws: string;
  let admin: Client;
  let approver: Client;
  let member: Client;
  let viewer: Client;
  const base = () => `/api/v1/workspaces/${ws}`;

  async function items(
    n: number,
    status: string,
    fields: (i: number) => Record<string, unknown> = () => ({}),
    ds = 'pr',
  ): Promise<string[]> {
    const r = await member.post(`${base()}/datastores/${ds}/items`, {
      items: Array.from({ length: n }, (_, i) => ({ title: `t${i}`, status, fields: fields(i) })),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.ids;
  }
  const get = async (id: string) => (await member.get(`${base()}/items/${id}`)).body;
  async function run(api: Client, body: Record<string, unknown>) {
    const r = await api.post(`${base()}/batches`, body);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return waitForBatch({ api, ws }, r.body.id);
  }
  async function revert(api: Client, id: string, body: Record<string, unknown> = {}) {
    const r = await api.post(`${base()}/batches/${id}/revert`, body);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.operation, 'revert');
    assert.equal(r.body.reverts_batch_id, id);
    return waitForBatch({ api, ws }, r.body.id);
  }
  const failures = async (api: Client, id: string) =>
    Object.fromEntries(
      (await api.get(`${base()}/batches/${id}/items?state=failed`)).body.items.map((i: any) => [
        i.target_id,
        i.error_code,
      ]),
    );

  before(async () => {
    s = await startTestService(dialect);
    ({ ws, admin, approver, member, viewer } = await workspaceWithRoles(s, 'R'));
  });
  after(() => s.close());

  it('puts back the values a batch set, except on items changed since, which are reported, not overwritten', async () => {
    const ids = await items(6, 'approved', (i) => ({ vendor: `v${i}`, amount: i }));
    const x = await run(member, {
      operation: 'update',
      fields: { vendor: 'x', category: 'hardware' },
      target: { ids },
    });
    assert.equal(x.succeeded, 6);
    // Changed since: one edited, one moved on by an action.
    assert.equal((await member.patch(`${base()}/items/${ids[0]}`, { fields: { vendor: 'manual' } })).status, 200);
    assert.equal((await member.post(`${base()}/items/${ids[1]}/actions/order`, {})).status, 200);
    const conflicts = { [ids[0]!]: 'REVERT_CONFLICT', [ids[1]!]: 'REVERT_CONFLICT' };

    const dry = await revert(member, x.id, { dry_run: true });
    assert.equal(dry.dry_run, true);
    assert.deepEqual([dry.total, dry.succeeded, dry.failed], [6, 4, 2]);
    assert.deepEqual(await failures(member, dry.id), conflicts);
    const untouched = await get(ids[2]!);
    assert.deepEqual(
      [untouched.fields.vendor, untouched.fields.category, untouched.rev_no],
      ['x', 'hardware', 2],
      'a dry run changes nothing',
    );

    const r = await revert(member, x.id, { comment: 'undo the vendor sweep' });
    assert.deepEqual([r.state, r.succeeded, r.failed], ['completed_with_errors', 4, 2]);
    assert.deepEqual(await failures(member, r.id), conflicts);
    const conflictMessage = (await member.get(`${base()}/batches/${r.id}/items?state=failed&limit=1`)).body.items[0]
      .error_message;
    assert.match(conflictMessage, /rev_no/);
    for (const [i, id] of ids.entries()) {
      const it = await get(id);
      if (i === 0) assert.deepEqual([it.fields.vendor, it.rev_no], ['manual', 3], 'the later edit is kept');
      else if (i === 1)
        assert.deepEqual(
          [it.status, it.fields.vendor, it.rev_no],
          ['ordered', 'ordered-vendor', 3],
          'the later action is kept',
        );
      else {
        assert.equal(it.fields.vendor, `v${i}`);
        assert.equal(it.fields.amount, i);
        assert.ok(!('category' in it.fields), 'a field the batch added is removed again');
        assert.equal(it.rev_no, 3);
        const h = it.history.at(-1);
        assert.deepEqual(
          [h.kind, h.batch_id, h.reverts_batch_id, h.rev_no, h.comment],
          ['revert', r.id, x.id, 3, 'undo the vendor sweep'],
        );
        assert.deepEqual(h.changes, { vendor: `v${i}`, category: null });
      }
    }

    // Reverting the revert puts the batch's values back where the revert had removed them.
    const rr = await revert(member, r.id);
    assert.deepEqual([rr.total, rr.succeeded, rr.failed], [4, 4, 0]);
    const again = await get(ids[3]!);
    assert.deepEqual([again.fields.vendor, again.fields.category, again.rev_no], ['x', 'hardware', 4]);
    assert.equal(again.history.at(-1).reverts_batch_id, r.id);

    // The first batch's items have all moved on since it ran: a second revert of it changes nothing.
    const late = await revert(member, x.id);
    assert.deepEqual([late.succeeded, late.failed], [0, 6]);
    assert.ok(Object.values(await failures(member, late.id)).every((c) => c === 'REVERT_CONFLICT'));
    assert.equal((await get(ids[3]!)).fields.vendor, 'x');
  });

  it('moves items back to their earlier status, reopening the tickets a batch decided and withdrawing those it opened', async () => {
    const ids = await items(3, 'draft');
    const opened = await run(member, { operation: 'action', action: 'submit', target: { ids } });
    assert.equal(opened.succeeded, 3);
    const tickets = (await member.get(`${base()}/tickets?state=pending&limit=1000`)).body.tickets
      .filter((t: any) => ids.includes(t.item_id))
      .map((t: any) => t.id);
    assert.equal(tickets.length, 3);
    const approved = await run(approver, { operation: 'approve', comment: 'fine', target: { ids: tickets } });
    assert.equal(approved.succeeded, 3);

    // Controls are for the submitter and admins: the member did not submit the approvals.
    const refused = await member.post(`${base()}/batches/${approved.id}/revert`, {});
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'FORBIDDEN');

    const undecided = await revert(approver, approved.id);
    assert.deepEqual([undecided.succeeded, undecided.failed], [3, 0]);
    for (const [i, id] of ids.entries()) {
      const it = await get(id);
      assert.equal(it.status, 'submitted', 'back in the pending status');
      const t = (await member.get(`${base()}/tickets/${tickets[i]}`)).body;
      assert.deepEqual(
        [t.state, t.decided_by, t.decision_comment],
        ['pending', null, null],
        'the ticket is open again',
      );
      assert.equal(it.history.at(-1).ticket_id, tickets[i]);
    }
    // The reopened tickets are decided as any pending ticket is.
    assert.equal((await approver.post(`${base()}/tickets/${tickets[0]}/reject`, { comment: 'no' })).status, 200);

    // Reverting the submit batch now: the rejected item moved on; the two still pending are withdrawn.
    const unsubmitted = await revert(member, opened.id);
    assert.deepEqual(
      [unsubmitted.succeeded, unsubmitted.failed],
      [0, 3],
      'every item changed since the submit batch (approve, revert)',
    );

    const more = await items(2, 'draft');
    const sub2 = await run(member, { operation: 'action', action: 'submit', target: { ids: more } });
    const back = await revert(member, sub2.id);
    assert.deepEqual([back.succeeded, back.failed], [2, 0]);
    for (const id of more) {
      const it = await get(id);
      assert.equal(it.status, 'draft');
      const t = (await member.get(`${base()}/tickets?item_id=${id}`)).body.tickets[0];
      assert.equal(t.state, 'withdrawn');
      assert.ok(t.decided_by);
    }
    // …and reverting that revert reopens them, moving the items to the pending status again.
    const redo = await revert(member, back.id);
    assert.deepEqual([redo.succeeded, redo.failed], [2, 0]);
    for (const id of more) {
      assert.equal((await get(id)).status, 'submitted');
      assert.equal((await member.get(`${base()}/tickets?item_id=${id}`)).body.tickets[0].state, 'pending');
    }

    // Putting a decision back is deciding: an approver demoted since may not, through a revert of a revert.
    const third = await items(1, 'draft');
    await run(member, { operation: 'action', action: 'submit', target: { ids: third } });
    const t3 = (await member.get(`${base()}/tickets?item_id=${third[0]}`)).body.tickets[0].id;
    const ok3 = await run(approver, { operation: 'approve', target: { ids: [t3] } });
    const reopened = await revert(approver, ok3.id);
    assert.equal(reopened.succeeded, 1);
    const who = (await admin.get(`${base()}/members`)).body.members.find((m: any) => m.role === 'approver');
    assert.equal((await admin.put(`${base()}/members/${who.user_id}`, { role: 'member' })).status, 200);
    const redecide = await revert(approver, reopened.id);
    assert.deepEqual(await failures(approver, redecide.id), { [third[0]!]: 'NOT_ASSIGNEE' });
    assert.equal((await member.get(`${base()}/tickets/${t3}`)).body.state, 'pending', 'still open');
    assert.equal((await admin.put(`${base()}/members/${who.user_id}`, { role: 'approver' })).status, 200);
    const allowed = await revert(approver, reopened.id);
    assert.equal(allowed.succeeded, 1);
    assert.equal(
      (await member.get(`${base()}/tickets/${t3}`)).body.state,
      'approved',
      'an approver puts the approval back',
    );
  });

  it('puts back a draft a batch changed, and the draft a re-publish applied', async () => {
    const [a, b] = await items(2, 'live', (i) => ({ price: 10 + i, label: 'orig' }), 'cat');
    assert.equal(
      (await member.patch(`${base()}/items/${b}`, { fields: { label: 'first edit' } })).status,
      200,
      'b has a draft already',
    );
    const edit = await run(member, { operation: 'update', fields: { price: 99 }, target: { ids: [a, b] } });
    assert.equal(edit.succeeded, 2);
    assert.deepEqual((await get(a!)).draft.fields, { price: 99 });
    const undo = await revert(member, edit.id);
    assert.deepEqual([undo.succeeded, undo.failed], [2, 0]);
    assert.equal((await get(a!)).draft, null, 'a had no draft before');
    assert.deepEqual((await get(b!)).draft.fields, { label: 'first edit' }, 'b has its earlier draft back');
    assert.equal((await get(a!)).fields.price, 10, 'the item itself was never touched');

    // Re-publishing b applies its draft; the revert restores the released values and the draft.
    const pub = await run(member, { operation: 'action', action: 'release', target: { ids: [b] } });
    assert.equal(pub.succeeded, 1, JSON.stringify(pub));
    const published = await get(b!);
    assert.deepEqual([published.fields.label, published.draft], ['first edit', null]);
    const unpub = await revert(member, pub.id);
    assert.equal(unpub.succeeded, 1);
    const restored = await get(b!);
    assert.equal(restored.fields.label, 'orig');
    assert.deepEqual(restored.draft.fields, { label: 'first edit' });

    // A draft edited since the batch is a conflict, like an item changed since.
    const edit2 = await run(member, { operation: 'update', fields: { price: 5 }, target: { ids: [a] } });
    assert.equal((await member.patch(`${base()}/items/${a}`, { fields: { label: 'later' } })).status, 200);
    const clash = await revert(member, edit2.id);
    assert.deepEqual(await failures(member, clash.id), { [a!]: 'REVERT_CONFLICT' });
    assert.deepEqual((await get(a!)).draft.fields, { price: 5, label: 'later' });
  });

  it('refuses what cannot be reverted, and answers other workspaces with 404', async () => {
    const ids = await items(2, 'approved');
    const running = await member.post(`${base()}/batches`, {
      operation: 'action',
      action: 'order',
      target: { ids },
      start_at: '2999-01-01T00:00:00Z',
    });
    const busy = await member.post(`${base()}/batches/${running.body.id}/revert`, {});
    assert.equal(busy.status, 409);
    assert.equal(busy.body.error.code, 'BATCH_STATE');
    assert.equal((await member.post(`${base()}/batches/${running.body.id}/cancel`, {})).status, 200);
    const nothing = await revert(member, running.body.id);
    assert.deepEqual(
      [nothing.total, nothing.state],
      [0, 'succeeded'],
      'a cancelled batch that changed nothing has nothing to revert',
    );

    const dry = await run(member, { operation: 'action', action: 'order', dry_run: true, target: { ids } });
    const d = await member.post(`${base()}/batches/${dry.id}/revert`, {});
    assert.equal(d.status, 409);
    assert.equal(d.body.error.code, 'NOT_REVERTIBLE');

    const done = await run(member, { operation: 'action', action: 'order', target: { ids } });
    const v = await viewer.post(`${base()}/batches/${done.id}/revert`, {});
    assert.equal(v.status, 403);
    const bad = await member.post(`${base()}/batches/${done.id}/revert`, { dry_run: 'yes' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'VALIDATION_FAILED');
    const other = await s.user('other');
    const ows = (await other.api.post('/api/v1/workspaces', { name: 'O' })).body.id;
    const foreign = await other.api.post(`/api/v1/workspaces/${ows}/batches/${done.id}/revert`, {});
    assert.equal(foreign.status, 404);
    assert.equal(foreign.body.error.code, 'BATCH_NOT_FOUND');
    assert.equal((await get(ids[0]!)).status, 'ordered', 'nothing was reverted by a refused request');
  });
});
