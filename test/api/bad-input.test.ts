import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildApp } from '../../src/api/app.ts';
import { MAX_JSON_DEPTH } from '../../src/api/json-body.ts';
import { Errors } from '../../src/errors.ts';
import { describeEachDialect } from '../helpers/db.ts';
import {
  PURCHASE_DS,
  makeClient,
  startTestService,
  type Client,
  type Res,
  type TestService,
} from '../helpers/service.ts';

/**
 * Bad input on every native route: a clear 4xx with a catalog code, in the `{error}` envelope, and nothing
 * changed. Values that are merely unusual (quotes, markup, unicode, long strings) are stored verbatim and read
 * back identically.
 */

const JSON_CT = { 'content-type': 'application/json' };

/** Asserts a refusal: the status, a catalog code answering that status, and a message. */
function refused(r: Res, status: number, code?: string | string[], what = ''): void {
  const ctx = `${what} -> ${r.status} ${JSON.stringify(r.body)?.slice(0, 400)}`;
  assert.equal(r.status, status, ctx);
  assert.ok(r.body && typeof r.body === 'object' && r.body.error, `no {error} envelope: ${ctx}`);
  const got = r.body.error.code as string;
  assert.ok(Object.hasOwn(Errors, got), `code not in the catalog: ${ctx}`);
  assert.equal(Errors[got as keyof typeof Errors].status, status, `catalog status of ${got}: ${ctx}`);
  assert.equal(typeof r.body.error.message, 'string', ctx);
  if (code !== undefined) assert.ok([code].flat().includes(got), `expected ${[code].flat().join('|')}: ${ctx}`);
}

/** Any 4xx in the envelope with a catalog code (for inputs where 400 and 404 are both right). */
function clientError(r: Res, what: string): void {
  assert.ok(r.status >= 400 && r.status < 500, `${what} -> ${r.status} ${JSON.stringify(r.body)}`);
  refused(r, r.status, undefined, what);
}

const NASTY = [
  "Robert'); DROP TABLE item;--",
  "' OR '1'='1",
  '" OR ""="',
  '1; SELECT pg_sleep(5); --',
  '<script>alert("x")</script>',
  '<img src=x onerror=alert(1)>',
  '%_\\%\\_ 100% a_c',
  'back\\slash \\\\ \\u0000 (escaped, not a NUL)',
  '$1 ${x} {{x}} %s %d :name ?',
  '😀👍🏽 👨‍👩‍👧 🇯🇵',
  '中文 日本語 한국어 العربية עברית',
  'e\u0301 \u00c5 \u212b',
  '\u200b\u200d\ufeff zero width',
  '\u2028\u2029 line separators',
  'tab\tnewline\ncr\r',
  '\u0001\u001f\u007f control',
  '\uffff\ufffe noncharacters',
  ' leading and trailing spaces ',
  '𝕏'.repeat(100),
];

