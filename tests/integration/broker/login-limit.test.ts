/**
 * The login limit against the real central (HTTP API on the broker's user store), with requests
 * from distinct loopback addresses standing in for distinct clients: a locked name cannot be
 * pushed out of the table, one address cannot guess at many names, a table full of locks refuses
 * newcomers, and the limit is one for HTTP and MQTT.
 */
import { clientIds, type Grant } from '@shelfsense/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthCentral, call, loginAt, PASSWORD, startAuthCentral } from './central-auth.js';
import { connect, until } from './helpers.js';

const LOGIN = { maxFailures: 5, maxFailuresPerAddress: 30, windowMs: 60_000, maxEntries: 100 };

/** A token-shaped password: refused at once over HTTP without scrypt, as an attacker's fast path. */
const TOKEN_SHAPED = 'sst1.e30.AAAA';

const retryAfter = (r: { headers: Record<string, unknown> }) => Number(r.headers['retry-after']);

describe('login limit over HTTP (real central)', () => {
  let c: AuthCentral;
  beforeAll(async () => {
    c = await startAuthCentral({ login: LOGIN });
  });
  afterAll(() => c?.close());

  it('[reset attack] a flood of fast logins under fresh names from many addresses does not unlock a locked name', async () => {
    for (let i = 0; i < 5; i++) expect((await loginAt(c.base, 'op-a', `wrong-${i}-pass`)).status).toBe(401);
    const locked = await loginAt(c.base, 'op-a', PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.body.error?.code).toBe('SHELF_ERR_RATE_LIMITED');
    // More one-shot names than any table of 10 000 would hold (and a hundred times this one's), from
    // 352 addresses, each staying under its own limit.
    for (let a = 0; a < 352; a++) {
      const from = `127.1.${a >> 7}.${(a & 127) + 1}`;
      const all = await Promise.all(
        Array.from({ length: 29 }, (_, i) => loginAt(c.base, `junk-${a}-${i}`, TOKEN_SHAPED, from)),
      );
      expect(all.map((r) => r.status)).toEqual(Array(29).fill(401));
    }
    expect(c.users.limiter.size).toBeLessThanOrEqual(LOGIN.maxEntries);
    // The name is still locked, from any address, with the right password.
    const after = await loginAt(c.base, 'op-a', PASSWORD, '127.0.2.1');
    expect(after.status).toBe(429);
    expect(retryAfter(after)).toBeGreaterThan(0);
    expect(retryAfter(after)).toBeLessThanOrEqual(60);
  });

  it('[address] one address guessing at many names is refused (429) even for a right password; other addresses go on', async () => {
    const from = '127.0.3.1';
    for (let i = 0; i < 30; i++) {
      expect((await loginAt(c.base, `guess-${i}`, 'not the password', from)).status).toBe(401);
    }
    const r = await loginAt(c.base, 'sup-x', PASSWORD, from);
    expect(r.status).toBe(429);
    expect(r.body.error?.message).toMatch(/from this address/);
    expect(retryAfter(r)).toBeGreaterThan(0);
    expect((await loginAt(c.base, 'sup-x', PASSWORD, '127.0.3.2')).status).toBe(200);
  });

  it('a forwarded-for header does not change the address a login is counted under', async () => {
    const from = '127.0.4.1';
    for (let i = 0; i < 30; i++) {
      const r = await call(c.base, 'POST', '/api/login', {
        json: { username: `fwd-${i}`, password: 'not the password' },
        headers: { 'x-forwarded-for': `198.51.100.${i}` },
        from,
      });
      expect(r.status).toBe(401);
    }
    expect((await loginAt(c.base, 'sup-y', PASSWORD, from)).status).toBe(429);
  });
});

