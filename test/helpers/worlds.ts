/**
 * The worlds tests run in: people, workspaces and items, made through the API as a user would (person,
 * workspace, workspaceWithRoles) or straight in the database for the engine's tests (seedApproved,
 * seededService). The door fixtures (test/batch-approvals/fixture.ts, test/dataarts/helpers.ts,
 * test/hexabase/helpers.ts, test/api/permission-world.ts, test/fuzz/world.ts) are made of these.
 */
import assert from 'node:assert/strict';
import type { Datastore } from '../../src/core/datastore-model.ts';
import { createDatastore } from '../../src/core/datastores.ts';
import { createItems } from '../../src/core/items.ts';
import { issueToken } from '../../src/core/tokens.ts';
import { createUser } from '../../src/core/users.ts';
import { createWorkspace } from '../../src/core/workspaces.ts';
import type { Dialect } from '../../src/db/capabilities.ts';
import type { TestDb } from './db.ts';
import {
  CATALOG_DS,
  PURCHASE_DS,
  startTestService,
  type Client,
  type TestService,
  type TestServiceOptions,
} from './service.ts';

export interface Person {
  id: string;
  name: string;
  api: Client;
}

/** A new user with a token, optionally a member of `ws` with `role`. */
export async function person(s: TestService, name: string, ws?: string, role?: string): Promise<Person> {
  const { user, api } = await s.user(name, ws, role);
  return { id: user.id, name: user.name, api };
}

/** A workspace `owner` creates (and so administers), with these datastores; answers its id and the datastores. */
export async function workspace(
  owner: Client,
  body: { name: string; project_id?: string },
  datastores: object[] = [],
): Promise<{ ws: string; datastores: any[] }> {
  const created = await owner.post('/api/v1/workspaces', body);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const ws: string = created.body.id;
  const made = [];
  for (const ds of datastores) {
    const r = await owner.post(`/api/v1/workspaces/${ws}/datastores`, ds);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    made.push(r.body);
  }
  return { ws, datastores: made };
}

export interface RolesWorkspace {
  ws: string;
  /** `/api/v1/workspaces/{ws}` */
  base: string;
  /** The workspace's creator (its admin). */
  admin: Client;
  approver: Client;
  approverId: string;
  member: Client;
  viewer: Client;
}

/** A new workspace with one user of each role and the purchase-request and catalog datastores. */
export async function workspaceWithRoles(s: TestService, name: string): Promise<RolesWorkspace> {
  const admin = (await s.user(`${name}-owner`)).api;
  const { ws } = await workspace(admin, { name }, [PURCHASE_DS, CATALOG_DS]);
  const [approver, member, viewer] = await Promise.all(
    (['approver', 'member', 'viewer'] as const).map((role) => person(s, `${name}-${role}`, ws, role)),
  );
  return {
    ws,
    base: `/api/v1/workspaces/${ws}`,
    admin,
    approver: approver!.api,
    approverId: approver!.id,
    member: member!.api,
    viewer: viewer!.api,
  };
}

export interface Seeded {
  actor: { principal: { userId: string; name: string; isSystemAdmin: boolean }; workspaceId: string; role: 'admin' };
  workspaceId: string;
  /** A system admin's API token. */
  token: string;
  ids: string[];
  /** The PURCHASE_DS datastore the items are in. */
  ds: Datastore;
}

/**
 * A system admin, a workspace with the PURCHASE_DS datastore (display_id `pr`) and `n` items in `approved`, on
 * which the `order` action (approved → ordered) succeeds once and then fails with WRONG_STATUS.
 */
export async function seedApproved(db: TestDb, n: number): Promise<Seeded> {
  const ctx = db.ctx;
  const user = await createUser(ctx, { name: 'u', isSystemAdmin: true });
  const principal = { userId: user.id, name: user.name, isSystemAdmin: true };
  const ws = await createWorkspace(ctx, principal, { name: 'w' });
  const access = { principal, workspaceId: ws.id, projectId: null, role: 'admin' as const };
  const ds = await createDatastore(ctx, ws.id, PURCHASE_DS as never);
  const ids: string[] = [];
  // 5000 rows per call stays under SQLite's 32766 bound parameters.
  for (let i = 0; i < n; i += 5000) {
    ids.push(
      ...(await createItems(
        ctx,
        access,
        ds,
        Array.from({ length: Math.min(5000, n - i) }, (_, j) => ({ title: `i${i + j}`, status: 'approved' })),
      )),
    );
  }
  return {
    actor: { principal, workspaceId: ws.id, role: 'admin' },
    workspaceId: ws.id,
    token: await issueToken(ctx, user.id),
    ids,
    ds,
  };
}

/** A test service (its worker running) over seedApproved's world of `n` items, and the seeded admin's client. */
export async function seededService(
  dialect: Dialect,
  n: number,
  opts: TestServiceOptions = {},
): Promise<{ s: TestService; seeded: Seeded; api: Client }> {
  const s = await startTestService(dialect, opts);
  const seeded = await seedApproved(s.db, n);
  return { s, seeded, api: s.client(seeded.token) };
}

/**
 * A `req` datastore of requests (an `amount` field; draft → submitted → approved | rejected) whose actions each
 * open an approval from draft: `approval` adds to the pending and reject statuses (approver_role, …).
 */
export function requestsDatastore(actions: { display_id: string; name: string; approval: object }[]) {
  return {
    name: 'Requests',
    display_id: 'req',
    fields: [{ display_id: 'amount', name: 'Amount', type: 'number' }],
    statuses: [
      { display_id: 'draft', name: 'Draft' },
      { display_id: 'submitted', name: 'Submitted' },
      { display_id: 'approved', name: 'Approved' },
      { display_id: 'rejected', name: 'Rejected' },
    ],
    actions: actions.map(({ display_id, name, approval }) => ({
      display_id,
      name,
      from: ['draft'],
      to: 'approved',
      approval: { pending_status: 'submitted', reject_status: 'rejected', ...approval },
    })),
  };
}
