import type { LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import type { App } from '../../src/api/native/types.ts';
import { issueToken } from '../../src/core/tokens.ts';
import { makeEngine, type Engine } from '../../src/engine/engine.ts';
import type { WorkerOptions } from '../../src/engine/worker.ts';
import { createUser, type User } from '../../src/core/users.ts';
import type { Dialect } from '../../src/db/capabilities.ts';
import { openTestDb, type TestDb } from './db.ts';

export interface Res<T = any> {
  status: number;
  body: T;
  headers: LightMyRequestResponse['headers'];
}

export interface Client {
  token: string;
  get<T = any>(url: string): Promise<Res<T>>;
  post<T = any>(url: string, body?: unknown, headers?: Record<string, string>): Promise<Res<T>>;
  put<T = any>(url: string, body?: unknown): Promise<Res<T>>;
  patch<T = any>(url: string, body?: unknown): Promise<Res<T>>;
  delete<T = any>(url: string): Promise<Res<T>>;
  /** A raw request: body sent as given (strings unencoded), for malformed-input tests. */
  raw<T = any>(method: string, url: string, payload?: string | Buffer, headers?: Record<string, string>): Promise<Res<T>>;
}

export interface TestService {
  db: TestDb;
  engine: Engine;
  app: App;
  admin: User;
  /** The system admin's client. */
  root: Client;
  client(token: string): Client;
  /** A new user with a token, optionally a member of `ws` with `role`. */
  user(name: string, ws?: string, role?: string): Promise<{ user: User; api: Client }>;
  close(): Promise<void>;
}

export function makeClient(app: App, token: string): Client {
  async function send(method: string, url: string, body: unknown, headers: Record<string, string> = {}, raw = false) {
    const res = await app.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { payload: raw ? (body as string) : JSON.stringify(body) } : {}),
    });
    let parsed: unknown = res.body;
    try {
      parsed = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      /* not JSON: keep the text */
    }
    return { status: res.statusCode, body: parsed as any, headers: res.headers };
  }
  return {
    token,
    get: (url) => send('GET', url, undefined),
    post: (url, body, headers) => send('POST', url, body ?? {}, headers),
    put: (url, body) => send('PUT', url, body ?? {}),
    patch: (url, body) => send('PATCH', url, body ?? {}),
    delete: (url) => send('DELETE', url, undefined),
    raw: (method, url, payload, headers) => send(method, url, payload, headers, true),
  };
}

/** A migrated database, the HTTP app on it (driven with inject), and a system admin. */
export async function startTestService(dialect: Dialect, opts: { worker?: boolean; workerOptions?: WorkerOptions } = {}): Promise<TestService> {
  const db = await openTestDb(dialect);
  const engine = await makeEngine(db.ctx, db.opened);
  if (opts.worker !== false) engine.startWorker({ idlePollMs: 200, ...opts.workerOptions });
  const app = await buildApp({ ctx: db.ctx, engine });
  await app.ready();
  const admin = await createUser(db.ctx, { name: 'root', isSystemAdmin: true });
  const root = makeClient(app, await issueToken(db.ctx, admin.id));
  return {
    db,
    engine,
    app,
    admin,
    root,
    client: (token) => makeClient(app, token),
    async user(name, ws, role) {
      const u = await root.post('/api/v1/users', { name });
      if (u.status !== 201) throw new Error(`create user: ${u.status} ${JSON.stringify(u.body)}`);
      const t = await root.post(`/api/v1/users/${u.body.id}/tokens`, {});
      if (ws && role) {
        const m = await root.put(`/api/v1/workspaces/${ws}/members/${u.body.id}`, { role });
        if (m.status !== 200) throw new Error(`set member: ${m.status} ${JSON.stringify(m.body)}`);
      }
      return { user: u.body, api: makeClient(app, t.body.token) };
    },
    async close() {
      await app.close();
      await engine.close();
      await db.close();
    },
  };
}

/** The purchase-request workflow used across tests. */
export const PURCHASE_DS = {
  name: 'Purchase requests',
  display_id: 'pr',
  fields: [
    { display_id: 'amount', name: 'Amount', type: 'number' },
    { display_id: 'vendor', name: 'Vendor', type: 'text' },
    { display_id: 'category', name: 'Category', type: 'select', options: ['hardware', 'software', 'services'] },
    { display_id: 'due', name: 'Due', type: 'date' },
    { display_id: 'seen_at', name: 'Seen at', type: 'datetime' },
    { display_id: 'owners', name: 'Owners', type: 'users' },
    { display_id: 'extra', name: 'Extra', type: 'json' },
  ],
  statuses: [
    { display_id: 'draft', name: 'Draft' },
    { display_id: 'submitted', name: 'Submitted' },
    { display_id: 'approved', name: 'Approved' },
    { display_id: 'rejected', name: 'Rejected' },
    { display_id: 'ordered', name: 'Ordered' },
  ],
  actions: [
    {
      display_id: 'submit',
      name: 'Submit',
      from: ['draft', 'rejected'],
      to: 'approved',
      approval: { pending_status: 'submitted', reject_status: 'rejected', approver_role: 'approver' },
    },
    { display_id: 'order', name: 'Order', from: ['approved'], to: 'ordered', roles: ['admin', 'member'], set_fields: { vendor: 'ordered-vendor' } },
    { display_id: 'reopen', name: 'Reopen', from: ['rejected', 'approved', 'ordered'], to: 'draft' },
    { display_id: 'touch', name: 'Touch', set_fields: { category: 'services' } },
  ],
};

