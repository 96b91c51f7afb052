import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { buildApp } from '../../src/api/app.ts';
import { DS_ERRORS, dsErrorOf } from '../../src/api/dataarts/ds-errors.ts';
import { Errors, type ErrorCode } from '../../src/errors.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { dataartsClient, snapshot, type DataartsClient } from './helpers.ts';

const PID = 'p-bad';

it('every catalog code has one DS.60xx code (or the API gateway throttling code), with a DataArts status', () => {
  const seen = Object.values(DS_ERRORS).flatMap((d) => [...d.codes]);
  assert.deepEqual([...seen].sort(), Object.keys(Errors).sort(), 'each catalog code mapped exactly once');
  for (const code of Object.keys(Errors) as ErrorCode[])
    assert.ok([400, 401, 403, 404, 429, 500, 503].includes(dsErrorOf(code).status), code);
  for (const ds of Object.keys(DS_ERRORS)) assert.match(ds, /^(DS\.60\d\d|APIG\.0308)$/);
  assert.deepEqual(dsErrorOf('TOO_MANY_AUTH_FAILURES'), { code: 'APIG.0308', status: 429 });
  const readme = readFileSync(new URL('../../docs/dataarts.md', import.meta.url), 'utf8');
  for (const [ds, d] of Object.entries(DS_ERRORS)) {
    const row = readme.split('\n').find((l) => l.startsWith(`| \`${ds}\` | ${d.status} |`));
    assert.ok(row, `docs/dataarts.md lists ${ds} with status ${d.status}`);
    for (const c of d.codes) assert.ok(row.includes(`\`${c}\``), `docs/dataarts.md lists ${c} under ${ds}`);
  }
});

