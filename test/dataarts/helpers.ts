import assert from 'node:assert/strict';
import type { Client, TestService } from '../helpers/service.ts';
import { workspace } from '../helpers/worlds.ts';

export interface DaRes {
  status: number;
  body: any;
}

/** A DataArts client: X-Auth-Token and the `workspace` header, bodies sent as the exact text given. */
export function dataartsClient(s: TestService, token: string | null, workspace: string | null) {
  async function send(
    method: string,
    url: string,
    payload?: unknown,
    headers: Record<string, string> = {},
  ): Promise<DaRes> {
    const res = await s.app.inject({
      method: method as 'GET',
      url,
      headers: {
        ...(token ? { 'x-auth-token': token } : {}),
        ...(workspace ? { workspace } : {}),
        ...(payload !== undefined ? { 'content-type': 'application/json;charset=UTF-8' } : {}),
        ...headers,
      },
      ...(payload !== undefined ? { payload: typeof payload === 'string' ? payload : JSON.stringify(payload) } : {}),
    });
    let body: unknown = res.body;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      /* keep the text */
    }
    return { status: res.statusCode, body };
  }
  return {
    get: (url: string, headers?: Record<string, string>) => send('GET', url, undefined, headers),
    post: (url: string, body: unknown, headers?: Record<string, string>) => send('POST', url, body, headers),
    put: (url: string, body?: unknown, headers?: Record<string, string>) => send('PUT', url, body, headers),
    delete: (url: string, headers?: Record<string, string>) => send('DELETE', url, undefined, headers),
  };
}
export type DataartsClient = ReturnType<typeof dataartsClient>;

export interface DataartsWorld {
  ws: string;
  /** The workspace's creator, over the native API. */
  owner: Client;
  adm: DataartsClient;
  approverId: string;
  approver: DataartsClient;
  memberApi: Client;
  member: DataartsClient;
  viewer: DataartsClient;
}

/** A DataArts project's workspace with a user of each role (one per service: the names are fixed), the approver registered as `appr`. */
export async function dataartsWorld(s: TestService, name: string, projectId: string): Promise<DataartsWorld> {
  const owner = (await s.user('owner')).api;
  const { ws } = await workspace(owner, { name, project_id: projectId });
  const a = await s.user('appr', ws, 'approver');
  const m = await s.user('memb', ws, 'member');
  const v = await s.user('view', ws, 'viewer');
  const adm = dataartsClient(s, owner.token, ws);
  const reg = await adm.post(`/v1/${projectId}/design/approvals/users`, { approver_name: 'appr', user_id: a.user.id });
  assert.equal(reg.status, 200, JSON.stringify(reg.body));
  return {
    ws,
    owner,
    adm,
    approverId: a.user.id,
    approver: dataartsClient(s, a.api.token, ws),
    memberApi: m.api,
    member: dataartsClient(s, m.api.token, ws),
    viewer: dataartsClient(s, v.api.token, ws),
  };
}

/** Creates DataArts entities with given ids (the seeds' biz_ids) directly, in a status of the lifecycle. */
export async function insertEntities(
  s: TestService,
  ws: string,
  bizType: string,
  entities: { id: string; name: string }[],
  status = 'DRAFT',
): Promise<void> {
  const db = s.db.ctx.db;
  const ds = await db
    .selectFrom('datastore')
    .select('id')
    .where('workspace_id', '=', ws)
    .where('display_id', '=', bizType)
    .executeTakeFirstOrThrow();
  const st = await db
    .selectFrom('ds_status')
    .select('id')
    .where('datastore_id', '=', ds.id)
    .where('display_id', '=', status)
    .executeTakeFirstOrThrow();
  const now = Date.now();
  await db
    .insertInto('item')
    .values(
      entities.map((e) => ({
        id: e.id,
        workspace_id: ws,
        datastore_id: ds.id,
        title: e.name,
        status_id: st.id,
        fields: s.db.ctx.caps.writeJson({}),
        rev_no: 1,
        created_at: now,
        created_by: null,
        updated_at: now,
        updated_by: null,
      })),
    )
    .execute();
}

/** Statuses (display ids) of entities, in the order asked. */
export async function statusesOf(s: TestService, ids: string[]): Promise<string[]> {
  const rows = await s.db.ctx.db
    .selectFrom('item')
    .innerJoin('ds_status', 'ds_status.id', 'item.status_id')
    .select(['item.id', 'ds_status.display_id'])
    .where('item.id', 'in', ids)
    .execute();
  const by = new Map(rows.map((r) => [r.id, r.display_id]));
  return ids.map((id) => by.get(id) ?? 'MISSING');
}

/** Everything a refused request must not have changed: batches, tickets, approvers, item revisions. */
export async function snapshot(s: TestService): Promise<string> {
  const db = s.db.ctx.db;
  const [batches, tickets, approvers, items, datastores] = await Promise.all([
    db.selectFrom('batch').select('id').orderBy('id').execute(),
    db.selectFrom('ticket').select(['id', 'state']).orderBy('id').execute(),
    db.selectFrom('dataarts_approver').select('id').orderBy('id').execute(),
    db.selectFrom('item').select(['id', 'rev_no', 'status_id']).orderBy('id').execute(),
    db.selectFrom('datastore').select('id').orderBy('id').execute(),
  ]);
  return JSON.stringify({ batches, tickets, approvers, items, datastores });
}

const VO_KEYS = [
  'id',
  'tenant_id',
  'group_id',
  'biz_name',
  'biz_id',
  'operation_status',
  'operation_type',
  'biz_info',
  'create_by',
  'remark',
  'total',
  'success',
  'failed',
  'rate',
  'logs',
  'groups',
];

/**
 * Compares a BatchOperationVO with a documented example field by field: the same keys in the same order, the
 * same JSON type per field, and equal values except where the example's value is an id or name of its own
 * deployment (`vary`).
 */
export function assertSameShape(actual: any, expected: any, vary: readonly string[], path = 'value'): void {
  assert.deepEqual(Object.keys(actual), Object.keys(expected), `${path}: keys`);
  assert.deepEqual(Object.keys(actual), VO_KEYS, `${path}: BatchOperationVO keys`);
  for (const k of Object.keys(expected)) {
    const a = actual[k];
    const e = expected[k];
    const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
    assert.equal(kind(a), kind(e), `${path}.${k}: type`);
    if (k === 'groups' && Array.isArray(e)) {
      assert.equal(a.length, e.length, `${path}.groups: length`);
      e.forEach((child: any, i: number) => assertSameShape(a[i], child, vary, `${path}.groups[${i}]`));
    } else if (!vary.includes(k)) {
      assert.deepEqual(a, e, `${path}.${k}`);
    }
  }
}
