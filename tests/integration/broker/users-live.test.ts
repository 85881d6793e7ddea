/**
 * Users managed live on the real central (the broker, its user store and the HTTP API in one
 * process, as `shelfsense central` wires them): a disabled user is refused over HTTP and MQTT,
 * revoking closes the user's live MQTT connection at once, and every login, failed login, token
 * and change lands in central's audit log — also those `shelfsense users` makes in another process.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AuditEntry } from '@shelfsense/central/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthCentral, call, loginAt, PASSWORD, startAuthCentral } from './central-auth.js';
import { connect, until } from './helpers.js';

/** The compiled CLI, as users-cli.test.ts runs it (built by `npx tsc -b tsconfig.build.json`). */
const MAIN = join(fileURLToPath(new URL('../../..', import.meta.url)), 'cli/dist/main.js');

describe('users managed live (real central)', () => {
  let c: AuthCentral;
  let admin: string;
  beforeAll(async () => {
    c = await startAuthCentral();
    admin = (await loginAt(c.base, 'admin', PASSWORD)).body.token as string;
  });
  afterAll(() => c?.close());

  const audit = (q: { targetId?: string; action?: string } = {}): AuditEntry[] =>
    c.central.store!.audit.list({ target: 'user', ...q, limit: 1000 });

  /** 0 when the broker accepts the CONNECT, else the CONNACK code. */
  const mqttLogin = (username: string, password: string) =>
    connect(c.mqttUrl, { username, password }).then(
      async (r) => {
        await r.end();
        return 0;
      },
      (err: { code?: number }) => err.code ?? -1,
    );

  it('[disable] a disabled user cannot log in over HTTP or MQTT; enabled again, it can', async () => {
    expect(await mqttLogin('op-a', PASSWORD)).toBe(0);
    const off = await call(c.base, 'PATCH', '/api/users/op-a', { token: admin, json: { disabled: true } });
    expect(off.status).toBe(200);
    expect((await loginAt(c.base, 'op-a', PASSWORD)).status).toBe(401);
    expect(await mqttLogin('op-a', PASSWORD)).toBe(4);
    await call(c.base, 'PATCH', '/api/users/op-a', { token: admin, json: { disabled: false } });
    expect((await loginAt(c.base, 'op-a', PASSWORD)).status).toBe(200);
    expect(await mqttLogin('op-a', PASSWORD)).toBe(0);

    const rows = audit({ targetId: 'op-a' });
    const disabled = rows.find((r) => r.action === 'user.disabled');
    expect(disabled).toMatchObject({
      actor: 'admin',
      role: 'admin',
      site: 'A',
      before: { grant: { role: 'operator', sites: ['A'] }, disabled: false },
      after: { disabled: true },
    });
    const failed = rows.filter((r) => r.action === 'login.failed').map((r) => r.detail);
    expect(failed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ channel: 'http', reason: 'disabled', address: '127.0.0.1' }),
        expect.objectContaining({ channel: 'mqtt', reason: 'disabled', address: '127.0.0.1' }),
      ]),
    );
    expect(rows.some((r) => r.action === 'user.enabled')).toBe(true);
  });

  it('[revoke] revoking closes the live MQTT connection within a second and the token answers 401', async () => {
    const token = (await loginAt(c.base, 'tech-a', PASSWORD)).body.token as string;
    const live = await connect(c.wsUrl, { username: 'tech-a', password: token });
    const closed = live.closed(1_000);
    const r = await call(c.base, 'POST', '/api/users/tech-a/revoke', { token: admin, json: {} });
    expect(r.status).toBe(200);
    expect(r.body['disconnected']).toBe(1);
    await closed;
    expect((await call(c.base, 'GET', '/api/lanes', { token })).status).toBe(401);
    expect(await mqttLogin('tech-a', token)).toBe(4);
    expect(audit({ targetId: 'tech-a', action: 'user.sessions_revoked' })[0]).toMatchObject({
      actor: 'admin',
      role: 'admin',
    });
  });

  it('[audit] logins, failed logins and tokens issued are in the audit log', async () => {
    expect((await loginAt(c.base, 'sup-x', 'not the password')).status).toBe(401);
    expect((await loginAt(c.base, 'sup-x', PASSWORD)).status).toBe(200);
    expect(await mqttLogin('sup-x', PASSWORD)).toBe(0);
    const rows = audit({ targetId: 'sup-x' });
    const seen = rows.map((r) => [r.action, r.detail?.['channel'] ?? null, r.detail?.['reason'] ?? null]);
    expect(seen).toEqual(
      expect.arrayContaining([
        ['login.failed', 'http', 'bad_password'],
        ['login', 'http', null],
        ['token.issued', null, null],
        ['login', 'mqtt', null],
      ]),
    );
    // The harness added the user as central; every login and token since is the user's own.
    expect(rows.find((r) => r.action === 'user.added')).toMatchObject({ actor: 'central', role: null });
    for (const r of rows.filter((r) => r.action !== 'user.added'))
      expect(r).toMatchObject({ actor: 'sup-x', role: 'supplier', target: 'user' });
    expect(JSON.stringify(rows)).not.toContain(PASSWORD);
  });

  it('[cli] a change `shelfsense users` makes in another process reaches the audit log', async () => {
    const users = (...args: string[]) => {
      const run = spawnSync(process.execPath, [MAIN, 'users', ...args, '--data-dir', c.central.dataDir], {
        input: `${PASSWORD}\n`,
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
    };
    users('add', 'pi-9', '--role', 'agent', '--site', 'A');
    const agent = { username: 'pi-9', password: PASSWORD, clientId: 'shelfsense-agent-A-pi-9' };
    await (await connect(c.mqttUrl, agent)).end();
    users('disable', 'pi-9');
    // The running broker reads users.db at every login: the agent is refused at once.
    expect(
      await connect(c.mqttUrl, agent).then(
        () => 0,
        (err: { code?: number }) => err.code,
      ),
    ).toBe(4);
    await until(
      () => audit({ targetId: 'pi-9', action: 'user.added' }).length > 0,
      'the CLI change in the audit log',
      3_000,
    );
    expect(audit({ targetId: 'pi-9', action: 'user.added' })[0]).toMatchObject({
      actor: expect.stringMatching(/^shelfsense users/),
      role: null,
      site: 'A',
      after: { grant: { role: 'agent', site: 'A', agent: 'pi-9' }, disabled: false },
    });
    await until(
      () => audit({ targetId: 'pi-9', action: 'user.disabled' }).length === 1,
      'the CLI disable in the audit log',
      3_000,
    );
  });
});
