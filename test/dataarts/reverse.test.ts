import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { describeEachDialect, PG_URL } from '../helpers/db.ts';
import { makeClient, startTestService, type Client, type Res, type TestService } from '../helpers/service.ts';
import { dataartsClient } from './helpers.ts';
import {
  captureLogger,
  drive,
  newSecretKey,
  pgSource,
  pgUrlWithPassword,
  sqliteSource,
  tableModelsOf,
  TEST_CONNECTION_SOURCES,
} from './model-fixtures.ts';

const PID = 'p-reverse';
const N = 200;
const pad = (i: number) => String(i).padStart(3, '0');

/** Every response body seen, so no credential can hide in one. */
function recording(c: Client, seen: string[]): Client {
  const keep = async <T>(p: Promise<Res<T>>) => {
    const r = await p;
    seen.push(JSON.stringify(r.body ?? null), JSON.stringify(r.headers));
    return r;
  };
  return {
    token: c.token,
    get: (u) => keep(c.get(u)),
    post: (u, b, h) => keep(c.post(u, b, h)),
    put: (u, b) => keep(c.put(u, b)),
    patch: (u, b) => keep(c.patch(u, b)),
    delete: (u) => keep(c.delete(u)),
    raw: (m, u, p, h) => keep(c.raw(m, u, p, h)),
  };
}

