/**
 * BATCHGATE_CONNECTION_SOURCES (src/core/connections/source-policy.ts): a data connection may only name a listed
 * directory's SQLite file or a listed PostgreSQL host, at registration and at every later use.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { readConfig } from '../../src/config.ts';
import { sourceAllowed } from '../../src/core/connections/source-policy.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { newSecretKey, sqliteSource } from './model-fixtures.ts';

it('matches directories by prefix and hosts by name, suffix and port', () => {
  const list = ['/srv/exports', 'db.internal', '*.analytics.internal', 'pg.local:6543'];
  assert.ok(sourceAllowed(list, { kind: 'file', path: '/srv/exports/a.db' }));
  assert.ok(sourceAllowed(list, { kind: 'file', path: '/srv/exports/sub/a.db' }));
  assert.ok(!sourceAllowed(list, { kind: 'file', path: '/srv/exports-evil/a.db' }), 'a sibling with the same prefix');
  assert.ok(!sourceAllowed(list, { kind: 'file', path: '/etc/passwd' }));
  assert.ok(sourceAllowed(list, { kind: 'host', host: 'DB.internal', port: 5432, database: 'd' }));
  assert.ok(
    sourceAllowed(list, { kind: 'host', host: 'db.internal', port: 1, database: 'd' }),
    'no port listed: any port',
  );
  assert.ok(sourceAllowed(list, { kind: 'host', host: 'x.analytics.internal', port: 5432, database: 'd' }));
  assert.ok(!sourceAllowed(list, { kind: 'host', host: 'analytics.internal.evil.com', port: 5432, database: 'd' }));
  assert.ok(sourceAllowed(list, { kind: 'host', host: 'pg.local', port: 6543, database: 'd' }));
  assert.ok(!sourceAllowed(list, { kind: 'host', host: 'pg.local', port: 5432, database: 'd' }));
  assert.ok(
    !sourceAllowed(list, { kind: 'host', host: 'srv', port: 5432, database: 'd' }),
    'a directory entry is no host',
  );
  assert.ok(!sourceAllowed(null, { kind: 'file', path: '/anything' }), 'no list: nothing');
  assert.ok(
    sourceAllowed(['[::1]:5432', '10.0.0.1'], { kind: 'host', host: '::1', port: 5432, database: 'd' }),
    'an IPv6 entry',
  );
  assert.ok(
    sourceAllowed(['10.0.0.1'], { kind: 'host', host: '::ffff:10.0.0.1', port: 5432, database: 'd' }),
    'one address in two spellings',
  );
});

it('reads BATCHGATE_CONNECTION_SOURCES as a list: directories keep their case, hosts are lower-cased', () => {
  assert.deepEqual(
    readConfig({ BATCHGATE_CONNECTION_SOURCES: ' /Srv/Exports , DB.Internal:6543,, ' }).connectionSources,
    ['/Srv/Exports', 'db.internal:6543'],
  );
  assert.equal(readConfig({}).connectionSources, null);
  assert.deepEqual(readConfig({ BATCHGATE_WEBHOOK_ALLOWED_HOSTS: 'Hooks.Example.com' }).webhookAllowedHosts, [
    'hooks.example.com',
  ]);
});

describeEachDialect('data connection sources', (dialect) => {
  let s: TestService;
  let allowed: ReturnType<typeof sqliteSource>;
  let other: ReturnType<typeof sqliteSource>;
  before(async () => {
    allowed = sqliteSource(2);
    other = sqliteSource(2);
    s = await startTestService(dialect, {
      worker: false,
      settings: { secretKey: newSecretKey(), connectionSources: [allowed.dir, 'db.internal'] },
    });
  });
  after(async () => {
    await s.close();
    allowed.close();
    other.close();
  });

  it('registers only listed sources, refuses the rest with CONNECTION_NOT_ALLOWED, and rechecks stored ones', async () => {
    const ws = (await s.root.post('/api/v1/workspaces', { name: 'Sources' })).body.id;
    const base = `/api/v1/workspaces/${ws}/connections`;
    const ok = await s.root.post(base, { name: 'ok', url: allowed.path });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
    for (const url of [other.path, 'postgres://u:secret-pw@127.0.0.1:5432/test', `${allowed.dir}/../x.db`]) {
      const refused = await s.root.post(base, { name: 'no', url });
      assert.deepEqual([refused.status, refused.body.error.code], [400, 'CONNECTION_NOT_ALLOWED'], url);
      assert.ok(!JSON.stringify(refused.body).includes('secret-pw'), 'the URL is not echoed');
    }
    assert.deepEqual(
      (await s.root.get(base)).body.connections.map((c: any) => c.name),
      ['ok'],
    );
    // The list narrowed after registration: the stored connection is refused at its next use.
    const narrowed = await startTestService(dialect, {
      db: s.db,
      worker: false,
      settings: { secretKey: s.db.ctx.settings.secretKey, connectionSources: ['db.internal'] },
    });
    try {
      const tables = await narrowed.client(s.root.token).get(`${base}/${ok.body.id}/tables`);
      assert.deepEqual([tables.status, tables.body.error.code], [400, 'CONNECTION_NOT_ALLOWED']);
    } finally {
      await narrowed.close();
    }
    assert.equal((await s.root.get(`${base}/${ok.body.id}/tables`)).status, 200);
  });
});
