/**
 * Stateless web nodes on real engines: two `shelfsense cluster web` nodes on one Postgres and a
 * 3-node NATS cluster, with the users `shelfsense cluster import-users` copied there. A token
 * issued by one node is taken by the other, over HTTP and over the browsers' MQTT. An order
 * acknowledged through one node's API is the same order on the other's; its event, announced to
 * the cluster by the first node, reaches a browser's MQTT over WebSocket on the second; a level an
 * agent publishes on the cluster shows there too; and a second supplier subscribed to everything
 * on a node sees none of it. Last, the dashboard itself in Chromium, served by one node, shows an
 * order change made through the other, live.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderNatsAuth } from '@shelfsense/central/cluster';
import { OrderService } from '@shelfsense/central/orders';
import { SyncPgStore } from '@shelfsense/central/pg';
import { CentralConfig, type Grant, parseWith, ShelfMap } from '@shelfsense/protocol';
import bcrypt from 'bcryptjs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, loginAt } from '../e2e/dashboard/browser.js';
import { addUser } from '../helpers/central.js';
import { type NatsCluster, startNatsCluster } from '../helpers/nats.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { type CliProcess, runCli, shelfsense } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

const LANE = { site: 'store-1', shelf: 'shelf-1', lane: 'L0' };
const NATS_PASSWORDS = {
  'pi-1': 'agent-password-1',
  central: 'service-password-1',
  admin: 'admin-password-1',
};
const PEOPLE = {
  acme: { args: ['--role', 'supplier', '--supplier', 'acme'], password: 'acme-password-1' },
  other: { args: ['--role', 'supplier', '--supplier', 'other'], password: 'other-password-1' },
};

interface Node {
  proc: CliProcess;
  http: number;
  api(path: string, token?: string, init?: RequestInit): Promise<Response>;
  login(user: keyof typeof PEOPLE): Promise<string>;
}

describe('[cluster] stateless web nodes', () => {
  let pg: TestPostgres;
  let cluster: NatsCluster;
  let store: SyncPgStore;
  const nodes: Node[] = [];
  const clients: MqttClient[] = [];

  const startNode = async (name: string, configFile: string): Promise<Node> => {
    const proc = shelfsense(['cluster', 'web', '--config', configFile]);
    const ready = await proc.waitForJson<{ ready: boolean; http: number }>((x) => x.ready === true, 30_000);
    const api = (path: string, token?: string, init: RequestInit = {}) =>
      fetch(`http://127.0.0.1:${ready.http}${path}`, {
        ...init,
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      });
    return {
      proc,
      http: ready.http,
      api,
      async login(user) {
        const r = await api('/api/login', undefined, {
          method: 'POST',
          body: JSON.stringify({ username: user, password: PEOPLE[user].password }),
        });
        if (r.status !== 200) throw new Error(`${name}: login ${user}: ${r.status} ${await r.text()}`);
        return ((await r.json()) as { token: string }).token;
      },
    };
  };

  const browser = async (node: Node, user: keyof typeof PEOPLE, token: string) => {
    const c = await mqtt.connectAsync(`ws://127.0.0.1:${node.http}/mqtt`, {
      username: user,
      password: token,
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    clients.push(c);
    const got: { topic: string; body: Record<string, unknown> }[] = [];
    c.on('message', (topic, payload) => got.push({ topic, body: JSON.parse(payload.toString()) }));
    return { c, got };
  };

  beforeAll(async () => {
    pg = await startPostgres();
    const catalogue = {
      suppliers: [{ id: 'acme' }, { id: 'other' }],
      skus: [
        { id: 'cola', unitWeightG: 350, supplier: 'acme' },
        { id: 'chips', unitWeightG: 90, supplier: 'other' },
      ],
      sites: [
        {
          id: 'store-1',
          shelves: [
            {
              id: 'shelf-1',
              serial: 'SHELF-1',
              agent: 'pi-1',
              lanes: [
                { id: 'L0', channels: [0], sku: 'cola' },
                { id: 'L1', channels: [1], sku: 'chips' },
                { id: 'L2', channels: [2], sku: 'cola' },
              ],
            },
          ],
        },
      ],
    };
    const grants: Record<keyof typeof NATS_PASSWORDS, Grant> = {
      'pi-1': { role: 'agent', site: 'store-1', agent: 'pi-1' },
      central: { role: 'service' },
      admin: { role: 'admin' },
    };
    const map = new ShelfMap(parseWith(CentralConfig, catalogue, 'catalogue'));
    cluster = await startNatsCluster(3, {
      include: renderNatsAuth(
        Object.entries(grants).map(([name, grant]) => ({
          name,
          grant,
          passwordHash: bcrypt.hashSync(NATS_PASSWORDS[name as keyof typeof NATS_PASSWORDS], 4),
        })),
        map,
      ),
      probe: { username: 'admin', password: NATS_PASSWORDS.admin },
    });
    const dir = cluster.dir;
    writeFileSync(join(dir, 'central.password'), `${NATS_PASSWORDS.central}\n`, { mode: 0o600 });
    const cluster_ = {
      postgres: { url: pg.url, schema: 'shelfsense' },
      nats: { servers: cluster.nodes.map((n) => n.natsUrl) },
      mqtt: {
        urls: cluster.nodes.map((n) => n.mqttUrl),
        username: 'central',
        passwordFile: join(dir, 'central.password'),
      },
    };
    // The people, made with `shelfsense users` in one data dir, then copied into Postgres.
    const usersDir = join(dir, 'users');
    mkdirSync(usersDir, { recursive: true });
    for (const [user, p] of Object.entries(PEOPLE)) addUser(usersDir, user, p.args, p.password);
    for (const name of ['web-a', 'web-b']) {
      const dataDir = join(dir, name);
      mkdirSync(dataDir, { recursive: true });
      const file = join(dir, `${name}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          ...catalogue,
          dataDir,
          log: { level: 'warn' },
          http: { host: '127.0.0.1', port: 0 },
          cluster: cluster_,
        }),
      );
      if (name === 'web-a') {
        const r = await runCli(
          'cli/dist/main.js',
          ['cluster', 'import-users', '--config', file, '--data-dir', usersDir],
          30_000,
        );
        if (r.code !== 0) throw new Error(`import-users: ${r.stderr}`);
      }
      nodes.push(await startNode(name, file));
    }
    store = SyncPgStore.open({ url: pg.url, schema: 'shelfsense', poolSize: 2 });
  }, 180_000);

  afterAll(async () => {
    for (const c of clients) await c.endAsync().catch(() => undefined);
    for (const n of nodes) await n.proc.kill('SIGTERM', 10_000);
    store?.close();
    await cluster?.close();
    await pg?.close();
  });

  it('serves one estate from any node: an order changed on one is live on the other', async () => {
    const [a, b] = nodes as [Node, Node];
    // A need, opened as a worker opens it.
    const opened = new OrderService(store).openForLane(
      { ...LANE, sku: 'cola', supplier: 'acme', quantity: 12, reason: { trigger: 'rules', units: 2 } },
      Date.now(),
    );
    const id = opened.order.id;
    // One login, on node A: its token is good on B too (the users and the secret are shared).
    const acmeToken = await a.login('acme');
    const acmeOnB = await browser(b, 'acme', acmeToken);
    const otherOnB = await browser(b, 'other', await a.login('other'));
    await acmeOnB.c.subscribeAsync('shelfsense/v1/#', { qos: 1 });
    await otherOnB.c.subscribeAsync('#', { qos: 1 });

    const ack = await a.api(`/api/orders/${id}/acknowledge`, acmeToken, { method: 'POST', body: '{}' });
    expect(ack.status).toBe(200);

    // The same order on the other node's API…
    const onB = await b.api(`/api/orders/${id}`, acmeToken);
    expect(onB.status).toBe(200);
    expect(((await onB.json()) as { state: string }).state).toBe('acknowledged');
    // …and its event live in a browser on the other node, through the cluster.
    const event = await waitFor(
      () => acmeOnB.got.find((m) => m.topic.endsWith('/L0/order') && m.body['state'] === 'acknowledged'),
      15_000,
      { what: 'the acknowledged order in a browser on web-b' },
    );
    expect(event.body['orderId']).toBe(id);

    // A level an agent publishes on the cluster shows in the browser on the other node too.
    const agent = await mqtt.connectAsync(cluster.nodes[1]!.mqttUrl, {
      username: 'pi-1',
      password: NATS_PASSWORDS['pi-1'],
      protocolVersion: 4,
      clientId: 'shelfsense-agent-pi-1',
    });
    clients.push(agent);
    const level = {
      agent: 'pi-1',
      serial: 'SHELF-1',
      sku: 'chips',
      units: 7,
      grams: 630,
      fill: 0.5,
      stable: true,
      confidence: 0.95,
      state: 'ok',
      ts: Date.now(),
      seq: 1,
      frameSeq: 1,
    };
    await agent.publishAsync('shelfsense/v1/store-1/shelf-1/L1/level', JSON.stringify(level), {
      qos: 1,
      retain: true,
    });
    await waitFor(
      () => otherOnB.got.find((m) => m.topic === 'shelfsense/v1/store-1/shelf-1/L1/level'),
      15_000,
      { what: 'the level in a browser of its supplier on web-b' },
    );
    // The other supplier, subscribed to everything, saw none of acme's lane.
    expect(otherOnB.got.filter((m) => m.topic.includes('/L0/'))).toEqual([]);
    expect(acmeOnB.got.filter((m) => m.topic.includes('/L1/'))).toEqual([]);
  }, 90_000);

  it('[chromium] the dashboard on one node shows an order acknowledged through the other, live', async () => {
    const [a, b] = nodes as [Node, Node];
    const id = new OrderService(store).openForLane(
      {
        ...LANE,
        lane: 'L2',
        sku: 'cola',
        supplier: 'acme',
        quantity: 8,
        reason: { trigger: 'rules', units: 1 },
      },
      Date.now(),
    ).order.id;
    const browserPage = await launchBrowser();
    try {
      const { page } = browserPage;
      await loginAt(page, `http://127.0.0.1:${b.http}`, 'acme', PEOPLE.acme.password, 'Fill levels & orders');
      await page.getByRole('status').filter({ hasText: 'Live' }).waitFor();
      const order = page
        .getByRole('list', { name: 'Orders' })
        .getByRole('listitem', { name: new RegExp(`^Order ${id}:`) });
      await order.getByText('Order state: Open').waitFor();
      const ack = await a.api(`/api/orders/${id}/acknowledge`, await a.login('acme'), {
        method: 'POST',
        body: '{}',
      });
      expect(ack.status).toBe(200);
      // No reload: the event came from node A through the cluster to node B's broker and the page.
      await order.getByText('Order state: Acknowledged').waitFor();
      expect(browserPage.errors).toEqual([]);
    } finally {
      await browserPage.browser.close();
    }
  }, 60_000);
});
