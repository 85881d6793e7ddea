/**
 * The roles of docs/security.md on a real 3-node NATS cluster: `shelfsense cluster nats-auth`
 * writes the users and permissions from a users.db and a catalogue (two sites, two suppliers,
 * three agents), every node includes them, and real MQTT 3.1.1 clients on different nodes try
 * each role's reads and writes. A refused filter gets SUBACK 0x80; a refused publish is dropped by
 * NATS (the connection stays), so "not delivered" is proven against a subscriber allowed to see
 * it, with a later message from the same publisher as the bound.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserStore } from '@shelfsense/broker';
import { clusterCommand } from '@shelfsense/central/cluster';
import type { Grant } from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type NatsCluster, startNatsCluster } from '../helpers/nats.js';
import { waitFor } from '../helpers/wait.js';
import { TWO_SITE_CATALOGUE } from '../unit/central/cluster/fixtures.js';

const R = 'shelfsense/v1';
const catalogue = TWO_SITE_CATALOGUE;

const USERS: [string, Grant][] = [
  ['root', { role: 'admin' }],
  ['shelfsense-central', { role: 'service' }],
  ['acme-portal', { role: 'supplier', supplier: 'acme' }],
  ['globex-portal', { role: 'supplier', supplier: 'globex' }],
  ['pi-1', { role: 'agent', site: 'store-1', agent: 'pi-1' }],
  ['pi-2', { role: 'agent', site: 'store-1', agent: 'pi-2' }],
  ['pi-3', { role: 'agent', site: 'store-2', agent: 'pi-3' }],
  ['ops-1', { role: 'operator', sites: ['store-1'] }],
  ['tech-1', { role: 'technician', sites: ['store-1'] }],
  ['hass', { role: 'homeassistant', sites: ['store-1'] }],
  ['gone', { role: 'operator', sites: ['store-1'] }],
];

let dir: string;
let cluster: NatsCluster;
const clients: MqttClient[] = [];
const password = (user: string) => readFileSync(join(dir, 'nats', `${user}.password`), 'utf8').trim();

interface Client {
  c: MqttClient;
  got: { topic: string; body: string; retain: boolean }[];
}

/** Connects as `user` to node `node` (0–2), MQTT 3.1.1. */
async function connect(user: string, node = 0, pw = password(user)): Promise<Client> {
  const c = await mqtt.connectAsync(cluster.nodes[node]!.mqttUrl, {
    protocolVersion: 4,
    username: user,
    password: pw,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    clientId: `${user}-${Math.random().toString(16).slice(2, 10)}`,
  });
  clients.push(c);
  const got: Client['got'] = [];
  c.on('message', (topic, body, packet) => got.push({ topic, body: body.toString(), retain: packet.retain }));
  return { c, got };
}

/** The QoS granted per filter; 128 is a refusal (mqtt.js rejects a SUBACK holding one). */
async function subscribe(client: Client, filters: string[], qos: 0 | 1 = 1): Promise<number[]> {
  const out: number[] = [];
  for (const f of filters) {
    const granted = await client.c
      .subscribeAsync(f, { qos })
      .then((g) => g.map((x) => x.qos))
      .catch((err: { packet?: { granted?: number[] } }) => err.packet?.granted ?? [-1]);
    out.push(...granted);
  }
  return out;
}

const publish = (client: Client, topic: string, body: string, retain = false) =>
  client.c.publishAsync(topic, body, { qos: 1, retain });
