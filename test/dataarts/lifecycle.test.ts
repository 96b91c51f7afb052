import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type Client, type TestService } from '../helpers/service.ts';
import { dataartsWorld, statusesOf, type DataartsClient } from './helpers.ts';

const PID = 'p-lifecycle';

describeEachDialect('DataArts: lifecycle, tickets, per-item failures, schedule', (dialect) => {
  let s: TestService;
  let ws: string;
  let owner: Client;
  let adm: DataartsClient;
  let approver: DataartsClient;
  let member: DataartsClient;
  let approverId: string;
  const base = () => `/v2/${PID}/design`;

  /** DataArts entities are created through the native API in the biz_type's datastore; they start in DRAFT. */
  async function entities(n: number, bizType = 'CODE_TABLE', prefix = 'e'): Promise<string[]> {
    const r = await owner.post(`/api/v1/workspaces/${ws}/datastores/${bizType}/items`, {
      items: Array.from({ length: n }, (_, i) => ({
        title: `${prefix}${i}`,
        fields: { biz_info: { code: `${prefix}${i}` } },
      })),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.ids;
  }

  const batchBody = (ids: string[], extra: Record<string, unknown> = {}, bizType = 'CODE_TABLE') => ({
    biz_infos: ids.map((biz_id) => ({ biz_id, biz_type: bizType })),
    approver_user_id: approverId,
    approver_user_name: 'appr',
    ...extra,
  });

  before(async () => {
    s = await startTestService(dialect);
    ({ ws, owner, adm, approverId, approver, member } = await dataartsWorld(s, 'L', PID));
  });
  after(() => s.close());

  it('publish without fast_approval opens tickets for the approver; resolve publishes (reference §3.3)', async () => {
    const ids = await entities(2, 'CODE_TABLE', 'pub');
    const r = await member.post(`${base()}/approvals/batch-publish`, batchBody(ids, { fast_approval: false }));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.value.operation_status, 'SUCCESS');
    assert.deepEqual(
      r.body.data.value.groups.map((g: any) => g.remark),
      ['PASSED', 'PASSED'],
    );
    assert.deepEqual(await statusesOf(s, ids), ['PUBLISH_DEVELOPING', 'PUBLISH_DEVELOPING']);

    // Reference §3.4 example query.
    const list = await approver.get(
      `${base()}/approvals?offset=0&limit=10&approval_status=DEVELOPING&is_approval_time=false&biz_id=${ids[0]}`,
    );
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.data.value.total, 1);
    const rec = list.body.data.value.records[0];
    assert.deepEqual(
      Object.keys(rec).sort(),
      [
        'id',
        'tenant_id',
        'name_ch',
        'name_en',
        'biz_id',
        'biz_type',
        'biz_info',
        'biz_info_obj',
        'biz_version',
        'biz_status',
        'approval_status',
        'approval_type',
        'submit_time',
        'create_by',
        'l1',
        'l2',
        'l3',
        'approval_time',
        'approver',
        'email',
        'msg',
        'directory_path',
      ].sort(),
    );
    assert.equal(rec.biz_id, ids[0]);
    assert.equal(rec.biz_type, 'CODE_TABLE');
    assert.equal(rec.biz_status, 'PUBLISH_DEVELOPING');
    assert.equal(rec.approval_status, 'DEVELOPING');
    assert.equal(rec.approval_type, 'PUBLISH');
    assert.equal(rec.approver, 'appr');
    assert.equal(rec.create_by, 'memb');
    assert.equal(rec.name_ch, 'pub0');
    assert.equal(rec.biz_info, '{"code":"pub0"}');
    assert.equal(rec.biz_info_obj.status, 'PUBLISH_DEVELOPING');
    assert.match(rec.submit_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    const all = await approver.get(
      `${base()}/approvals?approval_status=DEVELOPING&approval_type=PUBLISH&create_by=memb&approver=appr&name=PUB&biz_type=CODE_TABLE`,
    );
    const tickets = all.body.data.value.records.map((x: any) => x.id);
    assert.equal(tickets.length, 2);

    // Only the assignee (or an admin) decides: a member's resolve fails per ticket.
    const byMember = await member.put(`${base()}/approvals/action?action-id=resolve`, { ids: tickets, msg: 'ok' });
    assert.equal(byMember.status, 200);
    assert.equal(byMember.body.data.value.operation_status, 'FAILED');
    assert.equal(byMember.body.data.value.failed, 2);
    // Ids as JSON numbers (the 2022 form) are accepted.
    const ok = await approver.put(
      `${base()}/approvals/action?action-id=resolve`,
      `{"ids":[${tickets.join(',')}],"msg":"approved"}`,
    );
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const v = ok.body.data.value;
    assert.equal(v.operation_type, 'APPROVAL');
    assert.equal(v.operation_status, 'SUCCESS');
    assert.equal(v.total, 2);
    assert.equal(v.rate, '1.00');
    assert.deepEqual(new Set(v.groups.map((g: any) => g.biz_id)), new Set(ids));
    assert.ok(
      v.groups.every(
        (g: any) => g.remark === 'PASSED' && g.operation_type === 'APPROVAL' && g.biz_name.startsWith('pub'),
      ),
    );
    assert.deepEqual(await statusesOf(s, ids), ['PUBLISHED', 'PUBLISHED']);
    const done = await approver.get(`${base()}/approvals?approval_status_detail=APPROVED&biz_id=${ids[0]}`);
    assert.equal(done.body.data.value.records[0].approval_status, 'APPROVED');
    assert.equal(done.body.data.value.records[0].msg, 'approved');
    assert.equal(
      (await approver.get(`${base()}/approvals?approval_status=FINISHED&biz_id=${ids[0]}`)).body.data.value.total,
      1,
    );
  });

  it('reject moves the entity to REJECT; offline + reject returns it to PUBLISHED; withdraw restores', async () => {
    const ids = await entities(3, 'TABLE_MODEL', 'rej');
    await member.post(`${base()}/approvals/batch-publish`, batchBody(ids, {}, 'TABLE_MODEL'));
    const pending = (
      await approver.get(`${base()}/approvals?approval_status=DEVELOPING&biz_type=TABLE_MODEL&limit=100`)
    ).body.data.value.records;
    const ticketOf = (id: string) => pending.find((p: any) => p.biz_id === id).id;
    const rej = await approver.put(`${base()}/approvals/action?action-id=reject`, {
      ids: [ticketOf(ids[0]!)],
      msg: 'no',
    });
    assert.equal(rej.body.data.value.operation_status, 'SUCCESS');
    assert.equal(rej.body.data.value.operation_type, 'APPROVAL');
    // Reference §3.5: withdraw by the submitter answers the count.
    const wd = await member.put(`${base()}/approvals?ids=${ticketOf(ids[1]!)},999`);
    assert.deepEqual(wd.body, { data: { value: 1 } });
    assert.deepEqual(await statusesOf(s, ids), ['REJECT', 'DRAFT', 'PUBLISH_DEVELOPING']);
    const r = await approver.get(`${base()}/approvals?approval_status_detail=REJECT&biz_id=${ids[0]}`);
    assert.equal(r.body.data.value.records[0].approval_status, 'REJECT');
    // A rejected entity and a withdrawn one may be submitted again.
    const again = await member.post(
      `${base()}/approvals/batch-publish`,
      batchBody([ids[0]!, ids[1]!], {}, 'TABLE_MODEL'),
    );
    assert.equal(again.body.data.value.operation_status, 'SUCCESS');
    // Offline of a published one, rejected: back to PUBLISHED.
    await approver.post(`${base()}/approvals/batch-publish`, batchBody([ids[2]!], {}, 'TABLE_MODEL')); // pending already: fails per item
    const t2 = (await approver.get(`${base()}/approvals?approval_status=DEVELOPING&biz_id=${ids[2]}`)).body.data.value
      .records[0].id;
    await approver.put(`${base()}/approvals/action?action-id=resolve`, { ids: [t2], msg: 'ok' });
    await member.post(`${base()}/approvals/batch-offline`, batchBody([ids[2]!], {}, 'TABLE_MODEL'));
    assert.deepEqual(await statusesOf(s, [ids[2]!]), ['OFFLINE_DEVELOPING']);
    const t3 = (
      await approver.get(`${base()}/approvals?approval_status=DEVELOPING&approval_type=OFFLINE&biz_id=${ids[2]}`)
    ).body.data.value.records[0].id;
    await approver.put(`${base()}/approvals/action?action-id=reject`, { ids: [t3], msg: 'keep it' });
    assert.deepEqual(await statusesOf(s, [ids[2]!]), ['PUBLISHED']);
  });

  it('per-item failures answer 200 with FAILED children and the DataArts texts; the others still run', async () => {
    const [draft, published, other] = await entities(3, 'CODE_TABLE', 'f');
    await adm.post(`${base()}/approvals/batch-publish`, batchBody([published!], { fast_approval: true }));
    const unknown = '1234567890123456789';
    const r = await adm.post(`${base()}/approvals/batch-publish`, {
      ...batchBody([published!, draft!, unknown], { fast_approval: true }),
      biz_infos: [
        { biz_id: published, biz_type: 'CODE_TABLE' },
        { biz_id: draft, biz_type: 'CODE_TABLE' },
        { biz_id: unknown, biz_type: 'CODE_TABLE' },
        { biz_id: other, biz_type: 'TABLE_MODEL' },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const v = r.body.data.value;
    assert.equal(v.operation_status, 'FAILED');
    assert.deepEqual([v.total, v.success, v.failed, v.rate], [4, 1, 3, '1.00']);
    assert.deepEqual(
      v.groups.map((g: any) => [g.biz_id, g.operation_status, g.remark]),
      [
        [published, 'FAILED', 'The definition has been released and does not support resubmission'],
        [draft, 'SUCCESS', 'PASSED'],
        [unknown, 'FAILED', `CODE_TABLE ${unknown} does not exist in this workspace.`],
        [other, 'FAILED', `TABLE_MODEL ${other} does not exist in this workspace.`],
      ],
    );
    assert.equal(v.groups[2].biz_name, null);
    assert.deepEqual(await statusesOf(s, [draft!, other!]), ['PUBLISHED', 'DRAFT']);

    const off = await adm.post(`${base()}/approvals/batch-offline`, batchBody([other!], { fast_approval: true }));
    assert.equal(off.body.data.value.groups[0].remark, 'Definition f2  is not online');

    // fast_approval needs a role that may decide: a member's items fail per item, nothing moves.
    const [m1] = await entities(1, 'CODE_TABLE', 'm');
    const byMember = await member.post(`${base()}/approvals/batch-publish`, batchBody([m1!], { fast_approval: true }));
    assert.equal(byMember.status, 200);
    assert.equal(byMember.body.data.value.groups[0].operation_status, 'FAILED');
    assert.match(byMember.body.data.value.groups[0].remark, /approver or admin/);
    assert.deepEqual(await statusesOf(s, [m1!]), ['DRAFT']);
  });

  it('schedule_time schedules the batch: RUNNING with rate "0.00", read back later through operation-results', async () => {
    const ids = await entities(3, 'DIMENSION', 'sch');
    const r = await adm.post(
      `${base()}/approvals/batch-publish`,
      batchBody(ids, { fast_approval: true, schedule_time: '30_18' }, 'DIMENSION'),
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const v = r.body.data.value;
    assert.deepEqual([v.operation_status, v.rate, v.total, v.success, v.failed], ['RUNNING', '0.00', 3, 0, 0]);
    assert.ok(v.groups.every((g: any) => g.operation_status === 'RUNNING' && g.remark === null));
    const batch = await s.db.ctx.db
      .selectFrom('batch')
      .selectAll()
      .where('id', '=', v.group_id)
      .executeTakeFirstOrThrow();
    assert.equal(batch.state, 'scheduled');
    const at = new Date(Number(batch.start_at));
    assert.deepEqual([at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds()], [18, 30, 0]);
    assert.ok(Number(batch.start_at) > Date.now() && Number(batch.start_at) <= Date.now() + 86_400_000);
    assert.deepEqual(await statusesOf(s, ids), ['DRAFT', 'DRAFT', 'DRAFT']);

    // The clock reaches 18:30: the worker runs it.
    await s.db.ctx.db
      .updateTable('batch')
      .set({ not_before: Date.now(), start_at: Date.now() })
      .where('id', '=', v.group_id)
      .execute();
    s.engine.notifier.workAvailable();
    const url = `/v1/${PID}/design/operation-results?operation_type=PUBLISH&operation_id=${v.group_id}`;
    let res;
    for (let i = 0; i < 400; i++) {
      res = await adm.get(url);
      if (res.body.data.value.operation_status !== 'RUNNING') break;
      await new Promise((ok) => setTimeout(ok, 25));
    }
    assert.equal(res!.body.data.value.operation_status, 'SUCCESS', JSON.stringify(res!.body));
    assert.equal(res!.body.data.value.rate, '1.00');
    assert.deepEqual(await statusesOf(s, ids), ['PUBLISHED', 'PUBLISHED', 'PUBLISHED']);

    // limit/offset page the children; an offset that is not a multiple of limit is rounded down.
    const page = await adm.get(`${url}&limit=2&offset=3`);
    assert.equal(page.body.data.value.total, 3, 'the parent counts the whole batch');
    assert.deepEqual(
      page.body.data.value.groups.map((g: any) => g.biz_id),
      [ids[2]],
    );
    const first = await adm.get(`${url}&limit=1`);
    assert.deepEqual(
      first.body.data.value.groups.map((g: any) => g.biz_id),
      [ids[0]],
    );
  });

  it('the biz_type datastores are addressable natively and created when first needed', async () => {
    const ds = await owner.get(`/api/v1/workspaces/${ws}/datastores/TAG`);
    assert.equal(ds.status, 200);
    assert.deepEqual(
      ds.body.statuses.map((x: any) => x.display_id),
      ['DRAFT', 'PUBLISH_DEVELOPING', 'PUBLISHED', 'OFFLINE_DEVELOPING', 'OFFLINE', 'REJECT'],
    );
    // Remove one, then a publish naming that biz_type provisions it again.
    await s.db.ctx.db.deleteFrom('datastore').where('id', '=', ds.body.id).execute();
    s.db.ctx.cache.clear();
    const r = await adm.post(`${base()}/approvals/batch-publish`, batchBody(['1'], { fast_approval: true }, 'TAG'));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.value.groups[0].operation_status, 'FAILED');
    assert.equal((await owner.get(`/api/v1/workspaces/${ws}/datastores/TAG`)).status, 200);
  });
});
