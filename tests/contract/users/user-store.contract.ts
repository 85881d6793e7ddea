/**
 * UserStore's behaviour, written once and run on each place users can live: `users.db` (SQLite,
 * tests/unit/broker/auth/user-store-admin.test.ts) and Postgres, shared by the cluster's web nodes
 * (tests/integration/store/postgres-users.test.ts). Disabling, revoking, reset links, role
 * changes, the audit events of each, the login limiter in front of every login, and two stores on
 * the same users (two processes: central and the CLI, or two web nodes) seeing each other's
 * changes at once. What only one implementation can show stays beside its runner.
 */
import type { LoginLimiterOptions, UserAuditEvent, UserStore } from '@shelfsense/broker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

export const CHEAP = { cost: 1024, blockSize: 8, parallelization: 1 };
export const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'another long secret';
const http = { channel: 'http' as const, address: '10.0.0.7' };
const mqtt = { channel: 'mqtt' as const, address: '10.0.0.8' };
const ADMIN = { user: 'boss', role: 'admin' };

export interface UserStoreOpenOptions {
  now: () => number;
  login?: LoginLimiterOptions;
}

/** Fresh, empty users; each `open` is another process's store on the same users. */
export interface OpenedUsers {
  open(o: UserStoreOpenOptions): UserStore;
  /** Closes every store opened and drops the users. */
  close(): Promise<void>;
}

export type UsersFactory = () => Promise<OpenedUsers>;

