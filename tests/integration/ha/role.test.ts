/**
 * The `homeassistant` broker role against the real Shelfsense broker: a user made with the compiled
 * `shelfsense users add --role homeassistant --site A`, connecting as Home Assistant does (last will
 * `offline` on `homeassistant/status`, birth `online`), reads the discovery configs central
 * publishes and the levels and agent status of site A — never site B's — and may publish nothing
 * but its status. Needs `npx tsc -b tsconfig.build.json` (the CLI runs from protocol/dist).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MqttBus } from '@shelfsense/central';
import { type HomeAssistant, startHomeAssistant } from '@shelfsense/central/testing';
import { HomeAssistantConfig, topics } from '@shelfsense/protocol';
import type { IClientOptions } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  buildConfig,
  connect,
  login,
  type Received,
  type Recorded,
  startBroker,
  subscribeCodes,
  type TestBroker,
  until,
} from '../broker/helpers.js';

const log = pino({ level: 'silent' });
const MAIN = fileURLToPath(new URL('../../../cli/dist/main.js', import.meta.url));
const HA_PASSWORD = 'home assistant secret';
const R = 'shelfsense/v1';

/** Home Assistant's defaults: birth `online` and last will `offline` on `<prefix>/status`. */
const HASS: IClientOptions = {
  ...login('hass', HA_PASSWORD),
  will: { topic: 'homeassistant/status', payload: Buffer.from('offline'), qos: 1, retain: false },
};

function usersCli(args: string[], stdin: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, 'users', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`shelfsense users ${args.join(' ')} did not finish`));
    }, 20_000);
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    child.stdin.end(stdin);
  });
}

const level = (agent: string, units: number, seq: number) =>
  JSON.stringify({
    agent,
    serial: agent === 'agent-a' ? 'SA1' : 'SB1',
    sku: 'x-cola',
    units,
    grams: units * 350,
    fill: null,
    stable: true,
    confidence: 0.97,
    state: 'ok',
    ts: Date.now(),
    seq,
    frameSeq: seq,
  });
const status = (agent: string) => JSON.stringify({ agent, state: 'online', ts: Date.now() });

