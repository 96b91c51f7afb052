import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type Client, type TestService } from '../helpers/service.ts';
import { dataartsClient, snapshot } from './helpers.ts';
import { newSecretKey, sqliteSource, TEST_CONNECTION_SOURCES } from './model-fixtures.ts';

const PID = 'p-model-bad';

describeEachDialect('model operations: bad input is refused whole, nothing changed', (dialect) => {
  let s: TestService;
  let api: Client;
  let viewer: Client;
  let ws: string;
  let physical: string;
  let logical: string;
  let pgModel: string;
  let table: string;
  let conn: string;
  let foreignModel: string;
  let src: ReturnType<typeof sqliteSource>;
  const base = () => `/api/v1/workspaces/${ws}`;

  before(async () => {
    s = await startTestService(dialect, {
      worker: false,
      settings: { secretKey: newSecretKey(), connectionSources: TEST_CONNECTION_SOURCES },
    });
    api = s.root;
    ws = (await api.post('/api/v1/workspaces', { name: 'B', project_id: PID })).body.id;
    viewer = (await s.user('viewer', ws, 'viewer')).api;
    const model = async (title: string, biz_info: object, w = ws) =>
      (await api.post(`/api/v1/workspaces/${w}/datastores/MODEL/items`, { title, fields: { biz_info } })).body.id;
    physical = await model('phys', { is_physical: true });
    logical = await model('logic', { is_physical: false });
    pgModel = await model('pg', { is_physical: true, dw_type: 'POSTGRESQL' });
    table = (
      await api.post(`${base()}/datastores/TABLE_MODEL/items`, {
        title: 't',
        fields: { biz_info: { model_id: physical } },
      })
    ).body.id;
    src = sqliteSource(3);
    conn = (await api.post(`${base()}/connections`, { name: 'src', url: src.path })).body.id;
    const other = (await api.post('/api/v1/workspaces', { name: 'O', project_id: 'p-other-models' })).body.id;
    foreignModel = await model('foreign', { is_physical: true }, other);
  });
  after(async () => {
    src.close();
    await s.close();
  });

  async function refused(
    res: Promise<{ status: number; body: any }>,
    status: number,
    code: string,
    what: string,
  ): Promise<void> {
    const before = await snapshot(s);
    const connections = (await s.db.ctx.db.selectFrom('data_connection').select('id').execute()).length;
    const r = await res;
    assert.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`);
    assert.equal(r.body.error?.code ?? r.body.error_code, code, `${what}: ${JSON.stringify(r.body)}`);
    assert.equal(await snapshot(s), before, `${what}: nothing changed`);
    assert.equal(
      (await s.db.ctx.db.selectFrom('data_connection').select('id').execute()).length,
      connections,
      `${what}: no connection stored`,
    );
  }

  it('connections', async () => {
    const url = `${base()}/connections`;
    await refused(api.post(url, { name: 'x' }), 400, 'VALIDATION_FAILED', 'no url');
    await refused(api.post(url, { name: 'x', url: src.path, extra: 1 }), 400, 'VALIDATION_FAILED', 'unknown property');
    await refused(api.post(url, { name: 'x', url: ':memory:' }), 400, 'VALIDATION_FAILED', 'in-memory SQLite');
    await refused(
      api.post(url, { name: 'x', url: src.path, schema: 'public' }),
      400,
      'VALIDATION_FAILED',
      'a schema for SQLite',
    );
    await refused(
      api.post(url, { name: 'x', url: 'postgres://u:p@[bad/db' }),
      400,
      'VALIDATION_FAILED',
      'an unparsable PostgreSQL URL',
    );
    await refused(api.post(url, { name: 'src', url: src.path }), 409, 'DUPLICATE', 'a taken name');
    await refused(viewer.post(url, { name: 'v', url: src.path }), 403, 'FORBIDDEN', 'a viewer');
    await refused(api.delete(`${url}/1234567890123456789`), 404, 'CONNECTION_NOT_FOUND', 'an unknown connection');
    await refused(api.get(`${url}/abc`), 400, 'VALIDATION_FAILED', 'a malformed id');
  });

  it('reverse', async () => {
    const url = (m: string) => `${base()}/models/${m}/reverse`;
    await refused(api.post(url(physical), {}), 400, 'VALIDATION_FAILED', 'no connection');
    await refused(
      api.post(url(physical), { connection_id: '1234567890123456789' }),
      404,
      'CONNECTION_NOT_FOUND',
      'an unknown connection',
    );
    await refused(api.post(url(table), { connection_id: conn }), 404, 'ITEM_NOT_FOUND', 'a TABLE_MODEL, not a MODEL');
    await refused(
      api.post(url(foreignModel), { connection_id: conn }),
      404,
      'ITEM_NOT_FOUND',
      "another workspace's model",
    );
    await refused(api.post(url(logical), { connection_id: conn }), 400, 'VALIDATION_FAILED', 'a logical model');
    await refused(
      api.post(url(pgModel), { connection_id: conn }),
      400,
      'VALIDATION_FAILED',
      'a model for another database',
    );
    await refused(
      api.post(url(physical), { connection_id: conn, tables: ['t000'], exclude_tables: ['t000'] }),
      400,
      'VALIDATION_FAILED',
      'chosen and excluded',
    );
    await refused(
      api.post(url(physical), { connection_id: conn, tables: ['t000', 't000'] }),
      400,
      'VALIDATION_FAILED',
      'a table twice',
    );
    await refused(
      api.post(url(physical), { connection_id: conn, exclude_tables: ['nope'] }),
      400,
      'VALIDATION_FAILED',
      'excluding an unknown table',
    );
    await refused(
      api.post(url(physical), { connection_id: conn, tables: [] }),
      400,
      'VALIDATION_FAILED',
      'an empty choice',
    );
    await refused(viewer.post(url(physical), { connection_id: conn }), 403, 'FORBIDDEN', 'a viewer');
  });

  it('transform and DDL', async () => {
    const url = (m: string) => `${base()}/models/${m}/transform`;
    await refused(
      api.post(url(logical), { target_model_id: physical, dw_type: 'DWS' }),
      400,
      'VALIDATION_FAILED',
      'an unsupported dw_type',
    );
    await refused(api.post(url(logical), { dw_type: 'SQLITE' }), 400, 'VALIDATION_FAILED', 'no target');
    await refused(
      api.post(url(logical), { target_model_id: logical, dw_type: 'SQLITE' }),
      400,
      'VALIDATION_FAILED',
      'the logical model as target',
    );
    await refused(
      api.post(url(logical), { target_model_id: pgModel, dw_type: 'SQLITE' }),
      404,
      'ITEM_NOT_FOUND',
      'a target for another database',
    );
    await refused(
      api.post(url(foreignModel), { target_model_id: physical, dw_type: 'SQLITE' }),
      404,
      'ITEM_NOT_FOUND',
      "another workspace's logical model",
    );
    await refused(
      api.post(url(logical), { target_model_id: physical, dw_type: 'SQLITE', ids: [table, table] }),
      400,
      'VALIDATION_FAILED',
      'an id twice',
    );
    await refused(
      viewer.post(url(logical), { target_model_id: physical, dw_type: 'SQLITE' }),
      403,
      'FORBIDDEN',
      'a viewer',
    );
    await refused(
      api.get(`${base()}/models/${physical}/ddl`),
      400,
      'VALIDATION_FAILED',
      'DDL of a model without dw_type',
    );
    await refused(
      api.get(`${base()}/models/${physical}/ddl?dw_type=DWS`),
      400,
      'VALIDATION_FAILED',
      'DDL for an unsupported database',
    );
    await refused(
      api.get(`${base()}/models/${foreignModel}/ddl?dw_type=SQLITE`),
      404,
      'ITEM_NOT_FOUND',
      "DDL of another workspace's model",
    );
  });

  it('a transform whose Idempotency-Key was used with another request creates no target model', async () => {
    const url = `${base()}/models/${logical}/transform`;
    const key = { 'idempotency-key': 'transform-once' };
    const first = await api.post(url, { target_model_name: 'made once', dw_type: 'SQLITE' }, key);
    assert.equal(first.status, 202, JSON.stringify(first.body));
    await refused(
      api.post(url, { target_model_name: 'made twice', dw_type: 'SQLITE' }, key),
      409,
      'IDEMPOTENCY_KEY_REUSED',
      'another target under the same key',
    );
    // The same request again is the same batch and the same model, and makes nothing new either.
    const before = await snapshot(s);
    const again = await api.post(url, { target_model_name: 'made once', dw_type: 'SQLITE' }, key);
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.deepEqual(
      [again.body.batch.id, again.body.target_model.id],
      [first.body.batch.id, first.body.target_model.id],
    );
    assert.equal(await snapshot(s), before);
  });

  it('DataArts transform and operation-results answer DS codes', async () => {
    const da = dataartsClient(s, api.token, ws);
    const daViewer = dataartsClient(s, viewer.token, ws);
    const url = (m: string, p = PID) => `/v1/${p}/design/workspaces/${m}/transform`;
    const body = { target_model_id: physical, target_model_name: 'phys', dw_type: 'SQLITE' };
    await refused(da.put(url(logical), { ...body, dw_type: 'DWS' }), 400, 'DS.6001', 'an unsupported dw_type');
    await refused(
      da.put(url(logical), { target_model_id: physical, dw_type: 'SQLITE' }),
      400,
      'DS.6001',
      'no target_model_name',
    );
    await refused(
      da.put(url(logical), { ...body, target_model_id: pgModel }),
      404,
      'DS.6042',
      'a target for another database',
    );
    await refused(da.put(url('1234567890123456789'), body), 404, 'DS.6042', 'an unknown logical model');
    await refused(da.put(url(logical, 'p-nope'), body), 404, 'DS.6040', 'another project');
    await refused(daViewer.put(url(logical), body), 403, 'DS.6030', 'a viewer');
    await refused(
      da.get(`/v1/${PID}/design/operation-results?operation_type=TRANSFORM_LOGIC_MODEL&operation_id=${foreignModel}`),
      404,
      'DS.6042',
      "another workspace's model",
    );
  });
});
