/**
 * The parts the MQTT, command and HTTP fuzz tests aim at: an in-process Central (embedded aedes,
 * ingest, rules, SQLite, HTTP API on port 0) with a user of each role, a real Agent connected to it
 * whose shelf source is a TCP socket the test writes protocol lines into, and the valid payloads the
 * fuzzers start from.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Agent } from '@shelfsense/agent';
import { Central, serviceParts } from '@shelfsense/central';
import { AgentConfig, CentralConfig, encodeDeviceFrame, parseWith, topics } from '@shelfsense/protocol';
import fc from 'fast-check';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { waitFor } from './wait.js';

export const SITE = 'store-1';
export const SHELF = 'shelf-1';
export const SERIAL = 'SH-1';
export const AGENT_ID = 'pi-1';
export const LANES = ['L1', 'L2'];

export const FUZZ_USERS = [
  { name: 'admin', password: 'admin-password-1', grant: { role: 'admin' } },
  { name: 'acme', password: 'acme-password-1', grant: { role: 'supplier', supplier: 'acme' } },
  { name: 'other', password: 'other-password-1', grant: { role: 'supplier', supplier: 'other' } },
  { name: 'store', password: 'store-password-1', grant: { role: 'operator', sites: [SITE] } },
  { name: 'tech', password: 'tech-password-1', grant: { role: 'technician', sites: [SITE] } },
  { name: AGENT_ID, password: 'agent-password-1', grant: { role: 'agent', site: SITE, agent: AGENT_ID } },
] as const;

/** Counts the agent's log lines by message, so rejects show without reaching into the agent. */
export class LogCounter extends Writable {
  readonly byMsg = new Map<string, number>();
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      try {
        const msg = (JSON.parse(line) as { msg?: string }).msg ?? '';
        this.byMsg.set(msg, (this.byMsg.get(msg) ?? 0) + 1);
      } catch {
        // not a log line
      }
    }
    cb();
  }
  count(msg: string): number {
    return this.byMsg.get(msg) ?? 0;
  }
}

export interface FuzzWorld {
  central: Central;
  agent: Agent;
  agentLog: LogCounter;
  /** Writes protocol lines to the agent as its shelf. */
  shelfWrite(text: string): Promise<void>;
  /** A client connected as `user`. */
  client(user: string): Promise<MqttClient>;
  httpBase: string;
  stop(): Promise<void>;
}

/**
 * `agentBroker`: connect the agent to this broker instead of central's (a plain broker without
 * central's request checks, so fuzzed requests reach the agent itself).
 */
export async function startFuzzWorld(opts: { agentBroker?: string } = {}): Promise<FuzzWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'fuzz-world-'));
  const stops: (() => Promise<unknown> | unknown)[] = [() => rmSync(dir, { recursive: true, force: true })];
  const clients: MqttClient[] = [];
  try {
    const config = parseWith(
      CentralConfig,
      {
        dataDir: join(dir, 'central'),
        log: { level: 'silent' },
        suppliers: [{ id: 'acme' }, { id: 'other' }],
        skus: [
          { id: 'cola', unitWeightG: 350, supplier: 'acme' },
          { id: 'chips', unitWeightG: 120, supplier: 'other' },
        ],
        sites: [
          {
            id: SITE,
            shelves: [
              {
                id: SHELF,
                serial: SERIAL,
                agent: AGENT_ID,
                lanes: [
                  { id: 'L1', channels: [0], sku: 'cola', capacity: 24 },
                  { id: 'L2', channels: [1], sku: 'chips', capacity: 30 },
                ],
              },
            ],
          },
        ],
        http: { host: '127.0.0.1', port: 0 },
        mqtt: { host: '127.0.0.1', port: 0 },
        integrations: { nodeRed: { enabled: false } },
        replenishment: { defaults: { reorderPoint: 4, packSize: 2, debounceMs: 100 }, tickMs: 100 },
        commands: { timeoutMs: 2_000 },
      },
      'fuzz central config',
    );
    const central = new Central({ config, logger: pino({ level: 'silent' }), parts: serviceParts() });
    await central.start();
    stops.unshift(() => central.stop());
    const users = central.broker!.users;
    for (const u of FUZZ_USERS)
      await users.add(u.name, u.grant as Parameters<typeof users.add>[1], u.password);

    let shelf: Socket | null = null;
    const server: Server = createServer((s) => {
      shelf = s;
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    stops.unshift(
      () =>
        new Promise<void>((r) => {
          shelf?.destroy();
          server.close(() => r());
        }),
    );
    const agentLog = new LogCounter();
    const agentConfig = parseWith(
      AgentConfig,
      {
        agent: { id: AGENT_ID, site: SITE },
        sources: [{ url: `tcp://127.0.0.1:${(server.address() as { port: number }).port}` }],
        broker: opts.agentBroker
          ? { url: opts.agentBroker, reconnectMs: 100 }
          : {
              url: `mqtt://127.0.0.1:${central.mqttPort}`,
              username: AGENT_ID,
              password: FUZZ_USERS.find((u) => u.name === AGENT_ID)!.password,
              reconnectMs: 100,
            },
        ...(opts.agentBroker ? { delivery: { trimOn: 'broker' as const } } : {}),
        stateDir: join(dir, 'agent'),
        commands: { identifyRetryMs: 3_600_000, settleTimeoutMs: 300 },
        signal: { noDataMs: 600_000 },
      },
      'fuzz agent config',
    );
    const agent = new Agent({ ...agentConfig, defaultUnitWeightG: 100 }, pino({ level: 'info' }, agentLog));
    await agent.start();
    stops.unshift(() => agent.stop());
    await waitFor(() => shelf && agent.ready, 10_000, {
      what: 'the agent to reach its shelf and the broker',
    });
    const shelfWrite = (text: string) =>
      new Promise<void>((r) => (shelf as unknown as Socket).write(Buffer.from(text, 'latin1'), () => r()));
    // The shelf identifies itself and sends a few frames, so the agent has a shelf to command.
    await shelfWrite(
      encodeDeviceFrame({ type: 'identity', serial: SERIAL, firmware: 'fw-1', channels: 2, rate: 80 }) +
        [1, 2, 3]
          .map((seq) => encodeDeviceFrame({ type: 'sample', seq, deviceMs: seq * 12, raw: [1000, 2000] }))
          .join(''),
    );
    await waitFor(() => agent.shelves.has(SERIAL), 5_000, { what: 'the agent to identify its shelf' });

    const client = async (user: string) => {
      const u = FUZZ_USERS.find((x) => x.name === user)!;
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${central.mqttPort}`, {
        username: u.name,
        password: u.password,
        reconnectPeriod: 0,
        protocolVersion: 4,
      });
      clients.push(c);
      return c;
    };
    stops.unshift(() => Promise.all(clients.map((c) => c.endAsync(true))));
    return {
      central,
      agent,
      agentLog,
      shelfWrite,
      client,
      httpBase: `http://127.0.0.1:${central.httpPort}`,
      async stop() {
        for (const s of stops.splice(0)) await Promise.resolve(s()).catch(() => undefined);
      },
    };
  } catch (err) {
    for (const s of stops.splice(0)) await Promise.resolve(s()).catch(() => undefined);
    throw err;
  }
}

// --- valid payloads the fuzzers mutate ------------------------------------------------------------

const id = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/);
const ts = fc.integer({ min: 1_700_000_000_000, max: 1_800_000_000_000 });
const seq = fc.integer({ min: 1, max: 1_000_000 });
const frameSeq = fc.integer({ min: 0, max: 4_294_967_295 });

