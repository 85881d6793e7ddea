/**
 * A Shelfsense broker on ephemeral ports with a small shelf map and a set of users, and real
 * mqtt.js clients that record what they receive.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MqttBroker, type MqttBrokerOptions, UserStore } from '@shelfsense/broker';
import { CentralConfig, type CentralConfigInput, type Grant } from '@shelfsense/protocol';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino } from 'pino';

/**
 * Sites A and B each have one shelf with two lanes: l1 holds a SKU of supplier X, l2 one of
 * supplier Y. Agent agent-a serves shelf a1 at A; agent-b serves b1 at B.
 */
export function mapConfig(): CentralConfigInput {
  return {
    suppliers: [{ id: 'X' }, { id: 'Y' }],
    skus: [
      { id: 'x-cola', unitWeightG: 350, supplier: 'X' },
      { id: 'y-chips', unitWeightG: 120, supplier: 'Y' },
    ],
    sites: [
      {
        id: 'A',
        shelves: [
          {
            id: 'a1',
            serial: 'SA1',
            agent: 'agent-a',
            lanes: [
              { id: 'l1', channels: [0], sku: 'x-cola', capacity: 20 },
              { id: 'l2', channels: [1], sku: 'y-chips' },
            ],
          },
        ],
      },
      {
        id: 'B',
        shelves: [
          {
            id: 'b1',
            serial: 'SB1',
            agent: 'agent-b',
            lanes: [
              { id: 'l1', channels: [0], sku: 'x-cola' },
              { id: 'l2', channels: [1], sku: 'y-chips' },
            ],
          },
        ],
      },
    ],
  };
}

export const PASSWORD = 'correct horse battery';

export const USERS: Record<string, Grant> = {
  'agent-a': { role: 'agent', site: 'A', agent: 'agent-a' },
  'agent-b': { role: 'agent', site: 'B', agent: 'agent-b' },
  'sup-x': { role: 'supplier', supplier: 'X' },
  'sup-y': { role: 'supplier', supplier: 'Y' },
  'op-a': { role: 'operator', sites: ['A'] },
  'tech-a': { role: 'technician', sites: ['A'] },
  admin: { role: 'admin' },
  svc: { role: 'service' },
};

export interface TestBroker {
  broker: MqttBroker;
  dir: string;
  url: string;
  /** ws:// URL of `/mqtt` on a shared HTTP server. */
  wsUrl: string;
  http: HttpServer;
  close(): Promise<void>;
}

export function buildConfig(dir: string, overrides: Partial<CentralConfigInput> = {}): CentralConfig {
  const base = mapConfig();
  return CentralConfig.parse({
    ...base,
    dataDir: dir,
    ...overrides,
    mqtt: { host: '127.0.0.1', port: 0, ...(overrides.mqtt ?? {}) },
    // The cheapest scrypt the schema allows: the tests are about access, not hashing cost.
    auth: { scrypt: { cost: 1024 }, ...(overrides.auth ?? {}) },
  });
}

export async function startBroker(
  overrides: Partial<CentralConfigInput> = {},
  extra: Partial<MqttBrokerOptions> = {},
): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'shelfsense-broker-'));
  const config = buildConfig(dir, overrides);
  const store = new UserStore(dir, { scrypt: config.auth.scrypt });
  for (const [name, grant] of Object.entries(USERS)) await store.add(name, grant, PASSWORD);
  store.close();
  const http = createServer((_req, res) => res.writeHead(404).end());
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
  const broker = new MqttBroker({
    config,
    httpServer: http,
    logger: pino({ level: 'silent' }),
    ...extra,
  });
  await broker.start();
  const httpPort = (http.address() as { port: number }).port;
  return {
    broker,
    dir,
    http,
    url: `mqtt://127.0.0.1:${broker.ports.tcp}`,
    wsUrl: `ws://127.0.0.1:${httpPort}/mqtt`,
    async close() {
      await broker.stop();
      await new Promise<void>((r) => http.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

export interface Recorded {
  client: MqttClient;
  messages: Received[];
  /** Resolves with the first message (past or future) matching `pred`. */
  waitFor(pred: (m: Received) => boolean, what: string, timeoutMs?: number): Promise<Received>;
  /** Resolves when the connection closes. */
  closed(timeoutMs?: number): Promise<void>;
  end(): Promise<void>;
}

/** Connects with mqtt.js (no reconnects); rejects with the CONNACK error. */
export async function connect(url: string, options: IClientOptions = {}): Promise<Recorded> {
  const client = mqtt.connect(url, {
    reconnectPeriod: 0,
    connectTimeout: 5_000,
    protocolVersion: 4,
    ...options,
  });
  const messages: Received[] = [];
  const waiters = new Set<{ pred: (m: Received) => boolean; resolve: (m: Received) => void }>();
  client.on('message', (topic, payload, packet) => {
    const m = { topic, payload: payload.toString('utf8'), retain: packet.retain };
    messages.push(m);
    for (const w of [...waiters]) {
      if (w.pred(m)) {
        waiters.delete(w);
        w.resolve(m);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
    client.once('close', () => reject(new Error('closed before CONNACK')));
  });
  return {
    client,
    messages,
    waitFor(pred, what, timeoutMs = 5_000) {
      const seen = messages.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const w = {
          pred,
          resolve: (m: Received) => {
            clearTimeout(timer);
            resolve(m);
          },
        };
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`timed out waiting for ${what}`));
        }, timeoutMs);
        waiters.add(w);
      });
    },
    closed(timeoutMs = 5_000) {
      if (!client.connected && client.disconnected) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('connection did not close')), timeoutMs);
        client.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
    end: () => client.endAsync(true),
  };
}

export const login = (user: string, password = PASSWORD): IClientOptions => ({ username: user, password });

/** Polls `cond` until true (bounded); for broker-side counters that have no event. */
export async function until(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** SUBACK granted codes for the given filters (128 = refused). */
export async function subscribeCodes(
  client: MqttClient,
  filters: string[],
  qos: 0 | 1 = 1,
): Promise<number[]> {
  try {
    const granted = await client.subscribeAsync(filters, { qos });
    return granted.map((g) => g.qos);
  } catch (err) {
    const packet = (err as { packet?: { granted?: number[] } }).packet;
    if (packet?.granted) return packet.granted;
    throw err;
  }
}
