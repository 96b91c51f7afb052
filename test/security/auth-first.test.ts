/**
 * Who asks comes before what is asked: on every route of every door, an anonymous
 * request answers 401 in the door's envelope before its body is read or validated, so it learns nothing of the
 * schema, an oversized body costs no parsing, and each such request counts toward the auth-failure limit.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildApp } from '../../src/api/app.ts';
import type { App } from '../../src/api/types.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

/** Routes that answer without a token: health, the OpenAPI document and its UI, the web UI's static files. */
function isPublic(url: string): boolean {
  return (
    url === '/healthz' ||
    url === '/openapi.json' ||
    url === '/' ||
    url === '/docs' ||
    url.startsWith('/docs/') ||
    url.startsWith('/assets/')
  );
}

/** A concrete path for a route pattern: every parameter and wildcard filled in. */
function pathOf(url: string): string {
  return url.replace(/:[A-Za-z_]+/g, '1234').replace(/\*/g, 'x');
}

/** The 401 in the envelope of the door the path belongs to. */
function assertUnauthenticated(path: string, status: number, text: string): void {
  assert.equal(status, 401, `${path}: ${text}`);
  const body = JSON.parse(text);
  if (path.startsWith('/api/v0/')) assert.equal(body.error_code, 'NO_PRIVILEGES', text);
  else if (/^\/v[12]\//.test(path)) assert.equal(body.error_code, 'DS.6010', text);
  else if (path.startsWith('/batch_approvals/')) assert.equal(body.code, 'UNAUTHENTICATED', text);
  else assert.equal(body.error.code, 'UNAUTHENTICATED', text);
  // Nothing of the schema: Ajv's messages ("must have required property", "must NOT have additional
  // properties") and the probe's own property name never come back.
  assert.doesNotMatch(
    text,
    /must|probe|additional propert|required propert|schema/i,
    `${path} leaks validation details: ${text}`,
  );
}

describeEachDialect('authentication comes first', (dialect) => {
  let s: TestService;
  let limited: App;

  before(async () => {
    s = await startTestService(dialect, { worker: false });
    limited = await buildApp({
      ctx: s.db.ctx,
      engine: s.engine,
      authFailureLimit: 3,
      authFailureWindowSeconds: 60,
      bodyLimit: 1024,
    });
    await limited.ready();
  });
  after(async () => {
    await limited.close();
    await s.close();
  });

  it('answers 401 in the door envelope to an anonymous request with an invalid body, on every registered route', async () => {
    const routes = s.app.routeList.filter((r) => !isPublic(r.url));
    assert.ok(routes.length > 50, `routes: ${routes.length}`);
    const doors = new Set<string>();
    for (const r of routes) {
      const path = pathOf(r.url);
      doors.add(path.split('/')[1]!);
      const withBody = !['GET', 'DELETE', 'OPTIONS'].includes(r.method);
      for (const headers of [{}, { authorization: 'Bearer bg_not_a_token' }, { 'x-auth-token': 'nope' }]) {
        const res = await s.app.inject({
          method: r.method as 'GET',
          url: `${path}?page=probe&per_page=-1&user_id=probe`,
          headers: { ...headers, ...(withBody ? { 'content-type': 'application/json' } : {}) },
          ...(withBody ? { payload: '{"probe": [1, {"x": null}], "name": 7}' } : {}),
        });
        assertUnauthenticated(path, res.statusCode, res.body);
      }
      if (r.method === 'GET') {
        const head = await s.app.inject({ method: 'HEAD', url: path });
        assert.equal(head.statusCode, 401, `HEAD ${path}`);
      }
    }
    for (const door of ['api', 'v1', 'v2', 'batch_approvals', 'metrics'])
      assert.ok(doors.has(door), `door ${door} tried`);
  });

  it('answers 401 before the body is parsed: malformed JSON, a wrong content type, a body over the limit', async () => {
    let n = 0;
    // An address per request: the limited app would answer 429 past its third failure from one.
    const post = (url: string, payload: string, contentType = 'application/json') =>
      limited.inject({
        method: 'POST',
        url,
        remoteAddress: `203.0.113.${++n}`,
        headers: { 'content-type': contentType },
        payload,
      });
    const big = JSON.stringify({ name: 'x'.repeat(4096) });
    // Over bodyLimit: Fastify would answer 413 when it reads the body; the token is asked for before that.
    for (const url of [
      '/api/v1/workspaces',
      '/batch_approvals/_check?user_id=1',
      '/api/v0/applications/1/datastores/1/items/search',
      '/v1/p/design/approvals/batch-publish',
    ]) {
      const over = await post(url, big);
      assertUnauthenticated(url, over.statusCode, over.body);
    }
    const malformed = await post('/api/v1/workspaces', '{not json');
    assertUnauthenticated('/api/v1/workspaces', malformed.statusCode, malformed.body);
    const wrongType = await post('/api/v1/workspaces', 'a,b', 'text/csv');
    assertUnauthenticated('/api/v1/workspaces', wrongType.statusCode, wrongType.body);
  });

  it('answers 401 on an unknown path to a caller without a token, and 404 to one with a token', async () => {
    for (const path of ['/api/v1/nope', '/api/v0/nope', '/v1/p/design/nope', '/batch_approvals/nope', '/nope']) {
      const anonymous = await s.app.inject({
        method: 'POST',
        url: path,
        headers: { 'content-type': 'application/json' },
        payload: '{"probe":1}',
      });
      assertUnauthenticated(path, anonymous.statusCode, anonymous.body);
      const known = await s.app.inject({
        method: 'GET',
        url: path,
        headers: { authorization: `Bearer ${s.root.token}` },
      });
      assert.equal(known.statusCode, 404, `${path}: ${known.body}`);
    }
    assert.equal((await s.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal((await s.app.inject({ method: 'GET', url: '/openapi.json' })).statusCode, 200);
  });

  it('counts each of these failures toward the auth-failure limit, in every door', async () => {
    const ip = '198.51.100.9';
    const send = (url: string, payload: string) =>
      limited.inject({
        method: 'POST',
        url,
        remoteAddress: ip,
        headers: { 'content-type': 'application/json' },
        payload,
      });
    assert.equal((await send('/api/v1/workspaces', '{"probe":1}')).statusCode, 401);
    assert.equal((await send('/api/v0/applications/1/datastores/1/items/search', '[[')).statusCode, 401);
    assert.equal((await send('/batch_approvals/_check?user_id=1', '{"task_ids": "no"}')).statusCode, 401);
    const blocked = await send('/api/v1/workspaces', '{"name":"ok"}');
    assert.equal(blocked.statusCode, 429, blocked.body);
    assert.equal(JSON.parse(blocked.body).error.code, 'TOO_MANY_AUTH_FAILURES');
  });
});
