/**
 * The permission matrix: docs/permissions.md is read, every registered route must have its row (and every row a
 * route), and every route is sent a valid request by every caller of the table, with its own workspace's ids and
 * with another's, on SQLite and PostgreSQL. Each answer must be the cell's; a refusal changes nothing and shows
 * none of the other workspace's data. One request factory per route builds the request on fresh objects, so a 4xx
 * can only come from who is asking.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { ensureWebBuild } from '../../src/api/web-ui.ts';
import { newSecretKey, pgUrlWithPassword, tableModelsOf, TEST_CONNECTION_SOURCES } from '../dataarts/model-fixtures.ts';
import { waitForGroup } from '../batch-approvals/fixture.ts';
import { describeEachDialect, PG_URL } from '../helpers/db.ts';
import { until } from '../helpers/wait.ts';
import { PURCHASE_DS, startTestService, type Res, type TestService } from '../helpers/service.ts';
import {
  COLUMNS,
  ROLES,
  expected,
  parsePermissionTable,
  type Column,
  type Expect,
  type RoleName,
  type TableRow,
} from './permission-table.ts';
import {
  BIZ,
  closeWorld,
  makeWorld,
  newApproverReg,
  newBatch,
  newComment,
  newConnection,
  newDataartsTicket,
  newDelivery,
  newEntity,
  newItem,
  newLogicModel,
  newModel,
  newTicket,
  newUser,
  newWebhook,
  publishBody,
  runInline,
  unique,
  type World,
} from './permission-world.ts';

const DOC = readFileSync(new URL('../../docs/permissions.md', import.meta.url), 'utf8');
const ROWS = parsePermissionTable(DOC);

interface Caller {
  column: Column;
  role: RoleName | null;
  token: string | null;
  /** The id the caller names as itself (batch approval `user_id`, own token). */
  id: string;
  world: World | null;
}

/** One request of the matrix: who sends it, the workspace it is about (A), and whose ids it carries. */
interface Call {
  caller: Caller;
  home: World;
  ids: World;
}

interface Prepared {
  method: string;
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** What the request may change (its own targets): compared before and after. */
  state?: () => Promise<unknown>;
  /** How many records the request would have created (batches): must not grow when refused. */
  created?: () => Promise<number>;
  /** Each target's outcome, null when it succeeded. */
  targets?: (res: Res) => Promise<(string | null)[]>;
  /** A read: its allowed answers are checked for the other workspace's data too. */
  reads?: boolean;
}

type Factory = (call: Call) => Promise<Prepared>;

const ws = (w: World) => `/api/v1/workspaces/${w.ws}`;

