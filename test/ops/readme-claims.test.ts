/**
 * Promises the documentation (README.md, docs/) makes that had no test: each is checked here from outside, on both
 * databases where it
 * applies. A disabled webhook's deliveries wait for it; finished deliveries are pruned after 30 days; a worker
 * finishes its webhook POSTs in flight on SIGTERM; a role change shows on another API process within its cache
 * lifetime; a database or a backup migrated by a newer batchgate is refused; `batchgate worker` refuses SQLite.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { migrate } from '../../src/db/migrate.ts';
import { openDb } from '../../src/db/open-db.ts';
import { makeEngine } from '../../src/engine/engine.ts';
import { exits, runBatchgate } from '../cli/harness.ts';
import { dbEnv } from '../faults/fixture.ts';
import { describeEachDialect, openTestDb } from '../helpers/db.ts';
import { otherProcess, waitForStatus } from '../helpers/other-process.ts';
import { cleanupProcesses, serveProcess, stop, tempDir, waitUntil } from '../helpers/processes.ts';
import { startReceiver, type Receiver } from '../helpers/receiver.ts';
import { httpClient, PURCHASE_DS, startTestService, type Client, type TestService } from '../helpers/service.ts';
import { until, waitForBatch } from '../helpers/wait.ts';

const LOOPBACK = { webhooks: { allowPrivate: true, allowedHosts: null } };
const FAST = { pollMs: 25, backoffBaseMs: 30, backoffMaxMs: 200, timeoutMs: 20_000, maxAttempts: 4 };
const DAY = 86_400_000;

describeEachDialect('README claims', (dialect) => {
  let s: TestService;
  let admin: Client;
  let ws: string;
  const receivers: Receiver[] = [];
  const base = () => `/api/v1/workspaces/${ws}`;

  before(async () => {
    s = await startTestService(dialect, { settings: LOOPBACK, workerOptions: { idlePollMs: 50, webhooks: FAST } });
    admin = (await s.user('owner')).api;
    ws = (await admin.post('/api/v1/workspaces', { name: 'claims' })).body.id;
    assert.equal((await admin.post(`${base()}/datastores`, PURCHASE_DS)).status, 201);
  });
  after(async () => {
    await s.close();
    for (const r of receivers) await r.close();
    await cleanupProcesses();
  });

  async function receiver(answer?: Parameters<typeof startReceiver>[0]): Promise<Receiver> {
    const r = await startReceiver(answer);
    receivers.push(r);
    return r;
  }

  async function hook(url: string, active = true): Promise<string> {
    const r = await admin.post(`${base()}/webhooks`, {
      url,
      events: ['batch.finished'],
      ...(active ? {} : { active: false }),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.id;
  }

  async function finishedBatch(): Promise<string> {
    const ids = (await admin.post(`${base()}/datastores/pr/items`, { items: [{ title: 'x', status: 'approved' }] }))
      .body.ids;
    const r = await admin.post(`${base()}/batches`, { operation: 'action', action: 'order', target: { ids } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    await waitForBatch({ api: admin, ws }, r.body.id);
    return r.body.id;
  }

  const deliveriesOf = async (hookId: string) =>
    (await admin.get(`${base()}/webhooks/${hookId}/deliveries?limit=100`)).body.deliveries as any[];

  it(
    "a disabled webhook's deliveries wait until it is enabled; finished deliveries are pruned after 30 days",
    { timeout: 120_000 },
    async () => {
      // The receiver refuses at first, so the delivery is pending for a retry when its webhook is switched off.
      let refuse = true;
      const off = await receiver(() => (refuse ? { status: 500, body: 'not now' } : { status: 200, body: 'ok' }));
      const offHook = await hook(off.url);
      await finishedBatch();
      await off.waitFor((rs) => rs.length >= 1);
      assert.equal((await admin.patch(`${base()}/webhooks/${offHook}`, { active: false })).status, 200);
      let pending: any;
      await until(
        'the refused delivery pending again',
        async () => ([pending] = await deliveriesOf(offHook))[0].state === 'pending',
      );
      const tries = off.received.length;
      refuse = false;
      // Once its retry is due, an event to an enabled webhook goes out: the delivery loop has claimed past the
      // disabled one's retry (claims take the oldest due first), and left it alone.
      while (Date.now() <= Date.parse(pending.next_attempt_at)) await new Promise((r) => setTimeout(r, 20));
      const on = await receiver();
      const onHook = await hook(on.url);
      const witness = await finishedBatch();
      await on.waitFor((rs) => rs.some((r) => r.json.data.batch?.id === witness));
      assert.equal(off.received.length, tries, 'nothing more sent to the disabled webhook');
      assert.deepEqual(
        (await deliveriesOf(offHook)).map((d) => d.state),
        ['pending'],
      );
      assert.equal((await admin.patch(`${base()}/webhooks/${offHook}`, { active: true })).status, 200);
      await off.waitFor((rs) => rs.length > tries);
      await waitUntilDelivered(offHook);
      await waitUntilDelivered(onHook);

      // A disabled webhook's retry stays pending whatever its age.
      const refusing = await receiver(() => ({ status: 500, body: 'not now' }));
      const waitingHook = await hook(refusing.url);
      await finishedBatch();
      await refusing.waitFor((rs) => rs.length >= 1);
      assert.equal((await admin.patch(`${base()}/webhooks/${waitingHook}`, { active: false })).status, 200);
      await until(
        'the refused delivery pending again',
        async () => (await deliveriesOf(waitingHook))[0].state === 'pending',
      );
      // A worker whose clock is 31 days ahead prunes the finished ones and keeps the pending one.
      const later = await makeEngine({ ...s.db.ctx, now: () => Date.now() + 31 * DAY }, s.db.opened);
      try {
        later.startWorker({ idlePollMs: 50, webhooks: FAST });
        await until(
          'finished deliveries pruned',
          async () => (await deliveriesOf(onHook)).length === 0 && (await deliveriesOf(offHook)).length === 0,
        );
      } finally {
        await later.close();
      }
      assert.deepEqual(
        (await deliveriesOf(waitingHook)).map((d) => d.state),
        ['pending'],
        'a pending delivery is kept',
      );
    },
  );

  async function waitUntilDelivered(hookId: string): Promise<void> {
    await until(`webhook ${hookId} delivered`, async () => {
      const ds = await deliveriesOf(hookId);
      return ds.length > 0 && ds.every((d) => d.state === 'succeeded');
    });
  }

  it('a role change shows on another API process within its cache lifetime', { timeout: 60_000 }, async () => {
    const { user, api } = await s.user('changing', ws, 'member');
    const other = await otherProcess(s);
    try {
      const create = async () =>
        (
          await other.app.inject({
            method: 'POST',
            url: `${base()}/datastores/pr/items`,
            headers: { authorization: `Bearer ${api.token}`, 'content-type': 'application/json' },
            payload: JSON.stringify({ title: 'y' }),
          })
        ).statusCode;
      assert.equal(await create(), 201, 'a member writes (and the other process caches the role)');
      assert.equal((await admin.put(`${base()}/members/${user.id}`, { role: 'viewer' })).status, 200);
      await waitForStatus(create, 403, 'the other process sees the viewer role');
    } finally {
      await other.close();
    }
  });

  it(
    'a database migrated by a newer batchgate is refused, by every start and by batchgate migrate',
    { timeout: 60_000 },
    async () => {
      const db = await openTestDb(dialect);
      try {
        await sql`insert into kysely_migration (name, timestamp) values ('9999-from-a-newer-batchgate', '2099-01-01T00:00:00.000Z')`.execute(
          db.ctx.db,
        );
        await assert.rejects(migrate(db.opened), /migrated by a newer batchgate/);
        const r = exits(await runBatchgate(['migrate'], { env: dbEnv(db) }), 1);
        assert.match(r.stderr, /newer batchgate/);
      } finally {
        await db.close();
      }
    },
  );

  it('a worker finishes its webhook POSTs in flight on SIGTERM', { timeout: 120_000 }, async () => {
    const db = await openTestDb(dialect);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    // The receiver holds its answer until the test lets it go.
    const held = await heldReceiver(released);
    try {
      const server = await serveProcess(
        dbEnv(db, { BATCHGATE_WEBHOOK_ALLOW_PRIVATE: '1', BATCHGATE_ADMIN_TOKEN: 'x'.repeat(40), LOG_LEVEL: 'info' }),
      );
      const root = httpClient(server.base, 'x'.repeat(40));
      const w = (await root.post('/api/v1/workspaces', { name: 'drain' })).body.id;
      assert.equal((await root.post(`/api/v1/workspaces/${w}/datastores`, PURCHASE_DS)).status, 201);
      assert.equal(
        (await root.post(`/api/v1/workspaces/${w}/webhooks`, { url: held.url, events: ['batch.finished'] })).status,
        201,
      );
      const ids = (
        await root.post(`/api/v1/workspaces/${w}/datastores/pr/items`, { items: [{ title: 'z', status: 'approved' }] })
      ).body.ids;
      await root.post(`/api/v1/workspaces/${w}/batches`, { operation: 'action', action: 'order', target: { ids } });
      await held.arrived;
      server.child.kill('SIGTERM');
      await waitUntil('the shutdown log line', server, () => server.stdout().includes('shutting down'));
      assert.equal(server.exited(), false, 'the process waits for the POST in flight');
      release();
      await stop(server, 30_000);
      const rows = await db.ctx.db.selectFrom('webhook_delivery').select('state').execute();
      assert.deepEqual(
        rows.map((r) => r.state),
        ['succeeded'],
        'the POST finished and was recorded before the exit',
      );
    } finally {
      release();
      await held.close();
      await db.close();
    }
  });

  it(
    'batchgate worker refuses SQLite; a backup migrated by a newer batchgate is refused at restore',
    { skip: dialect === 'postgres' ? 'both are about SQLite files' : false, timeout: 180_000 },
    async () => {
      const dir = tempDir('bg-claims-');
      const live = join(dir, 'live.db');
      const refused = exits(await runBatchgate(['worker'], { env: { DATABASE_URL: live } }), 2);
      assert.match(refused.stdout + refused.stderr, /SQLite runs its worker inside `batchgate serve`/);

      const opened = openDb(live);
      await migrate(opened);
      await opened.close();
      const copy = join(dir, 'copy.db');
      exits(await runBatchgate(['backup', copy], { env: { DATABASE_URL: live } }), 0);
      const f = new SqliteDatabase(copy);
      f.prepare(
        `insert into kysely_migration (name, timestamp) values ('9999-from-a-newer-batchgate', '2099-01-01T00:00:00.000Z')`,
      ).run();
      f.close();
      const r = exits(await runBatchgate(['restore', copy], { env: { DATABASE_URL: join(dir, 'target.db') } }), 2);
      assert.match(r.stderr, /newer batchgate/);
    },
  );
});

/** A receiver that answers nothing until `released` resolves; `arrived` resolves with the first request. */
async function heldReceiver(
  released: Promise<void>,
): Promise<{ url: string; arrived: Promise<void>; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  let arrived!: () => void;
  const first = new Promise<void>((r) => (arrived = r));
  const server = createServer((req, res) => {
    req.resume();
    arrived();
    void released.then(() => res.end('ok'));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}/hook`,
    arrived: first,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
