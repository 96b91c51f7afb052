import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { buildApp } from '../../src/api/app.ts';
import { sendBatchApprovalError } from '../../src/api/batch-approvals/index.ts';
import { sendDataartsError } from '../../src/api/dataarts/ds-errors.ts';
import { sendHexabaseError } from '../../src/api/hexabase/errors.ts';
import type { App } from '../../src/api/types.ts';
import { makeCtx } from '../../src/core/make-ctx.ts';
import { issueToken } from '../../src/core/tokens.ts';
import { createUser } from '../../src/core/users.ts';
import { makeEngine, type Engine } from '../../src/engine/engine.ts';
import { makeLogger } from '../../src/log.ts';
import { describeEachDialect, openTestDb, type TestDb } from '../helpers/db.ts';
import { captureLogs, type CapturedLogs } from '../helpers/logs.ts';
import { makeClient, PURCHASE_DS, type Client } from '../helpers/service.ts';
import { waitForBatch } from '../helpers/wait.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type ErrorSender = (err: unknown, req: FastifyRequest, reply: FastifyReply) => FastifyReply;

/** A route that fails with a bug, inside a plugin answering in the given dialect's envelope. */
const BOOM_ROUTES: [string, ErrorSender | null][] = [
  ['/test/native/boom', null],
  ['/test/dataarts/boom', sendDataartsError],
  ['/test/batch-approvals/boom', sendBatchApprovalError],
  ['/test/hexabase/boom', sendHexabaseError],
];

