/**
 * Creating a datastore cannot stall or slow other tenants.
 *
 * - Creating a datastore creates no index: the catalog (sqlite_master / pg_indexes) is the same before and after.
 *   Field searches use the typed index tables instead (src/db/item-index.ts).
 * - Those tables hold exactly what the items' fields say after every kind of write: create, import, update,
 *   action with set_fields, a batch update, its revert, a draft kept and then applied. Each check recomputes the
 *   expected rows from item.fields and compares the whole table.
 * - Searches answer what they answered before, long text values (longer than the indexed prefix) included.
 * - Migration 0010 drops the old per-field indexes and indexes the items written before it.
 * - Quotas: datastores per workspace (DataArts provisioning counted) and workspaces per user answer
 *   409 QUOTA_EXCEEDED, and nothing is half-created.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { readConfig } from '../../src/config.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openDb } from '../../src/db/open-db.ts';
import { createPgSchema, describeEachDialect, PG_URL } from '../helpers/db.ts';
import { CATALOG_DS, startTestService, type Client, type TestService } from '../helpers/service.ts';
import { waitForBatch } from '../helpers/wait.ts';

const DS = {
  name: 'Indexed',
  display_id: 'idx',
  fields: [
    { display_id: 'code', name: 'Code', type: 'text' },
    { display_id: 'amount', name: 'Amount', type: 'number' },
    { display_id: 'due', name: 'Due', type: 'date' },
    { display_id: 'seen_at', name: 'Seen at', type: 'datetime' },
    { display_id: 'kind', name: 'Kind', type: 'select', options: ['a', 'b', 'c'] },
    { display_id: 'owners', name: 'Owners', type: 'users' },
    { display_id: 'extra', name: 'Extra', type: 'json' },
  ],
  statuses: [
    { display_id: 'open', name: 'Open' },
    { display_id: 'done', name: 'Done' },
  ],
  actions: [
    { display_id: 'close', name: 'Close', from: ['open'], to: 'done', set_fields: { kind: 'c', amount: 7 } },
    { display_id: 'reopen', name: 'Reopen', from: ['done'], to: 'open' },
  ],
};

/** Characters of a text value the typed index keeps (src/db/item-index.ts): longer values are rechecked. */
const INDEXED_TEXT_CHARS = 256;

/** Two values sharing their first INDEXED_TEXT_CHARS characters (multi-byte ones included), then differing. */
const PREFIX = 'é€😀x'.repeat(INDEXED_TEXT_CHARS);
const LONG_A = `${[...PREFIX].slice(0, INDEXED_TEXT_CHARS).join('')}-A`;
const LONG_B = `${[...PREFIX].slice(0, INDEXED_TEXT_CHARS).join('')}-B`;

type Row = [datastore_id: string, field_id: string, value: string | number, item_id: string];
const key = (r: Row) => JSON.stringify(r);

