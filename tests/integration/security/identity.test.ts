/**
 * Who sent a message comes from the authenticated connection, never from a client id or a body:
 * attacks by logged-in users on a real central (embedded aedes over TCP, two sites, three agents,
 * two suppliers), and the same forgeries through a real Mosquitto, where central's ingest is the
 * only check.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Central } from '@shelfsense/central';
import {
  CentralConfig,
  type CentralConfigInput,
  clientIds,
  type Grant,
  parseWith,
  topics,
} from '@shelfsense/protocol';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMosquitto, type TestBroker } from '../../helpers/brokers.js';
import { waitFor } from '../../helpers/wait.js';
import { level as levelPayload } from '../../unit/central/store/fixtures.js';

const PASSWORD = 'correct horse battery';
const USERS: Record<string, Grant> = {
  pa: { role: 'agent', site: 'site-a', agent: 'pa' },
  pc: { role: 'agent', site: 'site-a', agent: 'pc' },
  pb: { role: 'agent', site: 'site-b', agent: 'pb' },
  'sup-x': { role: 'supplier', supplier: 'X' },
  'sup-y': { role: 'supplier', supplier: 'Y' },
  admin: { role: 'admin' },
};

function config(dataDir: string, over: Partial<CentralConfigInput> = {}): CentralConfig {
  const lanes = [
    { id: 'l1', channels: [0], sku: 'x-cola' },
    { id: 'l2', channels: [1], sku: 'y-chips' },
  ];
  return parseWith(
    CentralConfig,
    {
      dataDir,
      log: { level: 'silent' },
      auth: { scrypt: { cost: 1024 } },
      suppliers: [{ id: 'X' }, { id: 'Y' }],
      skus: [
        { id: 'x-cola', unitWeightG: 350, supplier: 'X' },
        { id: 'y-chips', unitWeightG: 120, supplier: 'Y' },
      ],
      sites: [
        {
          id: 'site-a',
          shelves: [
            { id: 'a1', serial: 'SA1', agent: 'pa', lanes },
            { id: 'a2', serial: 'SA2', agent: 'pc', lanes },
          ],
        },
        { id: 'site-b', shelves: [{ id: 'b1', serial: 'SB1', agent: 'pb', lanes }] },
      ],
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      integrations: { nodeRed: { enabled: false } },
      ...over,
    },
    'test central config',
  );
}

/** A level's JSON as an agent sends it, naming `agent` and the shelf's `serial`. */
const level = (agent: string, serial: string, seq: number) =>
  JSON.stringify(levelPayload(seq, 10, 1_800_000_000_000 + seq * 100, { agent, serial, sku: 'x-cola' }));

const status = (agent: string, site: string, state: 'online' | 'offline') =>
  JSON.stringify({ agent, site, state, shelves: [], ts: Date.now() });

