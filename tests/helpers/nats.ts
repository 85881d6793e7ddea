/**
 * A real NATS cluster for tests: Debian's `nats-server`, N nodes on loopback with cluster routes
 * between them, JetStream (which its MQTT interface needs) and MQTT on a free port each. A node can
 * be killed with SIGKILL and started again on its ports and store. Each node may include a config
 * fragment (the users and permissions `shelfsense cluster nats-auth` writes).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { freePort } from './brokers.js';
import { waitFor } from './wait.js';

export const NATS_SERVER = ['/usr/bin/nats-server', '/usr/sbin/nats-server'].find((p) => existsSync(p));

export interface NatsNode {
  readonly name: string;
  readonly mqttUrl: string;
  /** Its NATS client listener (`nats://127.0.0.1:PORT`). */
  readonly natsUrl: string;
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

export interface NatsClusterOptions {
  /** A config fragment every node includes (written beside the node configs as `include.conf`). */
  include?: string;
  /** Credentials for the readiness probe's MQTT client, when the cluster refuses anonymous ones. */
  probe?: { username: string; password: string };
  /** Bound on the whole start, ms (default 60 s: a loaded 2-core machine needs well over 20). */
  readyTimeoutMs?: number;
}

/**
 * Starts `size` nodes and waits until they route to each other, agree on a JetStream meta leader
 * and each accepts an MQTT QoS 1 subscription (which creates the replicated MQTT streams).
 */
export async function startNatsCluster(size = 3, options: NatsClusterOptions = {}): Promise<NatsCluster> {
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
  if (options.include !== undefined)
    writeFileSync(join(dir, 'include.conf'), options.include, { mode: 0o600 });
  const nodes = ports.map((p, i) =>
    natsNode(dir, i, p, {
      routes: ports.filter((_, j) => j !== i).map((q) => `nats-route://127.0.0.1:${q.route}`),
      replicas: Math.min(size, 3),
      include: options.include !== undefined,
    }),
  );
  const cluster: NatsCluster = {
    nodes,
    dir,
    async close() {
      await Promise.all(nodes.map((n) => n.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await whenReady(nodes, size, options, cluster.close, (n) => logTail(join(dir, `${n.name}.log`)));
  return cluster;
}

/** The last lines of a node's log, for an error that says why the cluster did not come up. */
function logTail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Waits until a node routes to every other node and reports JetStream healthy. */
export async function clusterReady(node: NatsNode, size: number, timeoutMs = 60_000): Promise<void> {
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

interface Jsz {
  meta_cluster?: { leader?: string; cluster_size?: number };
}

/**
 * Waits until every node names the same JetStream meta leader, in a meta group of `size` peers:
 * before that, creating a replicated stream (what the first MQTT client does) fails or times out.
 */
export async function metaLeader(
  nodes: readonly NatsNode[],
  size: number,
  timeoutMs = 60_000,
): Promise<string> {
  return waitFor(
    async () => {
      const seen = await Promise.all(
        nodes.map(async (n) => ((await (await fetch(`${n.monitorUrl}/jsz`)).json()) as Jsz).meta_cluster),
      );
      const leader = seen[0]?.leader;
      const agreed = seen.every((m) => m?.leader === leader && (m?.cluster_size ?? 0) >= size);
      return leader && agreed ? leader : null;
    },
    timeoutMs,
    { what: 'one JetStream meta leader on every NATS node', intervalMs: 100 },
  );
}

/**
 * Waits until a node's MQTT interface takes a QoS 1 subscription. The first one creates the MQTT
 * streams: a client that gives up after a second would abort that again and again on a loaded
 * machine, so each try may take several seconds.
 */
export async function mqttReady(
  url: string,
  timeoutMs = 60_000,
  auth?: { username: string; password: string },
): Promise<void> {
  await waitFor(
    async () => {
      const c = await mqtt
        .connectAsync(url, {
          reconnectPeriod: 0,
          connectTimeout: 10_000,
          protocolVersion: 4,
          clientId: `ready-${randomBytes(6).toString('hex')}`,
          ...auth,
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

export interface NodePorts {
  client: number;
  route: number;
  mqtt: number;
  http: number;
}

/**
 * Node `i` of a cluster in `dir`: its config (routes as given, an `advertise` address when routes go
 * through proxies, the shared `include.conf` when there is one) and its process, not yet started.
 */
export function natsNode(
  dir: string,
  i: number,
  p: NodePorts,
  o: { routes: readonly string[]; replicas: number; include: boolean; advertise?: number },
): NatsNode {
  const name = `n${i + 1}`;
  const store = join(dir, name);
  mkdirSync(store, { recursive: true });
  const conf = join(dir, `${name}.conf`);
  const advertise = o.advertise !== undefined ? `, advertise: "127.0.0.1:${o.advertise}"` : '';
  writeFileSync(
    conf,
    [
      `server_name: ${name}`,
      `listen: 127.0.0.1:${p.client}`,
      `jetstream { store_dir: "${store}" }`,
      `cluster { name: shelfsense, listen: 127.0.0.1:${p.route}${advertise}, routes: [${o.routes.join(', ')}] }`,
      // Three replicas of the MQTT streams survive the loss of one node (two would not).
      `mqtt { listen: 127.0.0.1:${p.mqtt}, stream_replicas: ${o.replicas} }`,
      `http: 127.0.0.1:${p.http}`,
      ...(o.include ? ['include "include.conf"'] : []),
      '',
    ].join('\n'),
  );
  let child: ChildProcess | null = null;
  return {
    name,
    mqttUrl: `mqtt://127.0.0.1:${p.mqtt}`,
    natsUrl: `nats://127.0.0.1:${p.client}`,
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
      child = spawn(NATS_SERVER as string, ['-c', conf, '-l', join(dir, `${name}.log`)], {
        stdio: 'ignore',
      });
    },
  };
}

/**
 * Starts the nodes and waits, within the options' bound, until they route to each other, follow
 * one JetStream meta leader and each takes an MQTT QoS 1 subscription. On failure: closes the
 * cluster and throws with each node's log tail.
 */
export async function whenReady(
  nodes: readonly NatsNode[],
  size: number,
  options: { probe?: { username: string; password: string }; readyTimeoutMs?: number },
  close: () => Promise<void>,
  log: (n: NatsNode) => string,
): Promise<void> {
  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  const left = () => Math.max(1_000, deadline - Date.now());
  try {
    await Promise.all(nodes.map((n) => n.start()));
    // The first MQTT client creates the MQTT streams with as many replicas as there are JetStream
    // peers then: wait until every route is up and all nodes follow one meta leader first.
    for (const n of nodes) await clusterReady(n, size, left());
    await metaLeader(nodes, size, left());
    for (const n of nodes) await mqttReady(n.mqttUrl, left(), options.probe);
  } catch (err) {
    const logs = nodes.map((n) => `--- ${n.name}.log (tail)\n${log(n)}`).join('\n');
    await close();
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
}
