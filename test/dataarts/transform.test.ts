import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { describeEachDialect, PG_URL } from '../helpers/db.ts';
import { startTestService, type Client, type TestService } from '../helpers/service.ts';
import { dataartsClient, type DataartsClient } from './helpers.ts';
import { drive, newSecretKey, tableModelsOf, TEST_CONNECTION_SOURCES } from './model-fixtures.ts';

const PID = 'p-transform';
const N = 50;
const pad = (i: number) => String(i).padStart(3, '0');

/** Every logical type once, with the physical type each database gets (docs/dataarts.md, Type mapping). */
const TYPES: [logical: string, postgres: string, sqlite: string][] = [
  ['STRING(40)', 'character varying(40)', 'VARCHAR(40)'],
  ['STRING', 'character varying', 'VARCHAR'],
  ['TEXT', 'text', 'TEXT'],
  ['INT', 'integer', 'INTEGER'],
  ['SMALLINT', 'smallint', 'SMALLINT'],
  ['DECIMAL(12,3)', 'numeric(12,3)', 'DECIMAL(12,3)'],
  ['FLOAT', 'real', 'FLOAT'],
  ['DOUBLE', 'double precision', 'DOUBLE'],
  ['BOOLEAN', 'boolean', 'BOOLEAN'],
  ['DATE', 'date', 'DATE'],
  ['TIME', 'time without time zone', 'TIME'],
  ['TIMESTAMP', 'timestamp without time zone', 'TIMESTAMP'],
  ['TIMESTAMPTZ', 'timestamp with time zone', 'TIMESTAMP'],
  ['BINARY', 'bytea', 'BLOB'],
  ['JSON', 'jsonb', 'TEXT'],
  ['UUID', 'uuid', 'TEXT'],
];

/** Entity i: a BIGINT key and one attribute of each logical type (aliases on odd ones), comments on some. */
function logicalEntity(modelId: string, i: number) {
  return {
    title: `Entity ${i}`,
    fields: {
      biz_info: {
        model_id: modelId,
        tb_name: `e${pad(i)}`,
        description: i % 2 ? null : `entity ${i}'s table`,
        attributes: [
          { name_en: 'id', data_type: 'BIGINT', is_primary_key: true },
          ...TYPES.map(([t], k) => ({
            name_en: `c${k}`,
            data_type: i % 2 && t === 'INT' ? 'integer' : t,
            not_null: k % 3 === 0,
            ...(k === 0 ? { description: `column of ${i}` } : {}),
          })),
        ],
      },
    },
  };
}

