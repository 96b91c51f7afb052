import assert from 'node:assert/strict';
import { request } from 'node:http';
import { connect } from 'node:net';
import { it } from 'node:test';
import { sseEvents } from '../../src/cli/sse.ts';
import { assertCountersMatchOutcomes, assertEachChangedOnce } from '../helpers/batch-invariants.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { stop, tail, terminate } from '../helpers/processes.ts';
import { httpClient } from '../helpers/service.ts';
import { serve, SIZES, steadyRate, submitOrderAll, suiteDb } from './fixture.ts';
import { waitForBatch } from '../helpers/wait.ts';
import { seedApproved } from '../helpers/worlds.ts';

/**
 * SIGTERM to `batchgate serve` in the middle of everything: a batch running, an event stream open, a large
 * import whose body is still arriving. The import completes, the stream ends cleanly, new connections are
 * refused, the worker's chunk is finished or given back (not left leased until expiry), and the process exits 0;
 * a new process then finishes the batch.
 */

/** From SIGTERM to exit on this loaded machine: the drain waits for the slow import, then one slice at most. */
const EXIT_WITHIN_MS = 20_000;
/** Items in the import that is in flight at SIGTERM: ~150 kB of body. */
const IMPORT_ITEMS = 2_000;

/** An event stream read to its end; `ended` says how: cleanly, or with the error that cut it. */
async function openStream(url: string, token: string) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200);
  const events: any[] = [];
  let first!: () => void;
  const firstEvent = new Promise<void>((r) => (first = r));
  const ended = (async () => {
    try {
      for await (const e of sseEvents(res.body!)) {
        events.push({ event: e.event, ...JSON.parse(e.data) });
        first();
      }
      return 'clean' as const;
    } catch (e) {
      return e as Error;
    }
  })();
  await Promise.race([firstEvent, ended]);
  assert.ok(events.length > 0, 'the stream sent its first event');
  return { events, ended };
}

/** A POST on a connection of its own whose body is sent in two parts: in flight until `finish()`. */
function slowPost(port: number, path: string, token: string, body: string) {
  const bytes = Buffer.from(body);
  const half = Math.floor(bytes.length / 2);
  const req = request({
    host: '127.0.0.1',
    port,
    method: 'POST',
    path,
    agent: false,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': bytes.length },
  });
  const response = new Promise<{ status: number; body: any }>((resolve, reject) => {
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (s: string) => (text += s));
      res.on('end', () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
      res.on('error', reject);
    });
  });
  // Awaited only after SIGTERM: a test failing before that must not leave an unhandled rejection behind.
  response.catch(() => {});
  req.write(bytes.subarray(0, half));
  return { response, finish: () => req.end(bytes.subarray(half)) };
}

/** Resolves once a new TCP connection to the port is refused. */
async function refusedWithin(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const outcome = await new Promise<string>((resolve) => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => (s.destroy(), resolve('accepted')));
      s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    if (outcome === 'ECONNREFUSED') return;
    if (Date.now() > deadline) assert.fail(`new connections still ${outcome} ${ms} ms after SIGTERM`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describeEachDialect('faults: SIGTERM drains the server', (dialect) => {
  const suite = suiteDb(dialect);

  it(
    'finishes in-flight requests, ends event streams, gives the chunk back, exits 0; a new process finishes the batch',
    { timeout: 180_000 },
    async (t) => {
      const db = suite();
      const seeded = await seedApproved(db, SIZES.items);
      const server = await serve(db);
      const api = httpClient(server.base, seeded.token);
      const ws = `/api/v1/workspaces/${seeded.workspaceId}`;
      const batch = await submitOrderAll(api, seeded.workspaceId, { max_rate: steadyRate(SIZES.items) });
      await waitForBatch(db, batch.id, { until: (b) => b.succeeded >= SIZES.items / 4 });

      const stream = await openStream(`${server.base}${ws}/batches/${batch.id}/events`, seeded.token);
      const items = Array.from({ length: IMPORT_ITEMS }, (_, i) => ({
        title: `late ${i}`,
        fields: { vendor: `v${i}`, amount: i },
      }));
      const slow = slowPost(server.port, `${ws}/datastores/pr/items`, seeded.token, JSON.stringify({ items }));
      // The first half has reached the server: the request is in flight.
      await new Promise((r) => setTimeout(r, 300));

      const sigterm = Date.now();
      const exited = terminate(server, EXIT_WITHIN_MS);
      await refusedWithin(server.port, 5_000);
      t.diagnostic(`new connections refused ${Date.now() - sigterm} ms after SIGTERM`);
      slow.finish();
      const imported = await slow.response;
      assert.equal(imported.status, 201, JSON.stringify(imported.body));
      assert.equal(imported.body.ids.length, IMPORT_ITEMS);

      assert.equal(await stream.ended, 'clean', 'the event stream ends, not cut');
      assert.ok(
        stream.events.length >= 1 &&
          stream.events.every((e) => e.total === e.succeeded + e.failed + e.skipped + e.pending),
      );

      const exit = await exited;
      assert.notEqual(exit, 'timeout', `no exit within ${EXIT_WITHIN_MS} ms of SIGTERM:\n${tail(server.stderr())}`);
      assert.deepEqual(exit, { code: 0, signal: null }, tail(server.stdout() + server.stderr()));
      t.diagnostic(`exited 0 ${Date.now() - sigterm} ms after SIGTERM`);

      const leased = await db.ctx.db
        .selectFrom('work_chunk')
        .select(['seq_from', 'lease_owner', 'lease_until'])
        .where('batch_id', '=', batch.id)
        .where('state', '=', 'running')
        .execute();
      assert.deepEqual(leased, [], 'no chunk left leased by the process that drained');
      const mid = await assertCountersMatchOutcomes(db, batch.id);
      assert.equal(mid.state, 'running', 'stopped mid-batch');
      const stored = await db.ctx.db
        .selectFrom('item')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('id', 'in', imported.body.ids)
        .executeTakeFirstOrThrow();
      assert.equal(Number(stored.n), IMPORT_ITEMS, 'the import that was in flight is committed');

      const next = await serve(db, { port: server.port });
      // Given back, the chunk is claimable at once: the rest runs at the batch's rate, no lease to wait out.
      const done = await waitForBatch(db, batch.id, {
        until: (b) => b.state !== 'running' && b.state !== 'queued',
        timeoutMs: 120_000,
        pollMs: 50,
      });
      assert.equal(done.state, 'succeeded', JSON.stringify(done));
      await assertEachChangedOnce(db, seeded.ids, [batch.id]);
      await stop(next, EXIT_WITHIN_MS);
    },
  );
});
