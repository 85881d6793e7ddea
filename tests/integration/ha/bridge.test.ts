/**
 * Home Assistant beside a broker of the user's, with Shelfsense's bridge client: a real central
 * (embedded broker, rules, orders, catalogue) publishes discovery and states for the granted site
 * to a real Mosquitto with its own credentials. A subscriber on that Mosquitto follows the discovery
 * as Home Assistant does, and every entity's value is checked against the real system: the agent's
 * counts, the order the rules raise, low stock, a faulty cell, the agent going offline. A lane
 * removed through the catalogue loses its entities; the site not granted never appears; a level
 * that changes nothing publishes nothing; turning the bridge off removes every entity.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Central, serviceParts } from '@shelfsense/central';
import { applyCatalogue } from '@shelfsense/central/catalogue';
import { Store } from '@shelfsense/central/store';
import { SHELFSENSE_VERSION, startHomeAssistant } from '@shelfsense/central/testing';
import {
  type CentralConfig,
  CentralConfig as CentralConfigSchema,
  catalogueOf,
  clientIds,
  HomeAssistantConfig,
  parseWith,
  topics,
} from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';
import { level } from '../../unit/central/store/fixtures.js';
import { HaFollower, startUserMosquitto, type UserMosquitto } from './ha-helpers.js';

const PASSWORD = 'correct horse battery';
const BRIDGE_PASSWORD = 'bridge secret';
const HASS_PASSWORD = 'hass secret';
const DASHBOARD = 'https://shelfsense.example/';
const log = pino({ level: process.env.SHELFSENSE_TEST_LOG ?? 'silent' });

function config(dataDir: string, mosquittoUrl: string): CentralConfig {
  return parseWith(
    CentralConfigSchema,
    {
      dataDir,
      log: { level: 'silent' },
      auth: { scrypt: { cost: 1024 } },
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      integrations: {
        nodeRed: { enabled: false },
        homeAssistant: {
          enabled: true,
          dashboardUrl: DASHBOARD,
          bridges: [
            {
              id: 'home',
              url: mosquittoUrl,
              username: 'shelfsense',
              password: BRIDGE_PASSWORD,
              clientId: 'shelfsense-bridge-test',
              sites: ['s1'],
              reconnectMs: 200,
            },
          ],
        },
      },
      suppliers: [{ id: 'acme' }],
      skus: [
        { id: 'cola', name: 'Cola', unitWeightG: 350, supplier: 'acme' },
        { id: 'chips', unitWeightG: 120, supplier: 'acme' },
      ],
      sites: [
        {
          id: 's1',
          name: 'Main street',
          shelves: [
            {
              id: 'shelf-1',
              serial: 'SN0001',
              agent: 'pi-1',
              lanes: [
                { id: 'L0', channels: [0], sku: 'cola', capacity: 20 },
                { id: 'L1', channels: [1], sku: 'chips' },
              ],
            },
          ],
        },
        {
          id: 's2',
          name: 'Secret depot',
          shelves: [
            {
              id: 'shelf-9',
              serial: 'SN0009',
              agent: 'pi-2',
              lanes: [{ id: 'X0', channels: [0], sku: 'cola' }],
            },
          ],
        },
      ],
      replenishment: { defaults: { reorderPoint: 4, debounceMs: 0 } },
    },
    'test central config',
  );
}

describe('Shelfsense’s bridge client to the user’s Mosquitto', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-bridge-'));
  let mosq: UserMosquitto;
  let central: Central;
  let cfg: CentralConfig;
  let pi1: MqttClient;
  let pi2: MqttClient;
  let ha: HaFollower;
  /** Everything on the user's Mosquitto, as one plain subscriber sees it (no overlapping filters). */
  const everything: { topic: string; payload: string; retain: boolean }[] = [];
  let watcher: MqttClient;
  let seq = 0;

  const send = (client: MqttClient, site: string, shelf: string, lane: string, units: number, over = {}) =>
    client.publishAsync(
      topics.level(site, shelf, lane),
      JSON.stringify(
        level(++seq, units, Date.now(), {
          sku: lane === 'L1' ? 'chips' : 'cola',
          fill: lane === 'L0' ? units / 20 : null,
          grams: units * (lane === 'L1' ? 120 : 350),
          confidence: 0.97,
          ...(site === 's2' ? { agent: 'pi-2', serial: 'SN0009' } : {}),
          ...over,
        }),
      ),
      { qos: 1, retain: true },
    );
  const status = (client: MqttClient, site: string, agent: string, state: 'online' | 'offline') =>
    client.publishAsync(
      topics.status(site, agent),
      JSON.stringify({ agent, site, state, shelves: [], ts: Date.now() }),
      { qos: 1, retain: true },
    );

  beforeAll(async () => {
    mosq = await startUserMosquitto({ shelfsense: BRIDGE_PASSWORD, hass: HASS_PASSWORD });
    cfg = config(dir, mosq.url);
    central = new Central({ config: cfg, logger: log, parts: serviceParts() });
    await central.start();
    const users = central.broker!.users;
    await users.add('pi-1', { role: 'agent', site: 's1', agent: 'pi-1' }, PASSWORD);
    await users.add('pi-2', { role: 'agent', site: 's2', agent: 'pi-2' }, PASSWORD);
    const url = `mqtt://127.0.0.1:${central.mqttPort}`;
    const agent = (name: string, site: string) =>
      mqtt.connectAsync(url, {
        username: name,
        password: PASSWORD,
        clientId: clientIds.agent(site, name),
        reconnectPeriod: 0,
      });
    pi1 = await agent('pi-1', 's1');
    pi2 = await agent('pi-2', 's2');
    watcher = await mqtt.connectAsync(mosq.url, {
      username: 'hass',
      password: HASS_PASSWORD,
      reconnectPeriod: 0,
    });
    watcher.on('message', (topic, p, packet) =>
      everything.push({ topic, payload: p.toString('utf8'), retain: packet.retain }),
    );
    await watcher.subscribeAsync('#', { qos: 1 });
    ha = await HaFollower.connect(mosq.url, { username: 'hass', password: HASS_PASSWORD });
  });

  afterAll(async () => {
    for (const c of [pi1, pi2, watcher]) await c?.endAsync().catch(() => undefined);
    await ha?.end().catch(() => undefined);
    await central?.stop();
    await mosq?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[HA-BRIDGE] every entity of the granted site arrives, with what Home Assistant requires of it', async () => {
    // L0 has a capacity: 7 entities; L1 none: 6 (no fill).
    await waitFor(() => ha.configs.size === 13, 10_000, { what: 'thirteen discovery configs' });
    expect(ha.invalid).toEqual([]);
    const kinds = [...ha.entities().keys()].map((id) => id.replace('shelfsense:s1/shelf-1/', '')).sort();
    expect(kinds).toEqual(
      [
        'L0:count',
        'L0:fill',
        'L0:weight',
        'L0:confidence',
        'L0:low_stock',
        'L0:open_order',
        'L0:sensor_fault',
        'L1:count',
        'L1:weight',
        'L1:confidence',
        'L1:low_stock',
        'L1:open_order',
        'L1:sensor_fault',
      ].sort(),
    );
    for (const { config: c } of ha.entities().values()) {
      expect(c.device).toMatchObject({
        identifiers: ['shelfsense:s1/shelf-1'],
        name: 'Shelf shelf-1 (Main street)',
        sw_version: SHELFSENSE_VERSION,
        configuration_url: DASHBOARD,
      });
      expect(c.availability_mode).toBe('all');
      expect(c.availability.map((a) => a.topic)).toEqual([
        'homeassistant/shelfsense/availability',
        'homeassistant/sensor/shelfsense-s1/agent_pi-1/availability',
      ]);
    }
    const e = ha.entities();
    expect(e.get('shelfsense:s1/shelf-1/L0:weight')?.config).toMatchObject({
      component: 'sensor',
      device_class: 'weight',
      unit_of_measurement: 'g',
      entity_category: 'diagnostic',
    });
    expect(e.get('shelfsense:s1/shelf-1/L0:confidence')?.config).toMatchObject({
      entity_category: 'diagnostic',
    });
    expect(e.get('shelfsense:s1/shelf-1/L0:sensor_fault')?.config).toMatchObject({
      component: 'binary_sensor',
      device_class: 'problem',
      payload_on: 'ON',
      payload_off: 'OFF',
    });
    // No attributes: a heartbeat must not write a recorder row.
    expect(mosq.log()).not.toMatch(/error/i);
    for (const m of everything.filter((x) => x.topic.endsWith('/config')))
      expect(m.payload).not.toContain('json_attributes');
  });

  it('[HA-BRIDGE] states follow the real system: counts, fill, weight, an order the rules raise, low stock, a faulty cell', async () => {
    await status(pi1, 's1', 'pi-1', 'online');
    await status(pi2, 's2', 'pi-2', 'online');
    await send(pi1, 's1', 'shelf-1', 'L0', 10);
    await send(pi1, 's1', 'shelf-1', 'L1', 8);
    await send(pi2, 's2', 'shelf-9', 'X0', 1);
    await waitFor(
      () => ha.state('s1/shelf-1/L1:count') === '8' && ha.state('s1/shelf-1/L0:count') === '10',
      5_000,
      {
        what: 'the counts',
      },
    );
    const view = (lane: string) =>
      Object.fromEntries(
        [...ha.entities()]
          .filter(([id]) => id.startsWith(`shelfsense:s1/shelf-1/${lane}:`))
          .map(([id, x]) => [id.split(':').at(-1), x.state]),
      );
    await waitFor(() => [...ha.entities().values()].every((x) => x.available), 5_000, { what: 'available' });
    expect(view('L0')).toEqual({
      count: '10',
      fill: '50',
      weight: '3500',
      confidence: '97',
      low_stock: 'OFF',
      open_order: 'OFF',
      sensor_fault: 'OFF',
    });
    expect(view('L1')).toMatchObject({ count: '8', weight: '960', low_stock: 'OFF', open_order: 'OFF' });

    // Under the reorder point (4): the rules raise an order, and Home Assistant sees both.
    await send(pi1, 's1', 'shelf-1', 'L0', 3);
    const order = await waitFor(
      () => central.orders?.live({ site: 's1', shelf: 'shelf-1', lane: 'L0' }),
      5_000,
      {
        what: 'the order the rules raise',
      },
    );
    expect(order.state).toBe('open');
    await waitFor(() => ha.state('s1/shelf-1/L0:open_order') === 'ON', 5_000, { what: 'open order ON' });
    expect(view('L0')).toMatchObject({ count: '3', fill: '15', low_stock: 'ON', open_order: 'ON' });

    // L1's load cell saturates: a fault on L1 only.
    await pi1.publishAsync(
      topics.health('s1', 'shelf-1'),
      JSON.stringify({
        agent: 'pi-1',
        serial: 'SN0001',
        status: 'saturated',
        channels: [
          { channel: 0, status: 'ok', noiseG: 0.5, driftG: 0 },
          { channel: 1, status: 'saturated', noiseG: 0.5, driftG: 0 },
        ],
        ts: Date.now(),
      }),
      { qos: 1, retain: true },
    );
    await waitFor(() => ha.state('s1/shelf-1/L1:sensor_fault') === 'ON', 5_000, { what: 'L1 fault' });
    expect(ha.state('s1/shelf-1/L0:sensor_fault')).toBe('OFF');

    // The agent's last will: every entity of its shelf unavailable; back online, available again.
    await status(pi1, 's1', 'pi-1', 'offline');
    await waitFor(() => [...ha.entities().values()].every((x) => !x.available), 5_000, {
      what: 'unavailable',
    });
    await status(pi1, 's1', 'pi-1', 'online');
    await waitFor(() => [...ha.entities().values()].every((x) => x.available), 5_000, {
      what: 'available again',
    });
  });

  it('[HA-DEDUP] a level that changes nothing publishes no state', async () => {
    const stateMsgs = (lane: string) =>
      everything.filter((m) => m.topic.includes(`_${lane}_`) && m.topic.endsWith('/state')).length;
    const before = stateMsgs('L0');
    // The same values again (a new sequence number and time, as an agent's heartbeat would).
    await send(pi1, 's1', 'shelf-1', 'L0', 3);
    // A fence: a change on L1, published after the L0 heartbeat, has arrived.
    await send(pi1, 's1', 'shelf-1', 'L1', 7);
    await waitFor(
      () => everything.some((m) => m.topic.endsWith('_L1_count/state') && m.payload === '7'),
      5_000,
      { what: 'the L1 change' },
    );
    expect(stateMsgs('L0')).toBe(before);
  });

  it('[HA-SITES] the site not granted never reaches the user’s broker', () => {
    expect(everything.length).toBeGreaterThan(0);
    const leaks = everything.filter((m) => /s2|shelf-9|X0|pi-2|Secret depot/.test(m.topic + m.payload));
    expect(leaks).toEqual([]);
  });

  it('[HA-CATALOGUE] a lane removed through the catalogue loses its entities (empty retained configs)', async () => {
    const next = structuredClone(catalogueOf(central.config));
    next.sites[0]!.shelves[0]!.lanes = next.sites[0]!.shelves[0]!.lanes.filter((l) => l.id !== 'L1');
    const other = Store.open({ file: join(dir, 'central.db') });
    try {
      expect(applyCatalogue(other, central.config, next, { actor: 'admin' }).version).toBe(2);
    } finally {
      other.close();
    }
    await waitFor(() => ha.configs.size === 7, 5_000, { what: 'L1’s six entities removed' });
    expect([...ha.entities().keys()].some((id) => id.includes('/L1:'))).toBe(false);
    expect(ha.removed.filter((t) => t.includes('_L1_'))).toHaveLength(6);
    // Nothing retained is left for L1 on the user's broker: a new subscriber gets none of it.
    const late = await HaFollower.connect(mosq.url, { username: 'hass', password: HASS_PASSWORD });
    try {
      await waitFor(() => late.configs.size === 7, 5_000, { what: 'the retained configs left' });
      expect([...late.values.keys()].some((t) => t.includes('_L1_'))).toBe(false);
    } finally {
      await late.end();
    }
  });

  it('[HA-OFF] central stopping marks Shelfsense unavailable; the integration turned off removes every entity', async () => {
    await central.stop();
    await waitFor(() => [...ha.entities().values()].every((x) => !x.available), 5_000, {
      what: 'unavailable once central stopped',
    });
    expect(ha.configs.size).toBe(7);
    // Central starts with the integration turned off: it reaches the user's broker once, with the
    // bridge's settings, and empties everything it published there (and on its own broker).
    const off = HomeAssistantConfig.parse({ ...cfg.integrations.homeAssistant, enabled: false });
    const published: string[] = [];
    const bus = {
      publishRaw: async (topic: string) => {
        published.push(topic);
      },
    } as never;
    expect(await startHomeAssistant({ bus, dataDir: dir, log, config: central.config }, off)).toBeNull();
    expect(published.length).toBeGreaterThan(0);
    await waitFor(() => ha.configs.size === 0, 5_000, { what: 'every entity removed' });
  });
});
