import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { readConfig } from '../../src/config.ts';
import { makeLogger, redactUrl, urlPassword } from '../../src/log.ts';
import { createService } from '../../src/server.ts';
import { createPgSchema, describeEachDialect, PG_URL } from '../helpers/db.ts';
import { captureLogs } from '../helpers/logs.ts';
import { metric, parseMetrics } from '../helpers/prometheus.ts';
import { makeClient, PURCHASE_DS } from '../helpers/service.ts';
import { waitForBatch } from '../helpers/wait.ts';

const hex = (n: number) => randomBytes(n).toString('hex');

describeEachDialect('no token or secret in any log line', (dialect) => {
  it(
    'a real service logging at trace prints none of its tokens, the admin and metrics tokens or the database password',
    { timeout: 60_000 },
    async () => {
      const logs = captureLogs();
      const secrets = {
        adminToken: `admin-${hex(16)}`,
        metricsToken: `metrics-${hex(12)}`,
        dbPassword: `pw-${hex(8)}`,
        badBgToken: `bg_${randomBytes(32).toString('base64url')}`,
        badPlainToken: `plain-${hex(12)}`,
        cookie: `cookie-${hex(12)}`,
      };
      let databaseUrl: string;
      let cleanup: () => Promise<void>;
      let dbOptions = {};
      if (dialect === 'sqlite') {
        const dir = mkdtempSync(join(tmpdir(), 'bg-secrets-'));
        databaseUrl = join(dir, 'svc.db');
        cleanup = async () => rmSync(dir, { recursive: true, force: true });
      } else {
        // The test server trusts local connections, so any password is accepted: the service still holds one.
        const url = new URL(PG_URL);
        url.password = secrets.dbPassword;
        databaseUrl = url.toString();
        const { schema, drop } = await createPgSchema();
        dbOptions = { schema, poolSize: 4 };
        cleanup = drop;
      }
      const config = {
        ...readConfig({}),
        databaseUrl,
        adminToken: secrets.adminToken,
        metricsToken: secrets.metricsToken,
        logLevel: 'trace',
        demo: false,
      };
      const service = await createService(config, { listen: false, logDestination: logs.destination, db: dbOptions });
      let issued = '';
      try {
        const app = service.app;
        const root = makeClient(app, secrets.adminToken);
        const user = await root.post('/api/v1/users', { name: 'alice' });
        const token = await root.post(`/api/v1/users/${user.body.id}/tokens`, { label: 'ci' });
        assert.equal(token.status, 201);
        issued = token.body.token;
        const ws = await root.post('/api/v1/workspaces', { name: 'S', project_id: 'secretproj' });
        assert.equal(
          (await root.put(`/api/v1/workspaces/${ws.body.id}/members/${user.body.id}`, { role: 'admin' })).status,
          200,
        );
        const alice = makeClient(app, issued);
        assert.equal((await alice.post(`/api/v1/workspaces/${ws.body.id}/datastores`, PURCHASE_DS)).status, 201);

        // A good token in both headers, with a cookie riding along.
        assert.equal((await alice.get('/api/v1/me')).status, 200);
        const viaHeader = await app.inject({
          method: 'GET',
          url: '/api/v1/me',
          headers: { 'x-auth-token': issued, cookie: `session=${secrets.cookie}` },
        });
        assert.equal(viaHeader.statusCode, 200);
        // Bad tokens in both headers.
        for (const bad of [secrets.badBgToken, secrets.badPlainToken]) {
          assert.equal((await makeClient(app, bad).get('/api/v1/me')).status, 401);
          assert.equal(
            (await app.inject({ method: 'GET', url: '/api/v1/me', headers: { 'x-auth-token': bad } })).statusCode,
            401,
          );
        }
        // An error path that is not a 500: a refused body, with a good token.
        assert.equal((await alice.post(`/api/v1/workspaces/${ws.body.id}/batches`, { operation: 'nope' })).status, 400);
        // DataArts speaks X-Auth-Token.
        const da = await app.inject({
          method: 'GET',
          url: '/v1/secretproj/design/approvals',
          headers: { 'x-auth-token': issued, workspace: ws.body.id },
        });
        assert.equal(da.statusCode, 200, da.body);
        const daBad = await app.inject({
          method: 'GET',
          url: '/v1/secretproj/design/approvals',
          headers: { 'x-auth-token': secrets.badPlainToken, workspace: ws.body.id },
        });
        assert.equal(daBad.statusCode, 401);
        // A batch the embedded worker runs, so the engine's lines are in the capture too.
        const items = await alice.post(`/api/v1/workspaces/${ws.body.id}/datastores/pr/items`, {
          items: [{ title: 'a', status: 'approved' }, { title: 'b' }],
        });
        const b = await alice.post(`/api/v1/workspaces/${ws.body.id}/batches`, {
          operation: 'action',
          action: 'order',
          target: { ids: items.body.ids },
        });
        assert.equal((await waitForBatch({ api: alice, ws: ws.body.id }, b.body.id)).state, 'completed_with_errors');
        // Scraped with the metrics token; a real service exports the process metrics too.
        const scraped = await makeClient(app, secrets.metricsToken).get('/metrics');
        assert.equal(scraped.status, 200);
        assert.ok(metric(parseMetrics(scraped.body), 'process_cpu_user_seconds_total') > 0);
      } finally {
        await service.close();
        await cleanup();
      }

      const text = logs.text();
      const lines = logs.lines();
      assert.ok(lines.filter((l) => l.msg === 'request completed').length >= 15, 'the requests were logged');
      assert.ok(
        lines.some((l) => l.level === 20 && l.msg === 'incoming request'),
        'logged at debug and below',
      );
      assert.ok(
        lines.some((l) => l.msg === 'batch finished'),
        'the engine logged',
      );
      const opened = lines.find((l) => l.msg === 'database opened')!;
      assert.equal(opened.database, redactUrl(databaseUrl));
      if (dialect === 'postgres') {
        // The test's own server (CI's throwaway cluster has another port), with the password shown as [REDACTED].
        const shown = new URL(PG_URL);
        shown.password = 'REDACTED';
        assert.equal(opened.database, shown.toString().replace(':REDACTED@', ':[REDACTED]@'));
        assert.ok(!opened.database.includes(secrets.dbPassword));
      }
      for (const [name, value] of Object.entries({ ...secrets, issued })) {
        assert.ok(value.length > 10);
        assert.ok(!text.includes(value), `${name} appears in the logs`);
      }
    },
  );
});

