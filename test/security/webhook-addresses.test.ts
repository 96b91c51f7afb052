/**
 * Webhook addresses are classified with ipaddr.js, every spelling of an address as the address it reaches:
 * IPv4-compatible, IPv4-mapped and IPv4-translated IPv6, NAT64 and 6to4 by the IPv4 address they embed, Teredo and
 * the other special IPv6 ranges as not public, IPv4 in every numeric form the URL parser accepts. The same check
 * runs when a webhook is saved and on each address a delivery connects to (src/engine/webhooks/send.ts).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { addressRefusal, urlRefusal } from '../../src/core/webhooks/url-policy.ts';
import { describeEachDialect } from '../helpers/db.ts';
import { startTestService, type TestService } from '../helpers/service.ts';

const STRICT = { allowPrivate: false, allowedHosts: null };
const OPEN = { allowPrivate: true, allowedHosts: null };

/** Each reaches a loopback, private or otherwise non-public IPv4 address, or is a non-public IPv6 range. */
const REFUSED_URLS = [
  'http://[::127.0.0.1]/x', // IPv4-compatible
  'http://[::7f00:1]/x',
  'http://[::ffff:127.0.0.1]/x', // IPv4-mapped
  'http://[::ffff:0:127.0.0.1]/x', // IPv4-translated (RFC 6145)
  'http://[::ffff:0:a00:1]/x',
  'http://[64:ff9b::127.0.0.1]/x', // NAT64
  'http://[64:ff9b::7f00:1]/x',
  'http://[64:ff9b::10.0.0.1]/x',
  'http://[64:ff9b:1::1]/x', // local-use NAT64
  'http://[2002:7f00:1::]/x', // 6to4 of 127.0.0.1
  'http://[2002:c0a8:101::1]/x', // 6to4 of 192.168.1.1
  'http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/x', // Teredo
  'http://[2001:db8::1]/x',
  'http://[100::1]/x',
  'http://[::]/x',
  'http://[fec0::1]/x',
  'http://0177.0.0.1/x', // octal
  'http://0x7f000001/x', // hex
  'http://2130706433/x', // one number
  'http://127.1/x',
  'http://192.0.0.8/x',
  'http://255.255.255.255/x',
];
const PUBLIC_URLS = [
  'http://8.8.8.8/x',
  'http://[2606:4700::1111]/x',
  'http://[::ffff:8.8.8.8]/x',
  'http://[64:ff9b::8.8.8.8]/x',
  'http://[2002:808:808::1]/x',
];

it('classifies every spelling of an address by the address it reaches, at save and at connect', () => {
  for (const u of REFUSED_URLS) {
    assert.match(urlRefusal(STRICT, new URL(u)) ?? '', /not a public/, u);
    assert.equal(urlRefusal(OPEN, new URL(u)), null, u);
    // What the delivery's lookup sees: the address the URL parser normalised it to.
    const address = new URL(u).hostname.replace(/^\[|\]$/g, '');
    assert.ok(addressRefusal(STRICT, address), `connect to ${address}`);
  }
  for (const u of PUBLIC_URLS) assert.equal(urlRefusal(STRICT, new URL(u)), null, u);
  for (const a of ['::ffff:7f00:1', '::1', '64:ff9b::a9fe:a9fe', 'fe80::1%eth0'])
    assert.ok(addressRefusal(STRICT, a), a);
});

describeEachDialect('webhook addresses', (dialect) => {
  let s: TestService;
  let base: string;
  before(async () => {
    s = await startTestService(dialect, { worker: false });
    base = `/api/v1/workspaces/${(await s.root.post('/api/v1/workspaces', { name: 'Hooks' })).body.id}/webhooks`;
  });
  after(() => s.close());

  it('refuses a webhook to any spelling of a non-public address with WEBHOOK_URL_NOT_ALLOWED', async () => {
    for (const url of REFUSED_URLS) {
      const r = await s.root.post(base, { url, events: ['batch.created'] });
      assert.deepEqual(
        [r.status, r.body.error?.code],
        [400, 'WEBHOOK_URL_NOT_ALLOWED'],
        `${url}: ${JSON.stringify(r.body)}`,
      );
    }
    const ok = await s.root.post(base, { url: 'http://[64:ff9b::8.8.8.8]/x', events: ['batch.created'] });
    assert.equal(ok.status, 201, JSON.stringify(ok.body));
  });
});
