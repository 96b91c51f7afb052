import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { readConfig } from '../../src/config.ts';
import { createDatastore } from '../../src/core/datastores.ts';
import { createItems } from '../../src/core/items.ts';
import { makeCtx } from '../../src/core/make-ctx.ts';
import { createUser } from '../../src/core/users.ts';
import { createWorkspace } from '../../src/core/workspaces.ts';
import { migrate } from '../../src/db/migrate.ts';
import { openDb, type OpenDb } from '../../src/db/open-db.ts';
import { findBatch } from '../../src/engine/batches.ts';
import { makeEngine, type Engine } from '../../src/engine/engine.ts';
import { submitBatch } from '../../src/engine/submit.ts';
import { createService } from '../../src/server.ts';
import { exits, runBatchgate } from '../cli/harness.ts';
import { describeEachDialect, PG_URL } from '../helpers/db.ts';
import { makeClient, PURCHASE_DS } from '../helpers/service.ts';
import { waitForBatch } from '../helpers/wait.ts';

const ADMIN = 'backup-test-admin-token-0123456789ab';

/** What a consistent copy must show for one batch: its counters, its outcome rows and the item changes agree. */
async function batchFacts(opened: OpenDb, batchId: string) {
  const db = opened.db;
  const b = (await findBatch(makeCtx(opened), batchId))!;
  const outcomes = await db
    .selectFrom('batch_item')
    .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
    .where('batch_id', '=', batchId)
    .groupBy('state')
    .execute();
  const history = await db
    .selectFrom('item_history')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('batch_id', '=', batchId)
    .executeTakeFirstOrThrow();
  const moved = await db
    .selectFrom('item')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('rev_no', '=', 2)
    .executeTakeFirstOrThrow();
  const byState = Object.fromEntries(outcomes.map((o) => [o.state, Number(o.n)]));
  return {
    state: b.state,
    succeeded: b.succeeded,
    pending: b.pending,
    outcomesSucceeded: byState.succeeded ?? 0,
    history: Number(history.n),
    moved: Number(moved.n),
  };
}

function integrity(file: string): string {
  const db = new SqliteDatabase(file, { readonly: true });
  try {
    return db.pragma('integrity_check', { simple: true }) as string;
  } finally {
    db.close();
  }
}

