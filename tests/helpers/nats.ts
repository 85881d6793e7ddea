/**
 * A real NATS cluster for tests: Debian's `nats-server`, N nodes on loopback with cluster routes
 * between them, JetStream (which its MQTT interface needs) and MQTT on a free port each. A node can
 * be killed with SIGKILL and started again on its ports and store.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from './brokers.js';
import { waitFor } from './wait.js';

export const NATS_SERVER = ['/usr/bin/nats-server', '/usr/sbin/nats-server'].find((p) => existsSync(p));

export interface NatsNode {
  readonly name: string;
  readonly mqttUrl: string;
  /** Its monitoring endpoint (`/healthz`, `/routez`, `/jsz`). */
  readonly monitorUrl: string;
  readonly running: boolean;
  /** SIGKILL: no goodbye to its peers or clients. */
  kill(): Promise<void>;
  start(): Promise<void>;
}

export interface NatsCluster {
  readonly nodes: readonly NatsNode[];
  /** Where the configs, stores and logs (`n1.log` …) are. */
  readonly dir: string;
  close(): Promise<void>;
}

/** Starts `size` nodes and waits until each accepts an MQTT subscription (JetStream is up). */
export async function startNatsCluster(size = 3): Promise<NatsCluster> {
  if (!NATS_SERVER)
    throw new Error('nats-server is not installed (npm test installs it: apt-get install nats-server)');
  const dir = mkdtempSync(join(tmpdir(), 'nats-'));
  const ports = await Promise.all(
    Array.from({ length: size }, async () => ({
      client: await freePort(),
      route: await freePort(),
      mqtt: await freePort(),
      http: await freePort(),
    })),
  );
  const nodes = ports.map((p, i) => {
    const name = `n${i + 1}`;
    const store = join(dir, name);
    mkdirSync(store, { recursive: true });
    const routes = ports.filter((_, j) => j !== i).map((q) => `nats-route://127.0.0.1:${q.route}`);
    const conf = join(dir, `${name}.conf`);
    writeFileSync(
      conf,
      [
        `server_name: ${name}`,
        `listen: 127.0.0.1:${p.client}`,
        `jetstream { store_dir: "${store}" }`,
        `cluster { name: shelfsense, listen: 127.0.0.1:${p.route}, routes: [${routes.join(', ')}] }`,
        // Three replicas of the MQTT streams survive the loss of one node (two would not).
        `mqtt { listen: 127.0.0.1:${p.mqtt}, stream_replicas: ${Math.min(size, 3)} }`,
        `http: 127.0.0.1:${p.http}`,
        '',
      ].join('\n'),
    );
    let child: ChildProcess | null = null;
    const node: NatsNode = {
      name,
      mqttUrl: `mqtt://127.0.0.1:${p.mqtt}`,
      monitorUrl: `http://127.0.0.1:${p.http}`,
      get running() {
        return child !== null && child.exitCode === null && child.signalCode === null;
      },
      async kill() {
        const c = child;
        if (!c || c.exitCode !== null || c.signalCode !== null) return;
        const gone = new Promise<void>((r) => c.once('exit', () => r()));
        c.kill('SIGKILL');
        await gone;
      },
      async start() {
        // Its log goes to a file beside its config, for a failing test to read.
        const c = spawn(NATS_SERVER as string, ['-c', conf, '-l', join(dir, `${name}.log`)], {
          stdio: 'ignore',
        });
        child = c;
      },
    };
    return node;
  });
  const cluster: NatsCluster = {
    nodes,
    dir,
    async close() {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await Promise.all(nodes.map((n) => n.start()));
    // The first MQTT client creates the MQTT streams with as many replicas as there are nodes in
    // the cluster then: wait until every route is up and JetStream is healthy everywhere first.
    for (const n of nodes) await clusterReady(n, size);
    for (const n of nodes) await mqttReady(n.mqttUrl);
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}

/** Waits until a node routes to every other node and reports JetStream healthy. */
export async function clusterReady(node: NatsNode, size: number, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      const routes = (await (await fetch(`${node.monitorUrl}/routez`)).json()) as { num_routes: number };
      if (routes.num_routes < size - 1) return false;
      return (await fetch(`${node.monitorUrl}/healthz`)).ok;
    },
    timeoutMs,
    { what: `NATS node ${node.name} routed and healthy`, intervalMs: 100 },
  );
}

/** Waits until a node's MQTT interface takes a QoS 1 subscription: JetStream has a leader. */
export async function mqttReady(url: string, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      const c = await mqtt
        .connectAsync(url, {
          reconnectPeriod: 0,
          connectTimeout: 1_000,
          clientId: `ready-${randomBytes(6).toString('hex')}`,
        })
        .catch(() => null);
      if (!c) return false;
      try {
        await c.subscribeAsync('probe/ready', { qos: 1 });
        return true;
      } catch {
        return false;
      } finally {
        await c.endAsync(true).catch(() => undefined);
      }
    },
    timeoutMs,
    { what: `NATS MQTT at ${url}`, intervalMs: 250 },
  );
}
