import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { buildApp } from '../../src/api/app.ts';
import { buildMetricsApp } from '../../src/api/metrics-route.ts';
import type { App } from '../../src/api/types.ts';
import { makeCtx } from '../../src/core/make-ctx.ts';
import { openDb, type OpenDb } from '../../src/db/open-db.ts';
import { claimChunk } from '../../src/engine/sql/claim-chunk.ts';
import { exits, runBatchgate } from '../cli/harness.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { metric, parseMetrics, type Sample } from '../helpers/prometheus.ts';
import { makeClient, PURCHASE_DS, startTestService, type Client, type TestService } from '../helpers/service.ts';
import { waitForBatch } from '../helpers/wait.ts';

const METRICS_TOKEN = 'metrics-scrape-token-for-tests';

async function scrape(app: App, token: string): Promise<Sample[]> {
  const r = await app.inject({ method: 'GET', url: '/metrics', headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.statusCode, 200, r.body);
  assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  return parseMetrics(r.body);
}

describeEachDialect('metrics', (dialect) => {
  let s: TestService;
  let ws: string;
  let member: Client;
  let viewer: Client;
  /** A second app on the same service with BATCHGATE_METRICS_TOKEN set. */
  let withToken: App;

  async function items(n: number, status: string): Promise<string[]> {
    const r = await member.post(`/api/v1/workspaces/${ws}/datastores/pr/items`, {
      items: Array.from({ length: n }, (_, i) => ({ title: `m${i}`, status })),
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    return r.body.ids;
  }

  before(async () => {
    s = await startTestService(dialect, { worker: false });
    ws = (await s.root.post('/api/v1/workspaces', { name: 'M' })).body.id;
    member = (await s.user('member', ws, 'member')).api;
    viewer = (await s.user('viewer', ws, 'viewer')).api;
    assert.equal((await s.root.post(`/api/v1/workspaces/${ws}/datastores`, PURCHASE_DS)).status, 201);
    withToken = await buildApp({ ctx: s.db.ctx, engine: s.engine, metricsToken: METRICS_TOKEN });
  });
  after(async () => {
    await withToken.close();
    await s.close();
  });

  it('is read with the metrics token or a system admin token; anyone else gets the catalog envelope', async () => {
    const anon = await s.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(anon.statusCode, 401);
    assert.equal(JSON.parse(anon.body).error.code, 'UNAUTHENTICATED');
    for (const token of ['bg_not-a-real-token', METRICS_TOKEN]) {
      // The metrics token means nothing to an app that was not given it.
      const r = await s.client(token).get('/metrics');
      assert.equal(r.status, 401, token);
      assert.equal(r.body.error.code, 'UNAUTHENTICATED');
    }
    for (const api of [member, viewer]) {
      const r = await api.get('/metrics');
      assert.equal(r.status, 403);
      assert.equal(r.body.error.code, 'FORBIDDEN');
    }
    await scrape(s.app, s.root.token);
    await scrape(withToken, METRICS_TOKEN);
    const dataartsHeader = await withToken.inject({
      method: 'GET',
      url: '/metrics',
      headers: { 'x-auth-token': METRICS_TOKEN },
    });
    assert.equal(dataartsHeader.statusCode, 200);
    const wrong = await withToken.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${METRICS_TOKEN}x` },
    });
    assert.equal(wrong.statusCode, 401);
  });

  it('exports process metrics only where a real service turned them on, and the engine metrics always', async () => {
    const names = new Set((await scrape(s.app, s.root.token)).map((x) => x.name));
    for (const n of [
      'batchgate_batches',
      'batchgate_items_processed_total',
      'batchgate_lease_reclaims_total',
      'batchgate_chunk_slice_duration_seconds_count',
    ]) {
      assert.ok(names.has(n), n);
    }
    assert.ok(
      !names.has('process_cpu_user_seconds_total'),
      'createService turns process metrics on, a bare test app does not',
    );
  });

  it(
    'counts item outcomes, slices, lease reclaims, batches by state and HTTP requests by route pattern',
    { timeout: 60_000 },
    async () => {
      const ok = await items(30, 'approved');
      const wrong = await items(5, 'draft');
      const before = await scrape(s.app, s.root.token);
      const sub = await member.post(`/api/v1/workspaces/${ws}/batches`, {
        operation: 'action',
        action: 'order',
        target: { ids: [...ok, ...wrong] },
      });
      assert.equal(sub.status, 202);
      const cancelled = await member.post(`/api/v1/workspaces/${ws}/batches`, {
        operation: 'action',
        action: 'order',
        target: { ids: wrong },
        start_at: '2999-01-01T00:00:00Z',
      });
      assert.equal((await member.post(`/api/v1/workspaces/${ws}/batches/${cancelled.body.id}/cancel`)).status, 200);

      // A worker that died holding the first chunk: its lease has run out by the time the next worker looks.
      const dead = await claimChunk(s.db.ctx, 'dead-worker', 1, { batchId: sub.body.id });
      assert.ok(dead);
      await new Promise((r) => setTimeout(r, 10));
      s.engine.startWorker({ idlePollMs: 50, maintenanceMs: 50 });
      const b = await waitForBatch({ api: member, ws }, sub.body.id);
      assert.equal(b.state, 'completed_with_errors');

      const now = await scrape(s.app, s.root.token);
      const delta = (name: string, labels: Record<string, string> = {}) =>
        metric(now, name, labels) - metric(before, name, labels);
      assert.equal(delta('batchgate_items_processed_total', { outcome: 'succeeded' }), 30);
      assert.equal(delta('batchgate_items_processed_total', { outcome: 'failed' }), 5);
      assert.equal(
        delta('batchgate_items_processed_total', { outcome: 'skipped' }),
        0,
        'a cancel skips items without processing them',
      );
      assert.equal(delta('batchgate_lease_reclaims_total'), 1);
      assert.ok(delta('batchgate_chunk_slice_duration_seconds_count') >= 1);
      assert.ok(delta('batchgate_chunk_slice_duration_seconds_sum') > 0);
      assert.equal(metric(now, 'batchgate_batches', { state: 'completed_with_errors' }), 1);
      assert.equal(metric(now, 'batchgate_batches', { state: 'cancelled' }), 1);
      assert.equal(metric(now, 'batchgate_batches', { state: 'paused' }), 0, 'every state is reported');
      assert.equal(now.filter((x) => x.name === 'batchgate_batches').length, 8);

      // waitForBatch polled the batch by id: one series for the route pattern, none for the raw URL.
      const polls = now.filter(
        (x) =>
          x.name === 'batchgate_http_request_duration_seconds_count' &&
          x.labels.route === '/api/v1/workspaces/:ws/batches/:id',
      );
      assert.deepEqual(
        polls.map((p) => [p.labels.method, p.labels.status_code]),
        [['GET', '200']],
      );
      assert.ok(polls[0]!.value >= 1);
      const text = now.map((x) => JSON.stringify(x.labels)).join('\n');
      assert.ok(!text.includes(sub.body.id) && !text.includes(ws), 'no id in any label');
      const unmatched = await member.get('/api/v1/no/such/route/12345');
      assert.equal(unmatched.status, 404);
      const after404 = await scrape(s.app, s.root.token);
      assert.equal(
        metric(after404, 'batchgate_http_request_duration_seconds_count', {
          route: 'unmatched',
          method: 'GET',
          status_code: '404',
        }),
        1,
      );
    },
  );

  it('reads batches by state from the database, so a process that ran nothing shows the same counts', async () => {
    const other: OpenDb = openDb(s.db.url, s.db.schema ? { schema: s.db.schema, poolSize: 2 } : {});
    try {
      const ctx = makeCtx(other);
      const app = await buildMetricsApp({ ctx, metricsToken: METRICS_TOKEN, logger: ctx.log });
      try {
        const theirs = await scrape(app, METRICS_TOKEN);
        const ours = await scrape(s.app, s.root.token);
        for (const state of ['completed_with_errors', 'cancelled', 'succeeded']) {
          assert.equal(
            metric(theirs, 'batchgate_batches', { state }),
            metric(ours, 'batchgate_batches', { state }),
            state,
          );
        }
        assert.equal(
          metric(theirs, 'batchgate_items_processed_total', { outcome: 'succeeded' }),
          0,
          'its own counters are its own',
        );
        assert.ok(metric(ours, 'batchgate_items_processed_total', { outcome: 'succeeded' }) > 0);
      } finally {
        await app.close();
      }
    } finally {
      await other.close();
    }
  });

  it('serves a worker’s metrics on a port of its own, over real HTTP', async () => {
    const app = await buildMetricsApp({ ctx: s.db.ctx, metricsToken: METRICS_TOKEN, logger: s.db.ctx.log });
    try {
      await app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = app.server.address() as { port: number };
      const anon = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(anon.status, 401);
      assert.equal(((await anon.json()) as any).error.code, 'UNAUTHENTICATED');
      assert.ok(anon.headers.get('x-request-id'));
      const res = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      assert.equal(res.status, 200);
      const samples = parseMetrics(await res.text());
      assert.equal(metric(samples, 'batchgate_items_processed_total', { outcome: 'succeeded' }), 30);
      const admin = await fetch(`http://127.0.0.1:${port}/metrics`, {
        headers: { authorization: `Bearer ${s.root.token}` },
      });
      assert.equal(admin.status, 200);
      const nothing = await fetch(`http://127.0.0.1:${port}/api/v1/workspaces`, {
        headers: { authorization: `Bearer ${s.root.token}` },
      });
      assert.equal(nothing.status, 404, 'the worker serves nothing but /metrics');
    } finally {
      await app.close();
    }
  });

  it('two services in one process keep their own registries', async () => {
    const t = await startTestService(dialect, { worker: false });
    try {
      const mine = await scrape(t.app, t.root.token);
      assert.equal(metric(mine, 'batchgate_items_processed_total', { outcome: 'succeeded' }), 0);
      assert.equal(metric(mine, 'batchgate_batches', { state: 'completed_with_errors' }), 0);
      const theirs = await scrape(s.app, s.root.token);
      assert.equal(metric(theirs, 'batchgate_items_processed_total', { outcome: 'succeeded' }), 30);
      assert.notEqual(t.db.ctx.metrics.registry, s.db.ctx.metrics.registry);
      assert.equal(makeClient(t.app, s.root.token).token, s.root.token);
      assert.equal(
        (await makeClient(t.app, s.root.token).get('/metrics')).status,
        401,
        "one service's admin is nobody on the other",
      );
    } finally {
      await t.close();
    }
  });
});

it('batchgate worker refuses a --metrics-port that is no port, before opening anything', async () => {
  const r = exits(
    await runBatchgate(['worker', '--metrics-port', '70000'], {
      env: { DATABASE_URL: '/nonexistent/dir/never-opened.db' },
    }),
    2,
  );
  assert.match(r.stderr, /--metrics-port must be a port number \(1-65535\), got "70000"/);
  // A bad setting stops the start like every other one (readConfig).
  const env = await runBatchgate(['worker'], {
    env: { DATABASE_URL: '/nonexistent/dir/never-opened.db', BATCHGATE_METRICS_PORT: 'http' },
  });
  assert.notEqual(env.code, 0);
  assert.match(env.stderr, /BATCHGATE_METRICS_PORT must be a non-negative integer/);
});
