/**
 * Data connections cannot escape BATCHGATE_CONNECTION_SOURCES nor touch the service's own database: the URL is
 * parsed once, query parameters outside a short list are refused, the allow-list is checked against the target
 * the driver is given, file sources are checked after symlinks are resolved, and with no list nothing is allowed.
 */
import assert from 'node:assert/strict';
import { realpathSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, it } from 'node:test';
import { pgClientConfig } from '../../src/core/connections/introspect/postgres.ts';
import { parsePostgresUrl } from '../../src/core/connections/introspect/postgres-url.ts';
import { newSecretKey, pgSource, sqliteSource } from '../dataarts/model-fixtures.ts';
import { describeEachDialect, PG_URL } from '../helpers/db.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

const pg = PG_URL ? new URL(PG_URL) : null;

it('reads a PostgreSQL URL once into the target the driver is configured with', () => {
  assert.deepEqual(parsePostgresUrl('postgresql://Alice:p%40ss@DB.Example.com./sales?sslmode=verify-full'), {
    host: 'db.example.com',
    port: 5432,
    database: 'sales',
    user: 'Alice',
    password: 'p@ss',
    sslmode: 'verify-full',
  });
  assert.equal(parsePostgresUrl('postgres://u@[::1]:6543')!.database, 'u', "libpq's default database: the user's name");
  assert.equal(parsePostgresUrl('postgres://u@[0:0::1]:6543/d')!.host, '::1');
  for (const url of [
    'postgres://u@127.1/d',
    'postgres://u@2130706433/d',
    'postgres://u@0x7f.0.0.1/d',
    'postgres:///d',
    'postgres://h/d',
    'postgres://u@h/d/e',
    'postgres://u@h/d#x',
    'postgres://u@h/d?sslmode=require&sslmode=disable',
  ]) {
    assert.throws(() => parsePostgresUrl(url), { code: 'VALIDATION_FAILED' }, url);
  }
  const config = pgClientConfig(parsePostgresUrl('postgres://u@db.internal:6000/d')!);
  assert.equal(config.connectionString, undefined, 'never the URL string');
  assert.deepEqual(
    [config.host, config.port, config.database, config.user, config.ssl],
    ['db.internal', 6000, 'd', 'u', false],
  );
  assert.equal(typeof config.password, 'function', 'no password is none, not PGPASSWORD or ~/.pgpass');
});

