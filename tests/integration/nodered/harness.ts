/**
 * The central parts Node-RED is wired to, for real: the Shelfsense MQTT broker (aedes with its ACLs)
 * sharing an HTTP server with Node-RED, central's service identity, ingest committing to a SQLite
 * store in a temp dir, an OrderService that publishes its events on central's connection (as
 * Central does), a user store with an admin and a supplier, and an "ERP" HTTP receiver that records
 * what flows send it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttBroker } from '@shelfsense/broker';
import { type HttpMount, MqttBus } from '@shelfsense/central';
import { OrderService } from '@shelfsense/central/orders';
import { Store } from '@shelfsense/central/store';
import {
  announce,
  ensureServiceIdentity,
  Ingest,
  type MountedNodeRed,
  mountNodeRed,
} from '@shelfsense/central/testing';
import {
  CentralConfig,
  type Grant,
  type LevelPayload,
  type NodeRedConfig,
  ShelfMap,
  topics,
} from '@shelfsense/protocol';
import mqtt, { type MqttClient } from 'mqtt';
import { type Logger, pino } from 'pino';
import { ErpTap, type Received } from './erp.js';

export type { Received };

export const PASSWORD = 'correct horse battery';

export const CONFIG_INPUT = {
  suppliers: [{ id: 'acme' }],
  skus: [{ id: 'cola', unitWeightG: 350, supplier: 'acme' }],
  sites: [
    {
      id: 's1',
      shelves: [
        {
          id: 'shelf-1',
          serial: 'SN1',
          agent: 'agent-1',
          lanes: [
            { id: 'lane-a', channels: [0], sku: 'cola', capacity: 20 },
            { id: 'lane-b', channels: [1], sku: 'cola', capacity: 20 },
          ],
        },
      ],
    },
  ],
  mqtt: { host: '127.0.0.1', port: 0 },
  auth: { scrypt: { cost: 1024 } },
};

export const USERS: Record<string, Grant> = {
  ada: { role: 'admin' },
  sam: { role: 'supplier', supplier: 'acme' },
  'agent-1': { role: 'agent', site: 's1', agent: 'agent-1' },
};

export interface Harness {
  dir: string;
  base: string;
  port: number;
  server: Server;
  broker: MqttBroker;
  store: Store;
  orders: OrderService;
  ingest: Ingest;
  red: MountedNodeRed;
  /** What flows sent to the ERP receiver. */
  erp: Received[];
  erpUrl: string;
  agent: MqttClient;
  map: ShelfMap;
  log: Logger;
  nodeRed: NodeRedConfig;
  /** The server's upgrade listeners before Node-RED was mounted (the broker's /mqtt one). */
  upgradeListenersBefore: number;
  publishLevel(lane: string, units: number, seq: number): Promise<void>;
  close(): Promise<void>;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return (server.address() as AddressInfo).port;
}

/** `flows(erpUrl)` returns the flows.json nodes written into userDir before Node-RED starts. */
export async function startHarness(
  flows: (erpUrl: string) => unknown[],
  nodeRed: Partial<NodeRedConfig> = {},
): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-nodered-'));
  const config = CentralConfig.parse({ ...CONFIG_INPUT, dataDir: dir });
  const log = pino({ level: process.env.SHELFSENSE_TEST_LOG ?? 'silent' });
  const map = new ShelfMap(config);

  const tap = new ErpTap();
  await tap.start();
  const erp = tap.hits;
  const erpUrl = tap.url;

  const mounts: HttpMount[] = [];
  const server = createServer(async (req, res) => {
    for (const m of mounts) if (await m(req, res)) return;
    res.writeHead(404).end();
  });
  const port = await listen(server);

  const broker = new MqttBroker({ config, dataDir: dir, httpServer: server, logger: log, map });
  await broker.start();
  for (const [name, grant] of Object.entries(USERS)) await broker.users.add(name, grant, PASSWORD);
  const creds = await ensureServiceIdentity(broker.users, dir);
  const url = `mqtt://127.0.0.1:${broker.ports.tcp}`;

  const store = Store.open({ file: join(dir, 'central.db') });
  // Central's bus, as the central process has it: in process with the embedded broker.
  const bus = new MqttBus(log);
  bus.attachBroker(broker.aedes);
  await bus.connect({ url, ...creds, clientId: 'central-test' });
  const ingest = new Ingest({
    bus,
    store,
    rules: null,
    batchSize: 100,
    flushMs: 5,
    log,
  });
  await ingest.start();
  // As the orders part does: each committed order event goes out on the bus.
  const orders = new OrderService(store, {
    logger: log,
    onEvent: (e) => announce(bus, topics.order(e.site, e.shelf, e.lane), e, log),
  });

  const userDir = join(dir, 'node-red');
  mkdirSync(userDir, { recursive: true });
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(flows(erpUrl), null, 2));
  const nodeRedConfig: NodeRedConfig = {
    enabled: true,
    path: '/flows',
    flowFile: 'flows.json',
    sessionTtlMs: 3_600_000,
    allowPaletteInstall: false,
    ...nodeRed,
  };
  const upgradeListenersBefore = server.listenerCount('upgrade');
  const red = await mountNodeRed(
    server,
    { map, orders, ingest, bus, users: broker.users, dataDir: dir, log, config },
    nodeRedConfig,
  );
  if (!red) throw new Error('node-red is switched off');
  mounts.push(red.mount);

  const agent = await mqtt.connectAsync(url, {
    clientId: 'agent-1',
    username: 'agent-1',
    password: PASSWORD,
    reconnectPeriod: 0,
  });

  return {
    dir,
    base: `http://127.0.0.1:${port}`,
    port,
    server,
    broker,
    store,
    orders,
    ingest,
    red,
    erp,
    erpUrl,
    agent,
    map,
    log,
    nodeRed: nodeRedConfig,
    upgradeListenersBefore,
    async publishLevel(lane, units, seq) {
      const p: LevelPayload = {
        agent: 'agent-1',
        serial: 'SN1',
        sku: 'cola',
        units,
        grams: units * 350,
        fill: units / 20,
        stable: true,
        confidence: 0.98,
        state: 'ok',
        ts: Date.now(),
        seq,
        frameSeq: seq,
      };
      await agent.publishAsync(topics.level('s1', 'shelf-1', lane), JSON.stringify(p), {
        qos: 1,
        retain: true,
      });
    },
    async close() {
      await agent.endAsync();
      await red.stop();
      await ingest.stop();
      await bus.close();
      store.close();
      await broker.stop();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      await tap.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Logs in through Node-RED's own token endpoint, as the editor's login form does. */
export async function editorLogin(base: string, username: string, password: string): Promise<Response> {
  return fetch(`${base}/flows/auth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_id: 'node-red-editor',
      grant_type: 'password',
      scope: '*',
      username,
      password,
    }),
  });
}
