import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { PURCHASE_DS, startTestService, type Client, type TestService } from '../helpers/service.ts';

describeEachDialect('workflow over the native API', (dialect) => {
  let s: TestService;
  let ws: string;
  let admin: Client;
  let approver: Client & { id?: string };
  let approverId: string;
  let member: Client;
  let memberId: string;
  let viewer: Client;

  before(async () => {
    s = await startTestService(dialect);
    const owner = await s.user('owner');
    admin = owner.api;
    const w = await admin.post('/api/v1/workspaces', { name: 'Acme' });
    assert.equal(w.status, 201);
    ws = w.body.id;
    assert.match(ws, /^\d{19}$/);
    assert.ok(BigInt(ws) > 2n ** 53n);
    const a = await s.user('approver');
    approver = a.api;
    approverId = a.user.id;
    const m = await s.user('member');
    member = m.api;
    memberId = m.user.id;
    // The workspace admin (not only the system admin) manages members: by invitation, which the user accepts.
    for (const [id, api, role] of [
      [approverId, approver, 'approver'],
      [memberId, member, 'member'],
    ] as const) {
      const inv = await admin.post(`/api/v1/workspaces/${ws}/invitations`, { user_id: id, role });
      assert.equal(inv.status, 201, JSON.stringify(inv.body));
      const r = await api.post(`/api/v1/invitations/${inv.body.id}/accept`, {});
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.role, role);
    }
    viewer = (await s.user('viewer', ws, 'viewer')).api;
    const ds = await admin.post(`/api/v1/workspaces/${ws}/datastores`, PURCHASE_DS);
    assert.equal(ds.status, 201, JSON.stringify(ds.body));
  });
  after(() => s.close());

  it('creates a datastore answering statuses and actions with ids and display_ids', async () => {
    const r = await admin.get(`/api/v1/workspaces/${ws}/datastores/pr`);
    assert.equal(r.status, 200);
    assert.deepEqual(
      r.body.statuses.map((x: any) => x.display_id),
      ['draft', 'submitted', 'approved', 'rejected', 'ordered'],
    );
    const submit = r.body.actions.find((a: any) => a.display_id === 'submit');
    assert.match(submit.id, /^\d{19}$/);
    assert.deepEqual(submit.from, ['draft', 'rejected']);
    assert.equal(submit.to, 'approved');
    assert.equal(submit.approval.pending_status, 'submitted');
  });

  it('refuses an inconsistent definition and writes nothing', async () => {
    const bad = {
      ...PURCHASE_DS,
      display_id: 'bad',
      actions: [{ display_id: 'x', name: 'X', from: ['nope'], to: 'draft' }],
    };
    const r = await admin.post(`/api/v1/workspaces/${ws}/datastores`, bad);
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'INVALID_DEFINITION');
    assert.equal((await admin.get(`/api/v1/workspaces/${ws}/datastores/bad`)).status, 404);
    const dup = await admin.post(`/api/v1/workspaces/${ws}/datastores`, PURCHASE_DS);
    assert.equal(dup.status, 409);
    assert.equal(dup.body.error.code, 'DUPLICATE');
  });

  it('creates items in the first status and imports many in input order', async () => {
    const one = await member.post(`/api/v1/workspaces/${ws}/datastores/pr/items`, {
      title: 'Laptop',
      fields: { amount: 1200, vendor: 'Acme' },
    });
    assert.equal(one.status, 201, JSON.stringify(one.body));
    assert.equal(one.body.status, 'draft');
    assert.equal(one.body.rev_no, 1);
    assert.deepEqual(one.body.fields, { amount: 1200, vendor: 'Acme' });
    const many = await member.post(`/api/v1/workspaces/${ws}/datastores/pr/items`, {
      items: [{ title: 'a' }, { title: 'b', status: 'approved' }, { title: 'c' }],
    });
    assert.equal(many.status, 201);
    assert.equal(many.body.ids.length, 3);
    const b = await member.get(`/api/v1/workspaces/${ws}/items/${many.body.ids[1]}`);
    assert.equal(b.body.title, 'b');
    assert.equal(b.body.status, 'approved');
    assert.equal(b.body.history[0].kind, 'create');
  });

  it('refuses a bulk import with one invalid element whole', async () => {
    const before = await admin.post(`/api/v1/workspaces/${ws}/datastores/pr/items/search`, {});
    const r = await member.post(`/api/v1/workspaces/${ws}/datastores/pr/items`, {
      items: [{ title: 'ok' }, { title: 'bad', fields: { amount: 'ten' } }],
    });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'INVALID_FIELD_VALUE');
    assert.equal(r.body.error.details.index, 1);
    const after = await admin.post(`/api/v1/workspaces/${ws}/datastores/pr/items/search`, {});
    assert.equal(after.body.total, before.body.total);
  });

  it('runs a status action with set_fields, checks rev_no, records history', async () => {
    const it1 = await member.post(`/api/v1/workspaces/${ws}/datastores/pr/items`, { title: 'x', status: 'approved' });
    const conflict = await member.post(`/api/v1/workspaces/${ws}/items/${it1.body.id}/actions/order`, { rev_no: 7 });
    assert.equal(conflict.status, 409);
    assert.equal(conflict.body.error.code, 'REVISION_CONFLICT');
    const ok = await member.post(`/api/v1/workspaces/${ws}/items/${it1.body.id}/actions/order`, {
      rev_no: 1,
      comment: 'go',
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.item.status, 'ordered');
    assert.equal(ok.body.item.rev_no, 2);
    assert.equal(ok.body.item.fields.vendor, 'ordered-vendor');
    const again = await member.post(`/api/v1/workspaces/${ws}/items/${it1.body.id}/actions/order`, {});
    assert.equal(again.status, 409);
    assert.equal(again.body.error.code, 'WRONG_STATUS');
    const h = await member.get(`/api/v1/workspaces/${ws}/items/${it1.body.id}`);
    const last = h.body.history.at(-1);
    assert.equal(last.kind, 'action');
    assert.equal(last.action, 'order');
    assert.equal(last.from_status, 'approved');
    assert.equal(last.to_status, 'ordered');
    assert.equal(last.comment, 'go');
  });

  it('limits actions to roles and writes to writers', async () => {
    const it1 = await member.post(`/api/v1/workspaces/${ws}/datastores/pr/items`, { title: 'y', status: 'approved' });
    const byApprover = await approver.post(`/api/v1/workspaces/${ws}/items/${it1.body.id}/actions/order`, {});
    assert.equal(byApprover.status, 403);
    assert.equal(byApprover.body.error.code, 'ACTION_NOT_PERMITTED');
    const byViewer = await viewer.post(`/api/v1/workspaces/${ws}/items/${it1.body.id}/actions/reopen`, {});
    assert.equal(byViewer.status, 403);
    assert.equal(byViewer.body.error.code, 'FORBIDDEN');
    assert.equal((await viewer.get(`/api/v1/workspaces/${ws}/items/${it1.body.id}`)).status, 200);
    const byMember = await member.post(`/api/v1/workspaces/${ws}/datastores`, { ...PURCHASE_DS, display_id: 'm' });
    assert.equal(byMember.status, 403);
  });

  it('opens a ticket for an action needing approval; the approver resolves it', async () => {
    const it1 = await member.post(`/api/v1/workspaces/${ws}/datastores/pr/items`, {
      title: 'z',
      fields: { amount: 5 },
    });
    const sub = await member.post(`/api/v1/workspaces/${ws}/items/${it1.body.id}/actions/submit`, {
      comment: 'please',
      fields: { vendor: 'Globex' },
    });
    assert.equal(sub.status, 200, JSON.stringify(sub.body));
    assert.equal(sub.body.item.status, 'submitted');
    assert.equal(sub.body.item.fields.vendor, undefined, 'submitted fields wait for the approval');
    const t = sub.body.ticket;
    assert.equal(t.state, 'pending');
    assert.equal(t.action, 'submit');
    assert.equal(t.submitter_id, memberId);
    assert.equal(t.batch_approvable, true);

    const second = await member.post(`/api/v1/workspaces/${ws}/items/${it1.body.id}/actions/submit`, {});
    assert.equal(second.status, 409);
    assert.equal(second.body.error.code, 'ITEM_PENDING_APPROVAL');

    const mine = await approver.get(`/api/v1/workspaces/${ws}/tickets?assignee=me&state=pending`);
    assert.equal(mine.status, 200);
    assert.ok(mine.body.tickets.some((x: any) => x.id === t.id));
    const notMine = await member.get(`/api/v1/workspaces/${ws}/tickets?assignee=me&state=pending`);
    assert.equal(notMine.body.total, 0);

    const byMember = await member.post(`/api/v1/workspaces/${ws}/tickets/${t.id}/approve`, {});
    assert.equal(byMember.status, 403);
    assert.equal(byMember.body.error.code, 'NOT_ASSIGNEE');

    const ok = await approver.post(`/api/v1/workspaces/${ws}/tickets/${t.id}/approve`, { comment: 'fine' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.ticket.state, 'approved');
    assert.equal(ok.body.ticket.decided_by, approverId);
    assert.equal(ok.body.item.status, 'approved');
    assert.equal(ok.body.item.fields.vendor, 'Globex');
    const twice = await approver.post(`/api/v1/workspaces/${ws}/tickets/${t.id}/reject`, {});
    assert.equal(twice.status, 409);
    assert.equal(twice.body.error.code, 'TICKET_ALREADY_DECIDED');
    const h = await member.get(`/api/v1/workspaces/${ws}/items/${it1.body.id}`);
    assert.deepEqual(
      h.body.history.map((x: any) => x.kind),
      ['create', 'submit', 'approve'],
    );
  });

  it('rejects to the reject status and withdraws to the previous one', async () => {
    const a = await member.post(`/api/v1/workspaces/${ws}/datastores/pr/items`, { title: 'r' });
    const t1 = (await member.post(`/api/v1/workspaces/${ws}/items/${a.body.id}/actions/submit`, {})).body.ticket;
    const rej = await admin.post(`/api/v1/workspaces/${ws}/tickets/${t1.id}/reject`, { comment: 'no' });
    assert.equal(rej.status, 200);
    assert.equal(rej.body.item.status, 'rejected');
    const t2 = (await member.post(`/api/v1/workspaces/${ws}/items/${a.body.id}/actions/submit`, {})).body.ticket;
    const byApprover = await approver.post(`/api/v1/workspaces/${ws}/tickets/${t2.id}/withdraw`, {});
    assert.equal(byApprover.status, 403);
    const wd = await member.post(`/api/v1/workspaces/${ws}/tickets/${t2.id}/withdraw`, {});
    assert.equal(wd.status, 200);
    assert.equal(wd.body.ticket.state, 'withdrawn');
    assert.equal(wd.body.item.status, 'rejected');
  });

  it('answers another workspace’s ids with 404 and never its data', async () => {
    const other = await s.user('outsider');
    const ows = (await other.api.post('/api/v1/workspaces', { name: 'Other' })).body.id;
    await other.api.post(`/api/v1/workspaces/${ows}/datastores`, PURCHASE_DS);
    const oitem = (await other.api.post(`/api/v1/workspaces/${ows}/datastores/pr/items`, { title: 'secret' })).body.id;
    for (const url of [
      `/api/v1/workspaces/${ows}`,
      `/api/v1/workspaces/${ows}/datastores`,
      `/api/v1/workspaces/${ows}/tickets`,
    ]) {
      const r = await member.get(url);
      assert.equal(r.status, 404, url);
      assert.equal(r.body.error.code, 'WORKSPACE_NOT_FOUND');
    }
    // Our workspace, their item id: not found, and the action changes nothing.
    const cross = await member.get(`/api/v1/workspaces/${ws}/items/${oitem}`);
    assert.equal(cross.status, 404);
    const act = await admin.post(`/api/v1/workspaces/${ws}/items/${oitem}/actions/reopen`, {});
    assert.equal(act.status, 404);
    const still = await other.api.get(`/api/v1/workspaces/${ows}/items/${oitem}`);
    assert.equal(still.body.rev_no, 1);
    const list = await member.get('/api/v1/workspaces');
    assert.deepEqual(
      list.body.workspaces.map((w: any) => w.id),
      [ws],
    );
  });

  it('refuses a project_id shaped like a workspace id', async () => {
    const r = await admin.post('/api/v1/workspaces', { name: 'x', project_id: ws });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'VALIDATION_FAILED');
    assert.deepEqual((await admin.get(`/api/v1/workspaces/${ws}`)).body.name, 'Acme');
  });

  it('requires a valid token everywhere but health', async () => {
    assert.equal((await s.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    const none = await s.app.inject({ method: 'GET', url: `/api/v1/workspaces/${ws}` });
    assert.equal(none.statusCode, 401);
    assert.equal(JSON.parse(none.body).error.code, 'UNAUTHENTICATED');
    const bad = await s.client('bg_nope').get('/api/v1/workspaces');
    assert.equal(bad.status, 401);
    const xauth = await s.app.inject({
      method: 'GET',
      url: '/api/v1/workspaces',
      headers: { 'x-auth-token': admin.token },
    });
    assert.equal(xauth.statusCode, 200);
    const notAdmin = await member.post('/api/v1/users', { name: 'x' });
    assert.equal(notAdmin.status, 403);
  });
});
