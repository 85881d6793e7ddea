/**
 * Users, their roles and password hashes, in `users.db` (SQLite, WAL) under the central data dir,
 * or in rows several central processes share (`rows`: Postgres in the cluster deployment). Every
 * login reads the user's row, so a change made by another process (`shelfsense users add`,
 * another web node) takes effect at once. Only scrypt hashes are stored, never a password.
 *
 * Logins from outside (`login()`: MQTT CONNECT, HTTP, the Node-RED editor) go through the one
 * LoginLimiter this store owns, so every way in shares one count per name and per address.
 *
 * A user may be disabled (its logins and tokens are refused), have every token revoked at once
 * (`tokens_after`), and be given a one-time password reset token (stored as a SHA-256 hash).
 * Every login, failed login, token issued and change is reported to the `onAudit` listeners and,
 * in a process without central's store (`pendingAudit`, the CLI), kept in `users.db` until
 * central takes it (`drainPendingAudit`).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type AnySchema, Grant, NewPassword, UserName } from '@shelfsense/protocol';
import { z } from 'zod';
import {
  type AuditActor,
  AuditOutlet,
  type LoginFailure,
  type UserAuditAction,
  type UserAuditEvent,
  type UserAuditListener,
  type UserAuditState,
} from './audit.js';
import { AuthError, AuthErrorCodes } from './errors.js';
import { LIMIT_REASONS, type LimitReason, LoginLimiter, type LoginLimiterOptions } from './login-limiter.js';
import { DEFAULT_SCRYPT, hashPassword, type ScryptParams, verifyPassword } from './password.js';
import { newResetToken, resetTokenHash } from './reset-tokens.js';
import { SqliteUserRows } from './sqlite-user-rows.js';
import { loadTokenSecret, looksLikeToken, type TokenClaims, TokenSigner } from './tokens.js';
import type { UserRow, UserRows } from './user-rows.js';

export { USERS_FILE } from './sqlite-user-rows.js';
export { UserName };
export const Password = NewPassword;
/** How long a password reset link works by default. */
export const RESET_TTL_MS = 24 * 3_600_000;
export { RESET_PREFIX } from './reset-tokens.js';

/** The stored hash of a user added without a password: no password ever verifies against it. */
const NO_PASSWORD = '!';

export interface UserRecord {
  name: string;
  grant: Grant;
  createdAt: number;
  updatedAt: number;
  disabled: boolean;
  /** False until a user added without a password sets one (through its reset link). */
  hasPassword: boolean;
  /** Tokens issued before this time (epoch ms) are refused; 0 when never revoked. */
  tokensAfter: number;
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
  /** Who acts when a change names no actor (default: `central`). */
  actor?: AuditActor;
  /** Keep audit events in `users.db` for central to take (a process without central's store). */
  pendingAudit?: boolean;
  /**
   * Where the users live instead of `users.db` (Postgres, shared by the cluster's web nodes);
   * the caller opens and closes it. Needs `tokenSecret` unless the store has a data dir.
   */
  rows?: UserRows;
  /** The token secret (at least 32 bytes) instead of `token-secret` in the data dir. */
  tokenSecret?: Uint8Array;
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

type Row = UserRow;

type Checked = { identity: Identity; reason?: undefined } | { identity: null; reason: LoginFailure };

const CACHE_LIMIT = 10_000;

export class UserStore {
  private readonly rows: UserRows;
  /** users.db when the store opened it itself (it keeps pending audit events, and is closed here). */
  private readonly sqlite: SqliteUserRows | null;
  private readonly signer: TokenSigner;
  private readonly scrypt: ScryptParams;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private readonly audit: AuditOutlet;
  /** Per-process key for the verify cache, so the cache never holds anything reusable elsewhere. */
  private readonly cacheKey = randomBytes(32);
  private readonly cache = new Map<string, { hash: string; mac: Buffer; until: number }>();
  /** Logins waiting for one in flight to settle (see login). */
  private readonly settled: (() => void)[] = [];
  private dummyHash: Promise<string> | null = null;
  /** Who acts when a change names no actor. */
  readonly actor: AuditActor;
  /** Failed logins, shared by every channel. */
  readonly limiter: LoginLimiter;
  /** Logins the limiter refused, by channel and reason. */
  readonly loginRefused = Object.fromEntries(
    LOGIN_CHANNELS.map((c) => [c, Object.fromEntries(LIMIT_REASONS.map((r) => [r, 0]))]),
  ) as Record<LoginChannel, Record<LimitReason, number>>;

