import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { assertSameShape, dataartsClient, insertEntities, statusesOf, type DataartsClient } from './helpers.ts';

/** The DataArts API reference's example requests, replayed as the bytes documented. */
const PID = '0833a5737480d53b2f25c010dc1a7b88';

// The DataArts API reference's example 001: batch offline of two TABLE_MODELs (its example response, verbatim).
const SEED_001_REQUEST = `{
"biz_infos" : [ {
"biz_id" : "1229920251379118081",
"biz_type" : "TABLE_MODEL"
}, {
"biz_id" : "1222853173564289024",
"biz_type" : "TABLE_MODEL"
} ],
"approver_user_id" : "0833a573fe80d5401f6dc010a775569a",
"approver_user_name" : "test_uesr",
"email" : null,
"fast_approval" : true
}`;
const SEED_001_RESPONSE = {
  data: {
    value: {
      id: null,
      tenant_id: '0833a5737480d53b2f25c010dc1a7b88-workspace-9ce2cfd08fda4f3b95faa5ba65fa5ec3',
      group_id: '1230939932055457792',
      biz_name: null,
      biz_id: null,
      operation_status: 'SUCCESS',
      operation_type: 'OFFLINE',
      biz_info: null,
      create_by: 'test_uesr',
      remark: null,
      total: 2,
      success: 2,
      failed: 0,
      rate: '1.00',
      logs: null,
      groups: [
        {
          id: '1230939939395489792',
          tenant_id: '0833a5737480d53b2f25c010dc1a7b88-workspace-9ce2cfd08fda4f3b95faa5ba65fa5ec3',
          group_id: '1230939932055457792',
          biz_name: 'test_czh_0416',
          biz_id: '1229920251379118081',
          operation_status: 'SUCCESS',
          operation_type: 'OFFLINE',
          biz_info: '{}',
          create_by: 'test_uesr',
          remark: 'PASSED',
          total: 0,
          success: 0,
          failed: 0,
          rate: null,
          logs: null,
          groups: null,
        },
        {
          id: '1230939939395489793',
          tenant_id: '0833a5737480d53b2f25c010dc1a7b88-workspace-9ce2cfd08fda4f3b95faa5ba65fa5ec3',
          group_id: '1230939932055457792',
          biz_name: 'test_czh_0328',
          biz_id: '1222853173564289024',
          operation_status: 'SUCCESS',
          operation_type: 'OFFLINE',
          biz_info: '{}',
          create_by: 'test_uesr',
          remark: 'PASSED',
          total: 0,
          success: 0,
          failed: 0,
          rate: null,
          logs: null,
          groups: null,
        },
      ],
    },
  },
};

// The DataArts API reference's example 000: batch offline of two CODE_TABLEs, ids as strings.
const SEED_000_REQUEST = `{
  "approver_user_id" : "7b71e498e75d44048c9a22dd3c54f978",
  "approver_user_name" : "ei_dlg",
  "biz_infos" : [ {
    "biz_id" : "885123875376193536",
    "biz_type" : "CODE_TABLE"
  }, {
    "biz_id" : "885123958788317184",
    "biz_type" : "CODE_TABLE"
  } ],
  "email" : null,
  "fast_approval" : true
}`;

// reference §3.1: batch publish (children of the abridged example; the second one's fields as the first's).
const REF_PUBLISH_RESPONSE = {
  id: null,
  tenant_id: '<pid>-workspace-<ws>',
  group_id: '1230938450061053952',
  biz_name: null,
  biz_id: null,
  operation_status: 'SUCCESS',
  operation_type: 'PUBLISH',
  biz_info: null,
  create_by: 'test_uesr',
  remark: null,
  total: 2,
  success: 2,
  failed: 0,
  rate: '1.00',
  logs: null,
  groups: [
    {
      id: '1230938456012771328',
      tenant_id: '<same>',
      group_id: '1230938450061053952',
      biz_name: 'test_czh_0328',
      biz_id: '1222853173564289024',
      operation_status: 'SUCCESS',
      operation_type: 'PUBLISH',
      biz_info: '{}',
      create_by: 'test_uesr',
      remark: 'PASSED',
      total: 0,
      success: 0,
      failed: 0,
      rate: null,
      logs: null,
      groups: null,
    },
    {
      id: '1230938456012771329',
      tenant_id: '<same>',
      group_id: '1230938450061053952',
      biz_name: 'test_czh_0416',
      biz_id: '1229920251379118081',
      operation_status: 'SUCCESS',
      operation_type: 'PUBLISH',
      biz_info: '{}',
      create_by: 'test_uesr',
      remark: 'PASSED',
      total: 0,
      success: 0,
      failed: 0,
      rate: null,
      logs: null,
      groups: null,
    },
  ],
};

