/**
 * Home Assistant MQTT discovery against real brokers: a bare aedes with central's MQTT client (as
 * with an external broker), and the Shelfsense broker with its ACLs (in-process publishing). A
 * subscriber plays Home Assistant: it reads the discovery configs, follows their state and
 * availability topics, and applies their templates to what an agent publishes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttBroker } from '@shelfsense/broker';
import { MqttBus } from '@shelfsense/central';
import {
  discoveryMessages,
  ensureServiceIdentity,
  HomeAssistantPublisher,
  mqttTransport,
  PUBLISHED_FILE,
  type SensorDiscovery,
  startHomeAssistant,
} from '@shelfsense/central/testing';
import {
  CentralConfig,
  type CentralConfigInput,
  HomeAssistantConfig,
  LevelPayload,
  topics,
} from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startAedes, type TestBroker } from '../../helpers/brokers.js';
import { waitFor } from '../../helpers/wait.js';

const log = pino({ level: process.env.SHELFSENSE_TEST_LOG ?? 'silent' });
const HA = HomeAssistantConfig.parse({ enabled: true });

const MAP: CentralConfigInput = {
  suppliers: [{ id: 'acme' }],
  skus: [
    { id: 'cola', name: 'Cola 0.33 l', unitWeightG: 350, supplier: 'acme' },
    { id: 'chips', unitWeightG: 120, supplier: 'acme' },
  ],
  sites: [
    {
      id: 's1',
      name: 'Main street',
      shelves: [
        {
          id: 'shelf-1',
          serial: 'SN1',
          agent: 'agent-1',
          lanes: [
            { id: 'lane-a', channels: [0], sku: 'cola', capacity: 20 },
            { id: 'lane-b', channels: [1], sku: 'chips' },
          ],
        },
      ],
    },
  ],
};

/** What Home Assistant does with a template we emit: read the field, scale, round, or "None". */
function applyTemplate(template: string, body: Record<string, unknown>): string {
  const field = /value_json\.(\w+)/.exec(template)?.[1];
  if (!field) throw new Error(`no value_json field in ${template}`);
  const v = body[field];
  if (v === null || v === undefined) return 'None';
  const scale = /\*\s*(\d+)/.exec(template);
  if (!scale) return String(v);
  const scaled = Number(v) * Number(scale[1]);
  return /round\(1\)/.test(template) ? String(Math.round(scaled * 10) / 10) : String(scaled);
}

function level(units: number, fill: number | null, seq: number): LevelPayload {
  return LevelPayload.parse({
    agent: 'agent-1',
    serial: 'SN1',
    sku: 'cola',
    units,
    grams: units * 350,
    fill,
    stable: true,
    confidence: 0.97,
    state: 'ok',
    ts: Date.now(),
    seq,
    frameSeq: seq,
  });
}

/** A subscriber recording the last payload per topic (retained ones included). */
async function recorder(url: string, filters: string[], opts: mqtt.IClientOptions = {}) {
  const client = await mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts });
  const last = new Map<string, string>();
  const all: { topic: string; payload: string; retain: boolean }[] = [];
  client.on('message', (topic, payload, packet) => {
    last.set(topic, payload.toString('utf8'));
    all.push({ topic, payload: payload.toString('utf8'), retain: packet.retain });
  });
  if (filters.length) await client.subscribeAsync(filters, { qos: 1 });
  return { client, last, all };
}

