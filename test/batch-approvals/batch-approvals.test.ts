import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { check, makeFixture, progress, submit, waitForGroup, type Fixture } from './fixture.ts';

/** The seed's own example ids (32-hex, not ours): they exist nowhere, so they are answered as not visible. */
const SEED_IDS = ['f787e22d0b87420d8149bda63d708cc8', 'b57d38973ac94c01ac7d81187a7e1742'];

describeEachDialect('batch approval open API', (dialect) => {
  let f: Fixture;
  before(async () => {
    f = await makeFixture(dialect);
  });
  after(() => f.close());

  async function history(ws: string, item: string) {
    return (await f.item(ws, item)).history as any[];
  }
  const approvals = async (ws: string, item: string) => (await history(ws, item)).filter((h) => h.kind === 'approve');

  it("replays the seed's examples", async () => {
    const { approver } = f;
    // 8.1 with the seed's request body, verbatim.
    const c = await approver.api.raw(
      'POST',
      `/batch_approvals/_check?user_id=${approver.id}`,
      JSON.stringify(SEED_IDS),
    );
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.deepEqual(
      c.body.map((v: any) => [v.task_id, v.supported, v.code, typeof v.reason]),
      SEED_IDS.map((id) => [id, false, 'TICKET_NOT_FOUND', 'string']),
    );
    // 8.1's response shape, with real tasks: [{supported: true}, {supported: false, reason}].
    const ok = await f.ticket(f.W1);
    const manual = await f.ticket(f.W1, 'manual');
    const c2 = await check(approver.api, approver.id, [ok.id, manual.id]);
    assert.deepEqual(c2.body, [
      { task_id: ok.id, supported: true },
      {
        task_id: manual.id,
        supported: false,
        code: 'NOT_BATCH_APPROVABLE',
        reason: 'The action does not allow batch decisions.',
      },
    ]);
    // 8.2 with the seed's body: a batch_number at once.
    const s = await approver.api.raw(
      'POST',
      `/batch_approvals/_submit?user_id=${approver.id}`,
      JSON.stringify(SEED_IDS),
    );
    assert.equal(s.status, 200, JSON.stringify(s.body));
    assert.deepEqual(Object.keys(s.body), ['batch_number']);
    assert.equal(typeof s.body.batch_number, 'string');
    // 8.3: the seed's fields, plus state and failed_reasons.
    const p = await waitForGroup(approver.api, approver.id, s.body.batch_number);
    assert.deepEqual(Object.keys(p).sort(), [
      'batch_number',
      'failed_reasons',
      'failed_tasks',
      'processed',
      'state',
      'total',
    ]);
    assert.equal(p.batch_number, s.body.batch_number);
    assert.equal(p.total, 2);
    assert.equal(p.processed, 2);
    assert.deepEqual(p.failed_tasks, SEED_IDS);
    assert.deepEqual(
      p.failed_reasons.map((r: any) => [r.task_id, r.code]),
      SEED_IDS.map((id) => [id, 'TICKET_NOT_FOUND']),
    );
    assert.equal(p.state, 'completed_with_errors');
  });

  it('_check answers each position in request order, with the reasons the real approval gives', async () => {
    const { approver, W1, W2, W3 } = f;
    const ok1 = await f.ticket(W1);
    const manual = await f.ticket(W1, 'manual');
    const explain = await f.ticket(W1, 'explain');
    const direct = await f.ticket(W1, 'direct'); // assigned to approver2
    const decided = await f.ticket(W1);
    assert.equal(
      (await f.approver2.api.post(`/api/v1/workspaces/${W1}/tickets/${decided.id}/approve`, {})).status,
      200,
    );
    const withdrawn = await f.ticket(W1);
    assert.equal(
      (await f.member.api.post(`/api/v1/workspaces/${W1}/tickets/${withdrawn.id}/withdraw`, {})).status,
      200,
    );
    const other = await f.ticket(W3); // a workspace the approver is not in
    const ok2 = await f.ticket(W2);
    const missing = '1234567890123456789';
    const ids = [ok1.id, manual.id, explain.id, direct.id, decided.id, withdrawn.id, other.id, missing, ok2.id, ok1.id];
    const expected = [
      null,
      'NOT_BATCH_APPROVABLE',
      'NOT_BATCH_APPROVABLE',
      'NOT_ASSIGNEE',
      'TICKET_ALREADY_DECIDED',
      'TICKET_ALREADY_DECIDED',
      'TICKET_NOT_FOUND',
      'TICKET_NOT_FOUND',
      null,
      null,
    ];

    const before = await f.item(W1, ok1.item);
    const r = await check(approver.api, approver.id, ids);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.map((v: any) => v.task_id),
      ids,
      'one answer per position, in order',
    );
    assert.deepEqual(
      r.body.map((v: any) => v.code ?? null),
      expected,
    );
    for (const v of r.body) {
      assert.equal(v.supported, v.code === undefined);
      if (!v.supported) assert.ok(typeof v.reason === 'string' && v.reason.length > 0, JSON.stringify(v));
      else assert.equal(v.reason, undefined);
    }
    assert.match(r.body[2].reason, /comment/);
    assert.match(r.body[5].reason, /withdrawn/);
    // The wrapped form answers the same; nothing was written.
    const wrapped = await check(approver.api, approver.id, { task_ids: ids });
    assert.deepEqual(wrapped.body, r.body);
    const after = await f.item(W1, ok1.item);
    assert.equal(after.rev_no, before.rev_no);
    assert.equal(after.status, 'submitted');

    // _submit approves exactly what _check supported; the rest fails with the same codes.
    const s = await submit(approver.api, approver.id, ids);
    assert.equal(s.status, 200, JSON.stringify(s.body));
    const p = await waitForGroup(approver.api, approver.id, s.body.batch_number);
    assert.equal(p.total, 9, 'distinct ids');
    const unsupported = new Map<string, string>();
    r.body.forEach((v: any) => !v.supported && unsupported.set(v.task_id, v.code));
    assert.deepEqual(new Set(p.failed_tasks), new Set(unsupported.keys()));
    for (const fr of p.failed_reasons) assert.equal(fr.code, unsupported.get(fr.task_id), JSON.stringify(fr));
    assert.equal((await f.item(W1, ok1.item)).status, 'approved');
    assert.equal((await f.item(W2, ok2.item)).status, 'approved');
    assert.equal((await f.item(W1, manual.item)).status, 'submitted');
    assert.equal((await f.item(W3, other.item)).status, 'submitted', 'an invisible ticket is untouched');
    assert.equal((await approvals(W1, ok1.item)).length, 1, 'a repeated id is approved once');
  });

  it('takes ids as JSON numbers, even beyond 2^53, and answers them as strings', async () => {
    const t = await f.ticket(f.W1);
    const r = await f.approver.api.raw('POST', `/batch_approvals/_check?user_id=${f.approver.id}`, `[${t.id}, 42]`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.map((v: any) => [v.task_id, v.supported]),
      [
        [t.id, true],
        ['42', false],
      ],
    );
    const w = await f.approver.api.raw(
      'POST',
      `/batch_approvals/_check?user_id=${f.approver.id}`,
      `{"task_ids":[${t.id}]}`,
    );
    assert.deepEqual(w.body, [{ task_id: t.id, supported: true }]);
  });

  it('takes 200 ids and refuses 201 whole', async () => {
    const real = await f.tickets(f.W1, 5);
    const ids = [...real.map((t) => t.id), ...Array.from({ length: 195 }, (_, i) => `nope${i}`)];
    const c = await check(f.approver.api, f.approver.id, ids);
    assert.equal(c.status, 200);
    assert.equal(c.body.length, 200);
    assert.equal(c.body.filter((v: any) => v.supported).length, 5);

    const batches = async () =>
      Number(
        (
          await f.s.db.ctx.db
            .selectFrom('batch')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const n0 = await batches();
    for (const route of ['_check', '_submit']) {
      const r = await f.approver.api.post(`/batch_approvals/${route}?user_id=${f.approver.id}`, [...ids, 'one-more']);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(r.body.code, 'TOO_MANY_TARGETS');
      assert.match(r.body.message, /200/);
      const w = await f.approver.api.post(`/batch_approvals/${route}?user_id=${f.approver.id}`, {
        task_ids: [...ids, 'one-more'],
      });
      assert.equal(w.body.code, 'TOO_MANY_TARGETS');
    }
    assert.equal(await batches(), n0, 'nothing submitted');
    assert.equal((await f.item(f.W1, real[0]!.item)).status, 'submitted');

    const s = await submit(f.approver.api, f.approver.id, ids);
    assert.equal(s.status, 200);
    const p = await waitForGroup(f.approver.api, f.approver.id, s.body.batch_number);
    assert.equal(p.total, 200);
    assert.equal(p.failed_tasks.length, 195);
    for (const t of real) assert.equal((await f.item(f.W1, t.item)).status, 'approved');
  });

  it('answers duplicates per position and approves them once', async () => {
    const [a, b] = await f.tickets(f.W1, 2);
    const ids = [a!.id, a!.id, b!.id, a!.id];
    const c = await check(f.approver.api, f.approver.id, ids);
    assert.deepEqual(
      c.body,
      ids.map((id) => ({ task_id: id, supported: true })),
    );
    const s = await submit(f.approver.api, f.approver.id, ids);
    const p = await waitForGroup(f.approver.api, f.approver.id, s.body.batch_number);
    assert.deepEqual([p.total, p.processed, p.failed_tasks, p.state], [2, 2, [], 'succeeded']);
    assert.equal((await approvals(f.W1, a!.item)).length, 1);
    assert.equal((await approvals(f.W1, b!.item)).length, 1);
  });

  it('tickets decided, withdrawn or closed between _check and _submit show in failed_tasks', async () => {
    const { W1 } = f;
    const ts = await f.tickets(W1, 5);
    const ids = ts.map((t) => t.id);
    const c = await check(f.approver.api, f.approver.id, ids);
    assert.ok(c.body.every((v: any) => v.supported));
    assert.equal((await f.approver2.api.post(`/api/v1/workspaces/${W1}/tickets/${ids[0]}/approve`, {})).status, 200);
    assert.equal((await f.approver2.api.post(`/api/v1/workspaces/${W1}/tickets/${ids[1]}/reject`, {})).status, 200);
    assert.equal((await f.member.api.post(`/api/v1/workspaces/${W1}/tickets/${ids[2]}/withdraw`, {})).status, 200);
    // No route closes a ticket yet (its item would have to be deleted): close it as that would.
    await f.s.db.ctx.db.updateTable('ticket').set({ state: 'closed' }).where('id', '=', ids[3]!).execute();

    const s = await submit(f.approver.api, f.approver.id, ids);
    const p = await waitForGroup(f.approver.api, f.approver.id, s.body.batch_number);
    assert.equal(p.total, 5);
    assert.deepEqual(p.failed_tasks, ids.slice(0, 4));
    assert.ok(
      p.failed_reasons.every((r: any) => r.code === 'TICKET_ALREADY_DECIDED' && r.reason),
      JSON.stringify(p.failed_reasons),
    );
    assert.equal(p.state, 'completed_with_errors');
    const statuses = [];
    for (const t of ts) statuses.push((await f.item(W1, t.item)).status);
    assert.deepEqual(statuses, ['approved', 'rejected', 'draft', 'submitted', 'approved']);
    const first = await approvals(W1, ts[0]!.item);
    assert.equal(first.length, 1);
    assert.equal(first[0].user_id, f.approver2.id, 'the earlier decision stands');
  });

  it('one batch_number covers the tickets of several workspaces', async () => {
    const { approver, W1, W2, W3 } = f;
    const a = await f.ticket(W1);
    const b = await f.ticket(W2);
    const c = await f.ticket(W1);
    const x = await f.ticket(W3);
    const s = await submit(approver.api, approver.id, [a.id, b.id, c.id, x.id]);
    assert.equal(s.status, 200, JSON.stringify(s.body));
    const n = s.body.batch_number;
    const p = await waitForGroup(approver.api, approver.id, n);
    assert.deepEqual([p.total, p.processed, p.failed_tasks], [4, 4, [x.id]]);
    assert.equal(p.failed_reasons[0].code, 'TICKET_NOT_FOUND');
    // One engine batch per workspace, joined by the batch_number; the invisible id rode in the first.
    const w1 = (await approver.api.get(`/api/v1/workspaces/${W1}/batches`)).body.batches.filter(
      (bt: any) => bt.group_id === n,
    );
    const w2 = (await approver.api.get(`/api/v1/workspaces/${W2}/batches`)).body.batches.filter(
      (bt: any) => bt.group_id === n,
    );
    assert.deepEqual(
      w1.map((bt: any) => [bt.operation, bt.source, bt.total, bt.succeeded, bt.failed]),
      [['approve', 'batch-approvals', 3, 2, 1]],
    );
    assert.deepEqual(
      w2.map((bt: any) => [bt.total, bt.succeeded]),
      [[1, 1]],
    );
    for (const [ws, t] of [
      [W1, a],
      [W2, b],
      [W1, c],
    ] as const) {
      const h = await approvals(ws, t.item);
      assert.equal(h.length, 1);
      assert.equal(h[0].user_id, approver.id);
    }
    assert.equal((await f.item(W3, x.item)).status, 'submitted');
    // Someone else's view of it: another user's own id, or a non-admin naming the approver.
    assert.equal((await progress(f.approver2.api, f.approver2.id, n)).status, 404);
    const forbidden = await progress(f.member2.api, approver.id, n);
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.code, 'FORBIDDEN');
    // The admin of one of the two workspaces cannot see a group that spans one it does not administer.
    assert.equal((await progress(f.owner2.api, approver.id, n)).status, 404);
    // A system admin can.
    assert.equal((await progress(f.s.root, approver.id, n)).status, 200);
  });

  it('a workspace admin acts for a member, only in the workspaces it administers', async () => {
    const { owner1, owner2, owner3, approver, member, W1, W2 } = f;
    const t1 = await f.ticket(W1);
    const t2 = await f.ticket(W2);
    const c = await check(owner1.api, approver.id, [t1.id, t2.id]);
    assert.equal(c.status, 200, JSON.stringify(c.body));
    assert.deepEqual(
      c.body.map((v: any) => [v.supported, v.code ?? null]),
      [
        [true, null],
        [false, 'TICKET_NOT_FOUND'],
      ],
    );
    const s = await submit(owner1.api, approver.id, [t1.id, t2.id]);
    assert.equal(s.status, 200, JSON.stringify(s.body));
    const n = s.body.batch_number;
    const p = await waitForGroup(owner1.api, approver.id, n);
    assert.deepEqual(p.failed_tasks, [t2.id]);
    const h = await approvals(W1, t1.item);
    assert.deepEqual(
      [h[0].user_id, h[0].on_behalf_of],
      [owner1.id, approver.id],
      'recorded as the admin’s decision on the approver’s behalf',
    );
    assert.equal((await f.item(W2, t2.item)).status, 'submitted', 'W2 is not the admin’s to act in');
    const rows = await f.s.db.ctx.db
      .selectFrom('batch')
      .select(['params', 'submitted_by'])
      .where('group_id', '=', n)
      .execute();
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.submitted_by, approver.id);
    const meta = f.s.db.ctx.caps.readJson<any>(rows[0]!.params).meta;
    assert.deepEqual(
      meta,
      { batch_number: n, user_id: approver.id, requested_by: owner1.id },
      'who really asked is kept',
    );
    // The approver sees the group as their own; owner2 (admin where the approver also is) does not.
    assert.equal((await progress(approver.api, approver.id, n)).status, 200);
    assert.equal((await progress(owner2.api, approver.id, n)).status, 404);
    assert.equal((await progress(owner1.api, owner1.id, n)).status, 404, 'not the submitter');

    // Acting for someone is refused without a shared administered workspace.
    for (const [caller, target] of [
      [member, approver.id],
      [owner3, approver.id],
      [owner1, f.member3.id],
      [approver, member.id],
    ] as const) {
      for (const r of [
        await check(caller.api, target, [t1.id]),
        await submit(caller.api, target, [t1.id]),
        await progress(caller.api, target, n),
      ]) {
        assert.equal(r.status, 403, JSON.stringify(r.body));
        assert.equal(r.body.code, 'FORBIDDEN');
      }
    }
    // An unknown user: FORBIDDEN to a workspace admin, USER_NOT_FOUND to a system admin.
    assert.equal((await check(owner1.api, '1111111111111111111', [t1.id])).body.code, 'FORBIDDEN');
    assert.equal((await check(f.s.root, '1111111111111111111', [t1.id])).body.code, 'USER_NOT_FOUND');
    // A system admin acts for anyone (but another system admin), in all of their workspaces.
    const t3 = await f.ticket(W2);
    assert.deepEqual((await check(f.s.root, approver.id, [t3.id])).body, [{ task_id: t3.id, supported: true }]);
    // An admin acting for itself may decide any ticket of its workspace.
    assert.deepEqual((await check(owner1.api, owner1.id, [(await f.ticket(W1, 'direct')).id])).body[0].supported, true);
  });

  it('a batch_number of another user or of another kind of batch answers 404', async () => {
    const t = await f.ticket(f.W1);
    const s = await submit(f.approver.api, f.approver.id, [t.id]);
    await waitForGroup(f.approver.api, f.approver.id, s.body.batch_number);
    const native = await f.approver.api.post(`/api/v1/workspaces/${f.W1}/batches`, {
      operation: 'approve',
      target: { ids: ['1234567890123456789'] },
    });
    assert.equal(native.status, 202);
    for (const [who, n] of [
      [f.approver2, s.body.batch_number],
      [f.approver, native.body.id],
      [f.approver, '9999999999999999999'],
      [f.approver, 'f787e22d0b87420d8149bda63d708cc8'],
    ] as const) {
      const r = await progress(who.api, who.id, n);
      assert.equal(r.status, 404, JSON.stringify(r.body));
      assert.equal(r.body.code, 'BATCH_NOT_FOUND');
      assert.equal(typeof r.body.message, 'string');
    }
  });

  it('authenticates with our tokens, Bearer or X-Auth-Token', async () => {
    const t = await f.ticket(f.W1);
    const none = await f.s.app.inject({
      method: 'POST',
      url: `/batch_approvals/_check?user_id=${f.approver.id}`,
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify([t.id]),
    });
    assert.equal(none.statusCode, 401);
    assert.equal(JSON.parse(none.body).code, 'UNAUTHENTICATED');
    const x = await f.s.app.inject({
      method: 'POST',
      url: `/batch_approvals/_check?user_id=${f.approver.id}`,
      headers: { 'content-type': 'application/json', 'x-auth-token': f.approver.api.token },
      payload: JSON.stringify([t.id]),
    });
    assert.equal(x.statusCode, 200);
    assert.deepEqual(JSON.parse(x.body), [{ task_id: t.id, supported: true }]);
  });
});

describeEachDialect('batch approval progress', (dialect) => {
  let f: Fixture;
  before(async () => {
    f = await makeFixture(dialect, { worker: false });
  });
  after(() => f.close());

  it('moves from 0 to total; _submit returns before anything ran', async () => {
    const ts = await f.tickets(f.W1, 30);
    const ids = [...ts.map((t) => t.id), 'gone'];
    const s = await submit(f.approver.api, f.approver.id, ids);
    assert.equal(s.status, 200);
    const p0 = (await progress(f.approver.api, f.approver.id, s.body.batch_number)).body;
    assert.deepEqual(p0, {
      batch_number: s.body.batch_number,
      total: 31,
      processed: 0,
      failed_tasks: [],
      state: 'queued',
      failed_reasons: [],
    });
    assert.equal((await f.item(f.W1, ts[0]!.item)).status, 'submitted');
    f.s.engine.startWorker({ idlePollMs: 50 });
    const p = await waitForGroup(f.approver.api, f.approver.id, s.body.batch_number);
    assert.deepEqual([p.total, p.processed, p.failed_tasks, p.state], [31, 31, ['gone'], 'completed_with_errors']);
    for (const t of ts) assert.equal((await f.item(f.W1, t.item)).status, 'approved');
  });
});