export function userStoreContract(make: UsersFactory): void {
  let opened: OpenedUsers;
  let now: number;
  let store: UserStore;
  let events: UserAuditEvent[];
  const actions = () => events.map((e) => e.action);

  beforeEach(async () => {
    opened = await make();
    now = 1_000_000;
    store = opened.open({
      now: () => now,
      login: { maxFailures: 3, maxFailuresPerAddress: 10, windowMs: 60_000, maxEntries: 100 },
    });
    events = [];
    store.onAudit((e) => events.push(e));
    await store.add('op', { role: 'operator', sites: ['A'] }, PASSWORD);
    events.length = 0;
  });

  afterEach(async () => {
    await opened.close();
  });

  describe('users', () => {
    it('adds, lists by name, refuses a taken name, and removes', async () => {
      await store.add('b-sup', { role: 'supplier', supplier: 'X' }, PASSWORD);
      await store.add('Admin', { role: 'admin' }, null);
      expect(store.list().map((u) => u.name)).toEqual(['Admin', 'b-sup', 'op']);
      expect(store.get('op')).toEqual({
        name: 'op',
        grant: { role: 'operator', sites: ['A'] },
        createdAt: now,
        updatedAt: now,
        disabled: false,
        hasPassword: true,
        tokensAfter: 0,
      });
      await expect(store.add('op', { role: 'admin' }, PASSWORD)).rejects.toMatchObject({
        code: 'SHELF_ERR_USER_EXISTS',
      });
      store.remove('b-sup');
      expect(store.get('b-sup')).toBeUndefined();
      expect(() => store.remove('b-sup')).toThrow(/no user/);
      expect(() => store.setDisabled('ghost', true)).toThrow(/no user/);
    });
  });

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

    it('[reset] a newer token replaces the older one; removing the user drops it', async () => {
      const first = store.issueResetToken('op');
      const second = store.issueResetToken('op');
      await expect(store.resetPassword(first.token, NEW_PASSWORD)).rejects.toMatchObject({
        code: 'SHELF_ERR_RESET_TOKEN',
      });
      expect(await store.resetPassword(second.token, NEW_PASSWORD)).toBe('op');
      const third = store.issueResetToken('op');
      store.remove('op');
      await store.add('op', { role: 'operator', sites: ['A'] }, PASSWORD);
      await expect(store.resetPassword(third.token, NEW_PASSWORD)).rejects.toMatchObject({
        code: 'SHELF_ERR_RESET_TOKEN',
      });
      for (const junk of ['', 'ssr1.', 'sst1.abc', `ssr1.${'A'.repeat(300)}`]) {
        await expect(store.resetPassword(junk, NEW_PASSWORD)).rejects.toMatchObject({
          code: 'SHELF_ERR_RESET_TOKEN',
        });
      }
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

    it('[reset] two uses of one link at once: one sets the password, the other is refused', async () => {
      const { token } = store.issueResetToken('op');
      const results = await Promise.allSettled([
        store.resetPassword(token, NEW_PASSWORD),
        store.resetPassword(token, 'a third long secret'),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
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
  });

  describe('UserStore.login', () => {
    const here = { channel: 'mqtt' as const, address: '10.0.0.1' };

    it('a right password logs in over either channel', async () => {
      expect(await store.login('op', PASSWORD, http)).toEqual({
        identity: { user: 'op', grant: { role: 'operator', sites: ['A'] }, via: 'password' },
      });
      expect((await store.login('op', PASSWORD, mqtt)).identity?.via).toBe('password');
    });

    it('[lockout] a locked name is refused with retryAfterMs whatever the secret, on every channel', async () => {
      await store.add('sup', { role: 'supplier', supplier: 'X' }, PASSWORD);
      for (let i = 0; i < 3; i++)
        expect(await store.login('op', `wrong-${i}`, { ...here, channel: 'http' })).toEqual({
          identity: null,
        });
      const refused = await store.login('op', PASSWORD, here);
      expect(refused).toEqual({ identity: null, retryAfterMs: 60_000, limited: 'name' });
      // A valid token too: the lock is checked before the secret.
      const token = store.issueToken('op', 60_000);
      expect((await store.login('op', token, { channel: 'mqtt' })).identity).toBeNull();
      expect(store.loginRefused.mqtt.name).toBe(2);
      // Other names are not held up; the window passes.
      expect((await store.login('sup', PASSWORD, here)).identity?.user).toBe('sup');
      now += 60_000;
      expect((await store.login('op', PASSWORD, here)).identity?.user).toBe('op');
    });

    it('[parallel] many attempts in flight at once: only maxFailures reach the password check', async () => {
      const all = await Promise.all(
        Array.from({ length: 12 }, (_, i) => store.login('op', `guess-${i}`, { channel: 'mqtt' })),
      );
      expect(all.filter((r) => r.identity === null && r.retryAfterMs === undefined)).toHaveLength(3);
      expect(all.filter((r) => r.identity === null && r.retryAfterMs !== undefined)).toHaveLength(9);
    });

    it('a success clears the name’s failures', async () => {
      await store.login('op', 'wrong-1', here);
      await store.login('op', 'wrong-2', here);
      expect((await store.login('op', PASSWORD, here)).identity).not.toBeNull();
      await store.login('op', 'wrong-3', here);
      await store.login('op', 'wrong-4', here);
      expect((await store.login('op', PASSWORD, here)).identity).not.toBeNull();
    });

    it('[address] one address guessing at many names is locked; another address is not', async () => {
      for (let i = 0; i < 10; i++) await store.login(`name-${i}`, 'guess', here);
      expect(await store.login('op', PASSWORD, here)).toMatchObject({ identity: null, limited: 'address' });
      expect((await store.login('op', PASSWORD, { ...here, address: '10.0.0.2' })).identity).not.toBeNull();
    });

    it('[reset attack] a flood of token-shaped logins under fresh names does not unlock a locked name', async () => {
      for (let i = 0; i < 3; i++) await store.login('op', `wrong-${i}`, { ...here, channel: 'http' });
      // 20 addresses × 9 names each (under the address limit), table of 100 entries.
      for (let a = 0; a < 20; a++) {
        for (let i = 0; i < 9; i++) {
          await store.login(`junk-${a}-${i}`, 'sst1.x.y', { channel: 'http', address: `10.1.0.${a}` });
        }
      }
      expect(store.limiter.size).toBeLessThanOrEqual(100);
      expect(await store.login('op', PASSWORD, { channel: 'mqtt', address: '10.9.9.9' })).toMatchObject({
        identity: null,
        limited: 'name',
      });
    });

    it('[tokens] over MQTT a valid token logs in and a bad one counts as a failure; over HTTP a token is never a password', async () => {
      await store.add('sup', { role: 'supplier', supplier: 'X' }, PASSWORD);
      const token = store.issueToken('op', 60_000);
      expect((await store.login('op', token, here)).identity).toEqual({
        user: 'op',
        grant: { role: 'operator', sites: ['A'] },
        via: 'token',
      });
      const bad = `${token.slice(0, -2)}AA`;
      const elsewhere = { channel: 'mqtt' as const, address: '10.0.0.2' };
      for (let i = 0; i < 3; i++) expect((await store.login('op', bad, elsewhere)).identity).toBeNull();
      // Locked, for every address but the one it logged in from.
      expect(
        (await store.login('op', token, { ...elsewhere, address: '10.0.0.3' })).retryAfterMs,
      ).toBeGreaterThan(0);
      expect((await store.login('op', token, here)).identity?.user).toBe('op');
      now += 60_000;
      // HTTP: the token is refused and counted like a wrong password.
      const fresh = store.issueToken('sup', 60_000);
      const web = { channel: 'http' as const, address: '10.0.0.1' };
      for (let i = 0; i < 3; i++) expect(await store.login('sup', fresh, web)).toEqual({ identity: null });
      expect(await store.login('sup', PASSWORD, web)).toMatchObject({ identity: null, limited: 'name' });
    });
  });

  describe('two processes on the same users', () => {
    it('[shared] a user added by one logs in on the other, with a password and with a token from the first', async () => {
      const other = opened.open({ now: () => now });
      await store.add('pi', { role: 'agent', site: 'A', agent: 'pi' }, PASSWORD);
      expect((await other.login('pi', PASSWORD, mqtt)).identity?.user).toBe('pi');
      const token = store.issueToken('pi', 60_000);
      expect(other.verifyToken(token).grant).toEqual({ role: 'agent', site: 'A', agent: 'pi' });
      expect((await other.login('pi', token, mqtt)).identity?.via).toBe('token');
    });

    it('[shared] disabling, a new password, a new grant or revoking on one refuses the token on the other at once', async () => {
      const other = opened.open({ now: () => now });
      // Each change on `store`, then what `other` says of a token it verified just before.
      const changes: [string, () => unknown, RegExp][] = [
        ['disable', () => store.setDisabled('op', true), /disabled/],
        ['enable', () => store.setDisabled('op', false), /revoked/],
        ['password', () => store.setPassword('op', NEW_PASSWORD), /password has changed/],
        ['grant', () => store.setGrant('op', { role: 'operator', sites: ['B'] }), /role or scope/],
        ['revoke', () => store.revokeTokens('op'), /revoked/],
        ['remove', () => store.remove('op'), /no user/],
      ];
      for (const [what, change, why] of changes) {
        if (what === 'enable') {
          await change();
          continue;
        }
        now += 1;
        const token = other.issueToken('op', 60_000);
        expect(store.verifyToken(token).user, what).toBe('op');
        await change();
        expect(() => other.verifyToken(token), what).toThrow(why);
      }
    });

    it('[shared] a password changed on one is the one the other checks, even with a warm verify cache', async () => {
      const other = opened.open({ now: () => now });
      expect((await other.login('op', PASSWORD, mqtt)).identity?.user).toBe('op');
      await store.setPassword('op', NEW_PASSWORD);
      expect((await other.login('op', PASSWORD, mqtt)).identity).toBeNull();
      expect((await other.login('op', NEW_PASSWORD, mqtt)).identity?.user).toBe('op');
      store.setDisabled('op', true);
      expect((await other.login('op', NEW_PASSWORD, mqtt)).identity).toBeNull();
    });

    it('[shared] a reset link issued by one works once, on the other', async () => {
      const other = opened.open({ now: () => now });
      const { token } = store.issueResetToken('op');
      expect(await other.resetPassword(token, NEW_PASSWORD)).toBe('op');
      await expect(store.resetPassword(token, 'a third long secret')).rejects.toMatchObject({
        code: 'SHELF_ERR_RESET_TOKEN',
      });
      expect((await store.login('op', NEW_PASSWORD, http)).identity?.user).toBe('op');
    });

    it('[per process] the login limiter is each process’s own', async () => {
      const other = opened.open({ now: () => now, login: { maxFailures: 3 } });
      for (let i = 0; i < 3; i++) await store.login('op', `wrong-${i}`, http);
      expect(await store.login('op', PASSWORD, mqtt)).toMatchObject({ limited: 'name' });
      expect((await other.login('op', PASSWORD, mqtt)).identity?.user).toBe('op');
    });
  });
}
