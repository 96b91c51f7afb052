import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type Client, type TestService } from '../helpers/service.ts';
import { dataartsClient, dataartsWorld, insertEntities, snapshot, statusesOf, type DataartsClient } from './helpers.ts';

const PID = 'p-drafts';

/** PublishVersionVO keys (the DataArts Studio API reference, in the SDK's attribute order). */
const VERSION_VO_KEYS = [
  'id',
  'version_name',
  'version_tag',
  'description',
  'biz_id',
  'biz_type',
  'biz_info',
  'biz_info_vo',
  'effect_objs',
  'change_props',
  'sql_ddl',
  'physical_table',
  'dev_physical_table',
  'technical_asset',
  'business_asset',
  'meta_data_link',
  'data_quality',
  'dlf_task',
  'materialization',
  'publish_to_dlm',
  'biz_metric',
  'summary_status',
  'is_current_version',
  'create_time',
  'create_by',
];

describeEachDialect('DataArts: the pending edit (下展) of a published entity, #9 delete and #10 diff', (dialect) => {
  let s: TestService;
  let ws: string;
  let owner: Client;
  let memberApi: Client;
  let adm: DataartsClient;
  let approver: DataartsClient;
  let member: DataartsClient;
  let viewer: DataartsClient;
  let approverId: string;
  const base = (v = 'v2') => `/${v}/${PID}/design`;
  const native = (id: string) => `/api/v1/workspaces/${ws}/items/${id}`;
  const business = (id: string, bizType = 'TABLE_MODEL', v = 'v2') =>
    `${base(v)}/approvals/business/${id}?biz_type=${bizType}`;
  const diffUrl = (id: string, bizType = 'TABLE_MODEL', v = 'v2') =>
    `${base(v)}/approvals/business/${id}/diff?biz_type=${bizType}`;

  async function entity(name: string, info: Record<string, unknown>, bizType = 'TABLE_MODEL'): Promise<string> {
    const r = await owner.post(`/api/v1/workspaces/${ws}/datastores/${bizType}/items`, {
      title: name,
      fields: { biz_info: info },
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id;
  }
  const body = (ids: string[], fast: boolean, bizType = 'TABLE_MODEL') => ({
    biz_infos: ids.map((biz_id) => ({ biz_id, biz_type: bizType })),
    approver_user_id: approverId,
    approver_user_name: 'appr',
    fast_approval: fast,
  });
  async function publishFast(ids: string[], bizType = 'TABLE_MODEL') {
    const r = await adm.post(`${base()}/approvals/batch-publish`, body(ids, true, bizType));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data.value;
  }
  async function edit(id: string, info: Record<string, unknown>) {
    const r = await memberApi.patch(native(id), { fields: { biz_info: info } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body;
  }
  async function pendingTicket(id: string): Promise<string> {
    const r = await approver.get(`${base()}/approvals?approval_status=DEVELOPING&biz_id=${id}`);
    assert.equal(r.body.data.value.total, 1);
    return r.body.data.value.records[0].id;
  }
  const itemOf = async (id: string) => (await owner.get(native(id))).body;

  before(async () => {
    s = await startTestService(dialect);
    ({ ws, owner, adm, approverId, approver, memberApi, member, viewer } = await dataartsWorld(s, 'D', PID));
  });
  after(() => s.close());

  it('the biz_type datastores declare PUBLISHED as released', async () => {
    assert.deepEqual((await owner.get(`/api/v1/workspaces/${ws}/datastores/TABLE_MODEL`)).body.drafts, {
      statuses: ['PUBLISHED'],
    });
  });

  it('an edit of a PUBLISHED entity is its pending edit: the entity stays; diff shows it; delete answers 1, then 0', async () => {
    const id = await entity('orders', { code: 'ord', owner: 'ann' });
    await publishFast([id]);
    const published = await itemOf(id);
    assert.equal(published.versions.length, 1);

    const patched = await edit(id, { code: 'ord2', owner: 'ann', comment: 'new' });
    assert.equal(patched.rev_no, published.rev_no);
    assert.deepEqual(patched.fields.biz_info, { code: 'ord', owner: 'ann' });
    const now = await itemOf(id);
    assert.equal(now.status, 'PUBLISHED');
    assert.equal(now.rev_no, published.rev_no);
    assert.deepEqual(now.draft.fields.biz_info, { code: 'ord2', owner: 'ann', comment: 'new' });

    for (const v of ['v2', 'v1']) {
      const d = await member.get(diffUrl(id, 'TABLE_MODEL', v));
      assert.equal(d.status, 200, JSON.stringify(d.body));
      const vo = d.body.data.value;
      assert.deepEqual(Object.keys(vo), VERSION_VO_KEYS);
      assert.equal(vo.id, null);
      assert.equal(vo.version_name, 'V2');
      assert.equal(vo.biz_id, id);
      assert.equal(vo.biz_type, 'TABLE_MODEL');
      assert.equal(vo.biz_info, '{"code":"ord2","owner":"ann","comment":"new"}');
      assert.deepEqual(vo.biz_info_vo, {
        code: 'ord2',
        owner: 'ann',
        comment: 'new',
        id,
        name: 'orders',
        status: 'PUBLISHED',
      });
      assert.deepEqual(JSON.parse(vo.change_props), [
        { prop: 'code', before: 'ord', after: 'ord2' },
        { prop: 'comment', before: null, after: 'new' },
      ]);
      assert.equal(vo.is_current_version, false);
      assert.equal(vo.create_by, 'memb');
      assert.match(vo.create_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      for (const k of ['version_tag', 'description', 'effect_objs', 'sql_ddl', 'physical_table', 'summary_status'])
        assert.equal(vo[k], null, k);
    }

    // A viewer may read the diff but not delete.
    assert.equal((await viewer.get(diffUrl(id))).status, 200);
    const vw = await viewer.delete(business(id));
    assert.equal(vw.status, 403);
    assert.equal(vw.body.error_code, 'DS.6030');

    const del = await member.delete(business(id));
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.deepEqual(del.body, { data: { value: 1 } });
    assert.deepEqual((await member.delete(business(id, 'TABLE_MODEL', 'v1'))).body, { data: { value: 0 } });
    const gone = await itemOf(id);
    assert.equal(gone.draft, null);
    assert.equal(gone.rev_no, published.rev_no);
    assert.deepEqual(gone.fields.biz_info, { code: 'ord', owner: 'ann' });
    const nod = await member.get(diffUrl(id));
    assert.equal(nod.status, 404);
    assert.equal(nod.body.error_code, 'DS.6042');
    assert.match(nod.body.error_msg, /no pending edit/);
  });

  it('an entity that is not published is edited in place and has no pending edit', async () => {
    const id = await entity('draft-one', { code: 'a' });
    const p = await edit(id, { code: 'b' });
    assert.deepEqual(p.fields.biz_info, { code: 'b' });
    assert.deepEqual((await member.delete(business(id))).body, { data: { value: 0 } });
    assert.equal((await member.get(diffUrl(id))).status, 404);
  });

  it('fast re-publish applies the pending edit and records a new version', async () => {
    const id = await entity('fast', { code: 'f1' });
    await publishFast([id]);
    // Without a pending edit, publishing a published entity fails with DataArts' text.
    const twice = await publishFast([id]);
    assert.equal(twice.groups[0].remark, 'The definition has been released and does not support resubmission');
    await edit(id, { code: 'f2' });
    const rev = (await itemOf(id)).rev_no;
    const r = await publishFast([id]);
    assert.equal(r.operation_status, 'SUCCESS');
    assert.equal(r.groups[0].remark, 'PASSED');
    const it2 = await itemOf(id);
    assert.equal(it2.status, 'PUBLISHED');
    assert.deepEqual(it2.fields.biz_info, { code: 'f2' });
    assert.equal(it2.rev_no, rev + 1);
    assert.equal(it2.draft, null);
    assert.deepEqual(
      it2.versions.map((v: any) => [v.version, v.fields.biz_info.code, v.batch_id]),
      [
        [1, 'f1', it2.versions[0].batch_id],
        [2, 'f2', r.group_id],
      ],
    );
    assert.equal((await member.get(diffUrl(id))).status, 404);
  });

  it('re-publish with approval: under review the edit is frozen; reject and withdraw keep it; resolve applies it', async () => {
    const id = await entity('appr', { code: 'a1' });
    await publishFast([id]);
    await edit(id, { code: 'a2' });

    const sub = await member.post(`${base()}/approvals/batch-publish`, body([id], false));
    assert.equal(sub.body.data.value.groups[0].remark, 'PASSED', JSON.stringify(sub.body));
    assert.deepEqual(await statusesOf(s, [id]), ['PUBLISH_DEVELOPING']);
    // The diff still shows what is under review; deleting or editing it is refused.
    assert.equal((await member.get(diffUrl(id))).status, 200);
    const del = await member.delete(business(id));
    assert.equal(del.status, 400);
    assert.equal(del.body.error_code, 'DS.6002');
    assert.equal(
      (await memberApi.patch(native(id), { fields: { biz_info: { code: 'a3' } } })).body.error.code,
      'ITEM_PENDING_APPROVAL',
    );

    const rej = await approver.put(`${base()}/approvals/action?action-id=reject`, {
      ids: [await pendingTicket(id)],
      msg: 'no',
    });
    assert.equal(rej.body.data.value.operation_status, 'SUCCESS');
    assert.deepEqual(await statusesOf(s, [id]), ['PUBLISHED']);
    let cur = await itemOf(id);
    assert.deepEqual(cur.fields.biz_info, { code: 'a1' });
    assert.deepEqual(cur.draft.fields.biz_info, { code: 'a2' });

    await member.post(`${base()}/approvals/batch-publish`, body([id], false));
    assert.deepEqual((await member.put(`${base()}/approvals?ids=${await pendingTicket(id)}`)).body, {
      data: { value: 1 },
    });
    assert.deepEqual(await statusesOf(s, [id]), ['PUBLISHED']);
    assert.deepEqual((await itemOf(id)).draft.fields.biz_info, { code: 'a2' });

    await member.post(`${base()}/approvals/batch-publish`, body([id], false));
    const ok = await approver.put(`${base()}/approvals/action?action-id=resolve`, {
      ids: [await pendingTicket(id)],
      msg: 'ok',
    });
    assert.equal(ok.body.data.value.operation_status, 'SUCCESS');
    cur = await itemOf(id);
    assert.equal(cur.status, 'PUBLISHED');
    assert.deepEqual(cur.fields.biz_info, { code: 'a2' });
    assert.equal(cur.draft, null);
    assert.deepEqual(
      cur.versions.map((v: any) => v.fields.biz_info.code),
      ['a1', 'a2'],
    );
  });

  it('a first publish through approval records version 1; offline keeps the versions', async () => {
    const id = await entity('first', { code: 'v' });
    await member.post(`${base()}/approvals/batch-publish`, body([id], false));
    await approver.put(`${base()}/approvals/action?action-id=resolve`, { ids: [await pendingTicket(id)], msg: 'ok' });
    assert.equal((await itemOf(id)).versions.length, 1);
    const off = await adm.post(`${base()}/approvals/batch-offline`, body([id], true));
    assert.equal(off.body.data.value.operation_status, 'SUCCESS');
    const cur = await itemOf(id);
    assert.equal(cur.status, 'OFFLINE');
    assert.equal(cur.versions.length, 1);
  });

  it('refuses a wrong biz_type, an unknown biz_id, another tenant and bad input, changing nothing', async () => {
    const id = await entity('guarded', { code: 'g1' });
    await publishFast([id]);
    await edit(id, { code: 'g2' });
    // Another tenant: its own workspace and project, its own token; our entity is not theirs.
    const other = await s.user('stranger');
    const ows = (await other.api.post('/api/v1/workspaces', { name: 'O', project_id: 'p-stranger' })).body.id;
    const before = await snapshot(s);
    const drafts = async () =>
      JSON.stringify(await s.db.ctx.db.selectFrom('item_draft').selectAll().orderBy('item_id').execute());
    const draftsBefore = await drafts();

    const refused = async (p: Promise<{ status: number; body: any }>, status: number, code: string, what: string) => {
      const r = await p;
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error_code, code, what);
      assert.equal(typeof r.body.error_msg, 'string', what);
    };
    for (const [method, url] of [
      ['delete', business],
      ['get', diffUrl],
    ] as const) {
      const call = (u: string, c: DataartsClient = member) => (method === 'delete' ? c.delete(u) : c.get(u));
      await refused(call(url(id, 'CODE_TABLE')), 404, 'DS.6042', `${method}: another biz_type`);
      await refused(call(url('1234567890123456789')), 404, 'DS.6042', `${method}: unknown biz_id`);
      await refused(call(url(id, 'NOT_A_TYPE')), 400, 'DS.6001', `${method}: unknown biz_type`);
      await refused(
        call(`${base()}/approvals/business/${id}${method === 'get' ? '/diff' : ''}`),
        400,
        'DS.6001',
        `${method}: no biz_type`,
      );
      await refused(call(url('12ab')), 400, 'DS.6001', `${method}: a biz_id that is no id`);
      await refused(call(url(id), dataartsClient(s, null, ws)), 401, 'DS.6010', `${method}: no token`);
      await refused(
        call(url(id), dataartsClient(s, owner.token, null)),
        400,
        'DS.6001',
        `${method}: no workspace header`,
      );
      await refused(call(url(id).replace(PID, 'p-other')), 404, 'DS.6040', `${method}: another project`);
    }

    const stranger = dataartsClient(s, other.api.token, ows);
    const theirs = (u: string) => u.replace(PID, 'p-stranger');
    await refused(stranger.delete(theirs(business(id))), 404, 'DS.6042', 'another tenant: delete');
    await refused(stranger.get(theirs(diffUrl(id))), 404, 'DS.6042', 'another tenant: diff');
    // Naming our workspace in the header does not help them.
    await refused(
      dataartsClient(s, other.api.token, ws).delete(business(id)),
      404,
      'DS.6040',
      'another tenant: our workspace',
    );

    assert.equal(await snapshot(s), before);
    assert.equal(await drafts(), draftsBefore);
    assert.deepEqual((await member.delete(business(id))).body, { data: { value: 1 } });
  });

  it('an entity published before versions existed diffs against itself and republishes as V1', async () => {
    await insertEntities(s, ws, 'CODE_TABLE', [{ id: '1217123755210469376', name: 'legacy' }], 'PUBLISHED');
    await edit('1217123755210469376', { code: 'new' });
    const d = await member.get(diffUrl('1217123755210469376', 'CODE_TABLE'));
    assert.equal(d.status, 200, JSON.stringify(d.body));
    assert.equal(d.body.data.value.version_name, 'V1');
    assert.deepEqual(JSON.parse(d.body.data.value.change_props), [
      { prop: 'biz_info', before: null, after: { code: 'new' } },
    ]);
    // Reference §3.9 example request.
    const r = await member.delete(`/v2/${PID}/design/approvals/business/1217123755210469376?biz_type=CODE_TABLE`);
    assert.deepEqual(r.body, { data: { value: 1 } });
  });
});
