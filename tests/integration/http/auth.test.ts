/**
 * Login, tokens and the 401 cases of the HTTP API (docs/http-api.md "Authentication"), on a real
 * UserStore and a real HTTP server.
 */
import { LOGIN_FAILED } from '@shelfsense/central/http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, PASSWORD, startHarness, TOKEN_TTL_MS } from './harness.js';

type ErrorBody = { error: { code: string; message: string; issues?: { path: string; message: string }[] } };

describe('HTTP API: authentication', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({}, { login: { maxFailures: 3, windowMs: 60_000 } });
  });
  afterAll(() => h?.close());

  it('[login] a user name and password give a token, its expiry and the user with role and scope', async () => {
    const r = await h.call<{ token: string; expiresAt: number; user: unknown }>('POST', '/api/login', {
      body: { username: 'op-a', password: PASSWORD },
    });
    expect(r.status).toBe(200);
    expect(r.body.token).toMatch(/^sst1\./);
    expect(r.body.expiresAt).toBe(h.now.t + TOKEN_TTL_MS);
    expect(r.body.user).toEqual({ name: 'op-a', role: 'operator', supplier: null, sites: ['A'] });
    const sup = await h.call<{ user: unknown }>('POST', '/api/login', {
      body: { username: 'sup-x', password: PASSWORD },
    });
    expect(sup.body.user).toEqual({ name: 'sup-x', role: 'supplier', supplier: 'X', sites: [] });
    // The token opens the API...
    const lanes = await h.call('GET', '/api/lanes', { token: r.body.token });
    expect(lanes.status).toBe(200);
    // ...and is the MQTT password over WebSocket (the broker authenticates through the same user store).
    const identity = await h.users.authenticate('op-a', r.body.token);
    expect(identity?.grant).toEqual({ role: 'operator', sites: ['A'] });
  });

  it('[401] no token, a malformed header, a bad signature and a forged token are refused', async () => {
    const token = await h.login('op-a');
    const none = await h.call<ErrorBody>('GET', '/api/lanes');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('SHELF_ERR_UNAUTHENTICATED');
    expect(none.headers.get('www-authenticate')).toBe('Bearer');
    const basic = await h.call<ErrorBody>('GET', '/api/lanes', {
      headers: { Authorization: `Basic ${token}` },
    });
    expect(basic.status).toBe(401);
    const tampered = `${token.slice(0, -3)}${token.endsWith('AAA') ? 'BBB' : 'AAA'}`;
    const bad = await h.call<ErrorBody>('GET', '/api/lanes', { token: tampered });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe('SHELF_ERR_UNAUTHENTICATED');
    // A token claiming admin, signed with another key.
    const claims = Buffer.from(
      JSON.stringify({ u: 'op-a', g: { role: 'admin' }, exp: h.now.t + 60_000 }),
    ).toString('base64url');
    const forged = await h.call('GET', '/api/webhooks/dead', { token: `sst1.${claims}.${'A'.repeat(43)}` });
    expect(forged.status).toBe(401);
    const garbage = await h.call('GET', '/api/lanes', { token: 'not-a-token' });
    expect(garbage.status).toBe(401);
  });

  it('[401] an expired token is refused (injected clock); refresh before expiry gives a fresh one', async () => {
    const start = h.now.t;
    try {
      const token = await h.login('tech-a');
      h.now.t = start + TOKEN_TTL_MS - 1_000;
      const refreshed = await h.call<{ token: string; expiresAt: number }>('POST', '/api/login/refresh', {
        token,
        body: {},
      });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.expiresAt).toBe(h.now.t + TOKEN_TTL_MS);
      h.now.t = start + TOKEN_TTL_MS;
      const expired = await h.call<ErrorBody>('GET', '/api/lanes', { token });
      expect(expired.status).toBe(401);
      expect(expired.body.error.message).toMatch(/expired/);
      const late = await h.call('POST', '/api/login/refresh', { token, body: {} });
      expect(late.status).toBe(401);
      // The refreshed token still works.
      expect((await h.call('GET', '/api/lanes', { token: refreshed.body.token })).status).toBe(200);
    } finally {
      h.now.t = start;
    }
  });

  it('[no user enumeration] a wrong password and an unknown user get the same 401 and message', async () => {
    const wrong = await h.call<ErrorBody>('POST', '/api/login', {
      body: { username: 'sup-y', password: 'not the password' },
    });
    const unknown = await h.call<ErrorBody>('POST', '/api/login', {
      body: { username: 'nobody-here', password: 'not the password' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error).toEqual({ code: 'SHELF_ERR_UNAUTHENTICATED', message: LOGIN_FAILED });
  });

  it('[login] a token is not accepted in place of the password at login', async () => {
    const token = await h.login('svc');
    const r = await h.call<ErrorBody>('POST', '/api/login', { body: { username: 'svc', password: token } });
    expect(r.status).toBe(401);
    expect(r.body.error.message).toBe(LOGIN_FAILED);
  });

  it('[rate limit] failed logins per user name are limited; the right password waits too; the window passes', async () => {
    const start = h.now.t;
    try {
      for (let i = 0; i < 3; i++) {
        const r = await h.call('POST', '/api/login', {
          body: { username: 'op-b', password: `wrong-${i}-pass` },
        });
        expect(r.status).toBe(401);
      }
      const limited = await h.call<ErrorBody>('POST', '/api/login', {
        body: { username: 'op-b', password: PASSWORD },
      });
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('SHELF_ERR_RATE_LIMITED');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
      // Other names are not affected, and unknown names are limited the same way.
      expect(
        (await h.call('POST', '/api/login', { body: { username: 'op-a', password: PASSWORD } })).status,
      ).toBe(200);
      for (let i = 0; i < 3; i++) {
        await h.call('POST', '/api/login', { body: { username: 'ghost', password: `wrong-${i}-pass` } });
      }
      expect(
        (await h.call('POST', '/api/login', { body: { username: 'ghost', password: 'x' } })).status,
      ).toBe(429);
      h.now.t = start + 60_000;
      expect(
        (await h.call('POST', '/api/login', { body: { username: 'op-b', password: PASSWORD } })).status,
      ).toBe(200);
    } finally {
      h.now.t = start;
    }
  });

  it('[rate limit] many wrong logins in flight at once cannot slip under the limit', async () => {
    const start = h.now.t;
    try {
      const all = await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          h.call('POST', '/api/login', { body: { username: 'tech-b', password: `guess-${i}-wrong` } }),
        ),
      );
      const statuses = all.map((r) => r.status);
      expect(statuses.filter((s) => s === 401)).toHaveLength(3);
      expect(statuses.filter((s) => s === 429)).toHaveLength(9);
    } finally {
      h.now.t = start + 60_000;
      expect(
        (await h.call('POST', '/api/login', { body: { username: 'tech-b', password: PASSWORD } })).status,
      ).toBe(200);
      h.now.t = start;
    }
  });

  it('[400] a login body that fails its schema names the field; bad JSON is a 400 too', async () => {
    const r = await h.call<ErrorBody>('POST', '/api/login', { body: { username: 'op-a' } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe('SHELF_ERR_INVALID');
    expect(r.body.error.issues?.map((i) => i.path)).toEqual(['password']);
    expect(r.body.error.message).toMatch(/password/);
    const extra = await h.call<ErrorBody>('POST', '/api/login', {
      body: { username: 'op-a', password: PASSWORD, role: 'admin' },
    });
    expect(extra.status).toBe(400);
    expect(extra.body.error.message).toMatch(/role/);
    const json = await h.call<ErrorBody>('POST', '/api/login', {
      raw: '{"username": ',
      headers: { 'Content-Type': 'application/json' },
    });
    expect(json.status).toBe(400);
    expect(json.body.error.message).toMatch(/not JSON/);
  });

  it('[415] a login body not sent as application/json is refused before it counts as an attempt', async () => {
    const body = JSON.stringify({ username: 'tech-a', password: 'a cross-site guess' });
    // What a form or a no-cors fetch on another site can send without a preflight, and no type at all.
    for (const type of [
      'text/plain',
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=iso-8859-1',
      'application/jsonp',
      null,
    ]) {
      for (let i = 0; i < 4; i++) {
        const r = await h.call<ErrorBody>('POST', '/api/login', {
          raw: body,
          headers: type === null ? {} : { 'Content-Type': type },
        });
        expect(r.status).toBe(415);
        expect(r.body.error.code).toBe('SHELF_ERR_UNSUPPORTED_MEDIA_TYPE');
        expect(r.body.error.message).toMatch(/Content-Type: application\/json|must be application\/json/);
      }
    }
    // None of those 28 counted: the name is not locked (the limit here is 3).
    const ok = await h.call('POST', '/api/login', {
      raw: JSON.stringify({ username: 'tech-a', password: PASSWORD }),
      headers: { 'Content-Type': 'Application/JSON; charset="UTF-8"' },
    });
    expect(ok.status).toBe(200);
    // Every route that reads a body asks the same; an empty body with no type is still `{}`.
    const token = await h.login('tech-a');
    const refresh = await h.call<ErrorBody>('POST', '/api/login/refresh', {
      token,
      raw: '{}',
      headers: { 'Content-Type': 'text/plain' },
    });
    expect(refresh.status).toBe(415);
    expect((await h.call('POST', '/api/login/refresh', { token })).status).toBe(200);
  });

  it('[revocation] a token stops working once its user is removed', async () => {
    await h.users.add('temp-op', { role: 'operator', sites: ['A'] }, PASSWORD);
    const token = await h.login('temp-op');
    expect((await h.call('GET', '/api/lanes', { token })).status).toBe(200);
    h.users.remove('temp-op');
    expect((await h.call('GET', '/api/lanes', { token })).status).toBe(401);
  });

  it('routes: unknown /api paths answer 404, wrong methods 405, other paths are left to the server', async () => {
    const token = await h.login('admin');
    const missing = await h.call<ErrorBody>('GET', '/api/nothing-here', { token });
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('SHELF_ERR_NOT_FOUND');
    const method = await h.call<ErrorBody>('DELETE', '/api/lanes', { token });
    expect(method.status).toBe(405);
    expect(method.headers.get('allow')).toBe('GET');
    const other = await h.call('GET', '/dashboard');
    expect(other.status).toBe(418);
    expect((await h.call('GET', '/apiary')).status).toBe(418);
  });
});