describe('the homeassistant role on the Shelfsense broker', () => {
  let b: TestBroker;
  let publisher: HomeAssistant | null;
  let agentA: Recorded;
  let agentB: Recorded;
  let observer: Recorded;
  const open: Recorded[] = [];

  beforeAll(async () => {
    b = await startBroker();
    const add = await usersCli(
      ['add', 'hass', '--role', 'homeassistant', '--site', 'A', '--data-dir', b.dir],
      `${HA_PASSWORD}\n`,
    );
    expect(add, add.out).toMatchObject({ code: 0 });
    expect(add.out).toContain('added hass (homeassistant sites=A)');
    // Central's discovery, published in process as in the central process.
    const bus = new MqttBus(log);
    bus.attachBroker(b.broker.aedes);
    publisher = await startHomeAssistant(
      { bus, dataDir: b.dir, log, config: buildConfig(b.dir) },
      HomeAssistantConfig.parse({ enabled: true }),
    );
    agentA = await connect(b.url, login('agent-a'));
    agentB = await connect(b.url, login('agent-b'));
    for (const [agent, c, site, shelf] of [
      ['agent-a', agentA, 'A', 'a1'],
      ['agent-b', agentB, 'B', 'b1'],
    ] as const) {
      await c.client.publishAsync(topics.status(site, agent), status(agent), { qos: 1, retain: true });
      await c.client.publishAsync(topics.level(site, shelf, 'l1'), level(agent, 7, 1), {
        qos: 1,
        retain: true,
      });
    }
    observer = await connect(b.url, login('admin'));
    await observer.client.subscribeAsync('#', { qos: 1 });
  });

  afterAll(async () => {
    for (const c of open) await c.end().catch(() => undefined);
    await publisher?.stop();
    for (const c of [agentA, agentB, observer]) await c?.end().catch(() => undefined);
    await b?.close();
  });

  const hass = async (opts: IClientOptions = HASS) => {
    const c = await connect(b.url, opts);
    open.push(c);
    return c;
  };

  it('[HA-ROLE] users list shows the role and its sites', async () => {
    const list = await usersCli(['list', '--json', '--data-dir', b.dir], '');
    expect(list.code).toBe(0);
    expect(JSON.parse(list.out)).toContainEqual({ name: 'hass', role: 'homeassistant', sites: ['A'] });
  });

  it('[HA-ROLE] Home Assistant connects with its last will, reads the discovery and its sites’ levels and status, not another site’s', async () => {
    const ha = await hass();
    expect(
      await subscribeCodes(ha.client, [
        'homeassistant/#',
        `${R}/+/+/+/level`,
        `${R}/+/agents/+/status`,
        `${R}/B/+/+/level`,
        `${R}/+/+/+/event`,
        `${R}/+/+/health`,
      ]),
    ).toEqual([1, 1, 1, 128, 128, 128]);

    // Its site's discovery configs (A: l1 with seven entities, l2 with six), and not B's lane names.
    await until(
      () => ha.messages.filter((m) => m.topic.endsWith('/config')).length === 13,
      'site A’s thirteen retained configs',
    );
    await observer.waitFor(
      (m) => m.topic.startsWith('homeassistant/sensor/shelfsense-B/'),
      'B’s configs published',
    );
    const configs = ha.messages
      .filter((m) => m.topic.endsWith('/config'))
      .map((m) => JSON.parse(m.payload) as { state_topic: string; availability: { topic: string }[] });
    // Every topic an entity reads is one the role may read: its state and both availabilities.
    for (const c of configs) {
      await ha.waitFor((m) => m.topic === c.state_topic, `the state ${c.state_topic}`);
      for (const a of c.availability)
        await ha.waitFor((m) => m.topic === a.topic, `the availability ${a.topic}`);
    }
    expect(
      configs.every((c) => /^homeassistant\/(sensor|binary_sensor)\/shelfsense-A\//.test(c.state_topic)),
    ).toBe(true);
    expect(ha.messages.filter((m) => m.topic.includes('shelfsense-B'))).toEqual([]);
    await ha.waitFor((m) => m.topic === `${R}/A/a1/l1/level` && m.retain, 'site A’s retained level');
    await ha.waitFor((m) => m.topic === topics.status('A', 'agent-a'), 'site A’s agent status');

    // Live: B's level is routed first (its PUBACK awaited), then A's; only A's arrives.
    await agentB.client.publishAsync(topics.level('B', 'b1', 'l1'), level('agent-b', 6, 2), { qos: 1 });
    await agentA.client.publishAsync(topics.level('A', 'a1', 'l1'), level('agent-a', 6, 2), { qos: 1 });
    await ha.waitFor((m) => m.topic === `${R}/A/a1/l1/level` && !m.retain, 'site A’s live level');
    const fromB = ha.messages.filter((m: Received) => m.topic.startsWith(`${R}/B/`));
    expect(fromB).toEqual([]);
  });

  it('[HA-ROLE] its birth message reaches central, which publishes the discovery again', async () => {
    const ha = await hass();
    const before = publisher?.counters.births ?? 0;
    await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await until(() => (publisher?.counters.births ?? 0) === before + 1, 'the birth seen by central');
    expect(ha.client.connected).toBe(true);
  });

  it('[HA-ROLE] a publish anywhere but homeassistant/status is refused (the connection closes, the last will fires)', async () => {
    for (const topic of [
      topics.level('A', 'a1', 'l1'),
      'homeassistant/sensor/shelfsense-A/fake/config',
      topics.request('A', 'agent-a', 'tare'),
    ]) {
      const ha = await hass();
      const wills = () =>
        observer.messages.filter((m) => m.topic === 'homeassistant/status' && m.payload === 'offline').length;
      const before = wills();
      ha.client.publish(topic, '{}', { qos: 1 });
      await ha.closed();
      await until(() => wills() === before + 1, `the last will after publishing to ${topic}`);
    }
    // Nothing Home Assistant tried to publish reached anyone.
    expect(observer.messages.filter((m) => m.payload === '{}')).toEqual([]);
  });

  it('[HA-ROLE] a last will on any other topic is refused at CONNECT', async () => {
    await expect(
      connect(b.url, {
        ...login('hass', HA_PASSWORD),
        will: { topic: topics.status('A', 'agent-a'), payload: Buffer.from('x'), qos: 1, retain: true },
      }),
    ).rejects.toMatchObject({ code: 5 }); // CONNACK 5, not authorized
  });
});
