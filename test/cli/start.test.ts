import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DIALECTS } from '../helpers/db.ts';
import {
  cleanupProcesses,
  ROOT,
  runBatchgate as cli,
  serveProcess,
  stop,
  tempDir,
  waitUntil as waitFor,
  type Server,
} from '../helpers/processes.ts';

/**
 * The real process, as `npm start` runs it: `node bin/batchgate.js serve` in the repository root, spoken to
 * over real HTTP. It is about the process (env, first-start demo, signals), so it runs on SQLite only, and is
 * skipped when DIALECTS leaves SQLite out (`npm run test:pg`).
 */

/** Per test: two starts at most, each bounded by READY_TIMEOUT_MS, plus their requests. */
const TEST = { timeout: 90_000 };

/** Starts `serve` on the SQLite file `dbFile` and waits for `GET /healthz` to answer 200. */
function serve(dbFile: string, env: Record<string, string> = {}): Promise<Server> {
  return serveProcess({ DATABASE_URL: dbFile, ...env });
}

async function call(
  server: Server,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
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

after(cleanupProcesses);

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
      assert.deepEqual(
        list.body.workspaces.map((w: any) => w.id),
        [workspaceId],
      );
      await stop(s);
      // Read after exit, so nothing printed late is missed.
      assert.doesNotMatch(s.stdout(), /bg_|demo workspace/);
    });
  });

  it(
    'BATCHGATE_ADMIN_TOKEN is a working system-admin token, at every start; a new value retires the old',
    TEST,
    async () => {
      const dbFile = join(tempDir(), 'batchgate.db');
      const first = 'some-secret-long-enough-0123456789abcdef';
      const second = 'another-secret-long-enough-0123456789abcd';
      for (const [start, token] of [
        ['first', first],
        ['second', first],
        ['third', second],
      ] as const) {
        const s = await serve(dbFile, { BATCHGATE_ADMIN_TOKEN: token });
        const me = await call(s, 'GET', '/api/v1/me', token);
        assert.equal(me.status, 200, `${start} start: ${JSON.stringify(me.body)}`);
        assert.equal(me.body.is_system_admin, true);
        const user = await call(s, 'POST', '/api/v1/users', token, { name: `made at ${start} start` });
        assert.equal(user.status, 201, `${start} start: ${JSON.stringify(user.body)}`);
        assert.equal((await call(s, 'GET', '/api/v1/me', 'some-other-secret')).status, 401);
        if (token === second)
          assert.equal((await call(s, 'GET', '/api/v1/me', first)).status, 401, 'the previous admin token is revoked');
        await stop(s);
        assert.doesNotMatch(s.stdout() + s.stderr(), /some-secret|another-secret/, 'the secret is never echoed');
      }
    },
  );

  it('refuses to start with a BATCHGATE_ADMIN_TOKEN shorter than 32 characters, saying why', TEST, async () => {
    const run = cli(['serve'], {
      DATABASE_URL: join(tempDir(), 'batchgate.db'),
      BATCHGATE_ADMIN_TOKEN: 'short-secret',
      PORT: '1',
    });
    const exit = await run.closed;
    assert.notEqual(exit.code, 0);
    assert.match(run.stderr(), /BATCHGATE_ADMIN_TOKEN must be at least 32 characters/);
    assert.doesNotMatch(run.stdout() + run.stderr(), /short-secret/, 'the secret is never echoed');
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
