/**
 * No request stalls the service (docs/api.md: Hostile input). One search of long substring patterns against large text
 * fields held SQLite's event loop for seconds, and on PostgreSQL such searches filled the pool with no
 * statement timeout. Now every query a request runs is bounded by BATCHGATE_QUERY_TIMEOUT_MS (503
 * QUERY_TIMEOUT past it, nothing changed), SQLite's searches run on reader threads so other tenants are
 * answered meanwhile, and text conditions have documented budgets (src/core/conditions.ts).
 *
 * The service is the real binary over real HTTP. Nothing here asserts a duration: the slow search is made
 * slow by its data (seconds without a limit), and what is asserted is the code answered and the order in which
 * two answers arrive.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { readConfig } from '../../src/config.ts';
import {
  MAX_CONDITION_PATTERNS,
  MAX_PATTERN_BYTES,
  MAX_TEXT_PATTERNS,
  MAX_TOTAL_PATTERN_BYTES,
} from '../../src/core/conditions.ts';
import { createPgSchema, describeEachDialect, PG_URL } from '../helpers/db.ts';
import { cleanupProcesses, serveProcess, stop, tempDir, type Server } from '../helpers/processes.ts';
import { httpClient, type Client } from '../helpers/service.ts';

const ADMIN = 'query-limits-admin-token-0123456789abcdef';
/**
 * Short, so the test is quick; the data below takes far longer per search without it. Not shorter: a loaded
 * machine must still answer the in-budget requests well inside it.
 */
const TIMEOUT_MS = 3_000;
/** Items of 65,535 "a"s: a pattern of "a"s ending in "b" compares nearly its full length at every offset. */
const ITEMS = 60;

const DS = {
  name: 'Documents',
  display_id: 'docs',
  fields: [{ display_id: 'body', name: 'Body', type: 'text' }],
  statuses: [
    { display_id: 'open', name: 'Open' },
    { display_id: 'done', name: 'Done' },
  ],
  actions: [{ display_id: 'close', name: 'Close', from: ['open'], to: 'done' }],
};

/** The worst search the budgets allow: MAX_TOTAL_PATTERN_BYTES of patterns, each as long as allowed. */
function worstConditions() {
  const n = Math.floor(MAX_TOTAL_PATTERN_BYTES / MAX_PATTERN_BYTES);
  const patterns = Array.from({ length: n }, (_, i) =>
    `${'a'.repeat(MAX_PATTERN_BYTES - 2)}${String.fromCharCode(98 + i)}!`.slice(-MAX_PATTERN_BYTES),
  );
  return [{ id: 'body', search_value: patterns }];
}

after(cleanupProcesses);

it('BATCHGATE_QUERY_TIMEOUT_MS: 5000 by default, 0 for no limit, anything else a non-negative integer', () => {
  assert.equal(readConfig({}).queryTimeoutMs, 5_000);
  assert.equal(readConfig({ BATCHGATE_QUERY_TIMEOUT_MS: '250' }).queryTimeoutMs, 250);
  assert.equal(readConfig({ BATCHGATE_QUERY_TIMEOUT_MS: '0' }).queryTimeoutMs, 0);
  assert.throws(() => readConfig({ BATCHGATE_QUERY_TIMEOUT_MS: '-1' }), /BATCHGATE_QUERY_TIMEOUT_MS/);
  assert.throws(() => readConfig({ BATCHGATE_QUERY_TIMEOUT_MS: '5s' }), /BATCHGATE_QUERY_TIMEOUT_MS/);
});

