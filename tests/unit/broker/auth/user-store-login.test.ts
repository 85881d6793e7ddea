/**
 * `UserStore.login`: every login from outside goes through the store's one limiter, which is
 * consulted before the secret and counts the attempt before the slow check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserStore } from '@shelfsense/broker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const CHEAP = { cost: 1024, blockSize: 8, parallelization: 1 };
const PASSWORD = 'correct horse battery';
const mqtt = { channel: 'mqtt' as const, address: '10.0.0.1' };
const http = { channel: 'http' as const, address: '10.0.0.1' };

let dir: string;
let now: number;
let store: UserStore;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shelfsense-login-'));
  now = 1_000_000;
  store = new UserStore(dir, {
    scrypt: CHEAP,
    now: () => now,
    login: { maxFailures: 3, maxFailuresPerAddress: 10, windowMs: 60_000, maxEntries: 100 },
  });
  await store.add('op', { role: 'operator', sites: ['A'] }, PASSWORD);
  await store.add('sup', { role: 'supplier', supplier: 'X' }, PASSWORD);
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('UserStore.login', () => {
  it('a right password logs in over either channel', async () => {
    expect(await store.login('op', PASSWORD, http)).toEqual({
      identity: { user: 'op', grant: { role: 'operator', sites: ['A'] }, via: 'password' },
    });
    expect((await store.login('op', PASSWORD, mqtt)).identity?.via).toBe('password');
  });

  it('[lockout] a locked name is refused with retryAfterMs whatever the secret, on every channel', async () => {
    for (let i = 0; i < 3; i++)
      expect(await store.login('op', `wrong-${i}`, http)).toEqual({ identity: null });
    const refused = await store.login('op', PASSWORD, mqtt);
    expect(refused).toEqual({ identity: null, retryAfterMs: 60_000, limited: 'name' });
    // A valid token too: the lock is checked before the secret.
    const token = store.issueToken('op', 60_000);
    expect((await store.login('op', token, { channel: 'mqtt' })).identity).toBeNull();
    expect(store.loginRefused.mqtt.name).toBe(2);
    // Other names are not held up; the window passes.
    expect((await store.login('sup', PASSWORD, mqtt)).identity?.user).toBe('sup');
    now += 60_000;
    expect((await store.login('op', PASSWORD, mqtt)).identity?.user).toBe('op');
  });

  it('[parallel] many attempts in flight at once: only maxFailures reach the password check', async () => {
    const all = await Promise.all(
      Array.from({ length: 12 }, (_, i) => store.login('op', `guess-${i}`, { channel: 'mqtt' })),
    );
    expect(all.filter((r) => r.identity === null && r.retryAfterMs === undefined)).toHaveLength(3);
    expect(all.filter((r) => r.identity === null && r.retryAfterMs !== undefined)).toHaveLength(9);
  });

  it('a success clears the name’s failures', async () => {
    await store.login('op', 'wrong-1', mqtt);
    await store.login('op', 'wrong-2', mqtt);
    expect((await store.login('op', PASSWORD, mqtt)).identity).not.toBeNull();
    await store.login('op', 'wrong-3', mqtt);
    await store.login('op', 'wrong-4', mqtt);
    expect((await store.login('op', PASSWORD, mqtt)).identity).not.toBeNull();
  });

  it('[address] one address guessing at many names is locked; another address is not', async () => {
    for (let i = 0; i < 10; i++) await store.login(`name-${i}`, 'guess', mqtt);
    expect(await store.login('op', PASSWORD, mqtt)).toMatchObject({ identity: null, limited: 'address' });
    expect(
      (await store.login('op', PASSWORD, { channel: 'mqtt', address: '10.0.0.2' })).identity,
    ).not.toBeNull();
  });

  it('[tokens] over MQTT a valid token logs in and a bad one counts as a failure; over HTTP a token is never a password', async () => {
    const token = store.issueToken('op', 60_000);
    expect((await store.login('op', token, mqtt)).identity).toEqual({
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
    expect((await store.login('op', token, mqtt)).identity?.user).toBe('op');
    now += 60_000;
    // HTTP: the token is refused and counted like a wrong password.
    const fresh = store.issueToken('sup', 60_000);
    for (let i = 0; i < 3; i++) expect(await store.login('sup', fresh, http)).toEqual({ identity: null });
    expect(await store.login('sup', PASSWORD, http)).toMatchObject({ identity: null, limited: 'name' });
  });

  it('[reset attack] a flood of token-shaped logins under fresh names does not unlock a locked name', async () => {
    for (let i = 0; i < 3; i++) await store.login('op', `wrong-${i}`, http);
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
});
