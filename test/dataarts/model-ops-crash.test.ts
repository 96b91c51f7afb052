import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { sql } from 'kysely';
import { createConnection } from '../../src/core/connections/connections.ts';
import { createItems } from '../../src/core/items.ts';
import { getDatastore } from '../../src/core/datastores.ts';
import { createUser } from '../../src/core/users.ts';
import { createWorkspace } from '../../src/core/workspaces.ts';
import { findBatch, type Batch } from '../../src/engine/batches.ts';
import { makeEngine, type Engine } from '../../src/engine/engine.ts';
import { submitReverse } from '../../src/engine/model-ops/submit-model-op.ts';
import { NO_REQUEST } from '../../src/log.ts';
import { describeEachDialect, openTestDb, type TestDb } from '../helpers/db.ts';
import { exited, spawnWorker } from '../helpers/worker-process.ts';
import { newSecretKey, sqliteSource, TEST_CONNECTION_SOURCES } from './model-fixtures.ts';
import { waitForBatch } from '../helpers/wait.ts';

const N = 1000;

describeEachDialect('model operations survive a killed worker', (dialect) => {
  let db: TestDb;
  let engine: Engine;
  const key = newSecretKey();
  before(async () => {
    db = await openTestDb(dialect);
    engine = await makeEngine(
      { ...db.ctx, settings: { ...db.ctx.settings, secretKey: key, connectionSources: TEST_CONNECTION_SOURCES } },
      db.opened,
    );
  });
  after(async () => {
    await engine.close();
    await db.close();
  });

  it(
    `a reverse of ${N} tables with its worker SIGKILLed mid-way creates each entity exactly once`,
    { timeout: 180_000 },
    async () => {
      const src = sqliteSource(N);
      try {
        const ctx = engine.ctx;
        const user = await createUser(ctx, { name: 'u', isSystemAdmin: true });
        const principal = { userId: user.id, name: user.name, isSystemAdmin: true };
        const ws = await createWorkspace(ctx, principal, { name: 'w', project_id: 'p-crash' });
        const access = { principal, workspaceId: ws.id, projectId: 'p-crash', role: 'admin' as const };
        const [model] = await createItems(ctx, access, await getDatastore(ctx, ws.id, 'MODEL'), [
          { title: 'm', fields: { biz_info: { is_physical: true } } },
        ]);
        const conn = await createConnection(ctx, access, { name: 'src', url: src.path });
        const batch = await submitReverse(
          engine,
          access,
          model!,
          { connection_id: conn.id },
          { request: NO_REQUEST, source: 'native', projectId: 'p-crash' },
        );

        const env = {
          BATCHGATE_SECRET_KEY: key.toString('hex'),
          BATCHGATE_CONNECTION_SOURCES: TEST_CONNECTION_SOURCES.join(','),
        };
        const waitFor = (until: (b: Batch) => boolean) =>
          waitForBatch({ ctx }, batch.id, { until, timeoutMs: 120_000 });
        for (const killAt of [200, 550]) {
          const w = await spawnWorker(db, env);
          await waitFor((b) => b.succeeded >= killAt);
          w.kill('SIGKILL');
          await exited(w);
          assert.ok((await findBatch(ctx, batch.id))!.pending > 0, 'killed before the end');
        }
        const w = await spawnWorker(db, env);
        const done = await waitFor((b) => b.state !== 'running' && b.state !== 'queued');
        w.kill('SIGTERM');
        await exited(w);
        assert.deepEqual([done.state, done.succeeded, done.failed], ['succeeded', N, 0]);

        const tableDs = await getDatastore(ctx, ws.id, 'TABLE_MODEL');
        const entities = await ctx.db
          .selectFrom('item')
          .select(['id', 'title'])
          .where('datastore_id', '=', tableDs.id)
          .where(sql<boolean>`${ctx.caps.jsonPathText('item.fields', ['biz_info', 'model_id'])} = ${model!}`)
          .execute();
        assert.equal(entities.length, N, 'one entity per table');
        assert.equal(new Set(entities.map((e) => e.title)).size, N, 'no table twice');
        const creates = await ctx.db
          .selectFrom('item_history')
          .select(['item_id', (eb) => eb.fn.countAll<number>().as('n')])
          .where('batch_id', '=', batch.id)
          .groupBy('item_id')
          .execute();
        assert.equal(creates.length, N);
        assert.ok(
          creates.every((c) => Number(c.n) === 1),
          'each entity created once',
        );
      } finally {
        src.close();
      }
    },
  );
});
