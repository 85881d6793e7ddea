/**
 * The users on Postgres, for the cluster's web nodes (see broker's auth/user-rows.ts): the tables
 * of users.db in Postgres types, and the shared secrets (the token secret) every node must hold
 * the same. The rules stay in UserStore; what two nodes could race on is settled here — one row
 * per name, one reset token per user, a token used once, a secret created once.
 */
import { randomBytes } from 'node:crypto';
import type { AsyncUserRows, UserRow } from '@shelfsense/broker';
import { ReplenishmentError, ReplenishmentErrorCodes } from '../errors.js';
import type { Param, PgDb } from './db.js';

export const USERS_SCHEMA = `
  -- users.db's users: role and scope as JSON text, an scrypt hash (never a password).
  CREATE TABLE users (
    name TEXT PRIMARY KEY,
    grant_json TEXT NOT NULL,
    hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    disabled BOOLEAN NOT NULL DEFAULT false,
    tokens_after BIGINT NOT NULL DEFAULT 0
  );
  -- One-time password reset tokens, by SHA-256; at most one per user, gone with the user.
  CREATE TABLE reset_tokens (
    hash TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE REFERENCES users (name) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
  );
  CREATE INDEX reset_tokens_expires ON reset_tokens (expires_at);
  -- Random secrets every process must share (the token secret), created once by whoever is first.
  CREATE TABLE secrets (
    name TEXT PRIMARY KEY,
    value BYTEA NOT NULL CHECK (octet_length(value) >= 32),
    created_at BIGINT NOT NULL
  );
`;

const COLUMNS = `name, grant_json AS "grantJson", hash, created_at AS "createdAt", updated_at AS "updatedAt",
  disabled, tokens_after AS "tokensAfter"`;

type PgRow = UserRow & Record<string, unknown>;

/** Thrown inside a transaction to roll it back and answer false. */
const ROLLBACK = Symbol('rollback');

export class PgUsersRepo implements AsyncUserRows {
  constructor(private readonly db: PgDb) {}

  async get(name: string): Promise<UserRow | undefined> {
    return this.db.one<PgRow>(`SELECT ${COLUMNS} FROM users WHERE name = $1`, [name]);
  }

  async list(): Promise<UserRow[]> {
    // Byte order whatever the database's collation, as users.db lists them.
    return this.db.query<PgRow>(`SELECT ${COLUMNS} FROM users ORDER BY name COLLATE "C"`);
  }

  async insert(name: string, grantJson: string, hash: string, at: number): Promise<boolean> {
    const n = await this.db.run(
      `INSERT INTO users (name, grant_json, hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (name) DO NOTHING`,
      [name, grantJson, hash, at],
    );
    return n === 1;
  }

  async setHash(name: string, hash: string, at: number): Promise<boolean> {
    return this.one('UPDATE users SET hash = $2, updated_at = $3 WHERE name = $1', [name, hash, at]);
  }

  async setGrant(name: string, grantJson: string, at: number): Promise<boolean> {
    return this.one('UPDATE users SET grant_json = $2, updated_at = $3 WHERE name = $1', [
      name,
      grantJson,
      at,
    ]);
  }

  async setDisabled(name: string, disabled: boolean, tokensAfter: number, at: number): Promise<boolean> {
    return this.one('UPDATE users SET disabled = $2, tokens_after = $3, updated_at = $4 WHERE name = $1', [
      name,
      disabled,
      tokensAfter,
      at,
    ]);
  }

  async setTokensAfter(name: string, tokensAfter: number, at: number): Promise<boolean> {
    return this.one('UPDATE users SET tokens_after = $2, updated_at = $3 WHERE name = $1', [
      name,
      tokensAfter,
      at,
    ]);
  }

  /** True when the statement changed exactly one row. */
  private async one(sql: string, params: readonly Param[]): Promise<boolean> {
    return (await this.db.run(sql, params)) === 1;
  }

  async remove(name: string, now: number): Promise<boolean> {
    // The user's reset token goes with it (ON DELETE CASCADE).
    const n = await this.db.run('DELETE FROM users WHERE name = $1', [name]);
    if (n === 1) await this.db.run('DELETE FROM reset_tokens WHERE expires_at <= $1', [now]);
    return n === 1;
  }

  async issueReset(tokenHash: string, name: string, now: number, expiresAt: number): Promise<void> {
    await this.db.transaction(async () => {
      await this.db.run('DELETE FROM reset_tokens WHERE expires_at <= $1', [now]);
      // The unique name replaces the user's earlier token, also when two nodes issue at once.
      await this.db.run(
        `INSERT INTO reset_tokens (hash, name, created_at, expires_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO UPDATE
           SET hash = excluded.hash, created_at = excluded.created_at, expires_at = excluded.expires_at`,
        [tokenHash, name, now, expiresAt],
      );
    });
  }

  async findReset(tokenHash: string, now: number): Promise<string | null> {
    const row = await this.db.one<{ name: string }>(
      'SELECT name FROM reset_tokens WHERE hash = $1 AND expires_at > $2',
      [tokenHash, now],
    );
    return row?.name ?? null;
  }

  async useReset(tokenHash: string, name: string, passwordHash: string, now: number): Promise<boolean> {
    try {
      return await this.db.transaction(async () => {
        // DELETE takes the row lock: of two nodes using one token, the second deletes nothing.
        const used = await this.db.run('DELETE FROM reset_tokens WHERE hash = $1 AND expires_at > $2', [
          tokenHash,
          now,
        ]);
        if (used !== 1) return false;
        const set = await this.db.run('UPDATE users SET hash = $2, updated_at = $3 WHERE name = $1', [
          name,
          passwordHash,
          now,
        ]);
        if (set !== 1) throw ROLLBACK;
        return true;
      });
    } catch (err) {
      if (err === ROLLBACK) return false;
      throw err;
    }
  }
}

/** Bytes of a secret created here. */
const SECRET_BYTES = 32;

export class PgSecretsRepo {
  constructor(private readonly db: PgDb) {}

  /**
   * The shared secret called `name`: 32 random bytes, created by the first process to ask. Every
   * process gets the same bytes, however many ask at once (the insert of all but one does
   * nothing, and the read that follows sees the one that won).
   */
  async secret(name: string, now = Date.now()): Promise<Buffer> {
    await this.db.run(
      `INSERT INTO secrets (name, value, created_at) VALUES ($1, decode($2, 'hex'), $3)
       ON CONFLICT (name) DO NOTHING`,
      [name, randomBytes(SECRET_BYTES).toString('hex'), now],
    );
    const row = await this.db.one<{ value: Buffer }>('SELECT value FROM secrets WHERE name = $1', [name]);
    if (!row)
      throw new ReplenishmentError(ReplenishmentErrorCodes.STORE, `secret "${name}" vanished once created`);
    return row.value;
  }
}
