/**
 * Users, their roles and password hashes, in `users.db` (SQLite, WAL) under the central data dir.
 * The broker reads it on every login, so `shelfsense users add` in another process takes effect
 * at once. Only scrypt hashes are stored, never a password.
 *
 * Logins from outside (`login()`: MQTT CONNECT, HTTP, the Node-RED editor) go through the one
 * LoginLimiter this store owns, so every way in shares one count per name and per address.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Grant } from '@shelfsense/protocol';
import Database from 'better-sqlite3';
import { z } from 'zod';
import { AuthError, AuthErrorCodes } from './errors.js';
import { LIMIT_REASONS, type LimitReason, LoginLimiter, type LoginLimiterOptions } from './login-limiter.js';
import { DEFAULT_SCRYPT, hashPassword, type ScryptParams, verifyPassword } from './password.js';
import { loadTokenSecret, looksLikeToken, type TokenClaims, TokenSigner } from './tokens.js';

export const USERS_FILE = 'users.db';
export const UserName = z
  .string()
  .regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'letters, digits, and _ . @ -, 1–64 characters');
export const Password = z
  .string()
  .min(8, 'at least 8 characters')
  .max(1024, 'at most 1024 characters')
  .refine(
    (p) => ![...p].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
    'no control characters',
  );

export interface UserRecord {
  name: string;
  grant: Grant;
  createdAt: number;
  updatedAt: number;
}

/** Who a client is once authenticated. */
export interface Identity {
  user: string;
  grant: Grant;
  via: 'password' | 'token' | 'anonymous';
}

export interface UserStoreOptions {
  scrypt?: ScryptParams;
  /** Remember a verified password (as a keyed hash, in memory) this long; 0 disables. */
  verifyCacheMs?: number;
  /** The login limiter's settings (central config `auth.login`). */
  login?: LoginLimiterOptions;
  now?: () => number;
}

export type LoginChannel = 'mqtt' | 'http';
export const LOGIN_CHANNELS: readonly LoginChannel[] = ['mqtt', 'http'];

/** Where a login comes from. */
export interface LoginSource {
  /** The peer's address (the socket's, never a forwarded-for header); absent for in-process clients. */
  address?: string | undefined;
  /** Over HTTP a token is never a password; over MQTT it is. */
  channel: LoginChannel;
}

/** `retryAfterMs` and `limited` are set only when the limiter refused without looking at the secret. */
export type LoginResult =
  | { identity: Identity; retryAfterMs?: undefined; limited?: undefined }
  | { identity: null; retryAfterMs?: number; limited?: LimitReason };

interface Row {
  name: string;
  grant_json: string;
  hash: string;
  created_at: number;
  updated_at: number;
}

const CACHE_LIMIT = 10_000;

/** Hashes are not passwords, but nobody else on the machine should get to guess at them offline. */
function restrict(file: string): void {
  try {
    chmodSync(file, 0o600);
  } catch {
    // Not the owner (a shared, pre-existing file): leave its mode to whoever set it up.
  }
}

export class UserStore {
  private readonly db: Database.Database;
  private readonly signer: TokenSigner;
  private readonly scrypt: ScryptParams;
  private readonly cacheMs: number;
  private readonly now: () => number;
  /** Per-process key for the verify cache, so the cache never holds anything reusable elsewhere. */
  private readonly cacheKey = randomBytes(32);
  private readonly cache = new Map<string, { hash: string; mac: Buffer; until: number }>();
  /** Logins waiting for one in flight to settle (see login). */
  private readonly settled: (() => void)[] = [];
  private dummyHash: Promise<string> | null = null;
  private readonly stmts;
  /** Failed logins, shared by every channel. */
  readonly limiter: LoginLimiter;
  /** Logins the limiter refused, by channel and reason. */
  readonly loginRefused = Object.fromEntries(
    LOGIN_CHANNELS.map((c) => [c, Object.fromEntries(LIMIT_REASONS.map((r) => [r, 0]))]),
  ) as Record<LoginChannel, Record<LimitReason, number>>;

