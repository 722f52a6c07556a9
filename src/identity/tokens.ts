import { createHash, randomBytes } from 'node:crypto';

/** A random opaque token (256 bits, base64url) handed to a client; only its hash is stored. */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

/** SHA-256 of a token: what the database keeps. High-entropy tokens need no salt or slow hash. */
export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * Identifies the password a check verified (SHA-256 of its argon2 hash, which carries a fresh salt
 * each time), so a later step can tell whether the password changed in between. Not a secret.
 */
export function credentialStamp(passwordHash: string): Buffer {
  return hashToken(passwordHash);
}
