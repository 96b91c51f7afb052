/**
 * The two workspaces of the permission matrix (test/api/permissions.test.ts) and the fresh objects each request
 * acts on. Every stored text of a workspace carries its marker (SECRET_A, SECRET_B), so a body that shows another
 * workspace's data is caught by looking for the marker.
 */
import assert from 'node:assert/strict';
import type { Actor } from '../../src/core/operations/types.ts';
import { NO_REQUEST } from '../../src/log.ts';
import { sqliteSource } from '../dataarts/model-fixtures.ts';
import { PURCHASE_DS, type Client, type Res, type TestService } from '../helpers/service.ts';
import type { RoleName } from './permission-table.ts';
import { workspace } from '../helpers/worlds.ts';

export interface Person {
  id: string;
  name: string;
  token: string;
  api: Client;
}

export interface World {
  key: 'A' | 'B';
  /** Stored in every name, title and comment of this workspace. */
  marker: string;
  ws: string;
  project: string;
  users: Record<RoleName, Person>;
  /** Another user of the workspace (approver role): "a colleague", and the user acted for. */
  subject: Person;
  /** The purchase-request datastore (display_id `pr`). */
  ds: string;
  /** The DataArts `MODEL` datastore. */
  modelDs: string;
  /** Objects that are only read. */
  item: string;
  ticket: string;
  batch: string;
  entity: string;
  daGroup: string;
  approverReg: string;
  comment: string;
  /** A webhook of the workspace (never sent to: the matrix runs no delivery loop) and one delivery of it. */
  webhook: string;
  delivery: string;
  /** A real SQLite source database file with two tables named for the marker; removed by `closeWorld`. */
  source: ReturnType<typeof sqliteSource>;
  /** A data connection to `source`, only read. */
  connection: string;
  /** A physical model with one table model (for its DDL), only read. */
  model: string;
}

export const BIZ = 'MODEL';
const FAR_FUTURE = '2999-01-01T00:00:00Z';

let seq = 0;
/** A name no other request uses. */
export const unique = (prefix: string) => `${prefix}-${++seq}-${Math.random().toString(36).slice(2, 8)}`;

function ok<T = any>(r: Res<T>, status: number, what: string): T {
  assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
  return r.body;
}

export async function makeWorld(s: TestService, key: 'A' | 'B'): Promise<World> {
  const marker = `SECRET_${key}`;
  const person = async (role: string, ws?: string, r?: string): Promise<Person> => {
    const { user, api } = await s.user(`${marker} ${role}`, ws, r);
    return { id: user.id, name: user.name, token: api.token, api };
  };
  const admin = await person('admin');
  const project = `perm_${key.toLowerCase()}`;
  const {
    ws,
    datastores: [{ id: ds }],
  } = await workspace(admin.api, { name: `${marker} workspace`, project_id: project }, [PURCHASE_DS]);
  const users = {
    admin,
    member: await person('member', ws, 'member'),
    approver: await person('approver', ws, 'approver'),
    viewer: await person('viewer', ws, 'viewer'),
  };
  const subject = await person('subject', ws, 'approver');
  const modelDs = ok(await admin.api.get(`/api/v1/workspaces/${ws}/datastores/${BIZ}`), 200, 'MODEL').id as string;
  const w = { key, marker, ws, project, users, subject, ds, modelDs } as World;
  const reg = await dataarts(s, w, admin, 'POST', 'approvals/users', {
    approver_name: `${marker} approver`,
    user_id: users.approver.id,
  });
  w.approverReg = ok(reg, 200, 'register approver').data.value.id;
  w.webhook = ok(await admin.api.post(`/api/v1/workspaces/${ws}/webhooks`, webhookBody(w)), 201, 'webhook').id;
  w.item = await newItem(w);
  w.ticket = await newTicket(w);
  w.batch = (await runInline(s, w, { operation: 'action', action: 'touch', target: { ids: [await newItem(w)] } })).id;
  w.entity = await newEntity(w, 'PUBLISHED', true);
  const pub = await dataarts(
    s,
    w,
    users.member,
    'POST',
    'approvals/batch-publish',
    publishBody(w, [await newEntity(w, 'DRAFT')]),
  );
  w.daGroup = ok(pub, 200, 'batch-publish').data.value.group_id;
  w.comment = await newComment(w);
  const log = ok(
    await admin.api.get(`/api/v1/workspaces/${ws}/webhooks/${w.webhook}/deliveries?event_type=batch.created&limit=1`),
    200,
    'deliveries',
  );
  w.delivery = log.deliveries[0].id;
  w.source = sqliteSource(0);
  // Table names carry the marker, so a list of another workspace's tables is caught like any of its data.
  w.source.exec(
    `create table "${marker}_orders" (id integer primary key, note text not null); create table "${marker}_lines" (order_id integer, qty decimal(10,2))`,
  );
  w.connection = await newConnection(w);
  w.model = await newModel(w, { is_physical: true, dw_type: 'SQLITE' });
  const table = {
    model_id: w.model,
    tb_name: `${marker}_table`,
    dw_type: 'SQLITE',
    description: `${marker} table`,
    attributes: [
      {
        name_en: 'id',
        data_type: 'INTEGER',
        logic_type: 'INT',
        not_null: true,
        is_primary_key: true,
        ordinal: 1,
        description: null,
      },
    ],
  };
  ok(
    await users.member.api.post(`/api/v1/workspaces/${ws}/datastores/TABLE_MODEL/items`, {
      title: table.tb_name,
      fields: { biz_info: table },
    }),
    201,
    'table model',
  );
  return w;
}