describeEachDialect('request ids and engine lines in the logs', (dialect) => {
  let db: TestDb;
  let logs: CapturedLogs;
  let engine: Engine;
  let app: App;
  let root: Client;
  let ws: string;

  const linesOf = (requestId: string) => logs.lines().filter((l) => l.request_id === requestId);
  const get = (url: string, headers: Record<string, string> = {}) =>
    app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${root.token}`, ...headers } });

  before(async () => {
    logs = captureLogs();
    db = await openTestDb(dialect);
    const log = makeLogger({ level: 'debug', destination: logs.destination });
    const ctx = makeCtx(db.opened, log);
    engine = await makeEngine(ctx, db.opened);
    engine.startWorker({ idlePollMs: 50 });
    app = await buildApp({ ctx, engine, logger: log });
    for (const [url, sender] of BOOM_ROUTES) {
      await app.register(async (p: App) => {
        if (sender) p.setErrorHandler(sender);
        p.get(url, { schema: { hide: true } }, async () => {
          throw new Error('kaboom: a bug');
        });
      });
    }
    await app.ready();
    const admin = await createUser(ctx, { name: 'root', isSystemAdmin: true });
    root = makeClient(app, await issueToken(ctx, admin.id));
    ws = (await root.post('/api/v1/workspaces', { name: 'L' })).body.id;
    assert.equal((await root.post(`/api/v1/workspaces/${ws}/datastores`, PURCHASE_DS)).status, 201);
  });
  after(async () => {
    await app.close();
    await engine.close();
    await db.close();
  });

  it('keeps a sane x-request-id, echoes it and logs it on every line of the request', async () => {
    const id = 'Root=1-5759e988-bd862e3f:trace_7.x/y+z';
    const r = await get('/api/v1/me', { 'x-request-id': id });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['x-request-id'], id);
    const lines = linesOf(id);
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['incoming request', 'request completed'],
    );
    const done = lines[1]!;
    assert.equal(done.level, 30, 'one info line per request');
    assert.equal(done.route, '/api/v1/me');
    assert.equal(done.res.statusCode, 200);
    assert.equal(done.req.method, 'GET');
    assert.equal(typeof done.responseTime, 'number');
  });

  it('replaces a missing or unsafe request id with a fresh UUID', async () => {
    const seen = new Set<string>();
    for (const given of [undefined, '', 'has space', 'x'.repeat(129), '<script>', 'a"b', 'ünïcode']) {
      const r = await get('/api/v1/me', given === undefined ? {} : { 'x-request-id': given });
      const id = String(r.headers['x-request-id']);
      assert.match(id, UUID, JSON.stringify(given));
      seen.add(id);
      assert.ok(linesOf(id).some((l) => l.msg === 'request completed'));
    }
    assert.equal(seen.size, 7, 'each request its own id');
    const longest = 'y'.repeat(128);
    assert.equal((await get('/api/v1/me', { 'x-request-id': longest })).headers['x-request-id'], longest);
  });

  it('gives every answer its id: refusals, unknown routes and event streams', async () => {
    const refused = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { 'x-request-id': 'refused-1' } });
    assert.equal(refused.statusCode, 401);
    assert.equal(refused.headers['x-request-id'], 'refused-1');
    const unknown = await get('/no/such/route', { 'x-request-id': 'unknown-1' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.headers['x-request-id'], 'unknown-1');
    const badUrl = await get('/api/v1/workspaces/%E0%A4%A', { 'x-request-id': 'bad-url-1' });
    assert.equal(badUrl.statusCode, 400);
    assert.equal(badUrl.headers['x-request-id'], 'bad-url-1');
    const sub = await root.post(`/api/v1/workspaces/${ws}/batches`, {
      operation: 'action',
      action: 'order',
      target: { ids: [] },
    });
    const sse = await get(`/api/v1/workspaces/${ws}/batches/${sub.body.id}/events`, { 'x-request-id': 'sse-1' });
    assert.equal(sse.statusCode, 200);
    assert.equal(sse.headers['x-request-id'], 'sse-1');
  });

  it('names the request id in every dialect’s 500 answer and in the error line', async () => {
    for (const [url] of BOOM_ROUTES) {
      const id = `boom-${url.split('/')[2]}`;
      const r = await get(url, { 'x-request-id': id });
      assert.equal(r.statusCode, 500, url);
      assert.ok(r.body.includes(`request id ${id}`), `${url}: ${r.body}`);
      assert.ok(!r.body.includes('kaboom'), 'the bug itself stays in the log');
      const errorLine = linesOf(id).find((l) => l.msg === 'unhandled error');
      assert.ok(errorLine, url);
      assert.equal(errorLine.level, 50);
      assert.match(errorLine.err.message, /kaboom/);
    }
    const native = JSON.parse((await get('/test/native/boom', { 'x-request-id': 'native-2' })).body);
    assert.equal(native.error.code, 'INTERNAL');
    assert.equal(native.error.details.request_id, 'native-2');
    const ba = JSON.parse((await get('/test/batch-approvals/boom', { 'x-request-id': 'ba-2' })).body);
    assert.deepEqual([ba.code, ba.details.request_id], ['INTERNAL', 'ba-2']);
  });

  it(
    'logs batch and chunk lines with batch_id, the submit with its request id, and nothing per item at info',
    { timeout: 30_000 },
    async () => {
      const created = await root.post(`/api/v1/workspaces/${ws}/datastores/pr/items`, {
        items: Array.from({ length: 60 }, (_, i) => ({ title: `i${i}`, status: i < 50 ? 'approved' : 'draft' })),
      });
      const r = await root.post(
        `/api/v1/workspaces/${ws}/batches`,
        { operation: 'action', action: 'order', target: { ids: created.body.ids } },
        { 'x-request-id': 'submit-req-1' },
      );
      assert.equal(r.status, 202);
      const b = await waitForBatch({ api: root, ws }, r.body.id);
      assert.equal(b.state, 'completed_with_errors');
      // The last line is written by the worker right after the commit that the poll saw.
      const deadline = Date.now() + 5000;
      while (!logs.lines().some((l) => l.batch_id === b.id && l.msg === 'batch finished') && Date.now() < deadline)
        await new Promise((res) => setTimeout(res, 20));

      const mine = logs.lines().filter((l) => l.batch_id === b.id);
      const byMsg = (msg: string) => mine.filter((l) => l.msg === msg);
      const submitted = byMsg('batch submitted');
      assert.equal(submitted.length, 1);
      assert.equal(
        submitted[0]!.request_id,
        'submit-req-1',
        'the engine line logged inside the request carries its id',
      );
      assert.equal(submitted[0]!.total, 60);
      assert.equal(byMsg('batch started').length, 1);
      assert.equal(byMsg('batch started')[0]!.request_id, undefined, 'the worker runs the batch outside any request');
      const finished = byMsg('batch finished');
      assert.equal(finished.length, 1);
      assert.deepEqual(
        [finished[0]!.state, finished[0]!.succeeded, finished[0]!.failed],
        ['completed_with_errors', 50, 10],
      );
      assert.equal(typeof finished[0]!.duration_ms, 'number');
      const claimed = byMsg('chunk claimed');
      assert.equal(claimed.length, 1);
      assert.equal(claimed[0]!.level, 20, 'chunk lines are debug');
      assert.ok(claimed[0]!.chunk_id);
      assert.equal(byMsg('chunk done')[0]?.chunk_id, claimed[0]!.chunk_id);
      assert.ok(
        mine.filter((l) => l.level >= 30).length <= 3,
        `info lines for a 60-item batch: ${mine.filter((l) => l.level >= 30).map((l) => l.msg)}`,
      );
      assert.ok(!logs.text().includes(created.body.ids[0]), 'no item id in any line');

      // A control's line carries its request's id too, once.
      const later = await root.post(`/api/v1/workspaces/${ws}/batches`, {
        operation: 'action',
        action: 'order',
        target: { ids: created.body.ids },
        start_at: new Date(Date.now() + 3_600_000).toISOString(),
      });
      assert.equal(
        (
          await root.post(
            `/api/v1/workspaces/${ws}/batches/${later.body.id}/cancel`,
            {},
            { 'x-request-id': 'cancel-req-1' },
          )
        ).status,
        200,
      );
      const cancelled = logs
        .text()
        .split('\n')
        .filter((l) => l.includes(later.body.id) && l.includes('"batch cancelled"'));
      assert.equal(cancelled.length, 1);
      assert.equal(cancelled[0]!.split('"request_id"').length - 1, 1, cancelled[0]);
      assert.equal(JSON.parse(cancelled[0]!).request_id, 'cancel-req-1');
    },
  );
});