describe('login limit: a table full of locks (real central)', () => {
  let c: AuthCentral;
  beforeAll(async () => {
    c = await startAuthCentral({ login: LOGIN });
  });
  afterAll(() => c?.close());

  it('[fail closed] when every remembered name and address is locked, newcomers get 429 (counted), and no lock is lost', async () => {
    for (let i = 0; i < 5; i++) await loginAt(c.base, 'op-a', `wrong-${i}-pass`);
    let full = null;
    // Each address locks 6 names (5 failures each) and then itself: 7 locks per address.
    for (let a = 1; a <= 20 && !full; a++) {
      for (let n = 0; n < 6 && !full; n++) {
        for (let i = 0; i < 5; i++) {
          const r = await loginAt(c.base, `filler-${a}-${n}`, TOKEN_SHAPED, `127.0.5.${a}`);
          if (r.status === 429 && r.body.error?.message === 'too many failed logins; try again later') {
            full = r;
            break;
          }
        }
      }
    }
    expect(full).not.toBeNull();
    // Full: no room for the attempt's new entries, and every entry but the attempt's own (not yet
    // locked) address is a lock.
    const { size, lockedCount } = c.users.limiter;
    expect(size).toBeGreaterThanOrEqual(LOGIN.maxEntries - 1);
    expect(lockedCount).toBeGreaterThanOrEqual(size - 1);
    // A newcomer (fresh name, fresh address) with a right password is refused without a check…
    const newcomer = await loginAt(c.base, 'sup-x', PASSWORD, '127.0.6.1');
    expect(newcomer.status).toBe(429);
    expect(retryAfter(newcomer)).toBeGreaterThan(0);
    // …and the first lock still holds.
    expect((await loginAt(c.base, 'op-a', PASSWORD, '127.0.6.2')).status).toBe(429);
    const metrics = await (await fetch(`${c.base}/metrics`)).text();
    const line = metrics
      .split('\n')
      .find((l) => l.startsWith('shelfsense_login_refused_total{channel="http",reason="full"}'));
    expect(Number(line?.split(' ').at(-1))).toBeGreaterThanOrEqual(2);
  });
});

/** MQTT CONNECT goes through the same limiter (`UserStore.login`, channel `mqtt`). */
describe('login limit shared by MQTT and HTTP (real central)', () => {
  let c: AuthCentral;
  beforeAll(async () => {
    c = await startAuthCentral({ login: LOGIN });
  });
  afterAll(() => c?.close());

  const mqttLogin = (username: string, password: string) =>
    connect(c.mqttUrl, { username, password }).then(
      async (r) => {
        await r.end();
        return 0;
      },
      (err: { code?: number }) => err.code ?? -1,
    );

  it('[MQTT guessing] wrong passwords over MQTT lock the name: the right one is refused over MQTT and HTTP', async () => {
    for (let i = 0; i < 5; i++) expect(await mqttLogin('tech-a', `wrong-${i}-pass`)).toBe(4);
    expect(await mqttLogin('tech-a', PASSWORD)).not.toBe(0);
    const http = await loginAt(c.base, 'tech-a', PASSWORD, '127.0.7.1');
    expect(http.status).toBe(429);
  });

  it('[HTTP lock holds over MQTT] a name locked through /api/login cannot log in over MQTT', async () => {
    for (let i = 0; i < 5; i++) await loginAt(c.base, 'sup-y', `wrong-${i}-pass`, '127.0.7.2');
    expect((await loginAt(c.base, 'sup-y', PASSWORD, '127.0.7.3')).status).toBe(429);
    expect(await mqttLogin('sup-y', PASSWORD)).not.toBe(0);
  });

  it('[MQTT guessing rate] parallel guesses over MQTT: only maxFailures reach the password check', async () => {
    const grant: Grant = { role: 'operator', sites: ['A'] };
    await c.users.add('op-guess', grant, PASSWORD);
    await Promise.all(Array.from({ length: 20 }, (_, i) => mqttLogin('op-guess', `guess-${i}-wrong`)));
    expect(c.users.loginRefused.mqtt.name).toBeGreaterThanOrEqual(15);
    expect(await mqttLogin('op-guess', PASSWORD)).not.toBe(0);
  });

  it('a bad token over MQTT counts as a failure', async () => {
    const token = c.users.issueToken('op-a', 60_000);
    const bad = `${token.slice(0, -2)}AA`;
    for (let i = 0; i < 5; i++) await mqttLogin('admin', bad);
    expect(await mqttLogin('admin', c.users.issueToken('admin', 60_000))).not.toBe(0);
    expect((await loginAt(c.base, 'admin', PASSWORD, '127.0.7.4')).status).toBe(429);
  });
});