describeEachDialect('DataArts ER_REVERSE_DB: reverse a real database into a model', (dialect) => {
  const password = `pw-${randomBytes(12).toString('hex')}`;
  const seen: string[] = [];
  const { logger, lines } = captureLogger();
  let s: TestService;
  let api: Client;
  let ws: string;
  let src: ReturnType<typeof sqliteSource>;
  let liteModel: string;
  let firstReverse: string;
  const base = () => `/api/v1/workspaces/${ws}`;

  before(async () => {
    s = await startTestService(dialect, {
      worker: false,
      settings: { secretKey: newSecretKey(), connectionSources: TEST_CONNECTION_SOURCES },
      logger,
    });
    api = recording(s.root, seen);
    ws = (await api.post('/api/v1/workspaces', { name: 'Models', project_id: PID })).body.id;
    src = sqliteSource(N);
  });
  after(async () => {
    src.close();
    await s.close();
  });

  const newModel = async (name: string, bizInfo: Record<string, unknown> = { is_physical: true }) => {
    const r = await api.post(`${base()}/datastores/MODEL/items`, { title: name, fields: { biz_info: bizInfo } });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  };
  const connect = async (name: string, url: string, schema?: string) => {
    const r = await api.post(`${base()}/connections`, { name, url, ...(schema ? { schema } : {}) });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  };
  const tablesOf = (modelId: string) => tableModelsOf(s, ws, modelId);
  const results = async (modelId: string, limit = 100, offset = 0) => {
    const da = dataartsClient(s, s.root.token, ws);
    const r = await da.get(
      `/v1/${PID}/design/operation-results?operation_type=ER_REVERSE_DB&operation_id=${modelId}&limit=${limit}&offset=${offset}`,
    );
    seen.push(JSON.stringify(r.body));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data.value;
  };
  const reverse = async (modelId: string, body: Record<string, unknown>) => {
    const r = await api.post(`${base()}/models/${modelId}/reverse`, body);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    return r.body;
  };

  it('registers connections with the URL masked in every answer and encrypted at rest; admins only', async () => {
    const url = PG_URL ? pgUrlWithPassword(password) : '';
    const member = await s.user('member', ws, 'member');
    const viewer = await s.user('viewer', ws, 'viewer');
    const refused = await recording(member.api, seen).post(`${base()}/connections`, { name: 'm', url: src.path });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error.code, 'FORBIDDEN');
    assert.equal((await recording(viewer.api, seen).get(`${base()}/connections`)).status, 403);

    const lite = await api.post(`${base()}/connections`, { name: 'lite', url: `sqlite:${src.path}` });
    assert.equal(lite.status, 201, JSON.stringify(lite.body));
    assert.equal(lite.body.dialect, 'sqlite');
    assert.equal(lite.body.url, `sqlite:${src.path}`);
    assert.equal(lite.body.schema, null);

    if (PG_URL) {
      const r = await api.post(`${base()}/connections`, { name: 'pg', url });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const u = new URL(PG_URL);
      assert.equal(r.body.url, `postgres://${u.username}:****@${u.host}${u.pathname}`);
      assert.equal(r.body.schema, 'public');
      const row = await s.db.ctx.db
        .selectFrom('data_connection')
        .selectAll()
        .where('id', '=', r.body.id)
        .executeTakeFirstOrThrow();
      assert.ok(!JSON.stringify(row).includes(password), 'the password is not stored in clear');
      assert.match(row.secret, /^v1\./);
      // The same name twice is refused.
      const again = await api.post(`${base()}/connections`, { name: 'pg', url });
      assert.equal(again.status, 409);
      // An unreachable server is refused now, with the reason and without the password.
      const down = await api.post(`${base()}/connections`, {
        name: 'down',
        url: url.replace(`:${u.port || 5432}/`, ':1/'),
      });
      assert.equal(down.status, 422, JSON.stringify(down.body));
      assert.equal(down.body.error.code, 'CONNECTION_FAILED');
      assert.match(down.body.error.message, /ECONNREFUSED/);
    }
    // A URL of an unsupported kind is refused without being echoed.
    const mysql = await api.post(`${base()}/connections`, { name: 'my', url: `mysql://root:${password}@db/x` });
    assert.equal(mysql.status, 400);
    const missing = await api.post(`${base()}/connections`, { name: 'gone', url: `${src.dir}/nope.db` });
    assert.equal(missing.status, 422);
    assert.equal(missing.body.error.code, 'CONNECTION_FAILED');

    const list = await api.get(`${base()}/connections`);
    assert.deepEqual(
      list.body.connections.map((c: any) => c.name),
      PG_URL ? ['lite', 'pg'] : ['lite'],
    );
    const tables = await api.get(`${base()}/connections/${lite.body.id}/tables`);
    assert.equal(tables.body.tables.length, N);
    assert.equal(tables.body.tables[0], 't000');
    // Another workspace's admin sees none of it.
    const stranger = await s.user('stranger');
    const other = (await stranger.api.post('/api/v1/workspaces', { name: 'Other' })).body.id;
    assert.equal(
      (await recording(stranger.api, seen).get(`/api/v1/workspaces/${other}/connections/${lite.body.id}`)).body.error
        .code,
      'CONNECTION_NOT_FOUND',
    );
    assert.equal((await recording(stranger.api, seen).get(`${base()}/connections/${lite.body.id}`)).status, 404);
  });

  it(
    `reverses a real SQLite database of ${N} tables: one TABLE_MODEL per table, RUNNING until done, in the native batch API too`,
    { timeout: 120_000 },
    async () => {
      const model = (liteModel = await newModel('lite-model'));
      const conn = (await api.get(`${base()}/connections`)).body.connections.find((c: any) => c.name === 'lite').id;
      const batch = await reverse(model, { connection_id: conn });
      firstReverse = batch.id;
      assert.equal(batch.operation, 'reverse_db');
      assert.equal(batch.total, N);
      assert.equal(batch.model_operation.operation_type, 'ER_REVERSE_DB');
      assert.equal(batch.model_operation.model_id, model);

      const running = await results(model, 100);
      assert.equal(running.operation_status, 'RUNNING');
      assert.equal(running.operation_type, 'ER_REVERSE_DB');
      assert.equal(running.group_id, batch.id);
      assert.equal(running.rate, '0.00');
      assert.equal(running.groups.length, 100);
      assert.ok(running.groups.every((g: any) => g.operation_status === 'RUNNING' && g.remark === null));

      // Half-way: committed slices show, the rest still runs.
      const mid = await drive(s, batch.id, { slices: 2 });
      assert.equal(mid.succeeded, 50);
      const part = await results(model);
      assert.equal(part.operation_status, 'RUNNING');
      assert.equal(part.success, 50);
      assert.equal(part.rate, '0.25');

      const done = await drive(s, batch.id);
      assert.equal(done.state, 'succeeded');
      const vo = await results(model, 100, 100);
      assert.equal(vo.operation_status, 'SUCCESS');
      assert.deepEqual([vo.total, vo.success, vo.failed, vo.rate], [N, N, 0, '1.00']);
      const tables = await tablesOf(model);
      assert.equal(tables.size, N);
      assert.equal(vo.groups[0].biz_name, 't100');
      assert.equal(vo.groups[0].biz_id, tables.get('t100')!.id);
      assert.ok(vo.groups.every((g: any) => g.remark === 'PASSED' && g.operation_type === 'ER_REVERSE_DB'));

      // Columns as SQLite declares them: name, type, nullability, key; SQLite has no comments.
      assert.deepEqual(tables.get('t001')!.info.attributes, [
        {
          name_en: 'id',
          data_type: 'INTEGER',
          logic_type: 'INT',
          not_null: true,
          is_primary_key: true,
          ordinal: 1,
          description: null,
        },
        {
          name_en: 'name',
          data_type: 'varchar(64)',
          logic_type: 'STRING(64)',
          not_null: true,
          is_primary_key: false,
          ordinal: 2,
          description: null,
        },
        {
          name_en: 'amount',
          data_type: 'decimal(10,2)',
          logic_type: 'DECIMAL(10,2)',
          not_null: false,
          is_primary_key: false,
          ordinal: 3,
          description: null,
        },
        {
          name_en: 'created_at',
          data_type: 'timestamp',
          logic_type: 'TIMESTAMP',
          not_null: false,
          is_primary_key: false,
          ordinal: 4,
          description: null,
        },
        {
          name_en: 'flag',
          data_type: 'boolean',
          logic_type: 'BOOLEAN',
          not_null: false,
          is_primary_key: false,
          ordinal: 5,
          description: null,
        },
        // SQLite reports a type it knows as a keyword in capitals, and any other as written.
        {
          name_en: 'payload',
          data_type: 'BLOB',
          logic_type: 'BINARY',
          not_null: false,
          is_primary_key: false,
          ordinal: 6,
          description: null,
        },
        {
          name_en: 'note',
          data_type: 'TEXT',
          logic_type: 'TEXT',
          not_null: false,
          is_primary_key: false,
          ordinal: 7,
          description: null,
        },
      ]);
      const composite = tables.get('t007')!.info;
      assert.deepEqual(
        composite.attributes.filter((a: any) => a.is_primary_key).map((a: any) => a.name_en),
        ['a', 'b'],
      );
      assert.equal(composite.dw_type, 'SQLITE');
      assert.deepEqual(composite.source, { operation: 'ER_REVERSE_DB', connection_id: conn, schema: null });

      // The native batch API shows the same batch, one item per table, each entity created by it.
      const native = await api.get(`${base()}/batches/${batch.id}`);
      assert.deepEqual([native.body.state, native.body.succeeded, native.body.total], ['succeeded', N, N]);
      const items = await api.get(`${base()}/batches/${batch.id}/items?limit=1000`);
      assert.deepEqual(
        items.body.items.map((i: any) => i.target_id),
        Array.from({ length: N }, (_, i) => `t${pad(i)}`),
      );
      const history = await api.get(`${base()}/items/${tables.get('t042')!.id}`);
      assert.deepEqual(
        history.body.history.map((h: any) => [h.kind, h.batch_id]),
        [['create', batch.id]],
      );
    },
  );

  it(
    'reruns idempotently: unchanged tables are skipped with a remark, a changed one is updated with a history entry, an excluded one is skipped by the user',
    { timeout: 120_000 },
    async () => {
      const model = liteModel;
      const conn = (await api.get(`${base()}/connections`)).body.connections.find((c: any) => c.name === 'lite').id;
      const before = await tablesOf(model);

      const again = await reverse(model, { connection_id: conn });
      const b = await drive(s, again.id);
      assert.deepEqual([b.state, b.succeeded, b.skipped, b.failed], ['succeeded', 0, N, 0]);
      const vo = await results(model);
      assert.equal(vo.group_id, again.id, 'operation-results reads the latest reverse of the model');
      assert.equal(vo.operation_status, 'SUCCESS');
      assert.equal(vo.success, N, 'a skip counts as a success');
      assert.match(vo.groups[3].remark, /^SKIP \| Table "t003" is unchanged \(TABLE_MODEL \d+\)\.$/);
      assert.deepEqual(await tablesOf(model), before, 'nothing written');

      src.exec('alter table t005 add column extra varchar(10); create table t200 (k text primary key);');
      const third = await reverse(model, { connection_id: conn, exclude_tables: ['t009'] });
      const c = await drive(s, third.id);
      assert.deepEqual([c.state, c.total, c.succeeded, c.skipped], ['succeeded', N + 1, 2, N - 1]);
      const after = await tablesOf(model);
      assert.equal(after.size, N + 1, 'no duplicates: one entity per table');
      assert.equal(after.get('t005')!.id, before.get('t005')!.id, 'the same entity, updated');
      assert.equal(after.get('t005')!.rev, before.get('t005')!.rev + 1);
      assert.equal(after.get('t005')!.info.attributes.at(-1).name_en, 'extra');
      const h = await api.get(`${base()}/items/${after.get('t005')!.id}`);
      assert.deepEqual(
        h.body.history.map((x: any) => [x.kind, x.batch_id]),
        [
          ['create', firstReverse],
          ['update', third.id],
        ],
      );
      const items = (await api.get(`${base()}/batches/${third.id}/items?limit=1000`)).body.items;
      const by = new Map<string, any>(items.map((i: any) => [i.target_id, i]));
      assert.deepEqual([by.get('t009').state, by.get('t009').error_code], ['skipped', 'SKIPPED_BY_USER']);
      assert.deepEqual(
        [by.get('t005').state, by.get('t200').state, by.get('t006').error_code],
        ['succeeded', 'succeeded', 'UNCHANGED'],
      );
      const vo3 = await results(model);
      const child = (name: string) => vo3.groups.find((g: any) => g.biz_name === name);
      assert.equal(child('t009').remark, 'SKIP | Skipped by users');
      assert.equal(child('t005').remark, 'PASSED');
      assert.equal(child('t006').operation_status, 'SUCCESS');
    },
  );

  it('reverses a chosen list: the other tables are skipped by the user; a named table the database lacks fails', async () => {
    const model = await newModel('chosen');
    const conn = (await api.get(`${base()}/connections`)).body.connections.find((c: any) => c.name === 'lite').id;
    const batch = await reverse(model, { connection_id: conn, tables: ['t010', 't011', 'nope'] });
    const b = await drive(s, batch.id);
    assert.deepEqual(
      [b.state, b.total, b.succeeded, b.skipped, b.failed],
      ['completed_with_errors', N + 2, 2, N - 1, 1],
    );
    const vo = await results(model, 100, 200);
    const nope = vo.groups.find((g: any) => g.biz_name === 'nope');
    assert.equal(nope.operation_status, 'FAILED');
    assert.equal(nope.remark, 'Table "nope" does not exist in the source database.');
    assert.equal(vo.operation_status, 'FAILED');
    assert.deepEqual([...(await tablesOf(model)).keys()].sort(), ['t010', 't011']);

    // Idempotency-Key names the request, not the tables it found: a retry after the source changed is the same batch.
    const key = { 'idempotency-key': 'reverse-once' };
    const once = await api.post(`${base()}/models/${model}/reverse`, { connection_id: conn, tables: ['t012'] }, key);
    src.exec('create table t999 (x integer)');
    const twice = await api.post(`${base()}/models/${model}/reverse`, { connection_id: conn, tables: ['t012'] }, key);
    assert.deepEqual(
      [once.status, twice.status, twice.body.id, twice.body.total],
      [202, 202, once.body.id, once.body.total],
    );
    const other = await api.post(`${base()}/models/${model}/reverse`, { connection_id: conn, tables: ['t013'] }, key);
    assert.equal(other.status, 409);
    assert.equal(other.body.error.code, 'IDEMPOTENCY_KEY_REUSED');
    src.exec('drop table t999');
    await drive(s, once.body.id);
  });

  it(
    `reverses a real PostgreSQL schema of ${N} tables, with its comments`,
    { skip: PG_URL ? false : 'TEST_PG_URL is not set', timeout: 120_000 },
    async () => {
      const pgsrc = await pgSource(N);
      try {
        const conn = await connect(`pg-${pgsrc.schema}`, pgUrlWithPassword(password), pgsrc.schema);
        const model = await newModel('pg-model', { is_physical: true, dw_type: 'POSTGRESQL' });
        const batch = await reverse(model, { connection_id: conn });
        const b = await drive(s, batch.id);
        assert.deepEqual([b.state, b.succeeded], ['succeeded', N]);
        const tables = await tablesOf(model);
        assert.equal(tables.size, N);
        const p6 = tables.get('p006')!.info;
        assert.equal(p6.description, "table p006, it's commented");
        assert.equal(p6.dw_type, 'POSTGRESQL');
        assert.deepEqual(p6.attributes, [
          {
            name_en: 'id',
            data_type: 'bigint',
            logic_type: 'BIGINT',
            not_null: true,
            is_primary_key: true,
            ordinal: 1,
            description: null,
          },
          {
            name_en: 'code',
            data_type: 'character varying(32)',
            logic_type: 'STRING(32)',
            not_null: true,
            is_primary_key: false,
            ordinal: 2,
            description: 'business code',
          },
          {
            name_en: 'amount',
            data_type: 'numeric(12,2)',
            logic_type: 'DECIMAL(12,2)',
            not_null: false,
            is_primary_key: false,
            ordinal: 3,
            description: null,
          },
          {
            name_en: 'happened',
            data_type: 'timestamp with time zone',
            logic_type: 'TIMESTAMPTZ',
            not_null: false,
            is_primary_key: false,
            ordinal: 4,
            description: null,
          },
          {
            name_en: 'tags',
            data_type: 'text[]',
            logic_type: null,
            not_null: false,
            is_primary_key: false,
            ordinal: 5,
            description: null,
          },
          {
            name_en: 'flag',
            data_type: 'boolean',
            logic_type: 'BOOLEAN',
            not_null: false,
            is_primary_key: false,
            ordinal: 6,
            description: null,
          },
        ]);
        assert.equal(tables.get('p001')!.info.description, null);
        assert.equal(tables.get('p001')!.info.attributes[1].description, null);

        // A column comment changed: that table only is updated on the rerun.
        await pgsrc.exec(`comment on column ${pgsrc.schema}.p001.code is 'now commented'`);
        const again = await reverse(model, { connection_id: conn });
        const c = await drive(s, again.id);
        assert.deepEqual([c.succeeded, c.skipped], [1, N - 1]);
        assert.equal((await tablesOf(model)).get('p001')!.info.attributes[1].description, 'now commented');
        assert.equal((await tablesOf(model)).size, N);

        // A model for another database is refused before anything runs.
        const lite = await newModel('for-sqlite', { is_physical: true, dw_type: 'SQLITE' });
        const wrong = await api.post(`${base()}/models/${lite}/reverse`, { connection_id: conn });
        assert.equal(wrong.status, 400);
        assert.match(wrong.body.error.message, /is for SQLITE; the connection's database is POSTGRESQL/);
      } finally {
        await pgsrc.drop();
      }
    },
  );

  it(
    'a source lost mid-way (SQLite file deleted) leaves a FAILED batch with per-table remarks; retry finishes it',
    { timeout: 120_000 },
    async () => {
      const lost = sqliteSource(N);
      try {
        const conn = await connect('lost', lost.path);
        const model = await newModel('lost-model');
        const batch = await reverse(model, { connection_id: conn });
        await drive(s, batch.id, { slices: 3 });
        rmSync(lost.path);
        const b = await drive(s, batch.id);
        assert.deepEqual([b.state, b.succeeded, b.failed], ['failed', 75, N - 75]);
        assert.match(
          b.error!,
          /^Reverse stopped: The source database could not be read: cannot open the SQLite database: unable to open database file/,
        );
        const vo = await results(model, 100, 0);
        assert.equal(vo.operation_status, 'FAILED');
        assert.equal(vo.remark, b.error);
        assert.deepEqual([vo.total, vo.success, vo.failed], [N, 75, N - 75]);
        assert.equal(vo.groups[74].remark, 'PASSED');
        const failedChild = vo.groups[75];
        assert.deepEqual(
          [failedChild.biz_name, failedChild.operation_status, failedChild.biz_id],
          ['t075', 'FAILED', null],
        );
        assert.match(failedChild.remark, /^The source database could not be read: cannot open the SQLite database/);
        const later = (await results(model, 100, 100)).groups[50];
        assert.match(later.remark, /^Not read: the source database failed earlier in this batch/);
        const items = (await api.get(`${base()}/batches/${batch.id}/items?state=failed&limit=1000`)).body.items;
        assert.equal(items.length, N - 75);
        assert.ok(items.every((i: any) => i.error_code === 'CONNECTION_FAILED'));
        assert.equal((await tablesOf(model)).size, 75);

        // The database is back: retry runs the failed tables only, and nothing is duplicated.
        const back = new SqliteDatabase(lost.path);
        back.exec(Array.from({ length: N }, (_, i) => `create table "t${pad(i)}" (x integer);`).join('\n'));
        back.close();
        const retried = await api.post(`${base()}/batches/${batch.id}/retry`);
        assert.equal(retried.status, 200, JSON.stringify(retried.body));
        const r = await drive(s, batch.id);
        assert.deepEqual([r.state, r.succeeded, r.failed, r.error], ['succeeded', N, 0, null]);
        assert.equal((await tablesOf(model)).size, N);
      } finally {
        lost.close();
      }
    },
  );

  it(
    'a PostgreSQL schema dropped mid-way leaves a FAILED batch with per-table remarks',
    { skip: PG_URL ? false : 'TEST_PG_URL is not set', timeout: 120_000 },
    async () => {
      const pgsrc = await pgSource(N);
      try {
        const conn = await connect(`drop-${pgsrc.schema}`, pgUrlWithPassword(password), pgsrc.schema);
        const model = await newModel('dropped');
        const batch = await reverse(model, { connection_id: conn });
        await drive(s, batch.id, { slices: 2 });
        await pgsrc.drop();
        const b = await drive(s, batch.id);
        assert.deepEqual([b.state, b.succeeded, b.failed], ['failed', 50, N - 50]);
        const vo = await results(model, 100, 0);
        assert.equal(vo.operation_status, 'FAILED');
        assert.match(vo.groups[50].remark, new RegExp(`schema "${pgsrc.schema}" (no longer exists|does not exist)`));
        assert.equal(vo.groups[49].remark, 'PASSED');
      } finally {
        await pgsrc.drop();
      }
    },
  );

  it('no credential in any response or log line', async () => {
    assert.ok(seen.length > 20, 'responses were recorded');
    assert.ok(lines.length > 20, 'logs were captured');
    const leaks = [...seen, ...lines].filter((t) => t.includes(password));
    assert.deepEqual(leaks, []);
    if (PG_URL)
      assert.ok(
        seen.some((t) => t.includes(':****@')),
        'the masked URL was answered',
      );
  });
});

