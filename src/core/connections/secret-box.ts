import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { fail } from '../../errors.ts';

/**
 * Secrets at rest (data connection URLs, webhook signing secrets): AES-256-GCM (node:crypto) under the 32-byte key of BATCHGATE_SECRET_KEY.
 *
 *   v1.<key fingerprint>.<iv>.<tag>.<ciphertext>        (base64url parts)
 *
 * A fresh 96-bit IV per value (GCM's recommended size); the 128-bit tag authenticates it. The additional data is
 * the row's identity (e.g. workspace and connection id), so a ciphertext copied onto another row does not decrypt.
 * The fingerprint (first 8 bytes of the key's SHA-256) tells "stored under another key" apart from "corrupt".
 */
export const SEALED_VERSION = 'v1';
const VERSION = SEALED_VERSION;

/**
 * Reads BATCHGATE_SECRET_KEY: 32 bytes as 64 hex digits or as base64. Absent (empty) gives null: the service runs,
 * and only what needs the key (registering or using a data connection) answers SECRET_KEY_UNAVAILABLE. A value
 * that is not a 32-byte key stops the start, since every later use of it would fail.
 */
export function parseSecretKey(value: string | undefined): Buffer | null {
  const v = value?.trim() ?? '';
  if (v === '') return null;
  if (/^[0-9a-fA-F]{64}$/.test(v)) return Buffer.from(v, 'hex');
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(v)) {
    const key = Buffer.from(v.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (key.length === 32) return key;
  }
  throw new Error('BATCHGATE_SECRET_KEY must be 32 bytes, as 64 hex digits or base64 (e.g. `openssl rand -hex 32`).');
}

function fingerprint(key: Buffer): string {
  return createHash('sha256').update(key).digest().subarray(0, 8).toString('base64url');
}

function requireKey(key: Buffer | null): Buffer {
  if (!key)
    fail(
      'SECRET_KEY_UNAVAILABLE',
      'BATCHGATE_SECRET_KEY is not set: it is needed to decrypt and encrypt stored secrets.',
    );
  return key;
}

export function seal(key: Buffer | null, plaintext: string, aad: string): string {
  const k = requireKey(key);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', k, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [
    VERSION,
    fingerprint(k),
    iv.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
    ct.toString('base64url'),
  ].join('.');
}

export function open(key: Buffer | null, sealed: string, aad: string): string {
  const k = requireKey(key);
  const [version, fp, iv, tag, ct] = sealed.split('.');
  if (version !== VERSION || !fp || !iv || !tag || ct === undefined) fail('INTERNAL', 'A stored secret is malformed.');
  if (fp !== fingerprint(k)) {
    fail(
      'SECRET_KEY_UNAVAILABLE',
      'This secret was stored under another BATCHGATE_SECRET_KEY; set that key, or store it again (register the connection, or give the webhook a new secret).',
    );
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', k, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    fail('INTERNAL', 'A stored secret does not authenticate under the current key.');
  }
}
