/**
 * One-time password reset tokens in users.db. A token is 32 random bytes; only its SHA-256 is
 * stored (with that much entropy a fast hash is enough), so reading users.db gives no usable link.
 * A user has at most one: a new token replaces the older, and removing the user drops it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';

/** Reset tokens start with this, so a reset token is never taken for a password or an MQTT token. */
export const RESET_PREFIX = 'ssr1.';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

export class ResetTokens {
  private readonly stmts;

  constructor(db: Database.Database) {
    this.stmts = {
      get: db.prepare<[string], { name: string; expires_at: number }>(
        'SELECT name, expires_at FROM reset_tokens WHERE hash = ?',
      ),
      insert: db.prepare('INSERT INTO reset_tokens (hash, name, created_at, expires_at) VALUES (?, ?, ?, ?)'),
      use: db.prepare('DELETE FROM reset_tokens WHERE hash = ? AND expires_at > ?'),
      drop: db.prepare('DELETE FROM reset_tokens WHERE name = ? OR expires_at <= ?'),
    };
  }

  /** A new token for `name`; the user's older one and every expired one are dropped. Call in a transaction. */
  issue(name: string, now: number, expiresAt: number): string {
    const token = `${RESET_PREFIX}${randomBytes(32).toString('base64url')}`;
    this.stmts.drop.run(name, now);
    this.stmts.insert.run(sha256(token), name, now, expiresAt);
    return token;
  }

  /** The user a token is for, while it is unused and unexpired; null otherwise. */
  find(token: string, now: number): string | null {
    if (!token.startsWith(RESET_PREFIX) || token.length > 256) return null;
    const row = this.stmts.get.get(sha256(token));
    return row && row.expires_at > now ? row.name : null;
  }

  /** Uses the token up: true only for the one caller that did. */
  use(token: string, now: number): boolean {
    return this.stmts.use.run(sha256(token), now).changes === 1;
  }

  /** Drops the user's token (it was removed) and every expired one. */
  dropFor(name: string, now: number): void {
    this.stmts.drop.run(name, now);
  }
}