describeEachDialect('data connection targets', (dialect) => {
  let s: TestService;
  let src: ReturnType<typeof sqliteSource>;
  let outside: ReturnType<typeof sqliteSource>;
  let pgSrc: Awaited<ReturnType<typeof pgSource>> | null = null;
  let base: string;
  const key = newSecretKey();
  const refused = async (url: string, code: string, schema?: string) => {
    const r = await s.root.post(base, { name: `c${Math.random()}`, url, ...(schema ? { schema } : {}) });
    assert.deepEqual([r.status, r.body?.error?.code], [400, code], `${url}: ${JSON.stringify(r.body)}`);
    assert.ok(!JSON.stringify(r.body).includes('secret-pw'), 'the password is not echoed');
    return r;
  };

  before(async () => {
    src = sqliteSource(1);
    outside = sqliteSource(1);
    if (pg) pgSrc = await pgSource(1);
    s = await startTestService(dialect, {
      worker: false,
      settings: { secretKey: key, connectionSources: [src.dir, 'allowed.invalid', ...(pg ? [pg.hostname] : [])] },
    });
    base = `/api/v1/workspaces/${(await s.root.post('/api/v1/workspaces', { name: 'Targets' })).body.id}/connections`;
  });
  after(async () => {
    await s.close();
    src.close();
    outside.close();
    await pgSrc?.drop();
  });

  it('refuses every query parameter outside sslmode: the driver never sees ?host, ?port, sockets or key files', async () => {
    for (const q of [
      'host=127.0.0.1',
      'host=/var/run/postgresql',
      'port=1',
      'sslkey=/etc/passwd',
      'sslcert=/etc/passwd',
      'sslrootcert=/etc/passwd',
      'options=-c%20statement_timeout%3D0',
      'password=x',
      'dbname=postgres',
      'user=postgres',
      'sslmode=require&application_name=x',
      'sslmode=bogus',
    ]) {
      const r = await refused(`postgres://u:secret-pw@allowed.invalid/db?${q}`, 'VALIDATION_FAILED');
      assert.match(r.body.error.message, /sslmode/, 'the answer names what is accepted');
    }
    // More than one host, or a host of characters no server name has.
    await refused('postgres://u:secret-pw@allowed.invalid,127.0.0.1/db', 'VALIDATION_FAILED');
  });

  it('refuses ?sslrootcert=/dev/zero before anything is read', async () => {
    await refused('postgres://u:secret-pw@allowed.invalid/db?sslrootcert=/dev/zero', 'VALIDATION_FAILED');
  });

  it('checks the allow-list against the host and port the driver connects to, sockets included', async () => {
    await refused('postgres://u:secret-pw@not-listed.invalid/db', 'CONNECTION_NOT_ALLOWED');
    // A unix socket directory is a place like any other: not listed, not reached.
    await refused('postgres://postgres:secret-pw@%2Fvar%2Frun%2Fpostgresql/test', 'CONNECTION_NOT_ALLOWED');
    // Listed, the check passes and the connection is tried at the listed host (which does not resolve).
    const tried = await s.root.post(base, {
      name: 'tried',
      url: 'postgres://u:secret-pw@allowed.invalid/db?sslmode=disable',
    });
    assert.deepEqual([tried.status, tried.body.error.code], [422, 'CONNECTION_FAILED'], JSON.stringify(tried.body));
  });

  it('resolves symlinks before the directory check', async () => {
    const link = join(src.dir, 'link.db');
    symlinkSync(outside.path, link);
    try {
      await refused(link, 'CONNECTION_NOT_ALLOWED');
    } finally {
      rmSync(link);
    }
    await refused(outside.path, 'CONNECTION_NOT_ALLOWED');
    await refused(`${src.dir}/../${outside.path.split('/').slice(-2).join('/')}`, 'CONNECTION_NOT_ALLOWED');
    const ok = await s.root.post(base, { name: 'lite', url: src.path });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  });

  it("never reaches the service's own database, whatever the list says", async () => {
    if (dialect === 'sqlite') {
      const own = s.db.url;
      // The directory of the service's own file is listed on purpose: the file is refused all the same.
      const dir = dirname(own);
      const listed = await startTestService(dialect, {
        db: s.db,
        worker: false,
        settings: { secretKey: key, connectionSources: [dir, src.dir] },
      });
      try {
        for (const url of [own, `sqlite:${own}`, `${own}-wal`, `${own}-shm`, `${dir}/./${own.split('/').pop()}`]) {
          const r = await listed.client(s.root.token).post(base, { name: 'own', url });
          assert.deepEqual(
            [r.status, r.body.error?.code],
            [400, 'CONNECTION_NOT_ALLOWED'],
            `${url}: ${JSON.stringify(r.body)}`,
          );
        }
        const link = join(src.dir, 'own.db');
        symlinkSync(own, link);
        try {
          const r = await listed.client(s.root.token).post(base, { name: 'own', url: link });
          assert.deepEqual([r.status, r.body.error?.code], [400, 'CONNECTION_NOT_ALLOWED'], JSON.stringify(r.body));
        } finally {
          rmSync(link);
        }
      } finally {
        await listed.close();
      }
    } else {
      const u = new URL(PG_URL);
      const schema = s.db.schema!;
      for (const host of [u.hostname, 'localhost']) {
        const listed = await startTestService(dialect, {
          db: s.db,
          worker: false,
          settings: { secretKey: key, connectionSources: [host] },
        });
        try {
          const r = await listed.client(s.root.token).post(base, {
            name: 'own',
            url: `postgres://${u.username || 'postgres'}:secret-pw@${host}:${u.port || 5432}${u.pathname}`,
            schema,
          });
          assert.deepEqual(
            [r.status, r.body.error?.code],
            [400, 'CONNECTION_NOT_ALLOWED'],
            `${host}: ${JSON.stringify(r.body)}`,
          );
        } finally {
          await listed.close();
        }
      }
    }
  });

  it('stores and shows the effective target: host, port, database and user, never the password', async () => {
    if (!pg) return;
    const r = await s.root.post(base, {
      name: 'pg',
      url: `postgres://${pg.username || 'postgres'}:secret-pw@${pg.hostname}${pg.pathname}`,
      schema: pgSrc!.schema,
    });
    assert.equal(r.status, 201, JSON.stringify(r.body));
    assert.equal(r.body.url, `postgres://${pg.username || 'postgres'}:****@${pg.hostname}:5432${pg.pathname}`);
    assert.ok(!JSON.stringify((await s.root.get(`${base}/${r.body.id}`)).body).includes('secret-pw'));
    // A listed socket directory is reached through the socket.
    const sock = await startTestService(dialect, {
      db: s.db,
      worker: false,
      settings: { secretKey: key, connectionSources: ['/var/run/postgresql'] },
    });
    try {
      const viaSocket = await sock.client(s.root.token).post(base, {
        name: 'sock',
        url: `postgres://${pg.username || 'postgres'}@%2Fvar%2Frun%2Fpostgresql${pg.pathname}`,
        schema: pgSrc!.schema,
      });
      assert.equal(viaSocket.status, 201, JSON.stringify(viaSocket.body));
      // Shown as the directory really is, symlinks resolved (/var/run is often a link to /run).
      assert.equal(
        viaSocket.body.url,
        `postgres://${pg.username || 'postgres'}@${encodeURIComponent(realpathSync('/var/run/postgresql'))}:5432${pg.pathname}`,
      );
    } finally {
      await sock.close();
    }
  });
});