  /**
   * `dataDir` holds `users.db` and `token-secret`; it may be null when `options.rows` and
   * `options.tokenSecret` say where both are instead.
   */
  constructor(
    readonly dataDir: string | null,
    options: UserStoreOptions = {},
  ) {
    this.scrypt = options.scrypt ?? DEFAULT_SCRYPT;
    this.cacheMs = options.verifyCacheMs ?? 5 * 60_000;
    this.now = options.now ?? Date.now;
    this.actor = options.actor ?? { user: 'central', role: null };
    this.limiter = new LoginLimiter(options.login);
    if (!options.rows && dataDir === null) {
      throw new AuthError(AuthErrorCodes.STORE, 'a user store needs a data dir or rows to keep users in');
    }
    if (!options.tokenSecret && dataDir === null) {
      throw new AuthError(AuthErrorCodes.STORE, 'a user store needs a data dir or a token secret');
    }
    if (options.rows && options.pendingAudit) {
      // Pending events wait in users.db for central; shared rows belong to processes that have central's store.
      throw new AuthError(AuthErrorCodes.STORE, 'pending audit events need users.db, not shared rows');
    }
    const secret = options.tokenSecret
      ? Buffer.from(options.tokenSecret)
      : loadTokenSecret(dataDir as string);
    this.signer = new TokenSigner(secret, this.now);
    this.sqlite = options.rows ? null : new SqliteUserRows(dataDir as string);
    this.rows = options.rows ?? (this.sqlite as SqliteUserRows);
    this.audit = new AuditOutlet(options.pendingAudit ? this.sqlite : null);
  }

  private toRecord(row: Row): UserRecord {
    return {
      name: row.name,
      grant: Grant.parse(JSON.parse(row.grantJson)),
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      disabled: row.disabled,
      hasPassword: row.hash !== NO_PASSWORD,
      tokensAfter: row.tokensAfter,
    };
  }

  private static check<S extends AnySchema>(schema: S, value: unknown, what: string): z.output<S> {
    const r = z.safeParse(schema, value);
    if (r.success) return r.data;
    const msg = r.error.issues.map((i) => `${[what, ...i.path].join('.')}: ${i.message}`).join('; ');
    throw new AuthError(AuthErrorCodes.INVALID, msg);
  }

  private row(name: string): Row {
    const row = this.rows.get(name);
    if (!row) throw new AuthError(AuthErrorCodes.NOT_FOUND, `no user "${name}"`);
    return row;
  }

  // --- audit -------------------------------------------------------------------------------------

  /** Adds a listener for audit events; returns a function that removes it. */
  onAudit(listener: UserAuditListener): () => void {
    return this.audit.on(listener);
  }

  private state(row: Row | undefined): UserAuditState | null {
    return row ? { grant: this.toRecord(row).grant, disabled: row.disabled } : null;
  }

  private emit(
    action: UserAuditAction,
    user: string,
    actor: AuditActor,
    before: Row | undefined,
    after: Row | undefined,
    detail: Record<string, unknown> | null = null,
  ): void {
    if (!this.audit.wanted) return;
    this.audit.emit({
      at: this.now(),
      action,
      actor,
      user,
      before: this.state(before),
      after: this.state(after),
      detail,
    });
  }

  /**
   * Hands the audit events other processes (the CLI) left in `users.db` to `sink`, oldest first,
   * and forgets them once `sink` returned. Under a write lock, so two centrals never both take
   * one. Returns how many it took (always 0 on shared rows, where no process leaves any).
   */
  drainPendingAudit(sink: (events: UserAuditEvent[]) => void, limit = 1000): number {
    if (!this.sqlite) return 0;
    return this.sqlite.drainPending(
      (events) => sink(events.map((e) => JSON.parse(e) as UserAuditEvent)),
      limit,
    );
  }

