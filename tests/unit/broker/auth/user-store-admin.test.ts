/**
 * UserStore's user management: disabling, revoking every token at once, one-time password reset
 * tokens, role changes, the users.db migration, and the audit events each of them reports.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, type UserAuditEvent, UserStore } from '@shelfsense/broker';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const CHEAP = { cost: 1024, blockSize: 8, parallelization: 1 };
const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'another long secret';
const http = { channel: 'http' as const, address: '10.0.0.7' };
const mqtt = { channel: 'mqtt' as const, address: '10.0.0.8' };
const ADMIN = { user: 'boss', role: 'admin' };

let dir: string;
let now: number;
let store: UserStore;
let events: UserAuditEvent[];

const open = (o: { pendingAudit?: boolean } = {}) =>
  new UserStore(dir, { scrypt: CHEAP, now: () => now, ...o });

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shelfsense-users-admin-'));
  now = 1_000_000;
  store = open();
  events = [];
  store.onAudit((e) => events.push(e));
  await store.add('op', { role: 'operator', sites: ['A'] }, PASSWORD);
  events.length = 0;
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const actions = () => events.map((e) => e.action);

describe('disable and enable', () => {
  it('[disable] a disabled user cannot log in, use or get a token; enabling lets it log in again', async () => {
    const token = store.issueToken('op', 60_000);
    store.setDisabled('op', true, ADMIN);
    expect(store.get('op')?.disabled).toBe(true);
    expect(await store.login('op', PASSWORD, http)).toEqual({ identity: null });
    expect((await store.login('op', token, mqtt)).identity).toBeNull();
    expect(() => store.verifyToken(token)).toThrow(/disabled/);
    expect(() => store.issueToken('op', 60_000)).toThrow(/disabled/);
    const failed = events.filter((e) => e.action === 'login.failed');
    expect(failed.map((e) => e.detail?.['reason'])).toEqual(['disabled', 'bad_token']);
    store.setDisabled('op', false, ADMIN);
    expect((await store.login('op', PASSWORD, http)).identity?.user).toBe('op');
    // Enabling does not bring back a token issued before the user was disabled.
    expect(() => store.verifyToken(token)).toThrow(/revoked/);
  });

  it('[disable] audits before and after, and nothing when the state does not change', () => {
    store.setDisabled('op', true, ADMIN);
    store.setDisabled('op', true, ADMIN);
    store.setDisabled('op', false, ADMIN);
    expect(actions()).toEqual(['user.disabled', 'user.enabled']);
    expect(events[0]).toMatchObject({
      actor: ADMIN,
      user: 'op',
      before: { grant: { role: 'operator', sites: ['A'] }, disabled: false },
      after: { disabled: true },
    });
  });
});

describe('revoking tokens', () => {
  it('[revoke] every token issued before is refused, within the same millisecond too; new ones work', async () => {
    const a = store.issueToken('op', 60_000);
    const b = store.issueToken('op', 60_000);
    const r = store.revokeTokens('op', ADMIN);
    expect(r.tokensAfter).toBe(now);
    for (const t of [a, b]) expect(() => store.verifyToken(t)).toThrow(/revoked/);
    const fresh = store.issueToken('op', 60_000);
    expect(store.verifyToken(fresh).user).toBe('op');
    // A second revocation in the same millisecond still moves forward.
    expect(store.revokeTokens('op', ADMIN).tokensAfter).toBe(now + 1);
    expect(() => store.verifyToken(fresh)).toThrow(/revoked/);
    // Passwords are untouched.
    expect((await store.login('op', PASSWORD, http)).identity?.user).toBe('op');
    expect(actions()).toContain('user.sessions_revoked');
  });
});

describe('password reset tokens', () => {
  it('[reset] a reset token sets the password once, then fails', async () => {
    const { token, expiresAt } = store.issueResetToken('op', undefined, ADMIN);
    expect(expiresAt).toBe(now + 24 * 3_600_000);
    expect(await store.resetPassword(token, NEW_PASSWORD)).toBe('op');
    expect((await store.login('op', NEW_PASSWORD, http)).identity?.user).toBe('op');
    expect((await store.login('op', PASSWORD, http)).identity).toBeNull();
    await expect(store.resetPassword(token, 'yet another secret')).rejects.toMatchObject({
      code: 'SHELF_ERR_RESET_TOKEN',
    });
    expect(actions()).toEqual(['user.reset_issued', 'user.password_reset', 'login', 'login.failed']);
    expect(events[1]?.actor).toEqual({ user: 'op', role: 'operator' });
  });

  it('[reset] an expired token fails; a weak password is refused without using the token up', async () => {
    const { token } = store.issueResetToken('op', 60_000);
    await expect(store.resetPassword(token, 'short')).rejects.toMatchObject({ code: 'SHELF_ERR_INVALID' });
    now += 60_000;
    await expect(store.resetPassword(token, NEW_PASSWORD)).rejects.toMatchObject({
      code: 'SHELF_ERR_RESET_TOKEN',
    });
  });

  it('[reset] only a hash is stored, and a newer token replaces the older one', async () => {
    const first = store.issueResetToken('op');
    const second = store.issueResetToken('op');
    const db = new Database(join(dir, 'users.db'), { readonly: true });
    const dump = JSON.stringify(db.prepare('SELECT * FROM reset_tokens').all());
    db.close();
    expect(dump).not.toContain(first.token.slice(5));
    expect(dump).not.toContain(second.token.slice(5));
    await expect(store.resetPassword(first.token, NEW_PASSWORD)).rejects.toMatchObject({
      code: 'SHELF_ERR_RESET_TOKEN',
    });
    expect(await store.resetPassword(second.token, NEW_PASSWORD)).toBe('op');
  });

  it('[reset] a user added without a password cannot log in until it uses its link', async () => {
    const added = await store.add('new', { role: 'supplier', supplier: 'X' }, null, ADMIN);
    expect(added.hasPassword).toBe(false);
    expect(await store.login('new', '!', http)).toEqual({ identity: null });
    expect(events.at(-1)?.detail?.['reason']).toBe('no_password');
    const { token } = store.issueResetToken('new');
    await store.resetPassword(token, NEW_PASSWORD);
    expect(store.get('new')?.hasPassword).toBe(true);
    expect((await store.login('new', NEW_PASSWORD, http)).identity?.grant).toEqual({
      role: 'supplier',
      supplier: 'X',
    });
  });

  it('[reset] a disabled user cannot use its link', async () => {
    const { token } = store.issueResetToken('op');
    store.setDisabled('op', true);
    await expect(store.resetPassword(token, NEW_PASSWORD)).rejects.toMatchObject({
      code: 'SHELF_ERR_RESET_TOKEN',
    });
  });
});

describe('role and scope', () => {
  it('[grant] a new role refuses the old tokens and is what the next login gets', async () => {
    const token = store.issueToken('op', 60_000);
    store.setGrant('op', { role: 'technician', sites: ['A', 'B'] }, ADMIN);
    expect(() => store.verifyToken(token)).toThrow(/role or scope has changed/);
    expect((await store.login('op', PASSWORD, http)).identity?.grant).toEqual({
      role: 'technician',
      sites: ['A', 'B'],
    });
    expect(events.find((e) => e.action === 'user.changed')).toMatchObject({
      before: { grant: { role: 'operator', sites: ['A'] } },
      after: { grant: { role: 'technician', sites: ['A', 'B'] } },
    });
    expect(() => store.setGrant('op', { role: 'operator' } as never)).toThrow(/grant/);
  });
});

describe('audit events', () => {
  it('[audit] logins, failures, tokens and changes are reported, never a password or hash', async () => {
    await store.login('op', PASSWORD, http);
    await store.login('op', 'wrong password', mqtt);
    await store.login('ghost', 'whatever123', http);
    await store.login('op', store.issueToken('op', 60_000), http);
    await store.setPassword('op', NEW_PASSWORD, ADMIN);
    store.remove('op', ADMIN);
    expect(actions()).toEqual([
      'login',
      'login.failed',
      'login.failed',
      'token.issued',
      'login.failed',
      'user.password_set',
      'user.removed',
    ]);
    expect(events[0]).toMatchObject({
      actor: { user: 'op', role: 'operator' },
      detail: { channel: 'http', address: '10.0.0.7', via: 'password' },
    });
    expect(events[1]?.detail).toEqual({ channel: 'mqtt', address: '10.0.0.8', reason: 'bad_password' });
    expect(events[2]).toMatchObject({
      actor: { user: 'ghost', role: null },
      detail: { reason: 'unknown_user' },
    });
    expect(events[4]?.detail?.['reason']).toBe('token_not_password');
    expect(events[6]).toMatchObject({ before: { disabled: false }, after: null, actor: ADMIN });
    const text = JSON.stringify(events);
    for (const secret of [PASSWORD, NEW_PASSWORD, 'wrong password', 'scrypt$', 'sst1.']) {
      expect(text).not.toContain(secret);
    }
  });

  it('[audit] a listener that throws does not fail the login', async () => {
    store.onAudit(() => {
      throw new Error('listener broke');
    });
    expect((await store.login('op', PASSWORD, http)).identity?.user).toBe('op');
  });

  it('[pending] another process keeps its events in users.db until central takes them, once', async () => {
    const cli = open({ pendingAudit: true });
    try {
      await cli.add('pi', { role: 'agent', site: 'A', agent: 'pi' }, PASSWORD);
      cli.setDisabled('pi', true);
      cli.remove('pi');
    } finally {
      cli.close();
    }
    const taken: UserAuditEvent[] = [];
    expect(store.drainPendingAudit((e) => taken.push(...e))).toBe(3);
    expect(taken.map((e) => e.action)).toEqual(['user.added', 'user.disabled', 'user.removed']);
    expect(taken[0]?.actor).toEqual({ user: 'central', role: null });
    expect(store.drainPendingAudit((e) => taken.push(...e))).toBe(0);
  });

  it('[pending] events stay when the sink fails', async () => {
    const cli = open({ pendingAudit: true });
    cli.revokeTokens('op');
    cli.close();
    expect(() =>
      store.drainPendingAudit(() => {
        throw new Error('central store closed');
      }),
    ).toThrow(/closed/);
    expect(store.drainPendingAudit(() => {})).toBe(1);
  });
});

describe('users.db migration', () => {
  it('[migrate] a users.db of the first version gains the new columns and keeps its users', async () => {
    const old = mkdtempSync(join(tmpdir(), 'shelfsense-users-v1-'));
    try {
      const db = new Database(join(old, 'users.db'));
      db.exec(`CREATE TABLE users (name TEXT PRIMARY KEY, grant_json TEXT NOT NULL, hash TEXT NOT NULL,
        created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL) STRICT`);
      db.prepare('INSERT INTO users VALUES (?, ?, ?, ?, ?)').run(
        'legacy',
        JSON.stringify({ role: 'admin' }),
        await hashPassword(PASSWORD, CHEAP),
        1,
        1,
      );
      db.close();
      const s = new UserStore(old, { scrypt: CHEAP });
      try {
        expect(s.get('legacy')).toMatchObject({ disabled: false, hasPassword: true, tokensAfter: 0 });
        expect((await s.login('legacy', PASSWORD, http)).identity?.user).toBe('legacy');
        s.setDisabled('legacy', true);
        expect(s.get('legacy')?.disabled).toBe(true);
      } finally {
        s.close();
      }
      // Opening again is a no-op.
      const again = new UserStore(old, { scrypt: CHEAP });
      expect(again.get('legacy')?.disabled).toBe(true);
      again.close();
      const check = new Database(join(old, 'users.db'), { readonly: true });
      expect(check.pragma('user_version', { simple: true })).toBe(2);
      check.close();
    } finally {
      rmSync(old, { recursive: true, force: true });
    }
  });
});
