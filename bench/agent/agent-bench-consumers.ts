/**
 * The two consumers the agent benchmark feeds with the same frames, each a child process whose
 * pid is measured: the compiled Shelfsense agent (its shelves over TCP, or on serial ports), and
 * Node-RED 5 with a core tcp in → mqtt out flow (bench/nodered/run.mjs). Also the factory
 * calibration of the simulated shelves.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSimulator } from '@shelfsense/firmware-sim';
import { topics } from '@shelfsense/protocol';
import mqtt from 'mqtt';
import { alive, type Child, launch, ROOT, until } from './agent-bench-procs.js';

export interface ShelfSetup {
  seed: number;
  shelves: number;
  channels: number;
}

export interface ShelfCalibration {
  serial: string;
  shelf: string;
  lanes: { lane: string; channels: number[]; sku: string; unitWeightG: number; capacity: number }[];
  calibration: { channel: number; offset: number; scale: number }[];
}

/**
 * The factory calibration each simulated shelf ships with (as tests/helpers/agent.ts gives it), so
 * the agent really counts: the same seed builds the same shelves in the simulator's own process.
 */
export async function factoryShelves(setup: ShelfSetup): Promise<ShelfCalibration[]> {
  const sim = await startSimulator({
    seed: setup.seed,
    shelves: setup.shelves,
    lanes: setup.channels,
    scenario: 'steady',
    transport: 'none',
    control: false,
    autoStart: false,
    logLevel: 'silent',
  });
  try {
    return sim.shelves.map((s) => ({
      serial: s.serial,
      shelf: s.serial,
      lanes: s.lanes.map((l) => ({
        lane: `L${l.lane}`,
        channels: l.channels,
        sku: `sku-${s.serial}-${l.lane}`,
        unitWeightG: l.unitWeightG,
        capacity: l.capacity,
      })),
      calibration: sim.truth(s.serial, 0).cells.map((c, channel) => ({
        channel,
        offset: c.offset + c.trayG * c.scale,
        scale: c.scale,
      })),
    }));
  } finally {
    await sim.stop();
  }
}

// ---- the two consumers --------------------------------------------------------------------------

export interface Expected {
  frames: number;
  lines: number;
}

export interface Consumer {
  child: Child;
  /** Started, connected to the broker. */
  ready(): Promise<void>;
  /** True once everything the simulator sent has been taken in and passed on. */
  caughtUp(e: Expected): Promise<boolean>;
  /** What it did, for the notes under the table. */
  report(): Promise<string>;
  close(): Promise<void>;
}

/**
 * The agent as deploy/shelfsense-agent.service runs it: the node flags and the script of its
 * ExecStart, the script taken from this checkout's agent/ instead of /opt/shelfsense.
 */
export function deployedAgent(): { nodeFlags: string[]; script: string } {
  const unit = readFileSync(join(ROOT, 'deploy/shelfsense-agent.service'), 'utf8');
  const m = /^ExecStart=\S+((?: --[\w-]+(?:=\S+)?)*) \S+\/@shelfsense\/agent\/(\S+) --config /m.exec(unit);
  if (!m) throw new Error('deploy/shelfsense-agent.service: no ExecStart running @shelfsense/agent');
  return { nodeFlags: m[1]!.trim().split(/\s+/).filter(Boolean), script: join(ROOT, 'agent', m[2]!) };
}

/**
 * The compiled agent as deployed (deployedAgent(), or `nodeFlags` before the script; no metrics
 * endpoint, as in deploy/agent.example.yaml), watched through its own `identify` command over
 * MQTT: frames taken per source, outbox depth, records published.
 */