describeEachDialect('datastore indexes', (dialect) => {
  let s: TestService;
  let owner: Client;
  let ws: string;
  const base = () => `/api/v1/workspaces/${ws}`;

  before(async () => {
    s = await startTestService(dialect, { settings: { quotas: { datastoresPerWorkspace: 45, workspacesPerUser: 2 } } });
    owner = (await s.user('owner')).api;
    const w = await owner.post('/api/v1/workspaces', { name: 'indexes' });
    assert.equal(w.status, 201, JSON.stringify(w.body));
    ws = w.body.id;
  });
  after(() => s?.close());

  async function indexNames(): Promise<string[]> {
    const db = s.db.ctx.db;
    const rows =
      dialect === 'sqlite'
        ? await sql<{ name: string }>`select name from sqlite_master where type = 'index' order by name`.execute(db)
        : await sql<{
            name: string;
          }>`select indexname as name from pg_indexes where schemaname = current_schema() order by indexname`.execute(
            db,
          );
    return rows.rows.map((r) => r.name);
  }

  /** Every typed index row, and what item.fields say they should be; both sorted. */
  async function pivotVsFields(): Promise<{ actual: string[]; expected: string[] }> {
    const db = s.db.ctx.db;
    const caps = s.db.ctx.caps;
    const fields = await db.selectFrom('ds_field').select(['id', 'datastore_id', 'display_id', 'type']).execute();
    const items = await db.selectFrom('item').select(['id', 'datastore_id', 'fields']).execute();
    const expected: Row[] = [];
    for (const item of items) {
      const values = caps.readJson<Record<string, unknown>>(item.fields);
      for (const f of fields.filter((f) => f.datastore_id === item.datastore_id)) {
        const v = values[f.display_id];
        if (['text', 'select', 'date', 'datetime'].includes(f.type) && typeof v === 'string') {
          expected.push([item.datastore_id, f.id, [...v].slice(0, INDEXED_TEXT_CHARS).join(''), item.id]);
        }
        if (f.type === 'number' && typeof v === 'number') expected.push([item.datastore_id, f.id, v, item.id]);
      }
    }
    const actual: Row[] = [];
    for (const table of ['item_index_text', 'item_index_num']) {
      const rows = await sql<{ datastore_id: string; field_id: string; value: string | number; item_id: string }>`
        select datastore_id, field_id, value, item_id from ${sql.table(table)}`.execute(db);
      for (const r of rows.rows)
        actual.push([r.datastore_id, r.field_id, table === 'item_index_num' ? Number(r.value) : r.value, r.item_id]);
    }
    return { actual: actual.map(key).sort(), expected: expected.map(key).sort() };
  }

  async function assertConsistent(step: string): Promise<void> {
    const { actual, expected } = await pivotVsFields();
    assert.ok(expected.length > 0, `${step}: the fixture indexes something`);
    assert.deepEqual(actual, expected, `${step}: the typed index rows match item.fields`);
  }

  const titles = async (conditions: unknown[], ds = 'idx'): Promise<string[]> => {
    const r = await owner.post(`${base()}/datastores/${ds}/items/search`, { conditions, per_page: 1000 });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.items.map((i: { title: string }) => i.title).sort();
  };

  it('creates no index when a datastore is created', async () => {
    const before = await indexNames();
    const r = await owner.post(`${base()}/datastores`, DS);
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.deepEqual(await indexNames(), before, 'the catalog is unchanged');
    assert.equal((await indexNames()).filter((n) => n.startsWith('item_f_')).length, 0);
  });

  it('keeps the typed index rows equal to the fields through create, import, update, actions, batches and revert', async () => {
    const one = await owner.post(`${base()}/datastores/idx/items`, {
      title: 'one',
      fields: {
        code: 'X-1',
        amount: 1.5,
        due: '2024-03-01',
        seen_at: '2024-03-01T10:00:00+02:00',
        kind: 'a',
        owners: ['1'],
        extra: { code: 'not indexed' },
      },
    });
    assert.equal(one.status, 201, JSON.stringify(one.body));
    await assertConsistent('single create');

    const imported = await owner.post(`${base()}/datastores/idx/items`, {
      items: [
        { title: 'two', fields: { code: 'X-2', amount: -3, due: '2024-01-15', kind: 'b' } },
        { title: 'three', fields: { code: '', amount: 0, seen_at: '2023-12-31T23:59:59.999Z' } },
        { title: 'long-a', fields: { code: LONG_A, amount: 1e21 } },
        { title: 'long-b', fields: { code: LONG_B, amount: null, kind: null } },
        { title: 'empty', fields: {} },
      ],
    });
    assert.equal(imported.status, 201, JSON.stringify(imported.body));
    await assertConsistent('bulk import');
    const [two, three] = imported.body.ids as string[];

    const patched = await owner.patch(`${base()}/items/${two}`, {
      fields: { code: 'X-2b', amount: null, due: '2025-01-01' },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    await assertConsistent('update');

    const acted = await owner.post(`${base()}/items/${three}/actions/close`, { fields: { code: 'closed' } });
    assert.equal(acted.status, 200, JSON.stringify(acted.body));
    await assertConsistent('action with set_fields');

    const batch = await owner.post(`${base()}/batches`, {
      operation: 'update',
      target: { datastore: 'idx', conditions: [] },
      fields: { kind: 'b', amount: 42, code: 'bulk' },
    });
    assert.equal(batch.status, 202, JSON.stringify(batch.body));
    assert.equal((await waitForBatch({ api: owner, ws }, batch.body.id)).state, 'succeeded');
    await assertConsistent('batch update');
    assert.deepEqual(await titles([{ id: 'amount', search_value: [42], exact_match: true }]), [
      'empty',
      'long-a',
      'long-b',
      'one',
      'three',
      'two',
    ]);

    const revert = await owner.post(`${base()}/batches/${batch.body.id}/revert`, {});
    assert.equal(revert.status, 202, JSON.stringify(revert.body));
    assert.equal((await waitForBatch({ api: owner, ws }, revert.body.id)).state, 'succeeded');
    await assertConsistent('revert');
    assert.deepEqual(await titles([{ id: 'amount', search_value: [42], exact_match: true }]), []);

    const actions = await owner.post(`${base()}/batches`, {
      operation: 'action',
      action: 'close',
      target: { datastore: 'idx', conditions: [{ id: 'status', search_value: ['open'] }] },
    });
    assert.equal(actions.status, 202, JSON.stringify(actions.body));
    assert.equal((await waitForBatch({ api: owner, ws }, actions.body.id)).state, 'succeeded');
    await assertConsistent('batch action with set_fields');
  });

  it('keeps them through a draft kept and then applied', async () => {
    assert.equal((await owner.post(`${base()}/datastores`, CATALOG_DS)).status, 201);
    const created = await owner.post(`${base()}/datastores/cat/items`, {
      title: 'c1',
      fields: { price: 10, label: 'first' },
    });
    const id = created.body.id as string;
    assert.equal((await owner.post(`${base()}/items/${id}/actions/release`, {})).status, 200);
    const edit = await owner.patch(`${base()}/items/${id}`, { fields: { price: 11, label: 'second' } });
    assert.equal(edit.status, 200, JSON.stringify(edit.body));
    await assertConsistent('draft kept');
    assert.deepEqual(await titles([{ id: 'label', search_value: ['first'], exact_match: true }], 'cat'), ['c1']);
    const applied = await owner.post(`${base()}/items/${id}/actions/release`, {});
    assert.equal(applied.status, 200, JSON.stringify(applied.body));
    await assertConsistent('draft applied');
    assert.deepEqual(await titles([{ id: 'label', search_value: ['second'], exact_match: true }], 'cat'), ['c1']);
    assert.deepEqual(await titles([{ id: 'price', search_value: [11, 11] }], 'cat'), ['c1']);
  });

  it('answers field searches as before, values longer than the indexed prefix included', async () => {
    const r = await owner.post(`${base()}/datastores`, { ...DS, name: 'Search', display_id: 'srch', actions: [] });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    const imported = await owner.post(`${base()}/datastores/srch/items`, {
      items: [
        {
          title: 'a',
          fields: { code: LONG_A, amount: 1, due: '2024-01-01', seen_at: '2024-01-01T00:00:00.000Z', kind: 'a' },
        },
        {
          title: 'b',
          fields: { code: LONG_B, amount: 2.5, due: '2024-02-01', seen_at: '2024-02-01T12:00:00.000Z', kind: 'b' },
        },
        { title: 'c', fields: { code: 'short', amount: -1, due: '2024-03-01', kind: 'a' } },
        { title: 'd', fields: { code: '', amount: 0 } },
        { title: 'e', fields: {} },
      ],
    });
    assert.equal(imported.status, 201, JSON.stringify(imported.body));
    const c = (id: string, search_value: unknown[], opts: Record<string, unknown> = {}) => ({
      id,
      search_value,
      ...opts,
    });
    const cases: [unknown[], string[]][] = [
      [[c('code', [LONG_A], { exact_match: true })], ['a']],
      [[c('code', [LONG_B, 'short'], { exact_match: true })], ['b', 'c']],
      [[c('code', [[...LONG_A].slice(0, INDEXED_TEXT_CHARS).join('')], { exact_match: true })], []],
      [[c('code', [''], { exact_match: true })], ['d']],
      [[c('code', ['short'], { exact_match: true, not_match: true })], ['a', 'b', 'd', 'e']],
      [[c('code', ['short'], { exact_match: true, include_null: true })], ['c', 'd', 'e']],
      [[c('code', ['-B'])], ['b']],
      [[c('amount', [0, 2])], ['a', 'd']],
      [[c('amount', [null, 0])], ['c', 'd']],
      [[c('amount', ['2.5', null])], ['b']],
      [[c('amount', [null, null])], ['a', 'b', 'c', 'd']],
      [[c('amount', [1, 2.5, 99], { exact_match: true })], ['a', 'b']],
      [[c('amount', [0, 1], { not_match: true })], ['b', 'c', 'e']],
      [[c('amount', [0, 1], { include_null: false })], ['a', 'd']],
      [[c('due', ['2024-01-15', '2024-03-01'])], ['b', 'c']],
      [[c('due', [null, '2024-01-01'])], ['a']],
      [[c('seen_at', ['2024-01-01', '2024-01-01'])], ['a']],
      [[c('seen_at', ['2024-01-01T00:00:01Z', null])], ['b']],
      [[c('kind', ['a'])], ['a', 'c']],
      [[c('kind', ['a', 'b'], { not_match: true })], ['d', 'e']],
      [[{ conditions: [c('kind', ['b']), c('amount', [null, 0])], use_or_condition: true }], ['b', 'c', 'd']],
    ];
    for (const [conditions, expected] of cases)
      assert.deepEqual(await titles(conditions, 'srch'), expected, JSON.stringify(conditions));
  });

  it("limits datastores per workspace, counting a DataArts workspace's own", async () => {
    const mine = await owner.post('/api/v1/workspaces', { name: 'quota', project_id: 'quota-p' });
    assert.equal(mine.status, 201, JSON.stringify(mine.body));
    const listed = await owner.get(`/api/v1/workspaces/${mine.body.id}/datastores`);
    const have = listed.body.datastores.length as number;
    assert.ok(have >= 40, 'the DataArts biz_type datastores were provisioned');
    for (let i = have; i < 45; i++) {
      const r = await owner.post(`/api/v1/workspaces/${mine.body.id}/datastores`, { ...DS, display_id: `q${i}` });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    const over = await owner.post(`/api/v1/workspaces/${mine.body.id}/datastores`, {
      ...DS,
      display_id: 'one_too_many',
    });
    assert.equal(over.status, 409, JSON.stringify(over.body));
    assert.equal(over.body.error.code, 'QUOTA_EXCEEDED');
    assert.match(over.body.error.message, /BATCHGATE_MAX_DATASTORES_PER_WORKSPACE/);
    assert.equal((await owner.get(`/api/v1/workspaces/${mine.body.id}/datastores`)).body.datastores.length, 45);
  });

  it('limits workspaces per user; a system admin is not limited', async () => {
    const u = (await s.user('creator')).api;
    assert.equal((await u.post('/api/v1/workspaces', { name: 'w1' })).status, 201);
    assert.equal((await u.post('/api/v1/workspaces', { name: 'w2' })).status, 201);
    const over = await u.post('/api/v1/workspaces', { name: 'w3' });
    assert.equal(over.status, 409, JSON.stringify(over.body));
    assert.equal(over.body.error.code, 'QUOTA_EXCEEDED');
    assert.match(over.body.error.message, /BATCHGATE_MAX_WORKSPACES_PER_USER/);
    assert.equal((await u.get('/api/v1/workspaces')).body.workspaces.length, 2);
    for (let i = 0; i < 3; i++)
      assert.equal((await s.root.post('/api/v1/workspaces', { name: `root-${i}` })).status, 201);
  });

  it('refuses a DataArts workspace whose datastores exceed the quota, and creates none of it', async () => {
    const small = await startTestService(dialect, {
      settings: { quotas: { datastoresPerWorkspace: 10, workspacesPerUser: 5 } },
    });
    try {
      const u = (await small.user('dataarts')).api;
      const r = await u.post('/api/v1/workspaces', { name: 'da', project_id: 'too-many' });
      assert.equal(r.status, 409, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'QUOTA_EXCEEDED');
      assert.deepEqual((await u.get('/api/v1/workspaces')).body.workspaces, []);
      assert.equal(
        (await small.db.ctx.db.selectFrom('workspace').select('id').where('project_id', '=', 'too-many').execute())
          .length,
        0,
      );
    } finally {
      await small.close();
    }
  });
});

it('reads the quotas from the environment', () => {
  assert.deepEqual(readConfig({}).quotas, { datastoresPerWorkspace: 100, workspacesPerUser: 20 });
  assert.deepEqual(
    readConfig({ BATCHGATE_MAX_DATASTORES_PER_WORKSPACE: '50', BATCHGATE_MAX_WORKSPACES_PER_USER: '0' }).quotas,
    { datastoresPerWorkspace: 50, workspacesPerUser: 0 },
  );
  assert.throws(() => readConfig({ BATCHGATE_MAX_WORKSPACES_PER_USER: '-1' }), /BATCHGATE_MAX_WORKSPACES_PER_USER/);
});

describeEachDialect('migration 0010', (dialect) => {
  it('drops the per-field indexes and indexes the items written before it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-mig-'));
    const pgSchema = dialect === 'postgres' ? await createPgSchema() : null;
    const opened =
      dialect === 'sqlite' ? openDb(join(dir, 'm.db')) : openDb(PG_URL, { schema: pgSchema!.schema, poolSize: 2 });
    try {
      await migrate(opened, '0009-webhooks');
      const db = opened.db;
      const j = opened.caps.writeJson;
      await db
        .insertInto('workspace')
        .values({ id: 'w1', name: 'w', project_id: null, created_by: null, created_at: 1 })
        .execute();
      await db
        .insertInto('datastore')
        .values({ id: 'd1', workspace_id: 'w1', display_id: 'd', name: 'd', created_at: 1, drafts: null })
        .execute();
      const fields = [
        { id: 'f1', display_id: 'code', type: 'text' },
        { id: 'f2', display_id: 'amount', type: 'number' },
        { id: 'f3', display_id: 'due', type: 'date' },
        { id: 'f4', display_id: 'owners', type: 'users' },
      ];
      await db
        .insertInto('ds_field')
        .values(fields.map((f, i) => ({ ...f, datastore_id: 'd1', name: f.display_id, options: null, position: i })))
        .execute();
      await db
        .insertInto('ds_status')
        .values({ id: 's1', datastore_id: 'd1', display_id: 'open', name: 'Open', position: 0 })
        .execute();
      const values = [
        { code: LONG_A, amount: 1.5, due: '2024-01-01', owners: ['1'] },
        { code: 'x', amount: -2, extra: 'not a field' },
        { code: '', amount: 1e21, due: null },
        {},
      ];
      await db
        .insertInto('item')
        .values(
          values.map((v, i) => ({
            id: `i${i}`,
            workspace_id: 'w1',
            datastore_id: 'd1',
            title: `t${i}`,
            status_id: 's1',
            fields: j(v)!,
            rev_no: 1,
            created_at: 1,
            created_by: null,
            updated_at: 1,
            updated_by: null,
          })),
        )
        .execute();
      const expr = dialect === 'sqlite' ? sql.raw(`json_extract(fields, '$.code')`) : sql.raw(`(fields ->> 'code')`);
      await sql`create index item_f_f1 on item (${expr}) where datastore_id = 'd1'`.execute(db);

      await migrate(opened);
      const indexes =
        dialect === 'sqlite'
          ? await sql<{ name: string }>`select name from sqlite_master where type = 'index'`.execute(db)
          : await sql<{
              name: string;
            }>`select indexname as name from pg_indexes where schemaname = current_schema()`.execute(db);
      assert.deepEqual(
        indexes.rows.filter((r) => r.name.startsWith('item_f_')),
        [],
      );
      const text = await sql<{
        field_id: string;
        value: string;
        item_id: string;
      }>`select field_id, value, item_id from item_index_text order by item_id, field_id`.execute(db);
      const num = await sql<{
        field_id: string;
        value: number;
        item_id: string;
      }>`select field_id, value, item_id from item_index_num order by item_id`.execute(db);
      assert.deepEqual(
        text.rows.map((r) => [r.item_id, r.field_id, r.value]),
        [
          ['i0', 'f1', [...LONG_A].slice(0, INDEXED_TEXT_CHARS).join('')],
          ['i0', 'f3', '2024-01-01'],
          ['i1', 'f1', 'x'],
          ['i2', 'f1', ''],
        ],
      );
      assert.deepEqual(
        num.rows.map((r) => [r.item_id, r.field_id, Number(r.value)]),
        [
          ['i0', 'f2', 1.5],
          ['i1', 'f2', -2],
          ['i2', 'f2', 1e21],
        ],
      );
    } finally {
      await opened.close();
      await pgSchema?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