const saw = (client: Client, body: string) => client.got.some((m) => m.body === body);
const received = (client: Client, body: string, what: string) =>
  waitFor(() => saw(client, body), 10_000, { what });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'shelfsense-nats-acl-'));
  const yaml = join(dir, 'central.yaml');
  writeFileSync(yaml, stringify({ dataDir: join(dir, 'data'), ...catalogue }));
  const users = new UserStore(join(dir, 'data'), {
    scrypt: { cost: 1024, blockSize: 8, parallelization: 1 },
  });
  try {
    for (const [name, grant] of USERS) await users.add(name, grant, `pw-of-${name}`);
    users.setDisabled('gone', true);
  } finally {
    users.close();
  }
  const conf = join(dir, 'nats-auth.conf');
  const code = await clusterCommand.run([
    'nats-auth',
    ...['--config', yaml, '--out', conf, '--credentials', join(dir, 'nats'), '--bcrypt-cost', '4'],
  ]);
  expect(code).toBe(0);
  cluster = await startNatsCluster(3, {
    include: readFileSync(conf, 'utf8'),
    probe: { username: 'root', password: password('root') },
  });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('[cluster] the roles of docs/security.md on a NATS cluster', () => {
  it('[auth] refuses a wrong password, an unknown or disabled user, and anonymous clients', async () => {
    const url = cluster.nodes[1]!.mqttUrl;
    const refused = (opts: mqtt.IClientOptions) =>
      mqtt
        .connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10_000, ...opts })
        .then(
          (c) => {
            clients.push(c);
            return 'connected';
          },
          (err: Error) => err.message,
        );
    expect(await refused({ username: 'acme-portal', password: 'not-its-password' })).toMatch(
      /not authorized/i,
    );
    // Its Shelfsense password is not its NATS password: users.db's scrypt hashes are not on NATS.
    expect(await refused({ username: 'acme-portal', password: 'pw-of-acme-portal' })).toMatch(
      /not authorized/i,
    );
    expect(await refused({ username: 'nobody', password: 'whatever-1' })).toMatch(/not authorized/i);
    expect(await refused({ username: 'gone', password: 'whatever-1' })).toMatch(/not authorized/i);
    expect(await refused({})).toMatch(/not authorized/i);
    const ok = await connect('acme-portal', 1);
    expect(ok.c.connected).toBe(true);
  });

  it('[supplier] never receives another supplier’s lanes, whatever it subscribes to; it gets its own', async () => {
    const acme = await connect('acme-portal', 1);
    const globex = await connect('globex-portal', 2);
    const pi1 = await connect('pi-1', 0);
    // Wide filters and the other supplier's exact topic: refused whole, not filtered.
    expect(
      await subscribe(acme, [
        '#',
        '+/#',
        'shelfsense/#',
        `${R}/+/+/+/level`,
        `${R}/store-1/shelf-a/L1/level`,
      ]),
    ).toEqual([128, 128, 128, 128, 128]);
    // NATS's own subjects: the MQTT delivery prefix is refused by the server, the rest by the ACL.
    expect(await subscribe(acme, ['$MQTT/sub/#', '$MQTT/#', '$JS/#'])).toEqual([128, 128, 128]);
    expect(
      await subscribe(acme, [
        `${R}/store-1/shelf-a/L0/level`,
        `${R}/store-2/shelf-c/L0/level`,
        `${R}/catalogue`,
      ]),
    ).toEqual([1, 1, 1]);
    expect(
      await subscribe(globex, [`${R}/store-1/shelf-a/L1/level`, `${R}/store-1/shelf-a/L0/level`]),
    ).toEqual([1, 128]);

    await publish(pi1, `${R}/store-1/shelf-a/L1/level`, 'globex-chips', true);
    await publish(pi1, `${R}/store-1/shelf-a/L0/level`, 'acme-cola', true);
    await received(acme, 'acme-cola', 'acme’s own lane');
    await received(globex, 'globex-chips', 'globex’s own lane');
    expect(saw(acme, 'globex-chips')).toBe(false);
    expect(saw(globex, 'acme-cola')).toBe(false);

    // Retained messages too: a later subscriber gets its own lane's, never the other's.
    const late = await connect('acme-portal', 2);
    expect(
      await subscribe(late, ['#', `${R}/store-1/shelf-a/L1/level`, `${R}/store-1/shelf-a/L0/level`]),
    ).toEqual([128, 128, 1]);
    await received(late, 'acme-cola', 'acme’s retained level');
    expect(late.got.map((m) => m.body)).toEqual(['acme-cola']);
    expect(late.got[0]!.retain).toBe(true);
  });

  it('[agent] publishes only at its own site, for its own shelves and status; never for others', async () => {
    const pi1 = await connect('pi-1', 0);
    const root = await connect('root', 1);
    expect(await subscribe(root, [`${R}/#`], 0)).toEqual([0]);
    const forbidden = [
      `${R}/store-2/shelf-c/L0/level`, // another site
      `${R}/store-1/shelf-b/L0/level`, // a shelf of pi-2
      `${R}/store-1/shelf-b/health`,
      `${R}/store-1/agents/pi-2/status`, // another agent's status
      `${R}/store-1/agents/pi-1/stored`, // central's mark
      `${R}/store-1/shelf-a/L0/order`, // central's order
      `${R}/catalogue`,
      'elsewhere/topic',
    ];
    for (const t of forbidden) await publish(pi1, t, `forged ${t}`);
    await publish(pi1, `${R}/store-1/shelf-new/L0/level`, 'commissioning'); // a shelf the map has not yet
    await publish(pi1, `${R}/store-1/agents/pi-1/status`, 'pi-1-online', true);
    await received(root, 'pi-1-online', 'the agent’s own status');
    expect(root.got.filter((m) => m.body.startsWith('forged')).map((m) => m.topic)).toEqual([]);
    expect(saw(root, 'commissioning')).toBe(true);
    // NATS drops a refused publish and keeps the connection (the embedded broker closes it).
    expect(pi1.c.connected).toBe(true);

    // It reads its own requests, lane settings and stored mark; not another agent's.
    expect(
      await subscribe(pi1, [
        `${R}/store-1/agents/pi-1/request/+`,
        `${R}/store-1/agents/pi-1/stored`,
        `${R}/store-1/agents/pi-2/request/+`,
        `${R}/store-1/#`,
      ]),
    ).toEqual([1, 1, 128, 128]);
    const central = await connect('shelfsense-central', 2);
    await publish(central, `${R}/store-1/agents/pi-1/stored`, 'mark-42', true);
    await received(pi1, 'mark-42', 'central’s stored mark at the agent');
  });

  it('[operator] [technician] [homeassistant] read their sites only and publish nothing but HA’s status', async () => {
    const ops = await connect('ops-1', 2);
    const tech = await connect('tech-1', 1);
    const hass = await connect('hass', 0);
    const pi1 = await connect('pi-1', 1);
    const pi3 = await connect('pi-3', 2);
    expect(
      await subscribe(ops, [
        `${R}/store-1/+/+/level`,
        `${R}/store-1/+/health`,
        `${R}/store-2/+/+/level`,
        '#',
      ]),
    ).toEqual([1, 1, 128, 128]);
    expect(await subscribe(tech, [`${R}/store-1/#`, `${R}/store-2/#`, `${R}/+/#`])).toEqual([1, 128, 128]);
    expect(
      await subscribe(hass, [`${R}/store-1/+/+/level`, `${R}/store-1/+/+/event`, 'homeassistant/status']),
    ).toEqual([1, 128, 1]);
    expect(await subscribe(pi1, [`${R}/store-1/agents/pi-1/request/+`])).toEqual([1]);

    // A technician's command on NATS would carry any actor (NATS cannot stamp the body): refused;
    // commands go through central's API. Operators publish nothing; HA only its status.
    await publish(tech, `${R}/store-1/agents/pi-1/request/tare`, 'tech-forged-request');
    await publish(ops, `${R}/store-1/shelf-a/L0/level`, 'ops-forged-level');
    await publish(hass, `${R}/store-1/shelf-a/L0/level`, 'hass-forged-level');
    await publish(hass, 'homeassistant/status', 'online');
    await received(hass, 'online', 'Home Assistant’s own status');
    await publish(pi3, `${R}/store-2/shelf-c/L0/level`, 'store-2-level');
    await publish(pi1, `${R}/store-1/shelf-a/L0/level`, 'store-1-level');
    for (const who of [ops, tech, hass]) await received(who, 'store-1-level', 'a store-1 level');
    for (const who of [ops, tech, hass, pi1]) {
      expect(who.got.map((m) => m.body)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/forged|store-2-level/)]),
      );
    }
  });

  it('[service] [admin] read every Shelfsense topic but none of NATS’s own subjects', async () => {
    const root = await connect('root', 2);
    const central = await connect('shelfsense-central', 0);
    expect(await subscribe(root, ['#'], 0)).toEqual([0]);
    expect(await subscribe(central, ['#'], 0)).toEqual([0]);
    const pi2 = await connect('pi-2', 1);
    // Retained and QoS 1: the server writes its MQTT records (`$MQTT.rmsgs`, sessions) meanwhile.
    await publish(pi2, `${R}/store-1/shelf-b/L0/level`, 'pi-2-level', true);
    await publish(central, `${R}/store-1/shelf-b/L0/level`, 'service-forged-level');
    await publish(central, `${R}/store-1/shelf-b/L0/order`, 'order-1');
    for (const who of [root, central]) await received(who, 'order-1', 'the service’s order');
    for (const who of [root, central]) {
      expect(saw(who, 'pi-2-level')).toBe(true);
      expect(saw(who, 'service-forged-level')).toBe(false);
      expect(who.got.filter((m) => /^\$(JS|MQTT\/(JSA|sess|msgs|rmsgs))/.test(m.topic))).toEqual([]);
    }
  });
});
