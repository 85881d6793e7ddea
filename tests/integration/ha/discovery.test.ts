/**
 * Home Assistant MQTT discovery against real brokers: a bare aedes with central's MQTT client (as
 * with an external broker), and the Shelfsense broker with its ACLs (in-process publishing). A
 * subscriber plays Home Assistant: it reads the discovery configs, follows their state and
 * availability topics, and checks them against what an agent publishes.
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
  StateTracker,
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
import { HaFollower } from './ha-helpers.js';

const log = pino({ level: process.env.SHELFSENSE_TEST_LOG ?? 'silent' });
const HA = HomeAssistantConfig.parse({ enabled: true });
const OPTS = { ...HA, swVersion: '0.0.0-test' };
/** Configs of every component. */
const CONFIGS = 'homeassistant/+/+/+/config';

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
  it('[HA-KEYS] per lane: count, fill where the capacity is known, weight and confidence as diagnostics, three binary sensors', () => {
    const msgs = discoveryMessages(CentralConfig.parse(MAP), OPTS);
    expect(msgs.map((m) => `${m.lane}:${m.kind}`)).toEqual([
      'lane-a:count',
      'lane-a:fill',
      'lane-a:weight',
      'lane-a:confidence',
      'lane-a:low_stock',
      'lane-a:open_order',
      'lane-a:sensor_fault',
      'lane-b:count',
      'lane-b:weight',
      'lane-b:confidence',
      'lane-b:low_stock',
      'lane-b:open_order',
      'lane-b:sensor_fault',
    ]);
    for (const m of msgs) {
      expect(m.topic).toMatch(
        /^homeassistant\/(sensor|binary_sensor)\/shelfsense-s1\/[A-Za-z0-9_-]+\/config$/,
      );
      expect(m.topic.split('/')[1]).toBe(m.component);
      expect(m.config).toMatchObject({
        unique_id: `shelfsense:s1/shelf-1/${m.lane}:${m.kind}`,
        state_topic: m.topic.replace(/config$/, 'state'),
        availability_mode: 'all',
        availability: [
          { topic: 'homeassistant/shelfsense/availability', payload_available: 'online' },
          {
            topic: 'homeassistant/sensor/shelfsense-s1/agent_agent-1/availability',
            payload_available: 'online',
          },
        ],
        device: {
          identifiers: ['shelfsense:s1/shelf-1'],
          serial_number: 'SN1',
          manufacturer: 'Shelfsense',
          sw_version: '0.0.0-test',
        },
      });
      // Values live in the state; attributes would write a recorder row on every heartbeat.
      expect(JSON.stringify(m.config)).not.toContain('json_attributes');
      if (m.component === 'binary_sensor')
        expect(m.config).toMatchObject({ payload_on: 'ON', payload_off: 'OFF' });
      const diagnostic = ['weight', 'confidence', 'sensor_fault'].includes(m.kind);
      expect(m.config.entity_category).toBe(diagnostic ? 'diagnostic' : undefined);
    }
    expect(new Set(msgs.map((m) => m.config.unique_id)).size).toBe(msgs.length);
    // Only the sites asked for; the dashboard linked when configured.
    const two = CentralConfig.parse({
      ...MAP,
      sites: [
        ...MAP.sites!,
        {
          id: 's2',
          shelves: [{ id: 'x', serial: 'SN9', agent: 'p', lanes: [{ id: 'l', channels: [0], sku: 'cola' }] }],
        },
      ],
    });
    const some = discoveryMessages(two, { ...OPTS, sites: ['s2'], configurationUrl: 'https://d.example/' });
    expect(new Set(some.map((m) => m.site))).toEqual(new Set(['s2']));
    expect(some[0]?.config.device.configuration_url).toBe('https://d.example/');
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
      OPTS,
    );
    // Six entities per lane (no capacity, no fill), each lane on its own topics.
    expect(new Set(msgs.map((m) => m.topic)).size).toBe(12);
    expect(new Set(msgs.map((m) => m.config.unique_id)).size).toBe(12);
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

  async function startPublisher(
    map: CentralConfigInput = MAP,
    birthMinIntervalMs = 0,
    states?: StateTracker,
  ) {
    const p = new HomeAssistantPublisher({
      transport: mqttTransport(central),
      ...(states ? { states } : {}),
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

  it('[HA-FOLLOW] a subscriber following the discovery reads each entity’s state and availability', async () => {
    const bus = new MqttBus(log);
    bus.adopt(central);
    const states = new StateTracker({ bus, config: CentralConfig.parse(MAP), log });
    await states.start();
    try {
      await startPublisher(MAP, 0, states);
      const ha = await HaFollower.connect(broker.url, {});
      clients.push(ha.client);
      await waitFor(() => ha.configs.size === 13, 5_000, { what: 'thirteen retained discovery configs' });
      expect(ha.invalid).toEqual([]);

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
      await waitFor(() => ha.state('s1/shelf-1/lane-b:count') === '4', 5_000, { what: 'both levels' });
      await waitFor(() => [...ha.entities().values()].every((e) => e.available), 5_000, {
        what: 'available',
      });
      const shown = () =>
        [...ha.entities().values()]
          .filter((e) =>
            ['count', 'fill', 'weight', 'confidence'].some((k) => e.config.unique_id.endsWith(`:${k}`)),
          )
          .map((e) => ({ name: e.config.name, state: e.state, unit: e.config.unit_of_measurement }))
          .sort((x, y) => x.name.localeCompare(y.name));
      // A shelf's states go out one message each: the count may be in before the confidence.
      await waitFor(() => shown().every((e) => e.state !== 'None'), 5_000, { what: 'every state' });
      expect(shown()).toEqual([
        { name: 'lane-a Cola 0.33 l confidence', state: '97', unit: '%' },
        { name: 'lane-a Cola 0.33 l count', state: '7', unit: 'items' },
        { name: 'lane-a Cola 0.33 l fill', state: '35', unit: '%' },
        { name: 'lane-a Cola 0.33 l weight', state: '2450', unit: 'g' },
        { name: 'lane-b chips confidence', state: '97', unit: '%' },
        { name: 'lane-b chips count', state: '4', unit: 'items' },
        { name: 'lane-b chips weight', state: '1400', unit: 'g' },
      ]);
      // No rules here: empty is low, nothing else is.
      expect(ha.state('s1/shelf-1/lane-a:low_stock')).toBe('OFF');

      // The agent's last will: every entity of its shelf becomes unavailable.
      await agent.publishAsync(status, JSON.stringify({ ...online, state: 'offline' }), {
        qos: 1,
        retain: true,
      });
      await waitFor(() => [...ha.entities().values()].every((e) => !e.available), 5_000, {
        what: 'every entity unavailable',
      });
    } finally {
      await states.stop();
    }
  });

  it('[HA-FOLLOW] an agent that comes online while the discovery goes out is shown online', async () => {
    const bus = new MqttBus(log);
    bus.adopt(central);
    const states = new StateTracker({ bus, config: CentralConfig.parse(MAP), log });
    await states.start();
    const status = topics.status('s1', 'agent-1');
    const online = { agent: 'agent-1', site: 's1', state: 'online', shelves: ['SN1'], ts: Date.now() };
    try {
      await agent.publishAsync(status, JSON.stringify({ ...online, state: 'offline' }), {
        qos: 1,
        retain: true,
      });
      await waitFor(() => states.agentAvailability('s1', 'agent-1') === 'offline', 5_000, {
        what: 'the tracker to hear the agent offline',
      });
      // The agent comes online just after the publisher has sent its availability as offline.
      const base = mqttTransport(central);
      let raced = false;
      const transport = {
        ...base,
        async publish(topic: string, payload: string, retain: boolean) {
          await base.publish(topic, payload, retain);
          if (raced || !topic.endsWith('/agent_agent-1/availability') || payload !== 'offline') return;
          raced = true;
          const later = { ...online, ts: Date.now() + 1 };
          await agent.publishAsync(status, JSON.stringify(later), { qos: 1, retain: true });
          await waitFor(() => states.agentAvailability('s1', 'agent-1') === 'online', 5_000, {
            what: 'the tracker to hear the agent online',
          });
        },
      };
      const p = new HomeAssistantPublisher({
        transport,
        states,
        map: CentralConfig.parse(MAP),
        config: HA,
        dataDir: dir,
        log,
        birthMinIntervalMs: 0,
      });
      await p.start();
      publishers.push(p);
      expect(raced).toBe(true);
      const ha = await HaFollower.connect(broker.url, {});
      clients.push(ha.client);
      await waitFor(() => ha.configs.size === 13, 5_000, { what: 'thirteen retained discovery configs' });
      await waitFor(() => [...ha.entities().values()].every((e) => e.available), 5_000, {
        what: 'every entity available',
      });
    } finally {
      await states.stop();
    }
  });

  it('[HA-BIRTH] when Home Assistant says it is online, the discovery is published again', async () => {
    const p = await startPublisher();
    const ha = await recorder(broker.url, [CONFIGS]);
    clients.push(ha.client);
    await waitFor(() => ha.all.length === 13, 5_000, { what: 'the retained configs' });
    expect(ha.all.every((m) => m.retain)).toBe(true);
    await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await waitFor(() => ha.all.length === 26, 5_000, { what: 'the configs published again' });
    expect(p.counters.births).toBe(1);
    // Anything else on the status topic is not a birth.
    await ha.client.publishAsync('homeassistant/status', 'offline', { qos: 1 });
    await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await waitFor(() => ha.all.length === 39, 5_000, { what: 'the configs published a third time' });
    expect(p.counters.births).toBe(2);
  });

  it('[HA-BIRTH] a burst of births is answered by one republish now and one after the interval', async () => {
    const p = await startPublisher(MAP, 1_000);
    const ha = await recorder(broker.url, [CONFIGS]);
    clients.push(ha.client);
    await waitFor(() => ha.all.length === 13, 5_000, { what: 'the retained configs' });
    for (let i = 0; i < 50; i++) await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await waitFor(() => p.counters.births === 50, 5_000, { what: 'fifty births seen' });
    expect(p.counters.coalesced).toBe(49);
    // The first birth republished at once; the other 49 make one more round, after the interval.
    await waitFor(() => ha.all.length === 39, 5_000, { what: 'the configs published twice more' });
    expect(p.counters.published).toBe(39);
  });

  it('[HA-STALE] a lane removed from the map loses its sensors: empty retained configs', async () => {
    const first = await startPublisher();
    await first.stop();
    const smaller: CentralConfigInput = structuredClone(MAP);
    smaller.sites![0]!.shelves![0]!.lanes = smaller.sites![0]!.shelves![0]!.lanes.slice(0, 1);
    const second = await startPublisher(smaller);
    // lane-b's six configs and six state topics.
    expect(second.counters.removed).toBe(12);
    const ha = await recorder(broker.url, [CONFIGS]);
    clients.push(ha.client);
    await waitFor(() => ha.last.size === 7, 5_000, { what: 'the retained configs left' });
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
    const ha = await recorder(broker.url, [CONFIGS]);
    await waitFor(() => ha.last.size === 13, 5_000, { what: 'the per-site configs' });
    expect(
      [...ha.last.keys()].every((t) => /^homeassistant\/(sensor|binary_sensor)\/shelfsense-s1\//.test(t)),
    ).toBe(true);
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
      const ha = await recorder(url, [CONFIGS, 'homeassistant/status'], {
        username: 'hass',
        password: 'correct horse battery',
      });
      await waitFor(() => ha.last.size === 13, 5_000, { what: 'the retained configs' });
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
