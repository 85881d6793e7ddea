/**
 * Tokens against the real central (HTTP API and broker on one user store): a new password revokes
 * a user's tokens everywhere a token is accepted, and a token has one spelling.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthCentral, call, loginAt, PASSWORD, startAuthCentral } from './central-auth.js';
import { connect } from './helpers.js';

const NEW_PASSWORD = 'a brand new password';

describe('tokens (real central)', () => {
  let c: AuthCentral;
  beforeAll(async () => {
    c = await startAuthCentral();
  });
  afterAll(() => c?.close());

  /** 0 when the broker accepts the CONNECT, else the CONNACK code (or -1: no CONNACK). */
  const mqttLogin = (url: string, username: string, password: string) =>
    connect(url, { username, password }).then(
      async (r) => {
        await r.end();
        return 0;
      },
      (err: { code?: number }) => err.code ?? -1,
    );

  it('[revocation] after a password change the old token is refused over HTTP (401), MQTT (CONNACK) and by refresh', async () => {
    const login = await loginAt(c.base, 'op-a', PASSWORD);
    expect(login.status).toBe(200);
    const token = login.body.token as string;
    // Before: the token opens the API, both MQTT listeners, and refreshes.
    expect((await call(c.base, 'GET', '/api/lanes', { token })).status).toBe(200);
    expect(await mqttLogin(c.mqttUrl, 'op-a', token)).toBe(0);
    expect(await mqttLogin(c.wsUrl, 'op-a', token)).toBe(0);
    const refreshed = await call(c.base, 'POST', '/api/login/refresh', { token, json: {} });
    expect(refreshed.status).toBe(200);
    const second = refreshed.body.token as string;

    await c.users.setPassword('op-a', NEW_PASSWORD);

    for (const t of [token, second]) {
      const api = await call(c.base, 'GET', '/api/lanes', { token: t });
      expect(api.status).toBe(401);
      expect(api.body.error?.code).toBe('SHELF_ERR_UNAUTHENTICATED');
      expect(api.body.error?.message).toMatch(/password has changed/);
      // CONNACK 4: bad user name or password.
      expect(await mqttLogin(c.mqttUrl, 'op-a', t)).toBe(4);
      expect(await mqttLogin(c.wsUrl, 'op-a', t)).toBe(4);
      const refresh = await call(c.base, 'POST', '/api/login/refresh', { token: t, json: {} });
      expect(refresh.status).toBe(401);
    }
    // The new password gives a token that works.
    const again = await loginAt(c.base, 'op-a', NEW_PASSWORD);
    expect(again.status).toBe(200);
    expect((await call(c.base, 'GET', '/api/lanes', { token: again.body.token as string })).status).toBe(200);
    expect(await mqttLogin(c.mqttUrl, 'op-a', again.body.token as string)).toBe(0);
  });

  it('[canonical] a valid token respelt (junk, padding, standard alphabet, trailing bits) is refused over HTTP and MQTT', async () => {
    const token = (await loginAt(c.base, 'sup-x', PASSWORD)).body.token as string;
    expect((await call(c.base, 'GET', '/api/lanes', { token })).status).toBe(200);
    const dot = token.lastIndexOf('.');
    const sig = token.slice(dot + 1);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const flipped = alphabet[alphabet.indexOf(sig.at(-1) as string) ^ 1] as string;
    const body = token.slice(0, dot);
    const variants = [
      `${token}!!`,
      `${token}=`,
      `${body}.${sig.slice(0, -1)}${flipped}`,
      // The claims in the standard alphabet with padding (their JSON holds no - or _ otherwise).
      `${body.replace(/-/g, '+').replace(/_/g, '/')}=.${sig}`,
    ];
    for (const v of variants) {
      expect(v).not.toBe(token);
      const r = await call(c.base, 'GET', '/api/lanes', { token: v });
      expect(r.status).toBe(401);
      expect(r.body.error?.message).toMatch(/malformed/);
      expect(await mqttLogin(c.mqttUrl, 'sup-x', v)).toBe(4);
    }
  });
});