  // --- users -------------------------------------------------------------------------------------

  get(name: string): UserRecord | undefined {
    const row = this.rows.get(name);
    return row ? this.toRecord(row) : undefined;
  }

  list(): UserRecord[] {
    return this.rows.list().map((r) => this.toRecord(r));
  }

  /** Adds a user; with a null password it cannot log in until it sets one through a reset token. */
  async add(name: string, grant: Grant, password: string | null, by = this.actor): Promise<UserRecord> {
    UserStore.check(UserName, name, 'name');
    const g = UserStore.check(Grant, grant, 'grant');
    if (password !== null) UserStore.check(Password, password, 'password');
    const exists = () => new AuthError(AuthErrorCodes.EXISTS, `user "${name}" already exists`);
    if (this.rows.get(name)) throw exists();
    const hash = password === null ? NO_PASSWORD : await hashPassword(password, this.scrypt);
    // Another process may have added the name while the password was hashing.
    if (!this.rows.insert(name, JSON.stringify(g), hash, this.now())) throw exists();
    const row = this.row(name);
    this.emit('user.added', name, by, undefined, row, { password: password !== null });
    return this.toRecord(row);
  }

  async setPassword(name: string, password: string, by = this.actor): Promise<void> {
    UserStore.check(Password, password, 'password');
    this.row(name);
    const hash = await hashPassword(password, this.scrypt);
    this.rows.setHash(name, hash, this.now());
    this.cache.delete(name);
    const row = this.rows.get(name);
    if (row) this.emit('user.password_set', name, by, row, row);
  }

  /** A new role and scope; the user's tokens carry the old one and stop working. */
  setGrant(name: string, grant: Grant, by = this.actor): UserRecord {
    const g = UserStore.check(Grant, grant, 'grant');
    const before = this.row(name);
    if (before.grantJson === JSON.stringify(g)) return this.toRecord(before);
    this.rows.setGrant(name, JSON.stringify(g), this.now());
    const after = this.row(name);
    this.emit('user.changed', name, by, before, after);
    return this.toRecord(after);
  }

  /**
   * Disables or enables a user. Disabling also revokes its tokens, so enabling it again does not
   * bring back a token issued before.
   */
  setDisabled(name: string, disabled: boolean, by = this.actor): UserRecord {
    const before = this.row(name);
    if (before.disabled === disabled) return this.toRecord(before);
    const t = this.now();
    const after = disabled ? this.nextTokensAfter(before) : before.tokensAfter;
    this.rows.setDisabled(name, disabled, after, t);
    this.cache.delete(name);
    const row = this.row(name);
    this.emit(disabled ? 'user.disabled' : 'user.enabled', name, by, before, row);
    return this.toRecord(row);
  }

  /** Always moves forward, even within one millisecond, so every token issued before is refused. */
  private nextTokensAfter(row: Row): number {
    return Math.max(this.now(), row.tokensAfter + 1);
  }

  /** Refuses every token the user holds now; tokens issued afterwards work. */
  revokeTokens(name: string, by = this.actor): UserRecord {
    const before = this.row(name);
    const after = this.nextTokensAfter(before);
    this.rows.setTokensAfter(name, after, this.now());
    const row = this.row(name);
    this.emit('user.sessions_revoked', name, by, before, row, { tokensAfter: after });
    return this.toRecord(row);
  }

  remove(name: string, by = this.actor): void {
    const before = this.rows.get(name);
    const removed = this.rows.remove(name, this.now());
    this.cache.delete(name);
    if (!removed) throw new AuthError(AuthErrorCodes.NOT_FOUND, `no user "${name}"`);
    this.emit('user.removed', name, by, before, undefined);
  }

  // --- password reset ----------------------------------------------------------------------------

  /**
   * A one-time token that sets the user's password (`resetPassword`). Only its SHA-256 is stored
   * (it is 32 random bytes, so a fast hash is enough); an earlier unused token of the user stops
   * working.
   */
  issueResetToken(name: string, ttlMs = RESET_TTL_MS, by = this.actor): { token: string; expiresAt: number } {
    if (!Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > 7 * RESET_TTL_MS) {
      throw new AuthError(AuthErrorCodes.INVALID, `reset token lifetime must be 1..${7 * RESET_TTL_MS} ms`);
    }
    const row = this.row(name);
    const t = this.now();
    const expiresAt = t + ttlMs;
    const { token, hash } = newResetToken();
    this.rows.issueReset(hash, name, t, expiresAt);
    this.emit('user.reset_issued', name, by, row, row, { expiresAt });
    return { token, expiresAt };
  }

