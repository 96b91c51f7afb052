/**
 * Where webhooks may deliver (src/core/webhooks/url-policy.ts) and the sender's own check of the address it connects
 * to (src/engine/webhooks/send.ts), against a real receiver on loopback. No database.
 */
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { it } from 'node:test';
import { checkWebhookUrl, urlRefusal } from '../../src/core/webhooks/url-policy.ts';
import { retryDelay } from '../../src/engine/webhooks/deliverer.ts';
import { postWebhook } from '../../src/engine/webhooks/send.ts';
import { startReceiver } from '../helpers/receiver.ts';

const STRICT = { allowPrivate: false, allowedHosts: null };
const OPEN = { allowPrivate: true, allowedHosts: null };

it('refuses non-public addresses, however written, unless private delivery is allowed', () => {
  const refused = [
    'http://127.0.0.1/x',
    'http://127.1/x',
    'http://2130706433/x',
    'http://0x7f.1/x',
    'http://10.1.2.3/x',
    'http://172.20.0.1/x',
    'http://192.168.1.1/x',
    'http://169.254.169.254/latest/meta-data',
    'http://100.64.0.1/x',
    'http://0.0.0.0/x',
    'http://224.0.0.1/x',
    'http://[::1]/x',
    'http://[fe80::1]/x',
    'http://[fd00::1]/x',
    'http://[::ffff:127.0.0.1]/x',
    'http://[::ffff:10.0.0.1]/x',
    'http://localhost:8080/x',
    'http://LOCALHOST./x',
    'http://api.localhost/x',
  ];
  for (const u of refused) {
    assert.match(urlRefusal(STRICT, new URL(u)) ?? '', /not a public/, u);
    assert.equal(urlRefusal(OPEN, new URL(u)), null, u);
  }
  for (const u of [
    'https://hooks.example.com/x',
    'http://8.8.8.8/x',
    'https://[2606:4700::1111]/x',
    'https://172.32.0.1/x',
  ]) {
    assert.equal(urlRefusal(STRICT, new URL(u)), null, u);
  }
});

it('refuses other schemes and credentials whatever the settings; an allow-list limits the hosts', () => {
  for (const u of [
    'ftp://example.com/',
    'file:///etc/passwd',
    'gopher://example.com/',
    'http://user:pw@example.com/',
    'https://token@example.com/',
  ]) {
    assert.ok(urlRefusal(OPEN, new URL(u)), u);
  }
  const listed = { allowPrivate: false, allowedHosts: ['hooks.example.com', '*.corp.example'] };
  assert.equal(urlRefusal(listed, new URL('https://hooks.example.com/a')), null);
  assert.equal(urlRefusal(listed, new URL('https://a.b.corp.example/a')), null);
  assert.match(urlRefusal(listed, new URL('https://corp.example/a')) ?? '', /ALLOWED_HOSTS/);
  assert.match(urlRefusal(listed, new URL('https://evil.example.com/a')) ?? '', /ALLOWED_HOSTS/);
  assert.throws(() => checkWebhookUrl(STRICT, 'http://127.0.0.1/'), { code: 'WEBHOOK_URL_NOT_ALLOWED' });
  assert.throws(() => checkWebhookUrl(STRICT, '/relative'), { code: 'WEBHOOK_URL_NOT_ALLOWED' });
  assert.equal(checkWebhookUrl(STRICT, 'https://Hooks.Example.com/a?b=1#c'), 'https://hooks.example.com/a?b=1');
});

it('the sender refuses a host name that resolves to a non-public address, at connect time', async (t) => {
  const name = hostname();
  const addresses = await lookup(name, { all: true }).catch(() => []);
  if (!addresses.length || !addresses.every((a) => a.address.startsWith('127.'))) {
    t.skip(`${name} does not resolve to loopback here`);
    return;
  }
  const r = await startReceiver();
  try {
    const url = r.url.replace('127.0.0.1', name);
    const refused = await postWebhook(url, '{}', {}, { timeoutMs: 5000, settings: STRICT });
    assert.equal(refused.status, null);
    assert.match(refused.error ?? '', /^refused: .* not a public address/);
    assert.equal(r.received.length, 0, 'nothing reached the receiver');
    const allowed = await postWebhook(url, '{"a":1}', { 'x-test': '1' }, { timeoutMs: 5000, settings: OPEN });
    assert.deepEqual([allowed.status, allowed.error, allowed.snippet], [200, null, 'ok']);
    assert.equal(r.received[0]!.body, '{"a":1}');
  } finally {
    await r.close();
  }
});

it('redirects are not followed, and only the start of a long answer is kept', async () => {
  const r = await startReceiver((_x, n) =>
    n === 0 ? { status: 302, body: 'moved' } : { status: 500, body: 'x'.repeat(100_000) },
  );
  try {
    const redirect = await postWebhook(r.url, '{}', {}, { timeoutMs: 5000, settings: OPEN });
    assert.deepEqual([redirect.status, redirect.snippet], [302, 'moved']);
    assert.equal(r.received.length, 1);
    const long = await postWebhook(r.url, '{}', {}, { timeoutMs: 5000, settings: OPEN });
    assert.equal(long.status, 500);
    assert.equal(long.snippet!.length, 1024);
  } finally {
    await r.close();
  }
});

it('backoff doubles from the base up to the cap, drawn from the upper half of each step', () => {
  const at = (failed: number, rnd: number) => retryDelay(failed, 30_000, 3_600_000, () => rnd);
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => at(n, 0)),
    [15_000, 30_000, 60_000, 120_000],
  );
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => at(n, 1)),
    [30_000, 60_000, 120_000, 240_000],
  );
  assert.deepEqual(
    [8, 9, 20].map((n) => at(n, 1)),
    [3_600_000, 3_600_000, 3_600_000],
  );
  assert.equal(at(9, 0), 1_800_000);
});
