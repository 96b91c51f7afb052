import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, it } from 'node:test';
import { createClient } from '../../src/client/index.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

describeEachDialect('typed client over real HTTP', (dialect) => {
  let svc: TestService;
  let baseUrl = '';
  before(async () => {
    svc = await startTestService(dialect, { worker: false });
    await svc.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(svc.app.server.address() as AddressInfo).port}/`;
  });
  after(() => svc.close());

  it('sends the token, and answers typed data or the error envelope', async () => {
    const bg = createClient({ baseUrl, token: svc.root.token });
    const me = await bg.GET('/api/v1/me');
    assert.equal(me.response.status, 200);
    assert.equal(me.data?.id, svc.admin.id);
    const ws = await bg.POST('/api/v1/workspaces', { body: { name: 'typed' } });
    assert.equal(ws.response.status, 201);
    const missing = await bg.GET('/api/v1/workspaces/{ws}/batches/{id}', {
      params: { path: { ws: ws.data!.id, id: '1' } },
    });
    assert.equal(missing.response.status, 404);
    assert.equal(missing.error?.error.code, 'BATCH_NOT_FOUND');
    const anonymous = await createClient({ baseUrl }).GET('/api/v1/me');
    assert.equal(anonymous.error?.error.code, 'UNAUTHENTICATED');
    assert.equal((await createClient({ baseUrl }).GET('/healthz')).data?.ok, true);
  });
});
