/**
 * The cluster deployment end to end, on real engines: a 3-node NATS cluster with the accounts and
 * permissions `shelfsense cluster nats-auth --partitions` writes, Postgres, two `shelfsense cluster
 * worker` processes, a seeded simulated shelf read by a real agent that knows every NATS node, and
 * a supplier's webhook endpoint. The agent publishes as it does to one central; the readings reach
 * the workers partitioned by lane through JetStream; every reading is committed once, the stored
 * mark comes back so the agent trims its outbox, and each need opens one order, sent once. Then a
 * worker is killed with SIGKILL mid-run: the other takes its partitions over and nothing is lost
 * or doubled.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, createLogger } from '@shelfsense/agent';
import { renderNatsAuth } from '@shelfsense/central/cluster';
import { PgStore } from '@shelfsense/central/pg';
import { type Simulator, startSimulator } from '@shelfsense/firmware-sim';
import { CentralConfig, type Grant, parseWith, ShelfMap } from '@shelfsense/protocol';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfig } from '../helpers/agent.js';
import { WebhookReceiver } from '../helpers/central.js';
import { type NatsCluster, startNatsCluster } from '../helpers/nats.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { type CliProcess, shelfsense } from '../helpers/proc.js';
import { waitFor } from '../helpers/wait.js';

const SERIAL = 'SHELF-W';
const PARTITIONS = 8;
const REORDER_POINT = 4;
const PASSWORDS = { 'pi-1': 'agent-password-1', central: 'service-password-1', admin: 'admin-password-1' };
const WORKER_PASSWORD = 'worker-password-1';
const LANES = [
  { unitWeightG: 200, items: 7, capacity: 20 },
  { unitWeightG: 90, items: 6, capacity: 20 },
  { unitWeightG: 150, items: 8, capacity: 20 },
  // Far above its reorder point all along: its picks keep readings coming after the others empty.
  { unitWeightG: 120, items: 100, capacity: 100 },
];
const LOW = ['L0', 'L1', 'L2'];

describe('[cluster] ingest and rules as workers on JetStream, the store in Postgres', () => {
  let pg: TestPostgres;
  let cluster: NatsCluster;
  let sim: Simulator;
  let agent: Agent;
  let store: PgStore;
  let hooks: WebhookReceiver;
  let dir: string;
  let configFile: string;
  const workers = new Map<string, CliProcess>();

  const startWorker = async (id: string) => {
    const w = shelfsense(['cluster', 'worker', '--config', configFile, '--id', id]);
    workers.set(id, w);
    await w.waitForJson<{ ready: boolean }>((x) => x.ready === true, 30_000);
    return w;
  };
  const owners = async () => (await store.leases.owners()).map((o) => o.owner);

  beforeAll(async () => {
    pg = await startPostgres();
    hooks = new WebhookReceiver();
    const hookUrl = await hooks.start();
    const catalogue = {
      suppliers: [{ id: 'acme' }],
      skus: LANES.map((l, i) => ({ id: `sku-${i}`, unitWeightG: l.unitWeightG, supplier: 'acme' })),
      sites: [
        {
          id: 'store-1',
          shelves: [
            {
              id: 'shelf-1',
              serial: SERIAL,
              agent: 'pi-1',
              lanes: LANES.map((l, i) => ({
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
    cluster = await startNatsCluster(3, {
      include: renderNatsAuth(users, map, [], {
        partitions: PARTITIONS,
        passwordHash: bcrypt.hashSync(WORKER_PASSWORD, 4),
      }),
      probe: { username: 'admin', password: PASSWORDS.admin },
    });
    dir = cluster.dir;
    writeFileSync(join(dir, 'worker.password'), `${WORKER_PASSWORD}\n`, { mode: 0o600 });
    writeFileSync(join(dir, 'central.password'), `${PASSWORDS.central}\n`, { mode: 0o600 });
    configFile = join(dir, 'central.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        ...catalogue,
        dataDir: join(dir, 'central'),
        log: { level: 'warn' },
        timing: { offlineAfterMs: 600_000 },
        replenishment: {
          defaults: { reorderPoint: REORDER_POINT, debounceMs: 1_000, hysteresis: 1 },
          tickMs: 500,
          webhooks: {
            suppliers: [{ supplier: 'acme', url: hookUrl, secret: 'cluster-webhook-secret-0123456789' }],
            retry: { baseMs: 200, maxMs: 1_000, maxAttempts: 50 },
            pollMs: 200,
          },
        },
        cluster: {
          postgres: { url: pg.url, schema: 'shelfsense' },
          nats: { servers: cluster.nodes.map((n) => n.natsUrl), passwordFile: join(dir, 'worker.password') },
          mqtt: {
            urls: cluster.nodes.map((n) => n.mqttUrl),
            username: 'central',
            passwordFile: join(dir, 'central.password'),
          },
          partitions: PARTITIONS,
          replicas: 3,
          leaseMs: 3_000,
          ackWaitMs: 3_000,
          batchSize: 50,
        },
      }),
    );
    await startWorker('w1');
    await startWorker('w2');
    store = await PgStore.open({ url: pg.url, schema: 'shelfsense', poolSize: 2 });
    // Both workers hold partitions before the first reading.
    await waitFor(
      async () => new Set(await owners()).size === 2 && !(await owners()).includes(null),
      20_000,
      {
        what: 'the partitions shared between both workers',
      },
    );

    sim = await startSimulator({
      seed: 23,
      transport: 'tcp',
      tcpPort: 0,
      control: false,
      scenario: {
        shelves: [{ serial: SERIAL, lanes: LANES }],
        // Steady picking, slow enough for each level to settle: L0–L2 cross their reorder point
        // once (nothing restocks them), L3 never does.
        events: [{ at: '1s', every: '600ms', action: 'remove', lane: 'any', count: 1 }],
      },
    });
    const cfg = agentConfig(sim, cluster.nodes[0]!.mqttUrl, {
      broker: {
        url: cluster.nodes.map((n) => n.mqttUrl),
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
    agent = new Agent(cfg, createLogger('silent'));
    await agent.start();
  }, 180_000);

  afterAll(async () => {
    await agent?.stop();
    await sim?.stop();
    for (const w of workers.values()) await w.kill('SIGTERM', 10_000);
    await store?.close();
    await hooks?.stop();
    await cluster?.close();
    await pg?.close();
  });

  /** Every seq up to the agent's newest is committed, once, and the agent has trimmed them. */
  const allCommitted = async () => {
    const out = await waitFor(
      async () => {
        const s = agent.describe().outbox;
        const mark = (await store.readings.marks()).find((m) => m.agent === 'pi-1')?.mark ?? 0;
        return s && s.lastSeq > 0 && mark === s.lastSeq && s.queued === 0 ? mark : null;
      },
      30_000,
      { what: 'every reading committed and trimmed' },
    );
    expect(await store.readings.gaps('store-1', 'pi-1')).toEqual([]);
    return out;
  };

  it('commits every reading once, returns the mark, and opens one order per need', async () => {
    await waitFor(async () => ((await store.readings.marks())[0]?.mark ?? 0) >= 20, 40_000, {
      what: 'readings committed through the workers',
    });
    const orders = await waitFor(
      async () => {
        const list = await store.orders.list({});
        return list.length >= LOW.length ? list : null;
      },
      60_000,
      { what: 'one order per low lane' },
    );
    await allCommitted();
    expect(orders.map((o) => o.lane).sort()).toEqual(LOW);
    expect(new Set(orders.map((o) => o.lane)).size).toBe(orders.length);
    // Sent once each, under its idempotency key.
    await waitFor(() => hooks.received.length >= orders.length, 20_000, { what: 'the webhooks' });
    const keys = hooks.received.map((h) => h.headers['idempotency-key'] ?? h.json['eventId']);
    expect(new Set(keys).size).toBe(keys.length);
  }, 120_000);

  it('[fault] a worker killed with SIGKILL: its partitions move, nothing lost or doubled', async () => {
    const w1 = workers.get('w1') as CliProcess;
    const before = (await store.readings.marks())[0]?.mark ?? 0;
    await w1.kill('SIGKILL');
    workers.delete('w1');
    // w2 takes every partition once w1's leases run out.
    await waitFor(async () => (await owners()).every((o) => o === 'w2'), 30_000, {
      what: 'w2 holding every partition',
    });
    await waitFor(async () => ((await store.readings.marks())[0]?.mark ?? 0) >= before + 12, 40_000, {
      what: 'readings committed after the kill',
    }).catch(async (e: Error) => {
      const seqs = await store.db.query<{ seq: number }>('SELECT seq FROM readings ORDER BY seq');
      const have = new Set(seqs.map((r) => r.seq));
      const max = Math.max(...have);
      const missing = [];
      for (let i = 1; i <= max; i++) if (!have.has(i)) missing.push(i);
      throw new Error(
        `${e.message}; ${JSON.stringify({ marks: await store.readings.marks(), max, missing: missing.slice(0, 20), outbox: agent.describe().outbox, owners: await store.leases.owners() })} w2: ${workers.get('w2')?.stderr().slice(-3_000)}`,
      );
    });
    const mark = await allCommitted();
    expect(mark).toBeGreaterThan(before);
    // Still one order per lane: no need was ordered twice across the handover.
    const orders = await store.orders.list({});
    expect(new Set(orders.map((o) => o.lane)).size).toBe(orders.length);
  }, 120_000);
});
