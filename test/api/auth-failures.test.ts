/**
 * The limit on failed authentications per client address (src/api/auth-failures.ts): the counter itself, and
 * the service with a small limit of its own (tests elsewhere run with it far out of the way), on both
 * databases and in every dialect's envelope.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { AuthFailureLimiter, clientKey } from '../../src/api/auth-failures.ts';
import { buildApp } from '../../src/api/app.ts';
import type { App } from '../../src/api/types.ts';
import { readConfig } from '../../src/config.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { fingerprint } from '../helpers/fingerprint.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

it('counts failures per address in a window, refuses over the limit until it ends, and forgets the oldest past the cap', () => {
  let now = 1_000_000;
  const l = new AuthFailureLimiter({ limit: 3, windowMs: 60_000, maxAddresses: 4, now: () => now });
  assert.equal(l.fail('10.0.0.1'), false);
  assert.equal(l.fail('10.0.0.1'), false);
  assert.equal(l.retryAfter('10.0.0.1'), 0, 'under the limit');
  assert.equal(l.fail('10.0.0.1'), true, 'the third failure reaches the limit');
  assert.equal(l.retryAfter('10.0.0.1'), 60);
  assert.equal(l.retryAfter('10.0.0.2'), 0, 'another address is not affected');
  now += 59_001;
  assert.equal(l.retryAfter('10.0.0.1'), 1, 'Retry-After rounds up');
  now += 1_000;
  assert.equal(l.retryAfter('10.0.0.1'), 0, 'the window ended');
  assert.equal(l.fail('10.0.0.1'), false, 'a new window counts from one');

  for (let i = 0; i < 100; i++) l.fail(`192.168.0.${i}`);
  assert.equal(l.size, 4, 'at most maxAddresses windows are kept');
  for (let i = 0; i < 3; i++) l.fail('172.16.0.1');
  assert.equal(l.retryAfter('172.16.0.1'), 60, 'the newest window is kept');
  assert.equal(l.retryAfter('10.0.0.1'), 0, 'the oldest was forgotten');

  const off = new AuthFailureLimiter({ limit: 0, windowMs: 60_000 });
  for (let i = 0; i < 10; i++) off.fail('10.0.0.1');
  assert.equal(off.retryAfter('10.0.0.1'), 0, 'limit 0 turns it off');
});

it('counts an IPv6 client by its /64 and an IPv4-mapped address as IPv4', () => {
  assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
  assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(clientKey('2001:db8:0:1::1'), '2001:db8:0:1::/64');
  assert.equal(clientKey('2001:0db8:0000:0001:aaaa:bbbb:cccc:dddd'), '2001:db8:0:1::/64');
  assert.equal(clientKey('2001:DB8:0:1:ffff::'), '2001:db8:0:1::/64');
  assert.equal(clientKey('::1'), '0:0:0:0::/64');
  assert.equal(clientKey(undefined as unknown as string), '', 'a closed socket has no address');
  const l = new AuthFailureLimiter({ limit: 2, windowMs: 60_000 });
  l.fail('2001:db8:0:1::1');
  l.fail('2001:db8:0:1::2');
  assert.ok(l.retryAfter('2001:db8:0:1::ffff') > 0, 'one /64, one count');
  assert.equal(l.retryAfter('2001:db8:0:2::1'), 0);
});

it('reads the limit and window from the environment', () => {
  const c = readConfig({ BATCHGATE_AUTH_FAILURE_LIMIT: '5', BATCHGATE_AUTH_FAILURE_WINDOW_SECONDS: '30' });
  assert.deepEqual([c.authFailureLimit, c.authFailureWindowSeconds], [5, 30]);
  const d = readConfig({});
  assert.deepEqual([d.authFailureLimit, d.authFailureWindowSeconds], [20, 60]);
  assert.throws(() => readConfig({ BATCHGATE_AUTH_FAILURE_LIMIT: '-1' }), /BATCHGATE_AUTH_FAILURE_LIMIT/);
});

const LIMIT = 3;

describeEachDialect('failed authentications per client address', (dialect) => {
  let s: TestService;
  let app: App;
  let ws: string;
  let n = 0;
  /** A fresh client address per test, so tests do not share a count. */
  const nextAddress = () => `198.51.100.${++n}`;

  const send = async (
    ip: string,
    method: string,
    url: string,
    headers: Record<string, string> = {},
    payload?: string,
  ) => {
    const r = await app.inject({
      method: method as 'GET',
      url,
      remoteAddress: ip,
      headers,
      ...(payload !== undefined ? { payload } : {}),
    });
    let body: any = r.body;
    try {
      body = JSON.parse(r.body);
    } catch {
      /* keep the text */
    }
    return { status: r.statusCode, body, retryAfter: r.headers['retry-after'] };
  };
  const bad = { authorization: 'Bearer bg_not-a-token' };

  /** Spends the address's allowance: LIMIT failures, each still a 401. */
  async function exhaust(ip: string): Promise<void> {
    for (let i = 0; i < LIMIT; i++) {
      const r = await send(ip, 'GET', '/api/v1/me', bad);
      assert.equal(r.status, 401, `failure ${i + 1} is a 401: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.error.code, 'UNAUTHENTICATED');
    }
  }

  before(async () => {
    s = await startTestService(dialect, { worker: false });
    app = await buildApp({ ctx: s.db.ctx, engine: s.engine, authFailureLimit: LIMIT, authFailureWindowSeconds: 60 });
    await app.ready();
    ws = (await s.root.post('/api/v1/workspaces', { name: 'Rate', project_id: 'rate' })).body.id;
  });
  after(async () => {
    await app.close();
    await s.close();
  });

  it('answers 429 TOO_MANY_AUTH_FAILURES with Retry-After past the limit, to bad and absent tokens alike', async () => {
    const ip = nextAddress();
    const before = await fingerprint(s.db);
    await exhaust(ip);
    const variants: Record<string, string>[] = [
      bad,
      {},
      { 'x-auth-token': 'nope' },
      { authorization: 'Basic dXNlcjpwYXNz' },
    ];
    for (const headers of variants) {
      const r = await send(ip, 'GET', '/api/v1/me', headers);
      assert.equal(r.status, 429, JSON.stringify(r.body));
      assert.equal(r.body.error.code, 'TOO_MANY_AUTH_FAILURES');
      const seconds = Number(r.retryAfter);
      assert.ok(Number.isInteger(seconds) && seconds >= 1 && seconds <= 60, `Retry-After ${r.retryAfter}`);
    }
    assert.deepEqual(await fingerprint(s.db), before, 'nothing written');
  });

  it('lets a valid token through from a blocked address, and blocks no other address', async () => {
    const ip = nextAddress();
    await exhaust(ip);
    assert.equal((await send(ip, 'GET', '/api/v1/me', bad)).status, 429);
    // One office behind one NAT: a colleague with a valid token is not locked out by a broken script.
    const me = await send(ip, 'GET', '/api/v1/me', { authorization: `Bearer ${s.root.token}` });
    assert.equal(me.status, 200, JSON.stringify(me.body));
    const da = await send(ip, 'GET', `/v2/rate/design/approvals`, { 'x-auth-token': s.root.token, workspace: ws });
    assert.equal(da.status, 200, JSON.stringify(da.body));
    const other = await send(nextAddress(), 'GET', '/api/v1/me', bad);
    assert.equal(other.status, 401);
    // Still blocked for the bad token after the good one.
    assert.equal((await send(ip, 'GET', '/api/v1/me', bad)).status, 429);
  });

  it('answers in every dialect envelope, before reading the body', async () => {
    const ip = nextAddress();
    await exhaust(ip);
    const before = await fingerprint(s.db);
    const json = { 'content-type': 'application/json' };
    // Native, with a body that would otherwise be a 400.
    const native = await send(
      ip,
      'POST',
      `/api/v1/workspaces/${ws}/datastores/x/items`,
      { ...bad, ...json },
      '{not json',
    );
    assert.deepEqual(
      [native.status, native.body.error?.code],
      [429, 'TOO_MANY_AUTH_FAILURES'],
      JSON.stringify(native.body),
    );
    assert.ok(Number(native.retryAfter) >= 1);
    // DataArts: the API gateway's throttling code.
    const da = await send(
      ip,
      'POST',
      '/v1/rate/design/approvals/batch-publish',
      { 'x-auth-token': 'bad', workspace: ws, ...json },
      '{}',
    );
    assert.equal(da.status, 429, JSON.stringify(da.body));
    assert.deepEqual(Object.keys(da.body).sort(), ['error_code', 'error_msg']);
    assert.equal(da.body.error_code, 'APIG.0308');
    assert.ok(Number(da.retryAfter) >= 1);
    // Batch approval open API: the flat envelope.
    const ba = await send(ip, 'POST', '/batch_approvals/_submit?user_id=1', { ...json }, '[1]');
    assert.equal(ba.status, 429, JSON.stringify(ba.body));
    assert.equal(ba.body.code, 'TOO_MANY_AUTH_FAILURES');
    assert.equal(ba.body.error, undefined);
    assert.ok(Number(ba.retryAfter) >= 1);
    // Hexabase.
    const hx = await send(
      ip,
      'POST',
      '/api/v0/applications/rate/datastores/x/items/search',
      { ...bad, ...json },
      '[[[',
    );
    assert.equal(hx.status, 429, JSON.stringify(hx.body));
    assert.equal(hx.body.error_code, 'NO_PRIVILEGES');
    assert.equal(hx.body.errors[0].error_code, 'NO_PRIVILEGES');
    assert.ok(Number(hx.retryAfter) >= 1);
    assert.deepEqual(await fingerprint(s.db), before, 'nothing written');
    // Routes that need no token stay open to the address.
    assert.equal((await send(ip, 'GET', '/healthz')).status, 200);
  });

  it('counts failures in every dialect, and lets the address try again when the window ends', async () => {
    let now = 1_000_000;
    const short = await buildApp({
      ctx: s.db.ctx,
      engine: s.engine,
      authFailureLimit: LIMIT,
      authFailureWindowSeconds: 1,
      authFailureNow: () => now,
    });
    await short.ready();
    try {
      const ip = nextAddress();
      const hit = (method: string, url: string, headers: Record<string, string>) =>
        short.inject({ method: method as 'GET', url, remoteAddress: ip, headers });
      assert.equal(
        (await hit('GET', `/v2/rate/design/approvals`, { 'x-auth-token': 'bad', workspace: ws })).statusCode,
        401,
      );
      assert.equal((await hit('GET', '/batch_approvals/_submit?user_id=1&batch_number=1', {})).statusCode, 401);
      assert.equal((await hit('GET', '/api/v0/datastores/1/fields', bad)).statusCode, 401);
      const blocked = await hit('GET', '/api/v1/me', bad);
      assert.equal(blocked.statusCode, 429, 'three failures in three dialects reached the limit');
      const wait = Number(blocked.headers['retry-after']);
      assert.equal(wait, 1);
      now += wait * 1000 - 1;
      assert.equal((await hit('GET', '/api/v1/me', bad)).statusCode, 429, 'the window has not ended yet');
      now += 1;
      assert.equal((await hit('GET', '/api/v1/me', bad)).statusCode, 401, 'a new window');
    } finally {
      await short.close();
    }
  });
});