const VARY = ['id', 'tenant_id', 'group_id'];

describeEachDialect('DataArts: seed and reference examples', (dialect) => {
  let s: TestService;
  let ws: string;
  let da: DataartsClient;
  let approverId: string;

  before(async () => {
    s = await startTestService(dialect);
    const owner = (await s.user('owner')).api;
    ws = (await owner.post('/api/v1/workspaces', { name: 'DataArts', project_id: PID })).body.id;
    // The caller is named like the examples' user, so create_by matches them verbatim.
    const approver = await s.user('test_uesr', ws, 'approver');
    approverId = approver.user.id;
    da = dataartsClient(s, approver.api.token, ws);
  });
  after(() => s.close());

  function checkTenant(vo: any): void {
    const tenant = `${PID}-workspace-${ws}`;
    assert.equal(vo.tenant_id, tenant);
    assert.match(vo.group_id, /^[0-9]{19}$/);
    for (const [i, c] of vo.groups.entries()) {
      assert.equal(c.tenant_id, tenant);
      assert.equal(c.group_id, vo.group_id);
      assert.equal(c.id, (BigInt(vo.group_id) + BigInt(i + 1)).toString(), 'child ids are consecutive');
    }
  }

  it('example 001: batch offline of published TABLE_MODELs answers the documented BatchOperationVO', async () => {
    const ids = ['1229920251379118081', '1222853173564289024'];
    await insertEntities(
      s,
      ws,
      'TABLE_MODEL',
      [
        { id: ids[0]!, name: 'test_czh_0416' },
        { id: ids[1]!, name: 'test_czh_0328' },
      ],
      'PUBLISHED',
    );
    const r = await da.post(`/v2/${PID}/design/approvals/batch-offline?from=standard`, SEED_001_REQUEST);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(Object.keys(r.body), ['data']);
    assert.deepEqual(Object.keys(r.body.data), ['value']);
    assertSameShape(r.body.data.value, SEED_001_RESPONSE.data.value, VARY);
    checkTenant(r.body.data.value);
    assert.deepEqual(await statusesOf(s, ids), ['OFFLINE', 'OFFLINE']);
    const batch = await s.db.ctx.db
      .selectFrom('batch')
      .selectAll()
      .where('id', '=', r.body.data.value.group_id)
      .executeTakeFirstOrThrow();
    assert.equal(batch.source, 'dataarts');
    assert.equal(batch.state, 'succeeded');
  });

  it('example 000: batch offline with ids as strings, and again with the older Long form (numbers above 2^53)', async () => {
    const ids = ['885123875376193536', '885123958788317184'];
    await insertEntities(
      s,
      ws,
      'CODE_TABLE',
      [
        { id: ids[0]!, name: 'ct1' },
        { id: ids[1]!, name: 'ct2' },
      ],
      'PUBLISHED',
    );
    const r = await da.post(`/v2/${PID}/design/approvals/batch-offline`, SEED_000_REQUEST);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const v = r.body.data.value;
    assert.equal(v.operation_status, 'SUCCESS');
    assert.deepEqual(
      v.groups.map((g: any) => [g.biz_id, g.biz_name, g.remark]),
      [
        [ids[0], 'ct1', 'PASSED'],
        [ids[1], 'ct2', 'PASSED'],
      ],
    );
    assert.deepEqual(await statusesOf(s, ids), ['OFFLINE', 'OFFLINE']);

    // Publish them back with the Long form: unquoted 18- and 19-digit numbers keep every digit.
    const long = SEED_000_REQUEST.replace(/"biz_id" : "([0-9]+)"/g, '"biz_id" : $1');
    assert.ok(long.includes('"biz_id" : 885123875376193536'));
    const p = await da.post(`/v2/${PID}/design/approvals/batch-publish`, long);
    assert.equal(p.status, 200, JSON.stringify(p.body));
    assert.deepEqual(
      p.body.data.value.groups.map((g: any) => g.biz_id),
      ids,
      'emitted as strings, no precision lost',
    );
    assert.deepEqual(await statusesOf(s, ids), ['PUBLISHED', 'PUBLISHED']);
  });

  it('reference §3.1: batch publish of DRAFT entities (children in input order)', async () => {
    const ids = ['1222853173564289024', '1229920251379118081'];
    // These are the TABLE_MODELs example 001 took offline: OFFLINE may be published again.
    const r = await da.post(`/v2/${PID}/design/approvals/batch-publish`, {
      biz_infos: ids.map((biz_id) => ({ biz_id, biz_type: 'TABLE_MODEL' })),
      approver_user_id: approverId,
      approver_user_name: 'test_uesr',
      email: null,
      fast_approval: true,
      env_type: 'DEV_TYPE',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assertSameShape(r.body.data.value, REF_PUBLISH_RESPONSE, VARY);
    checkTenant(r.body.data.value);
    const batch = await s.db.ctx.db
      .selectFrom('batch')
      .select('params')
      .where('id', '=', r.body.data.value.group_id)
      .executeTakeFirstOrThrow();
    const meta = s.db.ctx.caps.readJson<any>(batch.params).meta;
    assert.equal(meta.env_type, 'DEV_TYPE', 'env_type is recorded');
    assert.equal(meta.operation_type, 'PUBLISH');
  });

  it('example 003: operation-results reads a batch back by its group id; an unknown model operation is 404', async () => {
    const ids = ['1222853173564289024'];
    const off = await da.post(`/v2/${PID}/design/approvals/batch-offline`, {
      biz_infos: ids.map((biz_id) => ({ biz_id, biz_type: 'TABLE_MODEL' })),
      approver_user_id: approverId,
      approver_user_name: 'test_uesr',
      fast_approval: true,
    });
    const group = off.body.data.value.group_id;
    const r = await da.get(`/v1/${PID}/design/operation-results?operation_type=OFFLINE&operation_id=${group}`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.data.value, off.body.data.value, 'the same BatchOperationVO as the call answered');
    // By the entity (model) id: the latest operation of that type on it.
    const byModel = await da.get(`/v1/${PID}/design/operation-results?operation_type=OFFLINE&operation_id=${ids[0]}`);
    assert.equal(byModel.body.data.value.group_id, group);
    // The seed's own request: no such TRANSFORM_LOGIC_MODEL operation here.
    const seed = await da.get(
      `/v1/${PID}/design/operation-results?operation_type=TRANSFORM_LOGIC_MODEL&operation_id=1184439352260976640`,
    );
    assert.equal(seed.status, 404);
    assert.deepEqual(Object.keys(seed.body), ['error_code', 'error_msg']);
    assert.equal(seed.body.error_code, 'DS.6042');
    // The wrong type for an existing group is not found either.
    assert.equal(
      (await da.get(`/v1/${PID}/design/operation-results?operation_type=PUBLISH&operation_id=${group}`)).status,
      404,
    );
  });

  it('reference §3.6-3.8: create, list (masked), filter and delete approvers', async () => {
    const body = `{"app_name":"dlg-ds","approver_name":"test_uesr","user_id":"${approverId}","email":"x@example.com","phone_number":"17700000000","email_notify":true,"sms_notify":true}`;
    const c = await da.post(`/v2/${PID}/design/approvals/users`, body);
    // Only admins manage the registry.
    assert.equal(c.status, 403, JSON.stringify(c.body));
    assert.equal(c.body.error_code, 'DS.6030');
    const owner = await s.user('registry-admin', ws, 'admin');
    const adm = dataartsClient(s, owner.api.token, ws);
    const ok = await adm.post(`/v2/${PID}/design/approvals/users`, body);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const a = ok.body.data.value;
    assert.deepEqual(
      Object.keys(a).sort(),
      [
        'app_name',
        'approver_name',
        'create_by',
        'create_time',
        'email',
        'id',
        'phone_number',
        'project_id',
        'topic_urn',
        'user_id',
        'user_name',
        'user_type',
      ].sort(),
    );
    assert.equal(a.user_id, approverId);
    assert.equal(a.user_name, 'test_uesr');
    assert.equal(a.user_type, 'APPROVER');
    assert.equal(a.project_id, `${PID}-workspace-${ws}`);
    assert.equal(a.email, 'x****.com');
    assert.equal(a.create_by, 'registry-admin');
    const list = await da.get(`/v2/${PID}/design/approvals/users?approver_name=UES&limit=10`);
    assert.equal(list.status, 200);
    assert.equal(list.body.data.value.total, 1);
    assert.equal(list.body.data.value.records[0].id, a.id);
    assert.equal((await da.get(`/v2/${PID}/design/approvals/users?approver_name=nobody`)).body.data.value.total, 0);
    const again = await adm.post(`/v2/${PID}/design/approvals/users`, body);
    assert.equal(again.status, 400);
    assert.equal(again.body.error_code, 'DS.6002');
    const del = await adm.delete(`/v2/${PID}/design/approvals/users?approver_ids=${a.id}`);
    assert.deepEqual(del.body, { data: { value: 1 } });
    assert.deepEqual((await adm.delete(`/v2/${PID}/design/approvals/users?approver_ids=${a.id}`)).body, {
      data: { value: 0 },
    });
  });
});
