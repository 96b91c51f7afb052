/**
 * GET batch status answers from a short-lived cache (src/api/native/batch-status-cache.ts): changes made through
 * this service show at once, a change by another process once the entry expires, and an entry never answers
 * another workspace. The service here keeps entries a minute, so "at once" cannot be luck of timing.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { waitForBatch } from '../helpers/wait.ts';
import { workspaceWithRoles, type RolesWorkspace } from '../helpers/worlds.ts';

describeEachDialect('batch status cache', (dialect) => {
  let s: TestService;
  let w: RolesWorkspace;
  const url = (id: string, ws = w.ws) => `/api/v1/workspaces/${ws}/batches/${id}`;

  before(async () => {
    s = await startTestService(dialect, { workerOptions: { idlePollMs: 25 }, statusCacheMs: 60_000 });
    w = await workspaceWithRoles(s, 'Cache');
  });
  after(() => s.close());

  async function later(): Promise<string> {
    const items = await w.member.post(`/api/v1/workspaces/${w.ws}/datastores/pr/items`, {
      items: [{ title: 'a' }, { title: 'b' }],
    });
    assert.equal(items.status, 201, JSON.stringify(items.body));
    const b = await w.member.post(`/api/v1/workspaces/${w.ws}/batches`, {
      operation: 'update',
      fields: { vendor: 'v' },
      target: { ids: items.body.ids },
      start_at: new Date(Date.now() + 3_600_000).toISOString(),
    });
    assert.equal(b.status, 202, JSON.stringify(b.body));
    return b.body.id;
  }

  it('shows a control made through the service at once, and the same answer as before it was cached', async () => {
    const id = await later();
    const first = await w.member.get(url(id));
    assert.equal(first.status, 200);
    assert.equal(first.body.state, 'scheduled');
    assert.match(String(first.headers['content-type']), /^application\/json; charset=utf-8/);
    const again = await w.member.get(url(id));
    assert.deepEqual(again.body, first.body);
    assert.equal((await w.member.post(`${url(id)}/pause`, {})).status, 200);
    assert.equal((await w.member.get(url(id))).body.state, 'paused');
    assert.equal((await w.member.post(`${url(id)}/reprioritize`, { priority: 42 })).status, 200);
    assert.equal((await w.member.get(url(id))).body.priority, 42);
    assert.equal((await w.member.post(`${url(id)}/cancel`, {})).status, 200);
    const cancelled = (await w.member.get(url(id))).body;
    assert.deepEqual([cancelled.state, cancelled.skipped, cancelled.pending], ['cancelled', 2, 0]);
  });

  it('shows a change made by another process once the entry expires (and not before: it is cached)', async () => {
    const id = await later();
    assert.equal((await w.member.get(url(id))).body.priority, 10);
    // Another process's write: nothing in this one hears of it.
    await s.db.ctx.db.updateTable('batch').set({ priority: 77 }).where('id', '=', id).execute();
    assert.equal((await w.member.get(url(id))).body.priority, 10, 'answered from the cache');
    const short = await startTestService(dialect, { db: s.db, worker: false, statusCacheMs: 50 });
    try {
      const api = short.client(w.member.token);
      assert.equal((await api.get(url(id))).body.priority, 77);
      await s.db.ctx.db.updateTable('batch').set({ priority: 78 }).where('id', '=', id).execute();
      await new Promise((r) => setTimeout(r, 60));
      assert.equal((await api.get(url(id))).body.priority, 78);
    } finally {
      await short.close();
    }
  });

  it('follows a batch the worker here runs, to its end', async () => {
    const items = await w.member.post(`/api/v1/workspaces/${w.ws}/datastores/pr/items`, {
      items: Array.from({ length: 50 }, (_, i) => ({ title: `t${i}` })),
    });
    const b = await w.member.post(`/api/v1/workspaces/${w.ws}/batches`, {
      operation: 'update',
      fields: { vendor: 'x' },
      target: { ids: items.body.ids },
    });
    const seen = new Set<string>();
    for (const deadline = Date.now() + 20_000; Date.now() < deadline;) {
      const st = (await w.member.get(url(b.body.id))).body;
      seen.add(st.state);
      if (st.state === 'succeeded') break;
      // inject answers a hit in microtasks alone: without a pause this loop would never let the worker run.
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(seen.has('succeeded'), [...seen].join());
    const done = await waitForBatch({ api: w.member, ws: w.ws }, b.body.id);
    assert.equal(done.succeeded, 50);
  });

  it('never answers another workspace from the cache', async () => {
    const id = await later();
    assert.equal((await w.member.get(url(id))).status, 200);
    const other = await workspaceWithRoles(s, 'Other');
    const foreign = await other.admin.get(url(id, other.ws));
    assert.deepEqual([foreign.status, foreign.body.error.code], [404, 'BATCH_NOT_FOUND']);
    const stranger = await other.admin.get(url(id));
    assert.equal(stranger.status, 404);
  });

  it('answers each caller by its own workspace when their misses share one read', async () => {
    const other = await workspaceWithRoles(s, 'Racing');
    // Cold entries, asked at once: the foreign caller's miss starts the read first, then second.
    for (const foreignFirst of [true, false]) {
      const id = await later();
      const calls = [
        () => other.admin.get(url(id, other.ws)),
        () => w.member.get(url(id)),
        () => other.viewer.get(url(id, other.ws)),
      ];
      if (!foreignFirst) calls.reverse();
      const answers = await Promise.all(calls.map((c) => c()));
      const byStatus = answers.map((a) => `${a.status} ${a.body.error?.code ?? a.body.id}`);
      const expected = [`404 BATCH_NOT_FOUND`, `200 ${id}`, `404 BATCH_NOT_FOUND`];
      assert.deepEqual(byStatus, foreignFirst ? expected : expected.reverse());
    }
  });
});