/** A public-looking URL that is never resolved: the permission matrix runs without a delivery loop. */
function webhookBody(w: World, extra: Record<string, unknown> = {}) {
  return {
    url: `https://hooks.invalid/${w.marker}`,
    description: `${w.marker} hook`,
    events: ['batch.created'],
    ...extra,
  };
}

/** A fresh (inactive) webhook of `w`, created by its admin. */
export async function newWebhook(w: World): Promise<string> {
  return ok(
    await w.users.admin.api.post(`/api/v1/workspaces/${w.ws}/webhooks`, webhookBody(w, { active: false })),
    201,
    'webhook',
  ).id;
}

/** A fresh delivery of `w`'s webhook: a redelivery of its fixture delivery, by its admin. */
export async function newDelivery(w: World): Promise<string> {
  return ok(
    await w.users.admin.api.post(
      `/api/v1/workspaces/${w.ws}/webhooks/${w.webhook}/deliveries/${w.delivery}/redeliver`,
      {},
    ),
    202,
    'redeliver',
  ).id;
}

export function closeWorld(w: World | undefined): void {
  w?.source?.close();
}

/** A DataArts request as `who` (X-Auth-Token and the `workspace` header). */
export function dataarts(
  s: TestService,
  w: World,
  who: Person,
  method: string,
  path: string,
  body?: unknown,
): Promise<Res> {
  return s
    .client(who.token)
    .raw(method, `/v1/${w.project}/design/${path}`, body === undefined ? undefined : JSON.stringify(body), {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      workspace: w.ws,
    });
}

export function publishBody(w: World, ids: string[], approverName = 'reviewer') {
  return {
    biz_infos: ids.map((biz_id) => ({ biz_id, biz_type: BIZ })),
    approver_user_id: w.users.approver.id,
    approver_user_name: approverName,
  };
}

/** A draft purchase request, created by the member. */
export async function newItem(w: World, fields: Record<string, unknown> = {}): Promise<string> {
  const r = await w.users.member.api.post(`/api/v1/workspaces/${w.ws}/datastores/pr/items`, {
    title: `${w.marker} item`,
    fields: { vendor: w.marker, amount: 1, ...fields },
  });
  return ok(r, 201, 'item').id;
}

/** A pending ticket on a fresh item, submitted by the member, assigned to the approver role. */
export async function newTicket(w: World): Promise<string> {
  const r = await w.users.member.api.post(`/api/v1/workspaces/${w.ws}/items/${await newItem(w)}/actions/submit`, {
    comment: `${w.marker} ticket`,
  });
  return ok(r, 200, 'submit').ticket.id;
}

/** A DataArts entity in `status`; with `edited`, a published one with a pending edit (下展). */
export async function newEntity(w: World, status: string, edited = false): Promise<string> {
  const api = w.users.member.api;
  const id = ok(
    await api.post(`/api/v1/workspaces/${w.ws}/datastores/${BIZ}/items`, {
      title: `${w.marker} entity`,
      status,
      fields: { biz_info: { owner: w.marker } },
    }),
    201,
    'entity',
  ).id;
  if (edited)
    ok(
      await api.patch(`/api/v1/workspaces/${w.ws}/items/${id}`, {
        fields: { biz_info: { owner: `${w.marker} edited` } },
      }),
      200,
      'edit',
    );
  return id;
}

