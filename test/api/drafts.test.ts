import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { CATALOG_DS, startTestService, type Client, type TestService } from '../helpers/service.ts';
import { waitForBatch } from '../helpers/wait.ts';
import { workspaceWithRoles } from '../helpers/worlds.ts';

describeEachDialect('drafts and released versions over the native API', (dialect) => {
  let s: TestService;
  let ws: string;
  let admin: Client;
  let approver: Client;
  let member: Client;
  let viewer: Client;

  const items = (ds: string) => `/api/v1/workspaces/${ws}/datastores/${ds}/items`;
  const item = (id: string) => `/api/v1/workspaces/${ws}/items/${id}`;

  async function create(ds: string, fields: Record<string, unknown>, title = 'x'): Promise<string> {
    const r = await member.post(items(ds), { title, fields });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id;
  }
  async function act(id: string, action: string, api = member, body: Record<string, unknown> = {}) {
    return api.post(`${item(id)}/actions/${action}`, body);
  }

  before(async () => {
    s = await startTestService(dialect);
    ({ ws, admin, approver, member, viewer } = await workspaceWithRoles(s, 'Drafts'));
  });
  after(() => s.close());

  it('shows and validates the drafts setting', async () => {
    assert.deepEqual((await member.get(`/api/v1/workspaces/${ws}/datastores/cat`)).body.drafts, { statuses: ['live'] });
    assert.equal((await member.get(`/api/v1/workspaces/${ws}/datastores/pr`)).body.drafts, null);
    const bad = async (drafts: unknown, code: string) => {
      const r = await admin.post(`/api/v1/workspaces/${ws}/datastores`, { ...CATALOG_DS, display_id: 'bad', drafts });
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.error.code, code);
    };
    await bad({ statuses: ['nope'] }, 'INVALID_DEFINITION');
    await bad({ statuses: ['review'] }, 'INVALID_DEFINITION'); // an approval's pending status
    await bad({ statuses: ['live', 'live'] }, 'INVALID_DEFINITION');
    await bad({ statuses: [] }, 'VALIDATION_FAILED');
    await bad({ statuses: 'live' }, 'VALIDATION_FAILED');
    await bad({ statuses: ['live'], extra: 1 }, 'VALIDATION_FAILED');
    assert.equal((await admin.get(`/api/v1/workspaces/${ws}/datastores/bad`)).status, 404);
  });

  it('edits an unreleased item in place; releasing records version 1', async () => {
    const id = await create('cat', { price: 10, label: 'a' });
    const p = await member.patch(item(id), { fields: { price: 11 } });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.fields.price, 11);
    assert.equal(p.body.rev_no, 2);
    assert.equal(p.body.draft, undefined);
    assert.equal((await act(id, 'release')).status, 200);
    const g = await member.get(item(id));
    assert.equal(g.body.status, 'live');
    assert.equal(g.body.draft, null);
    assert.equal(g.body.versions.length, 1);
    assert.deepEqual(
      {
        version: g.body.versions[0].version,
        status: g.body.versions[0].status,
        fields: g.body.versions[0].fields,
        title: g.body.versions[0].title,
      },
      { version: 1, status: 'live', fields: { price: 11, label: 'a' }, title: 'x' },
    );
    assert.match(g.body.versions[0].id, /^\d{19}$/);
  });

  it('keeps an edit of a released item as its draft: the item and its rev_no stay; edits merge; delete is idempotent', async () => {
    const id = await create('cat', { price: 10, label: 'a' });
    await act(id, 'release');
    const before = (await member.get(item(id))).body;
    const p = await member.patch(item(id), { fields: { price: 20 }, rev_no: before.rev_no, comment: 'raise' });
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.equal(p.body.rev_no, before.rev_no);
    assert.deepEqual(p.body.fields, { price: 10, label: 'a' });
    assert.deepEqual(p.body.draft.fields, { price: 20 });
    // rev_no is still checked against the (unchanged) item.
    assert.equal(
      (await member.patch(item(id), { fields: { label: 'b' }, rev_no: before.rev_no - 1 })).body.error.code,
      'REVISION_CONFLICT',
    );
    // A bad value is refused as for any update.
    assert.equal((await member.patch(item(id), { fields: { price: 'x' } })).status, 400);
    await member.patch(item(id), { fields: { label: 'b' } });
    const g = (await member.get(item(id))).body;
    assert.equal(g.rev_no, before.rev_no);
    assert.deepEqual(g.fields, { price: 10, label: 'a' });
    assert.deepEqual(g.draft.fields, { price: 20, label: 'b' });
    assert.equal(g.draft.created_by, g.draft.updated_by);
    assert.deepEqual(
      g.history.filter((h: any) => h.kind === 'draft').map((h: any) => h.changes),
      [{ price: 20 }, { label: 'b' }],
    );
    assert.equal(g.history.find((h: any) => h.kind === 'draft').comment, 'raise');

    assert.equal((await viewer.delete(`${item(id)}/draft`)).status, 403);
    assert.deepEqual((await member.delete(`${item(id)}/draft`)).body, { deleted: true });
    assert.deepEqual((await member.delete(`${item(id)}/draft`)).body, { deleted: false });
    const after = (await member.get(item(id))).body;
    assert.equal(after.draft, null);
    assert.equal(after.rev_no, before.rev_no);
    assert.equal(after.history.at(-1).kind, 'draft_delete');
    assert.equal((await member.delete(`${item('1234567890123456789')}/draft`)).status, 404);
    const other = (await admin.post('/api/v1/workspaces', { name: 'Other' })).body.id;
    assert.equal((await admin.delete(`/api/v1/workspaces/${other}/items/${id}/draft`)).status, 404);
  });

  it('re-running the releasing action applies the draft and records the next version', async () => {
    const id = await create('cat', { price: 10, label: 'a' });
    // Without a draft a released item is in no `from` of release.
    await act(id, 'release');
    assert.equal((await act(id, 'release')).body.error.code, 'WRONG_STATUS');
    await member.patch(item(id), { fields: { price: 30 } });
    const r = await act(id, 'release');
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.item.fields, { price: 30, label: 'a' });
    const g = (await member.get(item(id))).body;
    assert.equal(g.draft, null);
    assert.deepEqual(
      g.versions.map((v: any) => [v.version, v.fields.price]),
      [
        [1, 10],
        [2, 30],
      ],
    );
    assert.equal((await act(id, 'release')).body.error.code, 'WRONG_STATUS');
    // A draft survives leaving the released status and is applied by the next release.
    await member.patch(item(id), { fields: { label: 'z' } });
    assert.equal((await act(id, 'retire')).status, 200);
    const retired = (await member.get(item(id))).body;
    assert.deepEqual(retired.draft.fields, { label: 'z' });
    assert.equal(retired.versions.length, 2);
    await act(id, 'release');
    const back = (await member.get(item(id))).body;
    assert.deepEqual(back.fields, { price: 30, label: 'z' });
    assert.equal(back.versions.length, 3);
    assert.equal(back.draft, null);
  });

  it('re-publishing with approval: reject keeps the item released and the draft; approve applies it', async () => {
    const id = await create('cat', { price: 1, label: 'p' });
    await act(id, 'publish');
    const t1 = (await approver.get(`/api/v1/workspaces/${ws}/tickets?state=pending&assignee=me`)).body.tickets.find(
      (t: any) => t.item_id === id,
    );
    assert.equal((await approver.post(`/api/v1/workspaces/${ws}/tickets/${t1.id}/approve`, {})).status, 200);
    assert.equal((await member.get(item(id))).body.versions.length, 1);

    await member.patch(item(id), { fields: { price: 2 } });
    const sub = await act(id, 'publish');
    assert.equal(sub.status, 200, JSON.stringify(sub.body));
    assert.equal(sub.body.item.status, 'review');
    // Under review: no edit, and the draft cannot be deleted.
    assert.equal((await member.patch(item(id), { fields: { price: 3 } })).body.error.code, 'ITEM_PENDING_APPROVAL');
    assert.equal((await member.delete(`${item(id)}/draft`)).body.error.code, 'ITEM_PENDING_APPROVAL');
    assert.equal(
      (await approver.post(`/api/v1/workspaces/${ws}/tickets/${sub.body.ticket.id}/reject`, { comment: 'no' })).status,
      200,
    );
    let g = (await member.get(item(id))).body;
    assert.equal(g.status, 'live');
    assert.deepEqual(g.fields, { price: 1, label: 'p' });
    assert.deepEqual(g.draft.fields, { price: 2 });
    assert.equal(g.versions.length, 1);

    const again = await act(id, 'publish');
    assert.equal(
      (await member.post(`/api/v1/workspaces/${ws}/tickets/${again.body.ticket.id}/withdraw`, {})).status,
      200,
    );
    g = (await member.get(item(id))).body;
    assert.equal(g.status, 'live');
    assert.deepEqual(g.draft.fields, { price: 2 });

    const third = await act(id, 'publish');
    assert.equal(
      (await approver.post(`/api/v1/workspaces/${ws}/tickets/${third.body.ticket.id}/approve`, {})).status,
      200,
    );
    g = (await member.get(item(id))).body;
    assert.equal(g.status, 'live');
    assert.deepEqual(g.fields, { price: 2, label: 'p' });
    assert.equal(g.draft, null);
    assert.deepEqual(
      g.versions.map((v: any) => v.fields.price),
      [1, 2],
    );
  });

  it('an update batch keeps drafts for released items and edits the others', async () => {
    const live = [await create('cat', { price: 5 }), await create('cat', { price: 6 })];
    for (const id of live) await act(id, 'release');
    const plain = await create('cat', { price: 7 });
    const revs = await Promise.all([...live, plain].map(async (id) => (await member.get(item(id))).body.rev_no));
    const b = await member.post(`/api/v1/workspaces/${ws}/batches`, {
      operation: 'update',
      target: { ids: [...live, plain] },
      fields: { label: 'bulk' },
    });
    assert.equal(b.status, 202, JSON.stringify(b.body));
    const done = await waitForBatch({ api: member, ws }, b.body.id);
    assert.equal(done.state, 'succeeded');
    assert.equal(done.succeeded, 3);
    const got = await Promise.all([...live, plain].map(async (id) => (await member.get(item(id))).body));
    assert.deepEqual(
      got.map((g) => g.rev_no),
      [revs[0], revs[1], revs[2] + 1],
    );
    assert.deepEqual(
      got.map((g) => g.fields.label ?? null),
      [null, null, 'bulk'],
    );
    assert.deepEqual(
      got.map((g) => g.draft?.fields ?? null),
      [{ label: 'bulk' }, { label: 'bulk' }, null],
    );
    assert.ok(got[0].history.some((h: any) => h.kind === 'draft' && h.batch_id === b.body.id));
  });

  it('leaves datastores without drafts as they were', async () => {
    const r = await member.post(items('pr'), { title: 'pc', fields: { amount: 1 } });
    const id = r.body.id;
    await member.post(`${item(id)}/actions/submit`, {});
    const t = (await approver.get(`/api/v1/workspaces/${ws}/tickets?state=pending&assignee=me`)).body.tickets.find(
      (x: any) => x.item_id === id,
    );
    await approver.post(`/api/v1/workspaces/${ws}/tickets/${t.id}/approve`, {});
    const p = await member.patch(item(id), { fields: { amount: 2 } });
    assert.equal(p.body.fields.amount, 2);
    assert.equal(p.body.draft, undefined);
    const g = (await member.get(item(id))).body;
    assert.equal(g.status, 'approved');
    assert.equal(g.draft, null);
    assert.deepEqual(g.versions, []);
    assert.deepEqual((await member.delete(`${item(id)}/draft`)).body, { deleted: false });
  });
});
