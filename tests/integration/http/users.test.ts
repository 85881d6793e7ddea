/**
 * The users routes on the real API (SQLite store, real UserStore, real fetch): admin only, every
 * body checked with errors naming the field, reset links that work once, role changes and
 * disabling that take effect on the next request, and revoking that refuses every token at once
 * and closes the user's live connections.
 */
import type { ApiUserEntry, CreateUserResponse, ResetLink, RevokeResponse } from '@shelfsense/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Harness, PASSWORD, startHarness } from './harness.js';

const NEW_PASSWORD = 'a brand new password';

let h: Harness;
let admin: string;
const disconnected: string[] = [];

beforeEach(async () => {
  disconnected.length = 0;
  h = await startHarness({
    disconnectUser: (user) => {
      disconnected.push(user);
      return 1;
    },
  });
  admin = await h.login('admin');
});
afterEach(() => h.close());

const tokenOf = (r: ResetLink) => new URL(r.url, 'http://x').hash.replace(/^#token=/, '');

describe('users routes: who may', () => {
  it('[admin-only] every role but admin gets 403 on every users route', async () => {
    for (const user of ['op-a', 'sup-x', 'tech-a', 'svc', 'agent-a']) {
      const token = await h.login(user);
      const calls: [string, string, unknown?][] = [
        ['GET', '/api/users'],
        ['POST', '/api/users', { name: 'x1', grant: { role: 'admin' }, password: NEW_PASSWORD }],
        ['PATCH', '/api/users/op-b', { disabled: true }],
        ['DELETE', '/api/users/op-b'],
        ['POST', '/api/users/op-b/reset', {}],
        ['POST', '/api/users/op-b/revoke', {}],
      ];
      for (const [method, path, body] of calls) {
        const r = await h.call(method, path, { token, ...(body !== undefined ? { body } : {}) });
        expect(r.status, `${user} ${method} ${path}`).toBe(403);
      }
    }
    expect(h.users.get('op-b')?.disabled).toBe(false);
    expect((await h.call('GET', '/api/users')).status).toBe(401);
  });

  it('[list] lists users with role, scope and state, never a hash', async () => {
    const r = await h.call<ApiUserEntry[]>('GET', '/api/users', { token: admin });
    expect(r.status).toBe(200);
    expect(r.body.map((u) => u.name)).toContain('op-a');
    expect(r.body.find((u) => u.name === 'op-a')).toMatchObject({
      grant: { role: 'operator', sites: ['A'] },
      disabled: false,
      hasPassword: true,
    });
    expect(r.text).not.toContain('scrypt');
  });
});

describe('users routes: changes', () => {
  it('[create] with a password the user logs in; without one the answer is a reset link that works once', async () => {
    const withPw = await h.call<CreateUserResponse>('POST', '/api/users', {
      token: admin,
      body: { name: 'ops2', grant: { role: 'operator', sites: ['A', 'B'] }, password: NEW_PASSWORD },
    });
    expect(withPw.status).toBe(200);
    expect(withPw.body.reset).toBeNull();
    expect(
      (await h.call('POST', '/api/login', { body: { username: 'ops2', password: NEW_PASSWORD } })).status,
    ).toBe(200);

    const noPw = await h.call<CreateUserResponse>('POST', '/api/users', {
      token: admin,
      headers: { Origin: 'https://shelfsense.example' },
      body: { name: 'acme', grant: { role: 'supplier', supplier: 'X' } },
    });
    expect(noPw.status).toBe(200);
    expect(noPw.body.user.hasPassword).toBe(false);
    const link = noPw.body.reset as ResetLink;
    expect(link.url).toMatch(/^https:\/\/shelfsense\.example\/reset#token=ssr1\./);
    const token = tokenOf(link);
    const weak = await h.call<{ error: { issues: { path: string }[] } }>('POST', '/api/password-reset', {
      body: { token, password: 'short' },
    });
    expect(weak.status).toBe(400);
    expect(weak.body.error.issues.map((i) => i.path)).toEqual(['password']);
    const ok = await h.call('POST', '/api/password-reset', { body: { token, password: NEW_PASSWORD } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ user: 'acme' });
    const again = await h.call<{ error: { code: string } }>('POST', '/api/password-reset', {
      body: { token, password: 'yet another password' },
    });
    expect(again.status).toBe(400);
    expect(again.body.error.code).toBe('SHELF_ERR_RESET_TOKEN');
    expect(
      (await h.call('POST', '/api/login', { body: { username: 'acme', password: NEW_PASSWORD } })).status,
    ).toBe(200);
  });

  it('[reset] a reset link for an existing user expires after 24 h', async () => {
    const r = await h.call<ResetLink>('POST', '/api/users/op-a/reset', { token: admin, body: {} });
    expect(r.status).toBe(200);
    expect(r.body.expiresAt).toBe(h.now.t + 24 * 3_600_000);
    h.now.t += 24 * 3_600_000;
    const late = await h.call('POST', '/api/password-reset', {
      body: { token: tokenOf(r.body), password: NEW_PASSWORD },
    });
    expect(late.status).toBe(400);
  });

  it('[validation] bad bodies answer 400 naming the field; unknown sites and suppliers too', async () => {
    const cases: [unknown, string[]][] = [
      [{ name: 'bad name!', grant: { role: 'admin' } }, ['name']],
      [{ name: 'x1', grant: { role: 'operator', sites: [] } }, ['grant.sites']],
      [{ name: 'x1', grant: { role: 'operator', sites: ['Z'] } }, ['grant.sites.0']],
      [{ name: 'x1', grant: { role: 'supplier', supplier: 'NOPE' } }, ['grant.supplier']],
      [{ name: 'x1', grant: { role: 'admin' }, password: 'short' }, ['password']],
      [{ name: 'x1', grant: { role: 'admin' }, extra: 1 }, ['']],
    ];
    for (const [body, paths] of cases) {
      const r = await h.call<{ error: { issues: { path: string }[] } }>('POST', '/api/users', {
        token: admin,
        body,
      });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.issues.map((i) => i.path)).toEqual(paths);
    }
    const patch = await h.call<{ error: { issues: { path: string }[] } }>('PATCH', '/api/users/op-a', {
      token: admin,
      body: {},
    });
    expect(patch.status).toBe(400);
    expect(patch.body.error.issues.map((i) => i.path)).toEqual(['grant']);
    expect(
      (await h.call('POST', '/api/users', { token: admin, body: { name: 'op-a', grant: { role: 'admin' } } }))
        .status,
    ).toBe(409);
    expect(
      (await h.call('PATCH', '/api/users/nobody', { token: admin, body: { disabled: true } })).status,
    ).toBe(404);
  });

  it('[role] a new role refuses the old token and the next login has the new role', async () => {
    const token = await h.login('op-a');
    expect((await h.call('GET', '/api/lanes', { token })).status).toBe(200);
    const r = await h.call<ApiUserEntry>('PATCH', '/api/users/op-a', {
      token: admin,
      body: { grant: { role: 'supplier', supplier: 'Y' } },
    });
    expect(r.status).toBe(200);
    expect(r.body.grant).toEqual({ role: 'supplier', supplier: 'Y' });
    expect((await h.call('GET', '/api/lanes', { token })).status).toBe(401);
    expect(disconnected).toEqual(['op-a']);
    const fresh = await h.login('op-a');
    const lanes = await h.call<{ site: string; lane: string }[]>('GET', '/api/lanes', { token: fresh });
    // Supplier Y sees its chips lanes only.
    expect(lanes.body.map((l) => l.lane)).toEqual(['l2', 'l2']);
  });

  it('[disable] a disabled user cannot log in and its token answers 401; enabled, it logs in again', async () => {
    const token = await h.login('op-a');
    const r = await h.call<ApiUserEntry>('PATCH', '/api/users/op-a', {
      token: admin,
      body: { disabled: true },
    });
    expect(r.body.disabled).toBe(true);
    expect((await h.call('GET', '/api/lanes', { token })).status).toBe(401);
    expect(
      (await h.call('POST', '/api/login', { body: { username: 'op-a', password: PASSWORD } })).status,
    ).toBe(401);
    expect(disconnected).toEqual(['op-a']);
    await h.call('PATCH', '/api/users/op-a', { token: admin, body: { disabled: false } });
    expect((await h.call('GET', '/api/lanes', { token })).status).toBe(401);
    expect((await h.call('GET', '/api/lanes', { token: await h.login('op-a') })).status).toBe(200);
  });

  it('[self] an admin cannot disable, demote or delete itself', async () => {
    expect(
      (await h.call('PATCH', '/api/users/admin', { token: admin, body: { disabled: true } })).status,
    ).toBe(409);
    expect(
      (
        await h.call('PATCH', '/api/users/admin', {
          token: admin,
          body: { grant: { role: 'operator', sites: ['A'] } },
        })
      ).status,
    ).toBe(409);
    expect((await h.call('DELETE', '/api/users/admin', { token: admin })).status).toBe(409);
    expect((await h.call('GET', '/api/users', { token: admin })).status).toBe(200);
  });

  it('[revoke] every token of the user answers 401 at once and its live connections are closed', async () => {
    const a = await h.login('tech-a');
    const b = await h.login('tech-a');
    const r = await h.call<RevokeResponse>('POST', '/api/users/tech-a/revoke', { token: admin, body: {} });
    expect(r.status).toBe(200);
    expect(r.body.disconnected).toBe(1);
    expect(disconnected).toEqual(['tech-a']);
    for (const t of [a, b]) expect((await h.call('GET', '/api/lanes', { token: t })).status).toBe(401);
    // Within the same millisecond, a new login works.
    expect((await h.call('GET', '/api/lanes', { token: await h.login('tech-a') })).status).toBe(200);
  });

  it('[delete] a removed user cannot log in and its token answers 401', async () => {
    const token = await h.login('op-b');
    const r = await h.call('DELETE', '/api/users/op-b', { token: admin });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ user: 'op-b', disconnected: 1 });
    expect((await h.call('GET', '/api/lanes', { token })).status).toBe(401);
    expect(h.users.get('op-b')).toBeUndefined();
  });

  it('[service] central’s own user cannot be changed through the API', async () => {
    await h.users.add('shelfsense-central', { role: 'service' }, NEW_PASSWORD);
    const listed = await h.call<ApiUserEntry[]>('GET', '/api/users', { token: admin });
    expect(listed.body.find((u) => u.name === 'shelfsense-central')?.managedByCentral).toBe(true);
    expect(listed.body.find((u) => u.name === 'op-a')?.managedByCentral).toBe(false);
    expect(
      (await h.call('PATCH', '/api/users/shelfsense-central', { token: admin, body: { disabled: true } }))
        .status,
    ).toBe(409);
    expect((await h.call('DELETE', '/api/users/shelfsense-central', { token: admin })).status).toBe(409);
  });
});
