/**
 * The Mosquitto bridge recipe (deploy/mosquitto/shelfsense-bridge.conf, docs/home-assistant.md):
 * the user's real Mosquitto, configured with the shipped file, bridges a real central's embedded
 * broker as a `homeassistant`-role user. Discovery and states of the granted site arrive on the
 * user's Mosquitto and nothing else does — no Shelfsense topic, nothing of the other site; Home
 * Assistant's birth crosses back and makes central publish again; the bridge's own notification
 * turns the entities unavailable when Shelfsense goes away.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Central, serviceParts } from '@shelfsense/central';
import { CentralConfig as CentralConfigSchema, clientIds, parseWith, topics } from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait.js';
import { level } from '../../unit/central/store/fixtures.js';
import { bridgeRecipe, HaFollower, startUserMosquitto, type UserMosquitto } from './ha-helpers.js';

const PASSWORD = 'correct horse battery';
const BRIDGE_PASSWORD = 'bridge secret';
const HASS_PASSWORD = 'hass secret';

describe('a Mosquitto bridge to Shelfsense’s broker, as documented', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ha-mosq-bridge-'));
  let central: Central;
  let mosq: UserMosquitto;
  let pi1: MqttClient;
  let pi2: MqttClient;
  let ha: HaFollower;
  let watcher: MqttClient;
  const everything: { topic: string; payload: string }[] = [];
  let seq = 0;

  const send = (c: MqttClient, site: string, shelf: string, lane: string, units: number, over = {}) =>
    c.publishAsync(
      topics.level(site, shelf, lane),
      JSON.stringify(level(++seq, units, Date.now(), { sku: 'cola', fill: null, confidence: 0.9, ...over })),
      { qos: 1, retain: true },
    );
  const online = (c: MqttClient, site: string, agent: string) =>
    c.publishAsync(
      topics.status(site, agent),
      JSON.stringify({ agent, site, state: 'online', shelves: [], ts: Date.now() }),
      { qos: 1, retain: true },
    );

  beforeAll(async () => {
    const config = parseWith(
      CentralConfigSchema,
      {
        dataDir: dir,
        log: { level: 'silent' },
        auth: { scrypt: { cost: 1024 } },
        http: { host: '127.0.0.1', port: 0 },
        mqtt: { host: '127.0.0.1', port: 0 },
        integrations: { nodeRed: { enabled: false }, homeAssistant: { enabled: true } },
        suppliers: [{ id: 'acme' }],
        skus: [{ id: 'cola', unitWeightG: 350, supplier: 'acme' }],
        sites: [
          {
            id: 's1',
            shelves: [
              { id: 'a', serial: 'SN0001', agent: 'pi-1', lanes: [{ id: 'L0', channels: [0], sku: 'cola' }] },
            ],
          },
          {
            id: 's2',
            shelves: [
              { id: 'b', serial: 'SN0002', agent: 'pi-2', lanes: [{ id: 'Z9', channels: [0], sku: 'cola' }] },
            ],
          },
        ],
      },
      'test central config',
    );
    central = new Central({ config, logger: pino({ level: 'silent' }), parts: serviceParts() });
    await central.start();
    const users = central.broker!.users;
    await users.add('pi-1', { role: 'agent', site: 's1', agent: 'pi-1' }, PASSWORD);
    await users.add('pi-2', { role: 'agent', site: 's2', agent: 'pi-2' }, PASSWORD);
    // The bridge's user on Shelfsense's broker: Home Assistant's role, site s1 only.
    await users.add('mosquitto-bridge', { role: 'homeassistant', sites: ['s1'] }, BRIDGE_PASSWORD);
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
    await online(pi1, 's1', 'pi-1');
    await online(pi2, 's2', 'pi-2');
    await send(pi1, 's1', 'a', 'L0', 5);
    await send(pi2, 's2', 'b', 'Z9', 2, { agent: 'pi-2', serial: 'SN0002' });

    mosq = await startUserMosquitto(
      { hass: HASS_PASSWORD },
      bridgeRecipe({
        host: '127.0.0.1',
        port: central.mqttPort!,
        user: 'mosquitto-bridge',
        password: BRIDGE_PASSWORD,
      }),
    );
    watcher = await mqtt.connectAsync(mosq.url, {
      username: 'hass',
      password: HASS_PASSWORD,
      reconnectPeriod: 0,
    });
    watcher.on('message', (topic, p) => everything.push({ topic, payload: p.toString('utf8') }));
    await watcher.subscribeAsync('#', { qos: 1 });
    ha = await HaFollower.connect(mosq.url, { username: 'hass', password: HASS_PASSWORD });
  });

  afterAll(async () => {
    for (const c of [pi1, pi2, watcher]) await c?.endAsync().catch(() => undefined);
    await ha?.end().catch(() => undefined);
    await mosq?.close();
    await central?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[HA-MOSQUITTO] discovery and states of the granted site arrive on the user’s Mosquitto, available', async () => {
    await waitFor(() => ha.configs.size === 6, 10_000, {
      what: `six configs for L0 (Mosquitto log: ${mosq.log()})`,
    });
    expect(ha.invalid).toEqual([]);
    await waitFor(() => ha.state('s1/a/L0:count') === '5', 5_000, { what: 'the count' });
    await waitFor(() => [...ha.entities().values()].every((e) => e.available), 5_000, { what: 'available' });
    // The bridge's own notification is what says Shelfsense is reachable on this broker.
    expect(ha.values.get('homeassistant/shelfsense/availability')).toBe('1');
    // Live: a new level crosses the bridge.
    await send(pi1, 's1', 'a', 'L0', 0);
    await waitFor(() => ha.state('s1/a/L0:count') === '0', 5_000, { what: 'the new count' });
    // Published after the count, in order: empty is low.
    await waitFor(() => ha.state('s1/a/L0:low_stock') === 'ON', 5_000, { what: 'low stock' });
  });

  it('[HA-MOSQUITTO] nothing outside the Home Assistant topics, and nothing of the other site', async () => {
    await send(pi2, 's2', 'b', 'Z9', 1, { agent: 'pi-2', serial: 'SN0002' });
    // A fence: a later change of s1 has arrived, so s2's would have too.
    await send(pi1, 's1', 'a', 'L0', 4);
    await waitFor(() => ha.state('s1/a/L0:count') === '4', 5_000, { what: 'the fence' });
    const allowed =
      /^homeassistant\/((sensor|binary_sensor)\/shelfsense-s1\/[^/]+\/(config|state|availability)|shelfsense\/availability|status)$/;
    expect(everything.length).toBeGreaterThan(12);
    expect(everything.filter((m) => !allowed.test(m.topic))).toEqual([]);
    expect(everything.filter((m) => /s2|Z9|pi-2/.test(m.topic + m.payload))).toEqual([]);
  });

  it('[HA-MOSQUITTO] Home Assistant’s birth crosses the bridge and central publishes everything again', async () => {
    const configs = () => everything.filter((m) => m.topic.endsWith('/config')).length;
    const before = configs();
    // Home Assistant restarting: it connects and follows the discovery. The bridge flag makes
    // Shelfsense's broker keep the retain flag on what it forwards, so this broker's retained
    // states are current ones, before the birth republishes anything.
    const restarted = await HaFollower.connect(mosq.url, { username: 'hass', password: HASS_PASSWORD });
    try {
      await waitFor(() => restarted.configs.size === 6, 5_000, { what: 'the configs, retained' });
      await waitFor(() => restarted.state('s1/a/L0:count') === '4', 5_000, {
        what: 'the current count, retained',
      });
      await waitFor(() => restarted.state('s1/a/L0:low_stock') === 'OFF', 5_000, {
        what: 'low stock, retained',
      });
      await restarted.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
      await waitFor(() => configs() >= before + 6, 5_000, { what: 'the configs published again' });
    } finally {
      await restarted.end();
    }
  });

  it('[HA-MOSQUITTO] Shelfsense gone: the bridge notification turns every entity unavailable', async () => {
    await central.stop();
    await waitFor(() => ha.values.get('homeassistant/shelfsense/availability') === '0', 10_000, {
      what: 'the bridge notification 0',
    });
    expect([...ha.entities().values()].every((e) => !e.available)).toBe(true);
  });
});