describeEachDialect('query limits', (dialect) => {
  let server: Server;
  let drop: (() => Promise<void>) | undefined;
  let attacker: Client;
  let victim: Client;
  let A: string;
  let V: string;
  let victimItem: string;
  let attackerItems: string[];

  before(async () => {
    let env: Record<string, string>;
    if (dialect === 'postgres') {
      const s = await createPgSchema(PG_URL);
      drop = s.drop;
      env = { DATABASE_URL: PG_URL, DATABASE_SCHEMA: s.schema };
    } else {
      env = { DATABASE_URL: join(tempDir('bg-qlimit-'), 'bg.db') };
    }
    server = await serveProcess({
      ...env,
      BATCHGATE_ADMIN_TOKEN: ADMIN,
      BATCHGATE_DEMO: '0',
      BATCHGATE_QUERY_TIMEOUT_MS: String(TIMEOUT_MS),
    });
    const root = httpClient(server.base, ADMIN, 120_000);
    const userWithToken = async (name: string) => {
      const u = await root.post('/api/v1/users', { name });
      assert.equal(u.status, 201, JSON.stringify(u.body));
      const t = await root.post(`/api/v1/users/${u.body.id}/tokens`, {});
      return httpClient(server.base, t.body.token, 120_000);
    };
    attacker = await userWithToken('attacker');
    victim = await userWithToken('victim');
    for (const [api, set] of [
      [attacker, (w: string) => (A = w)],
      [victim, (w: string) => (V = w)],
    ] as const) {
      const ws = await api.post('/api/v1/workspaces', { name: 'ws' });
      assert.equal(ws.status, 201, JSON.stringify(ws.body));
      set(`/api/v1/workspaces/${ws.body.id}`);
    }
    for (const W of [A, V]) assert.equal((await (W === A ? attacker : victim).post(`${W}/datastores`, DS)).status, 201);
    const big = 'a'.repeat(65_535);
    const imported = await attacker.post(`${A}/datastores/docs/items`, {
      items: Array.from({ length: ITEMS }, (_, i) => ({ title: `doc ${i}`, fields: { body: big } })),
    });
    assert.equal(imported.status, 201, JSON.stringify(imported.body).slice(0, 500));
    attackerItems = imported.body.ids;
    const mine = await victim.post(`${V}/datastores/docs/items`, { title: 'mine', fields: { body: 'hello' } });
    assert.equal(mine.status, 201);
    victimItem = mine.body.id;
  });

  after(async () => {
    if (server) await stop(server, 15_000);
    await drop?.();
  });

  it('a worst-case search answers 503 QUERY_TIMEOUT, and another tenant is answered while it runs', async () => {
    const order: string[] = [];
    const slow = attacker
      .post(`${A}/datastores/docs/items/search`, { conditions: worstConditions() })
      .then((r) => (order.push('search'), r));
    // Let the search reach the database before the other tenant asks (the search is seconds long unbounded).
    await new Promise((r) => setTimeout(r, 150));
    const got = await victim.get(`${V}/items/${victimItem}`).then((r) => (order.push('get'), r));
    assert.equal(got.status, 200, JSON.stringify(got.body));
    const r = await slow;
    assert.deepEqual(order, ['get', 'search'], "the other tenant's GET item is answered before the slow search");
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'QUERY_TIMEOUT');
  });

  it("one tenant's many slow searches leave readers for another tenant's search", async () => {
    const order: string[] = [];
    const slow = Array.from({ length: 10 }, () =>
      attacker
        .post(`${A}/datastores/docs/items/search`, { conditions: worstConditions() })
        .then((r) => (order.push('slow'), r)),
    );
    await new Promise((r) => setTimeout(r, 150));
    const mine = await victim
      .post(`${V}/datastores/docs/items/search`, { conditions: [{ id: 'body', search_value: ['hell'] }] })
      .then((r) => (order.push('other'), r));
    assert.equal(mine.status, 200, JSON.stringify(mine.body));
    assert.equal(mine.body.total, 1);
    const answers = await Promise.all(slow);
    assert.equal(order[0], 'other', "the other tenant's search is answered before any of the slow ones");
    for (const r of answers) assert.equal(r.body.error.code, 'QUERY_TIMEOUT');
  });

  it('the Hexabase door answers the same search with its 503, in its envelope', async () => {
    const ws = A.split('/').at(-1);
    const r = await attacker.post(`/api/v0/applications/${ws}/datastores/docs/items/search`, {
      conditions: worstConditions(),
      per_page: 10,
    });
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.error_code, 'SYSTEM_ERROR');
  });

  it('a batch submitted by such conditions answers QUERY_TIMEOUT and nothing changes', async () => {
    const before = await attacker.get(`${A}/batches`);
    const order: string[] = [];
    const submit = attacker
      .post(`${A}/batches`, {
        operation: 'update',
        fields: { body: 'x' },
        target: { datastore: 'docs', conditions: worstConditions() },
      })
      .then((r) => (order.push('batch'), r));
    await new Promise((r) => setTimeout(r, 150));
    const got = await victim.get(`${V}/items/${victimItem}`).then((r) => (order.push('get'), r));
    assert.equal(got.status, 200);
    const r = await submit;
    assert.deepEqual(
      order,
      ['get', 'batch'],
      "the other tenant's GET item is answered while the batch's conditions are matched",
    );
    assert.equal(r.status, 503, JSON.stringify(r.body));
    assert.equal(r.body.error.code, 'QUERY_TIMEOUT');
    const afterList = await attacker.get(`${A}/batches`);
    assert.deepEqual(afterList.body, before.body, 'no batch was recorded');
    const item = await attacker.get(`${A}/items/${attackerItems[0]}`);
    assert.equal(item.body.rev_no, 1, 'no item changed');
    // The same request within the budgets and fast (a short pattern) still works.
    const ok = await attacker.post(`${A}/batches`, {
      operation: 'update',
      fields: { body: 'x' },
      dry_run: true,
      target: { datastore: 'docs', conditions: [{ id: 'body', search_value: ['aaa'] }] },
    });
    assert.equal(ok.status, 202, JSON.stringify(ok.body));
    assert.equal(ok.body.total, ITEMS);
  });

  it('text conditions over their budgets answer 400 INVALID_CONDITION, through every door', async () => {
    const search = (conditions: unknown) => attacker.post(`${A}/datastores/docs/items/search`, { conditions });
    const ws = A.split('/').at(-1);
    const hexa = (conditions: unknown) =>
      attacker.post(`/api/v0/applications/${ws}/datastores/docs/items/search`, { conditions, per_page: 10 });
    const overBudget = [
      // One pattern too long.
      [{ id: 'body', search_value: ['x'.repeat(MAX_PATTERN_BYTES + 1)] }],
      // Too long as "|" alternatives are counted one by one too.
      [{ id: 'title', search_value: [`q|${'x'.repeat(MAX_PATTERN_BYTES + 1)}`] }],
      // Too many patterns in one condition.
      [{ id: 'body', search_value: Array.from({ length: MAX_CONDITION_PATTERNS + 1 }, (_, i) => `p${i}`) }],
      // Too many patterns in one search, spread over conditions.
      Array.from({ length: MAX_TEXT_PATTERNS + 1 }, (_, i) => ({
        id: 'body',
        search_value: [`p${i}`],
        not_match: true,
      })),
      // Too many characters in all, each pattern within its own limit.
      [0, 1].map((j) => ({
        id: 'body',
        search_value: Array.from({ length: Math.floor(MAX_TOTAL_PATTERN_BYTES / 200) + 1 }, (_, i) =>
          `${j}-${i}`.padEnd(100, 'z'),
        ),
      })),
      // Bytes, not characters: 129 two-byte characters are over 256 bytes.
      [{ id: 'body', search_value: ['é'.repeat(Math.floor(MAX_PATTERN_BYTES / 2) + 1)] }],
    ];
    for (const conditions of overBudget) {
      const r = await search(conditions);
      assert.equal(r.status, 400, JSON.stringify(r.body).slice(0, 300));
      assert.equal(r.body.error.code, 'INVALID_CONDITION');
      const h = await hexa(conditions);
      assert.equal(h.status, 400, JSON.stringify(h.body).slice(0, 300));
      assert.equal(h.body.error_code, 'INVALID_PARAMS');
      const b = await attacker.post(`${A}/batches`, {
        operation: 'update',
        fields: { body: 'x' },
        dry_run: true,
        target: { datastore: 'docs', conditions },
      });
      assert.equal(b.status, 400, JSON.stringify(b.body).slice(0, 300));
      assert.equal(b.body.error.code, 'INVALID_CONDITION');
    }
    // Exactly at the budgets is accepted (and fast: short runs of text).
    const half = MAX_TEXT_PATTERNS / 2;
    assert.ok(half <= MAX_CONDITION_PATTERNS);
    const atLimit = await search(
      [0, 1].map((j) => ({ id: 'body', search_value: Array.from({ length: half }, (_, i) => `zz${j}-${i}`) })),
    );
    assert.equal(atLimit.status, 200, JSON.stringify(atLimit.body).slice(0, 300));
    // Exact matches are equality tests, not patterns: long lists of them stay allowed.
    const exact = await search([
      { id: 'title', exact_match: true, search_value: Array.from({ length: 500 }, (_, i) => `doc ${i}`) },
    ]);
    assert.equal(exact.status, 200);
    assert.equal(exact.body.total, ITEMS);
  });
});
