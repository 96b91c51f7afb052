import type { LightMyRequestResponse } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from '../../src/api/app.ts';
import type { App } from '../../src/api/types.ts';
import type { Settings } from '../../src/core/context.ts';
import { issueToken } from '../../src/core/tokens.ts';
import { makeEngine, type Engine } from '../../src/engine/engine.ts';
import { requestCtx } from '../../src/core/make-ctx.ts';
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
  raw<T = any>(
    method: string,
    url: string,
    payload?: string | Buffer,
    headers?: Record<string, string>,
  ): Promise<Res<T>>;
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

type Send = (
  method: string,
  url: string,
  body: unknown,
  headers: Record<string, string> | undefined,
  raw: boolean,
) => Promise<Res>;

function parsed(text: string): any {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return text; // not JSON: keep the text
  }
}

function requestHeaders(token: string, body: unknown, headers: Record<string, string> = {}): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    ...headers,
  };
}

/** A client of the app through Fastify inject. */
export function makeClient(app: App, token: string): Client {
  return clientOver(token, async (method, url, body, headers, raw) => {
    const res = await app.inject({
      method: method as 'GET',
      url,
      headers: requestHeaders(token, body, headers),
      ...(body !== undefined ? { payload: raw ? (body as string) : JSON.stringify(body) } : {}),
    });
    return { status: res.statusCode, body: parsed(res.body), headers: res.headers };
  });
}

/** The same client over real HTTP, for a service running as a process at `base` (http://host:port). */
export function httpClient(base: string, token: string, timeoutMs = 30_000): Client {
  return clientOver(token, async (method, url, body, headers, raw) => {
    const res = await fetch(base + url, {
      method,
      headers: requestHeaders(token, body, headers),
      ...(body !== undefined ? { body: raw ? (body as string | Buffer) : JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: res.status, body: parsed(await res.text()), headers: Object.fromEntries(res.headers) };
  });
}

function clientOver(token: string, send: Send): Client {
  return {
    token,
    get: (url) => send('GET', url, undefined, undefined, false),
    post: (url, body, headers) => send('POST', url, body ?? {}, headers, false),
    put: (url, body) => send('PUT', url, body ?? {}, undefined, false),
    patch: (url, body) => send('PATCH', url, body ?? {}, undefined, false),
    delete: (url) => send('DELETE', url, undefined, undefined, false),
    raw: (method, url, payload, headers) => send(method, url, payload, headers, true),
  };
}

export const TEST_AUTH_FAILURE_LIMIT = 1_000_000;

export interface TestServiceOptions {
  worker?: boolean;
  workerOptions?: WorkerOptions;
  /** Settings over the defaults (e.g. webhooks to loopback). */
  settings?: Partial<Settings>;
  /** Logs of the app and the engine (silent otherwise). */
  logger?: Logger;
  /** BATCHGATE_STATUS_CACHE_MS of the app (its default otherwise). */
  statusCacheMs?: number;
  /** Run on this database (a restart): it is left open by close(). */
  db?: TestDb;
}

/** A migrated database, the HTTP app on it (driven with inject), and a system admin. */
export async function startTestService(dialect: Dialect, opts: TestServiceOptions = {}): Promise<TestService> {
  const shared = opts.db;
  const db = shared ? { ...shared } : await openTestDb(dialect);
  db.ctx = {
    ...db.ctx,
    settings: { ...db.ctx.settings, ...opts.settings },
    ...(opts.logger ? { log: opts.logger } : {}),
  };
  // As createService wires them: routes under the query limits, the engine's reads too.
  const forRequests = requestCtx(db.ctx, db.opened);
  const engine = await makeEngine({ ...db.ctx, reader: forRequests.reader }, db.opened);
  if (opts.worker !== false) engine.startWorker({ idlePollMs: 200, ...opts.workerOptions });
  // Tests send bad tokens on purpose, all from 127.0.0.1: the failure limit is far out of their way here, and
  // test/api/auth-failures.test.ts proves it with a limit of its own.
  const app = await buildApp({
    ctx: forRequests,
    engine,
    authFailureLimit: TEST_AUTH_FAILURE_LIMIT,
    ...(opts.logger ? { logger: opts.logger } : {}),
    ...(opts.statusCacheMs !== undefined ? { statusCacheMs: opts.statusCacheMs } : {}),
  });
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
      if (!shared) await db.close();
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
    {
      display_id: 'order',
      name: 'Order',
      from: ['approved'],
      to: 'ordered',
      roles: ['admin', 'member'],
      set_fields: { vendor: 'ordered-vendor' },
    },
    { display_id: 'reopen', name: 'Reopen', from: ['rejected', 'approved', 'ordered'], to: 'draft' },
    { display_id: 'touch', name: 'Touch', set_fields: { category: 'services' } },
  ],
};

/** A catalog whose `live` status is released: entering it records a version, an edit there is a draft. */
export const CATALOG_DS = {
  name: 'Catalog',
  display_id: 'cat',
  fields: [
    { display_id: 'price', name: 'Price', type: 'number' },
    { display_id: 'label', name: 'Label', type: 'text' },
  ],
  statuses: [
    { display_id: 'draft', name: 'Draft' },
    { display_id: 'review', name: 'In review' },
    { display_id: 'live', name: 'Live' },
    { display_id: 'rejected', name: 'Rejected' },
    { display_id: 'retired', name: 'Retired' },
  ],
  actions: [
    { display_id: 'release', name: 'Release', from: ['draft', 'retired'], to: 'live' },
    {
      display_id: 'publish',
      name: 'Publish',
      from: ['draft', 'rejected'],
      to: 'live',
      approval: { pending_status: 'review', reject_status: 'rejected', approver_role: 'approver' },
    },
    { display_id: 'retire', name: 'Retire', from: ['live'], to: 'retired' },
  ],
  drafts: { statuses: ['live'] },
};
