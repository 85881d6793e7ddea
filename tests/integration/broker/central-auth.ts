/**
 * The real central in-process as `shelfsense central` wires it (serviceParts: the HTTP API on the
 * broker's user store), on ephemeral ports, with the users of helpers.ts; and HTTP requests that
 * can come from a chosen loopback address (127.x.y.z), as distinct clients would.
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { UserStore } from '@shelfsense/broker';
import { Central, serviceParts } from '@shelfsense/central';
import type { CentralConfigInput } from '@shelfsense/protocol';
import { pino } from 'pino';
import { buildConfig, PASSWORD, USERS } from './helpers.js';

export { PASSWORD };

export interface AuthCentral {
  central: Central;
  users: UserStore;
  base: string;
  mqttUrl: string;
  wsUrl: string;
  close(): Promise<void>;
}

export async function startAuthCentral(auth: CentralConfigInput['auth'] = {}): Promise<AuthCentral> {
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-central-auth-'));
  const config = buildConfig(dir, {
    http: { host: '127.0.0.1', port: 0 },
    integrations: { nodeRed: { enabled: false } },
    auth: { scrypt: { cost: 1024 }, ...auth },
  });
  const central = new Central({ config, logger: pino({ level: 'silent' }), parts: serviceParts() });
  await central.start();
  const users = central.broker!.users;
  for (const [name, grant] of Object.entries(USERS)) await users.add(name, grant, PASSWORD);
  return {
    central,
    users,
    base: `http://127.0.0.1:${central.httpPort}`,
    mqttUrl: `mqtt://127.0.0.1:${central.mqttPort}`,
    wsUrl: `ws://127.0.0.1:${central.httpPort}/mqtt`,
    async close() {
      await central.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: { token?: string; error?: { code: string; message: string } } & Record<string, unknown>;
}

/** An HTTP request with a JSON (or raw) body, from `from` (a loopback address) when given. */
export function call(
  base: string,
  method: string,
  path: string,
  o: { json?: unknown; raw?: string; headers?: Record<string, string>; token?: string; from?: string } = {},
): Promise<Answer> {
  const body = o.raw ?? (o.json === undefined ? undefined : JSON.stringify(o.json));
  const headers: Record<string, string> = {
    ...(o.json === undefined ? {} : { 'content-type': 'application/json' }),
    ...(o.token ? { authorization: `Bearer ${o.token}` } : {}),
    ...o.headers,
  };
  if (body !== undefined) headers['content-length'] = String(Buffer.byteLength(body));
  return new Promise((resolve, reject) => {
    const req = request(
      `${base}${path}`,
      { method, headers, agent: false, ...(o.from ? { localAddress: o.from } : {}) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
        });
        res.on('end', () => {
          let parsed: Answer['body'] = {};
          try {
            parsed = JSON.parse(text) as Answer['body'];
          } catch {}
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export const loginAt = (base: string, username: string, password: string, from?: string) =>
  call(base, 'POST', '/api/login', { json: { username, password }, ...(from ? { from } : {}) });