describeEachDialect('bad input over the native API', (dialect) => {
  let s: TestService;
  let root: Client;
  let W: string;
  let DS: string;
  let ws: string;
  let approverId: string;
  let approver: Client;
  let itemId: string;
  let ticketId: string;

  /** Everything a refused request could have touched. */
  async function snapshot() {
    const items = await root.post(`${DS}/items/search`, { per_page: 1000, sort_field_id: 'amount' });
    const item = await root.get(`${W}/items/${itemId}`);
    return {
      items: items.body.total,
      revs: items.body.items.map((i: any) => `${i.id}:${i.rev_no}:${i.status}`).sort(),
      datastores: (await root.get(`${W}/datastores`)).body.datastores.map((d: any) => d.display_id),
      workspaces: (await root.get('/api/v1/workspaces')).body.workspaces.length,
      users: (await root.get('/api/v1/users')).body.users.length,
      members: (await root.get(`${W}/members`)).body.members,
      tickets: (await root.get(`${W}/tickets`)).body.tickets.map((t: any) => `${t.id}:${t.state}`),
      item: {
        rev_no: item.body.rev_no,
        fields: item.body.fields,
        history: item.body.history.length,
        status: item.body.status,
      },
    };
  }

  async function unchanged(fn: () => Promise<void>): Promise<void> {
    const before = await snapshot();
    await fn();
    assert.deepEqual(await snapshot(), before, 'a refused request changed state');
  }

  interface BodyRoute {
    name: string;
    method: string;
    url: string;
    /** The route takes no body as well as an object. */
    optional?: boolean;
    valid: Record<string, unknown>;
  }

  function bodyRoutes(): BodyRoute[] {
    return [
      { name: 'create user', method: 'POST', url: '/api/v1/users', valid: { name: 'u' } },
      {
        name: 'issue token',
        method: 'POST',
        url: `/api/v1/users/${approverId}/tokens`,
        valid: { label: 'x' },
        optional: true,
      },
      { name: 'create workspace', method: 'POST', url: '/api/v1/workspaces', valid: { name: 'w' } },
      { name: 'set member', method: 'PUT', url: `${W}/members/${approverId}`, valid: { role: 'viewer' } },
      {
        name: 'create datastore',
        method: 'POST',
        url: `${W}/datastores`,
        valid: { ...PURCHASE_DS, display_id: 'other' },
      },
      { name: 'create item', method: 'POST', url: `${DS}/items`, valid: { title: 'x' } },
      { name: 'import items', method: 'POST', url: `${DS}/items`, valid: { items: [{ title: 'x' }] } },
      { name: 'search items', method: 'POST', url: `${DS}/items/search`, valid: { page: 1 } },
      { name: 'update item', method: 'PATCH', url: `${W}/items/${itemId}`, valid: { fields: { vendor: 'v' } } },
      {
        name: 'run action',
        method: 'POST',
        url: `${W}/items/${itemId}/actions/touch`,
        valid: { comment: 'c' },
        optional: true,
      },
      { name: 'comment', method: 'POST', url: `${W}/items/${itemId}/comments`, valid: { comment: 'c' } },
      {
        name: 'decide ticket',
        method: 'POST',
        url: `${W}/tickets/${ticketId}/approve`,
        valid: { comment: 'c' },
        optional: true,
      },
    ];
  }

  before(async () => {
    s = await startTestService(dialect);
    root = s.root;
    const w = await root.post('/api/v1/workspaces', { name: 'Acme' });
    assert.equal(w.status, 201);
    ws = w.body.id;
    W = `/api/v1/workspaces/${ws}`;
    DS = `${W}/datastores/pr`;
    const a = await s.user('approver', ws, 'approver');
    approverId = a.user.id;
    approver = a.api;
    assert.equal((await root.post(`${W}/datastores`, PURCHASE_DS)).status, 201);
    const it1 = await root.post(`${DS}/items`, {
      title: 'probe',
      fields: { amount: 5, vendor: 'Acme', extra: { a: [1, 'x'] } },
    });
    assert.equal(it1.status, 201);
    itemId = it1.body.id;
    const it2 = await root.post(`${DS}/items`, { title: 'awaiting approval' });
    const sub = await root.post(`${W}/items/${it2.body.id}/actions/submit`, {});
    assert.equal(sub.status, 200, JSON.stringify(sub.body));
    ticketId = sub.body.ticket.id;
  });
  after(() => s.close());

  it('refuses malformed JSON on every route with INVALID_JSON', async () => {
    const malformed = [
      '{"name": "a"',
      '{"name": "a"} trailing',
      '{"name": "a"}{"name": "b"}',
      '{"name": "a",}',
      "{'name': 'a'}",
      '{name: "a"}',
      '{"a": NaN}',
      '{"a": Infinity}',
      '{"a": 0x10}',
      '{"a": .5}',
      '{"a": 01}',
      '{"a": 0000000000000000001}',
      '{"a": -}',
      '{"a": "\\x41"}',
      '{"a": "raw\nnewline"}',
      '/* comment */ {}',
      '[',
      '}',
      '   ',
      'nul',
    ];
    await unchanged(async () => {
      for (const r of bodyRoutes()) {
        for (const body of malformed)
          refused(await root.raw(r.method, r.url, body, JSON_CT), 400, 'INVALID_JSON', `${r.name} ${body}`);
      }
    });
  });

  it('refuses a bare string, number, array, boolean or null where an object is expected', async () => {
    const bare = ['"abc"', '12', '-1.5', '12345678901234567890', '[]', '[{"name":"a"}]', 'true', 'null'];
    await unchanged(async () => {
      for (const r of bodyRoutes()) {
        for (const body of bare)
          refused(await root.raw(r.method, r.url, body, JSON_CT), 400, 'VALIDATION_FAILED', `${r.name} ${body}`);
      }
    });
  });

  it('refuses an empty JSON body where a body is required, and takes it as no body where it is optional', async () => {
    await unchanged(async () => {
      for (const r of bodyRoutes().filter((x) => !x.optional)) {
        refused(await root.raw(r.method, r.url, '', JSON_CT), 400, 'VALIDATION_FAILED', `${r.name} empty`);
      }
    });
    const empty = await root.raw('POST', `${W}/items/${itemId}/actions/touch`, '', JSON_CT);
    assert.equal(empty.status, 200, JSON.stringify(empty.body));
    const none = await s.app.inject({
      method: 'POST',
      url: `${W}/items/${itemId}/actions/touch`,
      headers: { authorization: `Bearer ${root.token}` },
    });
    assert.equal(none.statusCode, 200, none.body);
    const token = await s.app.inject({
      method: 'POST',
      url: `/api/v1/users/${approverId}/tokens`,
      headers: { authorization: `Bearer ${root.token}` },
    });
    assert.equal(token.statusCode, 201, token.body);
  });

  it('refuses bodies that are not application/json with 415', async () => {
    const types = [
      'text/plain',
      'text/plain; charset=utf-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=xyz',
      'application/xml',
      'text/json',
      'application/jsonx',
      'application/json-patch',
      'json',
      '',
    ];
    await unchanged(async () => {
      for (const r of bodyRoutes()) {
        for (const ct of types) {
          const payload = ct.startsWith('application/x-www') ? 'name=a&role=admin' : JSON.stringify(r.valid);
          refused(
            await root.raw(r.method, r.url, payload, { 'content-type': ct }),
            415,
            'UNSUPPORTED_MEDIA_TYPE',
            `${r.name} ${ct}`,
          );
        }
      }
    });
    // JSON with parameters, upper case, and +json media types are JSON.
    for (const ct of ['application/json; charset=utf-8', 'Application/JSON', 'application/vnd.batchgate+json']) {
      const r = await root.raw('POST', `${DS}/items/search`, '{}', { 'content-type': ct });
      assert.equal(r.status, 200, `${ct}: ${JSON.stringify(r.body)}`);
    }
  });

  it('refuses wrong JSON types with VALIDATION_FAILED, never coercing', async () => {
    const cases: [string, string, string, unknown][] = [
      ['POST', '/api/v1/users', 'name number', { name: 5 }],
      ['POST', '/api/v1/users', 'name null', { name: null }],
      ['POST', '/api/v1/users', 'email number', { name: 'x', email: 5 }],
      ['POST', `/api/v1/users/${approverId}/tokens`, 'label number', { label: 1 }],
      ['POST', '/api/v1/workspaces', 'name array', { name: ['a'] }],
      ['POST', '/api/v1/workspaces', 'name boolean', { name: true }],
      ['POST', '/api/v1/workspaces', 'project_id number', { name: 'x', project_id: 5 }],
      ['PUT', `${W}/members/${approverId}`, 'role number', { role: 1 }],
      ['PUT', `${W}/members/${approverId}`, 'role null', { role: null }],
      ['PUT', `${W}/members/${approverId}`, 'role array', { role: ['admin'] }],
      ['POST', `${W}/datastores`, 'name number', { ...PURCHASE_DS, display_id: 'x', name: 12 }],
      ['POST', `${W}/datastores`, 'statuses object', { ...PURCHASE_DS, display_id: 'x', statuses: { draft: 'Draft' } }],
      ['POST', `${W}/datastores`, 'fields string', { ...PURCHASE_DS, display_id: 'x', fields: 'amount' }],
      [
        'POST',
        `${W}/datastores`,
        'field type number',
        { ...PURCHASE_DS, display_id: 'x', fields: [{ display_id: 'a', name: 'A', type: 1 }] },
      ],
      [
        'POST',
        `${W}/datastores`,
        'from string',
        { ...PURCHASE_DS, display_id: 'x', actions: [{ display_id: 'a', name: 'A', from: 'draft', to: 'draft' }] },
      ],
      [
        'POST',
        `${W}/datastores`,
        'batch_approvable string',
        {
          ...PURCHASE_DS,
          display_id: 'x',
          actions: [
            {
              display_id: 'a',
              name: 'A',
              to: 'approved',
              approval: { pending_status: 'submitted', batch_approvable: 'true' },
            },
          ],
        },
      ],
      [
        'POST',
        `${W}/datastores`,
        'requires_comment number',
        {
          ...PURCHASE_DS,
          display_id: 'x',
          actions: [
            {
              display_id: 'a',
              name: 'A',
              to: 'approved',
              approval: { pending_status: 'submitted', requires_comment: 1 },
            },
          ],
        },
      ],
      [
        'POST',
        `${W}/datastores`,
        'set_fields array',
        { ...PURCHASE_DS, display_id: 'x', actions: [{ display_id: 'a', name: 'A', set_fields: [] }] },
      ],
      ['POST', `${DS}/items`, 'title number', { title: 5 }],
      ['POST', `${DS}/items`, 'title null', { title: null }],
      ['POST', `${DS}/items`, 'title boolean', { title: true }],
      ['POST', `${DS}/items`, 'fields array', { fields: [] }],
      ['POST', `${DS}/items`, 'fields null', { fields: null }],
      ['POST', `${DS}/items`, 'status number', { status: 1 }],
      ['POST', `${DS}/items`, 'items object', { items: { 0: { title: 'a' } } }],
      ['POST', `${DS}/items`, 'items element string', { items: [{ title: 'a' }, 'b'] }],
      ['POST', `${DS}/items`, 'items element title number', { items: [{ title: 'a' }, { title: 2 }] }],
      ['POST', `${DS}/items/search`, 'page string', { page: '1' }],
      ['POST', `${DS}/items/search`, 'per_page fraction', { per_page: 1.5 }],
      ['POST', `${DS}/items/search`, 'use_or_condition string', { use_or_condition: 'true' }],
      ['POST', `${DS}/items/search`, 'conditions object', { conditions: { id: 'vendor' } }],
      ['POST', `${DS}/items/search`, 'condition id number', { conditions: [{ id: 5, search_value: ['a'] }] }],
      ['POST', `${DS}/items/search`, 'search_value string', { conditions: [{ id: 'vendor', search_value: 'a' }] }],
      [
        'POST',
        `${DS}/items/search`,
        'search_value object',
        { conditions: [{ id: 'vendor', search_value: [{ a: 1 }] }] },
      ],
      [
        'POST',
        `${DS}/items/search`,
        'exact_match string',
        { conditions: [{ id: 'vendor', search_value: ['a'], exact_match: 'yes' }] },
      ],
      ['POST', `${DS}/items/search`, 'sort_order other', { sort_order: 'sideways' }],
      ['PATCH', `${W}/items/${itemId}`, 'rev_no string', { fields: { vendor: 'v' }, rev_no: '1' }],
      ['PATCH', `${W}/items/${itemId}`, 'fields null', { fields: null }],
      ['PATCH', `${W}/items/${itemId}`, 'comment number', { fields: {}, comment: 5 }],
      ['POST', `${W}/items/${itemId}/actions/touch`, 'rev_no string', { rev_no: '1' }],
      ['POST', `${W}/items/${itemId}/actions/touch`, 'rev_no fraction', { rev_no: 1.5 }],
      ['POST', `${W}/items/${itemId}/actions/touch`, 'rev_no negative', { rev_no: -1 }],
      ['POST', `${W}/items/${itemId}/actions/touch`, 'comment number', { comment: 5 }],
      ['POST', `${W}/items/${itemId}/actions/touch`, 'fields string', { fields: 'x' }],
      ['POST', `${W}/items/${itemId}/comments`, 'comment number', { comment: 5 }],
      ['POST', `${W}/items/${itemId}/comments`, 'comment null', { comment: null }],
      ['POST', `${W}/items/${itemId}/comments`, 'comment empty', { comment: '' }],
      ['POST', `${W}/tickets/${ticketId}/approve`, 'comment number', { comment: 5 }],
      ['POST', `${W}/tickets/${ticketId}/reject`, 'comment array', { comment: ['no'] }],
    ];
    await unchanged(async () => {
      for (const [method, url, what, body] of cases) {
        refused(await root.raw(method, url, JSON.stringify(body), JSON_CT), 400, 'VALIDATION_FAILED', what);
      }
      // Numbers beyond a double and exponent forms are not integers either.
      for (const body of [
        '{"rev_no": 1e400}',
        '{"rev_no": -1e400}',
        '{"rev_no": 12345678901234567890}',
        '{"rev_no": 1e0, "comment": 1}',
      ]) {
        refused(
          await root.raw('POST', `${W}/items/${itemId}/actions/touch`, body, JSON_CT),
          400,
          'VALIDATION_FAILED',
          body,
        );
      }
    });
  });

  it('refuses field values of the wrong type with INVALID_FIELD_VALUE', async () => {
    const bad: Record<string, unknown>[] = [
      { amount: '10' },
      { amount: true },
      { amount: [10] },
      { amount: { value: 10 } },
      { vendor: 5 },
      { vendor: ['Acme'] },
      { category: true },
      { category: 'HARDWARE' },
      { due: 20200101 },
      { due: '2020-02-30' },
      { due: '2020-01-01T00:00:00Z' },
      { seen_at: 1700000000000 },
      { seen_at: '2020-01-01T00:00:00' },
      { seen_at: '9999-12-31T23:00:00-14:00' },
      { owners: approverId },
      { owners: [Number(approverId.slice(0, 10))] },
      { owners: ["1' or '1'='1"] },
    ];
    await unchanged(async () => {
      for (const fields of bad) {
        const what = JSON.stringify(fields);
        refused(await root.post(`${DS}/items`, { fields }), 400, 'INVALID_FIELD_VALUE', `create ${what}`);
        refused(await root.patch(`${W}/items/${itemId}`, { fields }), 400, 'INVALID_FIELD_VALUE', `update ${what}`);
        refused(
          await root.post(`${W}/items/${itemId}/actions/touch`, { fields }),
          400,
          'INVALID_FIELD_VALUE',
          `action ${what}`,
        );
      }
      refused(await root.post(`${DS}/items`, { fields: { nope: 1 } }), 400, 'UNKNOWN_FIELD');
      refused(
        await root.raw('POST', `${DS}/items`, '{"fields": {"__proto__": {"amount": 1}}}', JSON_CT),
        400,
        'UNKNOWN_FIELD',
      );
      refused(await root.post(`${DS}/items`, { status: "draft' --" }), 400, 'STATUS_NOT_FOUND');
      // A bulk request with one invalid element is refused whole, naming the element.
      const r = await root.post(`${DS}/items`, {
        items: [{ title: 'ok' }, { title: 'ok' }, { fields: { amount: '10' } }],
      });
      refused(r, 400, 'INVALID_FIELD_VALUE');
      assert.equal(r.body.error.details.index, 2);
    });
  });

  it('refuses unknown properties in closed objects', async () => {
    const extra = { bogus: 1 };
    await unchanged(async () => {
      for (const r of bodyRoutes()) {
        refused(
          await root.raw(r.method, r.url, JSON.stringify({ ...r.valid, ...extra }), JSON_CT),
          400,
          'VALIDATION_FAILED',
          r.name,
        );
      }
      const nested: [string, unknown][] = [
        ['status', { ...PURCHASE_DS, display_id: 'x', statuses: [{ display_id: 'a', name: 'A', color: 'red' }] }],
        [
          'field',
          { ...PURCHASE_DS, display_id: 'x', fields: [{ display_id: 'a', name: 'A', type: 'text', required: true }] },
        ],
        [
          'action',
          { ...PURCHASE_DS, display_id: 'x', actions: [{ display_id: 'a', name: 'A', to: 'draft', when: 'now' }] },
        ],
        [
          'approval',
          {
            ...PURCHASE_DS,
            display_id: 'x',
            actions: [
              { display_id: 'a', name: 'A', to: 'approved', approval: { pending_status: 'submitted', approver: 'me' } },
            ],
          },
        ],
      ];
      for (const [what, body] of nested)
        refused(await root.post(`${W}/datastores`, body), 400, 'VALIDATION_FAILED', what);
      refused(
        await root.post(`${DS}/items`, { items: [{ title: 'a' }, { title: 'b', bogus: 1 }] }),
        400,
        'VALIDATION_FAILED',
      );
      refused(
        await root.post(`${DS}/items/search`, { conditions: [{ id: 'vendor', search_value: ['a'], regex: true }] }),
        400,
        'VALIDATION_FAILED',
      );
      refused(
        await root.post(`${DS}/items/search`, {
          conditions: [{ conditions: [{ id: 'vendor', search_value: ['a'], bogus: 1 }] }],
        }),
        400,
        'VALIDATION_FAILED',
      );
      // A revisions key that is no item id (patternProperties alone let it through unchecked).
      for (const key of ['', 'abc', '1'.repeat(21)]) {
        const target = { ids: [itemId], revisions: { [key]: 1 } };
        refused(
          await root.post(`${W}/batches`, { operation: 'update', fields: { vendor: 'v' }, target }),
          400,
          'VALIDATION_FAILED',
          `revisions ${key}`,
        );
        refused(
          await root.post(`${W}/batches`, {
            operation: 'update',
            fields: { vendor: 'v' },
            target: { datastore: 'pr', revisions: { [key]: 1 } },
          }),
          400,
          'VALIDATION_FAILED',
          `revisions ${key}`,
        );
      }
    });
  });

  it('refuses a body over the limit with 413 BODY_TOO_LARGE', async () => {
    const small = await buildApp({ ctx: s.db.ctx, engine: s.engine, bodyLimit: 1024 });
    await small.ready();
    try {
      const c = makeClient(small, root.token);
      await unchanged(async () => {
        for (const r of bodyRoutes()) {
          const body = JSON.stringify({ ...r.valid, pad: 'x'.repeat(2048) });
          refused(await c.raw(r.method, r.url, body, JSON_CT), 413, 'BODY_TOO_LARGE', r.name);
          // Over the limit is refused before parsing, whatever the bytes.
          refused(await c.raw(r.method, r.url, `{${'['.repeat(5000)}`, JSON_CT), 413, 'BODY_TOO_LARGE', r.name);
        }
        refused(
          await c.post(`${DS}/items`, { items: Array.from({ length: 100 }, (_, i) => ({ title: `item ${i}` })) }),
          413,
          'BODY_TOO_LARGE',
        );
      });
      // Under the limit, the same app works.
      assert.equal((await c.post(`${DS}/items/search`, { per_page: 1 })).status, 200);
      // The default limit (16 MiB) applies to the real app.
      await unchanged(async () => {
        const huge = `{"title": "${'x'.repeat(17 * 1024 * 1024)}"}`;
        refused(await root.raw('POST', `${DS}/items`, huge, JSON_CT), 413, 'BODY_TOO_LARGE');
      });
    } finally {
      await small.close();
    }
  });

  it('refuses huge arrays with 400', async () => {
    await unchanged(async () => {
      const r = await root.post(`${DS}/items`, { items: Array.from({ length: 10_001 }, () => ({})) });
      refused(r, 400, 'VALIDATION_FAILED', '10,001 items');
      refused(await root.post(`${DS}/items`, { items: [] }), 400, 'VALIDATION_FAILED', 'no items');
      const values = Array.from({ length: 1001 }, (_, i) => `v${i}`);
      refused(
        await root.post(`${DS}/items/search`, { conditions: [{ id: 'vendor', search_value: values }] }),
        400,
        'VALIDATION_FAILED',
        '1001 values',
      );
      const conds = Array.from({ length: 101 }, () => ({ id: 'vendor', search_value: ['a'] }));
      refused(await root.post(`${DS}/items/search`, { conditions: conds }), 400, 'VALIDATION_FAILED', '101 conditions');
      const many = Array.from({ length: 100 }, () => ({
        conditions: [
          { id: 'vendor', search_value: ['a'] },
          { id: 'vendor', search_value: ['b'] },
        ],
      }));
      refused(
        await root.post(`${DS}/items/search`, { conditions: many }),
        400,
        'INVALID_CONDITION',
        '300 conditions in all',
      );
      const statuses = Array.from({ length: 101 }, (_, i) => ({ display_id: `s${i}`, name: `S${i}` }));
      refused(
        await root.post(`${W}/datastores`, { name: 'x', display_id: 'x', statuses }),
        400,
        'VALIDATION_FAILED',
        '101 statuses',
      );
      const fields = Array.from({ length: 201 }, (_, i) => ({ display_id: `f${i}`, name: `F${i}`, type: 'text' }));
      refused(
        await root.post(`${W}/datastores`, {
          name: 'x',
          display_id: 'x',
          statuses: [{ display_id: 'a', name: 'A' }],
          fields,
        }),
        400,
        'VALIDATION_FAILED',
        '201 fields',
      );
      const owners = Array.from({ length: 1001 }, () => approverId);
      refused(await root.post(`${DS}/items`, { fields: { owners } }), 400, 'INVALID_FIELD_VALUE', '1001 owners');
      // 10,000 items with the last one invalid: the whole import is refused.
      const items: Record<string, unknown>[] = Array.from({ length: 10_000 }, (_, i) => ({
        title: `bulk ${i}`,
        fields: { amount: i },
      }));
      items[9999] = { title: 'bad', fields: { amount: 'ten' } };
      const bulk = await root.post(`${DS}/items`, { items });
      refused(bulk, 400, 'INVALID_FIELD_VALUE', 'bulk with one invalid element');
      assert.equal(bulk.body.error.details.index, 9999);
    });
  });

  it('refuses deep nesting with NESTING_TOO_DEEP, never a 500 or a crash', async () => {
    const deepObject = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const deepArray = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const unterminated = '['.repeat(100_000);
    const just65 = `${'['.repeat(MAX_JSON_DEPTH + 1)}${']'.repeat(MAX_JSON_DEPTH + 1)}`;
    const inField = (depth: number) => `{"fields": {"extra": ${'['.repeat(depth - 2)}"x"${']'.repeat(depth - 2)}}}`;
    await unchanged(async () => {
      for (const r of bodyRoutes()) {
        for (const body of [deepObject, deepArray, unterminated, just65]) {
          refused(await root.raw(r.method, r.url, body, JSON_CT), 400, 'NESTING_TOO_DEEP', `${r.name} ${body.length}`);
        }
      }
      refused(await root.raw('POST', `${DS}/items`, inField(MAX_JSON_DEPTH + 1), JSON_CT), 400, 'NESTING_TOO_DEEP');
      // Conditions nest at most 8 levels even where the JSON is shallow enough.
      let cond: Record<string, unknown> = { id: 'vendor', search_value: ['a'] };
      for (let i = 0; i < 20; i++) cond = { conditions: [cond] };
      refused(await root.post(`${DS}/items/search`, { conditions: [cond] }), 400, [
        'VALIDATION_FAILED',
        'INVALID_CONDITION',
      ]);
    });
    // Exactly the limit is accepted and stored as sent.
    const ok = await root.raw('POST', `${DS}/items`, inField(MAX_JSON_DEPTH), JSON_CT);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    const back = await root.get(`${W}/items/${ok.body.id}`);
    assert.deepEqual(back.body.fields.extra, JSON.parse(inField(MAX_JSON_DEPTH)).fields.extra);
    assert.equal((await s.app.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
  });

  it('stores quotes, markup, unicode and long strings verbatim and reads them back identically', async () => {
    const long = 'ü'.repeat(65_536);
    const options = [...NASTY.slice(0, 12)];
    const ds = await root.post(`${W}/datastores`, {
      name: NASTY[0],
      display_id: 'nasty',
      fields: [
        { display_id: 'txt', name: NASTY[4], type: 'text' },
        { display_id: 'sel', name: NASTY[9], type: 'select', options },
        { display_id: 'js', name: NASTY[10], type: 'json' },
      ],
      statuses: NASTY.slice(0, 5).map((name, i) => ({ display_id: `s${i}`, name })),
      actions: [
        { display_id: 'go', name: NASTY[3], to: 's1', approval: { pending_status: 's2', reject_status: 's3' } },
      ],
    });
    assert.equal(ds.status, 201, JSON.stringify(ds.body));
    const got = await root.get(`${W}/datastores/nasty`);
    assert.equal(got.body.name, NASTY[0]);
    assert.deepEqual(
      got.body.statuses.map((x: any) => x.name),
      NASTY.slice(0, 5),
    );
    assert.deepEqual(got.body.fields.find((f: any) => f.display_id === 'sel').options, options);
    assert.equal(got.body.fields.find((f: any) => f.display_id === 'txt').name, NASTY[4]);
    assert.equal(got.body.actions[0].name, NASTY[3]);

    const base = `${W}/datastores/nasty`;
    const ids: string[] = [];
    for (const [i, str] of NASTY.entries()) {
      const js = { [str]: [str, { nested: str }], n: i };
      const r = await root.post(`${base}/items`, {
        title: str,
        fields: { txt: str, sel: options[i % options.length], js },
      });
      assert.equal(r.status, 201, `${JSON.stringify(str)}: ${JSON.stringify(r.body)}`);
      ids.push(r.body.id);
      const back = await root.get(`${W}/items/${r.body.id}`);
      assert.equal(back.body.title, str);
      assert.equal(back.body.fields.txt, str);
      assert.equal(back.body.fields.sel, options[i % options.length]);
      assert.deepEqual(back.body.fields.js, js);
      // Exact search finds exactly this item: the string reached SQL as a value, not as syntax.
      const found = await root.post(`${base}/items/search`, {
        conditions: [{ id: 'txt', search_value: [str], exact_match: true }],
      });
      assert.equal(found.status, 200, JSON.stringify(found.body));
      assert.deepEqual(
        found.body.items.map((x: any) => x.id),
        [r.body.id],
        JSON.stringify(str),
      );
    }
    // LIKE wildcards in a substring search are literal.
    for (const [needle, expected] of [
      ['%', [6, 8]],
      ['_', [3, 6]],
      ["'", [0, 1]],
      ['\\', [6, 7]],
      ['<script>', [4]],
    ] as const) {
      const found = await root.post(`${base}/items/search`, { conditions: [{ id: 'txt', search_value: [needle] }] });
      assert.equal(found.status, 200);
      assert.deepEqual(
        found.body.items.map((x: any) => x.id).sort(),
        expected.map((i) => ids[i]).sort(),
        `substring ${needle}`,
      );
    }
    // Names of users and workspaces, comments and history.
    for (const str of NASTY) {
      const u = await root.post('/api/v1/users', { name: str });
      assert.equal(u.status, 201);
      assert.equal(u.body.name, str);
      const w = await root.post('/api/v1/workspaces', { name: str });
      assert.equal(w.status, 201);
      assert.equal((await root.get(`/api/v1/workspaces/${w.body.id}`)).body.name, str);
      const c = await root.post(`${W}/items/${ids[0]}/comments`, { comment: str });
      assert.equal(c.status, 201);
      assert.equal(c.body.comment, str);
    }
    const sub = await root.post(`${W}/items/${ids[1]}/actions/go`, { comment: NASTY[5] });
    assert.equal(sub.status, 200, JSON.stringify(sub.body));
    assert.equal(sub.body.ticket.comment, NASTY[5]);
    // Another user decides: the submitter may not (four-eyes).
    const dec = await approver.post(`${W}/tickets/${sub.body.ticket.id}/reject`, { comment: NASTY[9] });
    assert.equal(dec.status, 200, JSON.stringify(dec.body));
    assert.equal(dec.body.ticket.decision_comment, NASTY[9]);
    const hist = (await root.get(`${W}/items/${ids[0]}`)).body.history
      .filter((h: any) => h.kind === 'comment')
      .map((h: any) => h.comment);
    assert.deepEqual(hist, NASTY);

    // Long strings: at the limit stored whole, one over refused.
    const atLimit = await root.post(`${base}/items`, { title: 'ä'.repeat(1000), fields: { txt: long } });
    assert.equal(atLimit.status, 201);
    const backLong = await root.get(`${W}/items/${atLimit.body.id}`);
    assert.equal(backLong.body.title, 'ä'.repeat(1000));
    assert.equal(backLong.body.fields.txt, long);
    assert.equal((await root.post('/api/v1/workspaces', { name: '😀'.repeat(200) })).status, 201);
    await unchanged(async () => {
      refused(await root.post(`${DS}/items`, { title: 'ä'.repeat(1001) }), 400, 'VALIDATION_FAILED', 'title 1001');
      refused(
        await root.post(`${DS}/items`, { fields: { vendor: `${long}x` } }),
        400,
        'INVALID_FIELD_VALUE',
        'text 65537',
      );
      refused(await root.post('/api/v1/workspaces', { name: 'x'.repeat(201) }), 400, 'VALIDATION_FAILED', 'name 201');
      refused(
        await root.post(`${W}/items/${itemId}/comments`, { comment: 'x'.repeat(4001) }),
        400,
        'VALIDATION_FAILED',
        'comment 4001',
      );
      refused(
        await root.post(`${W}/datastores`, { ...PURCHASE_DS, display_id: 'd'.repeat(65) }),
        400,
        'VALIDATION_FAILED',
        'display_id 65',
      );
      refused(
        await root.post(`${DS}/items/search`, { conditions: [{ id: 'vendor', search_value: ['x'.repeat(1001)] }] }),
        400,
        'VALIDATION_FAILED',
      );
    });
  });

  it('refuses identifiers that are not identifiers, whatever they contain', async () => {
    await unchanged(async () => {
      for (const display_id of ["pr'--", '<script>', 'a b', 'ü', '1abc', '', 'a;drop']) {
        refused(
          await root.post(`${W}/datastores`, { ...PURCHASE_DS, display_id }),
          400,
          ['INVALID_DEFINITION', 'VALIDATION_FAILED'],
          `datastore ${display_id}`,
        );
        const fields = [{ display_id, name: 'F', type: 'text' }];
        refused(
          await root.post(`${W}/datastores`, { ...PURCHASE_DS, display_id: 'y', fields }),
          400,
          ['INVALID_DEFINITION', 'VALIDATION_FAILED'],
          `field ${display_id}`,
        );
      }
      refused(await root.post('/api/v1/workspaces', { name: 'x', project_id: "p' or 1=1" }), 400, 'VALIDATION_FAILED');
      refused(await root.post('/api/v1/users', { name: 'x', email: '<script>@' }), 400, 'VALIDATION_FAILED');
      refused(
        await root.post(`${DS}/items/search`, { conditions: [{ id: "vendor' or 1=1 --", search_value: ['a'] }] }),
        400,
        'INVALID_CONDITION',
      );
      refused(
        await root.post(`${DS}/items/search`, {
          conditions: [{ id: 'status', search_value: ["'; drop table item; --"] }],
        }),
        400,
        'INVALID_CONDITION',
      );
      refused(
        await root.post(`${DS}/items/search`, { sort_field_id: 'amount; drop table item' }),
        400,
        'INVALID_CONDITION',
      );
      refused(
        await root.post(`${DS}/items/search`, { conditions: [{ id: 'amount', search_value: ['1 or 1=1', null] }] }),
        400,
        'INVALID_CONDITION',
      );
      refused(
        await root.post(`${DS}/items/search`, {
          conditions: [{ id: 'due', search_value: ["2020-01-01' or '1'='1", null] }],
        }),
        400,
        'INVALID_CONDITION',
      );
    });
  });

  it('refuses NUL characters, lone surrogates and invalid UTF-8, which could not be stored verbatim', async () => {
    const bodies: [string, string, string][] = [
      ['POST', `${DS}/items`, '{"title": "a\\u0000b"}'],
      ['POST', `${DS}/items`, '{"fields": {"vendor": "\\u0000"}}'],
      ['POST', `${DS}/items`, '{"fields": {"extra": {"k": ["ok", "nul\\u0000"]}}}'],
      ['POST', `${DS}/items`, '{"fields": {"extra": {"k\\u0000": 1}}}'],
      ['POST', `${DS}/items`, '{"items": [{"title": "ok"}, {"title": "\\u0000"}]}'],
      ['POST', `${DS}/items`, '{"title": "\\ud800"}'],
      ['POST', `${DS}/items`, '{"title": "\\udc00x"}'],
      ['POST', `${DS}/items`, '{"title": "\\ude00\\ud83d"}'],
      ['POST', `${DS}/items`, '{"fields": {"extra": 1e400}}'],
      ['POST', `${DS}/items`, '{"fields": {"extra": [-1E+309]}}'],
      ['POST', '/api/v1/users', '{"name": "a\\u0000"}'],
      ['POST', '/api/v1/workspaces', '{"name": "\\u0000"}'],
      ['POST', `${W}/datastores`, JSON.stringify({ ...PURCHASE_DS, display_id: 'z', name: 'a\u0000' })],
      [
        'POST',
        `${W}/datastores`,
        JSON.stringify({ ...PURCHASE_DS, display_id: 'z', statuses: [{ display_id: 'a', name: '\ud800' }] }),
      ],
      ['POST', `${DS}/items/search`, '{"conditions": [{"id": "vendor", "search_value": ["\\u0000"]}]}'],
      ['POST', `${DS}/items/search`, '{"conditions": [{"id": "status", "search_value": ["draft\\u0000"]}]}'],
      ['PATCH', `${W}/items/${itemId}`, '{"fields": {"vendor": "x\\u0000"}}'],
      ['POST', `${W}/items/${itemId}/actions/touch`, '{"comment": "\\u0000"}'],
      ['POST', `${W}/items/${itemId}/comments`, '{"comment": "\\u0000"}'],
      ['POST', `${W}/tickets/${ticketId}/approve`, '{"comment": "\\u0000"}'],
    ];
    await unchanged(async () => {
      for (const [method, url, body] of bodies)
        refused(await root.raw(method, url, body, JSON_CT), 400, 'VALIDATION_FAILED', body);
      for (const bytes of [[0xff, 0xfe], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]) {
        const body = Buffer.concat([Buffer.from('{"title": "'), Buffer.from(bytes), Buffer.from('"}')]);
        refused(await root.raw('POST', `${DS}/items`, body, JSON_CT), 400, 'INVALID_JSON', `bytes ${bytes}`);
      }
    });
    // A well-formed pair and an escaped backslash before "u0000" are fine.
    const ok = await root.raw('POST', `${DS}/items`, '{"title": "\\ud83d\\ude00 \\\\u0000"}', JSON_CT);
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    assert.equal(ok.body.title, '😀 \\u0000');
  });

  it('refuses path params and query strings that are not ids, in the error envelope', async () => {
    const item = `${W}/items`;
    const badIds = [
      'abc',
      '1%27%20or%201=1',
      '-1',
      '1.5',
      '1e5',
      '%20',
      '123456789012345678901',
      '%3Cscript%3E',
      '0x10',
      '1;drop',
    ];
    await unchanged(async () => {
      for (const id of badIds) {
        refused(await root.get(`${item}/${id}`), 400, 'VALIDATION_FAILED', `item ${id}`);
        refused(
          await root.raw('PATCH', `${item}/${id}`, '{"fields": {}}', JSON_CT),
          400,
          'VALIDATION_FAILED',
          `patch ${id}`,
        );
        refused(await root.post(`${item}/${id}/actions/touch`, {}), 400, 'VALIDATION_FAILED', `action ${id}`);
        refused(await root.post(`${item}/${id}/comments`, { comment: 'c' }), 400, 'VALIDATION_FAILED', `comment ${id}`);
        refused(await root.get(`${W}/tickets/${id}`), 400, 'VALIDATION_FAILED', `ticket ${id}`);
        refused(await root.post(`${W}/tickets/${id}/approve`, {}), 400, 'VALIDATION_FAILED', `decide ${id}`);
        refused(await root.put(`${W}/members/${id}`, { role: 'admin' }), 400, 'VALIDATION_FAILED', `member ${id}`);
        refused(await root.delete(`${W}/members/${id}`), 400, 'VALIDATION_FAILED', `remove member ${id}`);
        refused(await root.post(`/api/v1/users/${id}/tokens`, {}), 400, 'VALIDATION_FAILED', `token ${id}`);
      }
      // Keys (ids or display_ids) that name nothing are not found; none reaches SQL as syntax.
      for (const key of [
        "1'%20or%20'1'='1",
        '%3Cscript%3E',
        'a%22b',
        '%E4%B8%AD%E6%96%87',
        '..%2F..%2Fetc',
        '99999999999999999999',
      ]) {
        clientError(await root.get(`/api/v1/workspaces/${key}`), `workspace ${key}`);
        clientError(await root.get(`${W}/datastores/${key}`), `datastore ${key}`);
        clientError(await root.post(`${W}/datastores/${key}/items`, { title: 'x' }), `items of ${key}`);
        clientError(await root.post(`${W}/datastores/${key}/items/search`, {}), `search ${key}`);
        clientError(await root.post(`${item}/${itemId}/actions/${key}`, {}), `action ${key}`);
        clientError(
          await root.put(`/api/v1/workspaces/${key}/members/${approverId}`, { role: 'admin' }),
          `members of ${key}`,
        );
      }
      refused(await root.post(`${W}/tickets/${ticketId}/bogus`, {}), 400, 'VALIDATION_FAILED');
      refused(await root.get(`${item}/99999999999999999999`), 404, 'ITEM_NOT_FOUND');
      // NUL, bad percent-encoding and over-long segments: refused before any route runs.
      for (const url of [
        `/api/v1/workspaces/%00`,
        `${W}/datastores/pr%00`,
        `${item}/${itemId}/actions/touch%00`,
        `${W}/tickets?assignee=%00`,
      ]) {
        refused(await root.get(url), 400, 'BAD_REQUEST', url);
      }
      refused(await root.post(`${item}/${itemId}/actions/to%00uch`, {}), 400, 'BAD_REQUEST');
      refused(await root.put(`/api/v1/workspaces/a%00/members/${approverId}`, { role: 'admin' }), 400, 'BAD_REQUEST');
      for (const url of [`/api/v1/workspaces/%FF`, `${W}/datastores/%E0%A4%A`, `/api/v1/workspaces/%ED%A0%80`]) {
        refused(await root.get(url), 400, 'BAD_REQUEST', url);
      }
      refused(await root.get(`/api/v1/workspaces/${'x'.repeat(300)}`), 414, 'URI_TOO_LONG');
      refused(
        await root.put(`/api/v1/workspaces/${'x'.repeat(300)}/members/${approverId}`, { role: 'admin' }),
        414,
        'URI_TOO_LONG',
      );
      const queries = [
        'limit=abc',
        'limit=0',
        'limit=1001',
        'limit=1.5',
        'limit=1e400',
        'offset=-1',
        'offset=1e300',
        'offset=99999999999999999999',
        'state=bogus',
        "assignee=1'",
        'assignee=you',
        'item_id=abc',
        'datastore_id=1%20or%201',
      ];
      for (const q of queries) refused(await root.get(`${W}/tickets?${q}`), 400, 'VALIDATION_FAILED', q);
    });
  });

  it('keeps every digit of 19-digit ids sent as JSON numbers, and coerces nothing else', async () => {
    assert.ok(BigInt(approverId) > 2n ** 53n);
    // approver_user_id as a bare number literal: JSON.parse would round it.
    const def = JSON.stringify({
      ...PURCHASE_DS,
      display_id: 'byid',
      actions: [
        {
          display_id: 'ask',
          name: 'Ask',
          to: 'approved',
          approval: { pending_status: 'submitted', approver_user_id: '@ID@' },
        },
      ],
    }).replace('"@ID@"', approverId);
    assert.ok(def.includes(`"approver_user_id":${approverId}`));
    const ds = await root.raw('POST', `${W}/datastores`, def, JSON_CT);
    assert.equal(ds.status, 201, JSON.stringify(ds.body));
    assert.equal(ds.body.actions[0].approval.approver_user_id, approverId);
    // 1234567890123456789 is not a double: JSON.parse would read 1234567890123456768.
    const owners = `[${approverId}, "${approverId}", 1234567890123456789]`;
    const item = await root.raw(
      'POST',
      `${W}/datastores/byid/items`,
      `{"title": "by number", "fields": {"owners": ${owners}}}`,
      JSON_CT,
    );
    assert.equal(item.status, 201, JSON.stringify(item.body));
    assert.deepEqual(item.body.fields.owners, [approverId, approverId, '1234567890123456789']);
    const sub = await root.post(`${W}/items/${item.body.id}/actions/ask`, {});
    assert.equal(sub.status, 200, JSON.stringify(sub.body));
    assert.equal(sub.body.ticket.assignee_id, approverId);
    const mine = await approver.get(`${W}/tickets?assignee=me&state=pending`);
    assert.ok(mine.body.tickets.some((t: any) => t.id === sub.body.ticket.id));
    const search = await root.raw(
      'POST',
      `${W}/datastores/byid/items/search`,
      `{"conditions": [{"id": "owners", "search_value": [${approverId}]}]}`,
      JSON_CT,
    );
    assert.equal(search.status, 200, JSON.stringify(search.body));
    assert.deepEqual(
      search.body.items.map((x: any) => x.id),
      [item.body.id],
    );

    // Floats with 17 significant digits, exponents and negative numbers are numbers, read back exactly.
    for (const literal of [
      '0.30000000000000004',
      '-1.5e-7',
      '1e21',
      '-12.000000000000001',
      '123456789.12345678',
      '9007199254740991',
      '-9007199254740991',
    ]) {
      const r = await root.raw(
        'POST',
        `${DS}/items`,
        `{"fields": {"amount": ${literal}, "extra": [${literal}]}}`,
        JSON_CT,
      );
      assert.equal(r.status, 201, `${literal}: ${JSON.stringify(r.body)}`);
      const back = await root.get(`${W}/items/${r.body.id}`);
      assert.equal(back.body.fields.amount, Number(literal), literal);
      assert.deepEqual(back.body.fields.extra, [Number(literal)], literal);
    }

    await unchanged(async () => {
      // A small number where an id is expected is a wrong type, not an id.
      const small = JSON.parse(def);
      small.display_id = 'small';
      small.actions[0].approval.approver_user_id = 123;
      refused(await root.post(`${W}/datastores`, small), 400, 'VALIDATION_FAILED');
      // A long number that is no member's id is refused by the definition check.
      const stranger = def.replace(`"byid"`, '"stranger"').replace(approverId, '1234567890123456789');
      refused(await root.raw('POST', `${W}/datastores`, stranger, JSON_CT), 400, 'INVALID_DEFINITION');
      // A long integer where a number is expected would lose digits: refused.
      refused(
        await root.raw('POST', `${DS}/items`, '{"fields": {"amount": 12345678901234567890}}', JSON_CT),
        400,
        'INVALID_FIELD_VALUE',
      );
      refused(
        await root.raw('PATCH', `${W}/items/${itemId}`, '{"fields": {}, "rev_no": 12345678901234567890}', JSON_CT),
        400,
        'VALIDATION_FAILED',
      );
      // An id-looking string in a number field is still a string.
      refused(await root.post(`${DS}/items`, { fields: { amount: approverId } }), 400, 'INVALID_FIELD_VALUE');
    });
  });

  it('answers every refusal above without a single 500', async () => {
    // A sweep of odd requests across routes and methods; anything 5xx is a bug.
    const urls = [
      '/api/v1/users',
      `/api/v1/users/${approverId}/tokens`,
      '/api/v1/workspaces',
      `${W}/members/${approverId}`,
      `${W}/datastores`,
      `${DS}/items`,
      `${DS}/items/search`,
      `${W}/items/${itemId}`,
      `${W}/items/${itemId}/actions/touch`,
      `${W}/items/${itemId}/comments`,
      `${W}/tickets`,
      `${W}/tickets/${ticketId}/approve`,
    ];
    const bodies = [
      '[]',
      'null',
      '{"a":',
      '{"items": null}',
      '{"fields": {"amount": "1"}}',
      '{"conditions": [null]}',
      '{"statuses": [null]}',
      `{"x": ${'1'.repeat(400)}}`,
      `{"x": 1${'0'.repeat(400)}.5}`,
    ];
    await unchanged(async () => {
      for (const url of urls) {
        for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
          if (method === 'DELETE' && url.includes('/members/')) continue;
          for (const body of bodies) {
            if (method === 'GET') {
              const r = await root.get(url);
              assert.ok(r.status < 500, `${method} ${url}: ${r.status}`);
              break;
            }
            const r = await root.raw(method, url, body, JSON_CT);
            assert.ok(
              r.status >= 400 && r.status < 500,
              `${method} ${url} ${body}: ${r.status} ${JSON.stringify(r.body)}`,
            );
            refused(r, r.status, undefined, `${method} ${url} ${body}`);
          }
        }
      }
    });
  });
});
