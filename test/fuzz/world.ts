/**
 * The database the route fuzzer runs against: one workspace with a DataArts project and the purchase-request
 * datastore, members of every role, items, tickets in every state, batches (queued, cancelled, succeeded), a
 * batch-approval group and comments; and a second tenant's workspace whose ids must answer 404. The pools name
 * real values by parameter or property name, so generated requests reach the core.
 */
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { buildApp } from '../../src/api/app.ts';
import type { App } from '../../src/api/types.ts';
import type { Dialect } from '../../src/db/capabilities.ts';
import {
  PURCHASE_DS,
  startTestService,
  TEST_AUTH_FAILURE_LIMIT,
  type Client,
  type TestService,
} from '../helpers/service.ts';
import type { Hints } from './schema-arbitraries.ts';
import { workspace } from '../helpers/worlds.ts';

export const PROJECT = 'fz';
export const OTHER_PROJECT = 'fz-other';

export interface World {
  s: TestService;
  /** The app fuzzed: the service's, with a logger whose error lines (a 5xx's cause) are kept in `errors`. */
  app: App;
  errors: string[];
  ws: string;
  otherWs: string;
  tokens: Record<'root' | 'admin' | 'member' | 'approver' | 'viewer' | 'stranger', string>;
  userIds: Record<'admin' | 'member' | 'approver' | 'viewer' | 'stranger', string>;
  /** Batches that stay terminal whatever the fuzzer does (succeeded or cancelled: retry takes neither). */
  settledBatches: string[];
  hints: Hints;
  /** The other tenant's values by parameter name: hostile requests mix them in, plausible ones never. */
  foreign: Record<string, readonly string[]>;
  /** Puts the acting users back in their roles (a fuzzed PUT or DELETE of a member may have moved them). */
  heal(): Promise<void>;
}

async function ok<T = any>(p: Promise<{ status: number; body: T }>, status = 200): Promise<T> {
  const r = await p;
  assert.equal(r.status, status, JSON.stringify(r.body)?.slice(0, 500));
  return r.body;
}

