/**
 * Node-RED at /flows is for admins only, and it shares the central HTTP server without breaking
 * MQTT over WebSocket at /mqtt. Real parts: the Shelfsense broker and user store, Node-RED's own
 * login endpoint, a WebSocket to the editor's comms, an mqtt.js client over ws://.
 */
import { NodeRedService } from '@shelfsense/central/testing';
import { topics } from '@shelfsense/protocol';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { waitFor } from '../../helpers/wait.js';
import { editorLogin, type Harness, PASSWORD, startHarness } from './harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness(() => [{ id: 'tab', type: 'tab', label: 'Empty' }]);
}, 60_000);

afterAll(async () => {
  await h?.close();
});

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function adminSession(): Promise<string> {
  const r = await editorLogin(h.base, 'ada', PASSWORD);
  expect(r.status).toBe(200);
  return ((await r.json()) as { access_token: string }).access_token;
}

function openWs(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const t = setTimeout(() => reject(new Error(`no WebSocket at ${url} within 5 s`)), 5_000);
    ws.once('open', () => {
      clearTimeout(t);
      resolve(ws);
    });
    ws.once('error', (err) => {
      clearTimeout(t);
      reject(err);
    });
  });
}

describe('/flows is admin only', () => {
  it('[NR-AUTH] without admin credentials the admin API refuses (401), and nothing can be deployed', async () => {
    expect((await fetch(`${h.base}/flows/flows`)).status).toBe(401);
    const deploy = await fetch(`${h.base}/flows/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ id: 'evil', type: 'tab', label: 'evil' }]),
    });
    expect(deploy.status).toBe(401);
    expect((await fetch(`${h.base}/flows/nodes`, { headers: { accept: 'application/json' } })).status).toBe(
      401,
    );
    // A garbage bearer token is refused too.
    expect((await fetch(`${h.base}/flows/flows`, { headers: bearer('nope') })).status).toBe(401);
  });

  it('[NR-AUTH] a supplier cannot log in to the editor, nor use its Shelfsense token; a wrong admin password fails', async () => {
    const sup = await editorLogin(h.base, 'sam', PASSWORD);
    expect(sup.status).not.toBe(200);
    expect(JSON.stringify(await sup.json().catch(() => ({})))).not.toContain('access_token');
    const wrong = await editorLogin(h.base, 'ada', 'not the password');
    expect(wrong.status).not.toBe(200);
    const supToken = h.broker.users.issueToken('sam', 60_000);
    expect((await fetch(`${h.base}/flows/flows`, { headers: bearer(supToken) })).status).toBe(401);
  });

  it('[NR-LIMIT] editor logins count in the user store’s one login limiter: once a name is locked, the right password is refused', async () => {
    await h.broker.users.add('ada-2', { role: 'admin' }, PASSWORD);
    for (let i = 0; i < 4; i++)
      expect((await editorLogin(h.base, 'ada-2', `wrong-${i}-pass`)).status).not.toBe(200);
    // A fifth failure elsewhere (the store's login, as MQTT and the HTTP API use it) locks the name.
    const elsewhere = await h.broker.users.login('ada-2', 'wrong-4-pass', { channel: 'mqtt' });
    expect(elsewhere.identity).toBeNull();
    const before = h.broker.users.loginRefused.http.name;
    const refused = await editorLogin(h.base, 'ada-2', PASSWORD);
    expect(refused.status).not.toBe(200);
    expect(h.broker.users.loginRefused.http.name).toBe(before + 1);
  });

  it('[NR-AUTH] an admin logs in (editor form or Shelfsense token) and sees the Shelfsense nodes', async () => {
    const session = await adminSession();
    const flows = await fetch(`${h.base}/flows/flows`, { headers: bearer(session) });
    expect(flows.status).toBe(200);
    expect(await flows.json()).toEqual([{ id: 'tab', type: 'tab', label: 'Empty' }]);
    const nodes = await fetch(`${h.base}/flows/nodes`, {
      headers: { ...bearer(session), accept: 'application/json' },
    });
    const types = ((await nodes.json()) as { types: string[] }[]).flatMap((s) => s.types);
    expect(types).toEqual(
      expect.arrayContaining(['shelfsense-level', 'shelfsense-order-event', 'shelfsense-order-update']),
    );
    const token = h.broker.users.issueToken('ada', 60_000);
    expect((await fetch(`${h.base}/flows/flows`, { headers: bearer(token) })).status).toBe(200);
  });

  it('the editor page is served under /flows/ (and /flows redirects there)', async () => {
    const r = await fetch(`${h.base}/flows?x=1`, { redirect: 'manual' });
    expect(r.status).toBe(301);
    expect(r.headers.get('location')).toBe('/flows/?x=1');
    const page = await fetch(`${h.base}/flows/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Shelfsense flows');
  });
});

describe('/flows is same-origin only', () => {
  const evil = { origin: 'https://evil.example' };
  const corsHeaders = (r: Response) => [...r.headers.keys()].filter((k) => k.startsWith('access-control-'));

  it('[NR-CORS] a request from another origin gets no CORS header: preflights, the admin API with an admin token, the login', async () => {
    const token = h.broker.users.issueToken('ada', 60_000);
    const answers: [string, Response][] = [
      [
        'preflight of a deploy',
        await fetch(`${h.base}/flows/flows`, {
          method: 'OPTIONS',
          headers: {
            ...evil,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization,content-type',
          },
        }),
      ],
      [
        'preflight of a login',
        await fetch(`${h.base}/flows/auth/token`, {
          method: 'OPTIONS',
          headers: { ...evil, 'access-control-request-method': 'POST' },
        }),
      ],
      [
        'flows read with an admin token',
        await fetch(`${h.base}/flows/flows`, { headers: { ...evil, ...bearer(token) } }),
      ],
      ['settings', await fetch(`${h.base}/flows/settings`, { headers: { ...evil, ...bearer(token) } })],
      ['refused without a token', await fetch(`${h.base}/flows/flows`, { headers: evil })],
      ['the editor page', await fetch(`${h.base}/flows/`, { headers: evil })],
    ];
    const login = await fetch(`${h.base}/flows/auth/token`, {
      method: 'POST',
      headers: { ...evil, 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'node-red-editor',
        grant_type: 'password',
        scope: '*',
        username: 'ada',
        password: PASSWORD,
      }),
    });
    answers.push(['editor login', login]);
    expect(answers[2]?.[1].status).toBe(200);
    expect(login.status).toBe(200);
    for (const [what, r] of answers) expect({ what, cors: corsHeaders(r) }).toEqual({ what, cors: [] });
    // Node-RED is told so, rather than left to its defaults.
    const RED = (await import('node-red')).default;
    expect(RED.settings.httpAdminCors).toEqual({ origin: false });
    expect(RED.settings.httpNodeCors).toEqual({ origin: false });
  });
});

