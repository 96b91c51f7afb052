import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type Client, type TestService } from '../helpers/service.ts';

/**
 * The API keeps answering while the worker in the same process runs a large batch. On SQLite every statement is
 * synchronous, and a worker loop that never yielded to the event loop left the process deaf for the whole batch.
 */
describeEachDialect('the API while a large batch runs', (dialect) => {
  let s: TestService;
  let ws: string;
  let admin: Client;
  let base: string;
  const N = 20_000;

  before(async () => {
    s = await startTestService(dialect);
    admin = (await s.user('owner')).api;
    ws = (await admin.post('/api/v1/workspaces', { name: 'R' })).body.id;
    const ds = {
      name: 'Big',
      display_id: 'big',
      fields: [{ display_id: 'n', name: 'N', type: 'number' }],
      statuses: [{ display_id: 'open', name: 'Open' }],
      actions: [],
    };
    assert.equal((await admin.post(`/api/v1/workspaces/${ws}/datastores`, ds)).status, 201);
    for (let i = 0; i < N; i += 5000) {
      const r = await admin.post(`/api/v1/workspaces/${ws}/datastores/big/items`, {
        items: Array.from({ length: 5000 }, (_, k) => ({ title: `i${i + k}`, fields: { n: i + k } })),
      });
      assert.equal(r.status, 201, JSON.stringify(r.body));
    }
    await s.app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(s.app.server.address() as AddressInfo).port}`;
  });
  after(() => s.close());

  it('answers over HTTP between the chunks of a 20-chunk batch', async () => {
    const r = await admin.post(`/api/v1/workspaces/${ws}/batches`, {
      operation: 'update',
      fields: { n: -1 },
      target: { datastore: 'big', conditions: [] },
    });
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const url = `${base}/api/v1/workspaces/${ws}/batches/${r.body.id}`;
    let answers = 0;
    for (;;) {
      const res = await fetch(url, { headers: { authorization: `Bearer ${admin.token}` } });
      const b = (await res.json()) as { state: string; succeeded: number };
      assert.equal(res.status, 200);
      if (b.state !== 'queued' && b.state !== 'running') {
        assert.equal(b.state, 'succeeded');
        assert.equal(b.succeeded, N);
        break;
      }
      answers++;
    }
    // A process deaf while the batch runs answers once before it starts and not again until it has ended.
    assert.ok(answers >= 3, `only ${answers} answers while ${N} items were updated in 1000-item chunks`);
  });
});
