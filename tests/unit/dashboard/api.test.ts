/**
 * The API client against a real HTTP server: bearer token on every call, the password only in
 * the login body, documented error bodies become coded errors, and an answer that does not match
 * the documented shape is refused with the field named.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, ApiError } from '../../../dashboard/web/lib/api.js';
import { lane, T0 } from './fixtures.js';
import { json, startServer, type TestServer } from './http.js';

const user = { name: 'acme-ops', role: 'supplier', supplier: 'acme', sites: [] };

describe('Api', () => {
  let server: TestServer;
  let api: Api;
  let lanesBody: unknown = [];

  beforeAll(async () => {
    server = await startServer((req, res) => {
      if (req.url === '/api/login') {
        const b = JSON.parse(req.body) as { username: string; password: string };
        if (b.password !== 'secret') {
          json(res, 401, {
            error: { code: 'SHELF_ERR_UNAUTHENTICATED', message: 'wrong user name or password' },
          });
          return;
        }
        json(res, 200, { token: 'T1', expiresAt: T0 + 3_600_000, user });
        return;
      }
      if (req.url === '/api/lanes') return json(res, 200, lanesBody);
      if (req.url.startsWith('/api/orders/o%2F1/ship')) {
        return json(res, 409, {
          error: {
            code: 'SHELF_ERR_TRANSITION',
            message: 'order o/1 is open: cannot go to shipped',
            issues: [{ path: 'state', message: 'cannot go from open to shipped' }],
          },
        });
      }
      if (req.url.startsWith('/api/lanes/store-1/shelf-a/L0/history')) {
        return json(res, 200, { levels: [{ ts: T0, units: 3, grams: 1050, state: 'ok' }], events: [] });
      }
      if (req.url === '/api/agents/store-1/pi-1/commands/tare') {
        return json(res, 200, { status: 'ok', data: { residualG: 0.2 }, transaction: 'x' });
      }
      res.writeHead(500);
      res.end('boom');
    });
    api = new Api({ baseUrl: server.url, token: () => 'T1' });
  });
  afterAll(() => server.close());

  it('[login] posts the credentials once and returns token and user', async () => {
    const r = await new Api({ baseUrl: server.url, token: () => null }).login('acme-ops', 'secret');
    expect(r).toEqual({ token: 'T1', expiresAt: T0 + 3_600_000, user });
    const req = server.requests.at(-1);
    expect(req?.method).toBe('POST');
    expect(req?.headers.authorization).toBeUndefined();
    expect(JSON.parse(req?.body ?? '')).toEqual({ username: 'acme-ops', password: 'secret' });
  });

  it('wrong credentials are a 401 with the server code', async () => {
    const err = (await api.login('acme-ops', 'nope').catch((e: unknown) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect([err.status, err.code]).toEqual([401, 'SHELF_ERR_UNAUTHENTICATED']);
  });

  it('sends the bearer token and parses lanes, deriving a status the server left out', async () => {
    const { status: _drop, ...noStatus } = lane({ units: 0 });
    lanesBody = [lane(), { ...noStatus, status: 'something-new' }];
    const lanes = await api.lanes();
    expect(server.requests.at(-1)?.headers.authorization).toBe('Bearer T1');
    expect(lanes.map((l) => l.status)).toEqual(['ok', 'stock-out']);
  });

  it('[bad input named] refuses an answer of the wrong shape, naming the field', async () => {
    lanesBody = [{ ...lane(), units: 'seven' }];
    const err = (await api.lanes().catch((e: unknown) => e)) as ApiError;
    expect(err.code).toBe('SHELF_ERR_BAD_RESPONSE');
    expect(err.message).toMatch(/0\.units/);
    expect(err.issues[0]?.path).toBe('0.units');
  });

  it('fills fields the API leaves out with null', async () => {
    lanesBody = [{ site: 's', shelf: 'a', lane: 'L0' }];
    const [l] = await api.lanes();
    expect(l?.units).toBeNull();
    expect(l?.openOrder).toBeNull();
    expect(l?.offlineAfterMs).toBeNull();
    // No status and no reading: derived by the shared rules, a lane that never reported is offline.
    expect(l?.status).toBe('offline');
  });

  it('an illegal transition is a 409 with its code and issues; ids are path-encoded', async () => {
    const err = (await api.shipOrder('o/1', 5).catch((e: unknown) => e)) as ApiError;
    expect(server.requests.at(-1)?.url).toBe('/api/orders/o%2F1/ship');
    expect(JSON.parse(server.requests.at(-1)?.body ?? '')).toEqual({ quantity: 5 });
    expect([err.status, err.code]).toEqual([409, 'SHELF_ERR_TRANSITION']);
    expect(err.issues).toEqual([{ path: 'state', message: 'cannot go from open to shipped' }]);
  });

  it('history takes a range; commands post their args', async () => {
    const h = await api.history({ site: 'store-1', shelf: 'shelf-a', lane: 'L0' }, T0 - 1000, T0);
    expect(server.requests.at(-1)?.url).toBe(
      `/api/lanes/store-1/shelf-a/L0/history?from=${T0 - 1000}&to=${T0}`,
    );
    expect(h.levels[0]?.units).toBe(3);
    const reply = await api.command('store-1', 'pi-1', 'tare', { shelf: 'shelf-a', lane: 'L0' });
    expect(reply.status).toBe('ok');
    expect(JSON.parse(server.requests.at(-1)?.body ?? '')).toEqual({
      args: { shelf: 'shelf-a', lane: 'L0' },
    });
  });

  it('a non-JSON failure and an unreachable server are coded errors', async () => {
    const err = (await api.alerts().catch((e: unknown) => e)) as ApiError;
    expect([err.status, err.code]).toEqual([500, 'HTTP_500']);
    const down = new Api({ baseUrl: 'http://127.0.0.1:1', token: () => 'T1' });
    const err2 = (await down.lanes().catch((e: unknown) => e)) as ApiError;
    expect(err2.code).toBe('SHELF_ERR_NETWORK');
  });
});
