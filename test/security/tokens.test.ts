/**
 * Tokens can be managed: listed without their secret, labelled, expired and revoked;
 * a workspace admin revokes its members' tokens; a new BATCHGATE_ADMIN_TOKEN retires the previous one; a short
 * one is refused at start. A revoked or expired token is refused on every API process within the principal
 * cache's lifetime: here a second app with its own caches and its own database connection stands for another
 * process, and the test waits for the refusal rather than for a time.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { readConfig } from '../../src/config.ts';
import { createService } from '../../src/server.ts';
import { describeEachDialect, openTestDb } from '../helpers/db.ts';
import { otherProcess, waitForStatus } from '../helpers/other-process.ts';
import { makeClient, startTestService, type Client, type TestService } from '../helpers/service.ts';

const LONG = 'a-long-enough-admin-token-0123456789';

it('refuses a BATCHGATE_ADMIN_TOKEN shorter than 32 characters at start, naming the variable', () => {
  assert.throws(
    () => readConfig({ BATCHGATE_ADMIN_TOKEN: 'some-secret' }),
    /BATCHGATE_ADMIN_TOKEN must be at least 32 characters/,
  );
  assert.throws(() => readConfig({ BATCHGATE_ADMIN_TOKEN: 'x'.repeat(31) }), /BATCHGATE_ADMIN_TOKEN/);
  assert.equal(readConfig({ BATCHGATE_ADMIN_TOKEN: 'x'.repeat(32) }).adminToken, 'x'.repeat(32));
  assert.equal(readConfig({}).adminToken, null);
});

describeEachDialect('API tokens', (dialect) => {
  let s: TestService;
  let ws: string;
  let owner: { user: any; api: Client };

  before(async () => {
    s = await startTestService(dialect, { worker: false });
    owner = await s.user('owner');
    ws = (await owner.api.post('/api/v1/workspaces', { name: 'Tokens' })).body.id;
  });
  after(() => s.close());

  it('lists, labels and revokes my own tokens, and never shows a secret', async () => {
    const { user, api } = await s.user('me');
    const created = await api.post(`/api/v1/users/${user.id}/tokens`, {
      label: 'laptop',
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.match(created.body.token, /^bg_/);
    assert.equal(created.body.label, 'laptop');
    assert.ok(Date.parse(created.body.expires_at) > Date.now());
    const list = await api.get(`/api/v1/users/${user.id}/tokens`);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.equal(list.body.tokens.length, 2);
    const text = JSON.stringify(list.body);
    assert.ok(!text.includes(created.body.token) && !text.includes(api.token), 'no secret listed');
    for (const t of list.body.tokens)
      assert.deepEqual(Object.keys(t).sort(), ['created_at', 'expires_at', 'id', 'label', 'user_id']);
    const laptop = makeClient(s.app, created.body.token);
    assert.equal((await laptop.get('/api/v1/me')).status, 200);

    assert.equal((await api.delete(`/api/v1/users/${user.id}/tokens/${created.body.id}`)).status, 204);
    const refused = await laptop.get('/api/v1/me');
    assert.equal(refused.status, 401, 'refused at once on the process that revoked it');
    assert.equal(refused.body.error.code, 'UNAUTHENTICATED');
    assert.equal((await api.get('/api/v1/me')).status, 200, 'the other token still works');
    const again = await api.delete(`/api/v1/users/${user.id}/tokens/${created.body.id}`);
    assert.deepEqual([again.status, again.body.error.code], [404, 'TOKEN_NOT_FOUND']);
    const past = await api.post(`/api/v1/users/${user.id}/tokens`, {
      expires_at: new Date(Date.now() - 1000).toISOString(),
    });
    assert.equal(past.status, 400, JSON.stringify(past.body));
  });

  it("lets a workspace admin revoke its members' tokens, and nobody else's", async () => {
    const member = await s.user('member', ws, 'member');
    const colleague = await s.user('colleague', ws, 'member');
    const stranger = await s.user('stranger');
    const tokens = (await owner.api.get(`/api/v1/users/${member.user.id}/tokens`)).body.tokens;
    assert.equal(tokens.length, 1);
    // A plain member may not manage a colleague's tokens; a stranger's answer like nobody's.
    const forbidden = await colleague.api.get(`/api/v1/users/${member.user.id}/tokens`);
    assert.deepEqual([forbidden.status, forbidden.body.error.code], [403, 'FORBIDDEN']);
    const hidden = await owner.api.get(`/api/v1/users/${stranger.user.id}/tokens`);
    assert.deepEqual([hidden.status, hidden.body.error.code], [404, 'USER_NOT_FOUND']);
    const nobody = await owner.api.get('/api/v1/users/1234567890123456789/tokens');
    assert.deepEqual([nobody.status, nobody.body.error.code], [404, 'USER_NOT_FOUND']);
    // Not a token of this user: 404, whoever's it is.
    const strangerToken = (await stranger.api.get(`/api/v1/users/${stranger.user.id}/tokens`)).body.tokens[0].id;
    assert.equal((await owner.api.delete(`/api/v1/users/${member.user.id}/tokens/${strangerToken}`)).status, 404);
    assert.equal((await stranger.api.get('/api/v1/me')).status, 200);
    // A system admin who is a member of the workspace is not the workspace admin's to manage.
    await s.root.put(`/api/v1/workspaces/${ws}/members/${s.admin.id}`, { role: 'member' });
    assert.equal((await owner.api.get(`/api/v1/users/${s.admin.id}/tokens`)).status, 403);

    assert.equal((await owner.api.delete(`/api/v1/users/${member.user.id}/tokens/${tokens[0].id}`)).status, 204);
    assert.equal((await member.api.get('/api/v1/me')).status, 401);
    // A system admin manages anyone's.
    const strangers = await s.root.get(`/api/v1/users/${stranger.user.id}/tokens`);
    assert.equal(strangers.status, 200);
    assert.equal(
      (await s.root.delete(`/api/v1/users/${stranger.user.id}/tokens/${strangers.body.tokens[0].id}`)).status,
      204,
    );
    assert.equal((await stranger.api.get('/api/v1/me')).status, 401);
  });

  it('refuses a revoked token on another API process within its cache lifetime', async () => {
    const { user, api } = await s.user('roaming', ws, 'member');
    const other = await otherProcess(s);
    try {
      const there = makeClient(other.app, api.token);
      // Cached there now: the other process holds the principal for up to its lifetime.
      assert.equal((await there.get('/api/v1/me')).status, 200);
      assert.equal((await there.get(`/api/v1/workspaces/${ws}`)).status, 200);
      const id = (await api.get(`/api/v1/users/${user.id}/tokens`)).body.tokens[0].id;
      assert.equal((await api.delete(`/api/v1/users/${user.id}/tokens/${id}`)).status, 204);
      assert.equal((await api.get('/api/v1/me')).status, 401, 'here at once');
      await waitForStatus(
        async () => (await there.get(`/api/v1/workspaces/${ws}`)).status,
        401,
        'the other process refuses it',
      );
      assert.equal((await there.get('/api/v1/me')).status, 401);
    } finally {
      await other.close();
    }
  });

  it('refuses an expired token at once, even while its principal is cached, on every process', async () => {
    const { user, api } = await s.user('temp');
    let now = Date.now();
    const other = await otherProcess(s, () => now);
    try {
      const expiresAt = now + 60 * 60_000;
      const created = await api.post(`/api/v1/users/${user.id}/tokens`, {
        label: 'an hour',
        expires_at: new Date(expiresAt).toISOString(),
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const there = makeClient(other.app, created.body.token);
      assert.equal((await there.get('/api/v1/me')).status, 200, 'valid, and now cached there');
      now = expiresAt - 1;
      assert.equal((await there.get('/api/v1/me')).status, 200);
      now = expiresAt;
      const refused = await there.get('/api/v1/me');
      assert.equal(refused.status, 401, 'refused from the cache at its expiry, not a cache lifetime later');
      assert.equal(refused.body.error.code, 'UNAUTHENTICATED');
      // Expired tokens stay listed (until revoked), with their expiry.
      const listed = (await api.get(`/api/v1/users/${user.id}/tokens`)).body.tokens.find(
        (t: any) => t.id === created.body.id,
      );
      assert.equal(listed.expires_at, new Date(expiresAt).toISOString());
    } finally {
      await other.close();
    }
  });

  it('retires the previous BATCHGATE_ADMIN_TOKEN when it changes, at the next start', async () => {
    const db = await openTestDb(dialect);
    const env = (token: string) =>
      readConfig({
        DATABASE_URL: db.url,
        ...(db.schema ? { DATABASE_SCHEMA: db.schema } : {}),
        BATCHGATE_ADMIN_TOKEN: token,
        BATCHGATE_DEMO: '0',
        LOG_LEVEL: 'silent',
      });
    const start = (token: string) => createService(env(token), { listen: false, worker: false });
    try {
      const first = await start(`${LONG}-first`);
      assert.equal((await makeClient(first.app, `${LONG}-first`).get('/api/v1/me')).status, 200);
      await first.close();
      const second = await start(`${LONG}-second`);
      try {
        assert.equal((await makeClient(second.app, `${LONG}-second`).get('/api/v1/me')).status, 200);
        const old = await makeClient(second.app, `${LONG}-first`).get('/api/v1/me');
        assert.equal(old.status, 401, 'the previous admin token no longer works');
        // The same value again changes nothing; the admin's other tokens are kept.
        const me = (await makeClient(second.app, `${LONG}-second`).get('/api/v1/me')).body;
        const extra = await makeClient(second.app, `${LONG}-second`).post(`/api/v1/users/${me.id}/tokens`, {
          label: 'ci',
        });
        assert.equal(extra.status, 201);
        await second.close();
        const third = await start(`${LONG}-second`);
        try {
          assert.equal((await makeClient(third.app, `${LONG}-second`).get('/api/v1/me')).status, 200);
          assert.equal((await makeClient(third.app, extra.body.token).get('/api/v1/me')).status, 200);
        } finally {
          await third.close();
        }
      } catch (e) {
        await second.close().catch(() => {});
        throw e;
      }
    } finally {
      await db.close();
    }
  });
});
