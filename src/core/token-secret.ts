import { hash, randomBytes } from 'node:crypto';

const PREFIX = 'bg_';

/** The shortest token the service takes as BATCHGATE_ADMIN_TOKEN; those it issues are 46 characters. */
export const MIN_TOKEN_LENGTH = 32;

/** 32 random bytes; only the SHA-256 is stored, so a leaked database does not leak usable tokens. */
export function newTokenSecret(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

/** The one-shot hash: createHash().update().digest() cost 1.5 µs a call here against 0.4 µs, on every request. */
export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}