describeEachDialect('DataArts: bad input is refused whole, nothing changed', (dialect) => {
  let s: TestService;
  let ws: string;
  let otherWs: string;
  let da: DataartsClient;
  let token: string;
  let ids: string[];
  let approverId: string;
  const url = `/v2/${PID}/design/approvals/batch-publish`;

  before(async () => {
    s = await startTestService(dialect);
    const owner = (await s.user('owner')).api;
    token = owner.token;
    ws = (await owner.post('/api/v1/workspaces', { name: 'B', project_id: PID })).body.id;
    otherWs = (await (await s.user('stranger')).api.post('/api/v1/workspaces', { name: 'X', project_id: 'p-other' }))
      .body.id;
    da = dataartsClient(s, token, ws);
    ids = (
      await owner.post(`/api/v1/workspaces/${ws}/datastores/CODE_TABLE/items`, {
        items: [{ title: 'a' }, { title: 'b' }],
      })
    ).body.ids;
    approverId = (await s.user('appr', ws, 'approver')).user.id;
  });
  after(() => s.close());

  const good = () => ({
    biz_infos: ids.map((biz_id) => ({ biz_id, biz_type: 'CODE_TABLE' })),
    approver_user_id: approverId,
    approver_user_name: 'appr',
    fast_approval: true,
  });

  async function refused(
    res: Promise<{ status: number; body: any }>,
    status: number,
    code: string,
    what: string,
  ): Promise<void> {
    const before = await snapshot(s);
    const r = await res;
    assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
    assert.deepEqual(Object.keys(r.body), ['error_code', 'error_msg'], what);
    assert.equal(r.body.error_code, code, `${what}: ${r.body.error_msg}`);
    assert.ok(r.body.error_msg.length > 0);
    assert.equal(await snapshot(s), before, `${what}: nothing changed`);
  }

  it('refuses every field of ApprovalBatchParam with the wrong type or value', async () => {
    const cases: [string, Record<string, unknown>][] = [
      ['biz_infos not an array', { biz_infos: 'x' }],
      ['biz_infos empty', { biz_infos: [] }],
      [
        'biz_infos huge',
        { biz_infos: Array.from({ length: 1001 }, (_, i) => ({ biz_id: String(i + 1), biz_type: 'CODE_TABLE' })) },
      ],
      ['biz_info not an object', { biz_infos: [1] }],
      ['biz_id missing', { biz_infos: [{ biz_type: 'CODE_TABLE' }] }],
      ['biz_id not digits', { biz_infos: [{ biz_id: 'abc', biz_type: 'CODE_TABLE' }] }],
      ['biz_id negative', { biz_infos: [{ biz_id: -1, biz_type: 'CODE_TABLE' }] }],
      ['biz_id fraction', { biz_infos: [{ biz_id: 1.5, biz_type: 'CODE_TABLE' }] }],
      ['biz_id boolean', { biz_infos: [{ biz_id: true, biz_type: 'CODE_TABLE' }] }],
      ['biz_type unknown', { biz_infos: [{ biz_id: '1', biz_type: 'NOPE' }] }],
      ['biz_type lower case', { biz_infos: [{ biz_id: '1', biz_type: 'code_table' }] }],
      ['biz_type number', { biz_infos: [{ biz_id: '1', biz_type: 7 }] }],
      ['biz_info env_type unknown', { biz_infos: [{ biz_id: '1', biz_type: 'CODE_TABLE', env_type: 'X' }] }],
      [
        'duplicate biz_id',
        {
          biz_infos: [
            { biz_id: '1', biz_type: 'CODE_TABLE' },
            { biz_id: 1, biz_type: 'CODE_TABLE' },
          ],
        },
      ],
      ['approver_user_id missing', { approver_user_id: undefined }],
      ['approver_user_id number', { approver_user_id: 5 }],
      ['approver_user_name missing', { approver_user_name: undefined }],
      ['approver_user_name object', { approver_user_name: {} }],
      ['email number', { email: 1 }],
      ['fast_approval string', { fast_approval: 'true' }],
      ['fast_approval number', { fast_approval: 1 }],
      ['schedule_time number', { schedule_time: 1830 }],
      ['schedule_time HH_MM', { schedule_time: '18_30' }],
      ['schedule_time minute 60', { schedule_time: '60_10' }],
      ['schedule_time hour 24', { schedule_time: '00_24' }],
      ['schedule_time colon', { schedule_time: '30:18' }],
      ['schedule_time empty', { schedule_time: '' }],
      ['env_type unknown', { env_type: 'PROD' }],
      ['approver not configured (fast_approval false)', { fast_approval: false }],
    ];
    for (const [what, patch] of cases) {
      await refused(da.post(url, { ...good(), ...patch }), 400, 'DS.6001', what);
    }
    await refused(da.post(url, '{"biz_infos": ['), 400, 'DS.6000', 'invalid JSON');
    await refused(da.post(url, [good()]), 400, 'DS.6001', 'array body');
    await refused(da.post(url, 'null'), 400, 'DS.6001', 'null body');
    await refused(
      da.post(url, JSON.stringify(good()), { 'content-type': 'text/plain' }),
      400,
      'DS.6000',
      'not JSON media type',
    );
  });

  it('refuses missing or wrong headers and projects, and other tenants', async () => {
    await refused(dataartsClient(s, null, ws).post(url, good()), 401, 'DS.6010', 'no token');
    await refused(dataartsClient(s, 'bg_nope', ws).post(url, good()), 401, 'DS.6010', 'bad token');
    await refused(dataartsClient(s, token, null).post(url, good()), 400, 'DS.6001', 'no workspace header');
    await refused(
      da.post(`/v2/p-other/design/approvals/batch-publish`, good()),
      404,
      'DS.6040',
      'path project of another workspace',
    );
    await refused(
      da.post(url, good(), { 'x-project-id': 'p-other' }),
      400,
      'DS.6001',
      'X-Project-Id of another project',
    );
    await refused(
      dataartsClient(s, token, otherWs).post(`/v2/p-other/design/approvals/batch-publish`, good()),
      404,
      'DS.6040',
      "another tenant's workspace",
    );
    await refused(
      dataartsClient(s, token, '999').get(`/v2/${PID}/design/approvals`),
      404,
      'DS.6040',
      'no such workspace',
    );
    await refused(da.get(`/v2/${PID}/design/nope`), 404, 'DS.6041', 'unknown route');
    await refused(da.delete(url), 404, 'DS.6041', 'wrong method');
    // With X-Project-Id matching, and the workspace header, it goes through.
    const ok = await da.post(
      `/v1/${PID}/design/approvals/batch-publish`,
      { ...good(), biz_infos: [{ biz_id: ids[0], biz_type: 'CODE_TABLE' }] },
      { 'x-project-id': PID },
    );
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
  });

  it('refuses bad queries and bodies of the other routes', async () => {
    const d = `/v2/${PID}/design`;
    await refused(
      da.put(`${d}/approvals/action?action-id=approve`, { ids: ['1'], msg: 'x' }),
      400,
      'DS.6001',
      'unknown action-id',
    );
    await refused(da.put(`${d}/approvals/action`, { ids: ['1'], msg: 'x' }), 400, 'DS.6001', 'action-id missing');
    await refused(
      da.put(`${d}/approvals/action?action-id=resolve`, { ids: [], msg: 'x' }),
      400,
      'DS.6001',
      'ids empty',
    );
    await refused(
      da.put(`${d}/approvals/action?action-id=resolve`, { ids: 'a', msg: 'x' }),
      400,
      'DS.6001',
      'ids a string',
    );
    await refused(da.put(`${d}/approvals/action?action-id=resolve`, { ids: ['x1'] }), 400, 'DS.6001', 'ids not digits');
    await refused(
      da.put(`${d}/approvals/action?action-id=resolve`, { ids: ['1'], msg: 5 }),
      400,
      'DS.6001',
      'msg a number',
    );
    await refused(
      da.put(`${d}/approvals/action?action-id=resolve`, { ids: Array.from({ length: 1001 }, (_, i) => String(i + 1)) }),
      400,
      'DS.6001',
      'ids huge',
    );
    await refused(da.put(`${d}/approvals`), 400, 'DS.6001', 'withdraw without ids');
    await refused(da.put(`${d}/approvals?ids=1,,2`), 400, 'DS.6001', 'withdraw with a malformed list');
    for (const q of [
      'limit=0',
      'limit=101',
      'limit=x',
      'offset=-1',
      'approval_status=DONE',
      'approval_type=X',
      'biz_type=NOPE',
      'begin_time=yesterday',
      'biz_id=abc',
    ]) {
      await refused(da.get(`${d}/approvals?${q}`), 400, 'DS.6001', `approvals ${q}`);
    }
    await refused(da.get(`/v1/${PID}/design/operation-results`), 400, 'DS.6001', 'operation_type missing');
    await refused(
      da.get(`/v1/${PID}/design/operation-results?operation_type=NOPE`),
      400,
      'DS.6001',
      'operation_type unknown',
    );
    await refused(
      da.get(`/v1/${PID}/design/operation-results?operation_type=PUBLISH&operation_id=x`),
      400,
      'DS.6001',
      'operation_id not digits',
    );
    await refused(
      da.get(`/v1/${PID}/design/operation-results?operation_type=PUBLISH&limit=500`),
      400,
      'DS.6001',
      'limit too large',
    );
    await refused(da.post(`${d}/approvals/users`, { approver_name: 'x' }), 400, 'DS.6001', 'approver without user_id');
    await refused(
      da.post(`${d}/approvals/users`, { approver_name: 'x', user_id: 7 }),
      400,
      'DS.6001',
      'approver user_id a number',
    );
    await refused(
      da.post(`${d}/approvals/users`, { approver_name: 'x', user_id: '42', email_notify: 'yes' }),
      400,
      'DS.6001',
      'email_notify a string',
    );
    await refused(
      da.post(`${d}/approvals/users`, { approver_name: 'x', user_id: '42' }),
      404,
      'DS.6042',
      'approver not a member',
    );
    const memberId = (await s.user('plain', ws, 'member')).user.id;
    await refused(
      da.post(`${d}/approvals/users`, { approver_name: 'x', user_id: memberId }),
      400,
      'DS.6001',
      'approver whose role may not decide',
    );
    await refused(da.delete(`${d}/approvals/users`), 400, 'DS.6001', 'delete approvers without ids');
  });

  it('refuses a body over BATCHGATE_BODY_LIMIT (DS.6000) and id lists over 1000 (DS.6001), changing nothing', async () => {
    const small = await buildApp({ ctx: s.db.ctx, engine: s.engine, bodyLimit: 1024 });
    await small.ready();
    try {
      const tiny = dataartsClient({ ...s, app: small }, token, ws);
      const d = `/v2/${PID}/design`;
      const pad = 'x'.repeat(2048);
      await refused(
        tiny.post(url, { ...good(), approver_user_name: pad }),
        400,
        'DS.6000',
        'batch-publish over the limit',
      );
      await refused(
        tiny.post(`${d}/approvals/batch-offline`, { ...good(), approver_user_name: pad }),
        400,
        'DS.6000',
        'batch-offline over the limit',
      );
      await refused(
        tiny.put(`${d}/approvals/action?action-id=resolve`, { ids: ['1'], msg: pad }),
        400,
        'DS.6000',
        'decision over the limit',
      );
      await refused(
        tiny.post(`${d}/approvals/users`, { approver_name: pad, user_id: approverId }),
        400,
        'DS.6000',
        'approver over the limit',
      );
      // Under the limit the same app answers.
      assert.equal((await tiny.get(`${d}/approvals`)).status, 200);
    } finally {
      await small.close();
    }
    const d = `/v2/${PID}/design`;
    const ids1001 = Array.from({ length: 1001 }, (_, i) => String(i + 1)).join(',');
    await refused(da.put(`${d}/approvals?ids=${ids1001}`), 400, 'DS.6001', 'withdraw 1001 ids');
    await refused(da.delete(`${d}/approvals/users?approver_ids=${ids1001}`), 400, 'DS.6001', 'delete 1001 approvers');
  });
});