export async function buildWorld(dialect: Dialect): Promise<World> {
  // With a secret key the connection routes are fuzzed past their 503 SECRET_KEY_UNAVAILABLE door.
  const s = await startTestService(dialect, { worker: false, settings: { secretKey: randomBytes(32) } });
  const root = s.root;
  const {
    ws,
    datastores: [ds],
  } = await workspace(root, { name: 'Fuzz', project_id: PROJECT }, [PURCHASE_DS]);
  const W = `/api/v1/workspaces/${ws}`;
  const people = {} as Record<'admin' | 'member' | 'approver' | 'viewer', { user: any; api: Client }>;
  for (const role of ['admin', 'member', 'approver', 'viewer'] as const) people[role] = await s.user(role, ws, role);
  const stranger = await s.user('stranger');
  const {
    ws: otherWs,
    datastores: [otherDs],
  } = await workspace(stranger.api, { name: 'Other', project_id: OTHER_PROJECT }, [PURCHASE_DS]);
  const O = `/api/v1/workspaces/${otherWs}`;

  const member = people.member.api;
  const items: string[] = (
    await ok(
      member.post(`${W}/datastores/pr/items`, {
        items: Array.from({ length: 8 }, (_, i) => ({
          title: `item ${i}`,
          fields: { amount: i * 10, vendor: i % 2 ? 'Acme' : 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!', category: 'hardware' },
        })),
      }),
      201,
    )
  ).ids;
  const otherItems: string[] = (
    await ok(
      stranger.api.post(`${O}/datastores/pr/items`, { items: [{ title: 'theirs' }, { title: 'theirs too' }] }),
      201,
    )
  ).ids;

  // Tickets: pending (two), approved, rejected.
  const tickets: string[] = [];
  for (const id of items.slice(0, 4))
    tickets.push((await ok(member.post(`${W}/items/${id}/actions/submit`, { comment: 'please' }))).ticket.id);
  await ok(root.post(`${W}/tickets/${tickets[2]}/approve`, { comment: 'ok' }));
  await ok(root.post(`${W}/tickets/${tickets[3]}/reject`, { comment: 'no' }));
  const otherTicket = (await ok(stranger.api.post(`${O}/items/${otherItems[0]}/actions/submit`, {}))).ticket.id;
  await ok(member.post(`${W}/items/${items[5]}/comments`, { comment: 'a comment' }), 201);

  // Batches: queued (no worker runs here), cancelled, and succeeded ones run inline by the Hexabase bulk action.
  await ok(
    member.post(`${W}/batches`, { operation: 'action', action: 'touch', target: { ids: items.slice(4, 6) } }),
    202,
  );
  const cancelled = (
    await ok(
      member.post(`${W}/batches`, { operation: 'update', fields: { vendor: 'x' }, target: { ids: [items[6]] } }),
      202,
    )
  ).id;
  await ok(member.post(`${W}/batches/${cancelled}/cancel`, {}));
  const hexBase = `/api/v0/applications/${PROJECT}/datastores/pr/items`;
  await ok(
    member.post(`${hexBase}/bulkaction/touch`, {
      conditions: [{ id: 'i_id', search_value: [items[7]] }],
      max_items: 10,
    }),
  );
  await ok(member.post(`${hexBase}/histories/${items[7]}`, { comment: 'hexabase comment' }));
  const group = (
    await ok(people.approver.api.post(`/batch_approvals/_submit?user_id=${people.approver.user.id}`, [tickets[0]]))
  ).batch_number;
  const otherBatch = (
    await ok(
      stranger.api.post(`${O}/batches`, { operation: 'action', action: 'touch', target: { ids: otherItems } }),
      202,
    )
  ).id;
  // Cancelled, so its event stream ends at once even for its own tenant.
  await ok(stranger.api.post(`${O}/batches/${otherBatch}/cancel`, {}));

  // DataArts: a registered approver, entities published at once (a succeeded batch) and one awaiting a ticket.
  const da = (token: string) => ({ 'x-auth-token': token, workspace: ws, 'content-type': 'application/json' });
  const entities: string[] = (
    await ok(
      root.post(`${W}/datastores/CODE_TABLE/items`, { items: [{ title: 'e0' }, { title: 'e1' }, { title: 'e2' }] }),
      201,
    )
  ).ids;
  const daPost = async (url: string, body: unknown, token = root.token) => {
    const r = await s.app.inject({ method: 'POST', url, headers: da(token), payload: JSON.stringify(body) });
    assert.equal(r.statusCode, 200, r.body);
    return JSON.parse(r.body);
  };
  const approverReg = await daPost(`/v2/${PROJECT}/design/approvals/users`, {
    approver_name: 'approver',
    user_id: people.approver.user.id,
  });
  const publish = (ids: string[], fast: boolean) =>
    daPost(`/v1/${PROJECT}/design/approvals/batch-publish`, {
      biz_infos: ids.map((biz_id) => ({ biz_id, biz_type: 'CODE_TABLE' })),
      approver_user_id: people.approver.user.id,
      approver_user_name: 'approver',
      fast_approval: fast,
    });
  const published = (await publish([entities[0]!], true)).data.value.group_id;
  await publish([entities[1]!], false);

  const rows = await s.db.ctx.db
    .selectFrom('batch')
    .select(['id', 'state', 'group_id'])
    .where('workspace_id', '=', ws)
    .execute();
  const settledBatches = rows.filter((b) => b.state === 'succeeded' || b.state === 'cancelled').map((b) => b.id);
  assert.ok(settledBatches.includes(cancelled) && settledBatches.includes(published), JSON.stringify(rows));
  const batches = rows.map((b) => b.id);
  const allTickets = (await s.db.ctx.db.selectFrom('ticket').select('id').where('workspace_id', '=', ws).execute()).map(
    (t) => t.id,
  );
  const histories = (
    await s.db.ctx.db
      .selectFrom('item_history')
      .select('id')
      .where('workspace_id', '=', ws)
      .where('kind', '=', 'comment')
      .execute()
  ).map((h) => h.id);
  const fieldIds = ds.fields.map((f: any) => f.id);
  const statusIds = ds.statuses.map((f: any) => f.id);
  const actionIds = ds.actions.map((f: any) => f.id);
  const userIds = {
    admin: people.admin.user.id,
    member: people.member.user.id,
    approver: people.approver.user.id,
    viewer: people.viewer.user.id,
    stranger: stranger.user.id,
  };
  const users = [...Object.values(userIds), s.admin.id];
  const fields = PURCHASE_DS.fields.map((f) => f.display_id);
  const statuses = PURCHASE_DS.statuses.flatMap((st) => [st.display_id, st.name]);
  const actions = PURCHASE_DS.actions.map((a) => a.display_id);
  const condIds = [...fields, 'title', 'status', 'status_id', 'i_id', 'id', 'rev_no', 'created_at', 'updated_by'];

  const byName: Record<string, readonly string[]> = {
    ws: [ws, ws, PROJECT],
    app_id: [PROJECT, ws],
    project_id: [PROJECT],
    ds: ['pr', ds.id, 'CODE_TABLE'],
    datastore_id: ['pr', ds.id],
    d_id: [ds.id],
    datastore: ['pr', ds.id, 'CODE_TABLE'],
    item_id: [...items],
    biz_id: [...entities, entities[0]!, items[0]!],
    history_id: [...histories],
    action: [...actions, 'nope'],
    action_id: [...actions, ...actionIds],
    decision: ['approve', 'reject', 'withdraw'],
    user_id: users,
    approver_user_id: [userIds.approver, userIds.approver, userIds.member],
    assignee: ['me', ...users],
    submitter: ['me', ...users],
    batch_number: [group, ...batches],
    operation_id: [published, entities[0]!, ...batches],
    ids: [allTickets.join(','), allTickets[0]!, `${allTickets[0]},${otherTicket}`],
    approver_ids: [approverReg.data?.value?.id ?? '1', '1'],
    task_ids: [...allTickets, otherTicket],
    // A condition's `id`: a field or an item property (a path's `:id` is drawn by route kind instead).
    id: condIds,
    search_value: [
      'Acme',
      'aaaa',
      'draft',
      'Draft',
      'hardware',
      'A|B',
      '(a+)+$',
      'TODAY',
      items[0]!,
      userIds.member,
      '10',
    ],
    status_id: statusIds,
    operation: ['action', 'update', 'approve', 'reject', 'withdraw'],
    sort_field_id: [...fields, 'title', 'status', 'created_at', 'i_id'],
    biz_type: ['CODE_TABLE', 'BUSINESS_METRIC', 'TABLE_MODEL'],
    schedule_time: ['30_18', '00_00'],
    max_items: ['10', '100', '300'],
    comment: ['ok', 'looks good'],
    $recordKey: [...fields, ...items.slice(0, 3), 'title', 'status'],
  };
  // Ids by path kind: '/items/:id', '/tickets/:id', '/batches/:id'.
  const pathIds = { items, tickets: allTickets, batches };
  const foreign: Record<string, readonly string[]> = {
    ws: [otherWs, OTHER_PROJECT],
    app_id: [otherWs, OTHER_PROJECT],
    project_id: [OTHER_PROJECT, 'nope'],
    ds: [otherDs.id],
    datastore_id: [otherDs.id],
    d_id: [otherDs.id],
    item_id: otherItems,
    biz_id: otherItems,
    $items: otherItems,
    $tickets: [otherTicket],
    $batches: [otherBatch],
  };
  const conditions = [
    [],
    [{ id: 'vendor', search_value: ['Acme'] }],
    [{ id: 'status', search_value: ['draft', 'Submitted'] }],
    [
      { id: 'amount', search_value: [0, 50] },
      { id: 'category', search_value: ['hardware'], exact_match: true },
    ],
    [{ id: 'vendor', search_value: ['(a+)+$', 'A|B'] }],
    [
      { id: 'due', search_value: [null, 'TODAY'] },
      { id: 'vendor', search_value: ['x'], not_match: true, include_null: true },
    ],
    [
      {
        conditions: [
          { id: 'title', search_value: ['item'] },
          { id: 'i_id', search_value: items.slice(0, 2) },
        ],
        use_or_condition: true,
      },
    ],
  ];
  const fieldSets = [
    { vendor: 'Acme 2' },
    { amount: 5 },
    { category: 'software', due: '2030-01-01' },
    { owners: [userIds.member] },
    { extra: { a: [1] } },
    { seen_at: '2030-01-01T00:00:00Z' },
  ];
  const values: Record<string, readonly unknown[]> = {
    conditions,
    fields: fieldSets,
    item: fieldSets,
    set_fields: [{ vendor: 'v' }],
    changes: [[{ id: 'vendor', value: 'changed' }], [{ id: 'amount', value: 7 }]],
    revisions: [{ [items[0]!]: 1 }],
    item_revisions: [{ [items[0]!]: 1, [items[1]!]: 9 }],
    target: [
      { ids: items.slice(0, 3) },
      { datastore: 'pr', conditions: conditions[1] },
      { datastore: 'pr', conditions: conditions[2], limit: 2 },
    ],
    biz_infos: [
      [{ biz_id: entities[2], biz_type: 'CODE_TABLE' }],
      [
        { biz_id: entities[0], biz_type: 'CODE_TABLE' },
        { biz_id: items[0], biz_type: 'CODE_TABLE' },
      ],
    ],
    task_ids: [allTickets.slice(0, 2), [allTickets[0]!, otherTicket]],
  };
  const anyKey = [
    ws,
    otherWs,
    PROJECT,
    ...items,
    ...allTickets,
    ...batches,
    ...users,
    ...fields,
    ...statuses,
    ...actions,
    ...fieldIds,
    ...statusIds,
    ...actionIds,
  ];
  const errors: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      errors.push(String(chunk));
      done();
    },
  });
  // The fuzzer sends thousands of bad tokens from one address: the failure limit (tested on its own) stays out of the way.
  const app = await buildApp({
    ctx: s.db.ctx,
    engine: s.engine,
    logger: pino({ level: 'error' }, sink),
    authFailureLimit: TEST_AUTH_FAILURE_LIMIT,
  });
  await app.ready();
  return {
    s,
    app,
    errors,
    ws,
    otherWs,
    tokens: {
      root: root.token,
      admin: people.admin.api.token,
      member: member.token,
      approver: people.approver.api.token,
      viewer: people.viewer.api.token,
      stranger: stranger.api.token,
    },
    userIds,
    settledBatches,
    hints: {
      byName: { ...byName, ...Object.fromEntries(Object.entries(pathIds).map(([k, v]) => [`$${k}`, v])) },
      anyKey,
      values,
    },
    foreign,
    async heal() {
      for (const role of ['admin', 'member', 'approver', 'viewer'] as const) {
        await ok(root.put(`${W}/members/${people[role].user.id}`, { role }));
      }
    },
  };
}