/** A pending DataArts ticket: a fresh entity published by the member, assigned to the registered approver. */
export async function newDataartsTicket(s: TestService, w: World): Promise<string> {
  const entity = await newEntity(w, 'DRAFT');
  ok(await dataarts(s, w, w.users.member, 'POST', 'approvals/batch-publish', publishBody(w, [entity])), 200, 'publish');
  const t = await s.db.ctx.db
    .selectFrom('ticket')
    .select('id')
    .where('item_id', '=', entity)
    .where('state', '=', 'pending')
    .executeTakeFirstOrThrow();
  return t.id;
}

/** A comment by the member on a fresh item. */
export async function newComment(w: World, itemId?: string): Promise<string> {
  const item = itemId ?? (await newItem(w));
  const r = await w.users.member.api.post(`/api/v1/workspaces/${w.ws}/items/${item}/comments`, {
    comment: `${w.marker} comment`,
  });
  return ok(r, 201, 'comment').id;
}

/** A data connection to the world's source database, registered by its admin. */
export async function newConnection(w: World): Promise<string> {
  const r = await w.users.admin.api.post(`/api/v1/workspaces/${w.ws}/connections`, {
    name: unique(`${w.marker} source`),
    url: `sqlite:${w.source.path}`,
  });
  return ok(r, 201, 'connection').id;
}

/** A MODEL entity (a model), created by the member. */
export async function newModel(w: World, bizInfo: Record<string, unknown>): Promise<string> {
  const r = await w.users.member.api.post(`/api/v1/workspaces/${w.ws}/datastores/MODEL/items`, {
    title: unique(`${w.marker} model`),
    fields: { biz_info: bizInfo },
  });
  return ok(r, 201, 'model').id;
}

/** A logical model with one logical entity whose table name no other request uses. */
export async function newLogicModel(w: World): Promise<{ model: string; entity: string; tbName: string }> {
  const model = await newModel(w, { is_physical: false });
  const tbName = unique('entity').replace(/-/g, '_');
  const biz_info = {
    model_id: model,
    tb_name: tbName,
    description: `${w.marker} entity`,
    attributes: [
      { name_en: 'id', data_type: 'BIGINT', is_primary_key: true },
      { name_en: 'note', data_type: 'STRING(40)' },
    ],
  };
  const r = await w.users.member.api.post(`/api/v1/workspaces/${w.ws}/datastores/TABLE_MODEL_LOGIC/items`, {
    title: `${w.marker} entity`,
    fields: { biz_info },
  });
  return { model, entity: ok(r, 201, 'logical entity').id, tbName };
}

/** A user who is a member of `w` (with `role`), or of nothing. */
export async function newUser(s: TestService, w: World | null, role?: RoleName): Promise<Person> {
  const { user, api } = await s.user(unique(`${w?.marker ?? 'SECRET_NONE'} user`), w?.ws, role);
  return { id: user.id, name: user.name, token: api.token, api };
}

/** A fresh user with the approver role, registered as a DataArts approver of `w`; returns the registration id. */
export async function newApproverReg(s: TestService, w: World): Promise<{ id: string; user: Person }> {
  const user = await newUser(s, w, 'approver');
  const r = await dataarts(s, w, w.users.admin, 'POST', 'approvals/users', {
    approver_name: `${w.marker} approver`,
    user_id: user.id,
  });
  return { id: ok(r, 200, 'register').data.value.id, user };
}

function member(w: World): Actor {
  const m = w.users.member;
  return { principal: { userId: m.id, name: m.name, isSystemAdmin: false }, workspaceId: w.ws, role: 'member' };
}

/** Runs a batch as the member to its end, through the engine. */
export function runInline(s: TestService, w: World, input: Record<string, unknown>) {
  return s.engine.runInline(NO_REQUEST, member(w), { source: 'native', ...input } as never);
}

/** Batches submitted by the member, in the state the control needs. */
export async function newBatch(
  s: TestService,
  w: World,
  state: 'scheduled' | 'paused' | 'completed_with_errors',
): Promise<string> {
  if (state === 'completed_with_errors') {
    // `order` runs from approved only: a draft item fails it (WRONG_STATUS).
    const b = await runInline(s, w, { operation: 'action', action: 'order', target: { ids: [await newItem(w)] } });
    assert.equal(b.state, 'completed_with_errors');
    return b.id;
  }
  const api = w.users.member.api;
  const id = ok(
    await api.post(`/api/v1/workspaces/${w.ws}/batches`, {
      operation: 'action',
      action: 'touch',
      target: { ids: [await newItem(w)] },
      start_at: FAR_FUTURE,
    }),
    202,
    'batch',
  ).id;
  if (state === 'paused') ok(await api.post(`/api/v1/workspaces/${w.ws}/batches/${id}/pause`, {}), 200, 'pause');
  return id;
}