describeEachDialect('permission matrix (docs/permissions.md)', (dialect) => {
  let s: TestService;
  let A: World;
  let B: World;
  // The password of a PostgreSQL connection each workspace holds (where TEST_PG_URL gives a server to connect
  // to): no answer to anyone may ever carry it.
  const password = `pw-${randomBytes(12).toString('hex')}`;

  before(async () => {
    await ensureWebBuild();
    // No webhook delivery loop: the fixture webhooks' URLs are never to be resolved.
    s = await startTestService(dialect, {
      workerOptions: { idlePollMs: 50, webhooks: false },
      settings: { secretKey: newSecretKey(), connectionSources: TEST_CONNECTION_SOURCES },
    });
    [A, B] = await Promise.all([makeWorld(s, 'A'), makeWorld(s, 'B')]);
    if (PG_URL) {
      for (const w of [A, B]) {
        const r = await w.users.admin.api.post(`${ws(w)}/connections`, {
          name: `${w.marker} pg`,
          url: pgUrlWithPassword(password),
        });
        assert.equal(r.status, 201, JSON.stringify(r.body));
      }
    }
  });
  after(async () => {
    closeWorld(A);
    closeWorld(B);
    await s.close();
  });

  // ---------------------------------------------------------------- what a request may change, and its outcome
  const db = () => s.db.ctx.db;
  const json = (v: unknown) => s.db.ctx.caps.readJson<unknown>(v);

  async function itemsState(ids: string[]) {
    const [items, history, drafts, tickets] = await Promise.all([
      db()
        .selectFrom('item')
        .select(['id', 'rev_no', 'status_id', 'title', 'fields'])
        .where('id', 'in', ids)
        .orderBy('id')
        .execute(),
      db().selectFrom('item_history').select(['id', 'comment']).where('item_id', 'in', ids).orderBy('id').execute(),
      db()
        .selectFrom('item_draft')
        .select(['item_id', 'fields', 'updated_at'])
        .where('item_id', 'in', ids)
        .orderBy('item_id')
        .execute(),
      db().selectFrom('ticket').select(['id', 'state']).where('item_id', 'in', ids).orderBy('id').execute(),
    ]);
    return {
      items: items.map((i) => ({ ...i, fields: json(i.fields) })),
      history,
      drafts: drafts.map((d) => ({ ...d, fields: json(d.fields) })),
      tickets,
    };
  }
  async function ticketsState(ids: string[]) {
    const rows = await db()
      .selectFrom('ticket')
      .select(['id', 'state', 'item_id'])
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();
    return { tickets: rows, items: await itemsState(rows.map((r) => r.item_id)) };
  }
  const batchState = (id: string) =>
    db()
      .selectFrom('batch')
      .select(['state', 'max_rate', 'attempt', 'priority'])
      .where('id', '=', id)
      .executeTakeFirst();
  const membership = (userId: string) =>
    db()
      .selectFrom('membership')
      .select(['workspace_id', 'role'])
      .where('user_id', '=', userId)
      .orderBy('workspace_id')
      .execute();
  const tokens = async (userId: string) =>
    (await db().selectFrom('api_token').select('id').where('user_id', '=', userId).execute()).length;
  const historyRow = (id: string) =>
    db().selectFrom('item_history').select(['id', 'comment']).where('id', '=', id).executeTakeFirst();
  const approvers = (col: 'id' | 'user_id', v: string) =>
    db().selectFrom('dataarts_approver').select(['id', 'workspace_id']).where(col, '=', v).execute();
  const datastoresNamed = (displayId: string) =>
    db().selectFrom('datastore').select(['id', 'workspace_id']).where('display_id', '=', displayId).execute();
  const itemsTitled = (title: string) => db().selectFrom('item').select('id').where('title', '=', title).execute();

  /** Batches created since `since` whose parameters carry `mark`. */
  async function batchesMarked(mark: string, since: number): Promise<number> {
    const rows = await db()
      .selectFrom('batch')
      .select(['params', 'idempotency_key'])
      .where('created_at', '>=', since)
      .execute();
    return rows.filter((r) => r.idempotency_key === mark || JSON.stringify(json(r.params)).includes(mark)).length;
  }

  /** Each target's outcome in the newest batch of `ws` that has it, once no longer pending. */
  async function batchOutcomes(ws: string, targetIds: string[]): Promise<(string | null)[]> {
    const latest = await until(
      `targets ${targetIds.join(',')} of ${ws} to run`,
      async () => {
        const rows = await db()
          .selectFrom('batch_item')
          .innerJoin('batch', 'batch.id', 'batch_item.batch_id')
          .select(['batch_item.target_id', 'batch_item.state', 'batch_item.error_code', 'batch.id'])
          .where('batch.workspace_id', '=', ws)
          .where('batch_item.target_id', 'in', targetIds)
          .orderBy('batch.id', 'desc')
          .execute();
        return targetIds.map((t) => rows.find((r) => r.target_id === t));
      },
      (latest) => latest.every((r) => r && r.state !== 'pending'),
      { timeoutMs: 30_000 },
    );
    return latest.map((r) => (r!.state === 'succeeded' ? null : r!.error_code));
  }

  /** Each target's outcome in the batch `batchId`, in target order, once no longer pending. */
  async function outcomesOfBatch(batchId: string): Promise<(string | null)[]> {
    const rows = await until(
      `batch ${batchId} to run`,
      () =>
        db()
          .selectFrom('batch_item')
          .select(['state', 'error_code'])
          .where('batch_id', '=', batchId)
          .orderBy('seq')
          .execute(),
      (rows) => rows.length > 0 && rows.every((r) => r.state !== 'pending'),
      { timeoutMs: 30_000 },
    );
    return rows.map((r) => (r.state === 'succeeded' ? null : r.error_code));
  }
  const tablesOfModel = async (w: World, model: string) => [...(await tableModelsOf(s, w.ws, model)).entries()];
  /** What a transform may create: its target model (by name) and the table of its logical entity. */
  const transformState = (target: string, tbName: string) =>
    db()
      .selectFrom('item')
      .select(['id', 'workspace_id', 'title', 'rev_no'])
      .where('title', 'in', [target, tbName])
      .orderBy('id')
      .execute();

  // ---------------------------------------------------------------- one factory per route
  const F = new Map<string, Factory>();
  const def = (key: string, f: Factory) => {
    assert.ok(!F.has(key), key);
    F.set(key, f);
  };
  const read =
    (url: (c: Call) => string, headers?: (c: Call) => Record<string, string>): Factory =>
    async (c) => ({
      method: 'GET',
      url: url(c),
      reads: true,
      ...(headers ? { headers: headers(c) } : {}),
    });

  // users
  def('POST /api/v1/users', async () => {
    const name = unique('SECRET_NONE user');
    return {
      method: 'POST',
      url: '/api/v1/users',
      body: { name },
      state: () => db().selectFrom('app_user').select('id').where('name', '=', name).execute(),
    };
  });
  def(
    'GET /api/v1/users',
    read(() => '/api/v1/users'),
  );
  def(
    'GET /api/v1/me',
    read(() => '/api/v1/me'),
  );
  def('POST /api/v1/users/:user_id/tokens (yourself)', async ({ caller }) => ({
    method: 'POST',
    url: `/api/v1/users/${caller.id}/tokens`,
    body: { label: 'matrix' },
    state: () => tokens(caller.id),
  }));
  def('POST /api/v1/users/:user_id/tokens (a colleague)', async ({ ids }) => {
    const u = await newUser(s, ids, 'member');
    return {
      method: 'POST',
      url: `/api/v1/users/${u.id}/tokens`,
      body: { label: 'matrix' },
      state: () => tokens(u.id),
    };
  });
  def(
    'GET /api/v1/users/:user_id/tokens (yourself)',
    read(({ caller }) => `/api/v1/users/${caller.id}/tokens`),
  );
  def('GET /api/v1/users/:user_id/tokens (a colleague)', async ({ ids }) => {
    const u = await newUser(s, ids, 'member');
    return { method: 'GET', url: `/api/v1/users/${u.id}/tokens`, reads: true };
  });
  const tokenIdOf = async (userId: string) =>
    (
      await db()
        .selectFrom('api_token')
        .select('id')
        .where('user_id', '=', userId)
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow()
    ).id;
  def('DELETE /api/v1/users/:user_id/tokens/:token_id (yourself)', async ({ caller }) => {
    // Another token of the caller's, not the one it calls with.
    assert.equal((await s.root.post(`/api/v1/users/${caller.id}/tokens`, { label: 'spare' })).status, 201);
    const id = await tokenIdOf(caller.id);
    return { method: 'DELETE', url: `/api/v1/users/${caller.id}/tokens/${id}`, state: () => tokens(caller.id) };
  });
  def('DELETE /api/v1/users/:user_id/tokens/:token_id (a colleague)', async ({ ids }) => {
    const u = await newUser(s, ids, 'member');
    return {
      method: 'DELETE',
      url: `/api/v1/users/${u.id}/tokens/${await tokenIdOf(u.id)}`,
      state: () => tokens(u.id),
    };
  });

  // workspaces and members
  def('POST /api/v1/workspaces', async () => {
    const name = unique('SECRET_NONE workspace');
    return {
      method: 'POST',
      url: '/api/v1/workspaces',
      body: { name },
      state: () => db().selectFrom('workspace').select('id').where('name', '=', name).execute(),
    };
  });
  def(
    'GET /api/v1/workspaces',
    read(() => '/api/v1/workspaces'),
  );
  def(
    'GET /api/v1/workspaces/:ws',
    read(({ ids }) => ws(ids)),
  );
  def(
    'GET /api/v1/workspaces/:ws/members',
    read(({ ids }) => `${ws(ids)}/members`),
  );
  def('PUT /api/v1/workspaces/:ws/members/:user_id (a member)', async ({ home, ids }) => {
    // Own ids: a member of A; another's: a member of B (not of A).
    const u = await newUser(s, ids, 'member');
    return {
      method: 'PUT',
      url: `${ws(home)}/members/${u.id}`,
      body: { role: 'viewer' },
      state: () => membership(u.id),
    };
  });
  def('PUT /api/v1/workspaces/:ws/members/:user_id (a non-member)', async ({ home }) => {
    // A user of no workspace: only a system admin adds them; everyone else invites.
    const u = await newUser(s, null);
    return {
      method: 'PUT',
      url: `${ws(home)}/members/${u.id}`,
      body: { role: 'viewer' },
      state: () => membership(u.id),
    };
  });
  const invitations = (userId: string) =>
    db().selectFrom('invitation').select(['workspace_id', 'state']).where('user_id', '=', userId).execute();
  const invitation = (id: string) =>
    db().selectFrom('invitation').select(['state', 'user_id']).where('id', '=', id).execute();
  /** An open invitation of a fresh workspace, to `userId` (a fresh user when null). */
  const invitationTo = async (userId: string | null): Promise<string> => {
    const owner = await newUser(s, null);
    const w = await owner.api.post('/api/v1/workspaces', { name: unique('SECRET_NONE inviting') });
    const inv = await owner.api.post(`/api/v1/workspaces/${w.body.id}/invitations`, {
      user_id: userId ?? (await newUser(s, null)).id,
      role: 'viewer',
    });
    assert.equal(inv.status, 201, JSON.stringify(inv.body));
    return inv.body.id;
  };
  def('POST /api/v1/workspaces/:ws/invitations', async ({ home, ids }) => {
    // Own ids: a user of no workspace; another's: a member of B.
    const u = await newUser(s, ids === home ? null : ids, ids === home ? undefined : 'member');
    return {
      method: 'POST',
      url: `${ws(home)}/invitations`,
      body: { user_id: u.id, role: 'viewer' },
      state: () => invitations(u.id),
    };
  });
  def(
    'GET /api/v1/workspaces/:ws/invitations',
    read(({ ids }) => `${ws(ids)}/invitations`),
  );
  def('DELETE /api/v1/workspaces/:ws/invitations/:id', async ({ home, ids }) => {
    const u = await newUser(s, null);
    const inv = await ids.users.admin.api.post(`${ws(ids)}/invitations`, { user_id: u.id, role: 'member' });
    assert.equal(inv.status, 201, JSON.stringify(inv.body));
    return { method: 'DELETE', url: `${ws(home)}/invitations/${inv.body.id}`, state: () => invitation(inv.body.id) };
  });
  def(
    'GET /api/v1/invitations',
    read(() => '/api/v1/invitations'),
  );
  for (const decision of ['accept', 'decline'] as const) {
    def(`POST /api/v1/invitations/:id/${decision}`, async ({ caller, home, ids }) => {
      // Own ids: an invitation to the caller; another's: one to someone else.
      const id = await invitationTo(ids === home && caller.token ? caller.id : null);
      return { method: 'POST', url: `/api/v1/invitations/${id}/${decision}`, body: {}, state: () => invitation(id) };
    });
  }
  def('DELETE /api/v1/workspaces/:ws/members/:user_id', async ({ home, ids }) => {
    const u = await newUser(s, ids, 'member');
    return { method: 'DELETE', url: `${ws(home)}/members/${u.id}`, state: () => membership(u.id) };
  });

  // datastores and items
  def('POST /api/v1/workspaces/:ws/datastores', async ({ ids }) => {
    const displayId = unique('ds');
    return {
      method: 'POST',
      url: `${ws(ids)}/datastores`,
      body: { ...PURCHASE_DS, display_id: displayId },
      state: () => datastoresNamed(displayId),
    };
  });
  def(
    'GET /api/v1/workspaces/:ws/datastores',
    read(({ ids }) => `${ws(ids)}/datastores`),
  );
  def(
    'GET /api/v1/workspaces/:ws/datastores/:ds',
    read(({ home, ids }) => `${ws(home)}/datastores/${ids.ds}`),
  );
  def('POST /api/v1/workspaces/:ws/datastores/:ds/items', async ({ home, ids }) => {
    const title = unique('new item');
    return {
      method: 'POST',
      url: `${ws(home)}/datastores/${ids.ds}/items`,
      body: { title, fields: { amount: 3 } },
      state: () => itemsTitled(title),
    };
  });
  def('POST /api/v1/workspaces/:ws/datastores/:ds/items/search', async ({ home, ids }) => ({
    method: 'POST',
    url: `${ws(home)}/datastores/${ids.ds}/items/search`,
    body: { per_page: 5 },
    reads: true,
  }));
  def(
    'GET /api/v1/workspaces/:ws/items/:id',
    read(({ home, ids }) => `${ws(home)}/items/${ids.item}`),
  );
  def('PATCH /api/v1/workspaces/:ws/items/:id', async ({ home, ids }) => {
    const item = await newItem(ids);
    return {
      method: 'PATCH',
      url: `${ws(home)}/items/${item}`,
      body: { fields: { amount: 2 } },
      state: () => itemsState([item]),
    };
  });
  def('DELETE /api/v1/workspaces/:ws/items/:id/draft', async ({ home, ids }) => {
    const e = await newEntity(ids, 'PUBLISHED', true);
    return { method: 'DELETE', url: `${ws(home)}/items/${e}/draft`, state: () => itemsState([e]) };
  });
  def('POST /api/v1/workspaces/:ws/items/:id/actions/:action', async ({ home, ids }) => {
    const item = await newItem(ids);
    return {
      method: 'POST',
      url: `${ws(home)}/items/${item}/actions/touch`,
      body: { comment: 'touched' },
      state: () => itemsState([item]),
    };
  });
  def('POST /api/v1/workspaces/:ws/items/:id/comments', async ({ home, ids }) => {
    const item = await newItem(ids);
    return {
      method: 'POST',
      url: `${ws(home)}/items/${item}/comments`,
      body: { comment: 'hello' },
      state: () => itemsState([item]),
    };
  });

  // tickets
  def(
    'GET /api/v1/workspaces/:ws/tickets',
    read(({ home, ids }) => `${ws(home)}/tickets?state=pending&datastore_id=${ids.ds}`),
  );
  def(
    'GET /api/v1/workspaces/:ws/tickets/:id',
    read(({ home, ids }) => `${ws(home)}/tickets/${ids.ticket}`),
  );
  for (const decision of ['approve', 'reject', 'withdraw']) {
    def(`POST /api/v1/workspaces/:ws/tickets/:id/:decision (${decision})`, async ({ home, ids }) => {
      const t = await newTicket(ids);
      return {
        method: 'POST',
        url: `${ws(home)}/tickets/${t}/${decision}`,
        body: { comment: 'decided' },
        state: () => ticketsState([t]),
      };
    });
  }

  // batches
  const submit =
    (operation: string, target: (w: World) => Promise<string>, stateOf: (id: string) => Promise<unknown>): Factory =>
    async ({ home, ids }) => {
      const t = await target(ids);
      const mark = unique('batch');
      const since = Date.now();
      return {
        method: 'POST',
        url: `${ws(home)}/batches`,
        headers: { 'idempotency-key': mark },
        body: {
          operation,
          ...(operation === 'action' ? { action: 'touch' } : {}),
          target: { ids: [t] },
          comment: mark,
        },
        state: () => stateOf(t),
        created: () => batchesMarked(mark, since),
        targets: () => batchOutcomes(home.ws, [t]),
      };
    };
  def(
    'POST /api/v1/workspaces/:ws/batches (action)',
    submit('action', newItem, (id) => itemsState([id])),
  );
  def(
    'POST /api/v1/workspaces/:ws/batches (approve)',
    submit('approve', newTicket, (id) => ticketsState([id])),
  );
  def(
    'POST /api/v1/workspaces/:ws/batches (withdraw)',
    submit('withdraw', newTicket, (id) => ticketsState([id])),
  );
  def(
    'GET /api/v1/workspaces/:ws/batches',
    read(({ ids }) => `${ws(ids)}/batches`),
  );
  def(
    'GET /api/v1/workspaces/:ws/batches/:id',
    read(({ home, ids }) => `${ws(home)}/batches/${ids.batch}`),
  );
  def(
    'GET /api/v1/workspaces/:ws/batches/:id/items',
    read(({ home, ids }) => `${ws(home)}/batches/${ids.batch}/items`),
  );
  def(
    'GET /api/v1/workspaces/:ws/batches/:id/events',
    read(({ home, ids }) => `${ws(home)}/batches/${ids.batch}/events`),
  );
  const controls = {
    cancel: 'scheduled',
    pause: 'scheduled',
    resume: 'paused',
    retry: 'completed_with_errors',
    rethrottle: 'scheduled',
    reprioritize: 'scheduled',
  } as const;
  const controlBody: Record<string, unknown> = { rethrottle: { max_rate: 5 }, reprioritize: { priority: 20 } };
  for (const [control, needs] of Object.entries(controls)) {
    def(`POST /api/v1/workspaces/:ws/batches/:id/${control}`, async ({ home, ids }) => {
      const b = await newBatch(s, ids, needs);
      return {
        method: 'POST',
        url: `${ws(home)}/batches/${b}/${control}`,
        body: controlBody[control] ?? {},
        state: () => batchState(b),
      };
    });
  }
  def('POST /api/v1/workspaces/:ws/batches/:id/revert', async ({ home, ids }) => {
    // A batch of the member's that changed an item (`touch` sets its category): the revert puts it back.
    const item = await newItem(ids);
    const done = await runInline(s, ids, { operation: 'action', action: 'touch', target: { ids: [item] } });
    assert.equal(done.state, 'succeeded');
    const mark = unique('revert');
    const since = Date.now();
    return {
      method: 'POST',
      url: `${ws(home)}/batches/${done.id}/revert`,
      body: { comment: mark },
      state: () => itemsState([item]),
      created: () => batchesMarked(mark, since),
      targets: () => batchOutcomes(home.ws, [item]),
    };
  });

  // webhooks: workspace admins only
  const hooks = (w: World) => `${ws(w)}/webhooks`;
  const webhookState = (id: string) =>
    db().selectFrom('webhook').select(['id', 'url', 'description', 'events', 'active']).where('id', '=', id).execute();
  def('POST /api/v1/workspaces/:ws/webhooks', async ({ ids }) => {
    const description = unique('SECRET_NONE hook');
    return {
      method: 'POST',
      url: hooks(ids),
      body: { url: 'https://hooks.invalid/matrix', description, active: false },
      state: () => db().selectFrom('webhook').select('id').where('description', '=', description).execute(),
    };
  });
  def(
    'GET /api/v1/workspaces/:ws/webhooks',
    read(({ ids }) => hooks(ids)),
  );
  def(
    'GET /api/v1/workspaces/:ws/webhooks/:id',
    read(({ home, ids }) => `${hooks(home)}/${ids.webhook}`),
  );
  def('PATCH /api/v1/workspaces/:ws/webhooks/:id', async ({ home, ids }) => {
    const h = await newWebhook(ids);
    return {
      method: 'PATCH',
      url: `${hooks(home)}/${h}`,
      body: { description: unique('patched'), active: true },
      state: () => webhookState(h),
    };
  });
  def('DELETE /api/v1/workspaces/:ws/webhooks/:id', async ({ home, ids }) => {
    const h = await newWebhook(ids);
    return { method: 'DELETE', url: `${hooks(home)}/${h}`, state: () => webhookState(h) };
  });
  def(
    'GET /api/v1/workspaces/:ws/webhooks/:id/deliveries',
    read(({ home, ids }) => `${hooks(home)}/${ids.webhook}/deliveries`),
  );
  def(
    'GET /api/v1/workspaces/:ws/webhooks/:id/deliveries/:delivery_id',
    read(({ home, ids }) => `${hooks(home)}/${ids.webhook}/deliveries/${ids.delivery}`),
  );
  def('POST /api/v1/workspaces/:ws/webhooks/:id/deliveries/:delivery_id/redeliver', async ({ home, ids }) => {
    const d = await newDelivery(ids);
    return {
      method: 'POST',
      url: `${hooks(home)}/${ids.webhook}/deliveries/${d}/redeliver`,
      body: {},
      state: () => db().selectFrom('webhook_delivery').select('id').where('redelivery_of', '=', d).execute(),
    };
  });

  // data connections (workspace admins)
  def('POST /api/v1/workspaces/:ws/connections', async ({ ids }) => {
    const name = unique('connection');
    return {
      method: 'POST',
      url: `${ws(ids)}/connections`,
      body: { name, url: `sqlite:${ids.source.path}` },
      state: () => db().selectFrom('data_connection').select(['id', 'workspace_id']).where('name', '=', name).execute(),
    };
  });
  def(
    'GET /api/v1/workspaces/:ws/connections',
    read(({ ids }) => `${ws(ids)}/connections`),
  );
  def(
    'GET /api/v1/workspaces/:ws/connections/:id',
    read(({ home, ids }) => `${ws(home)}/connections/${ids.connection}`),
  );
  def('DELETE /api/v1/workspaces/:ws/connections/:id', async ({ home, ids }) => {
    const c = await newConnection(ids);
    return {
      method: 'DELETE',
      url: `${ws(home)}/connections/${c}`,
      state: () => db().selectFrom('data_connection').select(['id', 'workspace_id']).where('id', '=', c).execute(),
    };
  });
  def(
    'GET /api/v1/workspaces/:ws/connections/:id/tables',
    read(({ home, ids }) => `${ws(home)}/connections/${ids.connection}/tables`),
  );

  // model operations: a reverse through the ids' own connection into a fresh physical model, a transform of a
  // fresh logical model into a physical model made for it
  def('POST /api/v1/workspaces/:ws/models/:model_id/reverse', async ({ home, ids }) => {
    const model = await newModel(ids, { is_physical: true });
    const mark = unique('reverse');
    const since = Date.now();
    return {
      method: 'POST',
      url: `${ws(home)}/models/${model}/reverse`,
      headers: { 'idempotency-key': mark },
      body: { connection_id: ids.connection },
      state: () => tablesOfModel(ids, model),
      created: () => batchesMarked(mark, since),
      targets: (res) => outcomesOfBatch(res.body.id),
    };
  });
  def('POST /api/v1/workspaces/:ws/models/:model_id/transform', async ({ home, ids }) => {
    const l = await newLogicModel(ids);
    const target = unique('physical');
    const mark = unique('transform');
    const since = Date.now();
    return {
      method: 'POST',
      url: `${ws(home)}/models/${l.model}/transform`,
      headers: { 'idempotency-key': mark },
      body: { target_model_name: target, dw_type: 'SQLITE' },
      state: () => transformState(target, l.tbName),
      created: () => batchesMarked(mark, since),
      targets: (res) => outcomesOfBatch(res.body.batch.id),
    };
  });
  def(
    'GET /api/v1/workspaces/:ws/models/:model_id/ddl',
    read(({ home, ids }) => `${ws(home)}/models/${ids.model}/ddl`),
  );

  // DataArts, under both versions
  for (const v of ['v1', 'v2']) {
    const da = (w: World, path: string) => `/${v}/${w.project}/design/${path}`;
    const hdr = (w: World) => ({ workspace: w.ws });
    const P = `/${v}/:project_id/design`;
    for (const [path, status] of [
      ['batch-publish', 'DRAFT'],
      ['batch-offline', 'PUBLISHED'],
    ] as const) {
      def(`POST ${P}/approvals/${path}`, async ({ home, ids }) => {
        const e = await newEntity(ids, status);
        const mark = unique('approver name');
        const since = Date.now();
        return {
          method: 'POST',
          url: da(home, `approvals/${path}`),
          headers: hdr(home),
          body: publishBody(home, [e], mark),
          state: () => itemsState([e]),
          created: () => batchesMarked(mark, since),
          targets: () => batchOutcomes(home.ws, [e]),
        };
      });
    }
    def(`PUT ${P}/approvals/action`, async ({ home, ids }) => {
      const t = await newDataartsTicket(s, ids);
      const mark = unique('decision');
      const since = Date.now();
      return {
        method: 'PUT',
        url: `${da(home, 'approvals/action')}?action-id=resolve`,
        headers: hdr(home),
        body: { ids: [t], msg: mark },
        state: () => ticketsState([t]),
        created: () => batchesMarked(mark, since),
        targets: () => batchOutcomes(home.ws, [t]),
      };
    });
    def(
      `GET ${P}/approvals`,
      read(
        ({ home, ids }) => `${da(home, 'approvals')}?biz_id=${ids.entity}`,
        (c) => hdr(c.home),
      ),
    );
    def(`PUT ${P}/approvals`, async ({ home, ids }) => {
      const t = await newDataartsTicket(s, ids);
      return {
        method: 'PUT',
        url: `${da(home, 'approvals')}?ids=${t}`,
        headers: hdr(home),
        state: () => ticketsState([t]),
        targets: () => batchOutcomes(home.ws, [t]),
      };
    });
    def(`POST ${P}/approvals/users`, async ({ home, ids }) => {
      const user = ids === home ? await newUser(s, home, 'approver') : ids.users.approver;
      return {
        method: 'POST',
        url: da(home, 'approvals/users'),
        headers: hdr(home),
        body: { approver_name: 'matrix', user_id: user.id },
        state: () => approvers('user_id', user.id),
      };
    });
    def(`GET ${P}/approvals/users`, async ({ ids }) => ({
      method: 'GET',
      url: da(ids, 'approvals/users'),
      headers: hdr(ids),
      reads: true,
    }));
    def(`DELETE ${P}/approvals/users`, async ({ home, ids }) => {
      const reg = await newApproverReg(s, ids);
      return {
        method: 'DELETE',
        url: `${da(home, 'approvals/users')}?approver_ids=${reg.id}`,
        headers: hdr(home),
        state: () => approvers('id', reg.id),
      };
    });
    def(
      `GET ${P}/operation-results`,
      read(
        ({ home, ids }) => `${da(home, 'operation-results')}?operation_type=PUBLISH&operation_id=${ids.daGroup}`,
        (c) => hdr(c.home),
      ),
    );
    def(`DELETE ${P}/approvals/business/:biz_id`, async ({ home, ids }) => {
      const e = await newEntity(ids, 'PUBLISHED', true);
      return {
        method: 'DELETE',
        url: `${da(home, `approvals/business/${e}`)}?biz_type=${BIZ}`,
        headers: hdr(home),
        state: () => itemsState([e]),
      };
    });
    def(
      `GET ${P}/approvals/business/:biz_id/diff`,
      read(
        ({ home, ids }) => `${da(home, `approvals/business/${ids.entity}/diff`)}?biz_type=${BIZ}`,
        (c) => hdr(c.home),
      ),
    );
    def(`PUT ${P}/workspaces/:model_id/transform`, async ({ home, ids }) => {
      const l = await newLogicModel(ids);
      const target = unique('physical');
      const since = Date.now();
      return {
        method: 'PUT',
        url: da(home, `workspaces/${l.model}/transform`),
        headers: hdr(home),
        body: { target_model_name: target, dw_type: 'SQLITE', ids: [l.entity] },
        // The batch names the logical model it transforms.
        state: () => transformState(target, l.tbName),
        created: () => batchesMarked(l.model, since),
        targets: () => batchOutcomes(home.ws, [l.entity]),
      };
    });
  }

  // the batch approval open API: user_id is the caller
  const verdicts = async (res: Res) =>
    (res.body as { supported: boolean; code?: string }[]).map((v) => (v.supported ? null : v.code!));
  def('POST /batch_approvals/_check', async ({ caller, ids }) => ({
    method: 'POST',
    url: `/batch_approvals/_check?user_id=${caller.id}`,
    body: [ids.ticket],
    targets: verdicts,
    reads: true,
  }));
  def('POST /batch_approvals/_check (for another user)', async ({ ids }) => ({
    method: 'POST',
    url: `/batch_approvals/_check?user_id=${ids.subject.id}`,
    body: [ids.ticket],
    targets: verdicts,
    reads: true,
  }));
  def('POST /batch_approvals/_submit', async ({ caller, ids }) => {
    const t = await newTicket(ids);
    return {
      method: 'POST',
      url: `/batch_approvals/_submit?user_id=${caller.id}`,
      body: [t],
      state: () => ticketsState([t]),
      targets: async (res) => {
        const p = await waitForGroup(s.client(caller.token!), caller.id, res.body.batch_number, 30_000);
        return [p.failed_reasons.find((f: { task_id: string }) => f.task_id === t)?.code ?? null];
      },
    };
  });
  def('GET /batch_approvals/_submit', async ({ caller, ids }) => {
    // Own: a batch_number the caller submitted; otherwise one of the ids' workspace's approver.
    const own = caller.token !== null && (caller.world === null || caller.world === ids);
    const by: { id: string; token: string } = own ? { id: caller.id, token: caller.token! } : ids.users.approver;
    const r = await s.client(by.token).post(`/batch_approvals/_submit?user_id=${by.id}`, [await newTicket(ids)]);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return {
      method: 'GET',
      url: `/batch_approvals/_submit?user_id=${caller.id}&batch_number=${r.body.batch_number}`,
      reads: true,
    };
  });

  // Hexabase: the app is the workspace's project_id
  const hx = (c: Call, ds: string) => `/api/v0/applications/${c.home.project}/datastores/${ds}`;
  def('POST /api/v0/applications/:app_id/datastores/:datastore_id/items/search', async (c) => ({
    method: 'POST',
    url: `${hx(c, c.ids.ds)}/items/search`,
    body: { per_page: 5 },
    reads: true,
  }));
  def('POST /api/v0/applications/:app_id/datastores/:datastore_id/items/new', async (c) => {
    const title = unique('hexabase item');
    return {
      method: 'POST',
      url: `${hx(c, c.ids.ds)}/items/new`,
      body: { item: { title, amount: 4 } },
      state: () => itemsTitled(title),
    };
  });
  def(
    'GET /api/v0/applications/:app_id/datastores/:datastore_id/items/details/:item_id',
    read((c) => `${hx(c, c.home.ds)}/items/details/${c.ids.item}`),
  );
  def(
    'GET /api/v0/datastores/:d_id/items/:item_id',
    read((c) => `/api/v0/datastores/${c.home.ds}/items/${c.ids.item}`),
  );
  def('POST /api/v0/applications/:app_id/datastores/:datastore_id/items/action/:item_id/:action_id', async (c) => {
    const item = await newItem(c.ids);
    return {
      method: 'POST',
      url: `${hx(c, c.home.ds)}/items/action/${item}/touch`,
      body: { comment: 'touched' },
      state: () => itemsState([item]),
    };
  });
  def('POST /api/v0/applications/:app_id/datastores/:datastore_id/items/bulkaction/:action_id', async (c) => {
    const mark = unique('bulk');
    const item = await newItem(c.ids, { vendor: mark });
    const since = Date.now();
    return {
      method: 'POST',
      url: `${hx(c, c.ids.ds)}/items/bulkaction/touch`,
      body: { conditions: [{ id: 'vendor', search_value: [mark], exact_match: true }], comment: mark, max_items: 10 },
      state: () => itemsState([item]),
      created: () => batchesMarked(mark, since),
    };
  });
  def(
    'GET /api/v0/applications/:app_id/datastores/:datastore_id/items/histories/:item_id',
    read((c) => `${hx(c, c.home.ds)}/items/histories/${c.ids.item}`),
  );
  def('POST /api/v0/applications/:app_id/datastores/:datastore_id/items/histories/:item_id', async (c) => {
    const item = await newItem(c.ids);
    return {
      method: 'POST',
      url: `${hx(c, c.home.ds)}/items/histories/${item}`,
      body: { comment: 'hello' },
      state: () => itemsState([item]),
    };
  });
  for (const method of ['PUT', 'DELETE']) {
    def(
      `${method} /api/v0/applications/:app_id/datastores/:datastore_id/items/histories/:item_id/:history_id`,
      async (c) => {
        // A comment by the member; another's: a comment of B named under one of A's items.
        const item = await newItem(c.home);
        const h = c.ids === c.home ? await newComment(c.home, item) : await newComment(c.ids);
        return {
          method,
          url: `${hx(c, c.home.ds)}/items/histories/${item}/${h}`,
          ...(method === 'PUT' ? { body: { comment: 'edited' } } : {}),
          state: () => historyRow(h),
        };
      },
    );
  }
  for (const what of ['actions', 'statuses', 'fields'])
    def(
      `GET /api/v0/datastores/:d_id/${what}`,
      read((c) => `/api/v0/datastores/${c.ids.ds}/${what}`),
    );
  def(
    'GET /api/v0/applications/:app_id/datastores/:datastore_id/fields',
    read((c) => `${hx(c, c.ids.ds)}/fields`),
  );

  // operations
  def(
    'GET /metrics',
    read(() => '/metrics'),
  );

  // public
  for (const path of [
    '/healthz',
    '/openapi.json',
    '/docs',
    '/docs/json',
    '/docs/yaml',
    '/docs/static/index.html',
    '/docs/static/swagger-initializer.js',
    '/',
  ])
    def(
      `GET ${path}`,
      read(() => path),
    );
  def(
    'GET /docs/static/*',
    read(() => '/docs/static/swagger-ui.css'),
  );
  def(
    'GET /assets/*',
    read(() => '/assets/app.js'),
  );

  // ---------------------------------------------------------------- running the matrix
  const rowKeys = (row: TableRow) =>
    row.paths.map((p) => `${row.method} ${p}${row.variant ? ` (${row.variant})` : ''}`);

  function codeOf(url: string, body: any): string | undefined {
    if (typeof body !== 'object' || body === null) return undefined;
    if (/^\/v[12]\//.test(url) || url.startsWith('/api/v0/')) return body.error_code;
    if (url.startsWith('/batch_approvals/')) return body.code;
    return body.error?.code;
  }

  async function send(token: string | null, p: Prepared): Promise<Res & { text: string }> {
    const headers: Record<string, string> = { ...(p.headers ?? {}) };
    // DataArts clients send X-Auth-Token; everyone else Authorization: Bearer.
    if (token)
      Object.assign(
        headers,
        /^\/v[12]\//.test(p.url) ? { 'x-auth-token': token } : { authorization: `Bearer ${token}` },
      );
    if (p.body !== undefined) headers['content-type'] = 'application/json';
    const res = await s.app.inject({
      method: p.method as 'GET',
      url: p.url,
      headers,
      ...(p.body !== undefined ? { payload: JSON.stringify(p.body) } : {}),
    });
    let body: unknown = res.body;
    try {
      body = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      /* not JSON (the web UI, SSE): keep the text */
    }
    return { status: res.statusCode, body, headers: res.headers, text: res.body };
  }

  /** Every (route, caller) pair of the table: one case per role where a column stands for several. */
  interface Case {
    key: string;
    caller: Caller;
    home: World;
    ids: World;
    expect: Expect;
  }

  function cases(): Case[] {
    const out: Case[] = [];
    for (const row of ROWS) {
      for (const key of rowKeys(row)) {
        for (const column of COLUMNS) {
          const cell = row.cells[column];
          if (!cell) continue;
          const add = (caller: Caller, ids: World) =>
            out.push({ key, caller, home: A, ids, expect: expected(cell, caller.role ?? undefined) });
          const person = (w: World, role: RoleName): Caller => ({
            column,
            role,
            token: w.users[role].token,
            id: w.users[role].id,
            world: w,
          });
          if (column === 'no token') add({ column, role: null, token: null, id: A.users.approver.id, world: null }, A);
          else if (column === 'system admin')
            add({ column, role: null, token: s.root.token, id: s.admin.id, world: null }, A);
          else if (column === "another workspace's member") for (const r of ROLES) add(person(B, r), A);
          else if (column === "own workspace, another's ids") for (const r of ROLES) add(person(A, r), B);
          else add(person(A, column as RoleName), A);
        }
      }
    }
    return out;
  }

  async function runCase(c: Case): Promise<string[]> {
    const who = `${c.key} as ${c.caller.column}${c.caller.role && c.caller.column.includes('another') ? ` (${c.caller.role})` : ''}`;
    const p = await F.get(c.key)!({ caller: c.caller, home: c.home, ids: c.ids });
    const before = p.state ? await p.state() : undefined;
    const createdBefore = p.created ? await p.created() : 0;
    const res = await send(c.caller.token, p);
    const errors: string[] = [];
    const e = c.expect;
    const code = codeOf(p.url, res.body);
    if (res.status !== e.status || (e.code && code !== e.code)) {
      return [`${who}: expected ${e.text}, got ${res.status} ${code ?? ''} ${res.text.slice(0, 300)}`];
    }
    const allowed = res.status < 400;
    // Another workspace's data never shows in a refusal, nor in a read of a caller of the other workspace.
    const other = c.caller.world === B ? A : c.ids === B ? B : null;
    if ((!allowed || p.reads) && other && res.text.includes(other.marker))
      errors.push(`${who}: the answer shows ${other.marker} data: ${res.text.slice(0, 300)}`);
    if (c.caller.token === null && (res.text.includes(A.marker) || res.text.includes(B.marker)))
      errors.push(`${who}: an anonymous answer shows data`);
    if (res.text.includes(password)) errors.push(`${who}: the answer shows a connection's password`);
    if (allowed && p.targets) {
      const outcomes = await p.targets(res);
      const want = e.targetsFail ?? null;
      if (outcomes.length === 0 || outcomes.some((o) => o !== want))
        errors.push(`${who}: targets ${JSON.stringify(outcomes)}, expected all ${want ?? 'succeeded'}`);
    } else if (e.targetsFail) {
      errors.push(`${who}: the table says targets fail but the route reports no targets`);
    }
    if (p.state) {
      const after = await p.state();
      const unchanged = JSON.stringify(after) === JSON.stringify(before);
      if ((!allowed || e.targetsFail || e.nothingDone) && !unchanged)
        errors.push(`${who}: ${e.text} but it changed ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
      if (allowed && !e.targetsFail && !e.nothingDone && unchanged) errors.push(`${who}: allowed but changed nothing`);
    }
    if (!allowed && p.created && (await p.created()) !== createdBefore)
      errors.push(`${who}: refused but recorded a batch`);
    return errors;
  }

  it('docs/permissions.md has a row for every registered route, and every row names one', () => {
    const registered = new Set(s.app.routeList.map((r) => `${r.method} ${r.url}`));
    const listed = new Set(ROWS.flatMap((r) => r.paths.map((p) => `${r.method} ${p}`)));
    assert.deepEqual(
      [...registered].filter((r) => !listed.has(r)),
      [],
      'registered routes missing from docs/permissions.md',
    );
    assert.deepEqual(
      [...listed].filter((r) => !registered.has(r)),
      [],
      'rows of docs/permissions.md that name no route',
    );
    const keys = ROWS.flatMap(rowKeys);
    assert.equal(new Set(keys).size, keys.length, 'no route (and variant) is listed twice');
    assert.deepEqual(
      keys.filter((k) => !F.has(k)),
      [],
      'rows without a request factory in this test',
    );
    assert.deepEqual(
      [...F.keys()].filter((k) => !keys.includes(k)),
      [],
      'request factories without a row',
    );
  });

  it("every route answers every caller, with its own and with another workspace's ids, as the table says", async (t) => {
    const all = cases();
    const started = Date.now();
    const errors: string[] = [];
    // Bounded parallelism: fixtures are per request, so cases are independent; 6 keeps both cores busy.
    let next = 0;
    await Promise.all(
      Array.from({ length: 6 }, async () => {
        while (next < all.length) {
          const c = all[next++]!;
          try {
            errors.push(...(await runCase(c)));
          } catch (err) {
            errors.push(`${c.key} as ${c.caller.column}: ${(err as Error).stack}`);
          }
        }
      }),
    );
    t.diagnostic(`${all.length} requests over ${ROWS.length} rows in ${Date.now() - started} ms`);
    assert.deepEqual(errors, []);
  });

  // ---------------------------------------------------------------- ids of two workspaces in one request
  it("a model operation on its own workspace's model finds no other workspace's connection, model or entity", async () => {
    const m = A.users.member.api;
    const batchesBefore = await db()
      .selectFrom('batch')
      .select('id')
      .where('workspace_id', 'in', [A.ws, B.ws])
      .execute();
    const refused = async (r: Res, status: number, code: string, what: string) => {
      assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error?.code ?? r.body.error_code, code, what);
      assert.ok(!JSON.stringify(r.body).includes(B.marker), `${what} shows B's data`);
    };

    // A reverse into A's model through B's connection.
    const model = await newModel(A, { is_physical: true });
    await refused(
      await m.post(`${ws(A)}/models/${model}/reverse`, { connection_id: B.connection }),
      404,
      'CONNECTION_NOT_FOUND',
      "reverse through B's connection",
    );
    assert.deepEqual(await tablesOfModel(A, model), []);

    // A transform of A's logical model into B's physical model, natively and through DataArts.
    const l = await newLogicModel(A);
    await refused(
      await m.post(`${ws(A)}/models/${l.model}/transform`, { target_model_id: B.model, dw_type: 'SQLITE' }),
      404,
      'ITEM_NOT_FOUND',
      "transform into B's model",
    );
    const da = await s
      .client(A.users.member.token)
      .raw(
        'PUT',
        `/v1/${A.project}/design/workspaces/${l.model}/transform`,
        JSON.stringify({ target_model_id: B.model, target_model_name: unique('physical'), dw_type: 'SQLITE' }),
        {
          'content-type': 'application/json',
          workspace: A.ws,
          'x-auth-token': A.users.member.token,
        },
      );
    await refused(da, 404, 'DS.6042', "DataArts transform into B's model");
    assert.equal((await tablesOfModel(B, B.model)).length, 1, "B's model keeps its one table");
    assert.equal(
      (await db().selectFrom('batch').select('id').where('workspace_id', 'in', [A.ws, B.ws]).execute()).length,
      batchesBefore.length,
      'no refused operation recorded a batch',
    );

    // B's logical entities named among A's: each fails as not found; A's own entity, left out, is skipped.
    const other = await newLogicModel(B);
    const target = unique('physical');
    const r = await m.post(`${ws(A)}/models/${l.model}/transform`, {
      target_model_name: target,
      dw_type: 'SQLITE',
      ids: [other.entity],
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual(await outcomesOfBatch(r.body.batch.id), ['SKIPPED_BY_USER', 'ITEM_NOT_FOUND']);
    assert.deepEqual(
      await transformState(target, other.tbName).then((rows) => rows.map((x) => [x.workspace_id, x.title])),
      [[A.ws, target]],
    );
    const items = await m.get(`${ws(A)}/batches/${r.body.batch.id}/items`);
    assert.equal(items.status, 200);
    assert.ok(!JSON.stringify(items.body).includes(B.marker), "the batch's items show none of B's data");
  });

  // ---------------------------------------------------------------- the rules hold when the work is done
  const setRole = async (userId: string, role: RoleName) =>
    assert.equal((await A.users.admin.api.put(`${ws(A)}/members/${userId}`, { role })).status, 200);

  it('a submitter demoted to viewer controls, withdraws and changes nothing more, not even through a batch submitted before', async () => {
    const m = await newUser(s, A, 'member');
    const items = [await newItem(A), await newItem(A)];
    const sub = await m.api.post(`${ws(A)}/items/${await newItem(A)}/actions/submit`, {});
    assert.equal(sub.status, 200, JSON.stringify(sub.body));
    const b = await m.api.post(`${ws(A)}/batches`, {
      operation: 'action',
      action: 'touch',
      target: { ids: items },
      start_at: '2999-01-01T00:00:00Z',
    });
    assert.equal(b.status, 202, JSON.stringify(b.body));
    const before = await itemsState(items);
    await setRole(m.id, 'viewer');

    assert.equal((await m.api.post(`${ws(A)}/batches/${b.body.id}/pause`, {})).body.error.code, 'FORBIDDEN');
    assert.equal(
      (await m.api.post(`${ws(A)}/tickets/${sub.body.ticket.id}/withdraw`, {})).body.error.code,
      'FORBIDDEN',
    );
    assert.equal(
      (await db().selectFrom('ticket').select('state').where('id', '=', sub.body.ticket.id).executeTakeFirstOrThrow())
        .state,
      'pending',
    );

    // The admin starts the batch now (its start is far off): it runs as its submitter stands, a viewer.
    const admin = A.users.admin.api;
    for (const [control, body] of [
      ['pause', {}],
      ['resume', {}],
      ['rethrottle', { max_rate: null }],
    ] as const) {
      assert.equal((await admin.post(`${ws(A)}/batches/${b.body.id}/${control}`, body)).status, 200, control);
    }
    assert.deepEqual(await batchOutcomes(A.ws, items), ['FORBIDDEN', 'FORBIDDEN']);
    assert.deepEqual(await itemsState(items), before);
  });

  it('an assignee demoted below approver decides nothing, and a definition may assign approvals only to roles that decide', async () => {
    const u = await newUser(s, A, 'approver');
    const action = (approval: Record<string, unknown>) => ({
      ...PURCHASE_DS,
      display_id: unique('direct'),
      actions: [
        {
          display_id: 'ask',
          name: 'Ask',
          from: ['draft'],
          to: 'approved',
          approval: { pending_status: 'submitted', ...approval },
        },
      ],
    });
    const admin = A.users.admin.api;
    const ds = await admin.post(`${ws(A)}/datastores`, action({ approver_user_id: u.id }));
    assert.equal(ds.status, 201, JSON.stringify(ds.body));
    const item = await A.users.member.api.post(`${ws(A)}/datastores/${ds.body.id}/items`, { title: 'direct' });
    const sub = await A.users.member.api.post(`${ws(A)}/items/${item.body.id}/actions/ask`, {});
    assert.equal(sub.body.ticket.assignee_id, u.id);

    for (const role of ['member', 'viewer'] as const) {
      await setRole(u.id, role);
      const r = await u.api.post(`${ws(A)}/tickets/${sub.body.ticket.id}/approve`, {});
      assert.equal(r.status, 403, role);
      assert.equal(r.body.error.code, 'NOT_ASSIGNEE', role);
      const check = await u.api.post(`/batch_approvals/_check?user_id=${u.id}`, [sub.body.ticket.id]);
      assert.deepEqual(
        check.body.map((v: { code?: string }) => v.code),
        ['NOT_ASSIGNEE'],
        role,
      );
    }
    assert.equal(
      (await db().selectFrom('ticket').select('state').where('id', '=', sub.body.ticket.id).executeTakeFirstOrThrow())
        .state,
      'pending',
    );

    // The viewer is no assignee to name, nor is the member role.
    for (const approval of [{ approver_user_id: u.id }, { approver_role: 'member' }, { approver_role: 'viewer' }]) {
      const r = await admin.post(`${ws(A)}/datastores`, action(approval));
      assert.equal(r.status, 400, JSON.stringify(approval));
      assert.equal(r.body.error.code, 'INVALID_DEFINITION', JSON.stringify(approval));
    }
    await setRole(u.id, 'approver');
    assert.equal((await u.api.post(`${ws(A)}/tickets/${sub.body.ticket.id}/approve`, {})).status, 200);
  });
});
