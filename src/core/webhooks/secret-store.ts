import { randomBytes } from 'node:crypto';

/**
 * Webhook signing secrets at rest: the only code that reads or writes `webhook.secret`.
 *
 * The delivery loop needs the secret itself to compute each HMAC, so it cannot be a one-way hash like API tokens.
 * This branch has no BATCHGATE_SECRET_KEY yet, so the value is stored as `plain:<secret>`. When issue 10's
 * AES-256-GCM secret box (seal/open under BATCHGATE_SECRET_KEY, additional data = the row's identity) is merged,
 * sealSecret writes `v1.…` ciphertexts and openSecret reads both forms, so rows written before keep working; no
 * caller changes. The secret is never returned by the API after creation and never logged.
 */
const PLAIN = 'plain:';

/** A new secret: 32 random bytes (256 bits, the HMAC-SHA256 block's worth of key), with Stripe's recognisable prefix. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/** The column value for a webhook's secret. `webhookId` is the additional data an encrypted form will bind to. */
export function sealSecret(_webhookId: string, secret: string): string {
  return PLAIN + secret;
}

/** The secret of a stored column value. */
export function openSecret(_webhookId: string, stored: string): string {
  if (stored.startsWith(PLAIN)) return stored.slice(PLAIN.length);
  throw new Error('A stored webhook secret has an unknown format (written by a newer batchgate?).');
}
