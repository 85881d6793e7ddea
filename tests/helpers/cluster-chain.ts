/**
 * The cluster chain for end-to-end and fault tests, from real parts: a seeded simulated shelf
 * served over TCP → a real agent (in this process) that knows every NATS node → a 3-node NATS
 * cluster with the accounts `shelfsense cluster nats-auth --partitions` writes, its routes through
 * TCP proxies (cluster-nats.ts) so a node can be cut off → N `shelfsense cluster worker` child
 * processes → Postgres → a supplier's webhook endpoint that can fail (faults-webhook.ts).
 *
 *   const chain = await startClusterChain({ name: 'faults', seed: 5, lanes, events, workers: 2 });
 *   await chain.killWorker('w1'); await chain.nats.nodes[1]!.kill(); await chain.pg.restart();
 *   const row = await chain.score('case', fromSeq, recoveryMs); await chain.stop();
 *
 * Figures (cluster-figures.ts) are scored against the simulator's ground truth and Postgres.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, createLogger } from '@shelfsense/agent';
import { renderNatsAuth } from '@shelfsense/central/cluster';
import { PgStore } from '@shelfsense/central/pg';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { CentralConfig, type Grant, parseWith, ShelfMap } from '@shelfsense/protocol';
import bcrypt from 'bcryptjs';
import { agentConfig, simControl } from './agent.js';
import { type ClusterRow, clusterFigures, type OrderSnapshot, readSnapshot } from './cluster-figures.js';
import { type RoutedCluster, startRoutedCluster } from './cluster-nats.js';
import { MODE, report, trueNeeds } from './faults-figures.js';
import { FaultyWebhook } from './faults-webhook.js';
import { startPostgres, type TestPostgres } from './postgres.js';
import { type CliProcess, shelfsense } from './proc.js';
import { waitFor } from './wait.js';

export const SERIAL = 'SHELF-C';
export const REORDER_POINT = 4;
export const DEBOUNCE_MS = 1_000;
const PASSWORDS = { 'pi-1': 'agent-password-1', central: 'service-password-1', admin: 'admin-password-1' };
const WORKER_PASSWORD = 'worker-password-1';
const SECRET = 'cluster-webhook-secret-0123456789';

export interface LaneSpec {
  unitWeightG: number;
  items: number;
  capacity: number;
}

export interface ClusterChainOptions {
  name: string;
  seed: number;
  lanes: LaneSpec[];
  /** Scenario events, in device time. */
  events: Record<string, unknown>[];
  /** Workers started at once, w1…wN (more with startWorker). */
  workers: number;
  partitions?: number;
  leaseMs?: number;
  ackWaitMs?: number;
  batchSize?: number;
  /** Extra environment per worker id (e.g. SHELFSENSE_WORKER_FAULT). */
  workerEnv?: Record<string, NodeJS.ProcessEnv>;
}

export interface ClusterChain {
  readonly pg: TestPostgres;
  readonly nats: RoutedCluster;
  readonly sim: Simulator;
  readonly agent: Agent;
  /** A Postgres store of the test's own (pool of 2). */
  readonly store: PgStore;
  readonly hooks: FaultyWebhook;
  readonly workers: Map<string, CliProcess>;
  readonly configFile: string;
  /** A simulator action on the shelf (e.g. `{ action: 'remove', lane: 0, count: 5 }`). */
  control(action: Record<string, unknown>): Promise<void>;
  startWorker(id: string, env?: NodeJS.ProcessEnv): Promise<CliProcess>;
  /** SIGKILL (default) or SIGTERM, and forget it. */
  killWorker(id: string, signal?: NodeJS.Signals): Promise<void>;
  /** Lease owners per partition. */
  owners(): Promise<(string | null)[]>;
  /** The agent's newest accepted seq and what it still holds. */
  agentSeq(): { lastSeq: number; trimmedThrough: number; queued: number; dropped: number };
  /** Central's stored mark for the agent (0 before any commit). */
  mark(): Promise<number>;
  /**
   * Waits until every reading the agent has accepted so far is committed and trimmed; returns the
   * ms since `since`.
   */
  waitCaughtUp(since: number, timeoutMs?: number): Promise<number>;
  /** Waits until every webhook event in the outbox is delivered. */
  waitWebhooks(timeoutMs?: number): Promise<void>;
  /** Orders as (lane, quantity, units at the order) for comparing runs. */
  orders(): Promise<OrderSnapshot[]>;
  /** Scores everything from `fromSeq` against the ground truth, reports and returns the row. */
  score(
    name: string,
    fromSeq: number,
    recoveryMs: number | null,
    notes?: ClusterRow['notes'],
  ): Promise<ClusterRow>;
  /** Worker logs' tails, for a failing assertion. */
  diagnose(): Promise<string>;
  stop(): Promise<void>;
}