export async function startAgent(
  dir: string,
  brokerPort: number,
  sources: ({ url: string } | { path: string })[],
  shelves: ShelfCalibration[],
  nodeFlags: string[] = [],
) {
  const stateDir = join(dir, 'agent-state');
  mkdirSync(stateDir);
  const site = 'bench';
  const agent = 'bench-agent';
  const config = {
    agent: { id: agent, site },
    sources,
    broker: { url: `mqtt://127.0.0.1:${brokerPort}`, reconnectMs: 100 },
    stateDir,
    delivery: { trimOn: 'broker' },
    reconnect: { minMs: 50, maxMs: 200 },
    shelves,
    log: { level: 'warn' },
  };
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2)); // JSON is YAML
  const deployed = deployedAgent();
  const child = launch(process.execPath, [
    ...(nodeFlags.length ? nodeFlags : deployed.nodeFlags),
    deployed.script,
    '--config',
    file,
  ]);
  const tech = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { reconnectPeriod: 0 });
  const replies = new Map<string, (data: Identified) => void>();
  tech.on('message', (_t, payload) => {
    const r = JSON.parse(payload.toString()) as { transaction: string; status: string; data: Identified };
    if (r.status === 'ok') replies.get(r.transaction)?.(r.data);
  });
  await tech.subscribeAsync(topics.response(site, agent, 'identify'), { qos: 1 });
  let asked = 0;
  const identify = async (): Promise<Identified> => {
    const transaction = `bench-${++asked}`;
    const reply = new Promise<Identified>((resolve, reject) => {
      const t = setTimeout(() => {
        replies.delete(transaction);
        reject(new Error('the agent did not answer identify within 10 s'));
      }, 10_000);
      replies.set(transaction, (d) => {
        clearTimeout(t);
        replies.delete(transaction);
        resolve(d);
      });
    });
    await tech.publishAsync(
      topics.request(site, agent, 'identify'),
      JSON.stringify({ transaction, args: {} }),
      {
        qos: 1,
      },
    );
    return reply;
  };
  const counts = async () => {
    const d = await identify();
    const sum = (f: (s: Identified['sources'][number]) => number) => d.sources.reduce((n, s) => n + f(s), 0);
    return {
      frames: sum((s) => s.frames),
      rejects: sum((s) => Object.values(s.rejects).reduce((a, b) => a + b, 0)),
      depth: d.outbox?.queued ?? 0,
      published: d.publisher?.published ?? 0,
    };
  };
  const consumer: Consumer = {
    child,
    async ready() {
      await until('agent ready', 20_000, () => {
        alive(child);
        return child.lines.some((l) => (l.v as { ready?: boolean })?.ready === true) || undefined;
      });
      // Answering identify means connected and subscribed to its commands.
      await until('agent broker connection', 20_000, async () => {
        alive(child);
        return (await identify().catch(() => null))?.publisher?.connected || undefined;
      });
    },
    async caughtUp(e) {
      const m = await counts();
      return m.frames >= e.frames && m.depth === 0;
    },
    async report() {
      const m = await counts();
      return `agent: ${m.frames} frames accepted, ${m.rejects} samples/lines rejected, ${m.published} records published (QoS 1), outbox ${m.depth}`;
    },
    async close() {
      await tech.endAsync(true);
      await child.stop();
    },
  };
  return consumer;
}

/** The parts of the agent's identify reply the benchmark reads. */
interface Identified {
  sources: { frames: number; rejects: Record<string, number> }[];
  outbox?: { queued: number };
  publisher: { connected: boolean; published: number } | null;
}

export async function startNodeRed(
  dir: string,
  brokerPort: number,
  base: number,
  shelves: number,
  qos: '0' | '1',
) {
  const userDir = join(dir, 'node-red');
  mkdirSync(userDir);
  const ports = Array.from({ length: shelves }, (_, i) => base + i).join(',');
  const child = launch(
    process.execPath,
    [join(ROOT, 'bench/nodered/run.mjs'), '--user-dir', userDir, '--broker-port', String(brokerPort)].concat([
      '--ports',
      ports,
      '--qos',
      qos,
    ]),
    { SHELFSENSE_BENCH_RECONNECT_MS: '200' },
  );
  // The broker's own count of PUBLISH packets received: only Node-RED publishes to this broker.
  const sys = await mqtt.connectAsync(`mqtt://127.0.0.1:${brokerPort}`, { reconnectPeriod: 0 });
  let received = 0;
  sys.on('message', (_t, payload) => {
    received = Number(payload.toString());
  });
  await sys.subscribeAsync('$SYS/broker/publish/messages/received');
  const logged = (type: string | null, text: string) =>
    child.lines.some((l) => {
      const r = l.v as { type?: string | null; msg?: string };
      return r?.type === type && typeof r.msg === 'string' && r.msg.startsWith(text);
    });
  const consumer: Consumer = {
    child,
    async ready() {
      await until('Node-RED flows', 60_000, () => {
        alive(child);
        return logged(null, 'Started flows') || undefined;
      });
      await until(
        'Node-RED broker connection',
        20_000,
        () => logged('mqtt-broker', 'Connected') || undefined,
      );
    },
    // Every line becomes one message: the sample lines plus one ID line per connection.
    caughtUp: async (e) => received >= e.lines + shelves,
    report: async () => `Node-RED: ${received} messages published (QoS ${qos}), one per line`,
    async close() {
      await sys.endAsync(true);
      await child.stop();
    },
  };
  return consumer;
}
