/**
 * Nobody acts as someone they are not, on both databases over the HTTP API:
 * - a workspace admin adds a user only by an invitation the user accepts; until then nothing about the user is
 *   revealed, and an unknown user id answers exactly like an existing one the admin cannot see;
 * - the batch approval open API (docs/batch-approvals.md) names another user only where the caller administers every workspace
 *   involved and the user belongs to each, never a system admin; the ticket, the item history and the webhook
 *   event record who really decided and on whose behalf;
 * - four-eyes: nobody decides a ticket they submitted, unless the action sets approval.allow_self_approval.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type Client, type TestService } from '../helpers/service.ts';
import { waitForBatch } from '../helpers/wait.ts';
import { person, requestsDatastore, workspace, type Person } from '../helpers/worlds.ts';
import { check, submit, waitForGroup } from '../batch-approvals/fixture.ts';

const UNKNOWN_ID = '1111111111111111111';

/** A datastore with one approval action under four-eyes and one that allows its submitter to decide. */
const FOUR_EYES_DS = requestsDatastore([
  { display_id: 'submit', name: 'Submit', approval: { approver_role: 'approver' } },
  {
    display_id: 'self',
    name: 'Submit (self-approvable)',
    approval: { approver_role: 'approver', allow_self_approval: true },
  },
]);

const requestsWorkspace = async (owner: Person, name: string): Promise<string> =>
  (await workspace(owner.api, { name }, [FOUR_EYES_DS])).ws;