describeEachDialect('data connections closed by default', (dialect) => {
  let src: ReturnType<typeof sqliteSource>;
  let s: TestService;
  before(async () => {
    src = sqliteSource(1);
    s = await startTestService(dialect, { worker: false, settings: { secretKey: newSecretKey() } });
  });
  after(async () => {
    await s.close();
    src.close();
  });

  it('with BATCHGATE_CONNECTION_SOURCES unset, registering and using a connection answer a 4xx naming it', async () => {
    const base = `/api/v1/workspaces/${(await s.root.post('/api/v1/workspaces', { name: 'Closed' })).body.id}/connections`;
    for (const url of [src.path, 'postgres://u:secret-pw@db.invalid/x']) {
      const r = await s.root.post(base, { name: 'x', url });
      assert.deepEqual([r.status, r.body.error?.code], [400, 'CONNECTION_NOT_ALLOWED'], JSON.stringify(r.body));
      assert.match(r.body.error.message, /BATCHGATE_CONNECTION_SOURCES/);
    }
    // Registered while a list allowed it, then the list is removed: the stored connection is refused at use.
    const open = await startTestService(dialect, {
      db: s.db,
      worker: false,
      settings: { secretKey: s.db.ctx.settings.secretKey, connectionSources: [src.dir] },
    });
    let id: string;
    try {
      const r = await open.client(s.root.token).post(base, { name: 'y', url: src.path });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      id = r.body.id;
    } finally {
      await open.close();
    }
    const tables = await s.root.get(`${base}/${id}/tables`);
    assert.deepEqual(
      [tables.status, tables.body.error?.code],
      [400, 'CONNECTION_NOT_ALLOWED'],
      JSON.stringify(tables.body),
    );
  });
});
