import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { describeEachDialect } from '../helpers/db.ts';
import { PURCHASE_DS, startTestService, type Client, type TestService } from '../helpers/service.ts';

/**
 * Standings in a workspace are cached for a moment (src/core/auth.ts): a change of role, a removal or an addition
 * must still take effect on the very next request.
 */
describeEachDialect('membership changes take effect at once', (dialect) => {
  let s: TestService;
  let ws: string;
  let admin: Client;

  before(async () => {
    s = await startTestService(dialect, { worker: false });
    admin = (await s.user('owner')).api;
    ws = (await admin.post('/api/v1/workspaces', { name: 'M' })).body.id;
    assert.equal((await admin.post(`/api/v1/workspaces/${ws}/datastores`, PURCHASE_DS)).status, 201);
  });
  after(() => s.close());

  it('demotes, removes and re-adds a member between two requests', async () => {
    const { user, api } = await s.user('someone', ws, 'member');
    const submit = () =>
      api.post(`/api/v1/workspaces/${ws}/batches`, {
        operation: 'update',
        fields: { vendor: 'x' },
        target: { ids: [] },
      });
    assert.equal((await submit()).status, 202);
    assert.equal((await api.get(`/api/v1/workspaces/${ws}`)).status, 200);

    assert.equal((await admin.put(`/api/v1/workspaces/${ws}/members/${user.id}`, { role: 'viewer' })).status, 200);
    const refused = await submit();
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.equal(refused.body.error.code, 'FORBIDDEN');

    assert.equal((await admin.delete(`/api/v1/workspaces/${ws}/members/${user.id}`)).status, 204);
    assert.equal((await api.get(`/api/v1/workspaces/${ws}`)).status, 404);
    assert.equal((await api.get(`/api/v1/workspaces/${ws}/batches`)).status, 404);

    // Re-added by invitation (a workspace admin cannot add a non-member directly), accepted at once.
    const inv = await admin.post(`/api/v1/workspaces/${ws}/invitations`, { user_id: user.id, role: 'member' });
    assert.equal(inv.status, 201, JSON.stringify(inv.body));
    assert.equal((await api.post(`/api/v1/invitations/${inv.body.id}/accept`, {})).status, 200);
    assert.equal((await submit()).status, 202);
  });

  it('answers a token the same way on every request, and refuses an unknown one every time', async () => {
    const { api } = await s.user('reader', ws, 'viewer');
    for (let i = 0; i < 3; i++) assert.equal((await api.get('/api/v1/me')).status, 200);
    const stranger = s.client('bg_not_a_token');
    for (let i = 0; i < 3; i++) assert.equal((await stranger.get('/api/v1/me')).status, 401);
  });
});