/** Opens a ticket in `ws` by `who` with `action`; the ticket id and its item id. */
async function ticket(who: Client, ws: string, action = 'submit'): Promise<{ id: string; item: string }> {
  const made = await who.post(`/api/v1/workspaces/${ws}/datastores/req/items`, { title: 'r', fields: { amount: 1 } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const r = await who.post(`/api/v1/workspaces/${ws}/items/${made.body.id}/actions/${action}`, {});
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { id: r.body.ticket.id, item: made.body.id };
}

/** The answer without what echoes the request or differs per call (ids, times). */
function shape(body: any): unknown {
  const { id: _id, created_at: _c, expires_at: _e, user_id: _u, email: _m, ...rest } = body;
  return rest;
}

describeEachDialect('security: invitations reveal nothing before acceptance', (dialect) => {
  let s: TestService;
  let owner: Person;
  let ws: string;
  let stranger: Person;

  before(async () => {
    s = await startTestService(dialect, { worker: false });
    owner = await person(s, 'owner');
    ws = await requestsWorkspace(owner, 'Home');
    // A user of another tenant, with an email the owner may guess.
    const u = await s.root.post('/api/v1/users', { name: 'Stranger Name', email: 'stranger@example.com' });
    const t = await s.root.post(`/api/v1/users/${u.body.id}/tokens`, {});
    stranger = { id: u.body.id, name: u.body.name, api: s.client(t.body.token) };
    const theirs = await stranger.api.post('/api/v1/workspaces', { name: 'Elsewhere' });
    assert.equal(theirs.status, 201);
  });
  after(() => s.close());

  it('a workspace admin cannot add a non-member directly, and an unknown id answers the same', async () => {
    const existing = await owner.api.put(`/api/v1/workspaces/${ws}/members/${stranger.id}`, { role: 'admin' });
    const unknown = await owner.api.put(`/api/v1/workspaces/${ws}/members/${UNKNOWN_ID}`, { role: 'admin' });
    assert.equal(existing.status, unknown.status, JSON.stringify([existing.body, unknown.body]));
    assert.equal(existing.status, 404);
    assert.deepEqual(existing.body, unknown.body);
    assert.doesNotMatch(JSON.stringify(existing.body), /Stranger|stranger@/);
    const members = (await owner.api.get(`/api/v1/workspaces/${ws}/members`)).body.members;
    assert.ok(!members.some((m: any) => m.user_id === stranger.id), 'not added');
    assert.equal((await stranger.api.get(`/api/v1/workspaces/${ws}`)).status, 404);
  });

  it('invitations by id or email answer alike for unknown and existing users, and reveal no name or email', async () => {
    const byId = await owner.api.post(`/api/v1/workspaces/${ws}/invitations`, {
      user_id: stranger.id,
      role: 'approver',
    });
    const byUnknownId = await owner.api.post(`/api/v1/workspaces/${ws}/invitations`, {
      user_id: UNKNOWN_ID,
      role: 'approver',
    });
    assert.equal(byId.status, 201, JSON.stringify(byId.body));
    assert.equal(byUnknownId.status, 201, JSON.stringify(byUnknownId.body));
    assert.deepEqual(shape(byId.body), shape(byUnknownId.body));
    assert.deepEqual(Object.keys(byId.body).sort(), Object.keys(byUnknownId.body).sort());
    assert.doesNotMatch(JSON.stringify(byId.body), /Stranger|stranger@/);

    const byEmail = await owner.api.post(`/api/v1/workspaces/${ws}/invitations`, {
      email: 'STRANGER@example.com',
      role: 'viewer',
    });
    const byUnknownEmail = await owner.api.post(`/api/v1/workspaces/${ws}/invitations`, {
      email: 'nobody@example.com',
      role: 'viewer',
    });
    assert.equal(byEmail.status, 201, JSON.stringify(byEmail.body));
    assert.deepEqual(shape(byEmail.body), shape(byUnknownEmail.body));
    assert.doesNotMatch(JSON.stringify(byEmail.body), /Stranger/);

    // The admin's list shows what the admin gave, nothing more, all pending.
    const listed = await owner.api.get(`/api/v1/workspaces/${ws}/invitations`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    assert.doesNotMatch(JSON.stringify(listed.body), /Stranger/);
    assert.deepEqual(
      listed.body.invitations.map((i: any) => i.state),
      ['pending', 'pending', 'pending', 'pending'],
    );
    // Nor is the user a member yet.
    assert.equal((await stranger.api.get(`/api/v1/workspaces/${ws}`)).status, 404);
    const members = (await owner.api.get(`/api/v1/workspaces/${ws}/members`)).body.members;
    assert.ok(!members.some((m: any) => m.user_id === stranger.id));

    // The invitee sees both (by id and by email) with the workspace's name and the inviter.
    const mine = await stranger.api.get('/api/v1/invitations');
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.deepEqual(
      mine.body.invitations.map((i: any) => [i.id, i.workspace.name, i.role]).sort(),
      [
        [byId.body.id, 'Home', 'approver'],
        [byEmail.body.id, 'Home', 'viewer'],
      ].sort(),
    );

    // Declining tells the inviter nothing; accepting the other makes the member.
    assert.equal((await stranger.api.post(`/api/v1/invitations/${byEmail.body.id}/decline`, {})).status, 204);
    const declined = (await owner.api.get(`/api/v1/workspaces/${ws}/invitations`)).body.invitations.find(
      (i: any) => i.id === byEmail.body.id,
    );
    assert.equal(declined.state, 'pending');
    assert.equal(
      (await stranger.api.post(`/api/v1/invitations/${byEmail.body.id}/accept`, {})).status,
      404,
      'a declined invitation is gone',
    );

    // Someone else cannot accept it.
    const other = await person(s, 'other');
    const refused = await other.api.post(`/api/v1/invitations/${byId.body.id}/accept`, {});
    assert.equal(refused.status, 404, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'INVITATION_NOT_FOUND');

    const accepted = await stranger.api.post(`/api/v1/invitations/${byId.body.id}/accept`, {});
    assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
    assert.deepEqual([accepted.body.workspace_id, accepted.body.role], [ws, 'approver']);
    assert.equal((await stranger.api.get(`/api/v1/workspaces/${ws}`)).status, 200);
    const now = (await owner.api.get(`/api/v1/workspaces/${ws}/members`)).body.members.find(
      (m: any) => m.user_id === stranger.id,
    );
    assert.deepEqual([now.role, now.name], ['approver', 'Stranger Name'], 'known once accepted');
    assert.equal(
      (await owner.api.get(`/api/v1/workspaces/${ws}/invitations`)).body.invitations.find(
        (i: any) => i.id === byId.body.id,
      ).state,
      'accepted',
    );
    assert.equal(
      (await stranger.api.post(`/api/v1/invitations/${byId.body.id}/accept`, {})).status,
      404,
      'accepted once',
    );

    // Now a member: the admin changes their role directly.
    const promoted = await owner.api.put(`/api/v1/workspaces/${ws}/members/${stranger.id}`, { role: 'member' });
    assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
    assert.equal(promoted.body.role, 'member');
  });

  it('an admin revokes an invitation; only admins invite; a system admin still adds members directly', async () => {
    const invitee = await person(s, 'invitee');
    const inv = await owner.api.post(`/api/v1/workspaces/${ws}/invitations`, { user_id: invitee.id, role: 'member' });
    assert.equal(inv.status, 201);
    assert.equal((await owner.api.delete(`/api/v1/workspaces/${ws}/invitations/${inv.body.id}`)).status, 204);
    assert.deepEqual((await invitee.api.get('/api/v1/invitations')).body.invitations, []);
    assert.equal((await invitee.api.post(`/api/v1/invitations/${inv.body.id}/accept`, {})).status, 404);

    const viewer = await person(s, 'viewer', ws, 'viewer');
    const denied = await viewer.api.post(`/api/v1/workspaces/${ws}/invitations`, {
      user_id: invitee.id,
      role: 'admin',
    });
    assert.equal(denied.status, 403, JSON.stringify(denied.body));
    // An invitation to another tenant's workspace is not found, like the workspace.
    const elsewhere = (await stranger.api.get('/api/v1/workspaces')).body.workspaces.find(
      (w: any) => w.name === 'Elsewhere',
    ).id;
    assert.equal(
      (await owner.api.post(`/api/v1/workspaces/${elsewhere}/invitations`, { user_id: invitee.id, role: 'admin' }))
        .status,
      404,
    );
    // Neither user_id nor email, or both: refused.
    assert.equal((await owner.api.post(`/api/v1/workspaces/${ws}/invitations`, { role: 'member' })).status, 400);
    assert.equal(
      (
        await owner.api.post(`/api/v1/workspaces/${ws}/invitations`, {
          user_id: invitee.id,
          email: 'a@b.c',
          role: 'member',
        })
      ).status,
      400,
    );

    const direct = await s.root.put(`/api/v1/workspaces/${ws}/members/${invitee.id}`, { role: 'member' });
    assert.equal(direct.status, 200, JSON.stringify(direct.body));
    assert.equal((await invitee.api.get(`/api/v1/workspaces/${ws}`)).status, 200);
  });
});

function forbidden(r: { status: number; body: any }, what: string): void {
  assert.equal(r.status, 403, `${what}: ${JSON.stringify(r.body)}`);
  assert.equal(r.body.code, 'FORBIDDEN', what);
}

describeEachDialect(
  'security: the batch approval open API’s user_id names another user only within the caller’s administration',
  (dialect) => {
    let s: TestService;
    let owner1: Person;
    let owner2: Person;
    let owner3: Person;
    let approver: Person;
    let member: Person;
    let W1: string;
    let W2: string;
    let W3: string;

    before(async () => {
      s = await startTestService(dialect, {
        settings: { webhooks: { allowPrivate: true, allowedHosts: null } },
        workerOptions: { idlePollMs: 50 },
      });
      owner1 = await person(s, 'owner1');
      owner2 = await person(s, 'owner2');
      owner3 = await person(s, 'owner3');
      W1 = await requestsWorkspace(owner1, 'W1');
      W2 = await requestsWorkspace(owner2, 'W2');
      W3 = await requestsWorkspace(owner3, 'W3');
      approver = await person(s, 'approver', W1, 'approver');
      member = await person(s, 'member', W1, 'member');
      // The approver and member belong to W2 too, where owner1 is only a member.
      for (const [u, role] of [
        [approver, 'approver'],
        [member, 'member'],
        [owner1, 'member'],
      ] as const) {
        assert.equal((await s.root.put(`/api/v1/workspaces/${W2}/members/${u.id}`, { role })).status, 200);
      }
    });
    after(() => s.close());

    it('refuses a caller who does not administer every workspace of the tasks', async () => {
      const t1 = await ticket(member.api, W1);
      const t2 = await ticket(member.api, W2);
      forbidden(await check(owner1.api, approver.id, [t1.id, t2.id]), '_check over W1 and W2');
      forbidden(await submit(owner1.api, approver.id, [t1.id, t2.id]), '_submit over W1 and W2');
      assert.equal((await s.root.get(`/api/v1/workspaces/${W2}/tickets/${t2.id}`)).body.state, 'pending');
      assert.equal(
        (await s.root.get(`/api/v1/workspaces/${W1}/tickets/${t1.id}`)).body.state,
        'pending',
        'nothing decided',
      );
      // The approver themself may.
      assert.deepEqual(
        (await check(approver.api, approver.id, [t1.id, t2.id])).body.map((v: any) => v.supported),
        [true, true],
      );
    });

    it('refuses a named user who does not belong to every workspace of the tasks', async () => {
      const W4 = await requestsWorkspace(owner1, 'W4');
      const t1 = await ticket(member.api, W1);
      const t4 = await ticket(owner1.api, W4);
      forbidden(await check(owner1.api, member.id, [t1.id, t4.id]), 'member is not in W4');
    });

    it('refuses a system admin as the named user', async () => {
      const t1 = await ticket(member.api, W1);
      forbidden(await check(owner1.api, s.admin.id, [t1.id]), '_check as the system admin');
      forbidden(await submit(owner1.api, s.admin.id, [t1.id]), '_submit as the system admin');
      assert.equal((await s.root.get(`/api/v1/workspaces/${W1}/tickets/${t1.id}`)).body.state, 'pending');
    });

    it('refuses a user of another tenant, who cannot be made a member without consent', async () => {
      const outsider = await person(s, 'outsider', W3, 'approver');
      const t1 = await ticket(member.api, W1);
      // The old way of pulling them in answers 404 now; they are not a member of W1.
      await owner1.api.put(`/api/v1/workspaces/${W1}/members/${outsider.id}`, { role: 'approver' });
      forbidden(await check(owner1.api, outsider.id, [t1.id]), '_check as another tenant’s user');
      forbidden(await submit(owner1.api, outsider.id, [t1.id]), '_submit as another tenant’s user');
      assert.equal((await s.root.get(`/api/v1/workspaces/${W1}/tickets/${t1.id}`)).body.state, 'pending');
    });

    it('records who decided and on whose behalf in the ticket, the item history and the webhook event', async () => {
      const hook = await owner1.api.post(`/api/v1/workspaces/${W1}/webhooks`, {
        url: 'http://127.0.0.1:9/hook',
        events: ['ticket.decided'],
      });
      assert.equal(hook.status, 201, JSON.stringify(hook.body));
      const t1 = await ticket(member.api, W1);
      assert.deepEqual((await check(owner1.api, approver.id, [t1.id])).body, [{ task_id: t1.id, supported: true }]);
      const sub = await submit(owner1.api, approver.id, [t1.id]);
      assert.equal(sub.status, 200, JSON.stringify(sub.body));
      const p = await waitForGroup(owner1.api, approver.id, sub.body.batch_number, 30_000);
      assert.deepEqual([p.total, p.failed_tasks], [1, []]);

      const t = (await owner1.api.get(`/api/v1/workspaces/${W1}/tickets/${t1.id}`)).body;
      assert.deepEqual([t.state, t.decided_by, t.on_behalf_of], ['approved', owner1.id, approver.id]);
      const item = (await owner1.api.get(`/api/v1/workspaces/${W1}/items/${t1.item}`)).body;
      const approval = item.history.find((h: any) => h.kind === 'approve');
      assert.deepEqual([approval.user_id, approval.on_behalf_of], [owner1.id, approver.id]);
      const submitted = item.history.find((h: any) => h.kind === 'submit');
      assert.deepEqual([submitted.user_id, submitted.on_behalf_of], [member.id, null]);

      const events = await s.db.ctx.db
        .selectFrom('webhook_event')
        .select(['type', 'body'])
        .where('workspace_id', '=', W1)
        .where('type', '=', 'ticket.decided')
        .execute();
      const decided = events.map((e) => JSON.parse(e.body).data.ticket).filter((x: any) => x.id === t1.id);
      assert.equal(decided.length, 1);
      assert.deepEqual([decided[0].decided_by, decided[0].on_behalf_of], [owner1.id, approver.id]);

      // A decision in one's own name has no on_behalf_of.
      const t2 = await ticket(member.api, W1);
      const own = await approver.api.post(`/api/v1/workspaces/${W1}/tickets/${t2.id}/approve`, {});
      assert.equal(own.status, 200, JSON.stringify(own.body));
      assert.deepEqual([own.body.ticket.decided_by, own.body.ticket.on_behalf_of], [approver.id, null]);
    });
  },
);

describeEachDialect('security: four-eyes by default', (dialect) => {
  let s: TestService;
  let owner: Person;
  let approver: Person;
  let approver2: Person;
  let ws: string;

  before(async () => {
    s = await startTestService(dialect, { workerOptions: { idlePollMs: 50 } });
    owner = await person(s, 'owner');
    ws = await requestsWorkspace(owner, 'Four eyes');
    approver = await person(s, 'approver', ws, 'approver');
    approver2 = await person(s, 'approver2', ws, 'approver');
  });
  after(() => s.close());

  const selfRefused = (r: { status: number; body: any }, what: string) => {
    assert.equal(r.status, 403, `${what}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error.code, 'SELF_APPROVAL_FORBIDDEN', what);
  };

  it('nobody approves or rejects a ticket they submitted, not even an admin; someone else does', async () => {
    const mine = await ticket(approver.api, ws);
    selfRefused(
      await approver.api.post(`/api/v1/workspaces/${ws}/tickets/${mine.id}/approve`, {}),
      'approver approves own',
    );
    selfRefused(
      await approver.api.post(`/api/v1/workspaces/${ws}/tickets/${mine.id}/reject`, {}),
      'approver rejects own',
    );
    const admins = await ticket(owner.api, ws);
    selfRefused(
      await owner.api.post(`/api/v1/workspaces/${ws}/tickets/${admins.id}/approve`, {}),
      'admin approves own',
    );
    assert.equal((await s.root.get(`/api/v1/workspaces/${ws}/tickets/${mine.id}`)).body.state, 'pending');
    // Withdrawing one's own ticket stays allowed.
    assert.equal((await owner.api.post(`/api/v1/workspaces/${ws}/tickets/${admins.id}/withdraw`, {})).status, 200);
    assert.equal((await approver2.api.post(`/api/v1/workspaces/${ws}/tickets/${mine.id}/approve`, {})).status, 200);
  });

  it('a batch fails the submitter’s own tickets with SELF_APPROVAL_FORBIDDEN, and decides the others', async () => {
    const mine = await ticket(approver.api, ws);
    const theirs = await ticket(approver2.api, ws);
    const r = await approver.api.post(`/api/v1/workspaces/${ws}/batches`, {
      operation: 'approve',
      target: { ids: [mine.id, theirs.id] },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const b = await waitForBatch({ api: approver.api, ws }, r.body.id);
    assert.deepEqual([b.succeeded, b.failed], [1, 1]);
    const failed = (await approver.api.get(`/api/v1/workspaces/${ws}/batches/${r.body.id}/items?state=failed`)).body
      .items;
    assert.deepEqual(
      failed.map((i: any) => [i.target_id, i.error_code]),
      [[mine.id, 'SELF_APPROVAL_FORBIDDEN']],
    );
  });

  it('the batch approval open API reports the submitter’s own tickets as not batch-approvable, with the reason', async () => {
    const mine = await ticket(approver.api, ws);
    const theirs = await ticket(approver2.api, ws);
    const c = await check(approver.api, approver.id, [mine.id, theirs.id]);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.deepEqual(
      c.body.map((v: any) => [v.supported, v.code ?? null]),
      [
        [false, 'SELF_APPROVAL_FORBIDDEN'],
        [true, null],
      ],
    );
    assert.match(c.body[0].reason, /submitted/);
    const sub = await submit(approver.api, approver.id, [mine.id, theirs.id]);
    const p = await waitForGroup(approver.api, approver.id, sub.body.batch_number, 30_000);
    assert.deepEqual(p.failed_tasks, [mine.id]);
    assert.equal(p.failed_reasons[0].code, 'SELF_APPROVAL_FORBIDDEN');
    // An admin acting for another approver cannot approve what the admin submitted.
    const admins = await ticket(owner.api, ws);
    const acting = await check(owner.api, approver.id, [admins.id]);
    assert.equal(acting.body[0].code, 'SELF_APPROVAL_FORBIDDEN', JSON.stringify(acting.body));
  });

  it('an action with approval.allow_self_approval lets its submitter decide', async () => {
    const ds = (await owner.api.get(`/api/v1/workspaces/${ws}/datastores/req`)).body;
    const self = ds.actions.find((a: any) => a.display_id === 'self');
    assert.equal(self.approval.allow_self_approval, true);
    assert.equal(ds.actions.find((a: any) => a.display_id === 'submit').approval.allow_self_approval, false);
    const mine = await ticket(approver.api, ws, 'self');
    const r = await approver.api.post(`/api/v1/workspaces/${ws}/tickets/${mine.id}/approve`, {});
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.ticket.state, 'approved');
    const batchOne = await ticket(approver.api, ws, 'self');
    assert.deepEqual((await check(approver.api, approver.id, [batchOne.id])).body, [
      { task_id: batchOne.id, supported: true },
    ]);
  });
});

describeEachDialect(
  'security: a batch submitted in another user’s name runs only while the caller still administers',
  (dialect) => {
    let s: TestService;

    before(async () => {
      s = await startTestService(dialect, { worker: false });
    });
    after(() => s.close());

    it('fails its items with FORBIDDEN when the admin was demoted before the worker ran it', async () => {
      const owner = await person(s, 'owner');
      const ws = await requestsWorkspace(owner, 'Demoted');
      const approver = await person(s, 'approver', ws, 'approver');
      const member = await person(s, 'member', ws, 'member');
      const t = await ticket(member.api, ws);
      const sub = await submit(owner.api, approver.id, [t.id]);
      assert.equal(sub.status, 200, JSON.stringify(sub.body));
      assert.equal((await s.root.put(`/api/v1/workspaces/${ws}/members/${owner.id}`, { role: 'member' })).status, 200);
      s.engine.startWorker({ idlePollMs: 50 });
      const p = await waitForGroup(approver.api, approver.id, sub.body.batch_number, 30_000);
      assert.deepEqual(p.failed_tasks, [t.id]);
      assert.equal(p.failed_reasons[0].code, 'FORBIDDEN');
      assert.equal((await s.root.get(`/api/v1/workspaces/${ws}/tickets/${t.id}`)).body.state, 'pending');
    });
  },
);
