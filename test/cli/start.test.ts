import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { DIALECTS } from '../helpers/db.ts';

/**
 * The real process, as `npm start` runs it: `node bin/batchgate.js serve` in the repository root, spoken to
 * over real HTTP. It is about the process (env, first-start demo, signals), so it runs on SQLite only, and is
 * skipped when DIALECTS leaves SQLite out (`npm run test:pg`).
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
/** Per test: two starts at most, each bounded by READY_TIMEOUT_MS, plus their requests. */
const TEST = { timeout: 90_000 };

const children = new Set<ChildProcess>();
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bg-cli-'));
  dirs.push(dir);
  return dir;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === 'object');
  return address.port;
}

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once the process has exited and its output is fully read. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `node bin/batchgate.js <args>` with a clean environment: only what the test sets reaches the service. */
function cli(args: string[], env: Record<string, string>): Run {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['DATABASE_URL', 'BATCHGATE_ADMIN_TOKEN', 'BATCHGATE_DEMO', 'PORT', 'HOST', 'NODE_TEST_CONTEXT']) delete base[key];
  const child = spawn(process.execPath, ['bin/batchgate.js', ...args], {
    cwd: ROOT,
    env: { ...base, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s));
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  return { child, stdout: () => out, stderr: () => err, closed };
}

interface Server extends Run {
  base: string;
}

async function waitFor(what: string, run: Run, check: () => Promise<boolean> | boolean, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  void run.closed.then(() => (exited = true));
  for (;;) {
    if (await check()) return;
    if (exited) assert.fail(`batchgate exited before ${what}.\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`);
    if (Date.now() > deadline) assert.fail(`no ${what} within ${timeoutMs} ms.\nstdout:\n${run.stdout()}\nstderr:\n${run.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts `serve` on the SQLite file `dbFile` and waits for `GET /healthz` to answer 200. */
async function serve(dbFile: string, env: Record<string, string> = {}): Promise<Server> {
  const port = await freePort();
  const run = cli(['serve'], { PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: dbFile, ...env });
  const base = `http://127.0.0.1:${port}`;
  await waitFor('GET /healthz answering 200', run, async () => {
    try {
      return (await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2_000) })).status === 200;
    } catch {
      return false; // not listening yet
    }
  });
  return { ...run, base };
}

/** SIGTERM, then the process must exit by itself with code 0 within a few seconds. */
async function stop(run: Run): Promise<void> {
  assert.ok(run.child.kill('SIGTERM'));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), STOP_TIMEOUT_MS)));
  const result = await Promise.race([run.closed, timeout]);
  clearTimeout(timer);
  assert.notEqual(result, 'timeout', `batchgate did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM.\nstderr:\n${run.stderr()}`);
  assert.deepEqual(result, { code: 0, signal: null }, `exit after SIGTERM.\nstderr:\n${run.stderr()}`);
}