  constructor(
    readonly dataDir: string,
    options: UserStoreOptions = {},
  ) {
    this.scrypt = options.scrypt ?? DEFAULT_SCRYPT;
    this.cacheMs = options.verifyCacheMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.limiter = new LoginLimiter(options.login);
    const file = join(dataDir, USERS_FILE);
    try {
      mkdirSync(dataDir, { recursive: true });
      this.db = new Database(file);
      restrict(file);
      this.db.pragma('busy_timeout = 5000');
      this.db.pragma('journal_mode = WAL');
      this.db.exec(`CREATE TABLE IF NOT EXISTS users (
        name TEXT PRIMARY KEY,
        grant_json TEXT NOT NULL,
        hash TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT`);
    } catch (err) {
      throw new AuthError(AuthErrorCodes.STORE, `cannot open user store ${file}: ${(err as Error).message}`);
    }
    this.stmts = {
      get: this.db.prepare<[string], Row>('SELECT * FROM users WHERE name = ?'),
      list: this.db.prepare<[], Row>('SELECT * FROM users ORDER BY name'),
      insert: this.db.prepare(
        'INSERT INTO users (name, grant_json, hash, created_at, updated_at) VALUES (?, ?, ?, ?, ?)',
      ),
      setHash: this.db.prepare('UPDATE users SET hash = ?, updated_at = ? WHERE name = ?'),
      remove: this.db.prepare('DELETE FROM users WHERE name = ?'),
    };
    this.signer = new TokenSigner(loadTokenSecret(dataDir), this.now);
  }

  private toRecord(row: Row): UserRecord {
    return {
      name: row.name,
      grant: Grant.parse(JSON.parse(row.grant_json)),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
  }

  private static check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    const msg = r.error.issues.map((i) => `${[what, ...i.path].join('.')}: ${i.message}`).join('; ');
    throw new AuthError(AuthErrorCodes.INVALID, msg);
  }

  get(name: string): UserRecord | undefined {
    const row = this.stmts.get.get(name);
    return row ? this.toRecord(row) : undefined;
  }

  list(): UserRecord[] {
    return this.stmts.list.all().map((r) => this.toRecord(r));
  }