  /**
   * Sets a password with a reset token, once: the token is used up in the same transaction that
   * sets the password. A weak password is refused before the token is touched. Returns the user.
   */
  async resetPassword(token: string, password: string): Promise<string> {
    UserStore.check(Password, password, 'password');
    const invalid = () =>
      new AuthError(AuthErrorCodes.RESET, 'the reset link is not valid: unknown, already used or expired');
    const tokenHash = resetTokenHash(token);
    const name = tokenHash === null ? null : this.rows.findReset(tokenHash, this.now());
    if (tokenHash === null || name === null) throw invalid();
    const before = this.rows.get(name);
    if (before?.disabled !== false) throw invalid();
    const newHash = await hashPassword(password, this.scrypt);
    if (!this.rows.useReset(tokenHash, name, newHash, this.now())) throw invalid();
    this.cache.delete(name);
    const after = this.row(name);
    this.emit(
      'user.password_reset',
      name,
      { user: name, role: this.toRecord(after).grant.role },
      before,
      after,
    );
    return name;
  }

  // --- logins and tokens -------------------------------------------------------------------------

  /**
   * A login from outside: the limiter first (a locked name or address is refused without looking
   * at the secret, with `retryAfterMs`), then the secret, counted as a failure before the (slow)
   * check so parallel attempts cannot slip under the limit; a success clears the name's count.
   * Over MQTT the secret may be a password or a token (a bad token counts as a failure too); over
   * HTTP only a password. Resolves `{identity: null}` for every failure, never saying which (the
   * audit trail does).
   */
  async login(name: string, secret: string, from: LoginSource): Promise<LoginResult> {
    let verdict = this.limiter.attempt(name, from.address, this.now());
    while (!verdict.ok && 'busy' in verdict) {
      await new Promise<void>((resolve) => this.settled.push(resolve));
      verdict = this.limiter.attempt(name, from.address, this.now());
    }
    if (!verdict.ok) {
      // Counted and logged by the caller, not audited: refusals cost nothing, so a flood of them
      // would otherwise write as fast as it arrives.
      this.loginRefused[from.channel][verdict.reason]++;
      return { identity: null, retryAfterMs: verdict.retryAfterMs, limited: verdict.reason };
    }
    let checked: Checked = { identity: null, reason: 'bad_password' };
    try {
      checked =
        from.channel === 'http' && looksLikeToken(secret)
          ? { identity: null, reason: 'token_not_password' }
          : await this.check(name, secret);
    } finally {
      if (checked.identity) this.limiter.succeed(name, from.address, this.now());
      else this.limiter.failed(name, from.address);
      for (const wake of this.settled.splice(0)) wake();
    }
    const where = { channel: from.channel, address: from.address ?? null };
    if (checked.identity) {
      const { user, grant, via } = checked.identity;
      this.emit('login', user, { user, role: grant.role }, undefined, undefined, { ...where, via });
    } else {
      const row = this.rows.get(name);
      const role = row ? this.toRecord(row).grant.role : null;
      this.emit('login.failed', name, { user: name, role }, undefined, undefined, {
        ...where,
        reason: checked.reason,
      });
    }
    return { identity: checked.identity };
  }

  /**
   * Checks a user name with a password or a token (a string starting `sst1.`). Returns the
   * identity, or null for any failure (unknown or disabled user, wrong password, bad or expired
   * token). Not rate-limited and not audited: logins from outside go through `login()`.
   */
  async authenticate(name: string, secret: string): Promise<Identity | null> {
    return (await this.check(name, secret)).identity;
  }