async function call(server: Server, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(server.base + path, {
    method,
    headers,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** The demo tokens printed at first start, keyed by the first word of their line (admin, approver, member, viewer). */
function printedTokens(stdout: string): Map<string, string> {
  const tokens = new Map<string, string>();
  for (const m of stdout.matchAll(/^\s*([a-z]+)\b.*\s(bg_[A-Za-z0-9_-]+)\s*$/gm)) tokens.set(m[1]!, m[2]!);
  return tokens;
}

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all([...children].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(null) : c.once('close', r)))));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('batchgate CLI as a process', { skip: !DIALECTS.includes('sqlite') && 'SQLite not in DIALECTS' }, () => {
  it('npm start runs the command these tests run', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    assert.equal(pkg.scripts.start, 'node bin/batchgate.js serve');
  });

  describe('serve on an empty SQLite database, then again on the same one', () => {
    const dbFile = join(tempDir(), 'batchgate.db');
    let adminToken = '';
    let workspaceId = '';

    it('seeds a demo workspace, prints working tokens, and exits 0 on SIGTERM', TEST, async () => {
      const s = await serve(dbFile);
      await waitFor('demo tokens on stdout', s, () => /bg_\S+/.test(s.stdout()) && /API docs/.test(s.stdout()), 5_000);
      const out = s.stdout();
      assert.match(out, /demo workspace/);
      workspaceId = /workspace id (\d+)/.exec(out)?.[1] ?? assert.fail(`no workspace id in:\n${out}`);
      const tokens = printedTokens(out);
      adminToken = tokens.get('admin') ?? assert.fail(`no admin token in:\n${out}`);
      const memberToken = tokens.get('member') ?? assert.fail(`no member token in:\n${out}`);

      assert.equal((await call(s, 'GET', '/api/v1/workspaces')).status, 401);
      const list = await call(s, 'GET', '/api/v1/workspaces', adminToken);
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.deepEqual(
        list.body.workspaces.map((w: any) => [w.id, w.project_id]),
        [[workspaceId, 'demo']],
      );

      // The line labelled "member" is a member of the demo workspace, and a member may not create users.
      const me = await call(s, 'GET', '/api/v1/me', memberToken);
      assert.equal(me.status, 200);
      const members = await call(s, 'GET', `/api/v1/workspaces/${workspaceId}/members`, adminToken);
      assert.equal(members.body.members.find((m: any) => m.user_id === me.body.id)?.role, 'member');
      const forbidden = await call(s, 'POST', '/api/v1/users', memberToken, { name: 'Mallory' });
      assert.equal(forbidden.status, 403, JSON.stringify(forbidden.body));
      assert.equal(forbidden.body.error.code, 'FORBIDDEN');
      assert.equal((await call(s, 'POST', '/api/v1/users', adminToken, { name: 'Carol' })).status, 201);

      await stop(s);
    });

    it('does not seed again nor print tokens on the second start', TEST, async () => {
      assert.ok(adminToken, 'the first start printed an admin token');
      const s = await serve(dbFile);
      const list = await call(s, 'GET', '/api/v1/workspaces', adminToken);
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.deepEqual(list.body.workspaces.map((w: any) => w.id), [workspaceId]);
      await stop(s);
      // Read after exit, so nothing printed late is missed.
      assert.doesNotMatch(s.stdout(), /bg_|demo workspace/);
    });
  });

  it('BATCHGATE_ADMIN_TOKEN is a working system-admin token, at every start', TEST, async () => {
    const dbFile = join(tempDir(), 'batchgate.db');
    for (const start of ['first', 'second']) {
      const s = await serve(dbFile, { BATCHGATE_ADMIN_TOKEN: 'some-secret' });
      const me = await call(s, 'GET', '/api/v1/me', 'some-secret');
      assert.equal(me.status, 200, `${start} start: ${JSON.stringify(me.body)}`);
      assert.equal(me.body.is_system_admin, true);
      const user = await call(s, 'POST', '/api/v1/users', 'some-secret', { name: `made at ${start} start` });
      assert.equal(user.status, 201, `${start} start: ${JSON.stringify(user.body)}`);
      assert.equal((await call(s, 'GET', '/api/v1/me', 'some-other-secret')).status, 401);
      await stop(s);
      assert.doesNotMatch(s.stdout() + s.stderr(), /some-secret/, 'the secret is never echoed');
    }
  });

  it('migrate exits 0, on a new database and on a migrated one', TEST, async () => {
    const dbFile = join(tempDir(), 'sub', 'batchgate.db');
    const first = cli(['migrate'], { DATABASE_URL: dbFile });
    assert.deepEqual(await first.closed, { code: 0, signal: null }, first.stderr());
    assert.match(first.stdout(), /applied: 0001-foundation/);
    const again = cli(['migrate'], { DATABASE_URL: dbFile });
    assert.deepEqual(await again.closed, { code: 0, signal: null }, again.stderr());
    assert.match(again.stdout(), /up to date/);
  });
});
