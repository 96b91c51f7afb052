import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { Errors } from '../../src/errors.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

it('the error catalog is consistent and README lists every code with its status, and no stale one', () => {
  for (const [key, def] of Object.entries(Errors)) {
    assert.equal(def.code, key);
    assert.ok(def.status >= 400 && def.status < 600, key);
    assert.ok(Object.isFrozen(def), key);
    const row = new RegExp(`^\\| \`${key}\` \\| ${def.status} \\|`, 'm');
    assert.match(readme, row, `README lists ${key} with status ${def.status}`);
  }
  const start = readme.indexOf('### Errors');
  const section = readme.slice(start, readme.indexOf('\n### ', start + 1));
  const listed = [...section.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
  assert.deepEqual(listed.filter((c) => !(c! in Errors)), [], 'README lists no code the catalog lacks');
});

describeEachDialect('API contract', (dialect) => {
  let s: TestService;
  before(async () => {
    s = await startTestService(dialect, { worker: false });
  });
  after(() => s.close());

  it('GET /openapi.json describes every route and the error envelope', async () => {
    const res = await s.app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(res.statusCode, 200);
    const doc = JSON.parse(res.body);
    assert.equal(doc.openapi.slice(0, 2), '3.');
    const missing = s.app.routeList
      .filter((r) => !r.hidden && !r.url.startsWith('/docs'))
      .filter((r) => {
        const path = r.url.replace(/:(\w+)/g, '{$1}');
        return !doc.paths[path]?.[r.method.toLowerCase()];
      })
      .map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(missing, []);
    assert.ok(Object.keys(doc.paths).length >= 25, 'the native API is there');
    assert.ok(doc.components.schemas.ErrorResponse, 'error envelope documented');
    const search = doc.paths['/api/v1/workspaces/{ws}/datastores/{ds}/items/search'].post;
    assert.ok(search.requestBody, 'request bodies documented');
    assert.ok(search.responses['200'] && search.responses['400'], 'responses documented');
  });

  it('serves the docs page and health without a token', async () => {
    const docs = await s.app.inject({ method: 'GET', url: '/docs' });
    assert.ok([200, 302].includes(docs.statusCode));
    const page = await s.app.inject({ method: 'GET', url: docs.statusCode === 302 ? String(docs.headers.location) : '/docs' });
    assert.match(page.body, /swagger|<html/i);
    const h = await s.app.inject({ method: 'GET', url: '/healthz' });
    assert.deepEqual(JSON.parse(h.body), { ok: true, database: dialect });
  });

  it('answers unknown routes in the catalog envelope', async () => {
    const r = await s.app.inject({ method: 'GET', url: '/api/v1/nope' });
    assert.equal(r.statusCode, 404);
    assert.equal(JSON.parse(r.body).error.code, 'ROUTE_NOT_FOUND');
  });
});
