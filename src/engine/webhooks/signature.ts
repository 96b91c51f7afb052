import { createHmac } from 'node:crypto';

/**
 * The `Batchgate-Signature` header, Stripe's scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256>`, the HMAC keyed with
 * the webhook's secret (its UTF-8 bytes) over `<t>.<raw body>`. Signing the timestamp with the body lets a
 * receiver refuse replays: recompute v1, compare in constant time, and reject a `t` more than 5 minutes from its
 * clock. Each attempt is signed anew, so a retry or a redelivery carries a fresh `t` over the same body.
 */
export function signatureHeader(secret: string, body: string, timestampSeconds: number): string {
  const v1 = createHmac('sha256', secret).update(`${timestampSeconds}.${body}`).digest('hex');
  return `t=${timestampSeconds},v1=${v1}`;
}
