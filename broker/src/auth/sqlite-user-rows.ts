/**
 * The users' rows in `users.db` (SQLite, WAL, mode 0600) under the central data dir: the store of
 * one central and the `shelfsense users` CLI on its host, which open the same file. Also keeps the
 * audit events of a process without central's store (`audit_pending`) until central takes them.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { PendingAudit } from './audit.js';
import { AuthError, AuthErrorCodes } from './errors.js';
import type { UserRow, UserRows } from './user-rows.js';
import { migrateUsers } from './user-schema.js';

export const USERS_FILE = 'users.db';

interface SqlRow {
  name: string;
  grant_json: string;
  hash: string;
  created_at: number;
  updated_at: number;
  disabled: number;
  tokens_after: number;
}

const toRow = (r: SqlRow): UserRow => ({
  name: r.name,
  grantJson: r.grant_json,
  hash: r.hash,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  disabled: r.disabled !== 0,
  tokensAfter: r.tokens_after,
});

/** Hashes are not passwords, but nobody else on the machine should get to guess at them offline. */
function restrict(file: string): void {
  try {
    chmodSync(file, 0o600);
  } catch {
    // Not the owner (a shared, pre-existing file): leave its mode to whoever set it up.
  }
}

/** Thrown inside a transaction to roll it back and answer false. */
const ROLLBACK = Symbol('rollback');

export class SqliteUserRows implements UserRows, PendingAudit {
  private readonly db: Database.Database;
  private readonly stmts;

  constructor(dataDir: string) {
    const file = join(dataDir, USERS_FILE);
    try {
      mkdirSync(dataDir, { recursive: true });
      this.db = new Database(file);
      restrict(file);
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('journal_mode = WAL');
      migrateUsers(this.db);
    } catch (err) {
      throw new AuthError(AuthErrorCodes.STORE, `cannot open user store ${file}: ${(err as Error).message}`);
    }
    const db = this.db;
    this.stmts = {
      get: db.prepare<[string], SqlRow>('SELECT * FROM users WHERE name = ?'),
      list: db.prepare<[], SqlRow>('SELECT * FROM users ORDER BY name'),
      insert: db.prepare(
        'INSERT INTO users (name, grant_json, hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
      ),
      setHash: db.prepare('UPDATE users SET hash = ?, updated_at = ? WHERE name = ?'),
      setGrant: db.prepare('UPDATE users SET grant_json = ?, updated_at = ? WHERE name = ?'),
      setDisabled: db.prepare(
        'UPDATE users SET disabled = ?, tokens_after = ?, updated_at = ? WHERE name = ?',
      ),
      setTokensAfter: db.prepare('UPDATE users SET tokens_after = ?, updated_at = ? WHERE name = ?'),
      remove: db.prepare('DELETE FROM users WHERE name = ?'),
      resetGet: db.prepare<[string], { name: string; expires_at: number }>(
        'SELECT name, expires_at FROM reset_tokens WHERE hash = ?',
      ),
      resetInsert: db.prepare(
        'INSERT INTO reset_tokens (hash, name, created_at, expires_at) VALUES (?, ?, ?, ?)',
      ),
      resetUse: db.prepare('DELETE FROM reset_tokens WHERE hash = ? AND expires_at > ?'),
      resetDrop: db.prepare('DELETE FROM reset_tokens WHERE name = ? OR expires_at <= ?'),
      pendingAdd: db.prepare('INSERT INTO audit_pending (event) VALUES (?)'),
      pendingAny: db.prepare<[], { seq: number }>('SELECT seq FROM audit_pending LIMIT 1'),
      pendingList: db.prepare<[number], { seq: number; event: string }>(
        'SELECT seq, event FROM audit_pending ORDER BY seq LIMIT ?',
      ),
      pendingDrop: db.prepare('DELETE FROM audit_pending WHERE seq <= ?'),
    };
  }

  get(name: string): UserRow | undefined {
    const r = this.stmts.get.get(name);
    return r ? toRow(r) : undefined;
  }

  list(): UserRow[] {
    return this.stmts.list.all().map(toRow);
  }

  insert(name: string, grantJson: string, hash: string, at: number): boolean {
    try {
      this.stmts.insert.run(name, grantJson, hash, at, at);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return false;
      throw err;
    }
  }

  setHash(name: string, hash: string, at: number): boolean {
    return this.stmts.setHash.run(hash, at, name).changes === 1;
  }

  setGrant(name: string, grantJson: string, at: number): boolean {
    return this.stmts.setGrant.run(grantJson, at, name).changes === 1;
  }

  setDisabled(name: string, disabled: boolean, tokensAfter: number, at: number): boolean {
    return this.stmts.setDisabled.run(disabled ? 1 : 0, tokensAfter, at, name).changes === 1;
  }

  setTokensAfter(name: string, tokensAfter: number, at: number): boolean {
    return this.stmts.setTokensAfter.run(tokensAfter, at, name).changes === 1;
  }

  remove(name: string, now: number): boolean {
    return this.db.transaction(() => {
      if (this.stmts.remove.run(name).changes === 0) return false;
      this.stmts.resetDrop.run(name, now);
      return true;
    })();
  }

  issueReset(tokenHash: string, name: string, now: number, expiresAt: number): void {
    this.db.transaction(() => {
      this.stmts.resetDrop.run(name, now);
      this.stmts.resetInsert.run(tokenHash, name, now, expiresAt);
    })();
  }

  findReset(tokenHash: string, now: number): string | null {
    const r = this.stmts.resetGet.get(tokenHash);
    return r && r.expires_at > now ? r.name : null;
  }

  useReset(tokenHash: string, name: string, passwordHash: string, now: number): boolean {
    try {
      return this.db.transaction(() => {
        if (this.stmts.resetUse.run(tokenHash, now).changes !== 1) return false;
        if (this.stmts.setHash.run(passwordHash, now, name).changes !== 1) throw ROLLBACK;
        return true;
      })();
    } catch (err) {
      if (err === ROLLBACK) return false;
      throw err;
    }
  }

  addPending(event: string): void {
    this.stmts.pendingAdd.run(event);
  }

  /** Under a write lock, so two centrals never both take one event. */
  drainPending(sink: (events: string[]) => void, limit: number): number {
    // Most calls find nothing: a read, without the write lock.
    if (!this.stmts.pendingAny.get()) return 0;
    return this.db
      .transaction(() => {
        const rows = this.stmts.pendingList.all(limit);
        const last = rows[rows.length - 1];
        if (!last) return 0;
        sink(rows.map((r) => r.event));
        this.stmts.pendingDrop.run(last.seq);
        return rows.length;
      })
      .immediate();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