describe('discovery messages', () => {
  it('[HA-KEYS] one count sensor per lane, a fill sensor where the capacity is known, on the documented keys', () => {
    const msgs = discoveryMessages(CentralConfig.parse(MAP), HA);
    expect(msgs.map((m) => `${m.lane}:${m.kind}`)).toEqual(['lane-a:count', 'lane-a:fill', 'lane-b:count']);
    for (const m of msgs) {
      expect(m.topic).toMatch(/^homeassistant\/sensor\/shelfsense-s1\/[A-Za-z0-9_-]+\/config$/);
      expect(m.config).toMatchObject({
        unique_id: expect.any(String),
        state_topic: topics.level('s1', 'shelf-1', m.lane),
        value_template: expect.stringContaining('value_json.'),
        unit_of_measurement: m.kind === 'count' ? 'items' : '%',
        availability: [
          {
            topic: topics.status('s1', 'agent-1'),
            payload_available: 'online',
            payload_not_available: 'offline',
            value_template: '{{ value_json.state }}',
          },
        ],
        device: { identifiers: ['shelfsense:s1/shelf-1'], serial_number: 'SN1', manufacturer: 'Shelfsense' },
      });
    }
    expect(new Set(msgs.map((m) => m.config.unique_id)).size).toBe(msgs.length);
  });

  it('[HA-TIMEOUT] start() fails with a code when the broker never takes the discovery', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shelfsense-ha-timeout-'));
    try {
      const p = new HomeAssistantPublisher({
        transport: {
          publish: () => new Promise<void>(() => undefined),
          subscribe: async () => async () => undefined,
          onReconnect: () => () => undefined,
        },
        map: CentralConfig.parse(MAP),
        config: HA,
        dataDir: dir,
        log,
        publishTimeoutMs: 50,
      });
      await expect(p.start()).rejects.toMatchObject({ code: 'SHELF_ERR_HA_PUBLISH' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('[HA-IDS] lanes whose ids would meet on one object id get distinct topics', () => {
    const lane = { id: 'l', channels: [0], sku: 'cola' };
    const msgs = discoveryMessages(
      CentralConfig.parse({
        ...MAP,
        sites: [
          { id: 'a_b', shelves: [{ id: 'c', serial: 'X1', agent: 'p', lanes: [lane] }] },
          { id: 'a', shelves: [{ id: 'b_c', serial: 'X2', agent: 'p', lanes: [lane] }] },
        ],
      }),
      HA,
    );
    expect(new Set(msgs.map((m) => m.topic)).size).toBe(2);
    expect(new Set(msgs.map((m) => m.config.unique_id)).size).toBe(2);
  });
});

describe('publishing through central’s MQTT client (a broker such as Mosquitto)', () => {
  let broker: TestBroker;
  let central: MqttClient;
  let agent: MqttClient;
  let dir: string;
  const publishers: HomeAssistantPublisher[] = [];
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    broker = await startAedes();
    dir = mkdtempSync(join(tmpdir(), 'shelfsense-ha-'));
    central = await mqtt.connectAsync(broker.url, { clientId: 'central', reconnectPeriod: 0 });
    agent = await mqtt.connectAsync(broker.url, { clientId: 'agent-1', reconnectPeriod: 0 });
  });

  afterEach(async () => {
    for (const p of publishers.splice(0)) await p.stop();
    for (const c of clients.splice(0)) await c.endAsync();
  });

  afterAll(async () => {
    await agent?.endAsync();
    await central?.endAsync();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function startPublisher(map: CentralConfigInput = MAP, birthMinIntervalMs = 0) {
    const p = new HomeAssistantPublisher({
      transport: mqttTransport(central),
      map: CentralConfig.parse(map),
      config: HA,
      dataDir: dir,
      log,
      birthMinIntervalMs,
    });
    await p.start();
    publishers.push(p);
    return p;
  }

  it('[HA-FOLLOW] a subscriber following the discovery reads each lane’s count, fill and availability', async () => {
    await startPublisher();
    const ha = await recorder(broker.url, ['homeassistant/sensor/+/+/config']);
    clients.push(ha.client);
    const configs = await waitFor(
      () => (ha.last.size === 3 ? [...ha.last.values()].map((t) => JSON.parse(t) as SensorDiscovery) : null),
      5_000,
      { what: 'three retained discovery configs' },
    );
    // Follow what the configs say: their state and availability topics.
    const follow = await recorder(broker.url, [
      ...new Set(configs.flatMap((c) => [c.state_topic, ...c.availability.map((a) => a.topic)])),
    ]);
    clients.push(follow.client);

    // The agent, as it does: retained status, then a retained level per lane.
    const status = topics.status('s1', 'agent-1');
    const online = { agent: 'agent-1', site: 's1', state: 'online', shelves: ['SN1'], ts: Date.now() };
    await agent.publishAsync(status, JSON.stringify(online), { qos: 1, retain: true });
    await agent.publishAsync(topics.level('s1', 'shelf-1', 'lane-a'), JSON.stringify(level(7, 0.35, 1)), {
      qos: 1,
      retain: true,
    });
    await agent.publishAsync(topics.level('s1', 'shelf-1', 'lane-b'), JSON.stringify(level(4, null, 2)), {
      qos: 1,
      retain: true,
    });
    await waitFor(() => follow.last.size === 3, 5_000, { what: 'status and both levels' });

    const read = (c: SensorDiscovery) => {
      const state = applyTemplate(c.value_template, JSON.parse(follow.last.get(c.state_topic) as string));
      const a = c.availability[0]!;
      const avail = applyTemplate(a.value_template, JSON.parse(follow.last.get(a.topic) as string));
      return { name: c.name, state, unit: c.unit_of_measurement, available: avail === a.payload_available };
    };
    expect(configs.map(read).sort((x, y) => x.name.localeCompare(y.name))).toEqual([
      { name: 'lane-a Cola 0.33 l count', state: '7', unit: 'items', available: true },
      { name: 'lane-a Cola 0.33 l fill', state: '35', unit: '%', available: true },
      { name: 'lane-b chips count', state: '4', unit: 'items', available: true },
    ]);

    // The agent's last will: every sensor of its shelf becomes unavailable.
    await agent.publishAsync(status, JSON.stringify({ ...online, state: 'offline' }), {
      qos: 1,
      retain: true,
    });
    await waitFor(() => follow.last.get(status)?.includes('offline'), 5_000, { what: 'offline status' });
    expect(configs.map(read).every((r) => !r.available)).toBe(true);
  });

  it('[HA-BIRTH] when Home Assistant says it is online, the discovery is published again', async () => {
    const p = await startPublisher();
    const ha = await recorder(broker.url, ['homeassistant/sensor/+/+/config']);
    clients.push(ha.client);
    await waitFor(() => ha.all.length === 3, 5_000, { what: 'the retained configs' });
    expect(ha.all.every((m) => m.retain)).toBe(true);
    await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await waitFor(() => ha.all.length === 6, 5_000, { what: 'the configs published again' });
    expect(p.counters.births).toBe(1);
    // Anything else on the status topic is not a birth.
    await ha.client.publishAsync('homeassistant/status', 'offline', { qos: 1 });
    await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await waitFor(() => ha.all.length === 9, 5_000, { what: 'the configs published a third time' });
    expect(p.counters.births).toBe(2);
  });

  it('[HA-BIRTH] a burst of births is answered by one republish now and one after the interval', async () => {
    const p = await startPublisher(MAP, 1_000);
    const ha = await recorder(broker.url, ['homeassistant/sensor/+/+/config']);
    clients.push(ha.client);
    await waitFor(() => ha.all.length === 3, 5_000, { what: 'the retained configs' });
    for (let i = 0; i < 50; i++) await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await waitFor(() => p.counters.births === 50, 5_000, { what: 'fifty births seen' });
    expect(p.counters.coalesced).toBe(49);
    // The first birth republished at once; the other 49 make one more round, after the interval.
    await waitFor(() => ha.all.length === 9, 5_000, { what: 'the configs published twice more' });
    expect(p.counters.published).toBe(9);
  });

  it('[HA-STALE] a lane removed from the map loses its sensors: empty retained configs', async () => {
    const first = await startPublisher();
    await first.stop();
    const smaller: CentralConfigInput = structuredClone(MAP);
    smaller.sites![0]!.shelves![0]!.lanes = smaller.sites![0]!.shelves![0]!.lanes.slice(0, 1);
    const second = await startPublisher(smaller);
    expect(second.counters.removed).toBe(1);
    const ha = await recorder(broker.url, ['homeassistant/sensor/+/+/config']);
    clients.push(ha.client);
    await waitFor(() => ha.last.size === 2, 5_000, { what: 'the retained configs left' });
    expect([...ha.last.keys()].some((t) => t.includes('lane-b'))).toBe(false);
  });

  it('[HA-STALE] configs under the old single node id are emptied once the per-site ones are out', async () => {
    const first = await startPublisher();
    await first.stop();
    // What an earlier version recorded: one node id for every site.
    const old = `homeassistant/sensor/${HA.nodeId}/s1_shelf-1_lane-a_count/config`;
    await central.publishAsync(old, '{"name":"old"}', { qos: 1, retain: true });
    writeFileSync(join(dir, PUBLISHED_FILE), JSON.stringify({ topics: [old] }));
    const second = await startPublisher();
    expect(second.counters.removed).toBe(1);
    const ha = await recorder(broker.url, ['homeassistant/sensor/+/+/config']);
    await waitFor(() => ha.last.size === 3, 5_000, { what: 'the per-site configs' });
    expect([...ha.last.keys()].every((t) => t.startsWith(`homeassistant/sensor/${HA.nodeId}-s1/`))).toBe(
      true,
    );
    clients.push(ha.client);
  });
});

describe('the embedded Shelfsense broker', () => {
  it('[HA-EMBEDDED] central publishes in process; its service client stays connected; off by default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shelfsense-ha-embedded-'));
    const config = CentralConfig.parse({
      ...MAP,
      dataDir: dir,
      mqtt: { host: '127.0.0.1', port: 0 },
      auth: { scrypt: { cost: 1024 } },
    });
    const broker = new MqttBroker({ config, dataDir: dir, logger: log });
    await broker.start();
    await broker.users.add('hass', { role: 'homeassistant', sites: ['s1'] }, 'correct horse battery');
    const url = `mqtt://127.0.0.1:${broker.ports.tcp}`;
    // Central's bus, as the service role: a refused publish would disconnect its connection.
    const service = await ensureServiceIdentity(broker.users, dir);
    const client = await mqtt.connectAsync(url, { ...service, clientId: 'central', reconnectPeriod: 500 });
    const bus = new MqttBus(log);
    bus.attachBroker(broker.aedes);
    bus.adopt(client);
    let drops = 0;
    client.on('close', () => drops++);
    try {
      const parts = { bus, dataDir: dir, log, config };
      expect(await startHomeAssistant(parts, HomeAssistantConfig.parse({}))).toBeNull();
      const publisher = await startHomeAssistant(parts, HA);
      const ha = await recorder(url, ['homeassistant/sensor/+/+/config', 'homeassistant/status'], {
        username: 'hass',
        password: 'correct horse battery',
      });
      await waitFor(() => ha.last.size === 3, 5_000, { what: 'the retained configs' });
      await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
      await waitFor(() => publisher?.counters.births === 1, 5_000, { what: 'the birth seen in process' });
      expect(bus.connected).toBe(true);
      expect(drops).toBe(0);
      await publisher?.stop();
      await ha.client.endAsync();
    } finally {
      await bus.close();
      await broker.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
