/**
 * Four-eyes and DataArts: fast_approval and a reviewer resolving the tickets they
 * submitted stay as the DataArts document describes, because the DataArts workflow's actions allow self-approval;
 * DataArts datastores provisioned before that flag existed get it from migration 0011; and skipping the approval
 * step of an action that does not allow it is refused like any self-approval.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { allowSelfApprovalOnDataarts } from '../../src/db/migrations/0011-acting-as.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type Client, type TestService } from '../helpers/service.ts';
import { dataartsWorld, statusesOf, type DataartsClient } from '../dataarts/helpers.ts';

const PID = 'p-four-eyes';

describeEachDialect('security: four-eyes keeps DataArts fast_approval as documented', (dialect) => {
  let s: TestService;
  let ws: string;
  let owner: Client;
  let approver: DataartsClient;
  let approverId: string;
  const base = `/v2/${PID}/design`;

  async function entities(n: number, prefix: string): Promise<string[]> {
    const r = await owner.post(`/api/v1/workspaces/${ws}/datastores/CODE_TABLE/items`, {
      items: Array.from({ length: n }, (_, i) => ({
        title: `${prefix}${i}`,
        fields: { biz_info: { code: `${prefix}${i}` } },
      })),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.ids;
  }
  const publish = (ids: string[], fast: boolean) =>
    approver.post(`${base}/approvals/batch-publish`, {
      biz_infos: ids.map((biz_id) => ({ biz_id, biz_type: 'CODE_TABLE' })),
      approver_user_id: approverId,
      approver_user_name: 'appr',
      fast_approval: fast,
    });

  before(async () => {
    s = await startTestService(dialect);
    ({ ws, owner, approverId, approver } = await dataartsWorld(s, 'FE', PID));
  });
  after(() => s.close());

  it('the reviewer publishes with fast_approval, and resolves the tickets it submitted itself', async () => {
    const fast = await entities(2, 'fast');
    const r = await publish(fast, true);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(
      r.body.data.value.groups.map((g: any) => g.remark),
      ['PASSED', 'PASSED'],
    );
    assert.deepEqual(await statusesOf(s, fast), ['PUBLISHED', 'PUBLISHED']);

    const slow = await entities(1, 'slow');
    assert.equal((await publish(slow, false)).status, 200);
    const list = await approver.get(`${base}/approvals?approval_status=DEVELOPING&biz_id=${slow[0]}`);
    const ticket = list.body.data.value.records[0].id;
    const ok = await approver.put(`${base}/approvals/action?action-id=resolve`, { ids: [ticket], msg: 'mine' });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.data.value.operation_status, 'SUCCESS', JSON.stringify(ok.body));
    assert.deepEqual(await statusesOf(s, slow), ['PUBLISHED']);
  });

  it('without the flag (a datastore provisioned before 0011) fast_approval is refused; migration 0011 restores it', async () => {
    const db = s.db.ctx.db;
    const ds = await db
      .selectFrom('datastore')
      .select('id')
      .where('workspace_id', '=', ws)
      .where('display_id', '=', 'CODE_TABLE')
      .executeTakeFirstOrThrow();
    const rows = await db
      .selectFrom('ds_action')
      .select(['id', 'approval'])
      .where('datastore_id', '=', ds.id)
      .execute();
    for (const r of rows) {
      const { allow_self_approval: _dropped, ...old } = s.db.ctx.caps.readJson<Record<string, unknown>>(r.approval);
      await db
        .updateTable('ds_action')
        .set({ approval: s.db.ctx.caps.writeJson(old) })
        .where('id', '=', r.id)
        .execute();
    }
    s.db.ctx.cache.clear(); // datastore definitions are cached; this test edited one underneath

    const refused = await entities(1, 'old');
    const r = await publish(refused, true);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.data.value.groups[0].operation_status, 'FAILED');
    assert.match(r.body.data.value.groups[0].remark, /self-approval/);
    assert.deepEqual(await statusesOf(s, refused), ['DRAFT']);

    await allowSelfApprovalOnDataarts(db as never, s.db.ctx.caps);
    s.db.ctx.cache.clear();
    const again = await publish(refused, true);
    assert.deepEqual(
      again.body.data.value.groups.map((g: any) => g.remark),
      ['PASSED'],
    );
    assert.deepEqual(await statusesOf(s, refused), ['PUBLISHED']);
  });
});
