import { randomBytes } from 'node:crypto';
import { open, seal, SEALED_VERSION } from '../connections/secret-box.ts';

/**
 * Webhook signing secrets at rest: the only code that reads or writes `webhook.secret`.
 *
 * The delivery loop needs the secret itself to compute each HMAC, so it cannot be a one-way hash like API tokens.
 * With BATCHGATE_SECRET_KEY set it is sealed by the data connections' box (AES-256-GCM, `v1.…`, bound to the
 * webhook's id). Without a key webhooks still work, stored as `plain:<secret>` (docs/operations.md, Configuration, says so),
 * and both forms are read, so rows written before a key was set keep delivering. A row sealed under a key that
 * is no longer set fails its deliveries with SECRET_KEY_UNAVAILABLE in the delivery log. The secret is never
 * returned by the API after creation and never logged.
 */
const PLAIN = 'plain:';

const aadOf = (webhookId: string) => `webhook:${webhookId}`;

/** A new secret: 32 random bytes (256 bits, the HMAC-SHA256 block's worth of key), with Stripe's recognisable prefix. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** The column value for a webhook's secret: sealed under `key` when there is one. */
export function sealSecret(key: Buffer | null, webhookId: string, secret: string): string {
  return key ? seal(key, secret, aadOf(webhookId)) : PLAIN + secret;
}

/** The secret of a stored column value. */
export function openSecret(key: Buffer | null, webhookId: string, stored: string): string {
  if (stored.startsWith(PLAIN)) return stored.slice(PLAIN.length);
  if (stored.startsWith(`${SEALED_VERSION}.`)) return open(key, stored, aadOf(webhookId));
  throw new Error('A stored webhook secret has an unknown format (written by a newer batchgate?).');
}
