/**
 * ExecuteBulkAction through /api/v0: the documented payload, each documented response, revision
 * conflicts, the continue_proc loop, and refused input that changes nothing. Every test on both databases.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { bulkActionResponse } from '../../src/api/hexabase/present.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { importItems, itemOf, setupHexabase, SAMPLE_DS, type HexWorld } from './helpers.ts';

describeEachDialect('hexabase ExecuteBulkAction', (dialect) => {
  let s: TestService;
  let w: HexWorld;
  const bulk = (action: string, body: unknown, api = w.member) =>
    api.post(`${w.base}/items/bulkaction/${action}`, body);
  const ofTag = (tag: string) => [{ id: 'TEXT_FIELD_1', search_value: [tag], exact_match: true }];

  async function batchRows() {
    return s.db.ctx.db.selectFrom('batch').selectAll().orderBy('id').execute();
  }

  before(async () => {
    s = await startTestService(dialect);
    w = await setupHexabase(s, 'TestApp');
  });
  after(() => s.close());

  it("replays the seed's payload: success shape, item, changes, comment, as_params recorded on the batch", async () => {
    const ids = await importItems(w.member, w.ws, 3, 'New', { TEXT_FIELD_1: 'seed' });
    const r = await bulk('UpdateAction', {
      conditions: [
        { id: 'i_id', search_value: [ids[0], ids[1], ids[2]] },
        { id: 'status', search_value: ['New'] },
      ],
      item: {
        TEXT_FIELD_1: '更新データサンプル',
        SELECT_FIELD_1: ['5ab84c1fcce5fe5c983ea186', '5846636efb90a1024d2982fa'],
        USER_FIELD_1: ['58272f4efb90a148d8508d9c', '5ab84c1fcce5fe5c983ea999'],
        FILE_FIELD_1: ['5ab84c1fcce5fe5c983ea185', '5ab84c1fcce5fe5c983ea789'],
      },
      item_revisions: { [ids[0]!]: 1, [ids[1]!]: 1, [ids[2]!]: 1 },
      comment: '一括承認',
      max_items: 100,
      use_display_id: true,
      continue_proc: true,
      as_params: { param1: 'value1', param2: 'value2' },
      realtime_auto_link: true,
      access_key_updates: {
        overwrite: true,
        ignore_action_settings: true,
        groups_to_publish: ['GROUP1', 'GROUP2'],
        roles_to_publish: ['ADMIN', 'MEMBER'],
        users_to_publish: ['607c2a25844887b6855a12a9', '5f25956428dc5c55b463bc77'],
      },
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
    assert.deepEqual(r.body, { has_error: false, result: { matched: 3, processed: 3 } });
    for (const id of ids) {
      const item = await itemOf(w.owner, w.ws, id);
      assert.equal(item.status, 'Approved');
      assert.equal(item.rev_no, 2);
      assert.equal(item.fields.TEXT_FIELD_1, '更新データサンプル');
      assert.deepEqual(item.fields.SELECT_FIELD_1, ['5ab84c1fcce5fe5c983ea186', '5846636efb90a1024d2982fa']);
      const last = item.history.at(-1);
      assert.equal(last.comment, '一括承認');
      assert.equal(last.action, 'UpdateAction');
      assert.ok(last.batch_id, 'the history names the batch');
    }
    const batch = (await batchRows()).at(-1)!;
    assert.equal(batch.source, 'hexabase');
    assert.equal(batch.state, 'succeeded');
    assert.equal(batch.total, 3);
    const params = s.db.ctx.caps.readJson<any>(batch.params);
    assert.deepEqual(params.meta.as_params, { param1: 'value1', param2: 'value2' });
    assert.equal(params.meta.realtime_auto_link, true);
    assert.equal(params.meta.access_key_updates.overwrite, true);
    assert.equal(params.comment, '一括承認');
    const viaApi = await w.member.get(`/api/v1/workspaces/${w.ws}/batches/${batch.id}`);
    assert.equal(viaApi.body.source, 'hexabase');

    // The `changes` array form does the same; keys may be field ids or display ids.
    const more = await importItems(w.member, w.ws, 2, 'New', { TEXT_FIELD_1: 'changes' });
    const textFieldId = (await w.owner.get(`/api/v1/workspaces/${w.ws}/datastores/SampleDB`)).body.fields[0].id;
    const c = await bulk('EditAction', {
      conditions: ofTag('changes'),
      changes: [
        { id: textFieldId, value: 'changed' },
        { id: 'kind', value: ['b'] },
      ],
    });
    assert.deepEqual(c.body, { has_error: false, result: { matched: 2, processed: 2 } });
    const edited = await itemOf(w.owner, w.ws, more[0]!);
    assert.equal(edited.fields.TEXT_FIELD_1, 'changed');
    assert.equal(edited.fields.kind, 'b', 'a one-option select array is the option');
    assert.equal(edited.status, 'New', 'an update action keeps the status');
  });

  it('replays the seed verbatim against ids that do not exist: "target was not found."', async () => {
    const before_ = (await batchRows()).length;
    const r = await bulk('UpdateAction', {
      conditions: [
        {
          id: 'i_id',
          search_value: ['58272f4efb90a148d850qwer', '5846636efb90a1024d29as12', '5846636efb90a1024d29asdf'],
        },
        { id: 'status', search_value: ['New'] },
      ],
      item: { TEXT_FIELD_1: '更新データサンプル' },
      item_revisions: { '58272f4efb90a148d850qwer': 1, '5846636efb90a1024d29as12': 3, '5846636efb90a1024d29asdf': 12 },
      comment: '一括承認',
      max_items: 100,
      use_display_id: true,
      continue_proc: true,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, {
      errors: [{ description: 'target was not found.', error: '', error_level: 'WARN' }],
      has_error: false,
      result: { matched: 0, processed: 0 },
    });
    const rows = await batchRows();
    assert.equal(rows.length, before_ + 1, 'recorded as a batch even when nothing matched');
    assert.equal(rows.at(-1)!.state, 'succeeded');
  });

  it('partial errors: revision conflicts and items in the wrong status fail, the others are processed', async () => {
    const ok = await importItems(w.member, w.ws, 19, 'New', { TEXT_FIELD_1: 'partial' });
    const conflicted = ok[3]!;
    const wrong = (await importItems(w.member, w.ws, 1, 'Approved', { TEXT_FIELD_1: 'partial' }))[0]!;
    const stale = (await importItems(w.member, w.ws, 1, 'New', { TEXT_FIELD_1: 'partial' }))[0]!;
    // Someone edits two items after the client read them at rev_no 1.
    for (const id of [conflicted, stale])
      assert.equal(
        (await w.owner.patch(`/api/v1/workspaces/${w.ws}/items/${id}`, { fields: { amount: 7 } })).status,
        200,
      );
    const r = await bulk('UpdateAction', {
      conditions: ofTag('partial'),
      item_revisions: { [stale]: 1, [ok[0]!]: 1 },
      comment: 'partial',
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const np = r.body.errors.find((e: any) => e.error_code === 'NO_PRIVILEGES');
    assert.deepEqual(r.body, {
      errors: [
        {
          description: `item:${stale}(d_id:${w.dsId}) has rev_no:2 but specified rev_no:1`,
          error: 'Revision number mismatch',
          error_code: 'ITEM_REV_CONFLICT',
          error_level: 'ERROR',
          reference_id: stale,
        },
        {
          description: np.description,
          error: np.error,
          error_code: 'NO_PRIVILEGES',
          error_level: 'ERROR',
          reference_id: wrong,
        },
      ].sort((a, b) => (a.reference_id < b.reference_id ? -1 : 1)),
      has_error: true,
      result: { matched: 21, processed: 19 },
    });
    assert.deepEqual(Object.keys(r.body), ['errors', 'has_error', 'result'], 'keys in the documented order');
    assert.deepEqual(Object.keys(np), ['description', 'error', 'error_code', 'error_level', 'reference_id']);
    assert.match(np.error, /^invalid action_id or has no privileges to the user or current item status\. a_id:\d+$/);
    assert.match(np.description, /Approved/);
    assert.equal((await itemOf(w.owner, w.ws, conflicted)).status, 'Approved', 'no revision given: force-updated');
    assert.equal((await itemOf(w.owner, w.ws, stale)).status, 'New');
    assert.equal((await itemOf(w.owner, w.ws, wrong)).status, 'Approved');
    const b = (await batchRows()).at(-1)!;
    assert.equal(b.state, 'completed_with_errors');
    assert.deepEqual([b.succeeded, b.failed], [19, 2]);
  });

  it('renders SYSTEM_ERROR for any other item failure', () => {
    const ds = { id: 'D1' } as any;
    const action = { id: 'A1' } as any;
    const body = bulkActionResponse(
      {
        batch: null,
        matched: 21,
        processed: 20,
        max_items: 100,
        capped: false,
        failures: [
          { item_id: '5c6a674f84f4be1f241ff4af', code: 'INTERNAL', message: 'boom', rev_no: 1, expected_rev: null },
        ],
      },
      ds,
      action,
    );
    assert.deepEqual(body, {
      errors: [
        {
          description: 'error occurred when execute action: boom',
          error: 'Error',
          error_code: 'SYSTEM_ERROR',
          error_level: 'ERROR',
          reference_id: '5c6a674f84f4be1f241ff4af',
        },
      ],
      has_error: true,
      result: { matched: 21, processed: 20 },
    });
  });

  it('max_items: WARN with continue_proc, refused whole without it', async () => {
    const ids = await importItems(w.member, w.ws, 15, 'New', { TEXT_FIELD_1: 'capped' });
    const batches = (await batchRows()).length;
    const refused = await bulk('UpdateAction', { conditions: ofTag('capped'), max_items: 10 });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    assert.equal(refused.body.has_error, true);
    assert.deepEqual(refused.body.result, { matched: 15, processed: 0 });
    assert.equal(refused.body.errors[0].error_code, 'INVALID_PARAMS');
    assert.equal((await batchRows()).length, batches, 'nothing submitted');
    for (const id of ids) assert.equal((await itemOf(w.owner, w.ws, id)).rev_no, 1);

    const r = await bulk('UpdateAction', { conditions: ofTag('capped'), max_items: 10, continue_proc: true });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, {
      errors: [{ description: 'the number of items has reached max_items 10', error_level: 'WARN' }],
      has_error: true,
      result: { matched: 15, processed: 10 },
    });
    const again = await bulk('UpdateAction', {
      conditions: [...ofTag('capped'), { id: 'status', search_value: ['New'] }],
      max_items: 10,
      continue_proc: true,
    });
    assert.deepEqual(again.body, { has_error: false, result: { matched: 5, processed: 5 } });
  });

  it('continue_proc loop until matched == processed covers every item exactly once', async () => {
    const ids = await importItems(w.member, w.ws, 95, 'New', { TEXT_FIELD_1: 'loop' });
    const conditions = [...ofTag('loop'), { id: 'status', search_value: ['New'] }];
    const rounds: [number, number][] = [];
    for (;;) {
      const r = await bulk('UpdateAction', { conditions, max_items: 20, continue_proc: true, comment: 'loop' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      rounds.push([r.body.result.matched, r.body.result.processed]);
      if (r.body.result.matched === r.body.result.processed) break;
      assert.ok(rounds.length < 10);
    }
    assert.deepEqual(rounds, [
      [95, 20],
      [75, 20],
      [55, 20],
      [35, 20],
      [15, 15],
    ]);
    const hist = await s.db.ctx.db
      .selectFrom('item_history')
      .select(['item_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('item_id', 'in', ids)
      .where('kind', '=', 'action')
      .groupBy('item_id')
      .execute();
    assert.equal(hist.length, 95);
    assert.ok(
      hist.every((h) => Number(h.n) === 1),
      'one action entry per item',
    );
    const done = await w.member.post(`${w.base}/items/search`, { conditions: ofTag('loop'), return_count_only: true });
    assert.equal(done.body.totalItems, 95);
    const stillNew = await w.member.post(`${w.base}/items/search`, { conditions, return_count_only: true });
    assert.equal(stillNew.body.totalItems, 0);
  });

  it('refuses bad input with 400 INVALID_PARAMS and changes nothing', async () => {
    const ids = await importItems(w.member, w.ws, 3, 'New', { TEXT_FIELD_1: 'bad' });
    const batches = (await batchRows()).length;
    const good = { conditions: ofTag('bad'), continue_proc: true };
    const bad: unknown[] = [
      { ...good, max_items: 305 },
      { ...good, max_items: 15 },
      { ...good, max_items: 0 },
      { ...good, max_items: 310 },
      { ...good, max_items: '100' },
      { ...good, max_items: 100.5 },
      { ...good, continue_proc: 'true' },
      { ...good, comment: 5 },
      { ...good, item: { amount: 'x' } },
      { ...good, item: { no_such_field: 1 } },
      { ...good, item: { kind: 'zzz' } },
      { ...good, changes: [{ id: 'amount' }] },
      { ...good, changes: { amount: 1 } },
      { ...good, item_revisions: { [ids[0]!]: '1' } },
      { ...good, as_params: ['x'] },
      { ...good, access_key_updates: { overwrite: 'yes' } },
      { ...good, unknown_key: 1 },
      { conditions: [{ id: 'TEXT_FIELD_1', search_value: ['(unclosed'] }] },
      { conditions: [{ id: 'TEXT_FIELD_1', search_value: ['*x'] }] },
      { conditions: [{ id: 'title', search_value: ['[a-'] }] },
      {
        conditions: [
          { id: 'TEXT_FIELD_1', search_value: Array.from({ length: 1001 }, (_, i) => `v${i}`), exact_match: true },
        ],
      },
      { conditions: [{ id: 'TEXT_FIELD_1', search_value: 'bad' }] },
      { conditions: [{ id: 'TEXT_FIELD_1', search_value: [{ x: 1 }] }] },
      { conditions: [{ id: 'no_such_field', search_value: ['x'] }] },
      { conditions: [{ id: 'amount', search_value: ['abc', null] }] },
      { conditions: [{ id: 'status', search_value: ['NoSuchStatus'] }] },
      { conditions: { id: 'status' } },
    ];
    for (const body of bad) {
      const r = await bulk('UpdateAction', body);
      assert.equal(r.status, 400, `${JSON.stringify(body).slice(0, 200)} → ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error_code, 'INVALID_PARAMS', JSON.stringify(r.body));
      assert.equal(r.body.errors[0].error_code, 'INVALID_PARAMS');
      assert.equal(r.body.errors[0].error_level, 'ERROR');
    }
    const notJson = await w.member.raw('POST', `${w.base}/items/bulkaction/UpdateAction`, '{"conditions": [', {
      'content-type': 'application/json',
    });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.error_code, 'INVALID_PARAMS');
    assert.equal((await batchRows()).length, batches, 'no batch was recorded');
    for (const id of ids) {
      const item = await itemOf(w.owner, w.ws, id);
      assert.equal(item.rev_no, 1);
      assert.equal(item.status, 'New');
    }
  });

  it('answers 401, 403 NO_PRIVILEGES and 404 NOT_FOUND in the Hexabase envelope', async () => {
    await importItems(w.member, w.ws, 1, 'New', { TEXT_FIELD_1: 'auth' });
    const body = { conditions: ofTag('auth') };
    const anon = await s.app.inject({ method: 'POST', url: `${w.base}/items/bulkaction/UpdateAction`, payload: body });
    assert.equal(anon.statusCode, 401);
    assert.equal(JSON.parse(anon.body).errors[0].error_level, 'ERROR');
    const viewer = await bulk('UpdateAction', body, w.viewer);
    assert.equal(viewer.status, 403);
    assert.equal(viewer.body.error_code, 'NO_PRIVILEGES');
    const unknownAction = await bulk('NoSuchAction', body);
    assert.equal(unknownAction.status, 403);
    assert.equal(unknownAction.body.error_code, 'NO_PRIVILEGES');
    assert.match(unknownAction.body.error, /^invalid action_id or has no privileges/);
    const adminOnly = await bulk('CloseAction', body);
    assert.equal(adminOnly.status, 403, 'an action limited to other roles');
    assert.equal(adminOnly.body.error_code, 'NO_PRIVILEGES');
    const noDs = await w.member.post(
      `/api/v0/applications/TestApp/datastores/Nope/items/bulkaction/UpdateAction`,
      body,
    );
    assert.equal(noDs.status, 404);
    assert.deepEqual(
      {
        error: noDs.body.error,
        error_code: noDs.body.error_code,
        e: noDs.body.errors[0].error_code,
        lvl: noDs.body.errors[0].error_level,
        err: noDs.body.errors[0].error,
      },
      { error: 'NOT_FOUND', error_code: 'NOT_FOUND', e: 'NOT_FOUND', lvl: 'ERROR', err: 'not found' },
    );
    const stranger = (await s.user('stranger')).api;
    const other = await stranger.post(`${w.base}/items/bulkaction/UpdateAction`, body);
    assert.equal(other.status, 404, "another tenant's application is not found");
    // By ids instead of display ids; the app by workspace id as well as project_id.
    const ds = (await w.owner.get(`/api/v1/workspaces/${w.ws}/datastores/SampleDB`)).body;
    const actionId = ds.actions.find((a: any) => a.display_id === 'UpdateAction').id;
    const byId = await w.member.post(
      `/api/v0/applications/${w.ws}/datastores/${ds.id}/items/bulkaction/${actionId}`,
      body,
    );
    assert.deepEqual(byId.body, { has_error: false, result: { matched: 1, processed: 1 } });
    assert.equal(SAMPLE_DS.actions.length, ds.actions.length);
  });
});