describeEachDialect('backup and restore', (dialect) => {
  if (dialect === 'postgres') {
    it('answers that pg_dump and pg_restore are the tools on PostgreSQL, exit 2, touching nothing', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'bg-pgbackup-'));
      try {
        const backup = exits(await runBatchgate(['backup', join(dir, 'x.db')], { env: { DATABASE_URL: PG_URL } }), 2);
        assert.match(backup.stderr, /backup is for the SQLite database.*pg_dump/);
        const restore = exits(await runBatchgate(['restore', join(dir, 'x.db')], { env: { DATABASE_URL: PG_URL } }), 2);
        assert.match(restore.stderr, /restore is for the SQLite database.*pg_restore/);
        assert.ok(!existsSync(join(dir, 'x.db')));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
    return;
  }

  let dir: string;
  let live: string;
  let opened: OpenDb | undefined;
  let engine: Engine | undefined;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'bg-backup-'));
    live = join(dir, 'live.db');
  });
  after(async () => {
    await engine?.close();
    await opened?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(
    'backs up while a batch writes; the copy is consistent, restores, and runs batches as a fresh service',
    { timeout: 120_000 },
    async () => {
      opened = openDb(live);
      await migrate(opened);
      // The engine's clock is the test's: under the batch's rate limit the worker runs a slice only when the clock
      // has moved on, and until the backup has ended it moves at most 30 slices' worth (3,000 of the 4,000 items).
      // So the batch is still writing when the backup ends whatever the machine's speed, and the clock runs free
      // after it.
      let virtual = Date.now();
      let skew: number | null = null;
      let slicesLeft = 30;
      const ticker = setInterval(() => {
        if (slicesLeft > 0) {
          virtual += 250;
          slicesLeft--;
        }
      }, 20).unref();
      const ctx = { ...makeCtx(opened), now: () => (skew === null ? virtual : Date.now() + skew) };
      const freeClock = () => {
        clearInterval(ticker);
        skew = virtual - Date.now();
      };
      const user = await createUser(ctx, { name: 'u', isSystemAdmin: true });
      const principal = { userId: user.id, name: user.name, isSystemAdmin: true };
      const ws = await createWorkspace(ctx, principal, { name: 'w' });
      const ds = await createDatastore(ctx, ws.id, PURCHASE_DS as never);
      const access = { principal, workspaceId: ws.id, projectId: null, role: 'admin' as const };
      const ids = await createItems(
        ctx,
        access,
        ds,
        Array.from({ length: 4000 }, (_, i) => ({ title: `i${i}`, status: 'approved' })),
      );
      // 400 items/s: a slice of 100 every quarter second of the engine's clock.
      const { batch } = await submitBatch(
        ctx,
        { principal, workspaceId: ws.id, role: 'admin' },
        { operation: 'action', action: 'order', target: { ids }, max_rate: 400 },
      );
      engine = await makeEngine(ctx, opened);
      // A short lease: the copy holds a chunk leased to this worker, which the restored service must reclaim.
      engine.startWorker({ leaseMs: 1500, idlePollMs: 20 });
      await waitForBatch({ ctx }, batch.id, { until: (b) => b.succeeded >= 200, pollMs: 20 });

      const copy = join(dir, 'copy.db');
      const before = (await findBatch(ctx, batch.id))!.succeeded;
      const out = exits(await runBatchgate(['backup', copy, '--json'], { env: { DATABASE_URL: live } }), 0);
      const after = (await findBatch(ctx, batch.id))!.succeeded;
      assert.ok(after < 4000, 'the batch was still writing when the backup ended');
      freeClock();
      const summary = JSON.parse(out.stdout);
      assert.equal(summary.integrity, 'ok');
      assert.equal(summary.counts.items, 4000);
      assert.equal(integrity(copy), 'ok');
      assert.ok(!existsSync(`${copy}-wal`) && !existsSync(`${copy}-shm`), 'one self-contained file');
      exits(await runBatchgate(['backup', copy], { env: { DATABASE_URL: live } }), 2);

      // Restoring over a database the service still has open is refused, and changes nothing.
      const refused = exits(await runBatchgate(['restore', copy], { env: { DATABASE_URL: live } }), 2);
      assert.match(refused.stderr, /in use by another process/);
      await waitForBatch({ ctx }, batch.id, { states: ['succeeded'], timeoutMs: 30_000, pollMs: 25 });
      assert.equal((await batchFacts(opened, batch.id)).moved, 4000, 'the live database went on');
      await engine.close();
      await opened.close();
      engine = opened = undefined;

      const restored = exits(await runBatchgate(['restore', copy, '--json'], { env: { DATABASE_URL: live } }), 0);
      const r = JSON.parse(restored.stdout);
      assert.match(r.previous, /live\.db\.before-restore-/);
      assert.ok(existsSync(r.previous), 'the replaced database is kept');

      // The restored database: nothing to migrate, whole, and exactly what had committed when the backup read it.
      opened = openDb(live);
      assert.deepEqual(await migrate(opened), []);
      assert.equal(integrity(live), 'ok');
      const facts = await batchFacts(opened, batch.id);
      assert.equal(facts.state, 'running');
      assert.ok(facts.succeeded >= before && facts.succeeded <= after, `${before} <= ${facts.succeeded} <= ${after}`);
      assert.equal(facts.succeeded % 100, 0, 'whole slices only');
      assert.equal(facts.outcomesSucceeded, facts.succeeded);
      assert.equal(facts.history, facts.succeeded);
      assert.equal(facts.moved, facts.succeeded);
      assert.equal(facts.pending, 4000 - facts.succeeded);
      await opened.close();
      opened = undefined;

      // A fresh service on it finishes the batch (reclaiming the lease the backup caught) and runs a new one.
      const service = await createService(
        { ...readConfig({}), databaseUrl: live, adminToken: ADMIN, demo: false, logLevel: 'silent' },
        { listen: false },
      );
      try {
        const api = makeClient(service.app, ADMIN);
        assert.equal(
          (await api.post(`/api/v1/workspaces/${ws.id}/batches/${batch.id}/rethrottle`, { max_rate: null })).status,
          200,
        );
        const done = await waitForBatch({ api, ws: ws.id }, batch.id, { timeoutMs: 60_000 });
        assert.equal(done.state, 'succeeded');
        const again = await batchFacts(service.opened, batch.id);
        assert.deepEqual(
          [again.succeeded, again.history, again.moved],
          [4000, 4000, 4000],
          'every item changed exactly once',
        );
        const next = await api.post(`/api/v1/workspaces/${ws.id}/batches`, {
          operation: 'action',
          action: 'reopen',
          target: { ids: ids.slice(0, 100) },
        });
        assert.equal(next.status, 202);
        assert.equal((await waitForBatch({ api, ws: ws.id }, next.body.id)).succeeded, 100);
      } finally {
        await service.close();
      }
    },
  );

  it('refuses a backup that is not a whole batchgate database, before touching the target', async () => {
    const target = join(dir, 'target.db');
    const t = openDb(target);
    await migrate(t);
    await t.close();
    const garbage = join(dir, 'garbage.db');
    writeFileSync(garbage, 'not a database at all, just text'.repeat(200));
    assert.match(
      exits(await runBatchgate(['restore', garbage], { env: { DATABASE_URL: target } }), 2).stderr,
      /not a readable SQLite database/,
    );
    const foreign = join(dir, 'foreign.db');
    const f = new SqliteDatabase(foreign);
    f.exec('create table t (x)');
    f.close();
    assert.match(
      exits(await runBatchgate(['restore', foreign], { env: { DATABASE_URL: target } }), 2).stderr,
      /not a batchgate database/,
    );
    assert.match(
      exits(await runBatchgate(['restore', join(dir, 'missing.db')], { env: { DATABASE_URL: target } }), 2).stderr,
      /does not exist/,
    );
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('target.db.')),
      [],
      'nothing staged, nothing moved aside',
    );
    assert.equal(integrity(target), 'ok');
  });
});