export const validLevel = fc.record({
  agent: fc.constant(AGENT_ID),
  serial: fc.constant(SERIAL),
  sku: fc.constantFrom('cola', null),
  units: fc.integer({ min: 0, max: 40 }),
  grams: fc.double({ min: -1e6, max: 1e6, noNaN: true }),
  fill: fc.option(fc.double({ min: 0, max: 2, noNaN: true })),
  stable: fc.boolean(),
  confidence: fc.double({ min: 0, max: 1, noNaN: true }),
  state: fc.constantFrom('ok', 'unstable', 'anomalous', 'fault', 'offline'),
  ts,
  seq,
  frameSeq,
});

export const validEvent = fc.record({
  agent: fc.constant(AGENT_ID),
  serial: fc.constant(SERIAL),
  sku: fc.constantFrom('cola', null),
  kind: fc.constantFrom('pick', 'restock', 'adjust'),
  delta: fc.integer({ min: -40, max: 40 }),
  units: fc.integer({ min: 0, max: 40 }),
  ts,
  seq,
  frameSeq,
});

export const validCalibration = fc.record({
  agent: fc.constant(AGENT_ID),
  serial: fc.constant(SERIAL),
  shelf: fc.constant(SHELF),
  lane: fc.constant('L1'),
  kind: fc.constantFrom('tare', 'calibrate', 'learn-unit'),
  by: fc.option(fc.record({ user: fc.constant('tech'), role: fc.constant('technician') })),
  channels: fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 3 }),
  referenceG: fc.option(fc.double({ min: 0, max: 1e5, noNaN: true })),
  items: fc.option(fc.integer({ min: 1, max: 100 })),
  before: fc.dictionary(id, fc.jsonValue({ maxDepth: 2 })),
  after: fc.dictionary(id, fc.jsonValue({ maxDepth: 2 })),
  residualG: fc.option(fc.double({ min: -100, max: 100, noNaN: true })),
  correctionG: fc.option(fc.double({ min: -100, max: 100, noNaN: true })),
  ts,
  seq,
});

const healthStatus = fc.constantFrom('ok', 'noisy', 'drifting', 'saturated', 'disconnected', 'no_data');
export const validHealth = fc.record({
  agent: fc.constant(AGENT_ID),
  serial: fc.constant(SERIAL),
  status: healthStatus,
  channels: fc.array(
    fc.record({
      channel: fc.integer({ min: 0, max: 7 }),
      status: healthStatus,
      noiseG: fc.double({ min: 0, max: 100, noNaN: true }),
      driftG: fc.double({ min: -100, max: 100, noNaN: true }),
    }),
    { maxLength: 3 },
  ),
  rejects: fc.dictionary(id, fc.nat()),
  ts,
});

export const validStatus = fc.record({
  agent: fc.constant(AGENT_ID),
  site: fc.constant(SITE),
  state: fc.constantFrom('online', 'offline'),
  version: fc.constant('0.1.0'),
  shelves: fc.constant([SERIAL]),
  ts,
});

export const validLaneSettings = fc.record({
  agent: fc.constant(AGENT_ID),
  revision: fc.nat({ max: 1_000 }),
  shelves: fc.constant([
    {
      shelf: SHELF,
      serial: SERIAL,
      lanes: [
        { lane: 'L1', channels: [0], sku: 'cola', unitWeightG: 350, capacity: 24 },
        { lane: 'L2', channels: [1], sku: 'chips', unitWeightG: 120, capacity: 30 },
      ],
    },
  ]),
});

export const validStoredMark = fc.record({ agent: fc.constant(AGENT_ID), seq: fc.nat({ max: 5 }), ts });

export const laneTopic = (kind: 'level' | 'event' | 'calibration', lane = 'L1', shelf = SHELF) =>
  topics.lane(SITE, shelf, lane, kind);