/** Waits for a client's connection to close; resolves false if it stays up for `ms`. */
function closes(client: MqttClient, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    client.once('close', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

describe('[security] identities come from the connection', () => {
  const dir = mkdtempSync(join(tmpdir(), 'identity-'));
  let central: Central;
  let url: string;
  const clients: MqttClient[] = [];

  const connect = async (user: string, opts: IClientOptions = {}): Promise<MqttClient> => {
    const c = await mqtt.connectAsync(url, {
      username: user,
      password: PASSWORD,
      reconnectPeriod: 0,
      protocolVersion: 4,
      ...opts,
    });
    clients.push(c);
    return c;
  };
  /** The CONNACK return code a connection gets (0: accepted). */
  const connack = async (user: string, clientId: string): Promise<number> => {
    try {
      const c = await connect(user, { clientId });
      await c.endAsync();
      return 0;
    } catch (err) {
      return (err as { code?: number }).code ?? -1;
    }
  };

  beforeAll(async () => {
    central = new Central({ config: config(dir), logger: pino({ level: 'silent' }) });
    await central.start();
    for (const [name, grant] of Object.entries(USERS)) await central.broker!.users.add(name, grant, PASSWORD);
    url = `mqtt://127.0.0.1:${central.broker!.ports.tcp}`;
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await central?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[client id] nobody else can take an agent’s, central’s or another user’s client id', async () => {
    const paId = clientIds.agent('site-a', 'pa');
    const pa = await connect('pa', {
      clientId: paId,
      will: {
        topic: topics.status('site-a', 'pa'),
        payload: Buffer.from(status('pa', 'site-a', 'offline')),
        qos: 1,
        retain: true,
      },
    });
    let paClosed = false;
    pa.on('close', () => {
      paClosed = true;
    });
    const watcher = await connect('admin');
    const statuses: string[] = [];
    watcher.on('message', (_t, p) => statuses.push((JSON.parse(p.toString()) as { state: string }).state));
    await watcher.subscribeAsync(topics.status('site-a', 'pa'), { qos: 1 });
    const before = central.broker!.counters.denied.client_id;

    // The agent's id: refused to a supplier, to another agent, even to an agent at the other site.
    expect(await connack('sup-x', paId)).toBe(2);
    expect(await connack('pc', paId)).toBe(2);
    expect(await connack('pb', paId)).toBe(2);
    // An agent may use only its own derived id under the agents' prefix.
    expect(await connack('pc', clientIds.agent('site-a', 'px'))).toBe(2);
    // Central's prefix belongs to the service role: guessing central's id gets nobody in.
    for (let i = 0; i < 20; i++)
      expect(await connack('sup-x', `${clientIds.centralPrefix}${1000 + i}`)).toBe(2);
    // An ordinary id belongs to the user holding it...
    const portal = await connect('sup-x', { clientId: 'portal-1' });
    expect(await connack('sup-y', 'portal-1')).toBe(2);
    expect(portal.connected).toBe(true);
    // ...who may take it over (a reconnect after a half-open connection).
    const portalClosed = closes(portal, 5_000);
    const again = await connect('sup-x', { clientId: 'portal-1' });
    expect(await portalClosed).toBe(true);
    expect(again.connected).toBe(true);

    expect(central.broker!.counters.denied.client_id - before).toBe(25);
    // The agent was never knocked off, so its will never fired; central's own client is up.
    expect(paClosed).toBe(false);
    expect(pa.connected).toBe(true);
    expect(statuses).not.toContain('offline');
    expect(central.ingest!.connected).toBe(true);
    const health = await fetch(`http://127.0.0.1:${central.httpPort}/healthz`);
    expect(health.status).toBe(200);

    // A persistent session holds its id for its user while the client is away.
    const away = await connect('sup-x', { clientId: 'portal-p', clean: false });
    await away.endAsync();
    expect(await connack('sup-y', 'portal-p')).toBe(2);
    const back = await connect('sup-x', { clientId: 'portal-p', clean: false });
    expect(back.connected).toBe(true);
    await back.endAsync();

    // Gone, the agent's id stays its own.
    await pa.endAsync();
    expect(await connack('sup-x', paId)).toBe(2);
    expect(await connack('pa', paId)).toBe(0);
  });

  it('[body identity] a record naming another agent is refused; the real agent’s readings all count', async () => {
    const pb = await connect('pb', { clientId: clientIds.agent('site-b', 'pb') });
    const marks: number[] = [];
    pb.on('message', (_t, p) => marks.push((JSON.parse(p.toString()) as { seq: number }).seq));
    await pb.subscribeAsync(topics.stored('site-b', 'pb'), { qos: 1 });

    // Agent pa, at its own shelf, names pb in the body: the broker refuses it and drops pa.
    const before = central.broker!.counters.denied.identity;
    const pa = await connect('pa', { clientId: clientIds.agent('site-a', 'pa') });
    const paClosed = closes(pa, 10_000);
    for (let seq = 1; seq <= 50; seq++)
      pa.publish(topics.level('site-a', 'a1', 'l1'), level('pb', 'SA1', seq), { qos: 1 });
    expect(await paClosed).toBe(true);
    expect(central.broker!.counters.denied.identity - before).toBeGreaterThanOrEqual(1);

    // The real pb's ten readings are all committed and its mark moves to 10, never to 50.
    for (let seq = 1; seq <= 10; seq++)
      await pb.publishAsync(topics.level('site-b', 'b1', 'l1'), level('pb', 'SB1', seq), { qos: 1 });
    await waitFor(() => marks.includes(10), 10_000, { what: 'pb’s stored mark at 10' });
    const store = central.store!;
    expect(store.readings.mark('site-b', 'pb')).toBe(10);
    expect(Math.max(...marks)).toBe(10);
    expect(store.db.prepare(`SELECT COUNT(*) FROM readings WHERE agent = 'pb'`).pluck().get()).toBe(10);
  });

  it('[status] an agent cannot turn another agent’s lanes offline', async () => {
    const store = central.store!;
    const ingest = central.ingest!;
    const alerts = () => store.db.prepare('SELECT COUNT(*) FROM alerts').pluck().get() as number;
    const pa = await connect('pa', { clientId: clientIds.agent('site-a', 'pa') });
    await pa.publishAsync(topics.status('site-a', 'pa'), status('pa', 'site-a', 'online'), {
      qos: 1,
      retain: true,
    });
    await pa.publishAsync(topics.level('site-a', 'a1', 'l1'), level('pa', 'SA1', 1), { qos: 1 });
    await waitFor(() => store.readings.mark('site-a', 'pa') >= 1, 10_000, { what: 'pa’s level committed' });
    const alertsBefore = alerts();

    const pc = await connect('pc', { clientId: clientIds.agent('site-a', 'pc') });
    const pcClosed = closes(pc, 10_000);
    pc.publish(topics.status('site-a', 'pc'), status('pa', 'site-a', 'offline'), { qos: 1 });
    expect(await pcClosed).toBe(true);

    // A status that arrives after the forged one would have: once ingest has it, nothing changed.
    const received = ingest.counters.received;
    const pc2 = await connect('pc', { clientId: clientIds.agent('site-a', 'pc') });
    await pc2.publishAsync(topics.status('site-a', 'pc'), status('pc', 'site-a', 'online'), { qos: 1 });
    await waitFor(() => ingest.counters.received > received, 10_000, { what: 'pc’s own status at ingest' });
    expect(alerts()).toBe(alertsBefore);
    expect(pa.connected).toBe(true);
  });
});

describe('[security] behind Mosquitto, ingest refuses a record its topic or shelf contradicts', () => {
  let mosq: TestBroker;
  let central: Central;
  const dir = mkdtempSync(join(tmpdir(), 'identity-mosq-'));
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    mosq = await startMosquitto();
    central = new Central({
      config: config(dir, { parts: { broker: false }, externalBroker: { url: mosq.url } }),
      logger: pino({ level: 'silent' }),
    });
    await central.start();
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await central?.stop();
    await mosq?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('[body identity] forged levels and statuses are counted as forged; another site’s agent keeps its own mark', async () => {
    const c = await mqtt.connectAsync(mosq.url, { reconnectPeriod: 0 });
    clients.push(c);
    const ingest = central.ingest!;
    const store = central.store!;
    const marks: number[] = [];
    c.on('message', (_t, p) => marks.push((JSON.parse(p.toString()) as { seq: number }).seq));
    await c.subscribeAsync(topics.stored('site-b', 'pb'), { qos: 1 });

    for (let seq = 1; seq <= 10; seq++)
      await c.publishAsync(topics.level('site-b', 'b1', 'l1'), level('pb', 'SB1', seq), { qos: 1 });
    await waitFor(() => marks.includes(10), 10_000, { what: 'pb’s stored mark at 10' });

    // On shelf a1, which the map gives to pa, a body naming pb is forged.
    await c.publishAsync(topics.level('site-a', 'a1', 'l1'), level('pb', 'SA1', 50), { qos: 1 });
    // On a shelf the map does not know, it is pb-at-site-a: a record of its own, not site-b's pb.
    await c.publishAsync(topics.level('site-a', 'new-shelf', 'l1'), level('pb', 'SNEW', 50), { qos: 1 });
    // A status naming pa on pc's topic is forged.
    await c.publishAsync(topics.status('site-a', 'pc'), status('pa', 'site-a', 'offline'), { qos: 1 });
    await waitFor(() => ingest.counters.forged === 2, 10_000, { what: 'two forged records counted' });
    await waitFor(
      () => store.readings.mark('site-a', 'pb') === 0 && ingest.counters.committed === 11,
      10_000,
      {
        what: 'the unmapped shelf’s record committed',
      },
    );
    expect(store.readings.mark('site-b', 'pb')).toBe(10);
    expect(Math.max(...marks)).toBe(10);
    expect(store.db.prepare(`SELECT COUNT(*) FROM readings WHERE shelf = 'a1'`).pluck().get()).toBe(0);
  });
});