  async add(name: string, grant: Grant, password: string): Promise<UserRecord> {
    UserStore.check(UserName, name, 'name');
    const g = UserStore.check(Grant, grant, 'grant');
    UserStore.check(Password, password, 'password');
    if (this.stmts.get.get(name)) throw new AuthError(AuthErrorCodes.EXISTS, `user "${name}" already exists`);
    const hash = await hashPassword(password, this.scrypt);
    const t = this.now();
    try {
      this.stmts.insert.run(name, JSON.stringify(g), hash, t, t);
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
        throw new AuthError(AuthErrorCodes.EXISTS, `user "${name}" already exists`);
      }
      throw err;
    }
    return { name, grant: g, createdAt: t, updatedAt: t };
  }

  async setPassword(name: string, password: string): Promise<void> {
    UserStore.check(Password, password, 'password');
    if (!this.stmts.get.get(name)) throw new AuthError(AuthErrorCodes.NOT_FOUND, `no user "${name}"`);
    const hash = await hashPassword(password, this.scrypt);
    this.stmts.setHash.run(hash, this.now(), name);
    this.cache.delete(name);
  }

  remove(name: string): void {
    const r = this.stmts.remove.run(name);
    this.cache.delete(name);
    if (r.changes === 0) throw new AuthError(AuthErrorCodes.NOT_FOUND, `no user "${name}"`);
  }

  /**
   * A login from outside: the limiter first (a locked name or address is refused without looking
   * at the secret, with `retryAfterMs`), then the secret, counted as a failure before the (slow)
   * check so parallel attempts cannot slip under the limit; a success clears the name's count.
   * Over MQTT the secret may be a password or a token (a bad token counts as a failure too); over
   * HTTP only a password. Resolves `{identity: null}` for every failure, never saying which.
   */
  async login(name: string, secret: string, from: LoginSource): Promise<LoginResult> {
    let verdict = this.limiter.attempt(name, from.address, this.now());
    while (!verdict.ok && 'busy' in verdict) {
      await new Promise<void>((resolve) => this.settled.push(resolve));
      verdict = this.limiter.attempt(name, from.address, this.now());
    }
    if (!verdict.ok) {
      this.loginRefused[from.channel][verdict.reason]++;
      return { identity: null, retryAfterMs: verdict.retryAfterMs, limited: verdict.reason };
    }
    let identity: Identity | null = null;
    try {
      identity =
        from.channel === 'http' && looksLikeToken(secret) ? null : await this.authenticate(name, secret);
    } finally {
      if (identity) this.limiter.succeed(name, from.address, this.now());
      else this.limiter.failed(name, from.address);
      for (const wake of this.settled.splice(0)) wake();
    }
    return { identity };
  }

  /**
   * Checks a user name with a password or a token (a string starting `sst1.`). Returns the
   * identity, or null for any failure (unknown user, wrong password, bad or expired token).
   * Not rate-limited: logins from outside go through `login()`.
   */
  async authenticate(name: string, secret: string): Promise<Identity | null> {
    if (looksLikeToken(secret)) {
      try {
        const claims = this.verifyToken(secret);
        return claims.user === name ? { user: name, grant: claims.grant, via: 'token' } : null;
      } catch {
        return null;
      }
    }
    const row = this.stmts.get.get(name);
    if (!row) {
      // Spend the same scrypt time as for a real user, so timing does not tell which names exist.
      this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'), this.scrypt);
      await verifyPassword(secret, await this.dummyHash);
      return null;
    }
    const mac = createHmac('sha256', this.cacheKey).update(secret).digest();
    const hit = this.cache.get(name);
    const t = this.now();
    if (hit && hit.hash === row.hash && hit.until > t && timingSafeEqual(hit.mac, mac)) {
      return { user: name, grant: this.toRecord(row).grant, via: 'password' };
    }
    if (!(await verifyPassword(secret, row.hash))) return null;
    if (this.cacheMs > 0) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(name, { hash: row.hash, mac, until: t + this.cacheMs });
    }
    return { user: name, grant: this.toRecord(row).grant, via: 'password' };
  }

  /** A keyed tag of the user's current password hash: never the hash, and changes with it. */
  private passwordTag(row: Row): string {
    return this.signer.tag(`${row.name}\u0000${row.hash}`);
  }

  /** A signed token for an existing user, carrying its current role and scope and a tag of its password. */
  issueToken(name: string, ttlMs: number): string {
    const row = this.stmts.get.get(name);
    if (!row) throw new AuthError(AuthErrorCodes.NOT_FOUND, `no user "${name}"`);
    return this.signer.issue(name, this.toRecord(row).grant, ttlMs, this.passwordTag(row));
  }

  /**
   * Verifies a token's spelling, signature and expiry, and that its user still exists with the
   * same role, scope and password (removing a user, changing its role or its password revokes
   * its tokens). Every place that accepts a token checks it here. Throws AuthError(SHELF_ERR_TOKEN).
   */
  verifyToken(token: string): TokenClaims {
    const claims = this.signer.verify(token);
    const row = this.stmts.get.get(claims.user);
    if (!row) throw new AuthError(AuthErrorCodes.TOKEN, `token rejected: no user "${claims.user}"`);
    if (JSON.stringify(this.toRecord(row).grant) !== JSON.stringify(claims.grant)) {
      throw new AuthError(AuthErrorCodes.TOKEN, 'token rejected: the user’s role or scope has changed');
    }
    const tag = Buffer.from(this.passwordTag(row));
    const held = Buffer.from(claims.passwordTag ?? '');
    if (held.length !== tag.length || !timingSafeEqual(held, tag)) {
      throw new AuthError(AuthErrorCodes.TOKEN, 'token rejected: the user’s password has changed');
    }
    return claims;
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.cache.clear();
  }
}