  private async check(name: string, secret: string): Promise<Checked> {
    if (looksLikeToken(secret)) {
      try {
        const claims = this.verifyToken(secret);
        return claims.user === name
          ? { identity: { user: name, grant: claims.grant, via: 'token' } }
          : { identity: null, reason: 'bad_token' };
      } catch {
        return { identity: null, reason: 'bad_token' };
      }
    }
    const row = this.rows.get(name);
    if (!row || row.hash === NO_PASSWORD) {
      // Spend the same scrypt time as for a real user, so timing does not tell which names exist.
      this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'), this.scrypt);
      await verifyPassword(secret, await this.dummyHash);
      return { identity: null, reason: row ? 'no_password' : 'unknown_user' };
    }
    // Checked after the password, so timing does not tell a disabled user from a wrong password.
    const refuse = (ok: boolean): Checked =>
      !ok
        ? { identity: null, reason: 'bad_password' }
        : row.disabled
          ? { identity: null, reason: 'disabled' }
          : { identity: { user: name, grant: this.toRecord(row).grant, via: 'password' } };
    const mac = createHmac('sha256', this.cacheKey).update(secret).digest();
    const hit = this.cache.get(name);
    const t = this.now();
    if (hit && hit.hash === row.hash && hit.until > t && timingSafeEqual(hit.mac, mac)) return refuse(true);
    if (!(await verifyPassword(secret, row.hash))) return refuse(false);
    if (this.cacheMs > 0) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
      this.cache.set(name, { hash: row.hash, mac, until: t + this.cacheMs });
    }
    return refuse(true);
  }

  /**
   * A keyed tag of the user's current password hash and revocation time: never the hash, and
   * changes with either. A user never revoked keeps the tag of earlier versions, so tokens issued
   * before an upgrade still work.
   */
  private passwordTag(row: Row): string {
    const revoked = row.tokensAfter > 0 ? `\u0000${row.tokensAfter}` : '';
    return this.signer.tag(`${row.name}\u0000${row.hash}${revoked}`);
  }

  /**
   * A signed token for an existing, enabled user, carrying its current role and scope and a tag of
   * its password and revocation time. The actor is the user itself unless given (the CLI).
   */
  issueToken(name: string, ttlMs: number, by?: AuditActor): string {
    const row = this.row(name);
    if (row.disabled) throw new AuthError(AuthErrorCodes.TOKEN, `user "${name}" is disabled`);
    const grant = this.toRecord(row).grant;
    const token = this.signer.issue(name, grant, ttlMs, this.passwordTag(row));
    const actor = by ?? { user: name, role: grant.role };
    this.emit('token.issued', name, actor, undefined, undefined, {
      expiresAt: Math.floor(this.now() + ttlMs),
    });
    return token;
  }

  /**
   * Verifies a token's spelling, signature and expiry, and that its user still exists, is enabled,
   * with the same role, scope and password, and was not revoked since (removing, disabling or
   * revoking a user, changing its role or its password revokes its tokens). Every place that
   * accepts a token checks it here. Throws AuthError(SHELF_ERR_TOKEN).
   */
  verifyToken(token: string): TokenClaims {
    const claims = this.signer.verify(token);
    const row = this.rows.get(claims.user);
    if (!row) throw new AuthError(AuthErrorCodes.TOKEN, `token rejected: no user "${claims.user}"`);
    if (row.disabled) throw new AuthError(AuthErrorCodes.TOKEN, 'token rejected: the user is disabled');
    if (JSON.stringify(this.toRecord(row).grant) !== JSON.stringify(claims.grant)) {
      throw new AuthError(AuthErrorCodes.TOKEN, 'token rejected: the user’s role or scope has changed');
    }
    const tag = Buffer.from(this.passwordTag(row));
    const held = Buffer.from(claims.passwordTag ?? '');
    if (held.length !== tag.length || !timingSafeEqual(held, tag)) {
      throw new AuthError(
        AuthErrorCodes.TOKEN,
        row.tokensAfter > 0
          ? 'token rejected: the user’s password has changed or its tokens were revoked'
          : 'token rejected: the user’s password has changed',
      );
    }
    return claims;
  }

  /** Closes users.db if the store opened it; rows given in the options are the caller's to close. */
  close(): void {
    this.sqlite?.close();
    this.cache.clear();
    this.audit.clear();
  }
}
