/**
 * The Hexabase calls around ExecuteBulkAction: ItemList search, CreateItem, GetItemDetails, ExecuteAction,
 * GetActions, GetStatuses, GetDatastoreFields, histories and comments. Every test on both databases.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { buildApp } from '../../src/api/app.ts';
import { fingerprint } from '../helpers/fingerprint.ts';
import { makeClient, startTestService, type TestService } from '../helpers/service.ts';
import { importItems, itemOf, setupHexabase, type HexWorld } from './helpers.ts';

describeEachDialect('hexabase items API', (dialect) => {
  let s: TestService;
  let w: HexWorld;
  let ds: any;
  const fid = (display: string) => ds.fields.find((f: any) => f.display_id === display).id;
  const sid = (display: string) => ds.statuses.find((x: any) => x.display_id === display).id;
  const aid = (display: string) => ds.actions.find((x: any) => x.display_id === display).id;

  before(async () => {
    s = await startTestService(dialect);
    w = await setupHexabase(s, 'ItemsApp');
    ds = (await w.owner.get(`/api/v1/workspaces/${w.ws}/datastores/SampleDB`)).body;
  });
  after(() => s.close());

  it('searches with paging, sorting, display ids, number values and count only', async () => {
    const ids = await importItems(w.member, w.ws, 12, 'New', { TEXT_FIELD_1: 'search', kind: 'a' });
    const search = (body: Record<string, unknown>) =>
      w.member.post(`${w.base}/items/search`, {
        conditions: [{ id: 'TEXT_FIELD_1', search_value: ['search'], exact_match: true }],
        ...body,
      });

    const page = await search({
      per_page: 5,
      page: 2,
      sort_field_id: 'amount',
      sort_order: 'desc',
      use_display_id: true,
    });
    assert.equal(page.status, 200, JSON.stringify(page.body));
    assert.equal(page.body.totalItems, 12);
    assert.deepEqual(
      page.body.items.map((i: any) => i.amount),
      ['6', '5', '4', '3', '2'],
      'numbers as strings by default',
    );
    const first = page.body.items[0];
    assert.equal(first.i_id, ids[6]);
    assert.equal(first.d_id, w.dsId);
    assert.equal(first.p_id, w.ws);
    assert.equal(first.rev_no, '1');
    assert.equal(first.unread, '0');
    assert.equal(first.status, 'New', 'the status field holds the status name');
    assert.equal(first.status_id, sid('New'));
    assert.equal(first.title, 'item 6');
    assert.equal(first.TEXT_FIELD_1, 'search');
    assert.match(first.created_at, /^\d{4}-\d\d-\d\dT/);

    const numbers = await search({
      per_page: 3,
      sort_fields: [{ id: 'amount', order: 'asc' }],
      return_number_value: true,
    });
    assert.deepEqual(
      numbers.body.items.map((i: any) => i[fid('amount')]),
      [0, 1, 2],
      'keyed by field id without use_display_id',
    );
    assert.equal(numbers.body.items[0].rev_no, 1);
    assert.equal(numbers.body.items[0].amount, undefined);

    const multi = await search({
      per_page: 0,
      sort_fields: [{ id: 'kind' }, { id: 'amount', order: 'desc' }],
      use_display_id: true,
    });
    assert.equal(multi.body.items.length, 12, 'per_page 0 = all');
    assert.deepEqual(multi.body.items.map((i: any) => i.amount).slice(0, 3), ['11', '10', '9']);

    const count = await search({ return_count_only: true });
    assert.deepEqual(count.body, { items: [], totalItems: 12 });
    const slim = await search({ per_page: 1, use_display_id: true, select_fields: ['amount'] });
    assert.deepEqual(
      Object.keys(slim.body.items[0]).filter((k) => k === 'amount' || k === 'TEXT_FIELD_1'),
      ['amount'],
    );
    const noTotal = await search({ per_page: 1, omit_total_items: true });
    assert.equal(noTotal.body.totalItems, 0);

    const bad = await search({ per_page: 'x' });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'INVALID_PARAMS');
    const badSort = await search({ sort_field_id: 'no_such_field' });
    assert.equal(badSort.status, 400);
    assert.equal(badSort.body.error_code, 'INVALID_PARAMS');
  });

  it('creates an item with CreateItem', async () => {
    const r = await w.member.post(`${w.base}/items/new`, {
      item: { title: 'created', TEXT_FIELD_1: 'hello', amount: 3, kind: ['b'] },
      return_item_result: true,
      use_display_id: true,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.error, null);
    assert.match(r.body.item_id, /^\d{19}$/);
    assert.match(r.body.history_id, /^\d{19}$/);
    assert.equal(r.body.item.title, 'created');
    assert.equal(r.body.item.TEXT_FIELD_1, 'hello');
    assert.equal(r.body.item.kind, 'b');
    assert.equal(r.body.item.status, 'New');
    const plain = await w.member.post(`${w.base}/items/new`, { item: { amount: 1, status: 'Approved' } });
    assert.equal(plain.body.item, undefined);
    assert.equal((await itemOf(w.owner, w.ws, plain.body.item_id)).status, 'Approved');
    const bad = await w.member.post(`${w.base}/items/new`, { item: { amount: 'one' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'INVALID_PARAMS');
    const viewer = await w.viewer.post(`${w.base}/items/new`, { item: { amount: 1 } });
    assert.equal(viewer.status, 403);
    assert.equal(viewer.body.error_code, 'NO_PRIVILEGES');
  });

  it('GetItemDetails lists the field values and the actions available from the item status', async () => {
    const [id] = await importItems(w.member, w.ws, 1, 'New', { TEXT_FIELD_1: 'details' });
    const r = await w.member.get(`${w.base}/items/details/${id}?format=map&use_display_id=true`);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.title, 'item 0');
    assert.equal(r.body.rev_no, '1');
    assert.equal(r.body.field_values.TEXT_FIELD_1.value, 'details');
    assert.equal(r.body.field_values.TEXT_FIELD_1.dataType, 'text');
    assert.equal(r.body.field_values.status.value, 'New');
    assert.deepEqual(Object.keys(r.body.status_list), ['New', 'Approved', 'Closed']);
    assert.deepEqual(r.body.status_action_order, ['UpdateAction'], 'only the status actions from New');
    assert.deepEqual(r.body.item_action_order, ['EditAction']);
    assert.equal(r.body.status_actions.UpdateAction.next_status_id, sid('Approved'));
    assert.equal(r.body.status_actions.UpdateAction.crud_type, '2');
    const byIds = await w.member.get(`/api/v0/datastores/${w.dsId}/items/${id}?return_number_value=true`);
    assert.equal(byIds.status, 200);
    assert.equal(byIds.body.rev_no, 1);
    assert.ok(byIds.body.status_actions[aid('UpdateAction')]);
    const missing = await w.member.get(`${w.base}/items/details/1234567890123456789`);
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, 'NOT_FOUND');
    assert.equal(missing.body.errors[0].reference_id, '1234567890123456789');
  });

  it('ExecuteAction: null on success, 409 ITEM_REV_CONFLICT on a stale rev_no, 403 from the wrong status', async () => {
    const [a, b] = await importItems(w.member, w.ws, 2, 'New', { TEXT_FIELD_1: 'single' });
    const url = (item: string, action: string) => `${w.base}/items/action/${item}/${action}`;
    const ok = await w.member.post(url(a!, 'UpdateAction'), { rev_no: 1, comment: 'one', item: { amount: 42 } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body, null);
    const item = await itemOf(w.owner, w.ws, a!);
    assert.equal(item.status, 'Approved');
    assert.equal(item.fields.amount, 42);
    assert.equal(item.history.at(-1).comment, 'one');

    const conflict = await w.member.post(url(b!, 'UpdateAction'), { rev_no: 5 });
    assert.equal(conflict.status, 409);
    assert.deepEqual(conflict.body, {
      error: [
        {
          description: `item:${b}(d_id:${w.dsId}) has rev_no:1 but specified rev_no:5`,
          error: 'Revision number mismatch',
          error_code: 'ITEM_REV_CONFLICT',
          error_level: 'ERROR',
          reference_id: b,
        },
      ],
      history_id: '',
      item: null,
      item_id: b,
    });
    assert.equal((await itemOf(w.owner, w.ws, b!)).rev_no, 1);

    const forced = await w.member.post(url(b!, aid('UpdateAction')), {
      rev_no: 5,
      is_force_update: true,
      return_item_result: true,
      use_display_id: true,
    });
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.equal(forced.body.item.status, 'Approved');
    assert.equal(forced.body.item_id, b);

    const wrong = await w.member.post(url(a!, 'UpdateAction'), {});
    assert.equal(wrong.status, 403);
    assert.equal(wrong.body.error_code, 'NO_PRIVILEGES');
    assert.match(wrong.body.error, /^invalid action_id or has no privileges to the user or current item status/);
    const missing = await w.member.post(url('1234567890123456789', 'UpdateAction'), {});
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error_code, 'NOT_FOUND');
    const badRev = await w.member.post(url(a!, 'EditAction'), { rev_no: '2' });
    assert.equal(badRev.status, 400);
    assert.equal(badRev.body.error_code, 'INVALID_PARAMS');
  });

  it('GetActions, GetStatuses and GetDatastoreFields', async () => {
    const all = await w.owner.get(`/api/v0/datastores/${w.dsId}/actions`);
    assert.equal(all.status, 200, JSON.stringify(all.body));
    assert.deepEqual(
      all.body.map((a: any) => [a.display_id, a.status_id ?? null, a.is_status_action, a.set_status]),
      [
        ['UpdateAction', sid('New'), true, sid('Approved')],
        ['CloseAction', sid('Approved'), true, sid('Closed')],
        ['EditAction', null, false, ''],
      ],
    );
    assert.equal(all.body[0].workspace_id, w.ws);
    assert.equal(all.body[0].datastore_id, w.dsId);
    assert.equal(all.body[0].action_id, aid('UpdateAction'));
    assert.equal(all.body[0].operation, 'update');
    const fromNew = await w.member.get(`/api/v0/datastores/${w.dsId}/actions?status_id=${sid('New')}`);
    assert.deepEqual(
      fromNew.body.map((a: any) => a.display_id),
      ['UpdateAction', 'EditAction'],
    );
    const memberApproved = await w.member.get(`/api/v0/datastores/${w.dsId}/actions?status_id=Approved`);
    assert.deepEqual(
      memberApproved.body.map((a: any) => a.display_id),
      ['EditAction'],
      'CloseAction is for admins only',
    );
    const badStatus = await w.member.get(`/api/v0/datastores/${w.dsId}/actions?status_id=nope`);
    assert.equal(badStatus.status, 400);

    const statuses = await w.member.get(`/api/v0/datastores/${w.dsId}/statuses`);
    assert.deepEqual(statuses.body[0], {
      display_id: 'New',
      name: { en: 'New', ja: 'New' },
      displayed_name: 'New',
      status_id: sid('New'),
      sort_id: 1,
      x: 0,
      y: 0,
    });

    const fields = await w.member.get(`${w.base}/fields`);
    assert.equal(fields.status, 200);
    const amount = fields.body.fields[fid('amount')];
    assert.equal(amount.display_id, 'amount');
    assert.equal(amount.dataType, 'number');
    assert.equal(fields.body.fields.status.dataType, 'status');
    assert.deepEqual(
      fields.body.fields[fid('kind')].options.map((o: any) => o.o_id),
      ['a', 'b'],
    );
    const byId = await w.member.get(`/api/v0/datastores/${w.dsId}/fields`);
    assert.deepEqual(byId.body, fields.body);

    const stranger = (await s.user('stranger2')).api;
    for (const url of [
      `/api/v0/datastores/${w.dsId}/actions`,
      `/api/v0/datastores/${w.dsId}/statuses`,
      `/api/v0/datastores/${w.dsId}/fields`,
      `${w.base}/fields`,
    ]) {
      const r = await stranger.get(url);
      assert.equal(r.status, 404, url);
      assert.equal(r.body.error_code, 'NOT_FOUND');
    }
    const unknownRoute = await w.member.get('/api/v0/nope');
    assert.equal(unknownRoute.status, 404);
    assert.equal(unknownRoute.body.error_code, 'NOT_FOUND');
  });

  it('item histories and comments', async () => {
    const [id] = await importItems(w.member, w.ws, 1, 'New', { TEXT_FIELD_1: 'hist' });
    const h = `${w.base}/items/histories/${id}`;
    const posted = await w.member.post(h, { comment: 'first comment' });
    assert.equal(posted.status, 200, JSON.stringify(posted.body));
    assert.equal(posted.body, null);
    await w.member.post(`${w.base}/items/action/${id}/UpdateAction`, { comment: 'approved it' });
    const r = await w.member.get(h);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(r.body.unread, 0);
    const list = r.body.histories;
    assert.deepEqual(
      list.map((x: any) => x.comment),
      ['approved it', 'first comment', ''],
      'newest first',
    );
    assert.equal(list[0].action_id, aid('UpdateAction'));
    assert.equal(list[0].action_name, 'Approve');
    assert.equal(list[0].is_status_action, true);
    assert.equal(list[0].username, 'member');
    assert.equal(list[1].action_id, undefined, 'a comment has no action');
    assert.equal(list[0].datastore_id, w.dsId);
    const onlyComments = await w.member.get(`${h}?exclude_action_history=true`);
    assert.deepEqual(
      onlyComments.body.histories.map((x: any) => x.comment),
      ['first comment'],
    );
    const noComments = await w.member.get(`${h}?exclude_comment_history=true&from_index=0&to_index=1`);
    assert.deepEqual(
      noComments.body.histories.map((x: any) => x.comment),
      ['approved it'],
    );

    const commentId = list[1].history_id;
    const other = (await s.user('other-member', w.ws, 'member')).api;
    const forbidden = await other.put(`${h}/${commentId}`, { comment: 'not yours' });
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.body.error_code, 'NO_PRIVILEGES');
    const edited = await w.member.put(`${h}/${commentId}`, { comment: 'edited' });
    assert.equal(edited.status, 200);
    assert.equal((await w.member.get(`${h}?exclude_action_history=true`)).body.histories[0].comment, 'edited');
    const actionEntry = await w.member.delete(`${h}/${list[0].history_id}`);
    assert.equal(actionEntry.status, 404, 'action history cannot be deleted');
    const del = await w.member.delete(`${h}/${commentId}`);
    assert.equal(del.status, 200);
    assert.deepEqual((await w.member.get(`${h}?exclude_action_history=true`)).body.histories, []);
    const bad = await w.member.get(`${h}?to_index=x`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error_code, 'INVALID_PARAMS');
  });

  it('refuses a body over BATCHGATE_BODY_LIMIT (413) and over-long arrays (400) in the Hexabase envelope, changing nothing', async () => {
    const [id] = await importItems(w.member, w.ws, 1, 'New', { TEXT_FIELD_1: 'limits' });
    const before = await fingerprint(s.db);
    const expectRefusal = (r: { status: number; body: any }, status: number, what: string) => {
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body).slice(0, 300)}`);
      assert.equal(r.body.error_code, 'INVALID_PARAMS', what);
      assert.equal(r.body.errors[0].error_code, 'INVALID_PARAMS', what);
    };
    const small = await buildApp({ ctx: s.db.ctx, engine: s.engine, bodyLimit: 1024 });
    await small.ready();
    try {
      const api = makeClient(small, w.member.token);
      const pad = 'x'.repeat(2048);
      const bodies: [string, unknown][] = [
        ['items/search', { conditions: [{ id: 'TEXT_FIELD_1', search_value: [pad] }] }],
        ['items/new', { item: { TEXT_FIELD_1: pad } }],
        [`items/action/${id}/EditAction`, { comment: pad }],
        ['items/bulkaction/EditAction', { comment: pad }],
        [`items/histories/${id}`, { comment: pad }],
      ];
      for (const [path, body] of bodies)
        expectRefusal(await api.post(`${w.base}/${path}`, body), 413, `${path} over the limit`);
      assert.equal((await api.post(`${w.base}/items/search`, {})).status, 200, 'under the limit the same app answers');
    } finally {
      await small.close();
    }
    const cond = { id: 'TEXT_FIELD_1', search_value: ['x'] };
    const arrays: [string, unknown][] = [
      ['items/search', { conditions: Array.from({ length: 101 }, () => cond) }],
      ['items/search', { conditions: [{ conditions: Array.from({ length: 101 }, () => cond) }] }],
      [
        'items/search',
        { conditions: [{ id: 'TEXT_FIELD_1', search_value: Array.from({ length: 1001 }, (_, i) => `v${i}`) }] },
      ],
      ['items/search', { select_fields: Array.from({ length: 501 }, () => 'amount') }],
      ['items/search', { sort_fields: Array.from({ length: 11 }, () => ({ id: 'amount' })) }],
      ['items/new', { changes: Array.from({ length: 501 }, () => ({ id: 'amount', value: 1 })) }],
      ['items/bulkaction/EditAction', { changes: Array.from({ length: 501 }, () => ({ id: 'amount', value: 1 })) }],
      [
        'items/bulkaction/EditAction',
        { item_revisions: Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`${i + 1}`, 1])) },
      ],
      [
        'items/bulkaction/EditAction',
        { access_key_updates: { users_to_publish: Array.from({ length: 1001 }, () => 'u') } },
      ],
    ];
    for (const [path, body] of arrays)
      expectRefusal(
        await w.member.post(`${w.base}/${path}`, body),
        400,
        `${path} ${JSON.stringify(body).slice(0, 60)}`,
      );
    assert.deepEqual(await fingerprint(s.db), before, 'nothing changed');
  });
});
