import { BlockList, isIP } from 'node:net';
import { fail } from '../../errors.ts';
import type { WebhookSettings } from '../context.ts';

/**
 * Where webhooks may deliver (the SSRF stance). A webhook URL is typed by a workspace admin, but the POST is sent
 * from inside the service's network, so by default it may reach only public addresses:
 *
 * - http and https only, without credentials in the URL; redirects are never followed (a 3xx is a failure).
 * - With BATCHGATE_WEBHOOK_ALLOWED_HOSTS set, the host must be one of its names (`*.example.com` for subdomains).
 * - Unless BATCHGATE_WEBHOOK_ALLOW_PRIVATE=1, loopback, private, link-local, CGNAT, multicast, documentation and
 *   other special-purpose addresses are refused: an IP literal or `localhost` when the webhook is saved, and every
 *   address a host name resolves to when each POST connects (src/engine/webhooks/send.ts checks the address it
 *   connects to, so a name re-pointed at 127.0.0.1 after it was saved is refused too).
 */
const NON_PUBLIC = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15],
  ['198.51.100.0', 24], ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv4');
}
// IPv4-mapped addresses (::ffff:a.b.c.d) are checked against the IPv4 ranges by BlockList itself.
for (const [net, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['100::', 64], ['2001:db8::', 32], ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8],
] as const) {
  NON_PUBLIC.addSubnet(net, prefix, 'ipv6');
}

/** True for an address that is not a public unicast one. */
export function isNonPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return NON_PUBLIC.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** The URL's host name as compared: lower case, without IPv6 brackets or a trailing dot. */
function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
}

function hostAllowed(allowed: readonly string[], host: string): boolean {
  return allowed.some((a) => (a.startsWith('*.') ? host.endsWith(a.slice(1)) : host === a));
}

/** Why a connection to `address` is refused, or null when it may go ahead. */
export function addressRefusal(settings: WebhookSettings, address: string): string | null {
  if (settings.allowPrivate || !isNonPublicAddress(address)) return null;
  return `${address} is not a public address (set BATCHGATE_WEBHOOK_ALLOW_PRIVATE=1 to allow it)`;
}

/** Why the service would not POST to `url`, or null; the same check at save and before each POST. */
export function urlRefusal(settings: WebhookSettings, url: URL): string | null {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'Only http and https URLs are delivered to.';
  if (url.username || url.password) return 'A webhook URL may not carry credentials; receivers authenticate deliveries by their signature.';
  const host = hostOf(url);
  if (settings.allowedHosts && !hostAllowed(settings.allowedHosts, host)) return `The host ${host} is not in BATCHGATE_WEBHOOK_ALLOWED_HOSTS.`;
  if (!settings.allowPrivate && (host === 'localhost' || host.endsWith('.localhost'))) {
    return `${host} is not a public host (set BATCHGATE_WEBHOOK_ALLOW_PRIVATE=1 to allow it).`;
  }
  return addressRefusal(settings, host);
}

/** Parses and checks a webhook URL (WEBHOOK_URL_NOT_ALLOWED when refused); the fragment, never sent, is dropped. */
export function checkWebhookUrl(settings: WebhookSettings, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    fail('WEBHOOK_URL_NOT_ALLOWED', 'The URL is not a valid absolute URL.');
  }
  const refusal = urlRefusal(settings, url);
  if (refusal) fail('WEBHOOK_URL_NOT_ALLOWED', refusal);
  url.hash = '';
  return url.href;
}
