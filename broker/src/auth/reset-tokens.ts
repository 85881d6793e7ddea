/**
 * One-time password reset tokens. A token is 32 random bytes; only its SHA-256 is stored (with
 * that much entropy a fast hash is enough), so reading the users' rows gives no usable link.
 * A user has at most one: a new token replaces the older, and removing the user drops it.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Reset tokens start with this, so a reset token is never taken for a password or an MQTT token. */
export const RESET_PREFIX = 'ssr1.';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A new token and the hash to store. */
export function newResetToken(): { token: string; hash: string } {
  const token = `${RESET_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: sha256(token) };
}

/** The stored hash of something offered as a token; null when it cannot be one. */
export function resetTokenHash(token: string): string | null {
  return token.startsWith(RESET_PREFIX) && token.length <= 256 ? sha256(token) : null;
}
