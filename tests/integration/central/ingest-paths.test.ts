/**
 * Ingest over both of its paths, with real parts: the embedded aedes (readings taken in process,
 * stored marks published into it) and an external Mosquitto (central's MQTT client subscribes, the
 * broker part switched off). In both, an agent's QoS 1 levels are committed once each (a resent
 * duplicate dropped, a bad payload counted and skipped), and the agent sees its stored mark,
 * retained, on its own topic — what lets it trim its outbox.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Central } from '@shelfsense/central';
import { CentralConfig, type CentralConfigInput, parseWith, topics } from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto, type TestBroker } from '../../helpers/brokers.js';
import { waitFor } from '../../helpers/wait.js';

const SITE = 'store-1';
const AGENT = 'pi-1';
const N = 200;

function config(dataDir: string, over: Partial<CentralConfigInput>): CentralConfig {
  return parseWith(
    CentralConfig,
    {
      dataDir,
      log: { level: 'silent' },
      suppliers: [{ id: 'acme' }],
      skus: [{ id: 'cola', unitWeightG: 350, supplier: 'acme' }],
      sites: [
        {
          id: SITE,
          shelves: [
            { id: 'shelf-1', serial: 'S1', agent: AGENT, lanes: [{ id: 'L0', channels: [0], sku: 'cola' }] },
          ],
        },
      ],
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      integrations: { nodeRed: { enabled: false } },
      ...over,
    },
    'test central config',
  );
}

function level(seq: number) {
  return JSON.stringify({
    agent: AGENT,
    serial: 'S1',
    sku: 'cola',
    units: 10 + (seq % 3),
    grams: (10 + (seq % 3)) * 350,
    fill: null,
    stable: true,
    confidence: 0.99,
    state: 'ok',
    ts: 1_800_000_000_000 + seq * 100,
    seq,
    frameSeq: seq * 10,
  });
}

/** Publishes levels 1..N (and 17 again, and one broken payload), then waits for the mark N. */
async function publishAndAwaitMark(url: string, auth: mqtt.IClientOptions, central: Central) {
  const client: MqttClient = await mqtt.connectAsync(url, { ...auth, clientId: 'agent-under-test' });
  const marks: number[] = [];
  client.on('message', (_t, p) => marks.push((JSON.parse(p.toString()) as { seq: number }).seq));
  await client.subscribeAsync(topics.stored(SITE, AGENT), { qos: 1 });
  const topic = topics.level(SITE, 'shelf-1', 'L0');
  for (let seq = 1; seq <= N; seq++) await client.publishAsync(topic, level(seq), { qos: 1, retain: true });
  await client.publishAsync(topic, level(17), { qos: 1 });
  await client.publishAsync(topic, '{"agent":"pi-1","units":"many"}', { qos: 1 });
  await waitFor(() => marks.includes(N), 20_000, { what: `the stored mark ${N}` });
  // Retained: a reconnecting agent learns its mark at once.
  const late: MqttClient = await mqtt.connectAsync(url, { ...auth, clientId: 'agent-restarted' });
  const retained = new Promise<number>((resolve) =>
    late.on('message', (_t, p) => resolve((JSON.parse(p.toString()) as { seq: number }).seq)),
  );
  await late.subscribeAsync(topics.stored(SITE, AGENT), { qos: 1 });
  expect(await retained).toBe(N);
  await late.endAsync();
  await client.endAsync();
  const counters = central.ingest!.counters;
  await waitFor(() => counters.invalid === 1 && counters.duplicates >= 1, 10_000, { what: 'the counters' });
  const seqs = central
    .store!.db.prepare('SELECT seq FROM readings WHERE agent = ? ORDER BY seq')
    .all(AGENT) as { seq: number }[];
  expect(seqs.map((r) => r.seq)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
}

describe('ingest paths', () => {
  const stops: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const s of stops.splice(0)) await s().catch(() => undefined);
  });

  it('[embedded] readings taken from aedes in process; marks published into it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingest-embedded-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    const central = new Central({ config: config(dir, {}), logger: pino({ level: 'silent' }) });
    await central.start();
    stops.unshift(() => central.stop());
    await central.broker!.users.add(AGENT, { role: 'agent', site: SITE, agent: AGENT }, 'agent-password-1');
    await publishAndAwaitMark(
      `mqtt://127.0.0.1:${central.broker!.ports.tcp}`,
      { username: AGENT, password: 'agent-password-1' },
      central,
    );
  });

  it('[gap timeout] a hole the agent dropped at its bound is stepped over after ingest.gapTimeoutMs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingest-gap-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    const central = new Central({
      config: config(dir, { ingest: { gapTimeoutMs: 300 } }),
      logger: pino({ level: 'silent' }),
    });
    await central.start();
    stops.unshift(() => central.stop());
    await central.broker!.users.add(AGENT, { role: 'agent', site: SITE, agent: AGENT }, 'agent-password-1');
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${central.broker!.ports.tcp}`, {
      username: AGENT,
      password: 'agent-password-1',
    });
    stops.unshift(() => client.endAsync());
    const topic = topics.level(SITE, 'shelf-1', 'L0');
    for (const seq of [1, 2, 4, 5]) await client.publishAsync(topic, level(seq), { qos: 1 });
    const store = central.store!;
    await waitFor(() => store.readings.mark(SITE, AGENT) === 2, 10_000, {
      what: 'the mark at 2, before the hole',
    });
    // The agent keeps sending; once the hole has stood for the timeout, the mark steps over it.
    let seq = 6;
    await waitFor(
      async () => {
        await client.publishAsync(topic, level(seq++), { qos: 1 });
        return store.readings.mark(SITE, AGENT) >= 5;
      },
      10_000,
      { what: 'the mark past the hole' },
    );
    expect(store.readings.gaps(SITE, AGENT)).toMatchObject([{ first: 3, last: 3 }]);
  });

  it('[external] behind a real Mosquitto: central subscribes as a client', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ingest-external-'));
    stops.push(async () => rmSync(dir, { recursive: true, force: true }));
    const mosq: TestBroker = await startMosquitto();
    stops.push(() => mosq.close());
    const central = new Central({
      config: config(dir, { parts: { broker: false }, externalBroker: { url: mosq.url } }),
      logger: pino({ level: 'silent' }),
    });
    await central.start();
    stops.unshift(() => central.stop());
    expect(central.broker).toBeNull();
    await publishAndAwaitMark(mosq.url, {}, central);
  });
});
