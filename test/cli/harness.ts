/**
 * A real `batchgate serve` child (temp SQLite file, BATCHGATE_ADMIN_TOKEN) and the real binary run against it,
 * for the client-command tests. Not a test file itself.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dialect } from '../../src/db/capabilities.ts';
import { createPgSchema, PG_URL } from '../helpers/db.ts';
import { kill, runBatchgate as spawnBatchgate, serveProcess, terminate, type Run } from '../helpers/processes.ts';

export { ROOT } from '../helpers/processes.ts';
const ADMIN = 'cli-admin-token-0123456789abcdef01234';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Harness {
  base: string;
  dir: string;
  workspace: string;
  adminToken: string;
  /** `node bin/batchgate.js …` as the admin of `workspace` unless env says otherwise. */
  cli(args: string[], opts?: { env?: Record<string, string>; stdin?: string }): Promise<CliResult>;
  /** A JSON request to the service (setup and checks). */
  api(method: string, path: string, body?: unknown, token?: string): Promise<any>;
  /** A new datastore with the FLOW workflow; answers its display_id. */
  datastore(displayId: string): Promise<string>;
  /** A user with a token and a role in `workspace`. */
  user(name: string, role: string): Promise<{ id: string; token: string }>;
  file(name: string, text: string): string;
  close(): Promise<void>;
}

/** A statuses-and-actions workflow: `finish` runs at once; `submit` needs an approver (batchable), `escalate` too (not batchable). */
export const FLOW = {
  name: 'Requests',
  display_id: 'req',
  fields: [
    { display_id: 'amount', name: 'Amount', type: 'number' },
    { display_id: 'vendor', name: 'Vendor', type: 'text' },
    { display_id: 'due', name: 'Due', type: 'date' },
    { display_id: 'extra', name: 'Extra', type: 'json' },
  ],
  statuses: [
    { display_id: 'draft', name: 'Draft' },
    { display_id: 'done', name: 'Done' },
    { display_id: 'pending', name: 'Pending' },
    { display_id: 'approved', name: 'Approved' },
    { display_id: 'rejected', name: 'Rejected' },
  ],
  actions: [
    { display_id: 'finish', name: 'Finish', from: ['draft'], to: 'done' },
    {
      display_id: 'submit',
      name: 'Submit',
      from: ['draft'],
      to: 'approved',
      approval: { pending_status: 'pending', reject_status: 'rejected', approver_role: 'approver' },
    },
    {
      display_id: 'escalate',
      name: 'Escalate',
      from: ['draft'],
      to: 'approved',
      approval: {
        pending_status: 'pending',
        reject_status: 'rejected',
        approver_role: 'approver',
        batch_approvable: false,
      },
    },
  ],
};

/** `dialect` postgres: the service runs on TEST_PG_URL in a schema of its own, dropped by close(). */
export async function startHarness(dialect: Dialect = 'sqlite'): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'bg-cli-client-'));
  const pg = dialect === 'postgres' ? await createPgSchema() : null;
  const database: Record<string, string> = pg
    ? { DATABASE_URL: PG_URL, DATABASE_SCHEMA: pg.schema }
    : { DATABASE_URL: join(dir, 'bg.db') };
  const server = await serveProcess({ ...database, BATCHGATE_ADMIN_TOKEN: ADMIN, BATCHGATE_DEMO: '0' });
  const base = server.base;

  async function api(method: string, path: string, body?: unknown, token = ADMIN): Promise<any> {
    const res = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
    return parsed;
  }

  const ws = await api('POST', '/api/v1/workspaces', { name: 'cli' });
  const running = new Set<Run>();

  return {
    base,
    dir,
    workspace: ws.id,
    adminToken: ADMIN,
    api,
    async datastore(displayId) {
      await api('POST', `/api/v1/workspaces/${ws.id}/datastores`, { ...FLOW, name: displayId, display_id: displayId });
      return displayId;
    },
    async user(name, role) {
      const u = await api('POST', '/api/v1/users', { name });
      const t = await api('POST', `/api/v1/users/${u.id}/tokens`, {});
      await api('PUT', `/api/v1/workspaces/${ws.id}/members/${u.id}`, { role });
      return { id: u.id, token: t.token };
    },
    file(name, text) {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    },
    cli(args, opts = {}) {
      return runBatchgate(args, {
        env: { BATCHGATE_URL: base, BATCHGATE_TOKEN: ADMIN, BATCHGATE_WORKSPACE: ws.id, ...opts.env },
        stdin: opts.stdin ?? '',
        track: running,
      });
    },
    async close() {
      // A command a failed test left running (a watch) would hold an event stream open: end it first.
      await Promise.all([...running].map(kill));
      if ((await terminate(server, 5_000)) === 'timeout') await kill(server);
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * `node bin/batchgate.js <args>` in a clean environment plus `env`; resolves when it exits. Asynchronous, so the test
 * process keeps running (and writing) meanwhile. `track` holds the child while it runs, for a cleanup to kill.
 */
export async function runBatchgate(
  args: string[],
  opts: { env?: Record<string, string>; stdin?: string; track?: Set<Run> } = {},
): Promise<CliResult> {
  const run = spawnBatchgate(args, opts.env ?? {}, { stdin: opts.stdin ?? '' });
  opts.track?.add(run);
  const { code } = await run.closed;
  opts.track?.delete(run);
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** Asserts the exit code, showing the output when it differs. */
export function exits(r: CliResult, code: number): CliResult {
  assert.equal(r.code, code, `exit ${r.code}, expected ${code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`);
  return r;
}

export function json(r: CliResult): any {
  try {
    return JSON.parse(r.stdout);
  } catch {
    return assert.fail(`stdout is not JSON:\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

/** `n` draft items in datastore `ds`, amounts 1..n; answers their ids. */
export async function seedItems(h: Harness, ds: string, n: number): Promise<string[]> {
  const items = Array.from({ length: n }, (_, i) => ({ title: `item ${i + 1}`, fields: { amount: i + 1 } }));
  return (await h.api('POST', `/api/v1/workspaces/${h.workspace}/datastores/${ds}/items`, { items })).ids;
}

export async function statusesOf(h: Harness, ds: string): Promise<Record<string, number>> {
  const res = await h.api('POST', `/api/v1/workspaces/${h.workspace}/datastores/${ds}/items/search`, {
    per_page: 1000,
  });
  const counts: Record<string, number> = {};
  for (const i of res.items) counts[i.status] = (counts[i.status] ?? 0) + 1;
  return counts;
}