/** Anyone who knows a user name can lock it; that must not keep its own devices out. */
describe('a locked name does not lock out its known addresses (real central)', () => {
  let c: AuthCentral;
  beforeAll(async () => {
    c = await startAuthCentral({ login: LOGIN });
  });
  afterAll(() => c?.close());

  it('[agent lockout] an agent that logged in from its address reconnects while an attacker keeps its name locked', async () => {
    const first = await connect(c.mqttUrl, { username: 'agent-a', password: PASSWORD });
    await first.end();
    for (let i = 0; i < 5; i++) await loginAt(c.base, 'agent-a', `wrong-${i}-pass`, '127.0.8.1');
    expect((await loginAt(c.base, 'agent-a', PASSWORD, '127.0.8.2')).status).toBe(429);
    const again = await connect(c.mqttUrl, { username: 'agent-a', password: PASSWORD });
    expect(again.client.connected).toBe(true);
    await again.end();
  });

  it('[central lockout] central’s own client reconnects while its well-known name is locked', async () => {
    const ingest = c.central.ingest!;
    for (let i = 0; i < 5; i++) await loginAt(c.base, 'shelfsense-central', `wrong-${i}-pass`, '127.0.8.3');
    expect(c.users.limiter.blockedFor('shelfsense-central', Date.now())).toBeGreaterThan(0);
    // Drop central's client at the broker: it must get back in.
    const clients = (c.central.broker!.aedes as unknown as { clients: Record<string, { close(): void }> })
      .clients;
    const own = Object.keys(clients).find((id) => id.startsWith(clientIds.centralPrefix));
    expect(own).toBeDefined();
    clients[own!]!.close();
    await until(() => !ingest.connected, 'central’s client dropped');
    await until(() => ingest.connected, 'central’s client back in');
  });
});

describe('login limit: one user logging in many times at once (real central)', () => {
  let c: AuthCentral;
  beforeAll(async () => {
    c = await startAuthCentral({ login: LOGIN });
  });
  afterAll(() => c?.close());

  it('[burst] twelve MQTT connections and twelve HTTP logins of one user at once all get in', async () => {
    const conns = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        connect(c.mqttUrl, { username: 'tech-a', password: PASSWORD, clientId: `burst-${i}` }),
      ),
    );
    expect(conns.every((x) => x.client.connected)).toBe(true);
    for (const x of conns) await x.end();
    const http = await Promise.all(
      Array.from({ length: 12 }, () => loginAt(c.base, 'admin', PASSWORD, '127.0.9.1')),
    );
    expect(http.map((r) => r.status)).toEqual(Array(12).fill(200));
  });

  it('[burst] twelve wrong passwords at once: five are checked, the rest refused; the name is locked', async () => {
    const wrong = await Promise.all(
      Array.from({ length: 12 }, (_, i) => loginAt(c.base, 'sup-y', `wrong-${i}-pass`, '127.0.9.2')),
    );
    expect(wrong.filter((r) => r.status === 401)).toHaveLength(LOGIN.maxFailures);
    expect(wrong.filter((r) => r.status === 429)).toHaveLength(12 - LOGIN.maxFailures);
    expect((await loginAt(c.base, 'sup-y', PASSWORD, '127.0.9.3')).status).toBe(429);
  });
});