describe('sharing the HTTP server', () => {
  it('[NR-WS] MQTT over WebSocket at /mqtt works beside the editor’s WebSocket at /flows/comms', async () => {
    const comms = await openWs(`ws://127.0.0.1:${h.port}/flows/comms`);
    const sup = await mqtt.connectAsync(`ws://127.0.0.1:${h.port}/mqtt`, {
      username: 'sam',
      password: PASSWORD,
      reconnectPeriod: 0,
    });
    try {
      const got: string[] = [];
      sup.on('message', (topic) => got.push(topic));
      await sup.subscribeAsync(topics.level('s1', 'shelf-1', 'lane-a'), { qos: 1 });
      await h.publishLevel('lane-a', 5, 100);
      await waitFor(() => got.length > 0, 5_000, { what: 'a level over MQTT/WebSocket' });
      expect(got[0]).toBe(topics.level('s1', 'shelf-1', 'lane-a'));
      expect(comms.readyState).toBe(WebSocket.OPEN);
    } finally {
      await sup.endAsync();
      comms.terminate();
    }
  });

  it('[NR-ONE] a second Node-RED in the same process is refused with a code', async () => {
    const other = new NodeRedService({
      server: h.server,
      config: h.nodeRed,
      dataDir: h.dir,
      users: h.broker.users,
      orders: h.orders,
      map: h.map,
      feed: h.red.feed,
      log: h.log,
    });
    await expect(other.start()).rejects.toMatchObject({ code: 'SHELF_ERR_NODERED_IN_USE' });
    expect(h.red.service.running).toBe(true);
  });

  it('[NR-STOP] stop() removes Node-RED’s upgrade listeners and closes editor sockets; it starts again', async () => {
    const session = await adminSession();
    const comms = await openWs(`ws://127.0.0.1:${h.port}/flows/comms`);
    const closed = new Promise<void>((r) => comms.once('close', () => r()));
    await h.red.service.stop();
    await closed;
    expect(h.server.listenerCount('upgrade')).toBe(h.upgradeListenersBefore);
    expect((await fetch(`${h.base}/flows/flows`, { headers: bearer(session) })).status).toBe(404);

    await h.red.service.start();
    // Sessions live in userDir, so the admin's login survives the restart.
    expect((await fetch(`${h.base}/flows/flows`, { headers: bearer(session) })).status).toBe(200);
    const again = await openWs(`ws://127.0.0.1:${h.port}/flows/comms`);
    again.terminate();
    // Removing the admin revokes the editor session at once.
    h.broker.users.remove('ada');
    expect((await fetch(`${h.base}/flows/flows`, { headers: bearer(session) })).status).toBe(401);
  });
});
