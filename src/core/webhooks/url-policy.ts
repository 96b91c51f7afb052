import ipaddr from 'ipaddr.js';
import { fail } from '../../errors.ts';
import type { WebhookSettings } from '../context.ts';

/**
 * Where webhooks may deliver (the SSRF stance). A webhook URL is typed by a workspace admin, but the POST is sent
 * from inside the service's network, so by default it may reach only public addresses:
 *
 * - http and https only, without credentials in the URL; redirects are never followed (a 3xx is a failure).
 * - With BATCHGATE_WEBHOOK_ALLOWED_HOSTS set, the host must be one of its names (`*.example.com` for subdomains).
 * - Unless BATCHGATE_WEBHOOK_ALLOW_PRIVATE=1, every address ipaddr.js does not class as public unicast (loopback,
 *   private, link-local, CGNAT, multicast, documentation, Teredo, …; IPv6 forms that embed an IPv4 address by that
 *   address) is refused: an IP literal or `localhost` when the webhook is saved, and every
 *   address a host name resolves to when each POST connects (src/engine/webhooks/send.ts checks the address it
 *   connects to, so a name re-pointed at 127.0.0.1 after it was saved is refused too).
 */
/** The IPv4 address an IPv6 one carries and is delivered to: mapped, translated, IPv4-compatible, NAT64, 6to4. */
function embeddedIPv4(v6: ipaddr.IPv6): ipaddr.IPv4 | null {
  const p = v6.parts;
  const ipv4 = (hi: number, lo: number) => new ipaddr.IPv4([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]);
  // ::a.b.c.d (IPv4-compatible, deprecated; :: and ::1 too, which then read as 0.0.0.0/8, unspecified).
  if (p.slice(0, 6).every((x) => x === 0)) return ipv4(p[6]!, p[7]!);
  const range = v6.range();
  // 64:ff9b::/96 carries the address in its last 32 bits; the local-use 64:ff9b:1::/48 is never public.
  if (range === 'ipv4Mapped' || range === 'rfc6145' || (range === 'rfc6052' && p[2] === 0)) return ipv4(p[6]!, p[7]!);
  if (range === '6to4') return ipv4(p[1]!, p[2]!);
  return null;
}

/**
 * True for an IP address that is not a public unicast one, classified by ipaddr.js: IPv4 in the `unicast`
 * range only; IPv6 that embeds an IPv4 address as that address; any other IPv6 in the `unicast` range only
 * (Teredo, documentation, discard, ORCHID, local-use NAT64 and the rest are special-purpose). Not an address: false.
 */
export function isNonPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const addr = ipaddr.parse(address);
  if (addr.kind() === 'ipv4') return addr.range() !== 'unicast';
  const v4 = embeddedIPv4(addr as ipaddr.IPv6);
  if (v4) return v4.range() !== 'unicast';
  return addr.range() !== 'unicast';
}

/** The URL's host name as compared: lower case, without IPv6 brackets or a trailing dot. */
function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
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
  if (url.username || url.password)
    return 'A webhook URL may not carry credentials; receivers authenticate deliveries by their signature.';
  const host = hostOf(url);
  if (settings.allowedHosts && !hostAllowed(settings.allowedHosts, host))
    return `The host ${host} is not in BATCHGATE_WEBHOOK_ALLOWED_HOSTS.`;
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
