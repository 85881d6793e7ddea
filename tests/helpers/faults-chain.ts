/**
 * The whole chain for fault injection, built from real parts: seeded simulator on a pty → agent
 * (in this process, or as its own `shelfsense agent` child so it can be `kill -9`-ed) → optionally
 * a TCP proxy → central's embedded aedes in the compiled central child → ingest, rules, SQLite →
 * a real HTTP webhook receiver. One chain per test file; cases run one after another on it.
 *
 *   const chain = await startChain({ name: 'net', seed: 3, lanes, proxy: true });
 *   await chain.control({ action: 'remove', lane: 0, count: 5 });
 *   chain.figures(fromSeq) …; await chain.stop();
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, createLogger, Outbox } from '@shelfsense/agent';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import type { AgentConfigInput } from '@shelfsense/protocol';
import { agentConfig, simControl } from './agent.js';
import { addUser, type CentralProcess, startCentral } from './central.js';
import {
  type FaultRow,
  MODE,
  orderFigures,
  readingFigures,
  report,
  scale,
  storedSeqs,
  trueNeeds,
} from './faults-figures.js';
import { FaultyWebhook } from './faults-webhook.js';
import { type CliProcess, killAll, shelfsense } from './proc.js';
import { TcpProxy } from './tcp-proxy.js';
import { waitFor } from './wait.js';

export const SERIAL = 'SHELF-F';
const SECRET = 'fault-webhook-secret-0123456789';
export const REORDER_POINT = 4;
export const DEBOUNCE_MS = 1_500;

export interface LaneSpec {
  unitWeightG: number;
  items: number;
  capacity: number;
}

export interface ChainOptions {
  name: string;
  seed: number;
  lanes: LaneSpec[];
  /** Scenario events (device time), e.g. steady picking. */
  events?: Record<string, unknown>[];
  /** Run the agent as a `shelfsense agent` child process (default: in this process). */
  child?: boolean;
  /** Put a TCP proxy between the agent and the broker. */
  proxy?: boolean;
  agent?: Partial<AgentConfigInput>;
  /** Overrides of central's `replenishment.webhooks`. */
  webhooks?: Record<string, unknown>;
}

export interface Order {
  id: string;
  lane: string;
  state: string;
}

export interface Chain {
  readonly dir: string;
  readonly sim: Simulator;
  readonly central: CentralProcess;
  readonly hooks: FaultyWebhook;
  readonly proxy: TcpProxy | null;
  /** The in-process agent (null when it runs as a child). */
  readonly agent: Agent | null;
  /** The agent child process (null when in process). */
  readonly agentProc: CliProcess | null;
  readonly stateDir: string;
  readonly dbFile: string;
  control(action: Record<string, unknown>): Promise<{ appliesFromSeq: number }>;
  orders(): Promise<Order[]>;
  lane(id: string): Promise<{ units: number; status: string }>;
  deadLetters(): Promise<unknown[]>;
  /** A technician command through central's HTTP API (as admin); resolves with the HTTP answer. */
  command(name: string, args: Record<string, unknown>): Promise<Response>;
  /** An order transition through the HTTP API, as admin (`acknowledge`, `ship`); the HTTP status. */
  orderAction(id: string, action: string): Promise<number>;
  /** Logs in again (after central restarted). */
  relogin(): Promise<void>;
  /** Child agent only. */
  killAgent(): Promise<void>;
  startAgent(): Promise<void>;
  /** Child agent: connected to the broker and reading its shelf. */
  agentReady(): Promise<void>;
  /** The agent's last accepted sequence number and dropped count (child: read from its metrics). */
  agentSeq(): Promise<{ lastSeq: number; trimmedThrough: number; queued: number; dropped: number }>;
  /** Records waiting in the agent's outbox (child: from its metrics, so central may be down). */
  queued(): Promise<number>;
  /** Waits until central's mark covers everything the agent had accepted; returns the ms it took. */
  waitCaughtUp(since: number, timeoutMs?: number): Promise<number>;
  /** Scores the case against the ground truth, appends it to the report, and returns the row. */
  score(
    name: string,
    fromSeq: number,
    recoveryMs: number | null,
    notes?: FaultRow['notes'],
  ): Promise<FaultRow>;
  stop(): Promise<void>;
}

/** Takes one item from `lane` (by index) every 0.7 s (1.5 s in full mode) for `ms`; returns the picks. */
export async function picksFor(chain: Chain, lane: number, ms: number): Promise<number> {
  const end = Date.now() + ms;
  let picks = 0;
  while (Date.now() < end) {
    await chain.control({ action: 'remove', lane, count: 1 });
    picks++;
    await new Promise((r) => setTimeout(r, scale(700, 1_500)));
  }
  return picks;
}