describeEachDialect('DataArts TRANSFORM_LOGIC_MODEL: a logical model into a physical one', (dialect) => {
  let s: TestService;
  let api: Client;
  let da: DataartsClient;
  let ws: string;
  let logic: string;
  let entityIds: string[];
  let physical: string;
  let firstBatch: string;
  /** The PostgreSQL DDL of the physical model, as the preview gave it. */
  let pgDdl: string;
  const base = () => `/api/v1/workspaces/${ws}`;
  const transformUrl = (id: string) => `/v1/${PID}/design/workspaces/${id}/transform`;

  before(async () => {
    s = await startTestService(dialect, {
      worker: false,
      settings: { secretKey: newSecretKey(), connectionSources: TEST_CONNECTION_SOURCES },
    });
    api = s.root;
    ws = (await api.post('/api/v1/workspaces', { name: 'T', project_id: PID })).body.id;
    da = dataartsClient(s, api.token, ws);
    logic = (
      await api.post(`${base()}/datastores/MODEL/items`, {
        title: 'logical',
        fields: { biz_info: { is_physical: false } },
      })
    ).body.id;
    const imported = await api.post(`${base()}/datastores/TABLE_MODEL_LOGIC/items`, {
      items: Array.from({ length: N }, (_, i) => logicalEntity(logic, i)),
    });
    assert.equal(imported.status, 201, JSON.stringify(imported.body));
    entityIds = imported.body.ids;
  });
  after(() => s.close());

  const results = async (opId: string, limit = 100) => {
    const r = await da.get(
      `/v1/${PID}/design/operation-results?operation_type=TRANSFORM_LOGIC_MODEL&operation_id=${opId}&limit=${limit}`,
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.data.value;
  };
  const tablesOf = (modelId: string) => tableModelsOf(s, ws, modelId);

  it(`transforms a ${N}-entity logical model through the DataArts route; excluded entities are skipped by users`, async () => {
    const ids = entityIds.filter((_, i) => i !== 3 && i !== 4);
    const r = await da.put(transformUrl(logic), {
      target_model_name: 'physical',
      dw_type: 'POSTGRESQL',
      ids,
      description: 'from logical',
      update_exist_tables: false,
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const vo = r.body.data.value;
    assert.deepEqual(Object.keys(vo), [
      'id',
      'name',
      'description',
      'is_physical',
      'frequent',
      'top',
      'level',
      'dw_type',
      'create_time',
      'update_time',
      'create_by',
      'update_by',
      'type',
      'biz_catalog_ids',
      'databases',
      'table_model_prefix',
    ]);
    assert.deepEqual(
      [vo.name, vo.is_physical, vo.dw_type, vo.description, vo.type, vo.create_by],
      ['physical', true, 'POSTGRESQL', 'from logical', 'THIRD_NF', 'root'],
    );
    assert.match(vo.create_time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    physical = vo.id;

    const running = await results(logic);
    assert.equal(running.operation_status, 'RUNNING');
    assert.equal(running.total, N);
    firstBatch = running.group_id;
    const b = await drive(s, firstBatch);
    assert.deepEqual([b.state, b.succeeded, b.skipped, b.failed], ['succeeded', N - 2, 2, 0]);

    const done = await results(logic);
    assert.deepEqual(
      [done.operation_status, done.total, done.success, done.failed, done.rate],
      ['SUCCESS', N, N, 0, '1.00'],
    );
    const tables = await tablesOf(physical);
    assert.equal(tables.size, N - 2);
    for (const [i, child] of done.groups.entries()) {
      assert.equal(child.biz_name, `Entity ${i}`);
      assert.equal(child.operation_type, 'TRANSFORM_LOGIC_MODEL');
      if (i === 3 || i === 4)
        assert.deepEqual(
          [child.remark, child.operation_status, child.biz_id],
          ['SKIP | Skipped by users', 'SUCCESS', null],
        );
      else assert.deepEqual([child.remark, child.biz_id], ['PASSED', tables.get(`e${pad(i)}`)!.id]);
    }

    // Each logical type mapped to PostgreSQL's; a key is NOT NULL; comments kept.
    const e0 = tables.get('e000')!.info;
    assert.equal(e0.description, "entity 0's table");
    assert.equal(e0.dw_type, 'POSTGRESQL');
    assert.deepEqual(e0.source, {
      operation: 'TRANSFORM_LOGIC_MODEL',
      logic_model_id: logic,
      logic_entity_id: entityIds[0],
    });
    assert.deepEqual(e0.attributes[0], {
      name_en: 'id',
      data_type: 'bigint',
      logic_type: 'BIGINT',
      not_null: true,
      is_primary_key: true,
      ordinal: 1,
      description: null,
    });
    assert.deepEqual(
      e0.attributes.slice(1).map((a: any) => [a.name_en, a.logic_type, a.data_type, a.not_null]),
      TYPES.map(([l, p], k) => [`c${k}`, l, p, k % 3 === 0]),
    );
    assert.equal(e0.attributes[1].description, 'column of 0');
    assert.equal(
      tables.get('e001')!.info.attributes.find((a: any) => a.name_en === 'c3').logic_type,
      'INT',
      'an alias is normalised',
    );

    const native = await api.get(`${base()}/batches/${firstBatch}`);
    assert.deepEqual(
      [
        native.body.operation,
        native.body.source,
        native.body.model_operation.logic_model_id,
        native.body.model_operation.excluded,
      ],
      ['transform_model', 'dataarts', logic, 2],
    );
  });

  it(
    'previews DDL for PostgreSQL and SQLite; SQLite runs its DDL, and reversing it gives the same model back',
    { timeout: 120_000 },
    async () => {
      const ddl = await api.get(`${base()}/models/${physical}/ddl`);
      pgDdl = ddl.body.sql;
      assert.equal(ddl.status, 200, JSON.stringify(ddl.body));
      assert.equal(ddl.body.dw_type, 'POSTGRESQL');
      assert.equal(ddl.body.tables, N - 2);
      const creates = ddl.body.statements.filter((x: string) => x.startsWith('CREATE TABLE'));
      assert.equal(creates.length, N - 2);
      assert.ok(
        creates[0].startsWith('CREATE TABLE "e000" (\n  "id" bigint NOT NULL,\n  "c0" character varying(40) NOT NULL,'),
        creates[0],
      );
      assert.ok(creates[0].endsWith('  PRIMARY KEY ("id")\n)'));
      assert.ok(ddl.body.statements.includes(`COMMENT ON TABLE "e000" IS 'entity 0''s table'`));
      assert.ok(ddl.body.statements.includes(`COMMENT ON COLUMN "e000"."c0" IS 'column of 0'`));

      const lite = await api.get(`${base()}/models/${physical}/ddl?dw_type=SQLITE`);
      assert.equal(lite.body.statements.length, N - 2, 'SQLite keeps no comments');
      assert.ok(lite.body.statements[0].includes('"c12" TIMESTAMP') && lite.body.statements[0].includes('"c14" TEXT'));

      // SQLite runs its DDL; reversing that database gives the same tables back (through SQLite's own types).
      const dir = mkdtempSync(join(tmpdir(), 'bg-ddl-'));
      try {
        const file = join(dir, 'ddl.db');
        const db = new SqliteDatabase(file);
        db.exec(lite.body.sql);
        db.close();
        const conn = (await api.post(`${base()}/connections`, { name: 'ddl-lite', url: file })).body.id;
        const back = (
          await api.post(`${base()}/datastores/MODEL/items`, {
            title: 'back-lite',
            fields: { biz_info: { is_physical: true, dw_type: 'SQLITE' } },
          })
        ).body.id;
        const rev = await api.post(`${base()}/models/${back}/reverse`, { connection_id: conn });
        assert.equal((await drive(s, rev.body.id)).succeeded, N - 2);
        const got = (await tablesOf(back)).get('e000')!.info.attributes;
        const sqliteLogical: Record<string, string> = { TIMESTAMPTZ: 'TIMESTAMP', JSON: 'TEXT', UUID: 'TEXT' };
        assert.deepEqual(
          got.slice(1).map((a: any) => [a.name_en, a.data_type, a.logic_type, a.not_null]),
          TYPES.map(([l, , t], k) => [`c${k}`, t, sqliteLogical[l] ?? l, k % 3 === 0]),
        );
        assert.deepEqual(got[0], {
          name_en: 'id',
          data_type: 'BIGINT',
          logic_type: 'BIGINT',
          not_null: true,
          is_primary_key: true,
          ordinal: 1,
          description: null,
        });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it(
    'PostgreSQL runs its DDL, and reversing it gives every column, type and comment back',
    { timeout: 120_000, skip: !PG_URL && 'TEST_PG_URL is not set: this needs a PostgreSQL server' },
    async () => {
      assert.ok(pgDdl, 'the preview test ran first');
      // In a schema of our own on the test server.
      const schema = `ddl_${randomBytes(5).toString('hex')}`;
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      try {
        await c.query(`create schema ${schema}; set search_path = ${schema}; ${pgDdl}`);
        const conn = (await api.post(`${base()}/connections`, { name: 'ddl-pg', url: PG_URL, schema })).body.id;
        const back = (
          await api.post(`${base()}/datastores/MODEL/items`, {
            title: 'back-pg',
            fields: { biz_info: { is_physical: true } },
          })
        ).body.id;
        const rev = await api.post(`${base()}/models/${back}/reverse`, { connection_id: conn });
        assert.equal((await drive(s, rev.body.id)).succeeded, N - 2);
        const original = await tablesOf(physical);
        const reversed = await tablesOf(back);
        assert.equal(reversed.size, N - 2);
        const shape = (info: any) => ({
          tb_name: info.tb_name,
          description: info.description,
          attributes: info.attributes,
        });
        for (const [name, t] of original) assert.deepEqual(shape(reversed.get(name)!.info), shape(t.info), name);
      } finally {
        await c.query(`drop schema if exists ${schema} cascade`);
        await c.end();
      }
    },
  );

  it('reruns idempotently: unchanged entities are skipped; a changed one is skipped or updated per update_exist_tables', async () => {
    const before = await tablesOf(physical);
    const again = await da.put(transformUrl(logic), {
      target_model_name: 'physical',
      dw_type: 'POSTGRESQL',
      ids: entityIds.filter((_, i) => i !== 3 && i !== 4),
    });
    assert.equal(again.body.data.value.id, physical, 'the target found by name, not created again');
    const b = await drive(s, (await results(logic)).group_id);
    assert.deepEqual([b.succeeded, b.skipped], [0, N]);
    assert.deepEqual(await tablesOf(physical), before);
    assert.match((await results(logic)).groups[0].remark, /^SKIP \| Table "e000" is unchanged \(TABLE_MODEL \d+\)\.$/);

    // Entity 5 gains an attribute.
    const e5 = (await api.get(`${base()}/items/${entityIds[5]}`)).body;
    const info = {
      ...e5.fields.biz_info,
      attributes: [...e5.fields.biz_info.attributes, { name_en: 'added', data_type: 'DATE' }],
    };
    assert.equal((await api.patch(`${base()}/items/${entityIds[5]}`, { fields: { biz_info: info } })).status, 200);
    await da.put(transformUrl(logic), {
      target_model_id: physical,
      target_model_name: 'ignored when the id is given',
      dw_type: 'POSTGRESQL',
    });
    const kept = await results(logic);
    assert.equal(kept.groups[5].operation_status, 'RUNNING');
    await drive(s, kept.group_id);
    const kept2 = await results(logic);
    assert.equal(
      kept2.groups[5].remark,
      `SKIP | Table "e005" exists (TABLE_MODEL ${before.get('e005')!.id}) and differs; not updated (update_exist_tables is false).`,
    );
    // Without `ids` every entity is transformed: 3 and 4 are created now.
    assert.deepEqual([kept2.success, (await tablesOf(physical)).size], [N, N]);

    await da.put(transformUrl(logic), {
      target_model_id: physical,
      target_model_name: 'physical',
      dw_type: 'POSTGRESQL',
      update_exist_tables: true,
    });
    const upd = await results(logic);
    const u = await drive(s, upd.group_id);
    assert.deepEqual([u.succeeded, u.skipped], [1, N - 1]);
    const after = await tablesOf(physical);
    assert.equal(after.size, N, 'no duplicates');
    assert.equal(after.get('e005')!.id, before.get('e005')!.id);
    assert.equal(after.get('e005')!.info.attributes.at(-1).data_type, 'date');
    const h = (await api.get(`${base()}/items/${before.get('e005')!.id}`)).body.history;
    assert.deepEqual(
      h.map((x: any) => [x.kind, x.batch_id]),
      [
        ['create', firstBatch],
        ['update', upd.group_id],
      ],
    );
  });

  it('a PUBLISHED table gets the change as its pending edit; the next run finds it unchanged', async () => {
    const e6 = (await tablesOf(physical)).get('e006')!;
    const pub = await da.post(`/v2/${PID}/design/approvals/batch-publish`, {
      biz_infos: [{ biz_id: e6.id, biz_type: 'TABLE_MODEL' }],
      approver_user_id: s.admin.id,
      approver_user_name: 'root',
      fast_approval: true,
    });
    assert.equal(pub.body.data.value.operation_status, 'SUCCESS', JSON.stringify(pub.body));
    const item = (await api.get(`${base()}/items/${entityIds[6]}`)).body;
    const info = { ...item.fields.biz_info, description: 'edited after publish' };
    await api.patch(`${base()}/items/${entityIds[6]}`, { fields: { biz_info: info } });
    await da.put(transformUrl(logic), {
      target_model_id: physical,
      target_model_name: 'physical',
      dw_type: 'POSTGRESQL',
      update_exist_tables: true,
    });
    const run = await results(logic);
    assert.deepEqual([(await drive(s, run.group_id)).succeeded], [1]);
    const published = (await api.get(`${base()}/items/${e6.id}`)).body;
    assert.equal(published.status, 'PUBLISHED');
    assert.equal(published.fields.biz_info.description, "entity 6's table", 'the released definition is unchanged');
    assert.equal(published.draft.fields.biz_info.description, 'edited after publish');
    await da.put(transformUrl(logic), {
      target_model_id: physical,
      target_model_name: 'physical',
      dw_type: 'POSTGRESQL',
      update_exist_tables: true,
    });
    const again = await results(logic);
    assert.deepEqual([(await drive(s, again.group_id)).skipped], [N]);
  });

  it('two first transforms with one Idempotency-Key at once create one target model and one batch', async () => {
    const name = `raced target ${dialect}`;
    const send = () =>
      api.post(
        `${base()}/models/${logic}/transform`,
        { target_model_name: name, dw_type: 'POSTGRESQL' },
        { 'idempotency-key': `race-${dialect}` },
      );
    const answers = await Promise.all([send(), send(), send(), send()]);
    for (const a of answers) assert.equal(a.status, 202, JSON.stringify(a.body));
    assert.equal(new Set(answers.map((a) => a.body.batch.id)).size, 1, 'one batch');
    assert.equal(new Set(answers.map((a) => a.body.target_model.id)).size, 1, 'one target model in every answer');
    const models = await s.db.ctx.db
      .selectFrom('item')
      .innerJoin('datastore', 'datastore.id', 'item.datastore_id')
      .select('item.id')
      .where('datastore.display_id', '=', 'MODEL')
      .where('item.title', '=', name)
      .execute();
    assert.equal(models.length, 1, 'no model left behind by the requests that lost');
  });

  it('native transform into a SQLite model; bad entities fail as their own items with the reason', async () => {
    const logic2 = (
      await api.post(`${base()}/datastores/MODEL/items`, {
        title: 'logical 2',
        fields: { biz_info: { is_physical: false } },
      })
    ).body.id;
    const bad = await api.post(`${base()}/datastores/TABLE_MODEL_LOGIC/items`, {
      items: [
        {
          title: 'good',
          fields: {
            biz_info: { model_id: logic2, attributes: [{ name_en: 'k', data_type: 'INT', is_primary_key: true }] },
          },
        },
        {
          title: 'money',
          fields: { biz_info: { model_id: logic2, attributes: [{ name_en: 'm', data_type: 'MONEY' }] } },
        },
        { title: 'empty', fields: { biz_info: { model_id: logic2, attributes: [] } } },
        {
          title: 'x'.repeat(70),
          fields: { biz_info: { model_id: logic2, attributes: [{ name_en: 'k', data_type: 'INT' }] } },
        },
      ],
    });
    const lite = (
      await api.post(`${base()}/datastores/MODEL/items`, {
        title: 'lite',
        fields: { biz_info: { is_physical: true, dw_type: 'SQLITE' } },
      })
    ).body.id;
    const r = await api.post(`${base()}/models/${logic2}/transform`, { target_model_id: lite, dw_type: 'SQLITE' });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.equal(r.body.target_model.id, lite);
    assert.equal(r.body.batch.model_operation.dw_type, 'SQLITE');
    const b = await drive(s, r.body.batch.id);
    // A 70-character name is fine in SQLite; PostgreSQL would truncate it.
    assert.deepEqual([b.state, b.succeeded, b.failed], ['completed_with_errors', 2, 2]);
    const items = (await api.get(`${base()}/batches/${b.id}/items`)).body.items;
    assert.deepEqual(
      items.map((i: any) => [i.target_id, i.state, i.error_code]),
      [
        [bad.body.ids[0], 'succeeded', null],
        [bad.body.ids[1], 'failed', 'UNSUPPORTED_TYPE'],
        [bad.body.ids[2], 'failed', 'VALIDATION_FAILED'],
        [bad.body.ids[3], 'succeeded', null],
      ],
    );
    assert.match(items[1].error_message, /"MONEY" is not a logical data type/);
    const ddl = await api.get(`${base()}/models/${lite}/ddl`);
    assert.deepEqual(ddl.body.statements, [
      `CREATE TABLE "good" (\n  "k" INTEGER NOT NULL,\n  PRIMARY KEY ("k")\n)`,
      `CREATE TABLE "${'x'.repeat(70)}" (\n  "k" INTEGER\n)`,
    ]);

    const pgTarget = await api.post(`${base()}/models/${logic2}/transform`, {
      target_model_name: 'pg 2',
      dw_type: 'POSTGRESQL',
    });
    const p = await drive(s, pgTarget.body.batch.id);
    const long = (await api.get(`${base()}/batches/${p.id}/items`)).body.items[3];
    assert.deepEqual([long.state, long.error_code], ['failed', 'VALIDATION_FAILED']);
    assert.match(long.error_message, /longer than 63 bytes, the longest POSTGRESQL identifier/);
  });
});
