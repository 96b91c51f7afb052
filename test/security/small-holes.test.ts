/**
 * Smaller holes: display_ids that name JavaScript's prototype machinery, the listening address, and
 * SQLite's own `file:` URI form in DATABASE_URL.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { readConfig } from '../../src/config.ts';
import { normalizeFieldValues } from '../../src/core/field-values.ts';
import { openDb, sqlitePath } from '../../src/db/open-db.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { PURCHASE_DS, startTestService, type TestService } from '../helpers/service.ts';

const PROTO_NAMES = ['__proto__', 'constructor', 'prototype'];

describeEachDialect('prototype names', (dialect) => {
  let s: TestService;
  let base: string;
  before(async () => {
    s = await startTestService(dialect, { worker: false });
    base = `/api/v1/workspaces/${(await s.root.post('/api/v1/workspaces', { name: 'Proto' })).body.id}`;
    assert.equal((await s.root.post(`${base}/datastores`, PURCHASE_DS)).status, 201);
  });
  after(() => s.close());

  it('refuses __proto__, constructor and prototype as field, status, action and datastore display_ids', async () => {
    const simple = {
      name: 'P',
      fields: [{ display_id: 'amount', name: 'A', type: 'number' }],
      statuses: [{ display_id: 'open', name: 'Open' }],
      actions: [{ display_id: 'go', name: 'Go', to: 'open' }],
    };
    for (const id of PROTO_NAMES) {
      const variants = [
        {
          ...simple,
          display_id: `f_${id.length}`,
          fields: [...simple.fields, { display_id: id, name: 'X', type: 'text' }],
        },
        { ...simple, display_id: `s_${id.length}`, statuses: [...simple.statuses, { display_id: id, name: 'X' }] },
        {
          ...simple,
          display_id: `a_${id.length}`,
          actions: [...simple.actions, { display_id: id, name: 'X', to: 'open' }],
        },
        { ...simple, display_id: id },
      ];
      for (const body of variants) {
        // Sent as text: a JSON object literal would take "__proto__" as its prototype rather than as a key.
        const r = await s.root.raw('POST', `${base}/datastores`, JSON.stringify(body), {
          'content-type': 'application/json',
        });
        assert.deepEqual(
          [r.status, r.body?.error?.code],
          [400, 'INVALID_DEFINITION'],
          `${id} in ${JSON.stringify(body)}: ${JSON.stringify(r.body)}`,
        );
      }
    }
  });

  it('answers a 4xx to prototype keys in item fields, and pollutes nothing', async () => {
    const bodies = [
      '{"title":"a","fields":{"__proto__":{"polluted":1},"amount":1}}',
      '{"title":"a","fields":{"constructor":{"prototype":{"polluted":1}},"amount":1}}',
      '{"title":"a","fields":{"amount":1,"prototype":{"polluted":1}}}',
    ];
    for (const body of bodies) {
      const r = await s.root.raw('POST', `${base}/datastores/pr/items`, body, { 'content-type': 'application/json' });
      assert.ok(r.status >= 400 && r.status < 500, `${body}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(({} as any).polluted, undefined, 'Object.prototype untouched');
    }
    const item = await s.root.post(`${base}/datastores/pr/items`, { title: 'ok', fields: { amount: 2 } });
    assert.equal(item.status, 201, JSON.stringify(item.body));
    const got = await s.root.get(`${base}/items/${item.body.id}`);
    assert.deepEqual(got.body.fields, { amount: 2 });
  });
});

it('builds field values in null-prototype objects: a "__proto__" key stays a key', () => {
  // A datastore stored before such names were refused could still have a field named so.
  const field = { id: '1', display_id: '__proto__', name: 'P', type: 'json' as const, options: null };
  const out = normalizeFieldValues(new Map([['__proto__', field]]), JSON.parse('{"__proto__": {"polluted": 1}}'));
  assert.deepEqual(Object.keys(out), ['__proto__']);
  assert.equal((out as any).polluted, undefined, "the value is not the object's prototype");
  assert.equal(JSON.stringify(out), '{"__proto__":{"polluted":1}}');
});

it('listens on 127.0.0.1 unless HOST says otherwise', () => {
  assert.equal(readConfig({}).host, '127.0.0.1');
  assert.equal(readConfig({ HOST: '0.0.0.0' }).host, '0.0.0.0');
});

it("reads DATABASE_URL=file:… as SQLite's URI form: that path, not a folder named file:", async () => {
  assert.equal(sqlitePath('file:/srv/bg.db'), '/srv/bg.db');
  assert.equal(sqlitePath('file:///srv/bg.db'), '/srv/bg.db');
  assert.equal(sqlitePath('file://localhost/srv/bg.db'), '/srv/bg.db');
  assert.equal(sqlitePath('file:data/bg.db'), 'data/bg.db');
  assert.equal(sqlitePath('file:/srv/my%20bg.db'), '/srv/my bg.db');
  assert.equal(sqlitePath('sqlite:/srv/bg.db'), '/srv/bg.db');
  assert.equal(sqlitePath('sqlite:///srv/bg.db'), '/srv/bg.db');
  assert.equal(sqlitePath('./data/bg.db'), './data/bg.db');
  assert.throws(() => sqlitePath('file:/srv/bg.db?mode=ro'), /parameters/);
  assert.throws(() => sqlitePath('file://other.host/srv/bg.db'), /this machine/);
  const dir = mkdtempSync(join(tmpdir(), 'bg-fileurl-'));
  const cwd = process.cwd();
  try {
    process.chdir(dir);
    const opened = openDb(`file:${join(dir, 'abs.db')}`);
    await opened.close();
    assert.ok(existsSync(join(dir, 'abs.db')), 'the absolute path');
    assert.ok(!existsSync(join(dir, 'file:')), 'no folder named file:');
    const rel = openDb('file:rel.db');
    await rel.close();
    assert.ok(existsSync(join(dir, 'rel.db')), 'the relative path');
  } finally {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  }
});