describeEachDialect('data connections without BATCHGATE_SECRET_KEY', (dialect) => {
  let s: TestService;
  before(async () => {
    s = await startTestService(dialect, { worker: false, settings: { connectionSources: TEST_CONNECTION_SOURCES } });
  });
  after(() => s.close());

  it('the service runs; registering a connection answers SECRET_KEY_UNAVAILABLE and stores nothing', async () => {
    const ws = (await s.root.post('/api/v1/workspaces', { name: 'K', project_id: 'p-nokey' })).body.id;
    const src = sqliteSource(1);
    try {
      const r = await s.root.post(`/api/v1/workspaces/${ws}/connections`, { name: 'x', url: src.path });
      assert.equal(r.status, 503);
      assert.equal(r.body.error.code, 'SECRET_KEY_UNAVAILABLE');
      assert.match(r.body.error.message, /BATCHGATE_SECRET_KEY is not set/);
      assert.equal((await s.db.ctx.db.selectFrom('data_connection').select('id').execute()).length, 0);
      // A connection stored under a key is unreadable under another: a clear error, not a crash.
      const keyed = { ...s.engine.ctx, settings: { ...s.engine.ctx.settings, secretKey: newSecretKey() } };
      const { createConnection, listConnectionTables } = await import('../../src/core/connections/connections.ts');
      const access = {
        principal: { userId: s.admin.id, name: 'root', isSystemAdmin: true },
        workspaceId: ws,
        projectId: 'p-nokey',
        role: 'admin' as const,
      };
      const c = await createConnection(keyed, access, { name: 'k', url: src.path });
      assert.deepEqual(await listConnectionTables(keyed, access, c.id), ['t000']);
      const other = { ...keyed, settings: { ...keyed.settings, secretKey: newSecretKey() } };
      await assert.rejects(listConnectionTables(other, access, c.id), { code: 'SECRET_KEY_UNAVAILABLE' });
      const tables = await makeClient(s.app, s.root.token).get(`/api/v1/workspaces/${ws}/connections/${c.id}/tables`);
      assert.equal(tables.status, 503);
      assert.equal(tables.body.error.code, 'SECRET_KEY_UNAVAILABLE');
    } finally {
      src.close();
    }
  });
});