export async function startClusterChain(o: ClusterChainOptions): Promise<ClusterChain> {
  const partitions = o.partitions ?? 8;
  const cleanup: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
    cleanup.length = 0;
  };
  try {
    const pg = await startPostgres();
    cleanup.push(() => pg.close());
    const hooks = new FaultyWebhook();
    await hooks.start();
    cleanup.push(() => hooks.stop());
    const catalogue = {
      suppliers: [{ id: 'acme' }],
      skus: o.lanes.map((l, i) => ({ id: `sku-${i}`, unitWeightG: l.unitWeightG, supplier: 'acme' })),
      sites: [
        {
          id: 'store-1',
          shelves: [
            {
              id: 'shelf-1',
              serial: SERIAL,
              agent: 'pi-1',
              lanes: o.lanes.map((l, i) => ({
                id: `L${i}`,
                channels: [i],
                sku: `sku-${i}`,
                capacity: l.capacity,
              })),
            },
          ],
        },
      ],
    };
    const grants: Record<keyof typeof PASSWORDS, Grant> = {
      'pi-1': { role: 'agent', site: 'store-1', agent: 'pi-1' },
      central: { role: 'service' },
      admin: { role: 'admin' },
    };
    const map = new ShelfMap(parseWith(CentralConfig, catalogue, 'catalogue'));
    const users = Object.entries(grants).map(([name, grant]) => ({
      name,
      grant,
      passwordHash: bcrypt.hashSync(PASSWORDS[name as keyof typeof PASSWORDS], 4),
    }));
    const nats = await startRoutedCluster(3, {
      include: renderNatsAuth(users, map, [], {
        partitions,
        passwordHash: bcrypt.hashSync(WORKER_PASSWORD, 4),
      }),
      probe: { username: 'admin', password: PASSWORDS.admin },
    });
    cleanup.push(() => nats.close());
    const dir = nats.dir;
    writeFileSync(join(dir, 'worker.password'), `${WORKER_PASSWORD}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'central.password'), `${PASSWORDS.central}\n`, { mode: 0o600 });
    const configFile = join(dir, 'central.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        ...catalogue,
        dataDir: join(dir, 'central'),
        log: { level: 'warn' },
        timing: { offlineAfterMs: 600_000 },
        replenishment: {
          defaults: { reorderPoint: REORDER_POINT, debounceMs: DEBOUNCE_MS, hysteresis: 1 },
          tickMs: 500,
          webhooks: {
            suppliers: [{ supplier: 'acme', url: hooks.url, secret: SECRET }],
            retry: { baseMs: 200, maxMs: 1_000, maxAttempts: 200 },
            pollMs: 200,
          },
        },
        cluster: {
          postgres: { url: pg.url, schema: 'shelfsense', poolSize: 2 },
          nats: { servers: nats.nodes.map((n) => n.natsUrl), passwordFile: join(dir, 'worker.password') },
          mqtt: {
            urls: nats.nodes.map((n) => n.mqttUrl),
            username: 'central',
            passwordFile: join(dir, 'central.password'),
          },
          partitions,
          replicas: 3,
          leaseMs: o.leaseMs ?? 3_000,
          ackWaitMs: o.ackWaitMs ?? 3_000,
          batchSize: o.batchSize ?? 50,
        },
      }),
    );
    const workers = new Map<string, CliProcess>();
    cleanup.push(async () => {
      for (const w of workers.values()) await w.kill('SIGTERM', 10_000);
    });
    const startWorker = async (id: string, env?: NodeJS.ProcessEnv) => {
      const w = shelfsense(['cluster', 'worker', '--config', configFile, '--id', id], {
        env: { ...o.workerEnv?.[id], ...env },
      });
      workers.set(id, w);
      await w.waitForJson<{ ready: boolean }>((x) => x.ready === true, 30_000);
      return w;
    };
    for (let i = 1; i <= o.workers; i++) await startWorker(`w${i}`);
    const store = await PgStore.open({ url: pg.url, schema: 'shelfsense', poolSize: 2 });
    cleanup.push(() => store.close());
    const owners = async () => (await store.leases.owners()).map((x) => x.owner);
    // Every live worker holds partitions before the first reading.
    await waitFor(
      async () => {
        const now = await owners();
        return !now.includes(null) && new Set(now).size === Math.min(o.workers, partitions);
      },
      30_000,
      { what: 'the partitions shared among the workers' },
    );

    const sim = await startSimulator({
      seed: o.seed,
      transport: 'tcp',
      tcpPort: 0,
      scenario: { shelves: [{ serial: SERIAL, lanes: o.lanes }], events: o.events },
    });
    cleanup.push(() => sim.stop());
    const cfg = agentConfig(sim, nats.nodes[0]?.mqttUrl ?? '', {
      broker: {
        url: nats.nodes.map((n) => n.mqttUrl),
        username: 'pi-1',
        password: PASSWORDS['pi-1'],
        protocol: 4,
        reconnectMs: 100,
        keepaliveS: 2,
      },
      delivery: { trimOn: 'central', redeliverMs: 1_500 },
      shelves: [
        {
          serial: SERIAL,
          calibration: sim
            .truth(SERIAL, 0)
            .cells.map((c, channel) => ({ channel, offset: c.offset + c.trayG * c.scale, scale: c.scale })),
        },
      ],
    });
    const agent = new Agent(cfg, createLogger('silent'));
    await agent.start();
    cleanup.push(() => agent.stop());

    const agentSeq = () => {
      const s = agent.outboxStats;
      if (!s) throw new Error('agent not started');
      const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
      return { lastSeq: s.lastSeq, trimmedThrough: s.trimmedThrough, queued: s.queued, dropped };
    };
    const mark = async () => {
      const rows = await store.db.query<{ mark: number }>(
        "SELECT mark FROM agent_marks WHERE site = 'store-1' AND agent = 'pi-1'",
      );
      return rows[0]?.mark ?? 0;
    };
    const chain: ClusterChain = {
      pg,
      nats,
      sim,
      agent,
      store,
      hooks,
      workers,
      configFile,
      async control(action) {
        await simControl(sim, SERIAL, action);
      },
      startWorker,
      async killWorker(id, signal = 'SIGKILL') {
        await workers.get(id)?.kill(signal, 10_000);
        workers.delete(id);
      },
      owners,
      agentSeq,
      mark,
      async waitCaughtUp(since, timeoutMs = 60_000) {
        const target = agentSeq().lastSeq;
        await waitFor(
          async () => {
            const s = agentSeq();
            return s.trimmedThrough >= target && (await mark()) >= target;
          },
          timeoutMs,
          { intervalMs: 50, what: `every reading through ${target} committed and trimmed` },
        ).catch(async (err: Error) => {
          throw new Error(`${err.message}\n${await chain.diagnose()}`);
        });
        return Date.now() - since;
      },
      async waitWebhooks(timeoutMs = 30_000) {
        await waitFor(
          async () => {
            const rows = await store.db.query<{ n: number }>(
              "SELECT count(*)::int AS n FROM webhook_outbox WHERE state <> 'delivered'",
            );
            return rows[0]?.n === 0;
          },
          timeoutMs,
          { intervalMs: 100, what: 'every webhook event delivered' },
        );
      },
      async orders() {
        return (await readSnapshot(store)).orders;
      },
      async score(name, fromSeq, recoveryMs, notes) {
        // Scored through what the agent had accepted now, once all of it is committed: readings keep
        // coming, and those after are the next case's.
        const through = agentSeq().lastSeq;
        await chain.waitCaughtUp(Date.now());
        const seq = { ...agentSeq(), lastSeq: through };
        const needs = trueNeeds(sim, SERIAL, { reorderPoint: REORDER_POINT, debounceMs: () => DEBOUNCE_MS });
        const f = clusterFigures(await readSnapshot(store), hooks, needs, fromSeq, seq.lastSeq, seq.dropped);
        if (f.readingsLost > 0) {
          const have = new Set((await readSnapshot(store)).seqs);
          const missing = [];
          for (let q = fromSeq + 1; q <= seq.lastSeq; q++) if (!have.has(q)) missing.push(q);
          const gaps = await store.db.query('SELECT * FROM seq_gaps').catch((e: Error) => e.message);
          console.error(
            `lost ${JSON.stringify({ missing, gaps, mark: await mark() })}\n${await chain.diagnose()}`,
          );
        }
        const row: ClusterRow = {
          case: name,
          mode: MODE,
          workers: workers.size,
          ...f,
          recoveryMs,
          ...(notes ? { notes } : {}),
        };
        report(row as unknown as Parameters<typeof report>[0]);
        return row;
      },
      async diagnose() {
        const parts = [
          `agent ${JSON.stringify(agentSeq())}, mark ${await mark().catch((e: Error) => e.message)}`,
          `owners ${JSON.stringify(await owners().catch((e: Error) => e.message))}`,
        ];
        for (const [id, w] of workers) parts.push(`--- ${id} stderr (tail)\n${w.stderr().slice(-2_000)}`);
        return parts.join('\n');
      },
      stop,
    };
    return chain;
  } catch (err) {
    await stop();
    throw err;
  }
}