/** Starts the chain and returns once central shows L1 at its starting count. */
export async function startChain(o: ChainOptions): Promise<Chain> {
  const dir = mkdtempSync(join(tmpdir(), `faults-${o.name}-`));
  const dataDir = join(dir, 'central');
  const hooks = new FaultyWebhook();
  await hooks.start();
  addUser(dataDir, 'pi-1', ['--role', 'agent', '--site', 'store-1'], 'agent-password-1');
  addUser(dataDir, 'admin', ['--role', 'admin'], 'admin-password-1');
  const sim = await startSimulator({
    seed: o.seed,
    transport: 'pty',
    scenario: { shelves: [{ serial: SERIAL, lanes: o.lanes }], events: o.events ?? [] },
  });
  const lanes = o.lanes.map((l, i) => ({
    id: `L${i}`,
    channels: [i],
    sku: `sku-${i}`,
    capacity: l.capacity,
  }));
  const central = await startCentral(
    {
      dataDir,
      log: { level: 'error' },
      http: { host: '127.0.0.1', port: 0 },
      mqtt: { host: '127.0.0.1', port: 0 },
      suppliers: [{ id: 'acme' }],
      skus: o.lanes.map((l, i) => ({ id: `sku-${i}`, unitWeightG: l.unitWeightG, supplier: 'acme' })),
      sites: [{ id: 'store-1', shelves: [{ id: 'shelf-1', serial: SERIAL, agent: 'pi-1', lanes }] }],
      timing: { offlineAfterMs: 600_000 },
      replenishment: {
        defaults: { reorderPoint: REORDER_POINT, debounceMs: DEBOUNCE_MS, hysteresis: 1 },
        tickMs: 500,
        webhooks: {
          suppliers: [{ supplier: 'acme', url: hooks.url, secret: SECRET }],
          retry: { baseMs: 200, maxMs: 1_000, maxAttempts: 200 },
          pollMs: 200,
          ...(o.webhooks ?? {}),
        },
      },
    },
    dir,
  );
  let proxy: TcpProxy | null = null;
  let brokerPort = central.mqtt;
  if (o.proxy) {
    proxy = new TcpProxy('127.0.0.1', central.mqtt);
    brokerPort = await proxy.start();
  }
  const url = `mqtt://127.0.0.1:${brokerPort}`;
  const cfg = agentConfig(sim, url, {
    broker: { url, username: 'pi-1', password: 'agent-password-1', reconnectMs: 200, keepaliveS: 2 },
    delivery: { trimOn: 'central', redeliverMs: 1_500 },
    reconnect: { minMs: 50, maxMs: 500 },
    shelves: [
      {
        serial: SERIAL,
        calibration: sim
          .truth(SERIAL, 0)
          .cells.map((c, channel) => ({ channel, offset: c.offset + c.trayG * c.scale, scale: c.scale })),
      },
    ],
    ...(o.child ? { metrics: { port: 0 }, log: { level: 'error' } } : {}),
    ...o.agent,
  });
  const stateDir = cfg.stateDir;
  mkdirSync(join(stateDir, 'calibration'), { recursive: true });
  let agent: Agent | null = null;
  let agentProc: CliProcess | null = null;
  let metricsPort = 0;
  const configFile = join(dir, 'agent.json');
  const { defaultUnitWeightG: _u, ...plain } = cfg;
  writeFileSync(configFile, JSON.stringify(plain));
  const startAgent = async () => {
    if (o.child) {
      agentProc = shelfsense(['agent', '--config', configFile]);
      const ready = await agentProc.waitForJson<{ ready: boolean; metricsPort: number }>(
        (x) => x.ready === true,
        20_000,
      );
      metricsPort = ready.metricsPort;
    } else {
      agent = new Agent(cfg, createLogger('silent'));
      await agent.start();
    }
  };
  await startAgent();

  let admin = await central.login('admin', 'admin-password-1');
  const dbFile = join(dataDir, 'central.db');

  const metric = async (name: string): Promise<number> => {
    const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
    if (!m) throw new Error(`no metric ${name}`);
    return Number(m[1]);
  };

  const chain: Chain = {
    dir,
    sim,
    central,
    hooks,
    proxy,
    get agent() {
      return agent;
    },
    get agentProc() {
      return agentProc;
    },
    stateDir,
    dbFile,
    async control(action) {
      return simControl(sim, SERIAL, action);
    },
    async orders() {
      const r = await central.api('/api/orders', admin);
      if (r.status !== 200) throw new Error(`orders: ${r.status}`);
      return (await r.json()) as Order[];
    },
    async lane(id) {
      return (await (await central.api(`/api/lanes/store-1/shelf-1/${id}`, admin)).json()) as {
        units: number;
        status: string;
      };
    },
    async deadLetters() {
      const r = await central.api('/api/webhooks/dead', admin);
      if (r.status !== 200) throw new Error(`dead letters: ${r.status}`);
      return (await r.json()) as unknown[];
    },
    command(name, args) {
      return central.api(`/api/agents/store-1/pi-1/commands/${name}`, admin, {
        method: 'POST',
        body: JSON.stringify({ args }),
      });
    },
    async orderAction(id, action) {
      const r = await central.api(`/api/orders/${id}/${action}`, admin, { method: 'POST', body: '{}' });
      return r.status;
    },
    async relogin() {
      admin = await central.login('admin', 'admin-password-1');
    },
    async killAgent() {
      await agentProc?.kill('SIGKILL');
    },
    startAgent,
    async agentReady() {
      await waitFor(
        async () =>
          (await metric('shelfsense_agent_broker_connected')) === 1 &&
          (await metric('shelfsense_agent_frames_total')) > 80,
        20_000,
        { intervalMs: 50, what: 'the agent connected and reading its shelf' },
      );
    },
    async agentSeq() {
      if (agent) {
        const s = agent.outboxStats;
        if (!s) throw new Error('agent not started');
        const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
        return { lastSeq: s.lastSeq, trimmedThrough: s.trimmedThrough, queued: s.queued, dropped };
      }
      if (agentProc && agentProc.child.exitCode === null && agentProc.child.signalCode === null) {
        // A running child says what its outbox holds when asked to identify itself.
        const r = await chain.command('identify', {});
        const body = (await r.json()) as {
          status: string;
          data?: {
            outbox?: {
              lastSeq: number;
              trimmedThrough: number;
              queued: number;
              dropped: Record<string, number>;
            };
          };
        };
        const s = body.data?.outbox;
        if (body.status !== 'ok' || !s) throw new Error(`identify: ${JSON.stringify(body)}`);
        const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
        return { lastSeq: s.lastSeq, trimmedThrough: s.trimmedThrough, queued: s.queued, dropped };
      }
      // A stopped child: open its outbox and read it.
      const box = await Outbox.open(join(stateDir, 'outbox'), {});
      try {
        const s = box.stats();
        return { lastSeq: s.lastSeq, trimmedThrough: s.trimmedThrough, queued: s.queued, dropped: 0 };
      } finally {
        await box.close();
      }
    },
    async queued() {
      if (agent) return agent.outboxStats?.queued ?? 0;
      return metric('shelfsense_agent_outbox_depth');
    },
    async waitCaughtUp(since, timeoutMs = 60_000) {
      const target = (await chain.agentSeq()).lastSeq;
      await waitFor(async () => (await chain.agentSeq()).trimmedThrough >= target, timeoutMs, {
        intervalMs: 20,
        what: `central to confirm every reading through ${target}`,
      });
      return Date.now() - since;
    },
    async score(name, fromSeq, recoveryMs, notes) {
      const seq = await chain.agentSeq();
      const r = readingFigures(storedSeqs(dbFile), fromSeq, seq.lastSeq, seq.dropped);
      const needs = trueNeeds(sim, SERIAL, { reorderPoint: REORDER_POINT, debounceMs: () => DEBOUNCE_MS });
      const orders = (await chain.orders()).filter((x) => x.state !== 'cancelled');
      const of = orderFigures(needs, orders, hooks.processed());
      const row: FaultRow = {
        case: name,
        mode: MODE,
        readingsAccepted: r.accepted,
        readingsLost: r.lost,
        ...of,
        recoveryMs,
        ...(notes ? { notes } : {}),
      };
      report(row);
      return row;
    },
    async stop() {
      await agent?.stop();
      await killAll();
      await proxy?.stop();
      await sim.stop();
      await hooks.stop();
    },
  };
  // Settled: central shows L1's starting count (the lane every case watches first).
  const l1 = o.lanes[1]?.items;
  if (l1 !== undefined) {
    try {
      await waitFor(async () => (await chain.lane('L1')).units === l1, 30_000, {
        what: 'first levels at central',
      });
    } catch (err) {
      await chain.stop();
      throw err;
    }
  }
  return chain;
}