it('redacts the paths where a secret sits in a logged object, with no secret configured', () => {
  const logs = captureLogs();
  const log = makeLogger({ level: 'trace', destination: logs.destination });
  const s = Object.fromEntries(
    ['auth', 'xauth', 'cookie', 'token', 'nested', 'pw', 'admin', 'metrics', 'url', 'conn'].map((k) => [
      k,
      `${k}-${hex(10)}`,
    ]),
  );
  log.info(
    { req: { headers: { authorization: `Bearer ${s.auth}`, 'x-auth-token': s.xauth, cookie: s.cookie } } },
    'a request object',
  );
  log.info(
    { headers: { authorization: `Bearer ${s.auth}`, 'x-auth-token': s.xauth, cookie: s.cookie } },
    'bare headers',
  );
  log.info({ token: s.token, body: { token: s.nested, user_id: '1' } }, 'a token issue response');
  log.info(
    { config: { adminToken: s.admin, metricsToken: s.metrics, databaseUrl: `postgres://u:${s.pw}@h/d` } },
    'a config',
  );
  log.info({ databaseUrl: s.url, connectionString: s.conn, password: s.pw }, 'connection settings');
  const text = logs.text();
  for (const [k, v] of Object.entries(s)) assert.ok(!text.includes(v), `${k} leaked: ${text}`);
  assert.equal(logs.lines().length, 5);
  assert.equal(logs.lines()[2]!.body.user_id, '1', 'the rest of the object is kept');
});

it('scrubs configured secrets and token-shaped strings wherever they end up in a line', () => {
  const logs = captureLogs();
  const admin = `admin"with\\quote-${hex(6)}`;
  const log = makeLogger({ level: 'info', destination: logs.destination, secrets: [admin, 'pw', null] });
  const token = `bg_${randomBytes(32).toString('base64url')}`;
  log.error({ err: new Error(`bad token ${token} for ${admin}`) }, `message with ${admin}`);
  log.info('the password pw is too short to scrub by value: the words stay readable');
  const text = logs.text();
  assert.ok(!text.includes(token) && !text.includes(JSON.stringify(admin).slice(1, -1)), text);
  assert.match(text, /bg_\[REDACTED\]/);
  assert.match(text, /the password pw is/);
});

it('finds and hides the password of a database URL', () => {
  assert.equal(redactUrl('postgres://bob:s%40cret@db:5432/x'), 'postgres://bob:[REDACTED]@db:5432/x');
  assert.equal(urlPassword('postgres://bob:s%40cret@db:5432/x'), 's@cret');
  assert.equal(redactUrl('postgres://bob@db/x'), 'postgres://bob@db/x');
  assert.equal(urlPassword('postgres://bob@db/x'), null);
  assert.equal(redactUrl('./data/batchgate.db'), './data/batchgate.db');
});
